"""The Odds API v4 adapter: client, quota budget and response cache."""
