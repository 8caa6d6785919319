"""Numba kernels for fastaug (shipped as ``fastaug.kernels``).

Pure ``@jit`` loops only: no I/O, no argument checks, no strings. Arguments arrive validated
and laid out by :mod:`fastaug`; see each module's docstring for the array contracts.
"""
