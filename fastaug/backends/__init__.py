"""Executors of resampling plans: ``cpu`` (Numba kernels on fastaug's threads)."""
