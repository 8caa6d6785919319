"""The CUDA executor: the CPU executor's verbs on numba-cuda, over arrays on a GPU.

Plans are the CPU's (:mod:`fastaug.resampling`: an :class:`~fastaug.resampling.Interp`
and a coordinate source, decided on the host); this module runs them on device memory:

* :func:`coefficients`: SciPy's pre-pad and B-spline prefilter, on the device (float64);
* :func:`resample`: a whole-array plan (``affine_transform``, ``map_coordinates``,
  ``zoom``, ``shift``, ``rotate``), or a batch of samples each by its own affine map
  (``rotate_each``, ``affine_each``);
* :func:`spline_filter`: the coefficients alone.

Arrays come in as anything with ``__cuda_array_interface__`` (CuPy, PyTorch CUDA tensors,
numba device arrays) and are read in place, strides and all; outputs are C-contiguous
device arrays that the caller allocated (:func:`empty_like_kind`), so a CuPy input gives
a CuPy output and a tensor a tensor. Per-axis tables (``zoom``, ``shift``) and pole powers
are computed on the host by the CPU kernels, which is where C's ``pow`` is.
"""

import functools
import typing

import numpy as np
from numba import cuda

from ..kernels import gather_separable
from ..kernels import photometric as photometric_cpu
from ..kernels import prefilter as prefilter_kernels
from ..kernels.cuda import photometric
from ..kernels.cuda import resample as kernels
from ..kernels.cuda.primitives import SIMULATED
from ..resampling import AffineMaps, Coordinates, Separable, cast_rule, pad_value


def device_array(obj):
    """A numba device array over ``obj``'s memory (no copy)."""
    if SIMULATED:
        # The simulator's "device" memory is host memory: view it as a NumPy array.
        return _simulated_view(obj)
    return cuda.as_cuda_array(obj)


def _simulated_view(obj):
    from numba.cuda.simulator.cudadrv.devicearray import FakeCUDAArray

    if isinstance(obj, FakeCUDAArray):
        return obj
    face = obj.__cuda_array_interface__
    dtype = np.dtype(face["typestr"])
    shape = tuple(face["shape"])
    strides = face.get("strides") or None
    size = int(np.prod(shape, dtype=np.int64))
    if strides is None:
        extent = size * dtype.itemsize
    else:  # the bytes from the first element to the end of the last
        extent = sum((n - 1) * s for n, s in zip(shape, strides)) + dtype.itemsize if size else 0
    memory = (np.ctypeslib.ctypes.c_char * max(extent, 1)).from_address(face["data"][0])
    return FakeCUDAArray(np.ndarray(shape, dtype, buffer=memory, strides=strides))


def _strided(a, shape, strides):
    """A view of device array ``a`` with these shape and (byte) strides."""
    if SIMULATED:
        from numba.cuda.simulator.cudadrv.devicearray import FakeCUDAArray

        host = np.lib.stride_tricks.as_strided(a._ary, shape=shape, strides=strides)
        return FakeCUDAArray(host)
    from numba.cuda.cudadrv.devicearray import DeviceNDArray

    return DeviceNDArray(shape, strides, a.dtype, gpu_data=a.gpu_data)


def as_samples(a, sample_ndim):
    """``a`` (``(..., *sample)``) as ``(B, D0, D1, D2)``: the leading axes of ``a`` before
    its last ``sample_ndim`` (at most 3) are one batch axis, and unit axes are added in front
    of the sample. Needs the batch axes to be one stride apart (C order), as a reshape would."""
    shape, strides = tuple(a.shape), tuple(a.strides)
    lead = len(shape) - sample_ndim
    batch = int(np.prod(shape[:lead], dtype=np.int64))
    if lead == 0:
        batch_stride = 0
    else:
        batch_stride = strides[lead - 1]
        for axis in range(lead - 1):
            if shape[axis] > 1 and strides[axis] != strides[axis + 1] * shape[axis + 1]:
                raise ValueError("the batch axes of a GPU array must be C-contiguous")
    sample_shape = (1,) * (3 - sample_ndim) + shape[lead:]
    sample_strides = (0,) * (3 - sample_ndim) + strides[lead:]
    return _strided(a, (batch,) + sample_shape, (batch_stride,) + sample_strides)


def flat(a):
    """A C-contiguous device array as one flat array."""
    return a.reshape(a.size)


