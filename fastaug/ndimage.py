"""SciPy-signature functions: validate, choose a plan, run the kernel."""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias, TypeGuard

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from . import _validation as v
from . import cuda as gpu
from . import splines
from .backends.cpu import KEEP_BUFFERS_PIXELS, apply_plans, resample, single_image_call
from .geometry import rotation_geometry, zoom_factors, zoom_output_shape
from .plan import cached_affine_plan, cached_plan
from .resampling import AffineMaps, Coordinates, Interp, Resampling, Separable

#: Small single-image calls seen before, by their arguments: a drop-in used one image at a
#: time in a loop repeats the same arguments, and then pays for no validation or set-up
#: again. The oldest entry makes room for a new one.
_SINGLE_CALLS: dict[tuple[Any, ...], Callable[..., NDArray[Any]]] = {}
_SINGLE_CALLS_MAX = 64
_SINGLE_CALLS_ADDING = threading.Lock()  # eviction iterates the dict
#: Arguments of single-image calls seen once (affine_transform keeps a call on the second).
_SEEN_ONCE: dict[tuple[Any, ...], bool] = {}

#: A fill value: a real or complex number.
Scalar: TypeAlias = "complex | np.number[Any]"
#: Where a result goes: an array to write into, or the dtype of a new one.
Output: TypeAlias = "NDArray[Any] | DTypeLike | None"

_SHARED_DOC = """
    order : int, optional
        Spline order, 0 to 5 (default 3).
    mode : {'constant', 'grid-constant', 'nearest', 'reflect', 'grid-mirror', 'mirror', \
'wrap', 'grid-wrap'}, optional
        How the input is extended beyond its edges, exactly as in SciPy (default 'constant').
    cval : scalar, optional
        Fill value for 'constant' and 'grid-constant' (default 0.0).
    prefilter : bool, optional
        Spline-prefilter the input for orders > 1 (default True); False samples the input
        values directly as B-spline coefficients (blurs), as SciPy does.
"""


def _fill_doc(function: Callable[..., Any], field: str, text: str) -> None:
    """Put the shared parameter text ``text`` in place of ``field`` in the docstring of
    ``function`` (absent under ``python -OO``)."""
    if function.__doc__:
        function.__doc__ = function.__doc__.replace(field, text.strip("\n").lstrip())


