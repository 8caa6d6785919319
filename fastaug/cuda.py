"""fastaug on a GPU: the drop-ins and batch functions for arrays in GPU memory.

``fastaug.ndimage.*``, :func:`fastaug.rotate_each`, :func:`fastaug.affine_each`,
:func:`fastaug.augment` and the transforms' ``Compose`` send an array that lives on a GPU
here, as ``cupyx.scipy.ndimage`` serves CuPy arrays: a CuPy array, a PyTorch CUDA tensor or
any object with ``__cuda_array_interface__`` (a numba device array; a DLPack tensor after
``cupy.from_dlpack``). It is read in place, and the result is of the same kind: a CuPy array
for CuPy, a tensor on the same device for torch, a numba device array otherwise. Nothing goes
through the host.

The results are SciPy's, bit for bit, as on the CPU: the kernels are the CPU's scalar
arithmetic compiled by numba-cuda, in float64 with each product rounded on its own (no
FMA), and the host decides every plan (:mod:`fastaug.resampling`). Needs the ``cuda`` extra
(``pip install "fastaug[cuda]"``, numba-cuda); CuPy or PyTorch are the caller's choice.

Not on the GPU yet: complex input, channels-last batches, rotation planes other than the
last two axes, inputs of more than 3 axes per sample, ``GaussianBlur`` and masks in a
pipeline; each is refused with a message saying so.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _validation as v
from .geometry import rotation_geometry, rotation_matrices, zoom_factors, zoom_output_shape
from .resampling import PREFILTER_INIT, AffineMaps, Coordinates, Interp, Resampling, Separable


def is_device_array(obj: object) -> bool:
    """Whether ``obj`` is an array in GPU memory (``__cuda_array_interface__``; a PyTorch CPU
    tensor has the attribute but raises on reading it, so it counts as a host array)."""
    if isinstance(obj, np.ndarray):
        return False
    try:
        return hasattr(obj, "__cuda_array_interface__")
    except Exception:  # noqa: BLE001 - any error reading the interface: not a device array
        return False


class SimulatedDeviceArray:
    """Host memory presented as GPU memory (``__cuda_array_interface__`` over a NumPy
    array): what numba-cuda's simulator (``NUMBA_ENABLE_CUDASIM=1``), whose "device" memory
    is host memory, reads as a device array. For the simulator and tests only: a real GPU
    cannot read it."""

    def __init__(self, array: Any) -> None:
        self.array = np.ascontiguousarray(array)

    @property
    def __cuda_array_interface__(self) -> dict[str, Any]:
        a = self.array
        return {
            "shape": a.shape,
            "strides": None,
            "typestr": a.dtype.str,
            "data": (a.ctypes.data, False),
            "version": 3,
        }


def pinned_empty(shape: int | Sequence[int], dtype: Any = np.float32) -> np.ndarray:
    """A NumPy array in page-locked host memory, for ``out=`` of a copy from the GPU: the
    copy then runs at the bus's speed instead of through a pageable staging buffer."""
    from numba import cuda

    return cuda.pinned_array(shape, dtype=np.dtype(dtype))


def backend():
    """The CUDA executor module (:mod:`fastaug.backends.cuda`), imported on first use."""
    try:
        from .backends import cuda as executor
    except ImportError as error:  # numba-cuda missing
        raise ImportError(
            f"arrays on a GPU need numba-cuda: pip install 'fastaug[cuda]' ({error})"
        ) from None
    return executor


class _Kind:
    """How arrays of the caller's kind are read and made: CuPy, torch or numba."""

    def __init__(self, obj):
        module = type(obj).__module__.split(".")[0]
        self.name = module if module in ("cupy", "torch") else "numba"
        self.obj = obj

    def empty(self, shape, dtype):
        """(array of the caller's kind, a numba view of it), C-contiguous."""
        executor = backend()
        shape = tuple(int(n) for n in shape)
        if self.name == "cupy":
            import cupy

            result = cupy.empty(shape, dtype=dtype)
        elif self.name == "torch":
            import torch

            torch_dtype = torch.from_numpy(np.empty(0, dtype)).dtype
            result = torch.empty(shape, dtype=torch_dtype, device=self.obj.device)
        else:
            from numba import cuda

            result = cuda.device_array(shape, dtype=dtype)
        return result, executor.device_array(result)


