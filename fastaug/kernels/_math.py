"""Scalar primitives that each compile target spells its own way.

The kernels' scalar arithmetic (boundary folding, footprints, spline weights) is written
once, as plain functions; a second compile target (the numba-cuda backend) compiles the
same functions. The few primitives the targets provide differently are named here, with
the CPU's implementation registered through ``numba.extending.overload``; another target
registers its own for the same name (``target="cuda"``: libdevice), and nothing else in the
arithmetic changes.
"""

import numpy as np
from numba.extending import overload


def floor(x):
    """C's ``floor`` of a double, as a double: ``math.floor`` returns an int, which
    overflows beyond 2**63 (a coordinate of -1e20 got weights of 9e19); NumPy's scalar
    ``floor`` ufunc is what the CPU target compiles it to, and the CUDA target lacks it."""
    return np.floor(x)


@overload(floor, target="cpu", inline="always")
def _floor_cpu(x):
    return lambda x: np.floor(x)


def mul(a, b):
    """``a * b`` rounded on its own: a product that feeds an addition is written ``mul(a, b)``
    so that no target fuses the two into one FMA (a different double than SciPy's). The CPU
    target never contracts without fast-math (``_jit``); NVVM does by default, so the CUDA
    target spells this with libdevice's ``dmul_rn``."""
    return a * b


@overload(mul, target="cpu", inline="always")
def _mul_cpu(a, b):
    return lambda a, b: a * b
