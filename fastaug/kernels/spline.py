"""B-spline arithmetic: the prefilter's poles and the interpolation weights (orders 0-5).

Mirrors SciPy's ``src/ni_splines.c`` (``get_filter_poles``,
``get_spline_interpolation_weights``) operation for operation; the recursions that use the
poles are in :mod:`fastaug.kernels.prefilter`.
"""

import numpy as np

from ._jit import jit
from ._math import floor, mul


@jit
def spline_poles(order):
    """Filter poles of the B-spline of ``order`` (2-5), as in ``get_filter_poles``."""
    poles = np.zeros(order // 2)
    if order == 2:
        poles[0] = -0.171572875253809902396622551580603843
    elif order == 3:
        poles[0] = -0.267949192431122706472553658494127633
    elif order == 4:
        poles[0] = -0.361341225900220177092212841325675255
        poles[1] = -0.013725429297339121360331226939128204
    elif order == 5:
        poles[0] = -0.430575347099973791851434783493520110
        poles[1] = -0.043096288203264653822712376822550182
    return poles


@jit(per_pixel=True)
def spline_weights(x, order):
    """The ``order + 1`` interpolation weights for coordinate ``x``, as a 6-tuple with zeros
    past ``order`` (SciPy's ``get_spline_interpolation_weights``).

    Scalars in and out: an array argument of an inlined per-pixel helper costs two atomic
    reference-count updates per call (measured: the per-sample path ran 5x slower).
    """
    # A double floor, as C's (see _math.floor). A product that feeds a sum is mul(): one
    # rounding each, as in SciPy's C, on every target (see _math.mul).
    if order & 1:
        x -= floor(x)
    else:
        x -= floor(x + 0.5)
    y = x
    z = 1.0 - x
    w0 = w1 = w2 = w3 = w4 = 0.0
    if order == 1:
        w0 = 1.0 - x
    elif order == 2:
        w1 = 0.75 - mul(x, x)
        y = 0.5 - x
        w0 = 0.5 * y * y
    elif order == 3:
        w1 = (mul(y * y * (y - 2.0), 3.0) + 4.0) / 6.0
        w2 = (mul(z * z * (z - 2.0), 3.0) + 4.0) / 6.0
        w0 = z * z * z / 6.0
    elif order == 4:
        t = x * x
        w2 = mul(t, mul(t, 0.25) - 0.625) + 115.0 / 192.0
        y = 1.0 + x
        w1 = mul(y, mul(y, y * (5.0 - y) / 6.0 - 1.25) + 5.0 / 24.0) + 55.0 / 96.0
        w3 = mul(z, mul(z, z * (5.0 - z) / 6.0 - 1.25) + 5.0 / 24.0) + 55.0 / 96.0
        y = 0.5 - x
        t = y * y
        w0 = t * t / 24.0
    elif order == 5:
        t = y * y
        w2 = mul(t, mul(t, 0.25 - y / 12.0) - 0.5) + 0.55
        t = z * z
        w3 = mul(t, mul(t, 0.25 - z / 12.0) - 0.5) + 0.55
        y += 1.0
        w1 = mul(y, mul(y, mul(y, mul(y, y / 24.0 - 0.375) + 1.25) - 1.75) + 0.625) + 0.425
        z += 1.0
        w4 = mul(z, mul(z, mul(z, mul(z, z / 24.0 - 0.375) + 1.25) - 1.75) + 0.625) + 0.425
        y = 1.0 - x
        t = y * y
        w0 = y * t * t / 120.0
    # The weights sum to one: SciPy derives the last by subtraction (in index order), so
    # must we; the terms past ``order`` are not part of it.
    last = 1.0
    if order > 0:
        last -= w0
    if order > 1:
        last -= w1
    if order > 2:
        last -= w2
    if order > 3:
        last -= w3
    if order > 4:
        last -= w4
    if order == 0:
        return last, 0.0, 0.0, 0.0, 0.0, 0.0
    if order == 1:
        return w0, last, 0.0, 0.0, 0.0, 0.0
    if order == 2:
        return w0, w1, last, 0.0, 0.0, 0.0
    if order == 3:
        return w0, w1, w2, last, 0.0, 0.0
    if order == 4:
        return w0, w1, w2, w3, last, 0.0
    return w0, w1, w2, w3, w4, last


#: :func:`spline_weights` as an ordinary call, for code that runs it with a runtime order:
#: each inlined copy of its six orders costs compile time, a call a few ns per pixel.
spline_weights_called = jit(spline_weights.py_func)
