"""Rotation: per-output-pixel tap tables (the plan) and the batched gather.

Mirrors the matrix branch of SciPy's ``NI_GeometricTransform`` for a 2-D plane: the same
coordinate arithmetic, footprint, tap folding, weights and summation order, so each output
value is the double SciPy computes.

Tap tables (one angle, ``P = out_h * out_w`` output pixels, ``k = order + 1``):

* ``taps``    int32 ``(P, k * k)``: row of the coefficient tile read by tap (i, j), C order
  (i along axis 0); the extra row ``rows * cols`` holds ``cval`` (grid-constant taps).
* ``wy, wx``  float64 ``(P, k)``: spline weights along axis 0 and axis 1.
* ``outside`` bool ``(P,)``: the pixel is ``cval`` outright (constant mode).

Images are processed in tiles of up to ``TILE`` images kept batch-innermost (see
``kernels.spline``), so each tap is one contiguous vector over the tile. A tile goes through
serial kernels, which fastaug's own threads run tile by tile (``fastaug._parallel``):

* ``tile_load``   input dtype -> float64 tile (compiled once per input dtype, small);
* ``tile_pad``, ``tile_pad_columns`` and ``kernels.spline.spline_filter_lines``: pre-pad
  and B-spline coefficients (float64 only: compiled once);
* ``tile_gather`` / ``tile_gather_each``: interpolation (float64 only: compiled once);
* ``tile_store``  float64 -> output dtype, SciPy's rounding (once per output dtype, small).

So a new dtype compiles only a small copy loop, never the prefilter or the gather. Each is
called from Python rather than from one driver kernel: Numba links a callee's code into
every kernel that calls it and optimises it again there, so one big driver would compile
the prefilter and the gather again for every dtype pair.
"""

import math

import numpy as np

from ._jit import jit
from .boundary import (
    GRID_CONSTANT,
    NEAREST,
    boundary_fold_tap,
    boundary_map_coordinate,
    boundary_spline_mode,
)
from .spline import spline_weights

#: Images per tile. Each tile costs a few Python-level kernel calls (fastaug._parallel), so
#: wider tiles pay them less often: full MNIST, +-15 degrees, 2 threads, order 3 took
#: 146-153 ms at 128 lanes against 171-174 ms at 64 (orders 0 and 1 within noise), although
#: a 52x52 padded order-3 tile (2.8 MB) no longer fits in L2.
TILE = 128

# How a double is stored into the output element type (SciPy's CASE_INTERP_OUT*).
CAST_FLOAT = 0
CAST_UNSIGNED = 1
CAST_SIGNED = 2
CAST_BOOL = 3


@jit(per_pixel=True)
def _axis_start(coordinate, n, npad, order, mode):
    """(first tap, coordinate, inside) on one axis of ``n`` coefficient rows, as SciPy folds
    it; not ``inside``: the pixel is cval outright (constant mode)."""
    cc = coordinate + npad
    if mode != GRID_CONSTANT and mode != NEAREST:
        cc = boundary_map_coordinate(cc, n, mode)
        if not cc > -1.0:
            return 0, cc, False
    if order & 1:
        return int(math.floor(cc)) - order // 2, cc, True
    return int(math.floor(cc + 0.5)) - order // 2, cc, True


