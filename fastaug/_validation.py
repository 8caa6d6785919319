"""Every argument check and normalisation of the public API, with its messages, in one place.

Errors follow SciPy's classes for the same bad input (``rotate`` is a drop-in), and name the
argument, what is allowed and what was received.
"""

from __future__ import annotations

import math
import numbers
import operator
import reprlib
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

# Every public module imports this one: the compile notice then listens before any kernel
# loads, however fastaug was imported (``from fastaug.ndimage import rotate`` too).
from . import _compiling  # noqa: F401
from .resampling import MODES, Interp


class ArgumentError(ValueError, RuntimeError):
    """Bad argument. Both a ValueError and a RuntimeError, since SciPy raises either for the
    same kinds of mistake (``order``, ``mode`` and ``output`` give RuntimeError there)."""


class ArgumentTypeError(ArgumentError, TypeError):
    """An argument of the wrong type where SciPy raises TypeError (``order=1.5``)."""


def mode_code(mode):
    """Mode name -> SciPy's integer code."""
    if isinstance(mode, str) and mode in MODES:
        return MODES[mode]
    raise ArgumentError(
        f"mode must be one of {', '.join(repr(m) for m in MODES)}; got {mode!r} "
        "(boundary mode not supported)"
    )


def interpolation(order, mode, cval, prefilter=True):
    """The validated :class:`fastaug.resampling.Interp` of the public arguments."""
    return Interp(spline_order(order), mode_name(mode), real_scalar(cval, "cval"), bool(prefilter))


def mode_name(mode):
    """A mode name SciPy takes, as given (:func:`mode_code` checks it)."""
    mode_code(mode)
    return mode


def spline_order(order):
    """Spline order as an int in 0..5."""
    integral = isinstance(order, numbers.Integral) and not isinstance(order, (bool, np.bool_))
    if not integral or not 0 <= int(order) <= 5:
        raise (ArgumentError if integral else ArgumentTypeError)(
            f"order must be an integer from 0 to 5; got {order!r} (spline order not supported)"
        )
    return int(order)


def filter_order(order, lowest):
    """SciPy's order check for the spline filters: ``lowest`` to 5, else the RuntimeError
    (an ArgumentError); an order that does not compare with integers raises the
    comparison's TypeError, as in SciPy. Returned as given: 0, 1, 0.0, True copy there."""
    if order < lowest or order > 5:
        raise ArgumentError(
            f"order must be an integer from {lowest} to 5; got {order!r} "
            "(spline order not supported)"
        )
    return order


def integer_order(order):
    """An order the filter kernels take: SciPy's C call refuses 2.5 and 3.0 (TypeError)."""
    try:
        return operator.index(order)
    except TypeError:
        raise TypeError(f"order must be an integer; got {type(order).__name__} {order!r}") from None


def array_axis(axis, ndim):
    """An axis index wrapped into ``0..ndim - 1`` (NumPy's ``normalize_axis_index``, which
    SciPy uses: AxisError out of range, TypeError for a non-integer)."""
    axis = operator.index(axis)
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim)
    return axis % ndim


def array_of_rank(input, name="input"):
    """An ndarray of at least one dimension (SciPy's zoom and shift: RuntimeError)."""
    arr = np.asarray(input)
    if arr.ndim < 1:
        raise ArgumentError(
            f"{name} must have at least one dimension; got a 0-D array "
            "(input and output rank must be > 0)"
        )
    return arr


def per_axis(value, ndim, name="argument"):
    """SciPy's ``_normalize_sequence``: a sequence of ``ndim`` values as a list, anything
    else (a string included) repeated ``ndim`` times; a sequence of another length is a
    RuntimeError."""
    if not isinstance(value, str) and np.iterable(value):
        values = list(value)
        if len(values) != ndim:
            raise ArgumentError(
                f"{name} must be one value or {ndim} (one per axis); got {len(values)} "
                "(sequence argument must have length equal to input rank)"
            )
        return values
    return [value] * ndim


def integer_flag(value, name):
    """A flag SciPy's C layer reads as an int: bools and integers only (TypeError)."""
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be a bool; got {value!r}") from None


