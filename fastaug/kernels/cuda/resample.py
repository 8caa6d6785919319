"""CUDA kernels of the resampling engine: one thread per output value or per filtered line.

Each kernel is the GPU's loop around the CPU kernels' own scalar functions, compiled as
device functions: :func:`~fastaug.kernels.boundary.boundary_axis_start` and
:func:`~fastaug.kernels.boundary.boundary_tap_line` (folding), :func:`~fastaug.kernels.spline.
spline_weights`, :func:`~fastaug.kernels.prefilter.filter_line` (the recursions) and the
stores of :mod:`fastaug.kernels.stores`. Sums run in SciPy's order (``NI_GeometricTransform``,
``NI_ZoomShift``): the footprint in C order from 0.0, each term ``coefficient * w_axis0 *
w_axis1 ...`` left to right, and the products that feed a sum are ``_math.mul``, so NVVM
fuses nothing and every value is the double SciPy computes.

Arrays are numba device arrays. Samples are 3-D: ``(B, D0, D1, D2)`` with leading axes of
length 1 where an array has fewer (an added axis reads one tap of weight 1.0, which changes
no product). Coefficients ``c`` are float64, C-contiguous and pre-padded on the real axes.
Outputs are C-contiguous and read as one flat array ``out``.
"""

from numba import cuda, float64, int64

from .. import boundary, prefilter, spline, stores
from ..boundary import GRID_CONSTANT
from ..stores import CAST_FLOAT, CAST_INT64, CAST_SIGNED, CAST_UINT64, CAST_UNSIGNED
from . import device_function
from .primitives import mul

boundary_axis_start = device_function(boundary.boundary_axis_start)
boundary_spline_mode = device_function(boundary.boundary_spline_mode)
boundary_tap_line = device_function(boundary.boundary_tap_line)
spline_weights = device_function(spline.spline_weights)
filter_line = device_function(prefilter.filter_line)
_to_unsigned = device_function(stores._to_unsigned)
_to_signed = device_function(stores._to_signed)
_to_uint64 = device_function(stores._to_uint64)
_to_int64 = device_function(stores._to_int64)
_to_bool = device_function(stores._to_bool)

#: Threads per block of the element-wise kernels.
THREADS = 128


@cuda.jit(device=True)
def store(out, i, t, cast, lo, hi):
    """``out[i] = t`` as SciPy stores a double into ``out``'s dtype (``stores``' rules)."""
    if cast == CAST_FLOAT:
        out[i] = t
    elif cast == CAST_UNSIGNED:
        out[i] = _to_unsigned(t, hi)
    elif cast == CAST_SIGNED:
        out[i] = _to_signed(t, lo, hi)
    elif cast == CAST_UINT64:
        out[i] = _to_uint64(t, hi)
    elif cast == CAST_INT64:
        out[i] = _to_int64(t, lo, hi)
    else:
        out[i] = _to_bool(t)


@cuda.jit(device=True)
def unravel(i, n1, n2, n3):
    """``(s, x1, x2, x3)``: flat index ``i`` of a C-order ``(S, n1, n2, n3)`` array."""
    x3 = i % n3
    r = i // n3
    x2 = r % n2
    r //= n2
    return r // n1, r % n1, x2, x3


@cuda.jit
def pad_load(src, c, pad0, pad1, pad2, pad_edge, pad_value):
    """``c`` (float64 ``(B, P0, P1, P2)``) = ``src`` (``(B, D0, D1, D2)``, any real dtype and
    strides) as doubles, pre-padded by ``pad_a`` on axis ``a`` as ``np.pad`` pads for SciPy:
    edge values (``pad_edge``) or ``pad_value`` (cval in the input's dtype)."""
    i = cuda.grid(1)
    nb, p0, p1, p2 = c.shape
    if i >= nb * p0 * p1 * p2:
        return
    b, x0, x1, x2 = unravel(i, p0, p1, p2)
    d0, d1, d2 = src.shape[1], src.shape[2], src.shape[3]
    y0, y1, y2 = x0 - pad0, x1 - pad1, x2 - pad2
    if 0 <= y0 < d0 and 0 <= y1 < d1 and 0 <= y2 < d2:
        c[b, x0, x1, x2] = float64(src[b, y0, y1, y2])
    elif pad_edge:
        y0 = min(max(y0, 0), d0 - 1)
        y1 = min(max(y1, 0), d1 - 1)
        y2 = min(max(y2, 0), d2 - 1)
        c[b, x0, x1, x2] = float64(src[b, y0, y1, y2])
    else:
        c[b, x0, x1, x2] = pad_value


