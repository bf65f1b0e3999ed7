"""Market data models parsed from the real Kalshi (2026) and Odds API payloads."""