def finite_reals(values, name, what):
    """``values`` as a float64 array of finite real numbers: every angle and matrix of the
    API goes through here. Real means what SciPy's ``rotate`` takes for an angle: bool,
    integer or floating values (NumPy scalars and arrays included); strings, bytes, complex
    numbers and anything NumPy keeps as objects (Fractions, ints beyond 64 bits) are refused
    with a TypeError, NaN and infinity with a ValueError. ``what`` completes "``name`` must be
    ..." in the message."""
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError, OverflowError):  # ragged nesting, for one
        arr = None
    if arr is None or arr.dtype.kind not in "biuf":
        kind = "" if arr is None else f" of dtype {arr.dtype}"
        raise TypeError(f"{name} must be {what}; got {reprlib.repr(values)}{kind}")
    with np.errstate(over="ignore"):  # a long double beyond float64 becomes inf: refused below
        arr = arr.astype(np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        where = np.unravel_index(int(np.flatnonzero(bad)[0]), arr.shape)
        where = tuple(int(i) for i in where)
        at = f" at index {where if len(where) > 1 else where[0]}" if where else ""
        raise ValueError(f"{name} must be finite; got {float(arr[where])!r}{at}")
    return arr


def finite_angle(angle, name="angle"):
    """A single finite angle in degrees as a Python float."""
    what = "a real number (degrees)"
    arr = finite_reals(angle, name, what)
    if arr.ndim != 0:
        raise TypeError(f"{name} must be {what}; got {reprlib.repr(angle)}")
    return float(arr)


def finite_angles(
    angles: ArrayLike, name: str = "angles", single: bool = False
) -> NDArray[np.float64]:
    """A 1-D float64 array of finite angles (``single``: a single number is one angle)."""
    arr = finite_reals(angles, name, "real numbers (degrees)")
    if single:
        arr = np.atleast_1d(arr)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {arr.shape}")
    return arr


#: Seeds and epochs are mixed into the random streams as 64-bit words (``fastaug.draws``).
RANDOM_COUNTER_LIMIT = 1 << 64


def random_counter(value, name="seed"):
    """A seed or an epoch: an integer in ``[0, 2**64)``. The streams take it modulo 2**64,
    so a negative or larger value would silently alias another (``-1`` is ``2**64 - 1``)."""
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, numbers.Integral)
        or not 0 <= value < RANDOM_COUNTER_LIMIT
    ):
        raise ValueError(f"{name} must be an integer from 0 to 2**64 - 1; got {value!r}")
    return int(value)


def with_sign(value):
    """``(value, its sign)``: a cache-key part that tells -0.0 from 0.0, which compare equal
    although SciPy's results may differ in the sign of zeros."""
    return value, math.copysign(1.0, value)


def real_scalar(value, name):
    """A real number (``cval``)."""
    if type(value) is float or type(value) is int:  # the common case, without NumPy
        return float(value)
    if isinstance(value, (str, bytes)) or np.ndim(value) != 0:
        raise TypeError(f"{name} must be a real number; got {value!r}")
    return float(value)


def plane_axes(axes, ndim):
    """SciPy's axes rules: two integer values, negatives wrapped, in range; returned sorted.
    Messages show the axes as given."""
    given = tuple(axes)
    if len(given) != 2:
        raise ValueError(f"axes should contain exactly two values; got {given!r}")
    if not all(float(ax).is_integer() for ax in given):
        raise ValueError(f"axes should contain only integer values; got {given!r}")
    wrapped = [int(ax) + ndim if ax < 0 else int(ax) for ax in given]
    if not all(0 <= ax < ndim for ax in wrapped):
        raise ValueError(
            f"invalid rotation plane specified: axes must lie in -{ndim}..{ndim - 1} "
            f"for a {ndim}-D array; got {given!r}"
        )
    if wrapped[0] == wrapped[1]:
        raise ValueError(
            f"invalid rotation plane specified: axes must be two different axes; got {given!r}"
        )
    return tuple(sorted(wrapped))


def plane_count(shape, axes):
    """How many planes lie in ``axes`` of an array of ``shape`` (the other axes' product)."""
    return math.prod(n for i, n in enumerate(shape) if i not in axes)


def plane_shape(shape, name="shape"):
    """Two sizes ``(H, W)``: non-negative integers, as NumPy takes sizes (``28.0`` and
    ``28.5`` are refused rather than truncated)."""
    try:
        sizes = tuple(operator.index(n) for n in shape)
    except TypeError:
        sizes = ()
    if len(sizes) != 2 or min(sizes) < 0 or any(isinstance(n, (bool, np.bool_)) for n in shape):
        raise ValueError(f"{name} must be two non-negative integer sizes (H, W); got {shape!r}")
    return sizes


