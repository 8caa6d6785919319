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


@jit(per_pixel=True)
def spline_weights(x, order):
    """The ``order + 1`` interpolation weights for coordinate ``x``, as a 6-tuple with zeros
    past ``order`` (SciPy's ``get_spline_interpolation_weights``).

    Scalars in and out: an array argument of an inlined per-pixel helper costs two atomic
    reference-count updates per call (measured: the per-sample path ran 5x slower).
    """
    # np.floor keeps the double, as C's floor does: math.floor's int64 overflows beyond
    # 2**63 (a coordinate of -1e20 got weights of 9e19).
    if order & 1:
        x -= np.floor(x)
    else:
        x -= np.floor(x + 0.5)
    y = x
    z = 1.0 - x
    w0 = w1 = w2 = w3 = w4 = 0.0
    if order == 1:
        w0 = 1.0 - x
    elif order == 2:
        w1 = 0.75 - x * x
        y = 0.5 - x
        w0 = 0.5 * y * y
    elif order == 3:
        w1 = (y * y * (y - 2.0) * 3.0 + 4.0) / 6.0
        w2 = (z * z * (z - 2.0) * 3.0 + 4.0) / 6.0
        w0 = z * z * z / 6.0
    elif order == 4:
        t = x * x
        w2 = t * (t * 0.25 - 0.625) + 115.0 / 192.0
        y = 1.0 + x
        w1 = y * (y * (y * (5.0 - y) / 6.0 - 1.25) + 5.0 / 24.0) + 55.0 / 96.0
        w3 = z * (z * (z * (5.0 - z) / 6.0 - 1.25) + 5.0 / 24.0) + 55.0 / 96.0
        y = 0.5 - x
        t = y * y
        w0 = t * t / 24.0
    elif order == 5:
        t = y * y
        w2 = t * (t * (0.25 - y / 12.0) - 0.5) + 0.55
        t = z * z
        w3 = t * (t * (0.25 - z / 12.0) - 0.5) + 0.55
        y += 1.0
        w1 = y * (y * (y * (y * (y / 24.0 - 0.375) + 1.25) - 1.75) + 0.625) + 0.425
        z += 1.0
        w4 = z * (z * (z * (z * (z / 24.0 - 0.375) + 1.25) - 1.75) + 0.625) + 0.425
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


@jit
def _causal_init(c, first, step, n, z, init, lanes, save, g):
    """Initialise c[first] for the causal pass on the line c[first + k*step], k < n.

    The line is read as ``g * c``: the first pole reads raw samples times the gain (the same
    product SciPy stores before filtering, so the same double), later poles pass 1.0.
    """
    last = first + (n - 1) * step
    if init == INIT_MIRROR:
        z_n_1 = math.pow(z, float(n - 1))  # a float exponent: C pow, not LLVM powi
        for b in range(lanes):
            c[first, b] = g * c[first, b] + z_n_1 * (g * c[last, b])
        z_i = z
        for i in range(1, n - 1):
            a = first + i * step
            m = first + (n - 1 - i) * step
            for b in range(lanes):
                c[first, b] += z_i * (g * c[a, b] + z_n_1 * (g * c[m, b]))
            z_i *= z
        for b in range(lanes):
            c[first, b] /= 1 - z_n_1 * z_n_1
    elif init == INIT_WRAP:
        for b in range(lanes):
            c[first, b] *= g
        z_i = z
        for i in range(1, n):
            m = first + (n - i) * step
            for b in range(lanes):
                c[first, b] += z_i * (g * c[m, b])
            z_i *= z
        for b in range(lanes):
            c[first, b] /= 1 - z_i
    else:  # INIT_REFLECT, SciPy >= 1.18 (no aliasing of c[0])
        z_n = math.pow(z, float(n))  # a float exponent: C pow, not LLVM powi
        for b in range(lanes):
            save[b] = g * c[first, b]
            c[first, b] = save[b] + z_n * (g * c[last, b])
        z_i = z
        for i in range(1, n):
            a = first + i * step
            m = first + (n - 1 - i) * step
            if i == n - 1:
                for b in range(lanes):
                    c[first, b] += z_i * (g * c[a, b] + z_n * save[b])
            else:
                for b in range(lanes):
                    c[first, b] += z_i * (g * c[a, b] + z_n * (g * c[m, b]))
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
def spline_filter_lines(c, firsts, step, n, order, init):
    """Prefilter lines of a tile in place: for each ``first`` in ``firsts``, the ``n`` rows
    ``c[first + k * step]``, ``k < n``, all lanes (columns of ``c``) side by side.

    ``c``: float64 ``(rows, lanes)`` C-contiguous. One kernel serves every pass: down the
    columns of a tile (``firsts`` the columns, ``step`` = cols, ``n`` = rows), along its
    rows (``firsts`` = y * cols, ``step`` 1, ``n`` = cols), or over a whole one-image plane
    (``c`` the ``(rows, cols)`` plane or its transpose, ``firsts`` = [0], so every line of
    the plane is a lane). SciPy filters axis 0, then axis 1; lines of length 1 are left
    unchanged, as in ``NI_SplineFilter1D``.
    """
    if n <= 1:
        return
    poles = spline_poles(order)
    gain = 1.0
    for z in poles:
        gain *= (1.0 - z) * (1.0 - 1.0 / z)
    lanes = c.shape[1]
    save = np.empty(lanes)
    # One line at a time, in place (written out here rather than in a per-line helper: each
    # Numba function compiles on its own and again where it is linked in).
    # SciPy multiplies the line by the gain, then runs each pole's recursions. The gain is
    # applied as the first pole reads the line instead (the same products, so the same
    # doubles): one pass over the line fewer, and the lines of a tile do not fit in L1.
    for first in firsts:
        g = gain
        for z in poles:
            _causal_init(c, first, step, n, z, init, lanes, save, g)
            for k in range(1, n):
                r = first + k * step
                p = r - step
                for b in range(lanes):
                    c[r, b] = g * c[r, b] + z * c[p, b]
            _anticausal_init(c, first, step, n, z, init, lanes)
            for k in range(n - 2, -1, -1):
                r = first + k * step
                q = r + step
                for b in range(lanes):
                    c[r, b] = z * (c[q, b] - c[r, b])
            g = 1.0  # x * 1.0 is x: later poles read the line as it is