@cuda.jit
def prefilter_lines(c, n, poles, powers, gain, init, save):
    """Prefilter every line of ``c`` (float64 ``(outer * n, inner)``: ``outer`` blocks of
    ``n`` rows, a line down each column of a block) in place: thread ``t`` filters column
    ``t % inner`` of block ``t // inner`` with the CPU's recursions; ``save``: float64
    ``(outer, inner)`` scratch."""
    t = cuda.grid(1)
    outer, inner = save.shape
    if t >= outer * inner:
        return
    o = t // inner
    b = t % inner
    filter_line(c[:, b : b + 1], o * n, 1, n, poles, powers, gain, init, save[o, b : b + 1])


@cuda.jit(device=True)
def sample(c, b, coords, rank, order, mode, cval, npad):
    """The interpolated double of sample ``b`` of ``c`` at ``coords`` (local float64 (3,):
    the input coordinates of the last ``rank`` axes), as ``NI_GeometricTransform``."""
    k = order + 1
    spline_mode = boundary_spline_mode(mode)
    grid_constant = mode == GRID_CONSTANT
    lines = cuda.local.array((3, 6), int64)
    weights = cuda.local.array((3, 6), float64)
    taps = cuda.local.array(3, int64)
    first = 3 - rank
    for a in range(3):
        if a < first:
            taps[a] = 1
            lines[a, 0] = 0
            weights[a, 0] = 1.0
            continue
        n = c.shape[a + 1]
        start, cc, inside = boundary_axis_start(coords[a], n, npad, order, mode)
        if not inside:
            return cval
        w0, w1, w2, w3, w4, w5 = spline_weights(cc, order)
        weights[a, 0] = w0
        weights[a, 1] = w1
        weights[a, 2] = w2
        weights[a, 3] = w3
        weights[a, 4] = w4
        weights[a, 5] = w5
        taps[a] = k
        for i in range(k):
            line, outside = boundary_tap_line(start + i, n, spline_mode, grid_constant)
            # -1: a grid-constant tap outside, which reads cval; beyond int64 (|x| > 9.2e18)
            # C's conversions are undefined: kept inside, as on the CPU.
            lines[a, i] = -1 if grid_constant and outside else min(max(line, 0), n - 1)
    t = 0.0
    for i0 in range(taps[0]):
        l0 = lines[0, i0]
        w0 = weights[0, i0]
        for i1 in range(taps[1]):
            l1 = lines[1, i1]
            w1 = weights[1, i1]
            for i2 in range(taps[2]):
                l2 = lines[2, i2]
                if l0 < 0 or l1 < 0 or l2 < 0:
                    coeff = cval
                else:
                    coeff = c[b, l0, l1, l2]
                t += mul(coeff * w0 * w1, weights[2, i2])
    return t


#: What output sample ``s`` of :func:`affine_gather` is: its source sample resampled, or a
#: copy of it, as it is or flipped along the last two axes (the transforms' flips).
RESAMPLE = 0
COPY = 1
FLIP_ROWS = 2
FLIP_COLUMNS = 3
FLIP_BOTH = 4


@cuda.jit(device=True)
def copy(src, b, x0, x1, x2, n1, n2, kind, out, i, raw_copy, cast, lo, hi):
    """``out[i]`` = element ``(x0, x1, x2)`` of sample ``b`` of ``src`` (last two axes of
    ``n1``, ``n2``), flipped along them as ``kind`` says: as it is (``raw_copy``, the same
    dtype) or as a double stored SciPy's way."""
    if kind == FLIP_ROWS or kind == FLIP_BOTH:
        x1 = n1 - 1 - x1
    if kind == FLIP_COLUMNS or kind == FLIP_BOTH:
        x2 = n2 - 1 - x2
    if raw_copy:
        out[i] = src[b, x0, x1, x2]
    else:
        store(out, i, float64(src[b, x0, x1, x2]), cast, lo, hi)