def _dtype(obj) -> np.dtype:
    return np.dtype(obj.__cuda_array_interface__["typestr"])


def _shape(obj) -> tuple[int, ...]:
    return tuple(int(n) for n in obj.__cuda_array_interface__["shape"])


def _input(input, min_ndim=1):
    """(numba view, shape, dtype) of a device input, checked."""
    dtype = _dtype(input)
    if dtype.kind == "c":
        raise NotImplementedError("complex arrays are not supported on the GPU yet")
    v.check_dtype(dtype, "input")
    shape = _shape(input)
    if len(shape) < min_ndim:
        raise v.ArgumentError(f"input must have at least {min_ndim} dimension(s); got {shape}")
    return backend().device_array(input), shape, dtype


def _output(output, input, shape, dtype):
    """(result, numba view) for ``output``: None (the input's dtype), a dtype, or a device
    array of ``shape`` (C-contiguous)."""
    if output is None or not is_device_array(output):
        out_dtype = dtype if output is None else np.dtype(output)
        if out_dtype.kind == "c":
            raise NotImplementedError("complex outputs are not supported on the GPU yet")
        v.check_dtype(out_dtype, "output")
        return _Kind(input).empty(shape, out_dtype)
    if _shape(output) != tuple(shape):
        raise v.ArgumentError(
            f"output shape not correct: expected {tuple(shape)}, got {_shape(output)}"
        )
    v.check_dtype(_dtype(output), "output")
    view = backend().device_array(output)
    if not view.is_c_contiguous():
        raise ValueError("an output array on the GPU must be C-contiguous")
    return output, view


def _run(plan, view, sample_ndim, out_view):
    executor = backend()
    executor.resample(plan, executor.as_samples(view, sample_ndim), out_view, sample_ndim)


def _sample_ndim(ndim):
    if ndim > 3:
        raise NotImplementedError(
            f"arrays of more than 3 axes are not supported on the GPU yet; got {ndim}"
        )
    return ndim


def rotate(input, angle, axes=(1, 0), reshape=True, output=None, order=3, mode="constant",
           cval=0.0, prefilter=True):  # fmt: skip
    """:func:`fastaug.ndimage.rotate` of an array on a GPU (the plane: its last two axes)."""
    view, shape, dtype = _input(input, 2)
    axes = v.plane_axes(axes, len(shape))
    if tuple(axes) != (len(shape) - 2, len(shape) - 1):
        raise NotImplementedError(
            f"on the GPU the rotation plane must be the last two axes; got axes {tuple(axes)}"
        )
    interp = v.interpolation(order, mode, v.real_scalar(cval, "cval"), bool(prefilter))
    angle = v.finite_angle(angle)
    in_plane = shape[-2:]
    matrix, offset, out_plane = rotation_geometry(in_plane, angle, bool(reshape))
    out_shape = shape[:-2] + out_plane
    result, out_view = _output(output, input, out_shape, dtype)
    if int(np.prod(out_shape)) == 0:
        return result
    v.empty_plane(in_plane, out_plane, interp.mode, interp.order, interp.prefilter)
    plan = Resampling(in_plane, out_plane, interp, AffineMaps(matrix[None], offset[None]))
    _run(plan, view, 2, out_view)
    return result


