"""Separable resampling (zoom, shift, diagonal affine): per-axis tap tables and the gathers.

Mirrors SciPy's ``NI_ZoomShift`` (``src/ni_interpolation.c``): each output index along an
axis maps to an input coordinate on its own, so the footprint start, the folded taps and
the spline weights are computed once per axis and output index (the tables), and every
output value sums its ``(order + 1) ** ndim`` taps in C order (last axis fastest), each
term ``((coefficient * w_axis0) * w_axis1) ...``, from 0.0: SciPy's rounding.

Tables of one axis (``n_out`` output indices, ``k = order + 1``):

* ``taps``  int64 ``(n_out, k)``: the input index read by each tap, folded as SciPy folds
  it; -1 for a grid-constant tap outside the input (it reads ``cval``).
* ``weights`` float64 ``(n_out, k)``: the spline weights (1.0 for order 0, where SciPy
  multiplies by none: ``c * 1.0`` is ``c``, bit for bit).
* ``cval_row`` bool ``(n_out,)``: the output index lies outside the input in 'constant'
  mode: every value in that slice is ``cval``.

The gathers see 1-D to 3-D arrays as 3-D with leading axes of one sample, one tap and weight
1.0, which leaves every sum unchanged; :func:`separable_gather_nd` takes any dimension.
"""

import numpy as np

from ._jit import jit
from .boundary import (
    GRID_CONSTANT,
    NEAREST,
    boundary_fold_tap,
    boundary_map_coordinate,
    boundary_spline_mode,
)
from .spline import spline_weights_called

#: Footprint start of a coordinate whose floor is NaN or beyond int64: C's conversion leaves
#: INT64_MIN there on x86, so SciPy's taps all lie below the input (index 0 in 'nearest'
#: mode, cval in 'grid-constant'); any start this far below reads the same.
_FAR_BELOW = -(1 << 62)


@jit
def separable_axis_table(n_in, shift, zoom, grid_mode, npad, order, mode, taps, weights, cval_row):
    """Fill one axis's tables (module docstring) for ``taps.shape[0]`` output indices.

    Input coordinate of output index ``i``, in SciPy's operations: ``(i + shift) * zoom``, or
    ``((i + shift) + 0.5) * zoom - 0.5`` in ``grid_mode``, then ``+ npad``; ``n_in``: the
    (pre-padded) input length; ``mode``: the kernels' mode code.
    """
    k = order + 1
    spline_mode = boundary_spline_mode(mode)
    for i in range(taps.shape[0]):
        cc = float(i)
        cc += shift
        if grid_mode:
            cc += 0.5
            cc *= zoom
            cc -= 0.5
        else:
            cc *= zoom
        cc += npad
        if mode != GRID_CONSTANT and mode != NEAREST:
            cc = boundary_map_coordinate(cc, n_in, mode)
            # NaN lands here too (SciPy itself only survives it in 'constant' mode).
            cval_row[i] = not cc > -1.0
            if cval_row[i]:
                for h in range(k):
                    taps[i, h] = 0
                    weights[i, h] = 0.0
                continue
        cval_row[i] = False
        floor = np.floor(cc) if order & 1 else np.floor(cc + 0.5)
        if -9.2e18 < floor < 9.2e18:
            start = int(floor) - order // 2
        else:
            start = _FAR_BELOW
        w = spline_weights_called(cc, order)
        for h in range(k):
            index = start + h
            if index < 0 or index >= n_in:
                if mode == GRID_CONSTANT:
                    index = -1
                else:
                    index = boundary_fold_tap(index, n_in, spline_mode)
                    # Never read outside the input, whatever the folding of a huge index.
                    index = min(max(index, 0), n_in - 1)
            taps[i, h] = index
            weights[i, h] = w[h] if order > 0 else 1.0


