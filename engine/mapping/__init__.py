"""Kalshi market -> Odds API event/outcome mapping. A wrong match is the costliest bug: ambiguity maps nothing."""