@jit
def rotate_plan_taps(
    matrix, offset, out_h, out_w, rows, cols, npad, order, mode, taps, wy, wx, outside
):
    """Fill the tap tables of one rotation (see module docstring) for every output pixel.

    ``matrix`` float64 (2, 2) and ``offset`` float64 (2,) as SciPy's ``rotate`` builds them;
    ``rows, cols``: the (pre-padded) coefficient plane; ``npad``: the pre-pad width.

    The pixel loop calls only scalar helpers and indexes the tables: a helper taking an
    array, or an array view per pixel, costs atomic reference-count updates per pixel
    (measured 4-5x slower).
    """
    k = order + 1
    spline_mode = boundary_spline_mode(mode)
    sentinel = rows * cols
    grid_constant = mode == GRID_CONSTANT
    m00, m01, m10, m11 = matrix[0, 0], matrix[0, 1], matrix[1, 0], matrix[1, 1]
    o0, o1 = offset[0], offset[1]
    for oy in range(out_h):
        for ox in range(out_w):
            p = oy * out_w + ox
            start_y = start_x = 0
            outside[p] = False
            for h in range(2):
                # Same order of operations as SciPy: shift first, then each matrix column.
                tmp = o0 if h == 0 else o1
                tmp += oy * (m00 if h == 0 else m10)
                tmp += ox * (m01 if h == 0 else m11)
                start, cc, inside = _axis_start(tmp, rows if h == 0 else cols, npad, order, mode)
                if not inside:
                    outside[p] = True
                    break
                weights = spline_weights(cc, order)
                if h == 0:
                    start_y = start
                    for i in range(k):
                        wy[p, i] = weights[i]
                else:
                    start_x = start
                    for i in range(k):
                        wx[p, i] = weights[i]
            if outside[p]:
                continue
            # Fold the taps once per axis (only near the edges; grid-constant taps are not
            # folded but read the cval row).
            edge_y = start_y < 0 or start_y + order >= rows
            edge_x = start_x < 0 or start_x + order >= cols
            for i in range(k):
                ry = start_y + i
                y_out = ry < 0 or ry >= rows
                if edge_y and not grid_constant:
                    ry = boundary_fold_tap(ry, rows, spline_mode)
                for j in range(k):
                    rx = start_x + j
                    if edge_x:
                        x_out = rx < 0 or rx >= cols
                        if grid_constant:
                            if y_out or x_out:
                                taps[p, i * k + j] = sentinel
                                continue
                        else:
                            rx = boundary_fold_tap(rx, cols, spline_mode)
                    elif grid_constant and y_out:
                        taps[p, i * k + j] = sentinel
                        continue
                    taps[p, i * k + j] = ry * cols + rx


@jit
def tile_load(images, b0, lanes, npad, c):
    """Copy ``images[b0:b0 + lanes]`` (``(B, H, W)``, any real dtype, C-contiguous) into the
    data region of tile ``c`` (float64 ``(rows * cols + 1, T)``, offset ``npad`` on both
    axes); lanes past ``lanes`` become zero. The pads are :func:`tile_prepare`'s."""
    height, width = images.shape[1], images.shape[2]
    cols = width + 2 * npad
    tile = c.shape[1]
    for y in range(height):
        base = (y + npad) * cols + npad
        for x in range(width):
            row = c[base + x]
            for b in range(lanes):
                row[b] = images[b0 + b, y, x]
            for b in range(lanes, tile):
                row[b] = 0.0


@jit
def tile_store(values, out, b0, a, lanes, cast, lo, hi):
    """Store doubles ``values[p, b]`` into ``out[b0 + b, a, p]`` like SciPy's CASE_INTERP_OUT*.

    ``out``: ``(B, A, P)``, any real dtype, pixels contiguous. Integers round half away from
    zero (half up for unsigned), clip, then truncate; bool is C's truncating conversion.
    """
    # Pixel by pixel, each reading one contiguous row of ``values`` and writing one element
    # to each lane's output row: the lanes' rows stay in L1 for the next pixels. This ran
    # about 1.3x faster than reading ``values`` down a column for each lane in turn.
    for p in range(values.shape[0]):
        row = values[p]
        if cast == CAST_FLOAT:
            for b in range(lanes):
                out[b0 + b, a, p] = row[b]
        elif cast == CAST_UNSIGNED:
            for b in range(lanes):
                t = row[b]
                t = t + 0.5 if t > 0 else 0.0
                t = hi if t > hi else t
                out[b0 + b, a, p] = 0.0 if t < 0 else t
        elif cast == CAST_SIGNED:
            for b in range(lanes):
                t = row[b]
                t = t + 0.5 if t > 0 else t - 0.5
                t = hi if t > hi else t
                out[b0 + b, a, p] = lo if t < lo else t
        else:
            for b in range(lanes):
                t = row[b]
                out[b0 + b, a, p] = t >= 1.0 or t <= -1.0


@jit
def filtered_columns(npad, width, pad_edge):
    """Columns that need the column pass: the data, plus one cval column each side when
    padding with cval. Every other pad column is a copy of one of these, before and after."""
    if npad == 0:
        return 0, width
    if pad_edge:
        return npad, npad + width
    return npad - 1, npad + width + 1