@jit
def separable_gather(coeffs, taps, weights, cval_row, ks, cval, row0, values):
    """Interpolate output rows ``row0 .. row0 + values.shape[0] - 1`` of a 3-D resampling.

    ``coeffs``: float64 ``(D0, D1, D2)``, C-contiguous; ``taps``, ``weights``: the three
    axes' tables stacked, ``(3, n, kmax)`` with ``n`` at least every output length, and
    ``cval_row`` ``(3, n)``; ``ks``: int64 ``(5,)``: taps per axis, then the output lengths
    ``O1`` and ``O2``. Output row ``r`` is ``(r // O1, r % O1)`` over the first two output
    axes; ``values``: float64 ``(rows, O2)``, written whole.
    """
    k0, k1, k2, o1, o2 = ks[0], ks[1], ks[2], ks[3], ks[4]
    taps2, weights2 = taps[2], weights[2]
    cval_taps = False  # grid-constant taps outside the input along the last axis
    for i2 in range(o2):
        for c in range(k2):
            cval_taps = cval_taps or taps2[i2, c] < 0
    for r in range(values.shape[0]):
        i0 = (row0 + r) // o1
        i1 = row0 + r - i0 * o1
        row = values[r]
        for i2 in range(o2):
            row[i2] = 0.0
        if not (cval_row[0, i0] or cval_row[1, i1]):
            # One input row (tap a, b) at a time over the whole output row: each value
            # still sums its terms in SciPy's order (a, then b, then c), and the inner loop
            # runs along contiguous tables and one coefficient row.
            for a in range(k0):
                ia = taps[0, i0, a]
                wa = weights[0, i0, a]
                for b in range(k1):
                    ib = taps[1, i1, b]
                    wb = weights[1, i1, b]
                    if ia < 0 or ib < 0:  # a grid-constant row outside the input
                        for i2 in range(o2):
                            t = row[i2]
                            for c in range(k2):
                                t += cval * wa * wb * weights2[i2, c]
                            row[i2] = t
                        continue
                    line = coeffs[ia, ib]
                    if k2 == 4 and not cval_taps:  # order 3, written out
                        for i2 in range(o2):
                            t = row[i2]
                            t += line[taps2[i2, 0]] * wa * wb * weights2[i2, 0]
                            t += line[taps2[i2, 1]] * wa * wb * weights2[i2, 1]
                            t += line[taps2[i2, 2]] * wa * wb * weights2[i2, 2]
                            t += line[taps2[i2, 3]] * wa * wb * weights2[i2, 3]
                            row[i2] = t
                    else:
                        for i2 in range(o2):
                            t = row[i2]
                            for c in range(k2):
                                t += (
                                    _tap_value(line, taps2[i2, c], cval) * wa * wb * weights2[i2, c]
                                )
                            row[i2] = t
        for i2 in range(o2):
            if cval_row[0, i0] or cval_row[1, i1] or cval_row[2, i2]:
                row[i2] = cval


@jit(per_pixel=True)
def _tap_value(line, index, cval):
    """Coefficient read by a tap: ``line[index]``, or ``cval`` for a grid-constant tap."""
    return cval if index < 0 else line[index]


@jit
def separable_gather_nd(coeffs, in_shape, taps, weights, cval_row, ks, cval, values):
    """Any dimension: every output value, ``values`` float64 ``(size,)`` in C order.

    ``coeffs``: float64 ``(prod(in_shape),)`` in C order; ``taps``, ``weights``
    ``(ndim, n, kmax)`` and ``cval_row`` ``(ndim, n)`` stacked as for
    :func:`separable_gather`; ``ks``: int64 ``(2 * ndim,)``: taps per axis, then the output
    shape. Slower than :func:`separable_gather` (counters instead of nested loops).
    """
    ndim = in_shape.shape[0]
    strides = np.empty(ndim, np.int64)
    step = 1
    for d in range(ndim - 1, -1, -1):
        strides[d] = step
        step *= in_shape[d]
    position = np.zeros(ndim, np.int64)
    tap = np.zeros(ndim, np.int64)
    footprint = 1
    for d in range(ndim):
        footprint *= ks[d]
    for p in range(values.shape[0]):
        outside_row = False
        for d in range(ndim):
            if cval_row[d, position[d]]:
                outside_row = True
        if outside_row:
            values[p] = cval
        else:
            t = 0.0
            for d in range(ndim):
                tap[d] = 0
            for _ in range(footprint):
                offset = 0
                is_cval = False
                for d in range(ndim):
                    index = taps[d, position[d], tap[d]]
                    is_cval = is_cval or index < 0
                    offset += index * strides[d]
                coeff = cval if is_cval else coeffs[offset]
                for d in range(ndim):
                    coeff *= weights[d, position[d], tap[d]]
                t += coeff
                for d in range(ndim - 1, -1, -1):  # next tap, last axis fastest
                    tap[d] += 1
                    if tap[d] < ks[d]:
                        break
                    tap[d] = 0
            values[p] = t
        for d in range(ndim - 1, -1, -1):  # next output index
            position[d] += 1
            if position[d] < ks[ndim + d]:
                break
            position[d] = 0
