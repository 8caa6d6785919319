"""Rotation: per-output-pixel tap tables (the plan) and the batched gather.

Mirrors the matrix branch of SciPy's ``NI_GeometricTransform`` for a 2-D plane: the same
coordinate arithmetic, footprint, tap folding, weights and summation order, so each output
value is the double SciPy computes.

Tap tables (one angle, ``P = out_h * out_w`` output pixels, ``k = order + 1``):

* ``taps``    int32 ``(P, k * k)``: row of the coefficient tile read by tap (i, j), C order
  (i along axis 0); the extra row ``rows * cols`` holds ``cval`` (grid-constant taps).
* ``wy, wx``  float64 ``(P, k)``: spline weights along axis 0 and axis 1.
* ``outside`` bool ``(P,)``: the pixel is ``cval`` outright (constant mode).

The batch kernels keep images batch-innermost in tiles of up to ``TILE`` images (see
``kernels.spline``), so each tap is one contiguous vector over the tile.
"""
import math

import numpy as np
from numba import prange

from ._jit import jit
from .boundary import (
    GRID_CONSTANT,
    NEAREST,
    boundary_fold_tap,
    boundary_map_coordinate,
    boundary_spline_mode,
)
from .scheduling import next_task
from .spline import spline_prefilter_columns, spline_prefilter_rows, spline_weights

#: Images per tile: 64 float64 lanes keep a 52x52 padded tile (1.4 MB) inside L2.
TILE = 64

# How a double is stored into the output element type (SciPy's CASE_INTERP_OUT*).
CAST_FLOAT = 0
CAST_UNSIGNED = 1
CAST_SIGNED = 2
CAST_BOOL = 3


@jit(inline=True)
def _pixel_taps(matrix, offset, oy, ox, rows, cols, npad, order, mode, taps, wy, wx, ws):
    """Fill one pixel's taps and weights; return True if the pixel is plain cval."""
    k = order + 1
    spline_mode = boundary_spline_mode(mode)
    sentinel = rows * cols
    grid_constant = mode == GRID_CONSTANT
    start_y = 0
    start_x = 0
    for h in range(2):
        n = rows if h == 0 else cols
        # Same order of operations as SciPy: shift first, then each column of the matrix.
        tmp = offset[h]
        tmp += oy * matrix[h, 0]
        tmp += ox * matrix[h, 1]
        cc = tmp + npad
        if mode != GRID_CONSTANT and mode != NEAREST:
            cc = boundary_map_coordinate(cc, n, mode)
            if not cc > -1.0:
                return True
        if order & 1:
            start = int(math.floor(cc)) - order // 2
        else:
            start = int(math.floor(cc + 0.5)) - order // 2
        w = wy if h == 0 else wx
        if h == 0:
            start_y = start
        else:
            start_x = start
        if order > 0:
            spline_weights(cc, order, ws)
            for i in range(k):
                w[i] = ws[i]
        else:
            w[0] = 1.0
    # Fold the taps once per axis (only near the edges; grid-constant taps are not folded).
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
                        taps[i * k + j] = sentinel
                        continue
                else:
                    rx = boundary_fold_tap(rx, cols, spline_mode)
            elif grid_constant and y_out:
                taps[i * k + j] = sentinel
                continue
            taps[i * k + j] = ry * cols + rx
    return False


@jit(parallel=True)
def rotate_plan_taps(matrix, offset, out_h, out_w, rows, cols, npad, order, mode,
                     taps, wy, wx, outside):
    """Fill the tap tables of one rotation (see module docstring) for every output pixel.

    ``matrix`` float64 (2, 2) and ``offset`` float64 (2,) as SciPy's ``rotate`` builds them;
    ``rows, cols``: the (pre-padded) coefficient plane; ``npad``: the pre-pad width.
    """
    for oy in prange(out_h):
        ws = np.empty(order + 1)
        for ox in range(out_w):
            p = oy * out_w + ox
            outside[p] = _pixel_taps(matrix, offset, float(oy), float(ox), rows, cols, npad,
                                     order, mode, taps[p], wy[p], wx[p], ws)


