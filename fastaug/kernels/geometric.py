"""N-D resampling at explicit coordinates: SciPy's ``NI_GeometricTransform``, point by point.

Mirrors ``NI_GeometricTransform`` in SciPy's ``src/ni_interpolation.c`` for the matrix and
the coordinate-array mappings: the affine sum in SciPy's order, the coordinate folding
(``_axis_start``), the footprint and its folded taps (``_tap_line``), the weights
(``spline_weights``), the products ``coefficient * w_axis0 * w_axis1 ...`` left to right and
the footprint sum from 0.0 in C order; so every output value is the double SciPy computes.

Arrays (float64, C-contiguous unless stated):

* ``c``       the coefficients (or the input converted to float64), flattened: shape
  ``dims``, where ``dims`` (int64, at least 3 entries) is the array's shape with leading 1s
  added up to 3 axes. An added axis is read with one tap of weight 1.0, which leaves every
  product and sum as SciPy computes it on the real axes (``x * 1.0 == x`` exactly).
* ``coords``  ``(rank, P)``: input coordinate ``h`` of point ``p`` in ``coords[h, p]``,
  ``rank`` the real number of axes.
* ``values``  ``(1, n)``: the doubles of points ``p0 .. p0 + n``.

Inputs of up to 3 axes run a footprint loop written for 3 axes; more axes step through
the footprint with a counter (SciPy's ``fcoordinates`` table), one compiled kernel for all.
"""

import numpy as np

from ._jit import jit
from .boundary import GRID_CONSTANT, boundary_spline_mode
from .rotate import _axis_start, _tap_line
from .spline import spline_weights


@jit
def geometric_coordinates(matrix, offset, separable, grid_mode, out_dims, p0, coords):
    """Input coordinates of output points ``p0 .. p0 + coords.shape[1]`` (C order over
    ``out_dims``, int64) into ``coords`` (``(rank, n)``), as SciPy computes them:

    * affine (``NI_GeometricTransform``): ``offset[h] + o_0 * matrix[h, 0] + o_1 *
      matrix[h, 1] + ...``, summed left to right; ``matrix`` ``(rank, out_rank)``;
    * ``separable`` (``NI_ZoomShift``): ``(o_h + offset[h]) * matrix[h, 0]``, or with
      ``grid_mode`` ``(o_h + offset[h] + 0.5) * matrix[h, 0] - 0.5``: a shift then a zoom
      per axis (output axes past ``rank`` are not read).
    """
    rank, out_rank = coords.shape[0], out_dims.shape[0]
    index = np.empty(out_rank, np.int64)
    rest = p0
    for ax in range(out_rank - 1, -1, -1):
        index[ax] = rest % out_dims[ax]
        rest //= out_dims[ax]
    for j in range(coords.shape[1]):
        for h in range(rank):
            if separable:
                tmp = index[h] + offset[h]
                if grid_mode:
                    tmp += 0.5
                    tmp *= matrix[h, 0]
                    tmp -= 0.5
                else:
                    tmp *= matrix[h, 0]
            else:
                tmp = offset[h]
                for ax in range(out_rank):
                    tmp += index[ax] * matrix[h, ax]
            coords[h, j] = tmp
        # the next output point: the last axis moves fastest
        for ax in range(out_rank - 1, -1, -1):
            index[ax] += 1
            if index[ax] < out_dims[ax]:
                break
            index[ax] = 0


@jit
def geometric_gather(c, dims, coords, p0, order, mode, cval, npad, values):
    """Interpolate ``c`` (module docstring) at points ``p0 .. p0 + values.shape[1]`` of
    ``coords``, into ``values[0]``; ``npad``: the pre-pad SciPy added before prefiltering
    (coordinates are shifted by it); ``cval``: value of points outside in 'constant' mode
    and of taps outside in 'grid-constant' mode."""
    ndim = dims.shape[0]
    rank = coords.shape[0]
    first = ndim - rank  # added leading axes
    k = order + 1
    spline_mode = boundary_spline_mode(mode)
    grid_constant = mode == GRID_CONSTANT
    # Per axis: taps, their flattened offsets, weights, and whether each lies outside.
    taps = np.ones(ndim, np.int64)
    lines = np.zeros((ndim, 6), np.int64)
    weights = np.ones((ndim, 6))
    outside = np.zeros((ndim, 6), np.bool_)
    strides = np.ones(ndim, np.int64)
    for a in range(ndim - 2, -1, -1):
        strides[a] = strides[a + 1] * dims[a + 1]
    counter = np.zeros(ndim, np.int64)
    out = values[0]
    for j in range(out.shape[0]):
        p = p0 + j
        constant = False
        for a in range(first, ndim):
            n = dims[a]
            start, cc, inside = _axis_start(coords[a - first, p], n, npad, order, mode)
            if not inside:
                constant = True
                break
            w = spline_weights(cc, order)
            taps[a] = k
            for i in range(k):
                line, off = _tap_line(start + i, n, spline_mode, grid_constant)
                lines[a, i] = line * strides[a]
                outside[a, i] = grid_constant and off
                weights[a, i] = w[i]
        if constant:
            out[j] = cval
            continue
        t = 0.0
        if ndim == 3:
            for i0 in range(taps[0]):
                line0, w0, off0 = lines[0, i0], weights[0, i0], outside[0, i0]
                for i1 in range(taps[1]):
                    line1 = line0 + lines[1, i1]
                    w1 = weights[1, i1]
                    off1 = off0 or outside[1, i1]
                    for i2 in range(taps[2]):
                        if off1 or outside[2, i2]:
                            coeff = cval
                        else:
                            coeff = c[line1 + lines[2, i2]]
                        t += coeff * w0 * w1 * weights[2, i2]
        else:
            # Any number of axes: a counter over the footprint, last axis fastest.
            counter[:] = 0
            while True:
                line = 0
                off = False
                for a in range(ndim):
                    line += lines[a, counter[a]]
                    off = off or outside[a, counter[a]]
                coeff = cval if off else c[line]
                for a in range(ndim):
                    coeff *= weights[a, counter[a]]
                t += coeff
                a = ndim - 1
                while a >= 0:
                    counter[a] += 1
                    if counter[a] < taps[a]:
                        break
                    counter[a] = 0
                    a -= 1
                if a < 0:
                    break
        out[j] = t
