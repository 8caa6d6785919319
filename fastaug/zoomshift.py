"""Separable resampling: SciPy's ``NI_ZoomShift`` on fastaug's kernels.

:func:`zoom_shift` is the engine behind ``zoom``, ``shift`` and SciPy's diagonal-matrix
branch of ``affine_transform``; :func:`zoom_output_shape` and :func:`zoom_factors` are
``zoom``'s own formulas. Arithmetic in :mod:`fastaug.kernels.gather_separable`.
"""

import numpy as np

from . import _parallel
from .kernels import gather_separable, stores
from .resampling import Interp, cast_rule

#: Output rows gathered per piece handed to a thread (each piece is one kernel call).
ROWS_PER_PIECE = 16


def zoom_output_shape(in_shape, zooms):
    """``zoom``'s output shape: each length times its factor, rounded as Python's ``round``
    does (half to even), as SciPy computes it (NaN, infinite or non-numeric factors raise
    there, as in SciPy)."""
    return tuple(int(round(n * z)) for n, z in zip(in_shape, zooms))


def zoom_factors(in_shape, out_shape, grid_mode):
    """SciPy's per-axis zoom factor: ``(in - 1) / (out - 1)`` (sample centres aligned at the
    edges), or ``in / out`` with ``grid_mode`` (pixel edges aligned); 1.0 where the divisor
    is 0 (an output of one sample, or none)."""
    numerator = np.array(in_shape, dtype=np.int64)
    divisor = np.array(out_shape, dtype=np.int64)
    if not grid_mode:
        numerator -= 1
        divisor -= 1
    return np.divide(numerator, divisor, out=np.ones(len(in_shape)), where=divisor != 0)


def zoom_shift(
    filtered: np.ndarray,
    zoom: np.ndarray | None,
    shift: np.ndarray | None,
    output: np.ndarray,
    interp: Interp,
    grid_mode: bool,
) -> np.ndarray:
    """SciPy's ``_nd_image.zoom_shift``: resample ``filtered`` separably into ``output``.

    The input coordinate along axis ``d`` of output index ``i`` is ``(i + shift[d]) *
    zoom[d]`` (``((i + shift[d]) + 0.5) * zoom[d] - 0.5`` with ``grid_mode``), then ``+
    npad``; every value is the spline of ``order`` through ``filtered`` there, with SciPy's
    boundary rules for ``mode`` and its summation order, stored with SciPy's rounding.

    Arguments are validated values (the public functions check them):

    * ``filtered``: real ndarray, 1-D or more: the coefficients (``splines.prefiltered``:
      float64, C-contiguous, pre-padded by ``npad``), or the raw input (any real dtype the
      kernels read, any layout) for orders 0-1 and ``prefilter=False`` (``npad`` 0).
    * ``zoom``, ``shift``: float64 ``(ndim,)`` or None (SciPy's NULL: factor 1, shift 0;
      ``grid_mode`` only applies with a ``zoom``). ``shift`` is the one *added* to the output
      index: ``shift()`` passes minus its argument, ``affine_transform`` ``offset / diag``.
    * ``output``: a real ndarray of the output shape and a dtype the kernels store (any
      layout or byte order); written and returned.
    * ``interp``: the :class:`fastaug.resampling.Interp`; ``filtered`` is pre-padded by its
      ``npad``.
    """
    if output.size == 0:
        return output
    order, code, cval, npad = interp.order, interp.code, interp.cval, interp.npad
    coeffs = np.ascontiguousarray(filtered, dtype=np.float64)
    ndim = coeffs.ndim
    grid_mode = bool(grid_mode) and zoom is not None
    zoom = np.ones(ndim) if zoom is None else zoom
    shift = np.zeros(ndim) if shift is None else shift
    slots = max(ndim, 3)
    lead = slots - ndim  # leading axes of one sample (1-D and 2-D run as 3-D)
    out_shape = (1,) * lead + output.shape
    k = order + 1
    taps = np.zeros((slots, max(out_shape), k), np.int64)
    weights = np.zeros((slots, max(out_shape), k))
    cval_row = np.zeros((slots, max(out_shape)), np.bool_)
    ks = np.ones(2 * slots, np.int64)
    ks[slots:] = out_shape
    weights[:lead, 0, 0] = 1.0
    for d in range(ndim):
        gather_separable.separable_axis_table(
            coeffs.shape[d],
            float(shift[d]),
            float(zoom[d]),
            grid_mode,
            npad,
            order,
            code,
            taps[lead + d, : out_shape[lead + d]],
            weights[lead + d, : out_shape[lead + d]],
            cval_row[lead + d, : out_shape[lead + d]],
        )
        ks[lead + d] = k
    direct = output.dtype == np.float64 and output.flags.c_contiguous
    if direct or (output.flags.c_contiguous and output.dtype.isnative):
        dest = output
    else:
        dest = np.empty(output.shape, output.dtype.newbyteorder("="))
    if ndim > 3:
        values = dest.reshape(-1) if direct else np.empty(output.size)
        in_shape = np.array(coeffs.shape, np.int64)
        gather_separable.separable_gather_nd(
            coeffs.reshape(-1), in_shape, taps, weights, cval_row, ks, cval, values
        )
        if not direct:
            stores.planes_store(
                values.reshape(1, -1), dest.reshape(1, 1, -1), 0, 1, *cast_rule(dest.dtype)
            )
    else:
        row_ks = np.concatenate([ks[:3], out_shape[1:]])
        tables = (taps, weights, cval_row, row_ks, cval)
        _gather_rows(coeffs.reshape((1,) * lead + coeffs.shape), out_shape, dest, direct, tables)
    if dest is not output:
        output[...] = dest
    return output


def _gather_rows(coeffs3, out_shape, dest, direct, tables):
    """Output rows (over the first two of three axes) in pieces, on fastaug's threads when
    the work is large: straight into ``dest`` (float64), or through a float64 buffer and
    the store kernel (SciPy's rounding)."""
    taps, weights, cval_row, ks, cval = tables
    n_rows, length = out_shape[0] * out_shape[1], out_shape[2]
    rows = dest.reshape(n_rows, length)
    row_stores = dest.reshape(n_rows, 1, length)
    cast = cast_rule(dest.dtype)

    def run(lo, hi):
        if direct:
            gather_separable.separable_gather(
                coeffs3, taps, weights, cval_row, ks, cval, lo, rows[lo:hi]
            )
            return
        for r0 in range(lo, hi, ROWS_PER_PIECE):
            r1 = min(r0 + ROWS_PER_PIECE, hi)
            values = np.empty((r1 - r0, length))
            gather_separable.separable_gather(
                coeffs3, taps, weights, cval_row, ks, cval, r0, values
            )
            stores.planes_store(values, row_stores, r0, r1 - r0, *cast)

    work = dest.size * int(np.prod(ks[:3]))
    _parallel.run_pieces(n_rows, work, run, ROWS_PER_PIECE)