def rotate(
    input: ArrayLike,
    angle: float,
    axes: Sequence[int] = (1, 0),
    reshape: bool = True,
    output: Output = None,
    order: int = 3,
    mode: str = "constant",
    cval: Scalar = 0.0,
    prefilter: bool = True,
) -> NDArray[Any]:
    """Rotate an array; a drop-in for :func:`scipy.ndimage.rotate`, same results.

    Every axis outside ``axes`` is a batch axis: all planes go through one kernel call.

    Parameters
    ----------
    input : array_like
        Real or complex array with at least two dimensions.
    angle : float
        Rotation angle in degrees. Must be finite.
    axes : tuple of 2 ints, optional
        The plane of rotation (sorted, so ``(1, 0)`` and ``(0, 1)`` are the same plane).
    reshape : bool, optional
        Grow the output plane to hold the whole rotated input (default True).
    output : array or dtype, optional
        Array to write into, or the output dtype (default: the input dtype).
    {shared}
    Returns
    -------
    ndarray
        The rotated array (``output`` itself if an array was given).

    Raises
    ------
    ValueError
        Input with fewer than 2 dimensions, bad ``axes``, a NaN or infinite ``angle``; an
        empty plane to sample in a mode other than 'constant' / 'grid-constant' (SciPy
        returns uninitialised memory there) or to pre-pad for 'nearest' (SciPy raises).
    TypeError
        An ``angle`` that is not a real number (str, bytes, complex, object), as SciPy.
    RuntimeError
        Bad ``order``, ``mode``, unsupported dtype, output shape, or a complex output for
        real input (the exception is also a ValueError, see ``fastaug.ArgumentError``).

    Notes
    -----
    Convention: input coordinate = R @ output coordinate + offset with
    R = [[cos, sin], [-sin, cos]] in the sorted ``axes`` (rows first); a positive angle turns
    the image counter-clockwise with row 0 at the top; the centre is ((n - 1) / 2) per axis.
    Cosine and sine are SciPy's exact-degree ``cosdg``/``sindg``. Integer outputs round half
    away from zero and clip, as SciPy does.

    Examples
    --------
    >>> import numpy as np
    >>> from fastaug import rotate
    >>> a = np.arange(25.0).reshape(5, 5)
    >>> bool((rotate(a, 90, order=1) == np.rot90(a)).all())  # order 3: within 1e-14, as SciPy
    True
    """
    if gpu.is_device_array(input):  # CuPy, torch CUDA: the CUDA backend
        return gpu.rotate(input, angle, axes, reshape, output, order, mode, cval, prefilter)
    key = _single_call_key(input, angle, axes, reshape, output, order, mode, cval, prefilter)
    if key is not None:
        call = _SINGLE_CALLS.get(key)
        if call is not None:
            return call(input)
    arr = v.input_array(input)
    axes = v.plane_axes(axes, arr.ndim)
    order = v.spline_order(order)
    v.mode_code(mode)
    angle = v.finite_angle(angle)
    if isinstance(cval, (complex, np.complexfloating)):
        cval_parts = (float(cval.real), float(cval.imag))
    else:
        cval_parts = (v.real_scalar(cval, "cval"), 0.0)
    in_plane = (arr.shape[axes[0]], arr.shape[axes[1]])
    out_shape = list(arr.shape)
    if v.plane_count(arr.shape, axes):
        plans = [
            cached_plan(in_plane, angle, bool(reshape), Interp(order, mode, part, bool(prefilter)))
            for part in cval_parts
        ]
        out_shape[axes[0]], out_shape[axes[1]] = plans[0].out_shape
    else:  # as SciPy, which loops over no planes: the shape only, no checks of the plane
        out_shape[axes[0]], out_shape[axes[1]] = rotation_geometry(in_plane, angle, reshape)[2]
    is_complex = arr.dtype.kind == "c"
    out = v.output_array(output, arr, tuple(out_shape), complex_output=is_complex)
    if not out.size:
        return out
    if is_complex:
        apply_plans(plans[:1], arr.real, out.real, axes)
        apply_plans(plans[1:], arr.imag, out.imag, axes)
    else:
        apply_plans(plans[:1], arr, out, axes)
        if key is not None:
            _remember(key, plans[0], arr, out)
    return out


def _remember(key, plan, arr, out):
    """Keep the single-image call of ``plan`` from ``arr`` to ``out`` for ``key``."""
    call = single_image_call(plan, arr.dtype, out.dtype)
    with _SINGLE_CALLS_ADDING:
        if len(_SINGLE_CALLS) >= _SINGLE_CALLS_MAX:
            del _SINGLE_CALLS[next(iter(_SINGLE_CALLS))]
        _SINGLE_CALLS[key] = call


def _repeatable_input(input: object) -> TypeGuard[NDArray[Any]]:
    """``input`` may be passed as it is to a kept single-image call: a small, C-contiguous,
    native-order real 2-D ndarray."""
    return (
        type(input) is np.ndarray
        and input.ndim == 2
        and input.size <= KEEP_BUFFERS_PIXELS
        and input.flags.c_contiguous
        and input.dtype.isnative
        and input.dtype.kind in "biuf"
    )


def _single_call_key(input, angle, axes, reshape, output, order, mode, cval, prefilter):
    """The arguments of a repeatable single-image call as a dict key, or None.

    Only exact built-in types take part, so that a key equal to a valid call's is the same
    call (``True == 1`` would otherwise let ``order=True`` through); signs are part of the
    key, since ``-0.0 == 0.0`` but SciPy's results may differ in the sign of a zero.
    """
    if (
        not _repeatable_input(input)
        or output is not None
        or type(order) is not int
        or type(mode) is not str
        or type(axes) is not tuple
        or type(reshape) is not bool
        or type(prefilter) is not bool
        or type(angle) not in (int, float)
        or type(cval) not in (int, float)
    ):
        return None
    return (
        input.shape,
        input.dtype,
        *v.with_sign(angle),
        axes,
        reshape,
        order,
        mode,
        *v.with_sign(cval),
        prefilter,
    )


_fill_doc(rotate, "{shared}", _SHARED_DOC)