@jit
def _store_tile(values, out, b0, a, lanes, cast, lo, hi):
    """Store doubles ``values[p, b]`` into ``out[b0 + b, a, p]`` like SciPy's CASE_INTERP_OUT*.

    Integers round half away from zero (half up for unsigned), clip, then truncate; bool is
    C's truncating conversion.
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
def _load_tile(images, b0, lanes, npad, pad_edge, pad_value, cval, c):
    """Copy images[b0:b0+lanes] into tile ``c`` (float64) at offset ``npad`` on both axes.

    ``pad_value`` is cval as the input dtype holds it (np.pad's cast, as SciPy pads);
    ``cval`` itself (a double) fills the extra row.

    With ``npad > 0`` the pad rows are filled for the columns that
    :func:`spline_prefilter_columns` filters (edge copies for 'nearest'; cval for
    'grid-constant', with one cval column each side); :func:`_fill_pad_columns` copies the
    rest after the column pass, where pad columns equal those columns. Lanes past ``lanes``
    are zero. Row ``rows * cols`` is the cval row read by grid-constant taps.
    """
    height, width = images.shape[1], images.shape[2]
    cols = width + 2 * npad
    rows = height + 2 * npad
    tile = c.shape[1]
    for y in range(height):
        base = (y + npad) * cols + npad
        for x in range(width):
            row = c[base + x]
            for b in range(lanes):
                row[b] = images[b0 + b, y, x]
            for b in range(lanes, tile):
                row[b] = 0.0
    if npad > 0:
        x_lo, x_hi = _filtered_columns(npad, width, pad_edge)
        for r in range(rows):
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
    for b in range(tile):
        c[rows * cols, b] = cval


@jit
def _filtered_columns(npad, width, pad_edge):
    """Columns that need the column pass: the data, plus one cval column each side when
    padding with cval. Every other pad column is a copy of one of these, before and after."""
    if npad == 0:
        return 0, width
    if pad_edge:
        return npad, npad + width
    return npad - 1, npad + width + 1


@jit
def _fill_pad_columns(c, rows, cols, npad, width, pad_edge, row_needed):
    """Copy the filtered edge (or cval) columns into the remaining pad columns of the rows
    the row pass filters (``row_needed``); no other row is read again."""
    x_lo, x_hi = _filtered_columns(npad, width, pad_edge)
    tile = c.shape[1]
    for r in range(rows):
        if not row_needed[r]:
            continue
        left = c[r * cols + x_lo]
        right = c[r * cols + x_hi - 1]
        for x in range(x_lo):
            c[r * cols + x, :tile] = left
        for x in range(x_hi, cols):
            c[r * cols + x, :tile] = right


@jit
def _prepare_tile(images, b0, lanes, npad, pad_edge, pad_value, cval, order, prefilter_init,
                  row_needed, c):
    """Load a tile and, for orders > 1, turn it into B-spline coefficients."""
    rows = images.shape[1] + 2 * npad
    cols = images.shape[2] + 2 * npad
    _load_tile(images, b0, lanes, npad, pad_edge, pad_value, cval, c)
    if prefilter_init >= 0:
        x_lo, x_hi = _filtered_columns(npad, images.shape[2], pad_edge)
        spline_prefilter_columns(c, rows, cols, x_lo, x_hi, order, prefilter_init)
        if npad > 0:
            _fill_pad_columns(c, rows, cols, npad, images.shape[2], pad_edge, row_needed)
        spline_prefilter_rows(c, rows, cols, row_needed, order, prefilter_init)


@jit
def _gather_tile(c, taps, wy, wx, outside, order, cval, values):
    """Interpolate every output pixel of one angle for all lanes: ``values[p, b]``.

    One pixel loop per order: with the order fixed outside the loop, LLVM keeps each lane's
    sum in a register for orders 1 and 3 (taps spelled out, below); a single loop testing
    the order per pixel ran about 1.5x slower.
    """
    n_pixels = taps.shape[0]
    if order == 1:
        for p in range(n_pixels):
            if outside[p]:
                values[p, :] = cval
            else:
                _gather_pixel_order1(c, taps[p], wy[p], wx[p], values[p])
    elif order == 3:
        for p in range(n_pixels):
            if outside[p]:
                values[p, :] = cval
            else:
                _gather_pixel_order3(c, taps[p], wy[p], wx[p], values[p])
    else:
        for p in range(n_pixels):
            if outside[p]:
                values[p, :] = cval
            else:
                _gather_pixel(c, taps[p], wy[p], wx[p], order, values[p])


@jit(inline=True)
def _gather_pixel(c, taps, wy, wx, order, acc):
    """Any order: tap by tap over all lanes, (coefficient * weight_y) * weight_x summed in
    tap order from 0.0, SciPy's rounding."""
    k = order + 1
    tile = acc.shape[0]
    for b in range(tile):
        acc[b] = 0.0
    for i in range(k):
        w_i = wy[i]
        for j in range(k):
            w_j = wx[j]
            row = c[taps[i * k + j]]
            for b in range(tile):
                acc[b] += row[b] * w_i * w_j


# Orders 1 and 3 (the common ones) spell their taps out with the lanes innermost, so each
# lane's sum stays in a register across all taps; _gather_pixel reads and writes ``acc``
# once per tap, about 1.5x slower. Same terms, same order.

@jit(inline=True)
def _add_tap_row2(t, r0, r1, b, w_y, x0, x1):
    t += r0[b] * w_y * x0
    t += r1[b] * w_y * x1
    return t


@jit(inline=True)
def _add_tap_row4(t, r0, r1, r2, r3, b, w_y, x0, x1, x2, x3):
    t = _add_tap_row2(t, r0, r1, b, w_y, x0, x1)
    return _add_tap_row2(t, r2, r3, b, w_y, x2, x3)


@jit(inline=True)
def _gather_pixel_order1(c, taps, wy, wx, acc):
    r0, r1, r2, r3 = c[taps[0]], c[taps[1]], c[taps[2]], c[taps[3]]
    y0, y1, x0, x1 = wy[0], wy[1], wx[0], wx[1]
    for b in range(acc.shape[0]):
        t = _add_tap_row2(0.0, r0, r1, b, y0, x0, x1)
        acc[b] = _add_tap_row2(t, r2, r3, b, y1, x0, x1)


@jit(inline=True)
def _gather_pixel_order3(c, taps, wy, wx, acc):
    r0, r1, r2, r3 = c[taps[0]], c[taps[1]], c[taps[2]], c[taps[3]]
    r4, r5, r6, r7 = c[taps[4]], c[taps[5]], c[taps[6]], c[taps[7]]
    r8, r9, r10, r11 = c[taps[8]], c[taps[9]], c[taps[10]], c[taps[11]]
    r12, r13, r14, r15 = c[taps[12]], c[taps[13]], c[taps[14]], c[taps[15]]
    y0, y1, y2, y3 = wy[0], wy[1], wy[2], wy[3]
    x0, x1, x2, x3 = wx[0], wx[1], wx[2], wx[3]
    for b in range(acc.shape[0]):
        t = _add_tap_row4(0.0, r0, r1, r2, r3, b, y0, x0, x1, x2, x3)
        t = _add_tap_row4(t, r4, r5, r6, r7, b, y1, x0, x1, x2, x3)
        t = _add_tap_row4(t, r8, r9, r10, r11, b, y2, x0, x1, x2, x3)
        acc[b] = _add_tap_row4(t, r12, r13, r14, r15, b, y3, x0, x1, x2, x3)


@jit
def _tiling(n_images):
    """(images per tile, number of tiles) for a batch of ``n_images``."""
    tile = min(TILE, n_images)
    return tile, (n_images + tile - 1) // tile if tile > 0 else 0


@jit
def _claim_tile(counter, images, npad, pad_edge, pad_value, cval, order, prefilter_init,
                row_needed, c):
    """Take the next tile from the shared ``counter`` (:mod:`kernels.scheduling`) and prepare
    it in ``c``: return (first image, images in it), with no images once all are taken."""
    tile = c.shape[1]
    b0 = next_task(counter) * tile
    lanes = min(tile, images.shape[0] - b0)
    if lanes > 0:
        _prepare_tile(images, b0, lanes, npad, pad_edge, pad_value, cval, order,
                      prefilter_init, row_needed, c)
    return b0, lanes


@jit(parallel=True)
def rotate_batch(images, npad, pad_edge, pad_value, cval, order, prefilter_init, row_needed,
                 taps, wy, wx, outside, cast, lo, hi, out, workers):
    """Rotate a batch by one or more angles sharing one input plane.

    images: ``(B, H, W)`` any real dtype, any strides, read only.
    taps/wy/wx/outside: the tap tables of ``A`` angles stacked on a leading axis;
    row_needed: bool ``(H + 2 npad,)``, rows any of them reads.
    pad_value: the pre-pad value (cval cast to the input dtype) for 'grid-constant'.
    prefilter_init: -1 for none, else the spline prefilter's boundary family.
    out: ``(B, A, P)`` any real dtype and strides; never aliases ``images``.
    workers: tiles are shared out dynamically among this many workers
    (:func:`kernels.scheduling.worker_count`).
    """
    rows = images.shape[1] + 2 * npad
    cols = images.shape[2] + 2 * npad
    tile, n_tiles = _tiling(images.shape[0])
    next_tile = np.zeros(1, np.int64)
    for _ in prange(min(workers, n_tiles)):
        c = np.empty((rows * cols + 1, tile))
        values = np.empty((taps.shape[1], tile))
        while True:
            b0, lanes = _claim_tile(next_tile, images, npad, pad_edge, pad_value, cval, order,
                                    prefilter_init, row_needed, c)
            if lanes <= 0:
                break
            for a in range(taps.shape[0]):
                _gather_tile(c, taps[a], wy[a], wx[a], outside[a], order, cval, values)
                _store_tile(values, out, b0, a, lanes, cast, lo, hi)


@jit
def _interpolate_one(coef, taps, wy, wx, order):
    """One output value from one image's coefficients: the scalar form of ``_gather_tile``."""
    k = order + 1
    t = 0.0
    if order == 0:
        return t + coef[taps[0]]
    for i in range(k):
        w_i = wy[i]
        for j in range(k):
            t += coef[taps[i * k + j]] * w_i * wx[j]
    return t


@jit(parallel=True)
def rotate_each_batch(images, matrices, offsets, npad, pad_edge, pad_value, cval, order, mode,
                      prefilter_init, cast, lo, hi, out, workers):
    """Rotate image ``b`` by its own ``matrices[b]``, ``offsets[b]`` (shape kept).

    images ``(B, H, W)``; matrices float64 ``(B, 2, 2)``; offsets float64 ``(B, 2)``;
    out ``(B, 1, H * W)``. Tiles are loaded and prefiltered as in ``rotate_batch``; each
    image then computes its own taps pixel by pixel (the same arithmetic). ``workers`` as
    in ``rotate_batch``.
    """
    height, width = images.shape[1], images.shape[2]
    rows = height + 2 * npad
    cols = width + 2 * npad
    k = order + 1
    n_pixels = height * width
    row_needed = np.ones(rows, np.bool_)
    tile, n_tiles = _tiling(images.shape[0])
    next_tile = np.zeros(1, np.int64)
    for _ in prange(min(workers, n_tiles)):
        c = np.empty((rows * cols + 1, tile))
        values = np.empty((n_pixels, tile))
        taps = np.empty(k * k, np.int32)
        wy = np.empty(k)
        wx = np.empty(k)
        ws = np.empty(k)
        coef = np.empty(rows * cols + 1)
        while True:
            b0, lanes = _claim_tile(next_tile, images, npad, pad_edge, pad_value, cval, order,
                                    prefilter_init, row_needed, c)
            if lanes <= 0:
                break
            for b in range(lanes):
                matrix = matrices[b0 + b]
                offset = offsets[b0 + b]
                # This image's coefficients, contiguous: its taps then hit L1, not 16 lines each.
                for r in range(rows * cols + 1):
                    coef[r] = c[r, b]
                for oy in range(height):
                    for ox in range(width):
                        p = oy * width + ox
                        if _pixel_taps(matrix, offset, float(oy), float(ox), rows, cols, npad,
                                       order, mode, taps, wy, wx, ws):
                            values[p, b] = cval
                        else:
                            values[p, b] = _interpolate_one(coef, taps, wy, wx, order)
            _store_tile(values, out, b0, 0, lanes, cast, lo, hi)
