"""Pricing math: odds conversion, vig removal, Kalshi fees and Kelly sizing. Pure functions only."""