def map_coordinates(
    input: ArrayLike,
    coordinates: ArrayLike,
    output: Output = None,
    order: int = 3,
    mode: str = "constant",
    cval: Scalar = 0.0,
    prefilter: bool = True,
) -> NDArray[Any]:
    """Interpolate an array at given coordinates; a drop-in for
    :func:`scipy.ndimage.map_coordinates`, same results.

    Parameters
    ----------
    input : array_like
        Real or complex array of any number of axes (1 to 3 run natively).
    coordinates : array_like
        ``coordinates[:, j...]`` is the input coordinate (one per input axis) of output
        point ``j...``: shape ``(input.ndim,) + output shape``. Real numbers only.
    output : array or dtype, optional
        Array to write into, or the output dtype (default: the input dtype).
    {shared}
    Returns
    -------
    ndarray
        Shape ``coordinates.shape[1:]`` (``output`` itself if an array was given).

    Raises
    ------
    TypeError
        Complex coordinates, or a non-real ``cval``.
    RuntimeError
        Bad ``order``, ``mode``, ranks, coordinate shape or type, unsupported dtypes or a
        wrong output shape (also ValueErrors, see ``fastaug.ArgumentError``).

    Examples
    --------
    >>> import numpy as np
    >>> from fastaug import map_coordinates
    >>> a = np.arange(12.0).reshape(4, 3)
    >>> map_coordinates(a, [[0.5, 2], [0.5, 1]], order=1)
    array([2., 7.])
    """
    if gpu.is_device_array(input):  # CuPy, torch CUDA: the CUDA backend
        return gpu.map_coordinates(input, coordinates, output, order, mode, cval, prefilter)
    order = v.spline_order(order)
    arr = np.asarray(input)
    coordinates = v.coordinate_array(coordinates, arr.ndim)
    out_shape = coordinates.shape[1:]
    is_complex = np.iscomplexobj(arr)
    out = v.output_array(output, arr, out_shape, complex_output=is_complex)
    points = np.ascontiguousarray(coordinates, dtype=np.float64).reshape(arr.ndim, -1)

    def run(part, out_part, cval_part):
        interp = _checked(part, out_part, order, mode, cval_part, prefilter)
        plan = Resampling(part.shape, out_shape, interp, Coordinates(points))
        resample(plan, part, out_part)

    _real_parts(arr, out, cval, run)
    return out


