"""The CUDA kernels, run by numba-cuda's simulator on tiny inputs, give SciPy's numbers and
the CPU backend's, bit for bit (issue 23, item 3).

The simulator runs every GPU thread as Python and calls the same scalar functions the
compiled kernels call (the products that the GPU rounds with ``dmul_rn`` are plain IEEE
products here): what this checks is the kernels' indexing, layouts, boundaries, sums and
stores. PTX without FMAs is ``test_cuda_ptx.py``'s part.

Run with ``NUMBA_ENABLE_CUDASIM=1`` (CI's CUDA step); skipped otherwise.
"""

import numpy as np
import pytest
import scipy.ndimage as sp

pytest.importorskip("numba_cuda", reason="numba-cuda not installed: pip install '.[cuda]'")

from numba import config  # noqa: E402

if not config.ENABLE_CUDASIM:
    pytest.skip(
        "simulated CUDA: run with NUMBA_ENABLE_CUDASIM=1 (CI's CUDA step)", allow_module_level=True
    )

import fastaug  # noqa: E402
import fastaug.ndimage as fnd  # noqa: E402
from fastaug.cuda import SimulatedDeviceArray as StandIn  # noqa: E402

MODES = ["nearest", "reflect", "grid-mirror", "mirror", "constant", "grid-constant", "wrap",
         "grid-wrap"]  # fmt: skip
RNG = np.random.default_rng(23)
IMAGE = RNG.random((6, 7)) * 10 - 3
#: Lines shorter than 21 samples: fastaug follows SciPy main's reflect prefilter
#: (scipy/scipy#24615), SciPy 1.17 does not; there the CPU backend is the reference.
SHORT_REFLECT = ("nearest", "reflect", "grid-mirror")


@pytest.fixture(params=[True, False], ids=["fused", "apart"])
def planes(request, monkeypatch):
    """2-D planes both ways: pad, prefilter and gather in one kernel per plane (shared
    memory), and in three kernels through device memory."""
    from fastaug.backends import cuda as backend

    monkeypatch.setattr(backend, "FUSED_PLANES", request.param)
    return request.param


def host(result):
    return result.copy_to_host()


def same(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b, strict=True)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("order", range(6))
def test_rotate_matches_scipy_and_the_cpu(order, mode, planes):
    if not planes and order not in (1, 3):
        pytest.skip("three kernels apart: orders 1 and 3 show the path (fused: all)")
    gpu = host(fnd.rotate(StandIn(IMAGE), 23.0, order=order, mode=mode, cval=1.5))
    same(gpu, fnd.rotate(IMAGE, 23.0, order=order, mode=mode, cval=1.5))
    if order < 2 or mode not in SHORT_REFLECT:
        same(gpu, sp.rotate(IMAGE, 23.0, order=order, mode=mode, cval=1.5))


@pytest.mark.parametrize(
    "in_dtype, out_dtype",
    [
        (np.uint8, None),
        (np.float32, np.float64),
        (np.uint8, np.int16),
        (np.float64, np.bool_),
        (np.float64, np.uint64),
        (np.int32, np.float32),
    ],  # fmt: skip
)
def test_stores_as_scipy(in_dtype, out_dtype, planes):
    data = (RNG.random((7, 8)) * 300 - 20).astype(in_dtype)
    if out_dtype is np.uint64:
        data = data * 1e18
    kwargs = dict(order=3, mode="constant", reshape=False, output=out_dtype)
    gpu = host(fnd.rotate(StandIn(data), -31.0, **kwargs))
    same(gpu, sp.rotate(data, -31.0, **kwargs))


def test_affine_transform_3d_and_map_coordinates():
    volume = RNG.random((4, 5, 6))
    matrix = np.array([[1.0, 0.1, 0.0], [0.05, 0.9, 0.1], [0.0, 0.1, 1.1]])
    for order, mode in [(3, "nearest"), (1, "constant"), (5, "mirror"), (0, "wrap")]:
        kwargs = dict(offset=(0.3, -0.2, 0.5), order=order, mode=mode, output_shape=(3, 5, 4))
        gpu = host(fnd.affine_transform(StandIn(volume), matrix, **kwargs))
        same(gpu, fnd.affine_transform(volume, matrix, **kwargs))
        if mode != "nearest":
            same(gpu, sp.affine_transform(volume, matrix, **kwargs))
    coords = RNG.random((3, 4, 5)) * 8 - 1.5
    for order, mode in [(3, "mirror"), (2, "grid-wrap"), (1, "grid-constant")]:
        expected = sp.map_coordinates(volume, coords, order=order, mode=mode, cval=-2.0)
        for points in (coords, StandIn(coords), StandIn(coords.astype(np.float32))):
            gpu = host(fnd.map_coordinates(StandIn(volume), points, order=order, mode=mode,
                                           cval=-2.0))  # fmt: skip
            if isinstance(points, StandIn) and points.array.dtype == np.float32:
                expected32 = sp.map_coordinates(volume, coords.astype(np.float32), order=order,
                                                mode=mode, cval=-2.0)  # fmt: skip
                same(gpu, expected32)
            else:
                same(gpu, expected)