def affine_transform(input, matrix, offset=0.0, output_shape=None, output=None, order=3,
                     mode="constant", cval=0.0, prefilter=True):  # fmt: skip
    """:func:`fastaug.ndimage.affine_transform` of an array on a GPU (1 to 3 axes)."""
    view, shape, dtype = _input(input)
    ndim = _sample_ndim(len(shape))
    if output_shape is None:
        output_shape = _shape(output) if is_device_array(output) else shape
    output_shape = tuple(int(n) for n in output_shape)
    v.ranks(ndim, len(output_shape))
    _sample_ndim(len(output_shape))
    interp = v.interpolation(order, mode, v.real_scalar(cval, "cval"), bool(prefilter))
    matrix, offset = v.affine_arguments(matrix, offset, ndim, len(output_shape))
    if matrix.ndim == 1:
        if len(output_shape) != ndim:
            raise NotImplementedError("on the GPU a diagonal matrix keeps the input's rank")
        plan = Resampling(shape, output_shape, interp, Separable(matrix, offset / matrix))
    else:
        plan = Resampling(shape, output_shape, interp, AffineMaps(matrix[None], offset[None]))
    result, out_view = _output(output, input, output_shape, dtype)
    if int(np.prod(output_shape)):
        _run(plan, view, ndim, out_view)
    return result


def map_coordinates(input, coordinates, output=None, order=3, mode="constant", cval=0.0,
                    prefilter=True):  # fmt: skip
    """:func:`fastaug.ndimage.map_coordinates` of an array on a GPU (1 to 3 axes); the
    coordinates may be on the GPU too (C-contiguous) or on the host."""
    view, shape, dtype = _input(input)
    ndim = _sample_ndim(len(shape))
    executor = backend()
    if is_device_array(coordinates):
        coord_shape = _shape(coordinates)
        coord_dtype = _dtype(coordinates)
        if coord_dtype.kind == "c":
            raise TypeError("coordinates: Complex type not supported")
        v.check_dtype(coord_dtype, "coordinates")
        v.ranks(ndim, len(coord_shape) - 1)
        if coord_shape[0] != ndim:
            raise v.ArgumentError(
                f"invalid shape for coordinate array: expected {ndim} coordinates along "
                f"axis 0; got shape {coord_shape}"
            )
        points = executor.device_array(coordinates)
        if not points.is_c_contiguous():
            raise ValueError("coordinates on the GPU must be C-contiguous")
        points = points.reshape(ndim, int(np.prod(coord_shape[1:])))
    else:
        host = v.coordinate_array(coordinates, ndim)
        coord_shape = host.shape
        points = np.ascontiguousarray(host, dtype=np.float64).reshape(ndim, -1)
    out_shape = tuple(coord_shape[1:])
    interp = v.interpolation(order, mode, v.real_scalar(cval, "cval"), bool(prefilter))
    result, out_view = _output(output, input, out_shape, dtype)
    if int(np.prod(out_shape)):
        plan = Resampling(shape, out_shape, interp, Coordinates(points))
        _run(plan, view, ndim, out_view)
    return result


def shift(input, shift, output=None, order=3, mode="constant", cval=0.0, prefilter=True):
    """:func:`fastaug.ndimage.shift` of an array on a GPU (1 to 3 axes)."""
    view, shape, dtype = _input(input)
    ndim = _sample_ndim(len(shape))
    interp = v.interpolation(order, mode, v.real_scalar(cval, "cval"), bool(prefilter))
    shifts = np.asarray([-s for s in v.per_axis(shift, ndim, "shift")], dtype=np.float64)
    result, out_view = _output(output, input, shape, dtype)
    if int(np.prod(shape)):
        plan = Resampling(shape, shape, interp, Separable(None, shifts))
        _run(plan, view, ndim, out_view)
    return result


