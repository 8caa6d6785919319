"""AffinePlan and RotationPlan: everything about a resampling that does not depend on the
pixels.

For a fixed in-plane shape, matrix and offset (a rotation: angle and reshape), output
shape, order, mode, cval and prefilter, the source coordinates and spline weights of every
output pixel are fixed. A plan computes them once
(with SciPy's exact host-side arithmetic for the matrix and offset) and then streams any
number of images through the batch kernel.
"""

import functools
import math
import os
import threading

import numpy as np
import numpy.typing as npt

from . import _validation as v
from ._parallel import run_tiles
from .geometry import rotation_geometry
from .kernels import gather_tiles, stores, tiles
from .kernels import prefilter as prefilter_kernels
from .resampling import Resampling, cast_rule


class AffinePlan:
    """A precomputed affine resampling of ``(H, W)`` planes, applied to whole batches:
    SciPy's ``affine_transform`` of each plane, the input read at ``matrix @ o + offset``
    for every output index ``o`` of an ``out_shape`` plane.

    Parameters
    ----------
    shape : tuple of 2 ints
        In-plane input shape ``(H, W)`` (rows, columns), non-negative integers. An empty
        plane is refused in modes other than 'constant' and 'grid-constant' when its output
        is not empty, and in 'nearest' with a prefilter, as SciPy cannot resample it there.
    matrix : array_like
        The ``(2, 2)`` pull-back matrix (output ``(row, col)`` -> input).
    offset : array_like
        The ``(2,)`` offset added to every input coordinate.
    out_shape : tuple of 2 ints, optional
        In-plane output shape (default: ``shape``).
    order, mode, cval, prefilter
        As in :func:`fastaug.affine_transform`.

    Calling ``plan(images, output=None, axes=(-2, -1))`` resamples every ``(H, W)`` plane
    of ``images`` lying in ``axes``; all other axes are batch axes, handled in one kernel
    call. Plans are immutable, picklable, and report their memory as ``nbytes``; the tap
    tables take about 200 bytes per output pixel at order 3.
    """

    __slots__ = (
        "shape",
        "order",
        "mode",
        "cval",
        "prefilter",
        "out_shape",
        "matrix",
        "offset",
        "npad",
        "taps",
        "wy",
        "wx",
        "outside",
        "rows_read",
        "resampling",
    )

    def __init__(
        self,
        shape: tuple[int, int],
        matrix: npt.ArrayLike,
        offset: npt.ArrayLike,
        out_shape: tuple[int, int] | None = None,
        *,
        order: int = 3,
        mode: str = "constant",
        cval: float = 0.0,
        prefilter: bool = True,
    ):
        shape = v.plane_shape(shape)
        out_shape = shape if out_shape is None else v.plane_shape(out_shape, "out_shape")
        matrix = np.array(matrix, dtype=np.float64)  # a copy: the plan keeps it read-only
        offset = np.array(offset, dtype=np.float64)
        if matrix.shape != (2, 2) or offset.shape != (2,):
            raise ValueError(
                "matrix must have shape (2, 2) and offset shape (2,); got "
                f"{matrix.shape} and {offset.shape}"
            )
        interp = v.interpolation(order, mode, cval, prefilter)
        set_ = object.__setattr__
        set_(self, "shape", shape)
        for name, value in zip(interp._fields, interp):
            set_(self, name, value)
        code = interp.code
        v.empty_plane(shape, out_shape, mode, interp.order, interp.prefilter)
        resampling = Resampling(shape, out_shape, interp, matrix, offset)
        npad = interp.npad
        rows, cols = shape[0] + 2 * npad, shape[1] + 2 * npad
        n_out = out_shape[0] * out_shape[1]
        k = self.order + 1
        taps = np.empty((n_out, k * k), np.int32)
        wy = np.empty((n_out, k))
        wx = np.empty((n_out, k))
        outside = np.empty(n_out, np.bool_)
        gather_tiles.affine_taps(
            matrix,
            offset,
            out_shape[0],
            out_shape[1],
            rows,
            cols,
            npad,
            self.order,
            code,
            taps,
            wy,
            wx,
            outside,
        )
        # Coefficient rows any tap reads: only those need the row pass of the prefilter.
        rows_read = np.zeros(rows, np.bool_)
        read = taps[~outside]
        rows_read[np.unique(read[read < rows * cols] // cols)] = True
        for name, value in (
            ("out_shape", out_shape),
            ("matrix", matrix),
            ("offset", offset),
            ("npad", npad),
            ("taps", taps),
            ("wy", wy),
            ("wx", wx),
            ("outside", outside),
            ("rows_read", rows_read),
            ("resampling", resampling),
        ):
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
            set_(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _interpolation(self):
        """``(order, mode, cval, prefilter)``, as the constructors take them."""
        return tuple(self.resampling.interp)

    def __reduce__(self):
        arguments = (self.shape, self.matrix, self.offset, self.out_shape)
        return _rebuild_affine_plan, arguments + self._interpolation()

    def __repr__(self):
        return (
            f"AffinePlan(shape={self.shape}, matrix={self.matrix.tolist()}, "
            f"offset={self.offset.tolist()}, out_shape={self.out_shape}, order={self.order}, "
            f"mode={self.mode!r}, cval={self.cval!r}, prefilter={self.prefilter}), "
            f"{self.nbytes} bytes"
        )

    @property
    def nbytes(self):
        """Bytes held by the precomputed arrays."""
        return sum(
            a.nbytes
            for a in (
                self.matrix,
                self.offset,
                self.taps,
                self.wy,
                self.wx,
                self.outside,
                self.rows_read,
            )
        )

    def __call__(self, images, output=None, axes=(-2, -1)):
        arr = v.input_array(images, "images")
        axes = v.plane_axes(axes, arr.ndim)
        if (arr.shape[axes[0]], arr.shape[axes[1]]) != self.shape:
            raise ValueError(
                f"images have plane shape {(arr.shape[axes[0]], arr.shape[axes[1]])}"
                f" in axes {axes}; this plan is for {self.shape}"
            )
        out_shape = list(arr.shape)
        out_shape[axes[0]], out_shape[axes[1]] = self.out_shape
        out = v.output_array(output, arr, tuple(out_shape), complex_output=arr.dtype.kind == "c")
        if arr.dtype.kind == "c":
            # SciPy resamples the real and imaginary parts separately, each with its part
            # of cval.
            imag_plan = cached_affine_plan(
                self.shape,
                self.matrix,
                self.offset,
                self.out_shape,
                self.resampling.interp._replace(cval=float(np.imag(self.cval))),
            )
            apply_plans((self,), arr.real, out.real, axes)
            apply_plans((imag_plan,), arr.imag, out.imag, axes)
        else:
            apply_plans((self,), arr, out, axes)
        return out


class RotationPlan(AffinePlan):
    """A precomputed rotation of ``(H, W)`` planes by one angle, applied to whole batches:
    SciPy's rotation geometry (:func:`fastaug.geometry.rotation_geometry`) and an
    :class:`AffinePlan`, as SciPy's ``rotate`` calls ``affine_transform``.

    Parameters
    ----------
    shape : tuple of 2 ints
        In-plane input shape ``(H, W)``, as for :class:`AffinePlan`.
    angle : float
        Degrees; positive is counter-clockwise with row 0 at the top (SciPy's convention).
    reshape, order, mode, cval, prefilter
        As in :func:`fastaug.rotate`.

    Calling ``plan(images, output=None, axes=(-2, -1))`` rotates every ``(H, W)`` plane of
    ``images`` lying in ``axes``; all other axes are batch axes, handled in one kernel call.
    Plans are immutable, picklable, and report their memory as ``nbytes``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastaug import RotationPlan
    >>> plan = RotationPlan((28, 28), 15, reshape=False, mode="nearest")
    >>> plan(np.zeros((10, 28, 28), np.float32)).shape
    (10, 28, 28)
    """

    __slots__ = ("angle", "reshape")

    def __init__(
        self, shape, angle, *, reshape=True, order=3, mode="constant", cval=0.0, prefilter=True
    ):
        shape = v.plane_shape(shape)
        object.__setattr__(self, "angle", v.finite_angle(angle))
        object.__setattr__(self, "reshape", bool(reshape))
        matrix, offset, out_shape = rotation_geometry(shape, self.angle, self.reshape)
        super().__init__(
            shape, matrix, offset, out_shape, order=order, mode=mode, cval=cval, prefilter=prefilter
        )

    def __reduce__(self):
        return _rebuild_plan, (self.shape, self.angle, self.reshape) + self._interpolation()

    def __repr__(self):
        return (
            f"RotationPlan(shape={self.shape}, angle={self.angle!r}, "
            f"reshape={self.reshape}, order={self.order}, mode={self.mode!r}, "
            f"cval={self.cval!r}, prefilter={self.prefilter}) -> {self.out_shape}, "
            f"{self.nbytes} bytes"
        )


def _rebuild_plan(shape, angle, reshape, order, mode, cval, prefilter):
    return RotationPlan(
        shape, angle, reshape=reshape, order=order, mode=mode, cval=cval, prefilter=prefilter
    )


def _rebuild_affine_plan(shape, matrix, offset, out_shape, order, mode, cval, prefilter):
    return AffinePlan(
        shape, matrix, offset, out_shape, order=order, mode=mode, cval=cval, prefilter=prefilter
    )


def cached_plan(shape, angle, reshape, interp):
    """Plans are pure functions of their parameters, so they are shared (small LRU). The
    signs of ``angle`` and ``interp.cval`` are part of the key: ``-0.0 == 0.0``, but a -0.0
    cval fills SciPy's output with -0.0."""
    return _cached_plan(shape, *v.with_sign(angle), reshape, interp, v.with_sign(interp.cval)[1])


@functools.lru_cache(maxsize=64)
def _cached_plan(shape, angle, _angle_sign, reshape, interp, _cval_sign):
    return RotationPlan(shape, angle, reshape=reshape, **interp._asdict())


def cached_affine_plan(shape, matrix, offset, out_shape, interp):
    """:func:`cached_plan` for :class:`AffinePlan`: ``matrix`` and ``offset`` (float64
    ``(2, 2)`` and ``(2,)``) are keyed by their bytes, which tell every double apart (signs
    of zeros included)."""
    matrix = np.ascontiguousarray(matrix, dtype=np.float64)
    offset = np.ascontiguousarray(offset, dtype=np.float64)
    return _cached_affine_plan(
        shape,
        matrix.tobytes(),
        offset.tobytes(),
        out_shape,
        interp,
        v.with_sign(interp.cval)[1],
    )


@functools.lru_cache(maxsize=64)
def _cached_affine_plan(shape, matrix, offset, out_shape, interp, _cval_sign):
    return AffinePlan(
        shape,
        np.frombuffer(matrix).reshape(2, 2),
        np.frombuffer(offset),
        out_shape,
        **interp._asdict(),
    )


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
    if batch.shape[0] == 1 and len(plans) == 1 and not _force_slow_path():
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
    matrices, offsets = resampling.matrices, resampling.offsets
    coefficients = setup.rows * setup.cols + 1  # the last one holds cval
    prefiltered = npad > 0 or setup.prefilter_init >= 0
    tile = 1 if _force_slow_path() else min(tiles.TILE, n)
    cast = cast_rule(dest.dtype)
    gather, store = gather_tiles.planes_gather_affine, stores.planes_store

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


def _force_slow_path():
    """FASTAUG_FORCE_SLOW_PATH=1: only for the benchmark regression guard's self-test (one
    image per tile, no single-image path: same results, far slower), to show that the guard
    trips."""
    return os.environ.get("FASTAUG_FORCE_SLOW_PATH") == "1"


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
    tile = 1 if _force_slow_path() else min(tiles.TILE, n)
    cast = cast_rule(dest.dtype)

    load, store = tiles.tile_load, stores.tile_store

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
        stores.tile_store(values, out.reshape(out_pixels), 0, 0, 1, *self.cast)
        return out


#: Shared single-image calls, by (plan, input dtype, output dtype).
single_image_call = functools.lru_cache(maxsize=64)(SingleImageCall)
