"""Edge detection: pure functions from market data, mapping, profile, bankroll and ``now`` to signals."""
