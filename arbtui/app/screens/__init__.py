"""Modal screens: confirmation, help, a signal's details, the filter."""
