"""The CPU executor: every resampling plan runs here.

A plan is plain data decided on the host (:mod:`fastaug.resampling`: an :class:`Interp`
and a coordinate source; :mod:`fastaug.plan`: the tap tables of a fixed matrix). This module
owns what running one takes: the layout the kernels read, tiles and chunks handed to
fastaug's threads (:mod:`fastaug._parallel`), per-thread buffers, the destination (the
output's own memory, or a scratch array copied over) and SciPy's stores. Its verbs, one per
coordinate source, as SciPy's ``NI_GeometricTransform`` and ``NI_ZoomShift``:

* :func:`apply_plans`: batches of 2-D planes through the tap tables of one or more fixed
  matrices (``rotate``, ``augment``, repeated ``affine_transform`` calls), tile by tile;
  :func:`single_image_call` for one image;
* :func:`resample_each`: 2-D planes, each by its own matrix and offset (``rotate_each``,
  ``affine_each``, the transforms);
* :func:`sample_points`: N-D points from a matrix and offset or explicit coordinates
  (``affine_transform``, ``map_coordinates``, volumes);
* :func:`zoom_shift`: separable maps (``zoom``, ``shift``, diagonal ``affine_transform``).

Callers pass validated arguments. The kernels are :mod:`fastaug.kernels`; a second backend
(numba-cuda) is to offer the same verbs over the same scalar arithmetic.
"""

import functools
import math
import threading

import numpy as np

from .. import _parallel, settings, splines
from .. import _validation as v
from .._parallel import run_tiles
from ..kernels import gather_points, gather_separable, gather_tiles, stores, tiles
from ..kernels import prefilter as prefilter_kernels
from ..kernels.boundary import GRID_CONSTANT
from ..resampling import Coordinates, Interp, Separable, cast_rule


def resample(resampling, input, out):
    """``input`` (one real array: any dtype the kernels read, any layout) resampled by
    ``resampling`` (a whole-array :class:`~fastaug.resampling.Resampling`) into ``out`` (a
    real array of its output shape, any layout): SciPy's pre-pad and prefilter where it
    applies them, then the gather of the plan's coordinate source."""
    interp, source = resampling.interp, resampling.source
    coefficients = splines.coefficients(input, interp)
    if isinstance(source, Separable):
        return zoom_shift(coefficients, source.zoom, source.shift, out, interp, source.grid_mode)
    if isinstance(source, Coordinates):
        return sample_points(coefficients, interp, out, coordinates=source.points)
    matrix, offset = source.matrices[0], source.offsets[0]
    return sample_points(coefficients, interp, out, matrix=matrix, offset=offset)


def _tile_store(cast):
    """The tile store kernel for ``cast`` (:func:`cast_rule`): 64-bit integers have one
    apart, so the others never compile it."""
    return stores.tile_store_64 if cast[0] in _CASTS_64 else stores.tile_store


def _planes_store(cast):
    """:func:`_tile_store` for planes."""
    return stores.planes_store_64 if cast[0] in _CASTS_64 else stores.planes_store


_CASTS_64 = (stores.CAST_UINT64, stores.CAST_INT64)


def stored_as(values, dtype):
    """float64 ``values`` (``(N, ...)``) as a new array of ``dtype``, stored by SciPy's
    casts (integers rounded half away from zero and clipped, bool as C converts)."""
    n, size = values.shape[0], math.prod(values.shape[1:])
    flat = np.ascontiguousarray(values, dtype=np.float64).reshape(n, size)
    out = np.empty(values.shape, dtype)
    cast = cast_rule(dtype)
    _planes_store(cast)(flat, out.reshape(n, 1, size), 0, n, *cast)
    return out


def _as_batch(arr, axes):
    """``arr`` as a C-contiguous native-order ``(B, H, W)`` with the plane of ``axes`` last.

    A copy only for other layouts: one memory layout keeps the kernel fast and compiled once.
    """
    if axes != (arr.ndim - 2, arr.ndim - 1):
        arr = np.moveaxis(arr, axes, (-2, -1))
    # The batch size is explicit: -1 is ambiguous for an empty plane.
    batch = np.ascontiguousarray(arr.reshape((math.prod(arr.shape[:-2]),) + arr.shape[-2:]))
    return v.kernel_ready(batch)


