"""The numba-cuda compile target of the kernels (imported only by ``fastaug.backends.cuda``).

The scalar arithmetic (boundary folding, footprints, spline weights, the prefilter's
recursions, SciPy's stores) is the CPU kernels' own functions, compiled here as device
functions; this package adds only what a GPU does differently: one thread per output value
or per filtered line, and the CUDA spelling of :mod:`fastaug.kernels._math`'s primitives
(:mod:`.primitives`).
"""
