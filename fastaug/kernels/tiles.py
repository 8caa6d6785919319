"""Tiles: batches laid out for the prefilter and the tile gather.

A tile is float64 ``(rows * cols + 1, T)``, C-contiguous: row ``y * cols + x`` holds pixel
``(y, x)`` of up to ``T`` images side by side (batch innermost), so every prefilter step and
every tap is one contiguous vector over the tile; the last row holds ``cval``. These kernels
load images into a tile (once per input dtype, small), complete SciPy's pre-pad, and turn
planes and tiles around.
"""

import numpy as np

from ._jit import jit

#: Images per tile. Each tile costs a few Python-level kernel calls (fastaug._parallel), so
#: wider tiles pay them less often: full MNIST, +-15 degrees, 2 threads, order 3 took
#: 146-153 ms at 128 lanes against 171-174 ms at 64 (orders 0 and 1 within noise), although
#: a 52x52 padded order-3 tile (2.8 MB) no longer fits in L2.
TILE = 128


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
    """``dst[x, y] = src[y, x]`` for ``y < dst.shape[1]`` (float64, C-contiguous): a
    one-image plane turned so that its rows become lanes for
    :func:`kernels.prefilter.spline_filter_lines`, or a prepared tile's lanes turned into
    planes for :func:`planes_gather_affine`. In 8 x 8 blocks, so both sides stream through
    whole cache lines (3-4x faster than row by row for a tile)."""
    n_y, n_x = dst.shape[1], dst.shape[0]
    for y0 in range(0, n_y, 8):
        y1 = min(y0 + 8, n_y)
        for x0 in range(0, n_x, 8):
            for x in range(x0, min(x0 + 8, n_x)):
                for y in range(y0, y1):
                    dst[x, y] = src[y, x]
