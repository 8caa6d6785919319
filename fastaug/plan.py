"""AffinePlan and RotationPlan: everything about a resampling that does not depend on the
pixels.

For a fixed in-plane shape, matrix and offset (a rotation: angle and reshape), output
shape, order, mode, cval and prefilter, the source coordinates and spline weights of every
output pixel are fixed. A plan computes them once
(with SciPy's exact host-side arithmetic for the matrix and offset) and then streams any
number of images through the batch kernel.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _validation as v
from .backends.cpu import apply_plans
from .geometry import rotation_geometry
from .kernels import gather_tiles
from .resampling import Resampling


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
        "out_shape",
        "matrix",
        "offset",
        "taps",
        "wy",
        "wx",
        "outside",
        "rows_read",
        "resampling",
    )
    # Set once in __init__ (through object.__setattr__: plans are immutable).
    shape: tuple[int, int]
    out_shape: tuple[int, int]
    matrix: npt.NDArray[np.float64]
    offset: npt.NDArray[np.float64]
    taps: npt.NDArray[np.int32]
    wy: npt.NDArray[np.float64]
    wx: npt.NDArray[np.float64]
    outside: npt.NDArray[np.bool_]
    rows_read: npt.NDArray[np.bool_]
    resampling: Resampling

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
    ) -> None:
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
        code = interp.code
        v.empty_plane(shape, out_shape, mode, interp.order, interp.prefilter)
        resampling = Resampling.planes(shape, out_shape, interp, matrix, offset)
        npad = interp.npad
        rows, cols = shape[0] + 2 * npad, shape[1] + 2 * npad
        n_out = out_shape[0] * out_shape[1]
        k = interp.order + 1
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
            interp.order,
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

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    # The interpolation, as the constructors take it: read from the one Interp.
    order = property(lambda self: self.resampling.interp.order, doc="Spline order, 0-5.")
    mode = property(lambda self: self.resampling.interp.mode, doc="SciPy's boundary mode.")
    cval = property(lambda self: self.resampling.interp.cval, doc="Fill value.")
    prefilter = property(lambda self: self.resampling.interp.prefilter, doc="Prefiltered?")
    npad = property(lambda self: self.resampling.interp.npad, doc="SciPy's pre-pad, 12 or 0.")

    def _interpolation(self):
        """``(order, mode, cval, prefilter)``, as the constructors take them."""
        return tuple(self.resampling.interp)

    def __reduce__(self):
        arguments = (self.shape, self.matrix, self.offset, self.out_shape)
        return _rebuild_affine_plan, arguments + self._interpolation()

    def __repr__(self) -> str:
        return (
            f"AffinePlan(shape={self.shape}, matrix={self.matrix.tolist()}, "
            f"offset={self.offset.tolist()}, out_shape={self.out_shape}, order={self.order}, "
            f"mode={self.mode!r}, cval={self.cval!r}, prefilter={self.prefilter}), "
            f"{self.nbytes} bytes"
        )

    @property
    def nbytes(self) -> int:
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

    def __call__(
        self,
        images: npt.ArrayLike,
        output: npt.NDArray[Any] | npt.DTypeLike | None = None,
        axes: Sequence[int] = (-2, -1),
    ) -> npt.NDArray[Any]:
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
    angle: float
    reshape: bool

    def __init__(
        self,
        shape: tuple[int, int],
        angle: float,
        *,
        reshape: bool = True,
        order: int = 3,
        mode: str = "constant",
        cval: float = 0.0,
        prefilter: bool = True,
    ) -> None:
        shape = v.plane_shape(shape)
        object.__setattr__(self, "angle", v.finite_angle(angle))
        object.__setattr__(self, "reshape", bool(reshape))
        matrix, offset, out_shape = rotation_geometry(shape, self.angle, self.reshape)
        super().__init__(
            shape, matrix, offset, out_shape, order=order, mode=mode, cval=cval, prefilter=prefilter
        )

    def __reduce__(self):
        return _rebuild_plan, (self.shape, self.angle, self.reshape) + self._interpolation()

    def __repr__(self) -> str:
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
