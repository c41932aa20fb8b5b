"""Benchmarks over the shared eval data: run each from the repository root as ``python -m benchmarks.<name>``."""
