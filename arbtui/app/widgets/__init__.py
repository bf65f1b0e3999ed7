"""One module per pane; each renders its part of a ``DashboardSnapshot`` and nothing else."""