def affine_transform(
    input: ArrayLike,
    matrix: ArrayLike,
    offset: ArrayLike = 0.0,
    output_shape: Sequence[int] | None = None,
    output: Output = None,
    order: int = 3,
    mode: str = "constant",
    cval: Scalar = 0.0,
    prefilter: bool = True,
) -> NDArray[Any]:
    """Resample an array through an affine map; a drop-in for
    :func:`scipy.ndimage.affine_transform`, same results.

    The value at output index ``o`` is the input interpolated at ``matrix @ o + offset``
    (a "pull" map: pass the inverse of a forward transform).

    Parameters
    ----------
    input : array_like
        Real or complex array of any number of axes (1 to 3 run natively).
    matrix : ndarray
        ``(ndim, out_ndim)``; ``(ndim,)``, a diagonal; ``(ndim, ndim + 1)`` or homogeneous
        ``(ndim + 1, ndim + 1)``, which carry the offset in their last column (``offset`` is
        then ignored).
    offset : float or sequence, optional
        Added to every input coordinate: one number for all axes or one per axis.
    output_shape : tuple of ints, optional
        Shape of the output (default: that of ``output`` if it is an array, else the input's).
    output : array or dtype, optional
        Array to write into, or the output dtype (default: the input dtype).
    {shared}
    Returns
    -------
    ndarray
        The transformed array (``output`` itself if an array was given).

    Raises
    ------
    ValueError
        A homogeneous matrix whose bottom row is not ``[0, ..., 0, 1]``.
    RuntimeError
        Bad ``order``, ``mode``, matrix or offset shapes, ranks, unsupported dtypes or a
        wrong output shape (also ValueErrors, see ``fastaug.ArgumentError``).

    Notes
    -----
    Coordinates are summed as SciPy sums them (``offset``, then each matrix column in
    turn), so results match to the bit. Integer outputs round half away from zero and clip.

    Examples
    --------
    >>> import numpy as np
    >>> from fastaug import affine_transform
    >>> a = np.arange(12.0).reshape(4, 3)
    >>> affine_transform(a, [[1, 0], [0, 1]], offset=(1, 0), order=1)
    array([[ 3.,  4.,  5.],
           [ 6.,  7.,  8.],
           [ 9., 10., 11.],
           [ 0.,  0.,  0.]])
    """
    if gpu.is_device_array(input):  # CuPy, torch CUDA: the CUDA backend
        return gpu.affine_transform(
            input, matrix, offset, output_shape, output, order, mode, cval, prefilter
        )
    key = _affine_call_key(
        input, matrix, offset, output_shape, output, order, mode, cval, prefilter
    )
    if key is not None:
        call = _SINGLE_CALLS.get(key)
        if call is not None:
            return call(input, output if type(output) is np.ndarray else None)
    order = v.spline_order(order)
    arr = np.asarray(input)
    if output_shape is None:
        output_shape = output.shape if isinstance(output, np.ndarray) else arr.shape
    v.ranks(arr.ndim, len(output_shape))
    is_complex = np.iscomplexobj(arr)
    out = v.output_array(output, arr, tuple(output_shape), complex_output=is_complex)
    matrix, offset = v.affine_arguments(matrix, offset, arr.ndim, out.ndim)
    if matrix.ndim == 1 and out.ndim < arr.ndim:
        raise v.ArgumentError(  # SciPy reads past its output's shape here (it crashed)
            f"a diagonal matrix needs an output of at least the input's {arr.ndim} axes; "
            f"got output shape {out.shape}"
        )
    if (
        key is not None
        and matrix.ndim == 2
        and out.ndim == 2
        and 0 < out.size <= KEEP_BUFFERS_PIXELS
        and _seen_before(key)
    ):
        # Arguments repeated, as by a drop-in called in a loop: from now on they run on an
        # AffinePlan and the single-image path of rotate. Not on first sight: building the
        # tap tables costs several times the point sampler's call (28 x 28: ~500 us, ~80).
        interp = _checked(arr, out, order, mode, cval, prefilter)
        plan = cached_affine_plan(arr.shape, matrix, offset, out.shape, interp)
        apply_plans((plan,), arr, out, (0, 1))
        _remember(key, plan, arr, out)
        return out

    def run(part, out_part, cval_part):
        interp = _checked(part, out_part, order, mode, cval_part, prefilter)
        if matrix.ndim == 2:
            maps = AffineMaps(matrix[None], offset[None])
            resample(Resampling(part.shape, out.shape, interp, maps), part, out_part)
            return
        # SciPy's separable branch (zoom_shift): a shift of offset / matrix, then the zoom;
        # output axes past the input's do not move the sample, so they repeat its values.
        first = out_part[(Ellipsis,) + (0,) * (out.ndim - arr.ndim)]
        maps = Separable(matrix, offset / matrix)
        resample(Resampling(part.shape, first.shape, interp, maps), part, first)
        out_part[...] = first[(Ellipsis,) + (None,) * (out.ndim - arr.ndim)]

    _real_parts(arr, out, cval, run)
    return out


def _seen_before(key):
    """Whether ``key``'s arguments came before (and were not yet given a kept call); the
    last :data:`_SINGLE_CALLS_MAX` keys seen once are remembered."""
    with _SINGLE_CALLS_ADDING:
        if _SEEN_ONCE.pop(key, False):
            return True
        if len(_SEEN_ONCE) >= _SINGLE_CALLS_MAX:
            del _SEEN_ONCE[next(iter(_SEEN_ONCE))]
        _SEEN_ONCE[key] = True
        return False


