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
from ._math import mul
from .spline import spline_poles

# Boundary initialisation families of the prefilter.
INIT_MIRROR = 0


INIT_WRAP = 1


INIT_REFLECT = 2


@jit(inline=True)
def filter_constants(order, n, init):
    """``(poles, powers, gain)`` of the prefilter of ``order`` on lines of ``n``: the poles
    (:func:`fastaug.kernels.spline.spline_poles`), the power of each that the boundary
    initialisation uses (``z**(n - 1)`` for mirror, ``z**n`` for reflect, as C's ``pow``
    computes them: a float exponent, not LLVM's powi) and the gain, the product over poles
    of ``(1 - z) * (1 - 1 / z)``. A GPU takes them from the host: its ``pow`` may round
    otherwise."""
    poles = spline_poles(order)
    powers = np.zeros(poles.shape[0])
    gain = 1.0
    for j in range(poles.shape[0]):
        z = poles[j]
        if init == INIT_MIRROR:
            powers[j] = math.pow(z, float(n - 1))
        elif init == INIT_REFLECT:
            powers[j] = math.pow(z, float(n))
        gain *= (1.0 - z) * (1.0 - 1.0 / z)
    return poles, powers, gain


@jit
def _causal_init(c, first, step, n, z, z_pow, init, save, g):
    """Initialise c[first] for the causal pass on the line c[first + k*step], k < n, every
    lane (column of ``c``); ``z_pow``: :func:`filter_constants`' power of ``z``.

    The line is read as ``g * c``: the first pole reads raw samples times the gain (the same
    product SciPy stores before filtering, so the same double), later poles pass 1.0.
    Every product that feeds a sum is ``mul`` (one rounding, on every target).
    """
    last = first + (n - 1) * step
    if init == INIT_MIRROR:
        z_n_1 = z_pow
        for b in range(c.shape[1]):
            c[first, b] = mul(g, c[first, b]) + mul(z_n_1, g * c[last, b])
        z_i = z
        for i in range(1, n - 1):
            a = first + i * step
            m = first + (n - 1 - i) * step
            for b in range(c.shape[1]):
                c[first, b] += mul(z_i, mul(g, c[a, b]) + mul(z_n_1, g * c[m, b]))
            z_i = mul(z_i, z)
        for b in range(c.shape[1]):
            c[first, b] /= 1 - mul(z_n_1, z_n_1)
    elif init == INIT_WRAP:
        for b in range(c.shape[1]):
            c[first, b] = mul(c[first, b], g)
        z_i = z
        for i in range(1, n):
            m = first + (n - i) * step
            for b in range(c.shape[1]):
                c[first, b] += mul(z_i, g * c[m, b])
            z_i = mul(z_i, z)
        for b in range(c.shape[1]):
            c[first, b] /= 1 - z_i
    else:  # INIT_REFLECT, SciPy >= 1.18 (no aliasing of c[0])
        z_n = z_pow
        for b in range(c.shape[1]):
            save[b] = mul(g, c[first, b])
            c[first, b] = save[b] + mul(z_n, g * c[last, b])
        z_i = z
        for i in range(1, n):
            a = first + i * step
            m = first + (n - 1 - i) * step
            if i == n - 1:
                for b in range(c.shape[1]):
                    c[first, b] += mul(z_i, mul(g, c[a, b]) + mul(z_n, save[b]))
            else:
                for b in range(c.shape[1]):
                    c[first, b] += mul(z_i, mul(g, c[a, b]) + mul(z_n, g * c[m, b]))
            z_i = mul(z_i, z)
        scale = z / (1 - mul(z_n, z_n))
        for b in range(c.shape[1]):
            c[first, b] = mul(c[first, b], scale) + save[b]


@jit
def _anticausal_init(c, first, step, n, z, init):
    """Initialise c[last] for the anticausal pass."""
    last = first + (n - 1) * step
    if init == INIT_MIRROR:
        prev = last - step
        for b in range(c.shape[1]):
            c[last, b] = (mul(z, c[prev, b]) + c[last, b]) * z / (mul(z, z) - 1)
    elif init == INIT_WRAP:
        z_i = z
        for i in range(n - 1):
            a = first + i * step
            for b in range(c.shape[1]):
                c[last, b] += mul(z_i, c[a, b])
            z_i = mul(z_i, z)
        scale = z / (z_i - 1)
        for b in range(c.shape[1]):
            c[last, b] = mul(c[last, b], scale)
    else:
        scale = z / (z - 1)
        for b in range(c.shape[1]):
            c[last, b] = mul(c[last, b], scale)


@jit(inline=True)
def filter_line(c, first, step, n, poles, powers, gain, init, save):
    """Prefilter one line of lanes in place: rows ``c[first + k * step]``, ``k < n``, every
    lane (column of ``c``); ``poles``, their ``powers`` and ``gain`` from
    :func:`filter_constants`; ``save``: scratch, one value per lane. SciPy multiplies the
    line by the gain, then runs each pole's recursions. The gain is applied as the first
    pole reads the line instead (the same products, so the same doubles): one pass over the
    line fewer.

    The CPU's tiles call it with every lane of a tile; the CUDA backend with a one-lane view
    per thread: the same recursions, operation for operation.
    """
    g = gain
    for j in range(poles.shape[0]):
        z = poles[j]
        _causal_init(c, first, step, n, z, powers[j], init, save, g)
        for k in range(1, n):
            r = first + k * step
            p = r - step
            for b in range(c.shape[1]):
                c[r, b] = mul(g, c[r, b]) + mul(z, c[p, b])
        _anticausal_init(c, first, step, n, z, init)
        for k in range(n - 2, -1, -1):
            r = first + k * step
            q = r + step
            for b in range(c.shape[1]):
                c[r, b] = mul(z, c[q, b] - c[r, b])
        g = 1.0  # x * 1.0 is x: later poles read the line as it is


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
    poles, powers, gain = filter_constants(order, n, init)
    save = np.empty(c.shape[1])
    for first in firsts:
        filter_line(c, first, step, n, poles, powers, gain, init, save)