@jit
def tile_pad(c, height, width, npad, pad_edge, pad_value, cval, whole_plane):
    """Complete a loaded tile (:func:`tile_load`) for the prefilter: the pre-pad rows and the
    cval row.

    The pad rows are filled for the columns the column pass filters (edge copies for
    'nearest', ``pad_value`` for 'grid-constant', with one ``pad_value`` column each side);
    the other pad columns are copies of those columns, made by :func:`tile_pad_columns`
    after the column pass, or here for every row when ``whole_plane`` (a one-image plane
    filtered whole, every column at once).
    ``pad_value``: cval as the input dtype holds it (np.pad's cast, as SciPy pads);
    ``cval`` itself (a double) fills row ``rows * cols``, read by grid-constant taps.
    """
    cols = width + 2 * npad
    rows = height + 2 * npad
    tile = c.shape[1]
    x_lo, x_hi = filtered_columns(npad, width, pad_edge)
    for r in range(rows if npad > 0 else 0):
        if npad <= r < npad + height:
            if not pad_edge:
                for b in range(tile):
                    c[r * cols + x_lo, b] = pad_value
                    c[r * cols + x_hi - 1, b] = pad_value
            continue
        src = npad if r < npad else npad + height - 1
        for x in range(x_lo, x_hi):
            for b in range(tile):
                c[r * cols + x, b] = c[src * cols + x, b] if pad_edge else pad_value
    if whole_plane and npad > 0:
        tile_pad_columns(c, height, width, npad, pad_edge, np.ones(rows, np.bool_))
    for b in range(tile):
        c[rows * cols, b] = cval


@jit
def tile_pad_columns(c, height, width, npad, pad_edge, row_needed):
    """Copy the edge (or cval) columns the column pass filters into the other pad columns of
    the rows in ``row_needed`` (bool ``(rows,)``); no other row is read again."""
    rows = height + 2 * npad
    cols = width + 2 * npad
    x_lo, x_hi = filtered_columns(npad, width, pad_edge)
    tile = c.shape[1]
    for r in range(rows):
        if not row_needed[r]:
            continue
        left = r * cols + x_lo
        right = r * cols + x_hi - 1
        for x in range(x_lo):
            for b in range(tile):
                c[r * cols + x, b] = c[left, b]
        for x in range(x_hi, cols):
            for b in range(tile):
                c[r * cols + x, b] = c[right, b]


@jit
def plane_transpose(src, dst):
    """``dst[x, y] = src[y, x]`` (float64, C-contiguous): a one-image plane turned so that
    its rows become lanes for :func:`kernels.spline.spline_filter_lines` (the gather then
    reads it turned, through taps made for that layout)."""
    for y in range(src.shape[0]):
        for x in range(src.shape[1]):
            dst[x, y] = src[y, x]