def _pixels_view(out, axes):
    """``(moved, target)``: ``out`` with the plane of ``axes`` last, and the same memory as a
    ``(B, 1, P)`` view, or None where no such view exists (the kernels then write a scratch
    array that is copied into ``moved``)."""
    moved = out if axes == (out.ndim - 2, out.ndim - 1) else np.moveaxis(out, axes, (-2, -1))
    target = moved.reshape((math.prod(moved.shape[:-2]), 1, moved.shape[-2] * moved.shape[-1]))
    if target.size and not np.may_share_memory(target, moved):
        target = None  # reshape had to copy
    return moved, target


@functools.lru_cache(maxsize=16)
def _tile_setup(plans, input_dtype):
    """The ``TileSetup`` of ``plans`` (a tuple sharing one input side) for an input
    dtype; rows any of them reads are the only ones the row pass filters."""
    rows_read = np.logical_or.reduce([p.rows_read for p in plans])
    return plans[0].resampling.tile_setup(input_dtype, rows_read)


def apply_plans(plans, images, out, axes, out_index=None):
    """Run the kernels: ``images`` rotated by every plan (same input side) into ``out``.

    ``out_index`` (optional) maps to a ``(B, A, P)`` view of ``out``; by default ``out`` has
    ``images``' shape with the rotated plane in ``axes`` and a single plan.
    """
    first = plans[0]
    batch = _as_batch(images, axes)
    dest, finish = _destination(out, axes, out_index, batch, len(plans), first.taps.shape[0])
    if batch.shape[0] == 1 and len(plans) == 1 and not settings.FORCE_SLOW_PATH:
        single_image_call(first, batch.dtype, dest.dtype)(batch[0], dest)
    else:
        resample_tiles(
            batch, dest, _tile_setup(tuple(plans), batch.dtype), _angle_gather(tuple(plans))
        )
    finish()
    return out


