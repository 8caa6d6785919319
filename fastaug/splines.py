"""B-spline coefficients of whole N-D arrays: SciPy's ``spline_filter`` on fastaug's kernels.

:func:`prefiltered` is what SciPy's interpolation functions do to their input before
sampling it (``_prepad_for_spline_filter`` then ``spline_filter`` into float64);
:func:`filter_axes` filters a float64 array in place along given axes, on fastaug's threads
for large arrays. The arithmetic is :mod:`fastaug.kernels.prefilter`'s (SciPy's ``ni_splines.c``,
with the reflect initialisation fixed in SciPy 1.18).
"""

import math

import numpy as np

from . import _parallel
from .kernels import boundary, tiles
from .kernels import prefilter as prefilter_kernels
from .resampling import MODES, PREFILTER_INIT, Interp, pad_value, prepad_width

#: Rows (lines along the last axis) turned into the lanes of one block: each block costs
#: three kernel calls, and its recursion steps are vectors of this many lanes.
ROW_BLOCK = 64


def filter_axes(coeffs, order, init, axes):
    """Spline-filter ``coeffs`` (float64, C-contiguous, any dimension) in place along each of
    ``axes`` in turn, with the prefilter boundary family ``init`` (``kernels.prefilter.INIT_*``)
    and ``order`` 2-5. Lines of one sample are left as they are, as SciPy does."""
    shape = coeffs.shape
    for axis in axes:
        n = shape[axis]
        if n <= 1 or coeffs.size == 0:
            continue
        post = math.prod(shape[axis + 1 :])
        if post == 1:  # the last axis: rows, turned into lanes a block of them at a time
            rows = coeffs.reshape(-1, n)
            _parallel.run_pieces(
                rows.shape[0],
                coeffs.size,
                lambda lo, hi, rows=rows, n=n: _filter_rows(rows, lo, hi, order, init),
                ROW_BLOCK,
            )
        else:
            # The lines of an earlier axis lie side by side already: each of the ``pre``
            # (n, post) slabs is filtered where it is, all ``post`` lines as lanes of a vector.
            # Splitting a slab's lanes instead (to share one slab among threads) reads each
            # row in short pieces 8 * post bytes apart: 3x slower for 512 x 512.
            slabs = coeffs.reshape(-1, post)
            pre = coeffs.size // (n * post)
            firsts = np.arange(pre, dtype=np.int64) * n
            _parallel.run_pieces(
                pre,
                coeffs.size,
                lambda lo, hi, slabs=slabs, firsts=firsts, n=n: (
                    prefilter_kernels.spline_filter_lines(slabs, firsts[lo:hi], 1, n, order, init)
                ),
            )


def _filter_rows(rows, lo, hi, order, init):
    """Filter ``rows[lo:hi]`` (float64, C-contiguous, one line per row) in place: blocks of
    rows are transposed (in cache-sized squares) so each row becomes a lane, filtered
    together, and transposed back. SciPy filters one line at a time."""
    firsts = np.zeros(1, np.int64)
    for b0 in range(lo, hi, ROW_BLOCK):
        block_rows = rows[b0 : min(b0 + ROW_BLOCK, hi)]
        block = np.empty((rows.shape[1], block_rows.shape[0]))
        tiles.plane_transpose(block_rows, block)
        prefilter_kernels.spline_filter_lines(block, firsts, 1, rows.shape[1], order, init)
        tiles.plane_transpose(block, block_rows)


def prefiltered(input: np.ndarray, order: int, mode: str, cval: float) -> tuple[np.ndarray, int]:
    """The B-spline coefficients SciPy samples for ``order``, ``mode`` and ``cval``.

    SciPy's ``_prepad_for_spline_filter`` (12 samples on every side of every axis: edge
    copies for 'nearest', ``cval`` as the input dtype stores it for 'grid-constant', none
    otherwise) followed by ``spline_filter(padded, order, output=float64, mode=mode)``.
    ``input``: a real ndarray of any dimension, dtype and layout (validated by the caller);
    ``order`` 0-5; ``mode`` one of SciPy's eight names; ``cval`` a float.

    Returns ``(coefficients, npad)``: float64, C-contiguous, of the padded shape, and the pad
    width (12 or 0). For orders 0 and 1 SciPy samples the input itself: the coefficients
    are then the input as float64 (the input array itself when it already is float64 and
    C-contiguous, so callers must not write into it) and ``npad`` is 0.
    """
    arr = np.asarray(input)
    if order < 2:
        return np.ascontiguousarray(arr, dtype=np.float64), 0
    code = MODES[mode]
    npad = prepad_width(order, code, True)
    coeffs = np.empty(tuple(s + 2 * npad for s in arr.shape))
    if npad:
        _prepad(coeffs, arr, npad, code, cval)
    else:
        coeffs[...] = arr
    filter_axes(coeffs, order, PREFILTER_INIT[code], range(arr.ndim))
    return coeffs, npad