def _launch(kernel, n, *args):
    if n:
        kernel[kernels.blocks(n), kernels.THREADS](*args)


@functools.lru_cache(maxsize=64)
def _filter_constants(order, n, init):
    """(poles, powers, gain) of the prefilter for lines of ``n``, computed on the host by
    the CPU kernels (C's ``pow``) and copied to the device once."""
    poles, powers, gain = prefilter_kernels.filter_constants(order, n, init)
    return cuda.to_device(poles), cuda.to_device(powers), float(gain)


def filter_axes(c, order, init, axes):
    """Prefilter float64 C-contiguous ``c`` in place along each of ``axes`` in turn (SciPy's
    order); lines of one sample are left as they are."""
    shape = tuple(c.shape)
    for axis in axes:
        n = shape[axis]
        if n <= 1:
            continue
        outer = int(np.prod(shape[:axis], dtype=np.int64))
        inner = int(np.prod(shape[axis + 1 :], dtype=np.int64))
        poles, powers, gain = _filter_constants(order, n, init)
        save = cuda.device_array((outer, inner))
        lines = c.reshape(outer * n, inner)
        _launch(kernels.prefilter_lines, outer * inner, lines, n, poles, powers, gain, init, save)


def coefficients(samples, interp, sample_ndim):
    """What SciPy interpolates, on the device: ``samples`` (``(B, D0, D1, D2)``, any real
    dtype) pre-padded by ``interp.npad`` on the last ``sample_ndim`` axes as ``np.pad``
    pads, as doubles, and prefiltered along those axes where ``interp.filtered``."""
    npad = interp.npad
    pads = [0, 0, 0]
    for a in range(3 - sample_ndim, 3):
        pads[a] = npad
    shape = (samples.shape[0],) + tuple(n + 2 * p for n, p in zip(samples.shape[1:], pads))
    c = cuda.device_array(shape)
    value = pad_value(interp.cval, np.dtype(samples.dtype)) if npad else 0.0
    _launch(kernels.pad_load, c.size, samples, c, *pads, interp.pad_edge, value)
    if interp.filtered:
        filter_axes(c, interp.order, interp.prefilter_init, range(4 - sample_ndim, 4))
    return c


class Samples(typing.NamedTuple):
    """What each output sample of an affine resampling is (int arrays, one entry per output
    sample): ``source`` the input sample it reads, ``kind`` resampled or copied
    (``kernels.cuda.resample.RESAMPLE``, ``COPY``, ``FLIP_*``), ``map`` its affine map."""

    source: np.ndarray
    kind: np.ndarray
    map: np.ndarray

    @classmethod
    def each(cls, n_samples, n_maps):
        """Sample ``b`` resampled by map ``b`` (one map each) or by the one map."""
        source = np.arange(n_samples, dtype=np.int64)
        kind = np.full(n_samples, kernels.RESAMPLE, np.int8)
        return cls(source, kind, source if n_maps > 1 else np.zeros(n_samples, np.int64))


def resample(resampling, samples, out, sample_ndim, outputs=None, raw_copy=False):
    """Run ``resampling`` (a :class:`~fastaug.resampling.Resampling` of one sample's shapes)
    on ``samples`` (``(B, D0, D1, D2)``, :func:`as_samples`) into ``out`` (C-contiguous, the
    output samples of the output shape, any dtype the CPU stores). Affine maps: per sample
    when there are ``B`` of them, else one for all, or as ``outputs`` (:class:`Samples`)
    says, with its copies stored as they are (``raw_copy``, same dtype) or as doubles."""
    interp, source = resampling.interp, resampling.source
    dest = flat(out)
    cast = cast_rule(np.dtype(out.dtype))
    order, mode, cval, npad = interp.order, interp.code, interp.cval, interp.npad
    if isinstance(source, AffineMaps):
        if outputs is None:
            outputs = Samples.each(samples.shape[0], source.matrices.shape[0])
        if sample_ndim == 2 and FUSED_PLANES and _fits_in_shared(resampling):
            if dest.size:
                _planes_fused(resampling, samples, dest, outputs, raw_copy, cast)
            return out
        any_resampled = bool((outputs.kind == kernels.RESAMPLE).any())
        c = coefficients(samples, interp, sample_ndim) if any_resampled else _NO_COEFFICIENTS()
        out_shape = (1,) * (3 - len(resampling.out_shape)) + resampling.out_shape
        _launch(
            kernels.affine_gather, dest.size, c, samples, *map(cuda.to_device, outputs),
            cuda.to_device(np.ascontiguousarray(source.matrices, np.float64)),
            cuda.to_device(np.ascontiguousarray(source.offsets, np.float64)),
            dest, *out_shape, order, mode, cval, npad, raw_copy, *cast,
        )  # fmt: skip
        return out
    c = coefficients(samples, interp, sample_ndim)
    if isinstance(source, Coordinates):
        points = source.points
        if isinstance(points, np.ndarray):
            points = cuda.to_device(points)
        _launch(kernels.points_gather, dest.size, c, points, dest, order, mode, cval, npad, *cast)
    elif isinstance(source, Separable):
        taps, weights, cval_row, ks, out3 = separable_tables(c.shape[1:], resampling, sample_ndim)
        _launch(
            kernels.separable_gather, dest.size, c, cuda.to_device(taps), cuda.to_device(weights),
            cuda.to_device(cval_row), cuda.to_device(ks), dest, out3[1], out3[2], cval, *cast,
        )  # fmt: skip
    else:
        raise TypeError(f"unknown coordinate source {source!r}")
    return out