def zoom(input, zoom, output=None, order=3, mode="constant", cval=0.0, prefilter=True, *,
         grid_mode=False):  # fmt: skip
    """:func:`fastaug.ndimage.zoom` of an array on a GPU (1 to 3 axes)."""
    view, shape, dtype = _input(input)
    ndim = _sample_ndim(len(shape))
    interp = v.interpolation(order, mode, v.real_scalar(cval, "cval"), bool(prefilter))
    zooms = v.per_axis(zoom, ndim, "zoom")
    out_shape = zoom_output_shape(shape, zooms)
    result, out_view = _output(output, input, out_shape, dtype)
    grid = v.integer_flag(grid_mode, "grid_mode")
    if grid and mode in ("constant", "wrap"):
        warnings.warn(
            f"It is recommended to use mode = grid-{mode} instead of {mode} when "
            "grid_mode is True.",
            stacklevel=3,
        )
    if prefilter and all(z == 1 for z in zooms):  # SciPy's early exit: a copy
        if np.dtype(out_view.dtype) != dtype:
            raise NotImplementedError("on the GPU a zoom of 1 copies into the input's dtype only")
        out_view.copy_to_device(view)
        return result
    if int(np.prod(out_shape)):
        factors = zoom_factors(shape, out_shape, grid)
        plan = Resampling(shape, out_shape, interp, Separable(factors, None, grid))
        _run(plan, view, ndim, out_view)
    return result


def spline_filter(input, order=3, output=np.float64, mode="mirror", axis=None):
    """:func:`fastaug.ndimage.spline_filter` (``axis`` None) or ``spline_filter1d`` of an
    array on a GPU (1 to 3 axes, float32 or float64 output)."""
    view, shape, dtype = _input(input)
    ndim = _sample_ndim(len(shape))
    order = v.spline_order(order)
    result, out_view = _output(output, input, shape, dtype)
    if np.dtype(out_view.dtype).kind != "f":
        raise NotImplementedError("on the GPU spline_filter writes float32 or float64 only")
    executor = backend()
    if order in (0, 1):
        if np.dtype(out_view.dtype) != dtype:
            raise NotImplementedError("on the GPU orders 0 and 1 copy into the input's dtype only")
        out_view.copy_to_device(view)
        return result
    init = PREFILTER_INIT[v.mode_code(mode)]
    axes = range(ndim) if axis is None else [v.array_axis(axis, ndim)]
    samples = executor.as_samples(view, ndim)
    out_samples = executor.as_samples(out_view, ndim)
    executor.spline_filter(samples, out_samples, order, init, list(axes), ndim)
    return result


def affine_each(images, matrices, offsets, interp: Interp, output_shape=None, out=None,
                channel_axis=None):  # fmt: skip
    """:func:`fastaug.affine_each` of a batch on a GPU: ``(N, H, W)``, ``(N, C, H, W)``
    (``channel_axis=1``) or volumes ``(N, D, H, W)`` by 3-D matrices."""
    view, shape, dtype = _input(images, 3)
    volumes = len(np.shape(matrices)) == 3 and np.shape(matrices)[1:] in ((3, 4), (4, 4))
    if len(shape) == 4 and channel_axis is None and np.shape(matrices)[1:] == (3, 3):
        volumes = not shape[3] <= 4 < shape[1]
    if volumes:
        matrices, offsets = v.affine_matrices(matrices, offsets, shape[0], ndim=3)
        out_sample = tuple(shape[1:]) if output_shape is None else tuple(output_shape)
        sample_ndim = 3
    else:
        if output_shape is not None:
            raise ValueError("output_shape is for volumes (N, D, H, W)")
        matrices, offsets = v.affine_matrices(matrices, offsets, shape[0])
        out_sample = tuple(shape[-2:])
        sample_ndim = 2
    return _each(images, view, shape, dtype, matrices, offsets, interp, out_sample,
                 sample_ndim, out, channel_axis)  # fmt: skip