def resample_each(images, axes, resampling, out):
    """Plane ``i`` of ``images`` (the planes in ``axes``, the other axes batch axes in C
    order) resampled by ``resampling``'s matrix and offset ``i`` into ``out`` (same shape).

    Tile by tile on fastaug's threads. Each plane is gathered alone from contiguous
    coefficients (:func:`kernels.gather_tiles.planes_gather_affine`): unfiltered planes are
    copied in as they are; prefiltered ones go through the lane-interleaved tile the
    prefilter needs, then are turned back into planes.
    """
    batch = _as_batch(images, axes)
    n, height, width = batch.shape
    dest, finish = _destination(out, axes, None, batch, 1, height * width)
    if n == 0:
        return
    setup = resampling.tile_setup(batch.dtype)
    npad, order, mode, cval = setup.npad, setup.order, resampling.interp.code, setup.cval
    matrices, offsets = resampling.source
    coefficients = setup.rows * setup.cols + 1  # the last one holds cval
    prefiltered = npad > 0 or setup.prefilter_init >= 0
    tile = 1 if settings.FORCE_SLOW_PATH else min(tiles.TILE, n)
    cast = cast_rule(dest.dtype)
    gather, store = gather_tiles.planes_gather_affine, _planes_store(cast)

    def worker(claim):
        planes = _thread_buffer("planes", (tile, coefficients))
        planes[:, -1] = cval
        values = _thread_buffer("plane values", (tile, height * width))
        if prefiltered:
            c = _thread_buffer("tile", (coefficients, tile))
            c[-1] = cval
        while (t := claim()) is not None:
            b0 = t * tile
            lanes = min(tile, n - b0)
            if prefiltered:
                tiles.tile_load(batch, b0, lanes, npad, c)
                _prepare_tile(c, setup)
                tiles.plane_transpose(c, planes[:lanes])
            else:
                planes[:lanes, :-1] = batch[b0 : b0 + lanes].reshape(lanes, -1)
            gather(
                planes,
                lanes,
                matrices[b0 : b0 + lanes],
                offsets[b0 : b0 + lanes],
                height,
                width,
                npad,
                order,
                mode,
                cval,
                values,
            )
            store(values, dest, b0, lanes, *cast)

    run_tiles(-(-n // tile), worker)
    finish()


def _destination(out, axes, out_index, batch, slots, pixels):
    """``(dest, finish)``: the ``(B, slots, pixels)`` array the kernels write, and what then
    completes ``out``. ``dest`` is ``out``'s own memory (``out_index``, else a view of
    ``out`` with the plane of ``axes`` last) where such a view exists, has native byte order
    and does not overlap the input ``batch``; otherwise a scratch array copied over by
    ``finish``."""
    if out_index is None:
        moved, target = _pixels_view(out, axes)
    else:
        moved, target = out_index, out_index
    if (
        target is not None
        and target.dtype.isnative
        and not (target.size and np.may_share_memory(target, batch))
    ):
        return target, lambda: None
    scratch = np.empty((batch.shape[0], slots, pixels), dtype=moved.dtype.newbyteorder("="))

    def finish():
        moved[...] = scratch.reshape(moved.shape)

    return scratch, finish


def _prepare_tile(c, setup):
    """Pad a loaded tile and turn it into B-spline coefficients (orders > 1, prefiltered)."""
    height, width, npad, pad_edge = setup.height, setup.width, setup.npad, setup.pad_edge
    tiles.tile_pad(c, height, width, npad, pad_edge, setup.pad_value, setup.cval, False)
    init, order = setup.prefilter_init, setup.order
    if init < 0:
        return
    rows, cols = setup.rows, setup.cols
    prefilter_kernels.spline_filter_lines(c, setup.column_firsts, cols, rows, order, init)
    if npad:
        tiles.tile_pad_columns(c, height, width, npad, pad_edge, setup.row_needed)
    prefilter_kernels.spline_filter_lines(c, setup.row_firsts, 1, cols, order, init)


@functools.lru_cache(maxsize=16)
def _angle_gather(plans):
    """``gather(c, b0, lanes, a, values)`` for :func:`resample_tiles`: slot ``a`` is
    ``plans[a]``'s angle."""
    tables = [(p.taps, p.wy, p.wx, p.outside) for p in plans]
    order, cval = plans[0].order, plans[0].cval
    gather = gather_tiles.tile_gather

    def gather_angle(c, b0, lanes, a, values):
        taps, wy, wx, outside = tables[a]
        gather(c, taps, wy, wx, outside, order, cval, values)

    return gather_angle


#: Tile buffers up to this size stay with their thread between calls: allocating them anew
#: costs fresh pages each call where large allocations are returned to the system at once
#: (Dask workers set MALLOC_TRIM_THRESHOLD_: 2048 images took 12.5 ms instead of 10.5).
KEEP_TILE_BYTES = 16 << 20
_tile_buffers = threading.local()


def _thread_buffer(name, shape):
    """A float64 array of ``shape`` for this thread's use during one call: the one kept
    from its last call when it matches, else a new one (kept when small)."""
    kept = getattr(_tile_buffers, "arrays", None)
    if kept is None:
        kept = _tile_buffers.arrays = {}
    array = kept.get(name)
    if array is None or array.shape != shape:
        array = np.empty(shape)
        if array.nbytes <= KEEP_TILE_BYTES:
            kept[name] = array
    return array


def resample_tiles(batch, dest, setup, gather):
    """Tile by tile: load ``batch`` (C-contiguous ``(B, H, W)``), prepare per ``setup``
    (``TileSetup``), then for each output slot ``a`` of ``dest`` (``(B, A, P)``) call
    ``gather(c, b0, lanes, a, values)`` and store ``values`` into ``dest[b0:b0 + lanes, a]``.

    Tiles are shared among fastaug's threads (:mod:`fastaug._parallel`); a single image is
    one tile, run in the calling thread.
    """
    n = batch.shape[0]
    if n == 0:
        return
    tile = 1 if settings.FORCE_SLOW_PATH else min(tiles.TILE, n)
    cast = cast_rule(dest.dtype)

    load, store = tiles.tile_load, _tile_store(cast)

    # Without pre-pad or prefilter a loaded tile is ready: its cval row is set once here
    # (loads never write it), saving a kernel call per tile where tiles are cheapest.
    prepare = setup.npad > 0 or setup.prefilter_init >= 0

    def worker(claim):
        c = _thread_buffer("tile", (setup.rows * setup.cols + 1, tile))
        c[-1] = setup.cval
        values = _thread_buffer("values", (dest.shape[2], tile))
        while (t := claim()) is not None:
            b0 = t * tile
            lanes = min(tile, n - b0)
            load(batch, b0, lanes, setup.npad, c)
            if prepare:
                _prepare_tile(c, setup)
            for a in range(dest.shape[1]):
                gather(c, b0, lanes, a, values)
                store(values, dest, b0, a, lanes, *cast)

    run_tiles(-(-n // tile), worker)


#: The one line start of a whole plane filtered at once (its lines are the lanes).
_WHOLE_PLANE = np.zeros(1, np.int64)
#: Padded planes up to this many pixels keep their single-image buffers between calls (and
#: :func:`fastaug.rotate` its set-up for repeated arguments): 128 x 128, about 0.4 MB a call.
KEEP_BUFFERS_PIXELS = 1 << 14


class SingleImageCall:
    """One ``(H, W)`` image rotated by one plan, in the calling thread, with everything but
    the pixels decided: what :func:`fastaug.rotate` keeps for repeated single-image calls.

    One image alone would leave each prefilter recursion a serial chain, so it is filtered
    as a plane whose lines are the lanes: down the columns, then, turned, along the rows.
    The gather reads the turned plane through taps made for that layout, so it is never
    turned back. Buffers are kept per thread.
    """

    __slots__ = ("setup", "plan", "taps", "out_shape", "out_dtype", "cast", "_local")

    def __init__(self, plan, input_dtype, out_dtype):
        self.setup = setup = _tile_setup((plan,), input_dtype)
        self.plan = plan
        rows, cols = setup.rows, setup.cols
        taps = plan.taps
        if setup.prefilter_init >= 0 and rows * cols:  # an empty plane has only cval taps
            y, x = np.divmod(taps, cols)
            taps = np.where(taps == rows * cols, taps, x * rows + y).astype(np.int32)
            taps.flags.writeable = False  # as the plan's: the gather compiles for one type
        self.taps = taps
        self.out_shape = plan.out_shape
        self.out_dtype = out_dtype
        self.cast = cast_rule(out_dtype)
        self._local = threading.local()

    def _kernel_arguments(self):
        """Buffers inside the kernels' argument tuples. Kept per thread for images up to
        :data:`KEEP_BUFFERS_PIXELS` (a call then spends its time in the kernels, not in
        Python); made anew for larger ones, so cached calls never hold large arrays."""
        arguments = getattr(self._local, "arguments", None)
        if arguments is not None:
            return arguments
        s, plan = self.setup, self.plan
        rows, cols = s.rows, s.cols
        loaded = np.empty((rows * cols + 1, 1))
        loaded[rows * cols] = s.cval  # the cval row: loads never write it
        values = np.empty((self.taps.shape[0], 1))
        gathered, prefilter = loaded, None
        if s.prefilter_init >= 0:
            gathered = np.empty((rows * cols + 1, 1))  # the turned plane
            gathered[rows * cols] = s.cval  # the transpose leaves it too
            plane = loaded[: rows * cols].reshape(rows, cols)
            across = gathered[: rows * cols].reshape(cols, rows)
            prefilter = (
                (loaded, s.height, s.width, s.npad, s.pad_edge, s.pad_value, s.cval, True),
                (plane, _WHOLE_PLANE, 1, rows, s.order, s.prefilter_init),
                (plane, across),
                (across, _WHOLE_PLANE, 1, cols, s.order, s.prefilter_init),
            )
        # the image's place in the loaded plane (inside the pre-pad)
        interior = loaded[: rows * cols].reshape(rows, cols)
        interior = interior[s.npad : s.npad + s.height, s.npad : s.npad + s.width]
        arguments = (
            interior,
            prefilter,
            (gathered, self.taps, plan.wy, plan.wx, plan.outside, s.order, s.cval, values),
            values,
            (1, 1, values.shape[0]),
        )
        if rows * cols <= KEEP_BUFFERS_PIXELS:
            self._local.arguments = arguments
        return arguments

    def __call__(self, image, out=None):
        """Rotate ``image`` (C-contiguous, native order, the input dtype) into ``out`` (any
        array of the output dtype whose ``reshape(1, 1, -1)`` is a view) or a new array.
        Without a prefilter the loaded plane is ready as it is (no pre-pad either)."""
        interior, prefilter, gather, values, out_pixels = self._kernel_arguments()
        # One image is loaded and (to floats) stored by NumPy: the same C conversions as the
        # kernels', at a sixth and a third of their call's cost (0.3 and 0.6 us for 28 x 28).
        interior[...] = image
        if prefilter is not None:
            pad, columns_pass, turn, rows_pass = prefilter
            tiles.tile_pad(*pad)
            prefilter_kernels.spline_filter_lines(*columns_pass)
            tiles.plane_transpose(*turn)
            prefilter_kernels.spline_filter_lines(*rows_pass)
        gather_tiles.tile_gather(*gather)
        if self.cast[0] == stores.CAST_FLOAT:
            if out is None:
                return values.reshape(self.out_shape).astype(self.out_dtype)
            np.copyto(out.reshape(out_pixels), values.reshape(out_pixels))
            return out
        if out is None:
            out = np.empty(self.out_shape, self.out_dtype)
        _tile_store(self.cast)(values, out.reshape(out_pixels), 0, 0, 1, *self.cast)
        return out


#: Shared single-image calls, by (plan, input dtype, output dtype).
single_image_call = functools.lru_cache(maxsize=64)(SingleImageCall)


#: Output points per chunk: a chunk's coordinates and values stay in L1/L2, and a large
#: call still makes many chunks for the threads to share.
CHUNK = 2048


def _kernel_dims(shape):
    """The coefficients' shape as the kernel reads it: int64, leading 1s up to 3 axes."""
    return np.array((1,) * (3 - len(shape)) + tuple(shape), np.int64)


def _writable(out, source):
    """``(dest, finish)``: a native-order, C-contiguous ``(1, 1, P)`` array the stores
    write (``out``'s own memory where possible, not overlapping ``source``) and what then
    completes ``out``."""
    if (
        out.flags.c_contiguous
        and out.dtype.isnative
        and not (out.size and np.may_share_memory(out, source))
    ):
        return out.reshape(1, 1, -1), lambda: None
    scratch = np.empty((1, 1, out.size), out.dtype.newbyteorder("="))

    def finish():
        out[...] = scratch.reshape(out.shape)

    return scratch, finish


def sample_points(coefficients, interp, out, *, matrix=None, offset=None, coordinates=None):
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
    dest, finish = _writable(out, coefficients)
    cast = cast_rule(dest.dtype)
    store = _planes_store(cast)
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
            store(part, dest[:, :, p0 : p0 + n], 0, 1, *cast)

    n_chunks = -(-n_points // chunk)
    if n_chunks == 1:  # a small call: no hand-out to threads
        worker(iter((0, None)).__next__)
    else:
        run_tiles(n_chunks, worker)
    finish()
    return out


#: Output rows gathered per piece handed to a thread (each piece is one kernel call).
ROWS_PER_PIECE = 16


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
            cast = cast_rule(dest.dtype)
            _planes_store(cast)(values.reshape(1, -1), dest.reshape(1, 1, -1), 0, 1, *cast)
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
            _planes_store(cast)(values, row_stores, r0, r1 - r0, *cast)

    work = dest.size * int(np.prod(ks[:3]))
    _parallel.run_pieces(n_rows, work, run, ROWS_PER_PIECE)