#: 2-D planes whose padded coefficients fit in a block's shared memory run in one kernel
#: (:func:`kernels.cuda.resample.planes_fused`); False: pad, prefilter and gather apart.
FUSED_PLANES = True
#: Dynamic shared memory a block may use without opting in (48 KiB on every CUDA GPU).
SHARED_BYTES = 48 * 1024


def _fits_in_shared(resampling):
    npad = resampling.interp.npad
    rows, cols = (n + 2 * npad for n in resampling.in_shape)
    return rows * cols * 8 <= SHARED_BYTES


def _planes_fused(resampling, samples, dest, outputs, raw_copy, cast):
    """One block per input plane (see ``planes_fused``): its output samples listed by plane."""
    interp, source = resampling.interp, resampling.source
    n_planes = samples.shape[0]
    order_by_plane = np.argsort(outputs.source, kind="stable").astype(np.int64)
    first = np.searchsorted(outputs.source[order_by_plane], np.arange(n_planes + 1))
    rows, cols = (n + 2 * interp.npad for n in resampling.in_shape)
    init = max(interp.prefilter_init, 0)
    order = interp.order if interp.filtered else 3  # the constants of an unused filter
    constants0 = _filter_constants(order, rows, init)
    constants1 = _filter_constants(order, cols, init)
    value = pad_value(interp.cval, np.dtype(samples.dtype)) if interp.npad else 0.0
    out_h, out_w = resampling.out_shape
    kernel = kernels.planes_fused[n_planes, kernels.THREADS, 0, rows * cols * 8]
    kernel(
        samples, cuda.to_device(first.astype(np.int64)), cuda.to_device(order_by_plane),
        cuda.to_device(outputs.kind), cuda.to_device(outputs.map),
        cuda.to_device(np.ascontiguousarray(source.matrices, np.float64)),
        cuda.to_device(np.ascontiguousarray(source.offsets, np.float64)), dest, out_h, out_w,
        interp.npad, interp.pad_edge, value, interp.filtered, init, *constants0, *constants1,
        interp.order, interp.code, interp.cval, raw_copy, *cast,
    )  # fmt: skip


def _NO_COEFFICIENTS():  # noqa: N802 - a constant, made on first use (it needs a context)
    return cuda.device_array((1, 1, 1, 1))


def separable_tables(coeff_shape, resampling, sample_ndim):
    """The per-axis tables of a :class:`~fastaug.resampling.Separable` source, computed on
    the host by the CPU kernel (``kernels.gather_separable.separable_axis_table``)."""
    interp, source = resampling.interp, resampling.source
    lead = 3 - sample_ndim
    out3 = (1,) * lead + tuple(resampling.out_shape)
    zoom = np.ones(sample_ndim) if source.zoom is None else source.zoom
    shift = np.zeros(sample_ndim) if source.shift is None else source.shift
    grid_mode = bool(source.grid_mode) and source.zoom is not None
    k = interp.order + 1
    longest = max(out3)
    taps = np.zeros((3, longest, k), np.int64)
    weights = np.zeros((3, longest, k))
    cval_row = np.zeros((3, longest), np.bool_)
    ks = np.ones(3, np.int64)
    weights[:lead, 0, 0] = 1.0
    for d in range(sample_ndim):
        a = lead + d
        gather_separable.separable_axis_table(
            coeff_shape[a], float(shift[d]), float(zoom[d]), grid_mode, interp.npad,
            interp.order, interp.code, taps[a, : out3[a]], weights[a, : out3[a]],
            cval_row[a, : out3[a]],
        )  # fmt: skip
        ks[a] = k
    return taps, weights, cval_row, ks, out3


