"""Rotation grid: fastaug orders 0/1/3 x modes x dtypes versus the per-image SciPy loop,
SciPy on the stack and the dense linear map, on 60000 seeded 28x28 images rotated by +-15
degrees; optional peers (OpenCV per image, PyTorch grid_sample) when installed. Every case
is checked against SciPy after timing. Run: ``pytest bench --benchmark-only``.
"""

import numpy as np
import pytest
from scipy import ndimage

import fastaug
from bench.conftest import ANGLES, DTYPES, LOOP_SUBSET, MODES, ORDERS, record

CASES = [(o, m, d) for d in DTYPES for m in MODES for o in ORDERS]
IDS = [f"{d}-{m}-order{o}" for o, m, d in CASES]
SCALE = 60000 / LOOP_SUBSET


def case_name(order, mode, dtype):
    return f"{dtype}-{mode}-order{order}"


def _scipy(x, angle, order, mode):
    return ndimage.rotate(x, angle, axes=(1, 2), reshape=False, order=order, mode=mode)


@pytest.mark.parametrize("order,mode,dtype", CASES, ids=IDS)
def test_fastaug(benchmark, seeded_images, order, mode, dtype):
    x = seeded_images[dtype]
    name = case_name(order, mode, dtype)
    benchmark.group = f"rotate-{name}"
    kwargs = dict(angles=ANGLES, include_original=False, order=order, mode=mode)
    fastaug.augment(x[:64], **kwargs)  # compile outside the timing
    out, _ = benchmark.pedantic(
        fastaug.augment, args=(x,), kwargs=kwargs, rounds=5, warmup_rounds=1
    )
    benchmark.extra_info.update(case=name, peer="fastaug", scale=1.0)
    record(benchmark, f"fastaug-{name}")
    got = out.reshape(60000, 2, 28, 28)[:100, 0]
    np.testing.assert_array_equal(got, _scipy(x[:100], ANGLES[0], order, mode))


@pytest.mark.parametrize("order,mode,dtype", CASES, ids=IDS)
def test_scipy_loop(benchmark, seeded_images, order, mode, dtype):
    """The source script's loop: one scipy.ndimage.rotate per image and angle (subset, scaled)."""
    x = seeded_images[dtype][:LOOP_SUBSET]
    name = case_name(order, mode, dtype)
    benchmark.group = f"rotate-{name}"
    benchmark.pedantic(
        lambda: np.array(
            [
                ndimage.rotate(img, a, reshape=False, order=order, mode=mode)
                for img in x
                for a in ANGLES
            ]
        ),
        rounds=1,
    )
    benchmark.extra_info.update(case=name, peer="scipy-loop", scale=SCALE)
    record(benchmark, f"scipy-loop-{name}")


@pytest.mark.parametrize("order,mode,dtype", CASES, ids=IDS)
def test_scipy_stack(benchmark, seeded_images, order, mode, dtype):
    x = seeded_images[dtype][:LOOP_SUBSET]
    name = case_name(order, mode, dtype)
    benchmark.group = f"rotate-{name}"
    benchmark.pedantic(lambda: [_scipy(x, a, order, mode) for a in ANGLES], rounds=1)
    benchmark.extra_info.update(case=name, peer="scipy-stack", scale=SCALE)
    record(benchmark, f"scipy-stack-{name}")


@pytest.mark.parametrize("order,mode,dtype", CASES, ids=IDS)
def test_dense_gemm(benchmark, seeded_images, order, mode, dtype):
    """Rotate the 784 basis images once (not timed), then X @ M.T in float32 per angle
    (uint8 results rounded and clipped back). Approximate: float32 GEMM rounding."""
    x = seeded_images[dtype].reshape(60000, 784)
    basis = np.eye(784).reshape(784, 28, 28)
    maps = [_scipy(basis, a, order, mode).reshape(784, 784).T.astype(np.float32) for a in ANGLES]
    name = case_name(order, mode, dtype)
    benchmark.group = f"rotate-{name}"

    def run():
        xf = x.astype(np.float32, copy=False)
        outs = [xf @ m.T for m in maps]
        if dtype == "uint8":
            outs = [np.clip(np.floor(o + 0.5), 0, 255).astype(np.uint8) for o in outs]
        return outs

    benchmark.pedantic(run, rounds=3)
    benchmark.extra_info.update(case=name, peer="dense-gemm", scale=1.0)
    record(benchmark, f"dense-gemm-{name}")