def _affine_call_key(input, matrix, offset, output_shape, output, order, mode, cval, prefilter):
    """:func:`_single_call_key` for :func:`affine_transform`: the matrix and an array
    offset by their dtype, shape and bytes (which tell every number apart, signs of zeros
    included), other offsets and ``output_shape`` only as exact ints and floats; ``output``
    as a dtype, or an array the kept call can write (C-contiguous, writeable, native, apart
    from the input) by its shape and dtype."""
    if (
        not _repeatable_input(input)
        or type(matrix) is not np.ndarray
        or matrix.dtype.kind not in "fiu"
        or type(order) is not int
        or type(mode) is not str
        or type(prefilter) is not bool
        or type(cval) not in (int, float)
    ):
        return None
    if output is None or type(output) is type or isinstance(output, np.dtype):
        output_key = output
    elif (
        type(output) is np.ndarray
        and output.flags.c_contiguous
        and output.flags.writeable
        and output.dtype.isnative
        and not np.may_share_memory(output, input)
    ):
        output_key = (output.shape, output.dtype)
    else:
        return None
    # Each form of offset is tagged, so that keys of two forms never compare equal; only
    # two numbers can make a valid offset for a plane.
    if type(offset) in (tuple, list) and len(offset) == 2:
        y, x = offset
        if type(y) not in (int, float) or type(x) not in (int, float):
            return None
        offset_key = ("pair", y, x, math.copysign(1.0, y), math.copysign(1.0, x))
    elif type(offset) is np.ndarray and offset.dtype.kind in "fiu":
        offset_key = ("array", offset.dtype, offset.shape, offset.tobytes())
    elif type(offset) in (int, float):
        offset_key = ("number", *v.with_sign(offset))
    else:
        return None
    if output_shape is not None and not (
        type(output_shape) is tuple and all(type(n) is int for n in output_shape)
    ):
        return None
    return (
        "affine_transform",
        input.shape,
        input.dtype,
        matrix.dtype,
        matrix.shape,
        matrix.tobytes(),
        offset_key,
        output_shape,
        output_key,
        order,
        mode,
        *v.with_sign(cval),
        prefilter,
    )


def _checked(part, out, order, mode, cval, prefilter):
    """The :class:`Interp` of a call, after SciPy's checks of ``mode``, ``cval`` and the
    input dtype, and the refusal of an empty input SciPy cannot extend into ``out``."""
    v.mode_code(mode)
    v.check_dtype(part.dtype, "input")
    interp = Interp(order, mode, v.real_scalar(cval, "cval"), bool(prefilter))
    v.empty_plane(part.shape, out.shape, mode, order, prefilter)
    return interp


_fill_doc(map_coordinates, "{shared}", _SHARED_DOC)
_fill_doc(affine_transform, "{shared}", _SHARED_DOC)


def spline_filter1d(
    input: ArrayLike,
    order: int = 3,
    axis: int = -1,
    output: Output = np.float64,
    mode: str = "mirror",
) -> NDArray[Any]:
    """B-spline prefilter along one axis; a drop-in for :func:`scipy.ndimage.spline_filter1d`,
    same results.

    Parameters
    ----------
    input : array_like
        Real or complex array (complex: real and imaginary parts filtered apart).
    order : int, optional
        Spline order, 0 to 5 (default 3); orders 0 and 1 copy the input.
    axis : int, optional
        The axis filtered (default -1).
    {filter_shared}

    Raises
    ------
    RuntimeError
        Bad ``order`` or ``mode``, output shape or dtype (also a ValueError, see
        ``fastaug.ArgumentError``).
    numpy.exceptions.AxisError
        ``axis`` out of range.
    TypeError
        A non-integer ``order`` or ``axis``.

    Notes
    -----
    The causal 'reflect' (and 'nearest', 'grid-mirror') initialisation is SciPy 1.18's fixed
    one: SciPy 1.17 differs on axes of about 20 samples or fewer (scipy/scipy#24615).

    Examples
    --------
    >>> import numpy as np
    >>> from fastaug import spline_filter1d
    >>> spline_filter1d(np.array([0.0, 0.0, 1.0, 0.0, 0.0])).round(6).tolist()
    [0.25, -0.5, 1.75, -0.5, 0.25]
    """
    if gpu.is_device_array(input):  # CuPy, torch CUDA: the CUDA backend
        return gpu.spline_filter(input, order, output, mode, axis)
    return _spline_filter(input, order, 0, axis, output, mode)


def spline_filter(
    input: ArrayLike, order: int = 3, output: Output = np.float64, mode: str = "mirror"
) -> NDArray[Any]:
    """Multidimensional B-spline prefilter; a drop-in for :func:`scipy.ndimage.spline_filter`,
    same results: :func:`spline_filter1d` along every axis in turn, each pass stored in the
    output dtype (so integer and float32 outputs lose precision between passes, as in
    SciPy).

    Parameters
    ----------
    input : array_like
        Real or complex array of any dimension.
    order : int, optional
        Spline order, 2 to 5 (default 3).
    {filter_shared}

    Raises
    ------
    RuntimeError
        ``order`` outside 2-5, a bad ``mode``, output shape or dtype (also a ValueError).
    TypeError
        A non-integer ``order``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastaug import spline_filter
    >>> spline_filter(np.eye(3), order=2).round(6).tolist()[0]
    [2.263889, -1.125, 0.486111]
    """
    if gpu.is_device_array(input):  # CuPy, torch CUDA: the CUDA backend
        return gpu.spline_filter(input, order, output, mode)
    return _spline_filter(input, order, 2, None, output, mode)


