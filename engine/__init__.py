"""arbtui's engine: everything that prices, decides and trades, importable without a screen."""
