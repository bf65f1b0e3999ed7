"""Live-state cache: the latest books, quotes and engine status in Redis."""
