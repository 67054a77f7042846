"""Benchmarks of Sharehub (not installed with the package; run from the repository root)."""