@cuda.jit
def affine_gather(c, src, sample_of, kind_of, map_of, matrices, offsets, out, o0, o1, o2, order,
                  mode, cval, npad, raw_copy, cast, lo, hi):  # fmt: skip
    """Output value ``i`` of ``out`` (flat ``(S, o0, o1, o2)``, C order), in output sample
    ``s``: sample ``sample_of[s]`` of ``c`` resampled through ``matrices[m]``,
    ``offsets[m]`` (``m = map_of[s]``; float64 ``(M, rank, out_rank)`` and ``(M, rank)``),
    input coordinate ``h`` = ``offset[h] + o_0 * matrix[h, 0] + ...`` summed left to right
    over the last ``out_rank`` output axes, as SciPy sums it; or, by ``kind_of[s]``, a copy
    of that sample of ``src`` (the raw input, ``(B, o0, o1, o2)``), flipped or not:
    ``raw_copy`` stores its element as it is (same dtype), else as a double, SciPy's way."""
    i = cuda.grid(1)
    if i >= out.shape[0]:
        return
    s, x0, x1, x2 = unravel(i, o0, o1, o2)
    b = sample_of[s]
    kind = kind_of[s]
    if kind != RESAMPLE:
        copy(src, b, x0, x1, x2, o1, o2, kind, out, i, raw_copy, cast, lo, hi)
        return
    m = map_of[s]
    rank, out_rank = matrices.shape[1], matrices.shape[2]
    index = cuda.local.array(3, int64)
    index[0] = x0
    index[1] = x1
    index[2] = x2
    coords = cuda.local.array(3, float64)
    for h in range(rank):
        tmp = offsets[m, h]
        for ax in range(out_rank):
            tmp += mul(index[3 - out_rank + ax], matrices[m, h, ax])
        coords[3 - rank + h] = tmp
    store(out, i, sample(c, b, coords, rank, order, mode, cval, npad), cast, lo, hi)


@cuda.jit
def planes_fused(src, first_output, outputs, kind_of, map_of, matrices, offsets, out, out_h,
                 out_w, npad, pad_edge, pad_value, filtered, init, poles0, powers0, gain0,
                 poles1, powers1, gain1, order, mode, cval, raw_copy, cast, lo, hi):  # fmt: skip
    """:func:`pad_load`, :func:`prefilter_lines` and :func:`affine_gather` for 2-D planes, in
    one kernel: block ``b`` loads plane ``b`` of ``src`` (``(B, 1, H, W)``), pre-padded by
    ``npad``, into shared memory as doubles (launched with that much dynamic shared memory),
    prefilters it there where ``filtered`` (lines along axis 0, then axis 1, as SciPy;
    ``poles0``, ``powers0``, ``gain0`` for lines of the padded height, ``*1`` for the width),
    and writes every output sample that reads it: ``outputs[first_output[b]:first_output[b +
    1]]``, each resampled through its map or copied as :func:`affine_gather` says. The
    coefficients never go to device memory, and each plane is filtered once for all of its
    outputs (``augment``'s angles)."""
    b = cuda.blockIdx.x
    if first_output[b] == first_output[b + 1]:
        return
    t = cuda.threadIdx.x
    threads = cuda.blockDim.x
    h, w = src.shape[2], src.shape[3]
    p0, p1 = h + 2 * npad, w + 2 * npad
    plane = cuda.shared.array(0, float64)
    lines = plane[: p0 * p1].reshape((p0 * p1, 1))
    coefficients = plane[: p0 * p1].reshape((1, 1, p0, p1))
    for i in range(t, p0 * p1, threads):
        y, x = i // p1 - npad, i % p1 - npad
        if 0 <= y < h and 0 <= x < w:
            lines[i, 0] = float64(src[b, 0, y, x])
        elif pad_edge:
            lines[i, 0] = float64(src[b, 0, min(max(y, 0), h - 1), min(max(x, 0), w - 1)])
        else:
            lines[i, 0] = pad_value
    cuda.syncthreads()
    if filtered:
        save = cuda.local.array(1, float64)
        if p0 > 1:
            for x in range(t, p1, threads):
                filter_line(lines, x, p1, p0, poles0, powers0, gain0, init, save)
        cuda.syncthreads()
        if p1 > 1:
            for y in range(t, p0, threads):
                filter_line(lines, y * p1, 1, p1, poles1, powers1, gain1, init, save)
        cuda.syncthreads()
    pixels = out_h * out_w
    coords = cuda.local.array(3, float64)
    coords[0] = 0.0
    for k in range(first_output[b], first_output[b + 1]):
        s = outputs[k]
        kind = kind_of[s]
        m = map_of[s]
        for p in range(t, pixels, threads):
            x1, x2 = p // out_w, p % out_w
            i = s * pixels + p
            if kind != RESAMPLE:
                copy(src, b, 0, x1, x2, out_h, out_w, kind, out, i, raw_copy, cast, lo, hi)
                continue
            for h_axis in range(2):
                tmp = offsets[m, h_axis]
                tmp += mul(x1, matrices[m, h_axis, 0])
                tmp += mul(x2, matrices[m, h_axis, 1])
                coords[1 + h_axis] = tmp
            store(out, i, sample(coefficients, 0, coords, 2, order, mode, cval, npad), cast, lo, hi)


