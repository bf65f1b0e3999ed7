"""Kalshi Trade API v2 adapter: request signing, rate limiting, REST and WebSocket clients, local books."""
