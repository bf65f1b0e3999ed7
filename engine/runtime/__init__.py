"""The running engine: the pipeline, its health and snapshots, and control from another shell."""
