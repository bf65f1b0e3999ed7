"""Benchmarks, one module per area; no production package imports this one."""
