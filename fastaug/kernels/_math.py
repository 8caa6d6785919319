"""Scalar primitives that each compile target spells its own way.

The kernels' scalar arithmetic (boundary folding, footprints, spline weights, the
prefilter's recursions) is written once, as plain functions that call these primitives by
name. The CPU target compiles them as they are here; the CUDA target
(:func:`fastaug.kernels.cuda.device_function`) compiles the same functions with these
names bound to its own spelling (``kernels.cuda.primitives``: libdevice), and nothing else
in the arithmetic changes.
"""

import numpy as np

from ._jit import jit


@jit(per_pixel=True)
def floor(x):
    """C's ``floor`` of a double, as a double: ``math.floor`` returns an int, which
    overflows beyond 2**63 (a coordinate of -1e20 got weights of 9e19)."""
    return np.floor(x)


@jit(per_pixel=True)
def mul(a, b):
    """``a * b`` rounded on its own: a product that feeds an addition is written ``mul(a, b)``
    so that no target fuses the two into one FMA (a different double than SciPy's). The CPU
    target never contracts without fast-math (``_jit``); NVVM does by default, so the CUDA
    target spells this with libdevice's ``dmul_rn``."""
    return a * b