def _spline_filter(input, order, lowest, axis, output, mode):
    """Both filters, with SciPy's checks in SciPy's order: ``axis`` None filters every
    axis (``spline_filter``: a 0-D input is copied), else that one (``spline_filter1d``:
    orders 0 and 1 copy, with no check of the mode, axis or dtypes)."""
    v.filter_order(order, lowest)
    arr = np.asarray(input)
    is_complex = arr.dtype.kind == "c"
    out = v.output_array(output, arr, arr.shape, complex_output=is_complex, kernel_dtype=False)

    def run(part, out_part, _cval):
        if order in (0, 1) or (axis is None and part.ndim == 0):
            out_part[...] = part
            return
        code = v.mode_code(mode)
        axes = range(part.ndim) if axis is None else [v.array_axis(axis, part.ndim)]
        order_ = v.integer_order(order)
        v.check_dtype(part.dtype, "input")
        v.check_dtype(out_part.dtype, "output")
        splines.filter_into(part, out_part, order_, code, axes)

    _real_parts(arr, out, 0.0, run)
    return out


def shift(
    input: ArrayLike,
    shift: ArrayLike,
    output: Output = None,
    order: int = 3,
    mode: str = "constant",
    cval: Scalar = 0.0,
    prefilter: bool = True,
) -> NDArray[Any]:
    """Shift an array; a drop-in for :func:`scipy.ndimage.shift`, same results.

    Parameters
    ----------
    input : array_like
        Real or complex array, 1-D or more.
    shift : float or sequence
        The shift along each axis (one value for all axes).
    output : array or dtype, optional
        Array to write into, or the output dtype (default: the input dtype).
    {shared}
    Returns
    -------
    ndarray
        The shifted array (``output`` itself if an array was given).

    Raises
    ------
    RuntimeError
        Bad ``order`` or ``mode``, a 0-D input, a ``shift`` sequence of the wrong length,
        unsupported dtypes or output shape (also a ValueError, see ``fastaug.ArgumentError``).
    TypeError
        A non-integer ``order``, a non-numeric ``shift`` or a non-real ``cval`` (real input).

    Notes
    -----
    Convention: output[i] = input[i - shift] (interpolated), per axis.

    Examples
    --------
    >>> import numpy as np
    >>> from fastaug import shift
    >>> shift(np.arange(5.0), 2, order=1).tolist()
    [0.0, 0.0, 0.0, 1.0, 2.0]
    """
    if gpu.is_device_array(input):  # CuPy, torch CUDA: the CUDA backend
        return gpu.shift(input, shift, output, order, mode, cval, prefilter)
    v.filter_order(order, 0)
    arr = v.array_of_rank(input)
    is_complex = arr.dtype.kind == "c"
    out = v.output_array(output, arr, arr.shape, complex_output=is_complex)

    def run(part, out_part, cval_part):
        v.mode_code(mode)
        v.check_dtype(part.dtype, "input")
        v.check_dtype(out_part.dtype, "output")
        shifts = np.asarray([-s for s in v.per_axis(shift, part.ndim, "shift")], dtype=np.float64)
        interp = Interp(
            v.integer_order(order), mode, v.real_scalar(cval_part, "cval"), bool(prefilter)
        )
        plan = Resampling(part.shape, part.shape, interp, Separable(None, shifts))
        resample(plan, part, out_part)

    _real_parts(arr, out, cval, run)
    return out