@cuda.jit
def points_gather(c, points, out, order, mode, cval, npad, cast, lo, hi):
    """Output value ``i`` of ``out`` (flat): ``c``'s one sample at ``points[:, i]`` (``(rank,
    P)``, any real dtype, read as doubles): ``map_coordinates``."""
    i = cuda.grid(1)
    if i >= out.shape[0]:
        return
    rank = points.shape[0]
    coords = cuda.local.array(3, float64)
    for h in range(rank):
        coords[3 - rank + h] = float64(points[h, i])
    store(out, i, sample(c, 0, coords, rank, order, mode, cval, npad), cast, lo, hi)


@cuda.jit
def separable_gather(c, taps, weights, cval_row, ks, out, o1, o2, cval, cast, lo, hi):
    """Output value ``i`` of ``out`` (flat ``(o0, o1, o2)``) from the per-axis tables of
    ``kernels.gather_separable.separable_axis_table`` (``taps``, ``weights``, ``cval_row``:
    ``(3, n, k)``, ``(3, n, k)``, ``(3, n)``; ``ks``: taps per axis), summed as
    ``NI_ZoomShift`` sums: taps in C order, ``((coefficient * wa) * wb) * wc``."""
    i = cuda.grid(1)
    if i >= out.shape[0]:
        return
    _, x0, x1, x2 = unravel(i, out.shape[0], o1, o2)
    if cval_row[0, x0] or cval_row[1, x1] or cval_row[2, x2]:
        store(out, i, cval, cast, lo, hi)
        return
    t = 0.0
    for a in range(ks[0]):
        ia = taps[0, x0, a]
        wa = weights[0, x0, a]
        for bb in range(ks[1]):
            ib = taps[1, x1, bb]
            wb = weights[1, x1, bb]
            for cc in range(ks[2]):
                ic = taps[2, x2, cc]
                coeff = cval if ia < 0 or ib < 0 or ic < 0 else c[0, ia, ib, ic]
                t += mul(coeff * wa * wb, weights[2, x2, cc])
    store(out, i, t, cast, lo, hi)


@cuda.jit
def store_values(values, out, cast, lo, hi):
    """``out`` (flat) = ``values`` (flat float64) stored with SciPy's rules."""
    i = cuda.grid(1)
    if i < out.shape[0]:
        store(out, i, values[i], cast, lo, hi)


def blocks(n):
    """Blocks of :data:`THREADS` that cover ``n`` threads."""
    return max(1, -(-int(n) // THREADS))


__all__ = [
    "COPY",
    "FLIP_BOTH",
    "FLIP_COLUMNS",
    "FLIP_ROWS",
    "RESAMPLE",
    "THREADS",
    "affine_gather",
    "blocks",
    "pad_load",
    "planes_fused",
    "points_gather",
    "prefilter_lines",
    "separable_gather",
    "store_values",
]
