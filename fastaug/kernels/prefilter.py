"""The recursive B-spline prefilter (orders 2-5): SciPy's ``src/ni_splines.c`` recursions.

Same poles, gain, boundary initialisations and recursion order as SciPy, so coefficients
agree to the bit. The one deliberate difference is the *correct* causal reflect
initialisation of SciPy's main branch (scipy/scipy#24615; 1.17 read a partially updated
``c[0]``; the two agree for lines of 21 samples or more).

Lines are filtered as *lanes*: ``c`` is float64, C-contiguous, ``(rows * cols, T)``, where
row ``y * cols + x`` holds pixel (y, x) of T lines side by side. Every recursion step then
runs over T contiguous values, which the compiler vectorises; each line sees exactly the
scalar operations SciPy performs.
"""

import math

import numpy as np

from ._jit import jit
from .spline import spline_poles

# Boundary initialisation families of the prefilter.
INIT_MIRROR = 0


INIT_WRAP = 1


INIT_REFLECT = 2


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
