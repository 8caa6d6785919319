"""B-spline interpolation weights and the recursive prefilter (orders 2-5).

Mirrors SciPy's ``src/ni_splines.c`` operation for operation (same poles, gain, boundary
initialisations and recursion order), so coefficients agree to the bit. The one deliberate
difference is the *correct* causal reflect initialisation of SciPy >= 1.18 (1.17 read a
partially updated ``c[0]``; the two agree for lines of 21 samples or more).

Coefficient buffers are *tiles*: shape ``(rows * cols, T)`` float64, C-contiguous, where row
``y * cols + x`` holds pixel (y, x) of T images side by side. Every recursion step then runs
over T contiguous values, which the compiler vectorises; each image sees exactly the scalar
operations SciPy performs.
"""
import math

import numpy as np

from ._jit import jit

# Boundary initialisation families of the prefilter.
INIT_MIRROR = 0
INIT_WRAP = 1
INIT_REFLECT = 2


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


@jit(inline=True)
def spline_weights(x, order, weights):
    """Write the ``order + 1`` interpolation weights for coordinate ``x`` into ``weights``."""
    if order & 1:
        x -= math.floor(x)
    else:
        x -= math.floor(x + 0.5)
    y = x
    z = 1.0 - x
    if order == 1:
        weights[0] = 1.0 - x
    elif order == 2:
        weights[1] = 0.75 - x * x
        y = 0.5 - x
        weights[0] = 0.5 * y * y
    elif order == 3:
        weights[1] = (y * y * (y - 2.0) * 3.0 + 4.0) / 6.0
        weights[2] = (z * z * (z - 2.0) * 3.0 + 4.0) / 6.0
        weights[0] = z * z * z / 6.0
    elif order == 4:
        t = x * x
        weights[2] = t * (t * 0.25 - 0.625) + 115.0 / 192.0
        y = 1.0 + x
        weights[1] = y * (y * (y * (5.0 - y) / 6.0 - 1.25) + 5.0 / 24.0) + 55.0 / 96.0
        weights[3] = z * (z * (z * (5.0 - z) / 6.0 - 1.25) + 5.0 / 24.0) + 55.0 / 96.0
        y = 0.5 - x
        t = y * y
        weights[0] = t * t / 24.0
    elif order == 5:
        t = y * y
        weights[2] = t * (t * (0.25 - y / 12.0) - 0.5) + 0.55
        t = z * z
        weights[3] = t * (t * (0.25 - z / 12.0) - 0.5) + 0.55
        y += 1.0
        weights[1] = y * (y * (y * (y * (y / 24.0 - 0.375) + 1.25) - 1.75) + 0.625) + 0.425
        z += 1.0
        weights[4] = z * (z * (z * (z * (z / 24.0 - 0.375) + 1.25) - 1.75) + 0.625) + 0.425
        y = 1.0 - x
        t = y * y
        weights[0] = y * t * t / 120.0
    # The weights sum to one: SciPy derives the last by subtraction, so must we.
    last = 1.0
    for i in range(order):
        last -= weights[i]
    weights[order] = last