@jit
def tile_gather(c, taps, wy, wx, outside, order, cval, values):
    """Interpolate every output pixel of one angle for all lanes: ``values[p, b]``.

    ``taps, wy, wx, outside``: one angle's tables (module docstring). Each lane sums
    (coefficient * weight_y) * weight_x in tap order from 0.0: SciPy's rounding.

    Written for the compiler: the lane loops are spelled out here rather than in helpers
    (Numba optimises each function before linking its callees, so a helper call inside a
    lane loop stays a call and the loop is not vectorised: about 3x slower for order 1), and
    rows are indexed, not taken as views (each view costs two atomic reference-count updates:
    16 taps made one image 2x slower). One pixel loop per order, orders 1 and 3 with their
    taps written out, keep each lane's sum in a register; a single loop testing the order
    per pixel ran about 1.5x slower.
    """
    n_pixels, lanes = values.shape
    if order == 1:
        for p in range(n_pixels):
            if outside[p]:
                for b in range(lanes):
                    values[p, b] = cval
                continue
            t0, t1, t2, t3 = taps[p, 0], taps[p, 1], taps[p, 2], taps[p, 3]
            y0, y1 = wy[p, 0], wy[p, 1]
            x0, x1 = wx[p, 0], wx[p, 1]
            for b in range(lanes):
                t = 0.0
                t += c[t0, b] * y0 * x0
                t += c[t1, b] * y0 * x1
                t += c[t2, b] * y1 * x0
                t += c[t3, b] * y1 * x1
                values[p, b] = t
    elif order == 3:
        for p in range(n_pixels):
            if outside[p]:
                for b in range(lanes):
                    values[p, b] = cval
                continue
            t0, t1, t2, t3 = taps[p, 0], taps[p, 1], taps[p, 2], taps[p, 3]
            t4, t5, t6, t7 = taps[p, 4], taps[p, 5], taps[p, 6], taps[p, 7]
            t8, t9, t10, t11 = taps[p, 8], taps[p, 9], taps[p, 10], taps[p, 11]
            t12, t13, t14, t15 = taps[p, 12], taps[p, 13], taps[p, 14], taps[p, 15]
            y0, y1, y2, y3 = wy[p, 0], wy[p, 1], wy[p, 2], wy[p, 3]
            x0, x1, x2, x3 = wx[p, 0], wx[p, 1], wx[p, 2], wx[p, 3]
            if lanes == 1:
                # A single image: straight-line code, so the pixels' chains of dependent
                # additions overlap (1.4x faster than a lane loop of one). Same sum: adding
                # the first term to 0.0 changes only a -0.0, and so does the final + 0.0.
                values[p, 0] = (
                    c[t0, 0] * y0 * x0
                    + c[t1, 0] * y0 * x1
                    + c[t2, 0] * y0 * x2
                    + c[t3, 0] * y0 * x3
                    + c[t4, 0] * y1 * x0
                    + c[t5, 0] * y1 * x1
                    + c[t6, 0] * y1 * x2
                    + c[t7, 0] * y1 * x3
                    + c[t8, 0] * y2 * x0
                    + c[t9, 0] * y2 * x1
                    + c[t10, 0] * y2 * x2
                    + c[t11, 0] * y2 * x3
                    + c[t12, 0] * y3 * x0
                    + c[t13, 0] * y3 * x1
                    + c[t14, 0] * y3 * x2
                    + c[t15, 0] * y3 * x3
                ) + 0.0
                continue
            for b in range(lanes):
                t = 0.0
                t += c[t0, b] * y0 * x0
                t += c[t1, b] * y0 * x1
                t += c[t2, b] * y0 * x2
                t += c[t3, b] * y0 * x3
                t += c[t4, b] * y1 * x0
                t += c[t5, b] * y1 * x1
                t += c[t6, b] * y1 * x2
                t += c[t7, b] * y1 * x3
                t += c[t8, b] * y2 * x0
                t += c[t9, b] * y2 * x1
                t += c[t10, b] * y2 * x2
                t += c[t11, b] * y2 * x3
                t += c[t12, b] * y3 * x0
                t += c[t13, b] * y3 * x1
                t += c[t14, b] * y3 * x2
                t += c[t15, b] * y3 * x3
                values[p, b] = t
    else:
        k = order + 1
        for p in range(n_pixels):
            if outside[p]:
                for b in range(lanes):
                    values[p, b] = cval
                continue
            for b in range(lanes):
                values[p, b] = 0.0
            for i in range(k):
                w_i = wy[p, i]
                for j in range(k):
                    w_j = wx[p, j]
                    tap = taps[p, i * k + j]
                    for b in range(lanes):
                        values[p, b] += c[tap, b] * w_i * w_j


@jit
def tile_gather_each(c, lanes, matrices, offsets, height, width, npad, order, mode, cval, values):
    """Rotate lane ``b`` of a prepared tile by its own ``matrices[b]``, ``offsets[b]``
    (float64 ``(lanes, 2, 2)`` and ``(lanes, 2)``), shape kept: ``values[p, b]``.

    Each image gets its own tap tables (:func:`rotate_plan_taps`, the same arithmetic) and
    is gathered from a contiguous copy of its coefficients (its taps then hit L1, not 16
    cache lines each), summing in :func:`tile_gather`'s order.
    """
    rows = height + 2 * npad
    cols = width + 2 * npad
    k = order + 1
    n_pixels = height * width
    taps = np.empty((n_pixels, k * k), np.int32)
    wy = np.empty((n_pixels, k))
    wx = np.empty((n_pixels, k))
    outside = np.empty(n_pixels, np.bool_)
    coef = np.empty(rows * cols + 1)
    for b in range(lanes):
        for r in range(rows * cols + 1):
            coef[r] = c[r, b]
        rotate_plan_taps(
            matrices[b],
            offsets[b],
            height,
            width,
            rows,
            cols,
            npad,
            order,
            mode,
            taps,
            wy,
            wx,
            outside,
        )
        for p in range(n_pixels):
            if outside[p]:
                values[p, b] = cval
                continue
            t = 0.0
            if order == 0:
                t += coef[taps[p, 0]]
            else:
                for i in range(k):
                    w_i = wy[p, i]
                    for j in range(k):
                        t += coef[taps[p, i * k + j]] * w_i * wx[p, j]
            values[p, b] = t