def test_zoom_shift_and_the_spline_filters():
    image = (RNG.random((6, 9)) * 255).astype(np.uint8)
    for order, mode in [(3, "nearest"), (1, "reflect"), (4, "grid-constant")]:
        same(host(fnd.zoom(StandIn(image), 1.7, order=order, mode=mode)),
             fnd.zoom(image, 1.7, order=order, mode=mode))  # fmt: skip
        same(host(fnd.shift(StandIn(image), (0.3, -1.6), order=order, mode=mode, cval=7)),
             sp.shift(image, (0.3, -1.6), order=order, mode=mode, cval=7))  # fmt: skip
    same(host(fnd.zoom(StandIn(image), (0.5, 2.0), order=3, mode="grid-wrap", grid_mode=True)),
         sp.zoom(image, (0.5, 2.0), order=3, mode="grid-wrap", grid_mode=True))  # fmt: skip
    volume = RNG.random((4, 5, 22))
    same(host(fnd.spline_filter(StandIn(volume), 3)), fnd.spline_filter(volume, 3))
    same(host(fnd.spline_filter(StandIn(volume), 3)), sp.spline_filter(volume, 3))
    for order, mode, axis in [(5, "nearest", 2), (2, "grid-wrap", 0), (4, "mirror", 1)]:
        same(host(fnd.spline_filter1d(StandIn(volume), order, axis=axis, mode=mode)),
             fnd.spline_filter1d(volume, order, axis=axis, mode=mode))  # fmt: skip


def test_batches_per_sample(planes):
    images = RNG.random((3, 7, 8)).astype(np.float32)
    angles = [10.0, -15.0, 90.0]
    same(host(fastaug.rotate_each(StandIn(images), angles)), fastaug.rotate_each(images, angles))
    matrices = np.stack([np.array([[1.1, 0.1, 0.2], [0.0, 0.9, -0.3]])] * 3)
    matrices[1, 0, 2] = 1.7
    kwargs = dict(order=1, mode="reflect")
    same(host(fastaug.affine_each(StandIn(images), matrices, **kwargs)),
         fastaug.affine_each(images, matrices, **kwargs))  # fmt: skip
    channels = (RNG.random((2, 3, 7, 8)) * 255).astype(np.uint8)
    same(host(fastaug.rotate_each(StandIn(channels), [10.0, -15.0], channel_axis=1)),
         fastaug.rotate_each(channels, [10.0, -15.0], channel_axis=1))  # fmt: skip


def test_volumes_per_sample():
    volumes = RNG.random((2, 3, 4, 5))
    homogeneous = np.stack([np.eye(4)] * 2)
    homogeneous[:, :3, :3] += RNG.random((2, 3, 3)) * 0.1
    homogeneous[:, :3, 3] = [0.4, -0.2, 0.1]
    same(host(fastaug.affine_each(StandIn(volumes), homogeneous, order=3, mode="reflect")),
         fastaug.affine_each(volumes, homogeneous, order=3, mode="reflect"))  # fmt: skip


def test_what_the_gpu_does_not_do_yet_is_refused_plainly():
    with pytest.raises(NotImplementedError, match="complex"):
        fnd.rotate(StandIn(IMAGE.astype(np.complex128)), 10)
    with pytest.raises(NotImplementedError, match="last two axes"):
        fnd.rotate(StandIn(RNG.random((4, 5, 6))), 10, axes=(0, 1))
    with pytest.raises(NotImplementedError, match="channel"):
        fastaug.rotate_each(StandIn(RNG.random((2, 5, 6, 3))), [1.0, 2.0], channel_axis=-1)
    with pytest.raises(ValueError, match="order"):
        fnd.rotate(StandIn(IMAGE), 10, order=7)


