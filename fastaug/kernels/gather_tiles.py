"""Affine gathers of 2-D planes: tap tables, the batched tile gather, the per-sample gather.

Mirrors the matrix branch of SciPy's ``NI_GeometricTransform`` for a 2-D plane: the same
coordinate arithmetic, footprint, tap folding, weights and summation order, so each output
value is the double SciPy computes.

Tap tables (one angle, ``P = out_h * out_w`` output pixels, ``k = order + 1``):

* ``taps``    int32 ``(P, k * k)``: row of the coefficient tile read by tap (i, j), C order
  (i along axis 0); the extra row ``rows * cols`` holds ``cval`` (grid-constant taps).
* ``wy, wx``  float64 ``(P, k)``: spline weights along axis 0 and axis 1.
* ``outside`` bool ``(P,)``: the pixel is ``cval`` outright (constant mode).

Images are processed in tiles of up to ``TILE`` images kept batch-innermost (see
:mod:`kernels.tiles`), so each tap is one contiguous vector over the tile. A tile goes through
serial kernels, which fastaug's own threads run tile by tile (``fastaug._parallel``):

* ``tile_load``   input dtype -> float64 tile (compiled once per input dtype, small);
* ``tile_pad``, ``tile_pad_columns`` and ``kernels.prefilter.spline_filter_lines``: pre-pad
  and B-spline coefficients (float64 only: compiled once);
* ``tile_gather``: interpolation of one angle's tap tables (float64 only: compiled once);
* per-sample matrices (``affine_each``, ``rotate_each``): the tile is turned into one
  contiguous plane per image (``plane_transpose``; unfiltered planes are copied in
  directly), ``planes_gather_affine`` computes each pixel's taps as it sums them, and
  ``planes_store`` stores the planes (once per output dtype, small);
* ``tile_store``  float64 -> output dtype, SciPy's rounding (once per output dtype, small).

So a new dtype compiles only a small copy loop, never the prefilter or the gather. Each is
called from Python rather than from one driver kernel: Numba links a callee's code into
every kernel that calls it and optimises it again there, so one big driver would compile
the prefilter and the gather again for every dtype pair.
"""

from ._jit import jit
from .boundary import (
    GRID_CONSTANT,
    boundary_axis_start,
    boundary_spline_mode,
    boundary_tap_line,
)
from .spline import spline_weights, spline_weights_called


@jit(per_pixel=True)
def _tap(line_y, line_x, outside, cols, sentinel, grid_constant):
    """Coefficient read by a tap at ``(line_y, line_x)`` (from :func:`boundary_tap_line`); the cval
    row ``sentinel`` for a grid-constant tap outside the plane."""
    return sentinel if grid_constant and outside else line_y * cols + line_x


