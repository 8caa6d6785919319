"""The numba-cuda compile target of the kernels (imported only by ``fastaug.backends.cuda``).

The scalar arithmetic (boundary folding, footprints, spline weights, the prefilter's
recursions, SciPy's stores) is the CPU kernels' own functions, compiled here as device
functions; this package adds only what a GPU does differently: one thread per output value
or per filtered line, and the CUDA spelling of :mod:`fastaug.kernels._math`'s primitives
(:mod:`.primitives`).
"""

import types

import numpy as np
from numba import cuda
from numba.core.registry import CPUDispatcher

from .. import _math
from . import primitives

#: The CPU kernels' functions already compiled for CUDA, by CPU dispatcher.
_DEVICE_FUNCTIONS = {}


def device_function(cpu_function):
    """A CPU kernel function (``kernels._jit.jit``) as a CUDA device function, compiled from
    the same Python source with ``kernels._math``'s primitives bound to CUDA's spelling
    (:mod:`.primitives`) and every kernel function it calls made a device function the same
    way. Not the CPU dispatcher itself: Numba keeps the IR it inlined for the CPU, with the
    CPU's primitives in it, and a CPU function called from a CUDA kernel would compile its
    products as plain ones, which NVVM fuses."""
    if cpu_function in _DEVICE_FUNCTIONS:
        return _DEVICE_FUNCTIONS[cpu_function]
    source = cpu_function.py_func
    names = dict(source.__globals__)
    for name in source.__code__.co_names:
        value = names.get(name)
        if value is _math.mul:
            names[name] = primitives.mul
        elif value is _math.floor:
            names[name] = primitives.floor
        elif isinstance(value, CPUDispatcher) and value.__module__.startswith(_KERNELS):
            names[name] = device_function(value)
    rebound = types.FunctionType(
        source.__code__, names, source.__name__, source.__defaults__, source.__closure__
    )
    rebound.__module__ = source.__module__
    if primitives.SIMULATED:
        rebound = _wrapping(rebound)
    _DEVICE_FUNCTIONS[cpu_function] = cuda.jit(device=True)(rebound)
    return _DEVICE_FUNCTIONS[cpu_function]


def _wrapping(function):
    """Under the simulator, ``function`` runs as Python on NumPy scalars: let its uint64
    arithmetic wrap silently, as compiled code does (the random streams rely on it)."""

    def simulated(*args):
        with np.errstate(over="ignore"):
            return function(*args)

    return simulated


_KERNELS = __name__.rsplit(".", 1)[0]