@pytest.mark.parametrize("order,mode,dtype", CASES, ids=IDS)
def test_opencv(benchmark, seeded_images, order, mode, dtype):
    """cv2.warpAffine per image (the albumentations engine): fast, other semantics."""
    cv2 = pytest.importorskip(
        "cv2", reason="OpenCV is an optional peer (pip install opencv-python-headless)"
    )
    x = seeded_images[dtype]
    flags = {0: cv2.INTER_NEAREST, 1: cv2.INTER_LINEAR, 3: cv2.INTER_CUBIC}[order]
    border = {
        "nearest": cv2.BORDER_REPLICATE,
        "constant": cv2.BORDER_CONSTANT,
        "reflect": cv2.BORDER_REFLECT,
    }[mode]
    mats = [cv2.getRotationMatrix2D((13.5, 13.5), a, 1.0) for a in ANGLES]
    name = case_name(order, mode, dtype)
    benchmark.group = f"rotate-{name}"
    benchmark.pedantic(
        lambda: [
            cv2.warpAffine(img, m, (28, 28), flags=flags, borderMode=border)
            for img in x
            for m in mats
        ],
        rounds=1,
    )
    benchmark.extra_info.update(case=name, peer="opencv", scale=1.0)
    record(benchmark, f"opencv-{name}")


@pytest.mark.parametrize("order,mode,dtype", CASES, ids=IDS)
def test_torch_grid_sample(benchmark, seeded_images, order, mode, dtype):
    """PyTorch affine_grid + grid_sample on the batch (nearest/bilinear/bicubic)."""
    torch = pytest.importorskip("torch", reason="PyTorch is an optional peer (not installed)")
    x = torch.from_numpy(seeded_images[dtype].astype(np.float32))[:, None]
    interp = {0: "nearest", 1: "bilinear", 3: "bicubic"}[order]
    padding = {"nearest": "border", "constant": "zeros", "reflect": "reflection"}[mode]
    thetas = []
    for a in ANGLES:
        r = np.deg2rad(a)
        thetas.append(
            torch.tensor(
                [[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0]], dtype=torch.float32
            ).expand(len(x), 2, 3)
        )
    name = case_name(order, mode, dtype)
    benchmark.group = f"rotate-{name}"

    def run():
        return [
            torch.nn.functional.grid_sample(
                x,
                torch.nn.functional.affine_grid(t, x.shape, align_corners=False),
                mode=interp,
                padding_mode=padding,
                align_corners=False,
            )
            for t in thetas
        ]

    benchmark.pedantic(run, rounds=1)
    benchmark.extra_info.update(case=name, peer="torch", scale=1.0)
    record(benchmark, f"torch-{name}")


def test_rotate_each_random_angles(benchmark, seeded_images):
    """Per-sample random angles in [-15, 15]: fastaug.rotate_each on 60000 images."""
    x = seeded_images["float32"]
    angles = np.random.default_rng(0).uniform(-15, 15, len(x))
    fastaug.rotate_each(x[:64], angles[:64])
    benchmark.group = "rotate-each"
    out = benchmark.pedantic(fastaug.rotate_each, args=(x, angles), rounds=3, warmup_rounds=1)
    benchmark.extra_info.update(case="rotate-each", peer="fastaug", scale=1.0)
    record(benchmark, "fastaug-rotate-each")
    for i in range(0, 60000, 6000):
        np.testing.assert_array_equal(
            out[i], ndimage.rotate(x[i], angles[i], reshape=False, mode="nearest")
        )


def test_rotate_each_scipy_loop(benchmark, seeded_images):
    x = seeded_images["float32"][:LOOP_SUBSET]
    angles = np.random.default_rng(0).uniform(-15, 15, len(x))
    benchmark.group = "rotate-each"
    benchmark.pedantic(
        lambda: [
            ndimage.rotate(img, a, reshape=False, mode="nearest") for img, a in zip(x, angles)
        ],
        rounds=1,
    )
    benchmark.extra_info.update(case="rotate-each", peer="scipy-loop", scale=SCALE)
    record(benchmark, "scipy-loop-rotate-each")