def rotate_each(images, angles, interp: Interp, out=None, channel_axis=None):
    """:func:`fastaug.rotate_each` of a batch on a GPU: ``(N, H, W)`` or ``(N, C, H, W)``."""
    view, shape, dtype = _input(images, 3)
    angles = v.finite_angles(angles)
    if angles.shape[0] != shape[0]:
        raise ValueError(
            f"angles must have one angle per image: expected {shape[0]}, got {angles.shape[0]}"
        )
    matrices, offsets = rotation_matrices(angles, shape[-2:])
    return _each(images, view, shape, dtype, matrices, offsets, interp, tuple(shape[-2:]), 2,
                 out, channel_axis)  # fmt: skip


def _each(images, view, shape, dtype, matrices, offsets, interp, out_sample, sample_ndim, out,
          channel_axis):  # fmt: skip
    lead = len(shape) - sample_ndim
    if lead == 2:
        check_channels(shape, channel_axis)
        matrices = np.repeat(matrices, shape[1], axis=0)
        offsets = np.repeat(offsets, shape[1], axis=0)
    elif lead != 1:
        raise v.ArgumentError(f"images must be a batch of samples; got shape {shape}")
    v.empty_plane(shape[lead:], out_sample, interp.mode, interp.order, interp.prefilter)
    result, out_view = _output(out, images, shape[:lead] + out_sample, dtype)
    if int(np.prod(shape[:lead] + out_sample)):
        plan = Resampling(shape[lead:], out_sample, interp, AffineMaps(matrices, offsets))
        _run(plan, view, sample_ndim, out_view)
    return result


def augment(images, labels, angles, include_original, layout, interp: Interp, channel_axis=None):
    """:func:`fastaug.augment` of a batch on a GPU (``(N, H, W)`` or ``(N, C, H, W)`` with
    ``channel_axis=1``): each image is prefiltered once and every angle reads the same
    coefficients; the originals are copied as they are. Returns ``(images, labels)`` of the
    input's kinds."""
    view, shape, dtype = batch_input(images)
    check_channels(shape, channel_axis)
    n = shape[0]
    channels = shape[1] if len(shape) == 4 else 1
    if labels is not None:
        label_shape = _shape(labels) if is_device_array(labels) else np.shape(labels)
        if len(label_shape) not in (1, 2) or label_shape[0] != n:
            raise ValueError(
                f"labels must have shape (N,) or (N, K) with N = {n} images; got "
                f"shape {label_shape}"
            )
    plane = tuple(shape[-2:])
    copies = len(angles) + bool(include_original)
    geometry = [rotation_geometry(plane, float(a), False) for a in angles]
    matrices = np.array([g[0] for g in geometry]).reshape(-1, 2, 2)
    offsets = np.array([g[1] for g in geometry]).reshape(-1, 2)
    out_images = np.arange(n * copies)
    if layout == "interleaved":
        image, slot = out_images // copies, out_images % copies
    else:
        slot, image = out_images // n, out_images % n
    angle = slot - bool(include_original)
    executor = backend()
    kinds = np.where(angle < 0, executor.kernels.COPY, executor.kernels.RESAMPLE).astype(np.int8)
    ch = np.arange(channels)
    outputs = executor.Samples(
        (image[:, None] * channels + ch).ravel(),
        np.repeat(kinds, channels),
        np.repeat(np.maximum(angle, 0), channels).astype(np.int64),
    )
    if len(angles):
        v.empty_plane(plane, plane, interp.mode, interp.order, interp.prefilter)
    result, out_view = _Kind(images).empty((n * copies,) + tuple(shape[1:]), dtype)
    if n and copies and int(np.prod(plane)):
        maps = AffineMaps(matrices if len(angles) else np.eye(2)[None], offsets
                          if len(angles) else np.zeros((1, 2)))  # fmt: skip
        plan = Resampling(plane, plane, interp, maps)
        samples = executor.as_samples(view, 2)
        executor.resample(plan, samples, out_view, 2, outputs, raw_copy=True)
    return result, _repeat_labels(labels, copies, layout)