def empty_plane(in_plane, out_plane, mode, order, prefilter):
    """Refuse what SciPy cannot do with an empty input plane (no values to extend): pre-pad
    it for 'nearest' with a prefilter (SciPy raises), or sample it into a non-empty output in
    a mode other than 'constant' / 'grid-constant' (SciPy returns uninitialised memory)."""
    if min(in_plane) > 0:
        return
    if (mode == "nearest" and prefilter and order > 1) or (
        min(out_plane) > 0 and mode not in ("constant", "grid-constant")
    ):
        raise ValueError(
            f"mode {mode!r} cannot extend an empty input plane of shape {tuple(in_plane)}"
            f"{'' if prefilter else ' (prefilter=False)'}; 'constant' and 'grid-constant' fill "
            "the output with cval"
        )


def input_array(input, name="input", min_ndim=2):
    """An ndarray of a supported element type (complex allowed), at least ``min_ndim``-D."""
    arr = np.asarray(input)
    if arr.ndim < min_ndim:
        raise ValueError(f"{name} array should be at least {min_ndim}D; got shape {arr.shape}")
    check_dtype(arr.dtype, name, allow_complex=True)
    return arr


REAL_DTYPES = frozenset(
    np.dtype(t)
    for t in (
        np.bool_,
        np.int8,
        np.uint8,
        np.int16,
        np.uint16,
        np.int32,
        np.uint32,
        np.int64,
        np.uint64,
        np.float32,
        np.float64,
    )
)
COMPLEX_DTYPES = frozenset((np.dtype(np.complex64), np.dtype(np.complex128)))


def check_dtype(dtype, name, allow_complex=False):
    """Element types the kernels handle (either byte order); complex where allowed."""
    native = dtype.newbyteorder("=") if dtype.byteorder not in "|=" else dtype
    if native in REAL_DTYPES or allow_complex and native in COMPLEX_DTYPES:
        return
    raise ArgumentError(
        f"{name} dtype must be bool, an integer type, float32 or float64"
        f"{' (or complex)' if allow_complex else ''}; got dtype({dtype.name!r}) "
        "(array type not supported)"
    )


def kernel_ready(arr):
    """Native byte order, for the kernels (a copy only when needed)."""
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr


def output_array(output, input, shape, complex_output=False, kernel_dtype=True):
    """SciPy's ``_get_output``: None -> input dtype; a dtype -> new array; an array -> checked.

    ``kernel_dtype``: the element type must be one the kernels store (SciPy's C code checks
    that when it writes; a copy, as ``spline_filter1d`` makes for orders 0 and 1, does not),
    and a complex output for real input is refused as SciPy's C code refuses it, when there
    is a value to write (an empty one is returned as SciPy returns it).
    """
    if output is None:
        # SciPy names the dtype (its native byte order): the native twin, without a look-up
        dtype = input.dtype if input.dtype.isnative else input.dtype.newbyteorder("=")
        if complex_output:
            dtype = np.promote_types(dtype, np.complex64)
        return np.zeros(shape, dtype=dtype)
    if isinstance(output, str):
        # SciPy refuses a dtype *name* it would have to promote, and non-numeric names.
        dtype = np.dtype(output)
        if complex_output and dtype.kind != "c":
            raise ArgumentError(f"output must have complex dtype for complex input; got {output!r}")
        if not issubclass(dtype.type, np.number):
            raise ArgumentError(f"output must have numeric dtype; got {output!r}")
    elif isinstance(output, (type, np.dtype)):
        dtype = np.dtype(output)
        if complex_output and dtype.kind != "c":
            warnings.warn("promoting specified output dtype to complex", stacklevel=4)
            dtype = np.promote_types(dtype, np.complex64)
    else:
        output = np.asarray(output)  # SciPy's reading of anything else (then the checks)
        if output.shape != tuple(shape):
            raise ArgumentError(
                f"output shape not correct: expected {tuple(shape)}, got {output.shape}"
            )
        if complex_output and output.dtype.kind != "c":
            raise ArgumentError(
                "output must have complex dtype for complex input; got "
                f"dtype({output.dtype.name!r})"
            )
        if kernel_dtype:
            _check_kernel_output(output.dtype, input, shape, complex_output)
        if not output.flags.writeable:
            raise ValueError("output array is read-only")
        return output
    if kernel_dtype:
        _check_kernel_output(dtype, input, shape, complex_output)
    return np.zeros(shape, dtype=dtype)