def spline_filter(samples, out, order, init, axes, sample_ndim):
    """SciPy's spline filter of ``samples`` along ``axes`` (of the sample) into ``out``
    (float32 or float64, C-contiguous): the doubles, stored as SciPy stores them."""
    c = cuda.device_array(tuple(samples.shape))
    _launch(kernels.pad_load, c.size, samples, c, 0, 0, 0, False, 0.0)
    filter_axes(c, order, init, [4 - sample_ndim + a for a in axes])
    dest = flat(out)
    _launch(kernels.store_values, dest.size, flat(c), dest, *cast_rule(np.dtype(out.dtype)))
    return out


def as_doubles(samples):
    """``samples`` (``(B, D0, D1, D2)``, any real dtype) as a new float64 C-contiguous
    device array of that shape."""
    c = cuda.device_array(tuple(samples.shape))
    _launch(kernels.pad_load, c.size, samples, c, 0, 0, 0, False, 0.0)
    return c


def store_into(values, out):
    """``out`` (C-contiguous, any dtype the CPU stores) = ``values`` (float64, as many
    elements) stored as SciPy stores doubles."""
    dest = flat(out)
    _launch(kernels.store_values, dest.size, flat(values), dest, *cast_rule(np.dtype(out.dtype)))
    return out


def scale_shift_clip(values, n_elements, applied, alphas, betas, lo, hi):
    """In place on flat float64 ``values`` (``N`` rows of ``n_elements``): the CPU's
    ``kernels.photometric.scale_shift_clip`` on the rows where ``applied``."""
    _launch(
        photometric.scale_shift_rows, values.size, values, n_elements,
        cuda.to_device(np.ascontiguousarray(applied, np.bool_)),
        cuda.to_device(np.ascontiguousarray(alphas, np.float64)),
        cuda.to_device(np.ascontiguousarray(betas, np.float64)), lo, hi,
    )  # fmt: skip


def add_noise(values, n_elements, sample_ids, key, retry_key, scales, lo, hi):
    """In place on flat float64 ``values``: the CPU's ``draws.add_noise``, value for value.
    The GPU settles the numbers whose first ziggurat try lands; the host computes the rest
    (``kernels.photometric.counter_normals_of``) and the GPU adds them."""
    ids = np.ascontiguousarray(sample_ids, np.int64)
    scales = np.ascontiguousarray(scales, np.float64)
    d_ids, d_scales = cuda.to_device(ids), cuda.to_device(scales)
    # About 1.2 % of the numbers retry: room for 1/16 of them (and 1024) leaves no chance
    # of running short on a batch of any size (binomial tails); the count still says.
    room = values.size // 16 + 1024
    count = cuda.to_device(np.zeros(1, np.int64))
    pending = cuda.device_array(room, np.int64)
    _launch(
        photometric.noise_rows, values.size, values, n_elements, d_ids, np.uint64(key),
        d_scales, lo, hi, pending, count,
    )  # fmt: skip
    n_pending = int(count.copy_to_host()[0])
    if n_pending > room:
        raise RuntimeError(f"{n_pending} noise values to finish on the host; room for {room}")
    positions = pending[:n_pending].copy_to_host() if n_pending else np.zeros(0, np.int64)
    rows = positions // n_elements
    numbers = (ids[rows] * n_elements + positions - rows * n_elements).astype(np.uint64)
    normals = np.empty(n_pending)
    photometric_cpu.counter_normals_of(np.uint64(key), np.uint64(retry_key), numbers, normals)
    if n_pending:
        _launch(
            photometric.noise_finish, n_pending, values, n_elements, pending[:n_pending],
            cuda.to_device(normals), d_scales, lo, hi,
        )  # fmt: skip