@jit
def _causal_init(c, first, step, n, z, init, lanes, save):
    """Initialise c[first] for the causal pass on the line c[first + k*step], k < n."""
    last = first + (n - 1) * step
    if init == INIT_MIRROR:
        z_n_1 = math.pow(z, float(n - 1))  # a float exponent: C pow, not LLVM powi
        for b in range(lanes):
            c[first, b] = c[first, b] + z_n_1 * c[last, b]
        z_i = z
        for i in range(1, n - 1):
            a = first + i * step
            m = first + (n - 1 - i) * step
            for b in range(lanes):
                c[first, b] += z_i * (c[a, b] + z_n_1 * c[m, b])
            z_i *= z
        for b in range(lanes):
            c[first, b] /= 1 - z_n_1 * z_n_1
    elif init == INIT_WRAP:
        z_i = z
        for i in range(1, n):
            m = first + (n - i) * step
            for b in range(lanes):
                c[first, b] += z_i * c[m, b]
            z_i *= z
        for b in range(lanes):
            c[first, b] /= 1 - z_i
    else:  # INIT_REFLECT, SciPy >= 1.18 (no aliasing of c[0])
        z_n = math.pow(z, float(n))  # a float exponent: C pow, not LLVM powi
        for b in range(lanes):
            save[b] = c[first, b]
            c[first, b] = c[first, b] + z_n * c[last, b]
        z_i = z
        for i in range(1, n):
            a = first + i * step
            m = first + (n - 1 - i) * step
            if i == n - 1:
                for b in range(lanes):
                    c[first, b] += z_i * (c[a, b] + z_n * save[b])
            else:
                for b in range(lanes):
                    c[first, b] += z_i * (c[a, b] + z_n * c[m, b])
            z_i *= z
        scale = z / (1 - z_n * z_n)
        for b in range(lanes):
            c[first, b] *= scale
            c[first, b] += save[b]


@jit
def _anticausal_init(c, first, step, n, z, init, lanes):
    """Initialise c[last] for the anticausal pass."""
    last = first + (n - 1) * step
    if init == INIT_MIRROR:
        prev = last - step
        for b in range(lanes):
            c[last, b] = (z * c[prev, b] + c[last, b]) * z / (z * z - 1)
    elif init == INIT_WRAP:
        z_i = z
        for i in range(n - 1):
            a = first + i * step
            for b in range(lanes):
                c[last, b] += z_i * c[a, b]
            z_i *= z
        scale = z / (z_i - 1)
        for b in range(lanes):
            c[last, b] *= scale
    else:
        scale = z / (z - 1)
        for b in range(lanes):
            c[last, b] *= scale


@jit
def _filter_line(c, first, step, n, poles, gain, init, lanes, save):
    """Filter one line (``n`` rows spaced ``step`` apart, from ``first``) of a tile in place."""
    for k in range(n):
        r = first + k * step
        for b in range(lanes):
            c[r, b] *= gain
    for z in poles:
        _causal_init(c, first, step, n, z, init, lanes, save)
        for k in range(1, n):
            r = first + k * step
            p = r - step
            for b in range(lanes):
                c[r, b] += z * c[p, b]
        _anticausal_init(c, first, step, n, z, init, lanes)
        for k in range(n - 2, -1, -1):
            r = first + k * step
            q = r + step
            for b in range(lanes):
                c[r, b] = z * (c[q, b] - c[r, b])


@jit
def _gain(poles):
    gain = 1.0
    for z in poles:
        gain *= (1.0 - z) * (1.0 - 1.0 / z)
    return gain


@jit
def spline_prefilter_columns(c, rows, cols, x_lo, x_hi, order, init):
    """Prefilter along axis 0 (down each column ``x_lo <= x < x_hi``) of a tile, in place.

    ``c``: float64 ``(rows * cols [+ extra], T)``. Columns of length 1 are left unchanged,
    as in ``NI_SplineFilter1D``.
    """
    if rows <= 1:
        return
    poles = spline_poles(order)
    gain = _gain(poles)
    save = np.empty(c.shape[1])
    for x in range(x_lo, x_hi):
        _filter_line(c, x, cols, rows, poles, gain, init, c.shape[1], save)


@jit
def spline_prefilter_rows(c, rows, cols, row_needed, order, init):
    """Prefilter along axis 1 (each row ``y`` with ``row_needed[y]``) of a tile, in place.

    Run after :func:`spline_prefilter_columns`: SciPy filters axis 0, then axis 1. Rows that
    nothing samples may be skipped: lines are filtered independently.
    """
    if cols <= 1:
        return
    poles = spline_poles(order)
    gain = _gain(poles)
    save = np.empty(c.shape[1])
    for y in range(rows):
        if row_needed[y]:
            _filter_line(c, y * cols, 1, cols, poles, gain, init, c.shape[1], save)