def _check_kernel_output(dtype, input, shape, complex_output):
    check_dtype(dtype, "output", allow_complex=True)
    if dtype.kind == "c" and not complex_output and math.prod(shape):
        raise ArgumentError(
            f"output dtype({dtype.name!r}) is complex but the input is real, dtype("
            f"{input.dtype.name!r}); use a real output (data type not supported)"
        )


def image_batch(images, name="images"):
    """``(N, H, W)`` or ``(N, H, W, C)`` real images."""
    arr = np.asarray(images)
    if arr.ndim not in (3, 4):
        raise ValueError(f"{name} must have shape (N, H, W) or (N, H, W, C); got shape {arr.shape}")
    check_dtype(arr.dtype, name)
    return arr


def choice(value, name, allowed):
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


def channel_axis(shape, axis):
    """The channel axis of an image batch: None for ``(N, H, W)``; 1 or 3 for 4-D.

    4-D input without ``axis`` is taken as channels last (``(N, H, W, C)``) only where that
    is what it looks like: at most 4 channels, and more than 4 rows. Anything else, such as
    ``(N, 3, 28, 28)`` or ``(N, 3, 3, 3)``, is ambiguous and refused.
    """
    ndim = len(shape)
    if ndim == 3:
        if axis is not None:
            raise ValueError(
                f"channel_axis must be None for images of shape (N, H, W); got {axis!r}"
            )
        return None
    if axis is None:
        if shape[3] <= 4 < shape[1]:
            return 3
        raise ValueError(
            f"images of shape {shape} have an ambiguous layout: pass channel_axis=-1 for "
            "(N, H, W, C) or channel_axis=1 for (N, C, H, W)"
        )
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"channel_axis must be an integer or None; got {axis!r}")
    wrapped = int(axis) + ndim if axis < 0 else int(axis)
    if wrapped not in (1, 3):
        raise ValueError(
            f"channel_axis must be 1 (N, C, H, W) or -1 / 3 (N, H, W, C) for 4-D images; "
            f"got {axis!r}"
        )
    return wrapped


def affine_matrices(matrices, offsets, n, ndim=2):
    """SciPy's ``affine_transform`` matrix forms, one per sample of ``ndim`` axes (2: images,
    3: volumes): ``(N, ndim, ndim)`` with ``offsets`` ``(N, ndim)``, ``(ndim,)`` or a scalar
    (default 0); or ``(N, ndim, ndim + 1)`` / homogeneous ``(N, ndim + 1, ndim + 1)``
    carrying the offset in their last column. Returns float64 ``(N, ndim, ndim)`` and
    ``(N, ndim)``."""
    d = ndim
    samples = "images" if d == 2 else "volumes"
    arr = finite_reals(matrices, "matrices", f"real numbers (one matrix per {samples[:-1]})")
    forms = ((d, d), (d, d + 1), (d + 1, d + 1))
    if arr.ndim != 3 or arr.shape[0] != n or arr.shape[1:] not in forms:
        raise ValueError(
            f"matrices must have shape (N, {d}, {d}), (N, {d}, {d + 1}) or (N, {d + 1}, "
            f"{d + 1}) with N = {n} {samples}; got shape {arr.shape}"
        )
    if arr.shape[2] == d + 1:
        if offsets is not None:
            raise ValueError(
                f"offsets given twice: matrices of shape {arr.shape} carry the offset in "
                "their last column; pass offsets=None"
            )
        if arr.shape[1] == d + 1:
            bottom = (0.0,) * d + (1.0,)
            wrong = np.flatnonzero(np.any(arr[:, d] != bottom, axis=1))
            if wrong.size:
                raise ValueError(
                    "matrices: expected homogeneous transformation matrices, but the bottom "
                    f"row of matrix {int(wrong[0])} is {arr[wrong[0], d].tolist()}, not "
                    f"{list(bottom)}"
                )
        return np.ascontiguousarray(arr[:, :d, :d]), np.ascontiguousarray(arr[:, :d, d])
    if offsets is None:
        return arr, np.zeros((n, d))
    shift = finite_reals(offsets, "offsets", "real numbers (one shift per axis and sample)")
    if shift.shape not in ((), (d,), (n, d)):
        raise ValueError(
            f"offsets must have shape (N, {d}) with N = {n} {samples}, ({d},) or be a scalar; "
            f"got shape {shift.shape}"
        )
    return arr, np.ascontiguousarray(np.broadcast_to(shift, (n, d)))