def zoom(
    input: ArrayLike,
    zoom: ArrayLike,
    output: Output = None,
    order: int = 3,
    mode: str = "constant",
    cval: Scalar = 0.0,
    prefilter: bool = True,
    *,
    grid_mode: bool = False,
) -> NDArray[Any]:
    """Zoom an array; a drop-in for :func:`scipy.ndimage.zoom`, same results.

    Parameters
    ----------
    input : array_like
        Real or complex array, 1-D or more.
    zoom : float or sequence
        The zoom factor along each axis (one value for all axes). The output length is
        ``round(length * zoom)``.
    output : array or dtype, optional
        Array to write into, or the output dtype (default: the input dtype).
    {shared}
    grid_mode : bool, optional
        False (default): the centres of the first and last samples stay where they are
        (factor ``(in - 1) / (out - 1)``); True: the outer edges of the pixel grid do
        (factor ``in / out``), best with the 'grid-*' modes (SciPy warns for 'constant' and
        'wrap').

    Returns
    -------
    ndarray
        The zoomed array (``output`` itself if an array was given).

    Raises
    ------
    RuntimeError
        Bad ``order`` or ``mode``, a 0-D input, a ``zoom`` sequence of the wrong length,
        unsupported dtypes or output shape (also a ValueError, see ``fastaug.ArgumentError``).
    ValueError, OverflowError, TypeError
        A negative, NaN, infinite or non-numeric ``zoom``, as from SciPy.

    Notes
    -----
    As SciPy does, a zoom of 1 on every axis with ``prefilter=True`` copies the input, and
    complex input is zoomed without ``grid_mode`` (SciPy does not pass it on to the real and
    imaginary parts).

    Examples
    --------
    >>> import numpy as np
    >>> from fastaug import zoom
    >>> zoom(np.array([0.0, 1.0, 2.0]), 5 / 3, order=1).tolist()
    [0.0, 0.5, 1.0, 1.5, 2.0]
    """
    if gpu.is_device_array(input):  # CuPy, torch CUDA: the CUDA backend
        return gpu.zoom(input, zoom, output, order, mode, cval, prefilter, grid_mode=grid_mode)
    v.filter_order(order, 0)
    arr = v.array_of_rank(input)
    zooms = v.per_axis(zoom, arr.ndim, "zoom")
    out_shape = zoom_output_shape(arr.shape, zooms)
    is_complex = arr.dtype.kind == "c"
    out = v.output_array(output, arr, out_shape, complex_output=is_complex, kernel_dtype=False)
    if prefilter and all(z == 1 for z in zooms):  # SciPy's early exit: a copy
        out[...] = arr
        return out

    def run(part, out_part, cval_part):
        v.mode_code(mode)
        v.check_dtype(part.dtype, "input")
        v.check_dtype(out_part.dtype, "output")
        # SciPy does not pass grid_mode on to the parts of a complex input.
        grid = False if is_complex else v.integer_flag(grid_mode, "grid_mode")
        if grid and mode in ("constant", "wrap"):
            warnings.warn(
                f"It is recommended to use mode = grid-{mode} instead of {mode} when "
                "grid_mode is True.",
                stacklevel=3,
            )
        interp = Interp(
            v.integer_order(order), mode, v.real_scalar(cval_part, "cval"), bool(prefilter)
        )
        factors = zoom_factors(part.shape, out_shape, grid)
        plan = Resampling(part.shape, out_shape, interp, Separable(factors, None, grid))
        resample(plan, part, out_part)

    _real_parts(arr, out, cval, run)
    return out


def _real_parts(arr, out, cval, run):
    """``run(input part, output part, cval part)``: once for real input; for complex input
    on the real, then the imaginary parts, with ``np.real(cval)`` and ``np.imag(cval)``, as
    SciPy resamples them."""
    if arr.dtype.kind != "c":
        run(arr, out, cval)
        return
    run(arr.real, out.real, np.real(cval))
    run(arr.imag, out.imag, np.imag(cval))


_FILTER_DOC = """
    output : array or dtype, optional
        Array to write into (it may be ``input`` itself), or the output dtype (default
        float64).
    mode : str, optional
        The boundary mode whose prefilter initialisation is used (default 'mirror'): the
        causal initialisation of 'mirror', 'constant', 'grid-constant' and 'wrap' is the
        mirror one, of 'reflect', 'grid-mirror' and 'nearest' the reflect one, of
        'grid-wrap' the periodic one.

    Returns
    -------
    ndarray
        The coefficients (``output`` itself if an array was given).
"""
for _f in (spline_filter, spline_filter1d):
    _fill_doc(_f, "{filter_shared}", _FILTER_DOC)
_fill_doc(shift, "{shared}", _SHARED_DOC)
_fill_doc(zoom, "{shared}", _SHARED_DOC)
