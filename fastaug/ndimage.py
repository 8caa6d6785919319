"""SciPy-signature functions: validate, choose a plan, run the kernel."""

import threading

import numpy as np

from . import _validation as v
from . import sampling
from .plan import KEEP_BUFFERS_PIXELS, apply_plans, cached_plan, single_image_call

#: Small single-image calls seen before, by their arguments: a drop-in used one image at a
#: time in a loop repeats the same arguments, and then pays for no validation or set-up
#: again. The oldest entry makes room for a new one.
_SINGLE_CALLS = {}
_SINGLE_CALLS_MAX = 64
_SINGLE_CALLS_ADDING = threading.Lock()  # eviction iterates the dict

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


def rotate(
    input,
    angle,
    axes=(1, 0),
    reshape=True,
    output=None,
    order=3,
    mode="constant",
    cval=0.0,
    prefilter=True,
):
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
        Input with fewer than 2 dimensions, bad ``axes``, a NaN or infinite ``angle``.
    RuntimeError
        Bad ``order``, ``mode``, unsupported dtype or output shape (the exception is also a
        ValueError, see ``fastaug.ArgumentError``).

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
    >>> bool((rotate(a, 90) == np.rot90(a)).all())
    True
    """
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
        cval_parts = (float(np.real(cval)), float(np.imag(cval)))
    else:
        cval_parts = (v.real_scalar(cval, "cval"), 0.0)
    in_plane = (arr.shape[axes[0]], arr.shape[axes[1]])
    plans = [
        cached_plan(in_plane, angle, bool(reshape), order, mode, part, bool(prefilter))
        for part in cval_parts
    ]
    out_shape = list(arr.shape)
    out_shape[axes[0]], out_shape[axes[1]] = plans[0].out_shape
    is_complex = arr.dtype.kind == "c"
    out = v.output_array(output, arr, tuple(out_shape), complex_output=is_complex)
    if is_complex:
        apply_plans(plans[:1], arr.real, out.real, axes)
        apply_plans(plans[1:], arr.imag, out.imag, axes)
    else:
        apply_plans(plans[:1], arr, out, axes)
        if key is not None:
            call = single_image_call(plans[0], arr.dtype, out.dtype)
            with _SINGLE_CALLS_ADDING:
                if len(_SINGLE_CALLS) >= _SINGLE_CALLS_MAX:
                    del _SINGLE_CALLS[next(iter(_SINGLE_CALLS))]
                _SINGLE_CALLS[key] = call
    return out


def _single_call_key(input, angle, axes, reshape, output, order, mode, cval, prefilter):
    """The arguments of a repeatable single-image call as a dict key, or None.

    Only exact built-in types take part, so that a key equal to a valid call's is the same
    call (``True == 1`` would otherwise let ``order=True`` through); signs are part of the
    key, since ``-0.0 == 0.0`` but SciPy's results may differ in the sign of a zero.
    """
    if (
        type(input) is not np.ndarray
        or input.ndim != 2
        or input.size > KEEP_BUFFERS_PIXELS
        or output is not None
        or not input.flags.c_contiguous
        or not input.dtype.isnative
        or input.dtype.kind not in "biuf"
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


rotate.__doc__ = rotate.__doc__.replace("{shared}", _SHARED_DOC.strip("\n").lstrip())


def map_coordinates(
    input,
    coordinates,
    output=None,
    order=3,
    mode="constant",
    cval=0.0,
    prefilter=True,
):
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
    order = v.spline_order(order)
    arr = np.asarray(input)
    coordinates = v.coordinate_array(coordinates, arr.ndim)
    out_shape = coordinates.shape[1:]
    is_complex = np.iscomplexobj(arr)
    out = v.output_array(output, arr, out_shape, complex_output=is_complex)
    points = np.ascontiguousarray(coordinates, dtype=np.float64).reshape(arr.ndim, -1)
    for part, part_out, part_cval in _parts(arr, out, cval, is_complex):
        interp, coefficients = _coefficients(part, part_out, order, mode, part_cval, prefilter)
        sampling.sample(coefficients, interp, part_out, coordinates=points)
    return out


def affine_transform(
    input,
    matrix,
    offset=0.0,
    output_shape=None,
    output=None,
    order=3,
    mode="constant",
    cval=0.0,
    prefilter=True,
):
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
    order = v.spline_order(order)
    arr = np.asarray(input)
    if output_shape is None:
        output_shape = output.shape if isinstance(output, np.ndarray) else arr.shape
    v.ranks(arr.ndim, len(output_shape))
    is_complex = np.iscomplexobj(arr)
    out = v.output_array(output, arr, tuple(output_shape), complex_output=is_complex)
    matrix, offset = v.affine_arguments(matrix, offset, arr.ndim, out.ndim)
    separable = matrix.ndim == 1
    if separable:
        # SciPy's separable path (zoom_shift): a shift of offset / matrix, then the zoom.
        if out.ndim < arr.ndim:
            raise v.ArgumentError(
                f"a diagonal matrix needs an output of at least the input's {arr.ndim} axes; "
                f"got output shape {out.shape}"
            )
        offset = offset / matrix
        matrix = matrix.reshape(-1, 1)
    for part, part_out, part_cval in _parts(arr, out, cval, is_complex):
        interp, coefficients = _coefficients(part, part_out, order, mode, part_cval, prefilter)
        sampling.sample(
            coefficients, interp, part_out, matrix=matrix, offset=offset, separable=separable
        )
    return out


def _parts(arr, out, cval, is_complex):
    """``(input part, output part, cval part)``: the array itself, or its real and imaginary
    parts, each resampled on its own with its part of ``cval`` (as SciPy does)."""
    if not is_complex:
        return ((arr, out, v.real_scalar(cval, "cval")),)
    return ((arr.real, out.real, float(np.real(cval))), (arr.imag, out.imag, float(np.imag(cval))))


def _coefficients(part, out, order, mode, cval, prefilter):
    """:func:`sampling.coefficients` after SciPy's checks of ``mode`` and the dtype, and the
    refusal of an empty input that SciPy cannot extend into ``out``."""
    v.mode_code(mode)
    v.check_dtype(part.dtype, "input")
    v.empty_plane(part.shape, out.shape, mode, order, prefilter)
    return sampling.coefficients(part, order, mode, cval, prefilter)


map_coordinates.__doc__ = map_coordinates.__doc__.replace(
    "{shared}", _SHARED_DOC.strip("\n").lstrip()
)
affine_transform.__doc__ = affine_transform.__doc__.replace(
    "{shared}", _SHARED_DOC.strip("\n").lstrip()
)
