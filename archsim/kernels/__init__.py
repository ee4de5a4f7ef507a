"""Numba kernels: the only place numba is imported. Every kernel is `cache=True`, compiled on first call, and has a plain-Python twin in tests."""