@jit
def affine_taps(matrix, offset, out_h, out_w, rows, cols, npad, order, mode, taps, wy, wx, outside):
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
                start, cc, inside = boundary_axis_start(
                    tmp, rows if h == 0 else cols, npad, order, mode
                )
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
            # Taps outside the plane are folded back in (grid-constant ones read the cval row).
            for i in range(k):
                ry, y_out = boundary_tap_line(start_y + i, rows, spline_mode, grid_constant)
                for j in range(k):
                    rx, x_out = boundary_tap_line(start_x + j, cols, spline_mode, grid_constant)
                    taps[p, i * k + j] = _tap(ry, rx, y_out or x_out, cols, sentinel, grid_constant)


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
def planes_gather_affine(
    planes, lanes, matrices, offsets, height, width, npad, order, mode, cval, values
):
    """Resample plane ``b`` (``planes[b]``: float64 ``rows * cols`` coefficients, then
    cval) by its own ``matrices[b]``, ``offsets[b]`` (float64 ``(lanes, 2, 2)`` and
    ``(lanes, 2)``), shape kept: ``values[b, p]``.

    One plane at a time, contiguous, so its taps stay in L1 (reading a tile's lanes in
    place, one double per cache line, ran 1.4x slower). No tap tables: each pixel's taps
    are summed where they are found, with :func:`affine_taps`'s arithmetic and helpers
    and :func:`tile_gather`'s summation order. For orders 1 and 3 a footprint inside the
    plane (most pixels) reads its taps at fixed steps, written out, with the order a
    constant in the helpers' calls so only that order's weight arithmetic is compiled
    there; other orders and footprints crossing the edge fold each tap as SciPy does.
    """
    rows = height + 2 * npad
    cols = width + 2 * npad
    k = order + 1
    sentinel = rows * cols
    spline_mode = boundary_spline_mode(mode)
    grid_constant = mode == GRID_CONSTANT
    for b in range(lanes):
        c = planes[b]
        out = values[b]
        m00, m01 = matrices[b, 0, 0], matrices[b, 0, 1]
        m10, m11 = matrices[b, 1, 0], matrices[b, 1, 1]
        o0, o1 = offsets[b, 0], offsets[b, 1]
        for oy in range(height):
            # SciPy's order: shift, + oy * column 0, + ox * column 1
            row_y = o0 + oy * m00
            row_x = o1 + oy * m10
            for ox in range(width):
                p = oy * width + ox
                coordinate_y = row_y + ox * m01
                coordinate_x = row_x + ox * m11
                if order == 1:
                    start_y, cy, inside = boundary_axis_start(coordinate_y, rows, npad, 1, mode)
                    start_x, cx, inside_x = boundary_axis_start(coordinate_x, cols, npad, 1, mode)
                    if not (inside and inside_x):
                        out[p] = cval
                        continue
                    y0, y1, _, _, _, _ = spline_weights(cy, 1)
                    x0, x1, _, _, _, _ = spline_weights(cx, 1)
                    if 0 <= start_y < rows - 1 and 0 <= start_x < cols - 1:
                        t00 = start_y * cols + start_x
                        t01 = t00 + 1
                        t10 = t00 + cols
                        t11 = t10 + 1
                    else:  # edge pixels are common at order 1: folded here, not below
                        ry0, y_out0 = boundary_tap_line(start_y, rows, spline_mode, grid_constant)
                        ry1, y_out1 = boundary_tap_line(
                            start_y + 1, rows, spline_mode, grid_constant
                        )
                        rx0, x_out0 = boundary_tap_line(start_x, cols, spline_mode, grid_constant)
                        rx1, x_out1 = boundary_tap_line(
                            start_x + 1, cols, spline_mode, grid_constant
                        )
                        t00 = _tap(ry0, rx0, y_out0 or x_out0, cols, sentinel, grid_constant)
                        t01 = _tap(ry0, rx1, y_out0 or x_out1, cols, sentinel, grid_constant)
                        t10 = _tap(ry1, rx0, y_out1 or x_out0, cols, sentinel, grid_constant)
                        t11 = _tap(ry1, rx1, y_out1 or x_out1, cols, sentinel, grid_constant)
                    t = 0.0
                    t += c[t00] * y0 * x0
                    t += c[t01] * y0 * x1
                    t += c[t10] * y1 * x0
                    t += c[t11] * y1 * x1
                    out[p] = t
                    continue
                elif order == 3:
                    start_y, cy, inside = boundary_axis_start(coordinate_y, rows, npad, 3, mode)
                    start_x, cx, inside_x = boundary_axis_start(coordinate_x, cols, npad, 3, mode)
                    if inside and inside_x and 0 <= start_y < rows - 3 and 0 <= start_x < cols - 3:
                        y0, y1, y2, y3, _, _ = spline_weights(cy, 3)
                        x0, x1, x2, x3, _, _ = spline_weights(cx, 3)
                        t = 0.0
                        for i in range(4):
                            w = y0 if i == 0 else y1 if i == 1 else y2 if i == 2 else y3
                            r = (start_y + i) * cols + start_x
                            t += c[r] * w * x0
                            t += c[r + 1] * w * x1
                            t += c[r + 2] * w * x2
                            t += c[r + 3] * w * x3
                        out[p] = t
                        continue
                start_y, cy, inside = boundary_axis_start(coordinate_y, rows, npad, order, mode)
                start_x, cx, inside_x = boundary_axis_start(coordinate_x, cols, npad, order, mode)
                if not (inside and inside_x):
                    out[p] = cval
                    continue
                wy = spline_weights_called(cy, order)
                wx = spline_weights_called(cx, order)
                t = 0.0
                for i in range(k):
                    ry, y_out = boundary_tap_line(start_y + i, rows, spline_mode, grid_constant)
                    for j in range(k):
                        rx, x_out = boundary_tap_line(start_x + j, cols, spline_mode, grid_constant)
                        tap = _tap(ry, rx, y_out or x_out, cols, sentinel, grid_constant)
                        t += c[tap] * wy[i] * wx[j]
                out[p] = t