def ranks(input_ndim, output_ndim):
    """SciPy's check that input and output have axes."""
    if input_ndim < 1 or output_ndim < 1:
        raise ArgumentError(
            f"input and output rank must be > 0; got input rank {input_ndim}, output rank "
            f"{output_ndim}"
        )


def coordinate_array(coordinates: ArrayLike, input_ndim: int) -> NDArray[Any]:
    """``map_coordinates``' coordinates: a real array of shape ``(input_ndim, ...)``, at
    least 2-D, of an element type SciPy reads."""
    arr = np.asarray(coordinates)
    if np.iscomplexobj(arr):
        raise TypeError("coordinates: Complex type not supported")
    ranks(input_ndim, arr.ndim - 1)
    if arr.shape[0] != input_ndim:
        raise ArgumentError(
            f"invalid shape for coordinate array: expected {input_ndim} coordinates along "
            f"axis 0 (one per input axis); got shape {arr.shape}"
        )
    native = arr.dtype.newbyteorder("=") if arr.dtype.byteorder not in "|=" else arr.dtype
    if native not in REAL_DTYPES:
        raise ArgumentError(
            f"coordinate array data type not supported: got dtype({arr.dtype.name!r}); "
            "bool, integers, float32 or float64 are"
        )
    return arr


def affine_arguments(
    matrix: ArrayLike, offset: ArrayLike, input_ndim: int, output_ndim: int
) -> tuple[NDArray[Any], NDArray[Any]]:
    """SciPy's ``affine_transform`` matrix forms: ``(ndim, out_ndim)``, the diagonal
    ``(ndim,)``, ``(ndim, ndim + 1)`` and homogeneous ``(ndim + 1, ndim + 1)`` (these two
    carry the offset, and ``offset`` is ignored). Returns float64 C-contiguous ``(matrix,
    offset)``, the matrix ``(ndim, out_ndim)`` or ``(ndim,)``."""
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim not in (1, 2) or matrix.shape[0] < 1:
        raise ArgumentError(
            f"no proper affine matrix provided: expected 1 or 2 dimensions; got shape "
            f"{matrix.shape}"
        )
    ndim = input_ndim
    if matrix.ndim == 2 and matrix.shape[1] == ndim + 1 and matrix.shape[0] in (ndim, ndim + 1):
        if matrix.shape[0] == ndim + 1:
            expected = [0] * ndim + [1]
            if not np.all(matrix[ndim] == expected):
                raise ValueError(
                    f"Expected homogeneous transformation matrix with shape {matrix.shape} "
                    f"for image shape of {ndim} axes, but bottom row was not equal to "
                    f"{expected}; got {matrix[ndim].tolist()}"
                )
        offset = matrix[:ndim, ndim]
        matrix = matrix[:ndim, :ndim]
    if matrix.shape[0] != ndim:
        raise ArgumentError(
            f"affine matrix has wrong number of rows: expected {ndim} (the input rank); got "
            f"shape {matrix.shape}"
        )
    if matrix.ndim == 2 and matrix.shape[1] != output_ndim:
        raise ArgumentError(
            f"affine matrix has wrong number of columns: expected {output_ndim} (the output "
            f"rank); got shape {matrix.shape}"
        )
    if isinstance(offset, str) or not np.iterable(offset):
        offset = [offset] * ndim
    elif len(offset) != ndim:
        raise ArgumentError(
            f"offset: sequence argument must have length equal to input rank {ndim}; got "
            f"length {len(offset)}"
        )
    offset = np.asarray(offset, dtype=np.float64)
    if offset.ndim != 1:
        raise ArgumentError(
            f"no proper offset provided: expected one number per axis; got shape {offset.shape}"
        )
    return np.ascontiguousarray(matrix), np.ascontiguousarray(offset)