def _repeat_labels(labels, copies, layout):
    """Labels following their images: each repeated ``copies`` times in a row (interleaved)
    or the whole set ``copies`` times (blocked), in the labels' own kind."""
    if labels is None:
        return None
    if not is_device_array(labels):
        labels = np.asarray(labels)
        if layout == "interleaved":
            return np.repeat(labels, copies, axis=0)
        return np.concatenate([labels] * copies, axis=0)
    kind = _Kind(labels).name
    if kind == "cupy":
        import cupy

        if layout == "interleaved":
            return cupy.repeat(labels, copies, axis=0)
        return cupy.concatenate([labels] * copies, axis=0)
    if kind == "torch":
        import torch

        if layout == "interleaved":
            return torch.repeat_interleave(labels, copies, dim=0)
        return torch.cat([labels] * copies, dim=0)
    raise NotImplementedError("labels on the GPU: pass a CuPy array, a torch tensor or NumPy")


def batch_input(images):
    """(numba view, shape, dtype) of a GPU batch ``(N, H, W)`` or ``(N, C, H, W)``."""
    view, shape, dtype = _input(images, 3)
    if len(shape) > 4:
        raise v.ArgumentError(f"images must be (N, H, W) or (N, C, H, W); got shape {shape}")
    return view, shape, dtype


def check_channels(shape, channel_axis):
    """The GPU's batches: ``(N, H, W)``, or ``(N, C, H, W)`` with ``channel_axis=1``."""
    if len(shape) == 4 and channel_axis not in (1, -3):
        raise NotImplementedError(
            "on the GPU a batch with channels is (N, C, H, W) with channel_axis=1; "
            f"got shape {shape}, channel_axis={channel_axis}"
        )


def moved_batch(view, shape, pull, kinds, interp, target):
    """A new GPU batch of ``target`` dtype: sample ``i`` of ``view`` (``(N, [C,] H, W)``)
    resampled through the homogeneous pull-back ``pull[i]`` where ``kinds[i]`` says so,
    else copied or flipped (``kernels.cuda.resample`` kinds), channels alike."""
    executor = backend()
    channels = shape[1] if len(shape) == 4 else 1
    plane = tuple(shape[-2:])
    n_planes = shape[0] * channels
    outputs = executor.Samples(
        np.arange(n_planes, dtype=np.int64),
        np.repeat(np.asarray(kinds, np.int8), channels),
        np.arange(n_planes, dtype=np.int64),
    )
    matrices = np.repeat(np.ascontiguousarray(pull[:, :2, :2]), channels, axis=0)
    offsets = np.repeat(np.ascontiguousarray(pull[:, :2, 2]), channels, axis=0)
    from numba import cuda

    out = cuda.device_array(shape, np.dtype(target))
    if out.size:
        if interp is not None:
            v.empty_plane(plane, plane, interp.mode, interp.order, interp.prefilter)
        else:  # flips and copies only: the interpolation is never used
            interp = Interp(0, "constant", 0.0)
        plan = Resampling(plane, plane, interp, AffineMaps(matrices, offsets))
        raw = np.dtype(view.dtype) == np.dtype(target)
        executor.resample(plan, executor.as_samples(view, 2), out, 2, outputs, raw_copy=raw)
    return out


def as_doubles(view, shape):
    """A new float64 copy of a GPU batch, flat (``N * E`` values, C order)."""
    executor = backend()
    return executor.flat(executor.as_doubles(executor.as_samples(view, 2)))


def stored(values, shape, dtype):
    """A new GPU batch of ``shape`` and ``dtype``: flat float64 ``values`` stored as SciPy
    stores doubles."""
    from numba import cuda

    return backend().store_into(values, cuda.device_array(shape, np.dtype(dtype)))


def like_input(images, batch):
    """``batch`` (a numba device array) as an array of the kind of ``images``."""
    kind = _Kind(images)
    if kind.name == "numba":
        return batch
    result, view = kind.empty(tuple(batch.shape), np.dtype(batch.dtype))
    view.copy_to_device(batch)
    return result
