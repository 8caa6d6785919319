"""Every argument check and normalisation of the public API, with its messages, in one place.

Errors follow SciPy's classes for the same bad input (``rotate`` is a drop-in), and name the
argument, what is allowed and what was received.
"""

import functools
import math
import numbers
import warnings

import numpy as np

from .kernels import boundary, spline
from .kernels import rotate as rotate_kernels


class ArgumentError(ValueError, RuntimeError):
    """Bad argument. Both a ValueError and a RuntimeError, since SciPy raises either for the
    same kinds of mistake (``order``, ``mode`` and ``output`` give RuntimeError there)."""


MODES = {
    "nearest": boundary.NEAREST,
    "wrap": boundary.WRAP,
    "reflect": boundary.REFLECT,
    "grid-mirror": boundary.REFLECT,
    "mirror": boundary.MIRROR,
    "constant": boundary.CONSTANT,
    "grid-wrap": boundary.GRID_WRAP,
    "grid-constant": boundary.GRID_CONSTANT,
}

# Prefilter boundary initialisation used by each mode (SciPy's spline filter mode mapping).
PREFILTER_INIT = {
    boundary.NEAREST: spline.INIT_REFLECT,
    boundary.WRAP: spline.INIT_MIRROR,
    boundary.REFLECT: spline.INIT_REFLECT,
    boundary.MIRROR: spline.INIT_MIRROR,
    boundary.CONSTANT: spline.INIT_MIRROR,
    boundary.GRID_WRAP: spline.INIT_WRAP,
    boundary.GRID_CONSTANT: spline.INIT_MIRROR,
}

#: Width of the pre-padding SciPy adds before prefiltering in these modes.
PREPAD = 12
PREPAD_MODES = (boundary.NEAREST, boundary.GRID_CONSTANT)


def mode_code(mode):
    """Mode name -> SciPy's integer code."""
    if isinstance(mode, str) and mode in MODES:
        return MODES[mode]
    raise ArgumentError(
        f"mode must be one of {', '.join(repr(m) for m in MODES)}; got {mode!r} "
        "(boundary mode not supported)"
    )


def spline_order(order):
    """Spline order as an int in 0..5."""
    if (
        isinstance(order, (bool, np.bool_))
        or not isinstance(order, numbers.Integral)
        or not 0 <= int(order) <= 5
    ):
        raise ArgumentError(
            f"order must be an integer from 0 to 5; got {order!r} (spline order not supported)"
        )
    return int(order)


def finite_angle(angle, name="angle"):
    """A single finite angle in degrees as a Python float."""
    if isinstance(angle, (str, bytes)) or np.ndim(angle) != 0:
        raise TypeError(
            f"{name} must be a real number (degrees); got {type(angle).__name__} {angle!r}"
        )
    try:
        value = float(angle)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be a real number (degrees); got {type(angle).__name__} {angle!r}"
        ) from None
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value!r}")
    return value


def finite_angles(angles, name="angles"):
    """A 1-D float64 array of finite angles."""
    try:
        arr = np.asarray(angles, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be real numbers (degrees); got {angles!r}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(
            f"{name} must be finite; got {arr[bad][0]!r} at index {int(np.flatnonzero(bad)[0])}"
        )
    return arr


def with_sign(value):
    """``(value, its sign)``: a cache-key part that tells -0.0 from 0.0, which compare equal
    although SciPy's results may differ in the sign of zeros."""
    return value, math.copysign(1.0, value)


def real_scalar(value, name):
    """A real number (``cval``)."""
    if isinstance(value, (str, bytes)) or np.ndim(value) != 0:
        raise TypeError(f"{name} must be a real number; got {value!r}")
    return float(value)


def plane_axes(axes, ndim):
    """SciPy's axes rules: two integer values, negatives wrapped, in range; returned sorted."""
    axes = list(axes)
    if len(axes) != 2:
        raise ValueError(f"axes should contain exactly two values; got {tuple(axes)!r}")
    if not all(float(ax).is_integer() for ax in axes):
        raise ValueError(f"axes should contain only integer values; got {tuple(axes)!r}")
    axes = [int(ax) + ndim if ax < 0 else int(ax) for ax in axes]
    if not all(0 <= ax < ndim for ax in axes):
        raise ValueError(
            f"invalid rotation plane specified: axes must lie in -{ndim}..{ndim - 1} "
            f"for a {ndim}-D array; got {tuple(axes)!r}"
        )
    if axes[0] == axes[1]:
        raise ValueError(
            f"invalid rotation plane specified: axes must be two different "
            f"axes; got {tuple(axes)!r}"
        )
    return tuple(sorted(axes))


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


def output_array(output, input, shape, complex_output=False):
    """SciPy's ``_get_output``: None -> input dtype; a dtype -> new array; an array -> checked."""
    if output is None:
        dtype = np.dtype(input.dtype.name)  # by name, as SciPy: native byte order
        if complex_output:
            dtype = np.promote_types(dtype, np.complex64)
        return np.zeros(shape, dtype=dtype)
    if isinstance(output, np.ndarray):
        if output.shape != tuple(shape):
            raise ArgumentError(
                f"output shape not correct: expected {tuple(shape)}, got {output.shape}"
            )
        if complex_output and output.dtype.kind != "c":
            raise ArgumentError(
                "output must have a complex dtype for complex input; got "
                f"dtype({output.dtype.name!r})"
            )
        check_dtype(output.dtype, "output", allow_complex=True)
        if not output.flags.writeable:
            raise ValueError("output array is read-only")
        return output
    try:
        dtype = np.dtype(output)
    except TypeError:
        raise TypeError(f"output must be None, a dtype or an ndarray; got {output!r}") from None
    if complex_output and dtype.kind != "c":
        warnings.warn("promoting specified output dtype to complex", stacklevel=4)
        dtype = np.promote_types(dtype, np.complex64)
    check_dtype(dtype, "output", allow_complex=True)
    return np.zeros(shape, dtype=dtype)


@functools.lru_cache(maxsize=32)
def cast_rule(dtype):
    """(cast code, low, high) with which the kernels store a double into ``dtype``."""
    if dtype.kind == "f":
        return rotate_kernels.CAST_FLOAT, 0.0, 0.0
    if dtype.kind == "b":
        return rotate_kernels.CAST_BOOL, 0.0, 0.0
    info = np.iinfo(dtype)
    code = rotate_kernels.CAST_UNSIGNED if dtype.kind == "u" else rotate_kernels.CAST_SIGNED
    return code, float(info.min), float(info.max)


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


def pad_value(cval, dtype):
    """cval as ``np.pad`` stores it in an array of ``dtype`` (SciPy pre-pads with np.pad)."""
    # Keyed by the exact bits: -0.0 == 0.0 would otherwise share a cache entry.
    return _pad_value(float(cval).hex(), dtype)


@functools.lru_cache(maxsize=64)
def _pad_value(cval_hex, dtype):
    return float(np.pad(np.zeros(1, dtype), 1, constant_values=float.fromhex(cval_hex))[0])