def coefficients(input: np.ndarray, interp: Interp) -> np.ndarray:
    """What SciPy samples for ``interp``: the pre-padded (by ``interp.npad``) B-spline
    coefficients (:func:`prefiltered`) where it prefilters, else the input itself."""
    if interp.filtered:
        return prefiltered(input, interp.order, interp.mode, interp.cval)[0]
    return input


def _prepad(coeffs, arr, npad, code, cval):
    """``coeffs[...] = np.pad(arr, npad, ...)`` as SciPy pads: 'edge' for 'nearest',
    ``cval`` (cast to the input dtype, as np.pad stores it) for 'grid-constant'."""
    interior = tuple(slice(npad, npad + s) for s in arr.shape)
    if code != boundary.NEAREST:
        coeffs[...] = pad_value(cval, arr.dtype)
        coeffs[interior] = arr
        return
    if 0 in arr.shape:
        raise ValueError("can't extend empty axis using modes other than 'constant' or 'empty'")
    coeffs[interior] = arr
    # Axis by axis over the whole extent of the others, so corners repeat the corner values.
    for axis, s in enumerate(arr.shape):
        before = [slice(None)] * arr.ndim
        after = [slice(None)] * arr.ndim
        edge_lo = [slice(None)] * arr.ndim
        edge_hi = [slice(None)] * arr.ndim
        before[axis] = slice(0, npad)
        after[axis] = slice(npad + s, None)
        edge_lo[axis] = slice(npad, npad + 1)
        edge_hi[axis] = slice(npad + s - 1, npad + s)
        coeffs[tuple(before)] = coeffs[tuple(edge_lo)]
        coeffs[tuple(after)] = coeffs[tuple(edge_hi)]


def filter_into(arr, out, order, mode_code, axes):
    """SciPy's ``spline_filter1d`` along each of ``axes`` in turn, from ``arr`` (real, any
    dtype the kernels read) into ``out`` (real, same shape, any layout), in place when
    ``out`` is ``arr``.

    As in SciPy, each pass's result is stored in ``out``'s dtype and the next pass reads
    it back from there (``spline_filter``'s note on limited-precision outputs), with C's
    conversion of a double (:func:`store_c_cast`). float64 outputs hold every pass exactly,
    so those are filtered in one buffer, ``out`` itself when it is C-contiguous.
    """
    init = PREFILTER_INIT[mode_code]
    exact = out.dtype.kind == "f" and out.dtype.itemsize == 8
    direct = exact and out.dtype.isnative and out.flags.c_contiguous
    work = out if direct else np.empty(arr.shape)
    work[...] = arr
    axes = list(axes)
    for i, axis in enumerate(axes):
        filter_axes(work, order, init, [axis])
        if not exact and i < len(axes) - 1:
            store_c_cast(out, work)
            # read back as SciPy reads it: a bool element's byte as stored (2 stays 2.0)
            work[...] = out.view(np.uint8) if out.dtype.kind == "b" else out
    if not direct:
        store_c_cast(out, work)


def store_c_cast(out, values):
    """``out[...] = values`` (float64) converted as C converts a double, which SciPy's line
    buffers do when they store a filtered line (``NI_LineBufferToArray``): floats round to
    nearest; integers truncate, out-of-range values wrapping as the x86 instructions leave
    them (NumPy's casts do the same, except for uint32, which C converts through int64);
    bool is C's ``unsigned char`` conversion (0.5 -> False, 256.0 -> False)."""
    with np.errstate(invalid="ignore", over="ignore"):
        if out.dtype.kind == "b":
            out.view(np.uint8)[...] = values
        elif out.dtype.kind == "u" and out.dtype.itemsize == 4:
            out[...] = values.astype(np.int64)
        else:
            out[...] = values
