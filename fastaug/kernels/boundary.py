"""Boundary modes: where an out-of-range coordinate or spline tap reads from.

Mirrors ``map_coordinate`` and ``_get_spline_boundary_mode`` in SciPy's
``src/ni_interpolation.c``. Mode codes are SciPy's ``NI_EXTEND_*`` numbers.
"""

import math

from ._jit import jit
from ._math import mul

NEAREST = 0
WRAP = 1
REFLECT = 2  # also 'grid-mirror'
MIRROR = 3
CONSTANT = 4
GRID_WRAP = 5
GRID_CONSTANT = 6


@jit
def _trunc(x):
    # C's (npy_intp) cast of a double: truncation toward zero.
    return float(math.trunc(x))


@jit
def boundary_map_coordinate(x, n, mode):
    """Fold coordinate ``x`` on an axis of ``n`` samples into range; -1.0 means "use cval".

    Same floating-point expressions as SciPy, so folded coordinates agree to the bit (a
    product that feeds a sum is ``mul``: never fused, see ``_math.mul``).
    """
    if x < 0:
        if mode == MIRROR:
            if n <= 1:
                return 0.0
            sz2 = 2 * n - 2
            x = mul(sz2, _trunc(-x / sz2)) + x
            return x + sz2 if x <= 1 - n else -x
        if mode == REFLECT:
            if n <= 1:
                return 0.0
            sz2 = 2 * n
            if x < -sz2:
                x = mul(sz2, _trunc(-x / sz2)) + x
            if x < -n:
                return x + sz2
            # SciPy keeps a value just below 0 from folding onto exactly -1.0 (= cval).
            return (1e-15 if x > -1e-15 else -x) - 1
        if mode == WRAP:
            if n <= 1:
                return 0.0
            sz = n - 1
            return x + mul(sz, _trunc(-x / sz) + 1)
        if mode == GRID_WRAP:
            if n <= 1:
                return 0.0
            return x + mul(n, _trunc((-1 - x) / n) + 1)
        if mode == NEAREST:
            return 0.0
        if mode == CONSTANT:
            return -1.0
    elif x > n - 1:
        if mode == MIRROR:
            if n <= 1:
                return 0.0
            sz2 = 2 * n - 2
            x -= mul(sz2, _trunc(x / sz2))
            return sz2 - x if x >= n else x
        if mode == REFLECT:
            if n <= 1:
                return 0.0
            sz2 = 2 * n
            x -= mul(sz2, _trunc(x / sz2))
            return sz2 - x - 1 if x >= n else x
        if mode == WRAP:
            if n <= 1:
                return 0.0
            sz = n - 1
            return x - mul(sz, _trunc(x / sz))
        if mode == GRID_WRAP:
            if n <= 1:
                return 0.0
            return x - mul(n, _trunc(x / n))
        if mode == NEAREST:
            return float(n - 1)
        if mode == CONSTANT:
            return -1.0
    return x


@jit
def boundary_spline_mode(mode):
    """Mode used to fold footprint taps: constant and wrap read the mirror extension."""
    if mode == CONSTANT or mode == WRAP:
        return MIRROR
    return mode


@jit
def boundary_fold_tap(index, n, spline_mode):
    """Integer tap ``index`` folded into [0, n) with ``spline_mode`` (as SciPy does, via double)."""
    return int(boundary_map_coordinate(float(index), n, spline_mode))


@jit(per_pixel=True)
def boundary_axis_start(coordinate, n, npad, order, mode):
    """(first tap, coordinate, inside) on one axis of ``n`` coefficient rows, as SciPy folds
    it; not ``inside``: the pixel is cval outright (constant mode)."""
    cc = coordinate + npad
    # map_coordinate leaves 0 <= cc <= n - 1 as it is: only the others pay for the call.
    if mode != GRID_CONSTANT and mode != NEAREST and not 0.0 <= cc <= n - 1:
        cc = boundary_map_coordinate(cc, n, mode)
        if not cc > -1.0:
            return 0, cc, False
    if order & 1:
        return int(math.floor(cc)) - order // 2, cc, True
    return int(math.floor(cc + 0.5)) - order // 2, cc, True


@jit(per_pixel=True)
def boundary_tap_line(index, n, spline_mode, grid_constant):
    """(line read by tap ``index`` on an axis of ``n`` lines, whether it lies outside): an
    outside tap is folded back as SciPy folds it, except in grid-constant mode (cval)."""
    outside = index < 0 or index >= n
    if outside and not grid_constant:
        if spline_mode == NEAREST:  # the common case, without a call
            index = 0 if index < 0 else n - 1
        else:
            index = boundary_fold_tap(index, n, spline_mode)
    return index, outside