@pytest.mark.parametrize("layout", ["interleaved", "blocked"])
@pytest.mark.parametrize("include_original", [True, False])
def test_augment_as_on_the_cpu(layout, include_original, planes):
    images = (RNG.random((3, 7, 8)) * 255).astype(np.uint8)
    labels = np.arange(3)
    kwargs = dict(angles=(15, -15, 40), include_original=include_original, layout=layout)
    gpu, gpu_labels = fastaug.augment(StandIn(images), labels, **kwargs)
    cpu, cpu_labels = fastaug.augment(images, labels, **kwargs)
    same(host(gpu), cpu)
    same(gpu_labels, cpu_labels)
    channels = RNG.random((2, 3, 6, 7)).astype(np.float32)
    gpu, _ = fastaug.augment(StandIn(channels), None, channel_axis=1, order=1, **kwargs)
    same(host(gpu), fastaug.augment(channels, None, channel_axis=1, order=1, **kwargs)[0])


def _pipelines():
    from fastaug import presets
    from fastaug.transforms import (
        BrightnessContrast,
        Compose,
        GaussianNoise,
        HorizontalFlip,
        OneOf,
        RandomAffine,
        RandomRotation,
        VerticalFlip,
    )

    return {
        "affine+noise+brightness": Compose(
            [
                RandomAffine(degrees=15, translate=(0.1, 0.1)),
                GaussianNoise(0.05),
                BrightnessContrast(),
            ]  # fmt: skip
        ),
        "flip+rotation": Compose(
            [HorizontalFlip(p=0.5), RandomRotation(20, p=0.7, order=3, mode="nearest")]
        ),
        "oneof": Compose(
            [
                BrightnessContrast(p=0.5),
                OneOf([VerticalFlip(), RandomRotation(10)]),
                GaussianNoise((0.0, 0.2), p=0.6),
            ]  # fmt: skip
        ),
        "nothing applied": Compose([BrightnessContrast(p=0.0)]),
        "presets.mnist": presets.mnist(),
    }


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("name", list(_pipelines()))
def test_the_pipeline_gives_the_cpus_images(name, dtype):
    pipeline = _pipelines()[name]
    images = (RNG.random((6, 9, 10)) * (255 if dtype is np.uint8 else 1)).astype(dtype)
    gpu = host(pipeline(StandIn(images), seed=3, start=40))
    same(gpu, pipeline(images, seed=3, start=40))
    labels = np.arange(6)
    gpu_images, gpu_labels = pipeline.replay(StandIn(images), labels=labels)
    same(host(gpu_images), gpu)
    assert gpu_labels is labels


def test_noise_finished_on_the_host_is_the_cpus():
    """Some normal numbers need the ziggurat's retries (C's exp and log): the host makes
    those; the batch here has such numbers, and every value still matches."""
    from fastaug import draws
    from fastaug.kernels.photometric import ziggurat_first_try
    from fastaug.transforms import GaussianNoise

    noise = GaussianNoise(0.3)
    images = RNG.random((4, 16, 16))
    out = host(noise(StandIn(images), seed=11))
    same(out, noise(images, seed=11))
    key = draws.stream_key(11, 0, 7)
    retried = [not ziggurat_first_try(np.uint64(key), np.uint64(n))[1] for n in range(4 * 256)]
    assert sum(retried) > 0


def test_pipeline_parts_not_on_the_gpu_yet_are_refused():
    from fastaug.transforms import Compose, GaussianBlur, RandomRotation

    images = RNG.random((2, 6, 7))
    with pytest.raises(NotImplementedError, match="GaussianBlur"):
        Compose([GaussianBlur(1.0)])(StandIn(images), seed=0)
    with pytest.raises(NotImplementedError, match="masks"):
        Compose([RandomRotation(10)])(StandIn(images), seed=0, masks=np.zeros((2, 6, 7), np.uint8))


def test_a_strided_device_array_is_read_in_place():
    """A device array with strides of its own (every other column of a wider array)."""

    class Strided:
        def __init__(self, array):
            self.array = array

        @property
        def __cuda_array_interface__(self):
            a = self.array
            return {"shape": a.shape, "strides": a.strides, "typestr": a.dtype.str,
                    "data": (a.ctypes.data, False), "version": 3}  # fmt: skip

    wide = RNG.random((6, 14))
    view = wide[:, ::2]
    same(host(fnd.rotate(Strided(view), 20.0, order=3)), fnd.rotate(view, 20.0, order=3))
