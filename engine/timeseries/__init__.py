"""Time series of books, quotes, fair values, signals and fills: QuestDB in production, local history otherwise."""
