"""The N-D executor of SciPy's ``NI_GeometricTransform``: coefficients sampled at points.

A coordinate source (an affine matrix and offset, or an explicit coordinate array) gives
each output point its input coordinates; :mod:`fastaug.kernels.gather_points` interpolates
there. Points are processed in chunks shared among fastaug's threads; each chunk is
interpolated into a float64 buffer, then stored into the output with SciPy's casts (one
small store kernel per output dtype: the interpolation compiles once).

Callers pass validated arguments (:mod:`fastaug._validation` checks the public ones).
"""

import numpy as np

from ._parallel import run_tiles
from .kernels import gather_points, stores
from .kernels.boundary import GRID_CONSTANT
from .resampling import cast_rule

#: Output points per chunk: a chunk's coordinates and values stay in L1/L2, and a large
#: call still makes many chunks for the threads to share.
CHUNK = 2048


def _kernel_dims(shape):
    """The coefficients' shape as the kernel reads it: int64, leading 1s up to 3 axes."""
    return np.array((1,) * (3 - len(shape)) + tuple(shape), np.int64)


def _destination(out, coefficients):
    """``(dest, finish)``: a native-order, C-contiguous ``(1, 1, P)`` array the store
    writes (``out``'s own memory where possible, not overlapping the coefficients) and what
    then completes ``out``."""
    if (
        out.flags.c_contiguous
        and out.dtype.isnative
        and not (out.size and np.may_share_memory(out, coefficients))
    ):
        return out.reshape(1, 1, -1), lambda: None
    scratch = np.empty((1, 1, out.size), out.dtype.newbyteorder("="))

    def finish():
        out[...] = scratch.reshape(out.shape)

    return scratch, finish


def sample(coefficients, interp, out, *, matrix=None, offset=None, coordinates=None):
    """Interpolate ``coefficients`` (:func:`fastaug.splines.coefficients`: the pre-padded
    input's spline coefficients, or the raw input: any real dtype and layout, read as
    float64) by ``interp`` (:class:`fastaug.resampling.Interp`) into every point of ``out``
    (any real dtype the kernels store, any layout).

    The points' input coordinates come from ``coordinates`` (float64 C-contiguous ``(rank,
    P)``), or from ``matrix`` (float64 ``(rank, out.ndim)``) and ``offset`` (``(rank,)``):
    SciPy's affine map (:func:`kernels.gather_points.geometric_coordinates`).
    """
    n_points = out.size
    if n_points == 0:
        return out
    coefficients = np.ascontiguousarray(coefficients, dtype=np.float64)
    dims = _kernel_dims(coefficients.shape)
    flat = coefficients.reshape(-1)
    order, mode, cval, npad = interp.order, interp.code, interp.cval, interp.npad
    if mode == GRID_CONSTANT:
        # taps outside read one more element, cval (see kernels.gather_points.geometric_gather)
        flat = np.append(flat, cval)
    dest, finish = _destination(out, coefficients)
    cast = cast_rule(dest.dtype)
    affine = coordinates is None
    if affine:
        out_dims = np.array(out.shape, np.int64)
        rank = matrix.shape[0]
    chunk = min(CHUNK, n_points)
    nearest = order == 0 and mode != GRID_CONSTANT  # one tap per point: a kernel of its own

    def worker(claim):
        values = np.empty((1, chunk))
        points = np.empty((rank, chunk)) if affine else coordinates
        while (t := claim()) is not None:
            p0 = t * chunk
            n = min(chunk, n_points - p0)
            if affine:
                if n < chunk:
                    points = points[:, :n].copy()
                gather_points.geometric_coordinates(matrix, offset, out_dims, p0, points)
                first = 0
            else:
                first = p0
            part = values if n == chunk else values[:, :n]
            if nearest:
                gather_points.geometric_nearest(flat, dims, points, first, mode, cval, npad, part)
            else:
                gather_points.geometric_gather(
                    flat, dims, points, first, order, mode, cval, npad, part
                )
            stores.planes_store(part, dest[:, :, p0 : p0 + n], 0, 1, *cast)

    n_chunks = -(-n_points // chunk)
    if n_chunks == 1:  # a small call: no hand-out to threads
        worker(iter((0, None)).__next__)
    else:
        run_tiles(n_chunks, worker)
    finish()
    return out
