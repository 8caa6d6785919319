"""One prepared device check of fastaug's CUDA backend, written to JSON.

    python -m bench.gpu_check --out bench/results/gpu.json          # on a GPU machine
    NUMBA_ENABLE_CUDASIM=1 python -m bench.gpu_check --smoke --out /tmp/gpu.json

Sections (each guarded: a missing CuPy / PyTorch / torchvision is ``{"skipped": reason}``,
any exception ``{"error": ...}``, and the JSON is always written): environment, exactness
against SciPy on MNIST, full MNIST ±15°, per-sample random affine, the augmentation
pipeline, CuPy / torchvision side by side, and 3-D volumes. ``--smoke`` uses tiny sizes so
the whole script runs under numba-cuda's simulator, where inputs are host arrays behind
``__cuda_array_interface__`` and the timings mean nothing.

Times are medians over repetitions after a warm-up call (whose time is ``first_call_s``),
taken with ``time.perf_counter`` between device synchronisations.
``python -m bench.report --gpu PATH.json`` renders the JSON as ``reports/GPU.md``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import time
import traceback
from pathlib import Path

import numpy as np

from fastaug.cuda import SimulatedDeviceArray

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = (
    "environment",
    "exactness",
    "mnist_pm15",
    "affine_each",
    "pipeline",
    "side_by_side",
    "volume_3d",
)
ORDERS = (0, 1, 3)
MODES = ("nearest", "reflect", "constant")
CUPYX_CHUNK = 8192


class Sizes:
    def __init__(self, smoke):
        self.smoke = smoke
        self.exact_n = 1 if smoke else 200
        self.mnist_n = 1 if smoke else 60000
        self.subset = 2 if smoke else 200
        self.pipeline_loop_n = 4 if smoke else 1000
        self.volume = 8 if smoke else 256
        self.volume_exact = 8 if smoke else 32
        self.reps = 1 if smoke else 10
        # The smoke run (under the simulator) shows the script works; the sweep is the GPU's.
        self.orders = (1, 3) if smoke else ORDERS
        self.modes = ("nearest", "constant") if smoke else MODES
        self.rep_budget_s = 5.0 if smoke else 8.0


class Device:
    """Arrays on the device: CuPy on a real GPU, host memory presented as device memory
    (:class:`fastaug.cuda.SimulatedDeviceArray`) under the simulator."""

    def __init__(self, simulated):
        self.simulated = simulated
        self.cupy = None
        if not simulated:
            import cupy

            self.cupy = cupy

    def put(self, host):
        return SimulatedDeviceArray(host) if self.simulated else self.cupy.asarray(host)

    def empty(self, shape, dtype):
        if self.simulated:
            return SimulatedDeviceArray(np.empty(shape, dtype))
        return self.cupy.empty(shape, dtype)

    def rows(self, d, start, stop):
        """Images ``start:stop`` of a device batch, as a C-contiguous view."""
        return (
            SimulatedDeviceArray(d.array[start:stop])
            if isinstance(d, SimulatedDeviceArray)
            else d[start:stop]
        )

    def astype(self, d, dtype):
        return (
            SimulatedDeviceArray(d.array.astype(dtype))
            if isinstance(d, SimulatedDeviceArray)
            else d.astype(dtype)
        )

    def get(self, d, out=None):
        if isinstance(d, SimulatedDeviceArray):
            host = d.array
        elif hasattr(d, "copy_to_host"):  # numba (or the simulator's) device array
            host = d.copy_to_host()
        elif type(d).__module__.startswith("torch"):
            host = d.detach().cpu().numpy()
        else:
            if out is not None:
                return d.get(out=out)
            return d.get()
        if out is None:
            return np.array(host)
        np.copyto(out, host)
        return out

    def sync(self):
        if self.cupy is not None:
            self.cupy.cuda.Device().synchronize()
        else:
            from numba import cuda

            cuda.synchronize()


def timed(fn, sync, sizes, reps=None):
    """``{"first_call_s", "median_ms", "times_ms"}``: one warm-up call (timed on its own),
    then up to ``reps`` timed calls, stopping early once ``sizes.rep_budget_s`` is spent."""
    reps = sizes.reps if reps is None else min(reps, sizes.reps)
    sync()
    t0 = time.perf_counter()
    fn()
    sync()
    first = time.perf_counter() - t0
    times = []
    spent = 0.0
    for _ in range(max(reps, 1)):
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        dt = time.perf_counter() - t0
        times.append(dt * 1e3)
        spent += dt
        if spent > sizes.rep_budget_s:
            break
    return {"first_call_s": first, "median_ms": statistics.median(times), "times_ms": times}


def compare(got, want):
    """``{"identical", "total", "max_abs_err"}`` of two stacks of images (per image)."""
    got = np.asarray(got)
    want = np.asarray(want)
    same = [np.array_equal(g, w) for g, w in zip(got, want)]
    diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
    return {
        "identical": int(sum(same)),
        "total": len(same),
        "max_abs_err": float(diff.max()) if diff.size else 0.0,
    }


def interp(order, mode, cval=0.0):
    from fastaug import _validation

    return _validation.interpolation(order, mode, cval, True)


# --- environment and data -------------------------------------------------------------


def _version(name):
    try:
        from importlib import metadata

        return metadata.version(name)
    except Exception:  # noqa: BLE001 - not installed
        return None


def environment(ctx):
    env = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "simulator": ctx["simulated"],
        "smoke": ctx["sizes"].smoke,
    }
    for name in ("numpy", "scipy", "numba", "numba-cuda", "cupy", "torch", "torchvision"):
        env[name] = _version(name)
    if env["cupy"] is None:
        for alt in ("cupy-cuda12x", "cupy-cuda13x", "cupy-cuda11x"):
            env["cupy"] = env["cupy"] or _version(alt)
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        )
        env["fastaug_commit"] = head.stdout.strip() or None
    except Exception:  # noqa: BLE001 - no git
        env["fastaug_commit"] = None
    env["gpu"] = _gpu_name(ctx)
    env["mnist"] = ctx["mnist_source"]
    return env


def _gpu_name(ctx):
    if ctx["simulated"]:
        return "numba-cuda simulator (no GPU)"
    try:
        import cupy

        name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
        return name.decode() if isinstance(name, bytes) else str(name)
    except Exception:  # noqa: BLE001 - try numba next
        from numba import cuda

        name = cuda.get_current_device().name
        return name.decode() if isinstance(name, bytes) else str(name)


def load_images(n):
    """``(images (n, 28, 28) uint8, source)``: MNIST train images from ``FASTAUG_DATA``, or
    seeded synthetic 28x28 images when MNIST is not there (the source says which)."""
    try:
        from fastaug.datasets import load_split

        images, _, located = load_split("mnist", "train", download=False, progress=False)
        images = np.ascontiguousarray(images[:n])
        if len(images) == n:
            return images, f"MNIST train ({located.origin})"
        reason = f"MNIST has {len(images)} images, fewer than {n}"
    except Exception as error:  # noqa: BLE001 - any failure: synthetic data
        reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    rng = np.random.default_rng(23)
    blobs = rng.random((n, 7, 7)) ** 3 * 255
    images = np.kron(blobs, np.ones((4, 4))).astype(np.uint8)
    return images, f"synthetic 28x28 (MNIST not loaded: {reason})"


# --- sections ---------------------------------------------------------------------------


def exactness(ctx):
    """fastaug GPU vs SciPy: ``rotate`` on the stack (±15°) and ``rotate_each`` (alternating
    ±15° per image), orders 0/1/3, modes nearest/reflect/constant, uint8 and float32."""
    import scipy.ndimage as ndi

    import fastaug.cuda as fc

    dev = ctx["device"]
    base = ctx["images"][: ctx["sizes"].exact_n]
    angles = np.where(np.arange(len(base)) % 2 == 0, 15.0, -15.0)
    result = {"images": len(base), "data": ctx["mnist_source"], "combinations": {}}
    for dtype in (np.uint8, np.float32):
        x = base.astype(dtype)
        d = dev.put(x)
        out_dtype = np.float64 if dtype == np.float32 else np.uint8
        for order in ctx["sizes"].orders:
            for mode in ctx["sizes"].modes:
                key = f"{np.dtype(dtype).name}-order{order}-{mode}"
                row = {}
                for angle in (15.0, -15.0):
                    got = dev.get(
                        fc.rotate(
                            d,
                            angle,
                            axes=(2, 1),
                            reshape=False,
                            output=out_dtype,
                            order=order,
                            mode=mode,
                        )  # fmt: skip
                    )
                    want = [
                        ndi.rotate(
                            img, angle, reshape=False, order=order, mode=mode, output=out_dtype
                        )  # fmt: skip
                        for img in x
                    ]
                    row[f"rotate_{angle:+.0f}"] = compare(got, want)
                got = dev.get(fc.rotate_each(d, angles, interp(order, mode)))
                want = [
                    ndi.rotate(img, a, reshape=False, order=order, mode=mode, output=dtype)
                    for img, a in zip(x, angles)
                ]
                row["rotate_each"] = compare(got, want)
                row["output"] = f"{np.dtype(out_dtype).name} (rotate), {np.dtype(dtype).name}"
                result["combinations"][key] = row
    runs = [r for row in result["combinations"].values() for r in row.values() if "total" in r]
    result["identical"] = sum(r["identical"] for r in runs)
    result["total"] = sum(r["total"] for r in runs)
    result["max_abs_err"] = max(r["max_abs_err"] for r in runs)
    result["all_identical"] = result["identical"] == result["total"]
    return result


def mnist_pm15(ctx):
    """``rotate_each`` order 3 'nearest' of the float32 stack by +15° then −15°: device
    resident, and host uint8 to host float32 (pinned and pageable outputs)."""
    import fastaug
    import fastaug.cuda as fc

    dev, sizes = ctx["device"], ctx["sizes"]
    images = ctx["images"][: sizes.mnist_n]
    n = len(images)
    spec = interp(3, "nearest")
    plus, minus = np.full(n, 15.0), np.full(n, -15.0)
    result = {"images": n, "outputs": 2 * n, "data": ctx["mnist_source"]}

    x32 = dev.put(images.astype(np.float32))
    out = dev.empty((2 * n, 28, 28), np.float32)

    def kernel():
        fc.rotate_each(x32, plus, spec, out=dev.rows(out, 0, n))
        fc.rotate_each(x32, minus, spec, out=dev.rows(out, n, 2 * n))

    result["device_resident"] = timed(kernel, dev.sync, sizes)

    def augmented():  # one call: each image prefiltered once for both angles
        return fastaug.augment(x32, angles=(15, -15), include_original=False, layout="blocked")

    result["device_resident_augment"] = timed(augmented, dev.sync, sizes)
    # The same with pad, prefilter and gather as three kernels through device memory (the
    # default fuses them per plane in shared memory): which one the GPU prefers.
    from fastaug.backends import cuda as backend

    backend.FUSED_PLANES = False
    try:
        result["device_resident_augment_apart"] = timed(augmented, dev.sync, sizes)
    finally:
        backend.FUSED_PLANES = True

    def host_job(target):
        def run():
            d8 = dev.put(images)  # copy in
            d_out = dev.empty((2 * n, 28, 28), np.float32)
            fc.rotate_each(d8, plus, spec, out=dev.rows(d_out, 0, n))
            fc.rotate_each(d8, minus, spec, out=dev.rows(d_out, n, 2 * n))
            return dev.get(d_out, out=target())  # copy back

        return run

    pinned = fc.pinned_empty((2 * n, 28, 28), np.float32)
    result["host_pinned"] = timed(host_job(lambda: pinned), dev.sync, sizes)
    result["host_pageable"] = timed(
        host_job(lambda: np.empty((2 * n, 28, 28), np.float32)), dev.sync, sizes
    )

    k = min(sizes.subset, n)
    sub = images[:k].astype(np.float32)
    kernel()
    got = dev.get(out)
    both = np.concatenate([got[:k], got[n : n + k]])
    want = np.concatenate(
        [
            fastaug.rotate_each(sub, plus[:k], order=3, mode="nearest"),
            fastaug.rotate_each(sub, minus[:k], order=3, mode="nearest"),
        ]  # fmt: skip
    )
    result["vs_cpu_device_resident"] = compare(both, want)
    got_augment = dev.get(augmented()[0])
    result["vs_cpu_augment"] = compare(
        np.concatenate([got_augment[:k], got_augment[n : n + k]]), want
    )
    host_job(lambda: pinned)()
    result["vs_cpu_host_job"] = compare(np.concatenate([pinned[:k], pinned[n : n + k]]), want)
    return result


def random_affines(n, size=28, seed=23):
    """``(n, 2, 3)`` SciPy matrices (output pixel -> input pixel): small rotations, scales,
    shears and shifts about the image centre, seeded."""
    rng = np.random.default_rng(seed)
    theta = np.deg2rad(rng.uniform(-15, 15, n))
    scale = rng.uniform(0.9, 1.1, (n, 2))
    shear = rng.uniform(-0.1, 0.1, n)
    shift = rng.uniform(-2, 2, (n, 2))
    cos, sin = np.cos(theta), np.sin(theta)
    rot = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], 1)
    shear_m = np.zeros((n, 2, 2))
    shear_m[:, 0, 0] = shear_m[:, 1, 1] = 1
    shear_m[:, 0, 1] = shear
    linear = rot @ shear_m * scale[:, None, :]
    centre = np.full(2, (size - 1) / 2)
    offset = centre - linear @ centre + shift
    return np.concatenate([linear, offset[:, :, None]], axis=2)


def torch_theta(matrices, size):
    """``affine_grid`` thetas (normalised x, y; ``align_corners=False``) of SciPy matrices."""
    linear, offset = matrices[:, :, :2], matrices[:, :, 2]
    ones = np.ones(2)
    shift = linear @ ones - (linear @ ones) / size + (2 * offset + 1) / size - 1
    swap = [1, 0]
    theta = np.empty_like(matrices)
    theta[:, :, :2] = linear[:, swap][:, :, swap]
    theta[:, :, 2] = shift[:, swap]
    return theta


def affine_each(ctx):
    """``affine_each`` of per-sample random matrices, orders 1 and 3, mode 'constant'; torch
    ``affine_grid`` + ``grid_sample`` bilinear / bicubic alongside when available."""
    import fastaug
    import fastaug.cuda as fc

    dev, sizes = ctx["device"], ctx["sizes"]
    images = ctx["images"][: sizes.mnist_n].astype(np.float32)
    n = len(images)
    matrices = random_affines(n)
    d = dev.put(images)
    out = dev.empty(images.shape, np.float32)
    result = {"images": n, "mode": "constant"}
    k = min(sizes.subset, n)
    for order in (1, 3):
        spec = interp(order, "constant")
        row = {"time": timed(lambda s=spec: fc.affine_each(d, matrices, None, s, out=out),
                             dev.sync, sizes)}  # fmt: skip
        fc.affine_each(d, matrices, None, spec, out=out)
        want = fastaug.affine_each(images[:k], matrices[:k], order=order, mode="constant")
        row["vs_cpu"] = compare(dev.get(out)[:k], want)
        result[f"order{order}"] = row
    result["torch"] = guarded(lambda: _torch_grid_sample(ctx, images, matrices))
    return result


def _torch_grid_sample(ctx, images, matrices):
    torch = _import_torch(ctx)
    import torch.nn.functional as F

    sizes = ctx["sizes"]
    x = torch.from_numpy(images[:, None]).cuda()
    theta = torch.from_numpy(torch_theta(matrices, images.shape[-1])).float().cuda()
    result = {}
    for name in ("bilinear", "bicubic"):

        def run(mode=name):
            grid = F.affine_grid(theta, list(x.shape), align_corners=False)
            return F.grid_sample(x, grid, mode=mode, padding_mode="zeros", align_corners=False)

        result[name] = timed(run, torch.cuda.synchronize, sizes)
    return result


def pipeline(ctx):
    """RandomAffine + noise + brightness/contrast: not on fastaug's GPU yet; torchvision v2
    on a CUDA batch (one draw for the whole batch) and image by image (a subset, scaled)."""
    result = {
        "fastaug": guarded(lambda: _fastaug_pipeline(ctx)),
        "torchvision": guarded(lambda: _torchvision_pipeline(ctx)),
    }
    return result


def _fastaug_pipeline(ctx):
    """The benchmarks' pipeline (``bench/test_pipeline.py``) on the device batch, a fresh
    draw per image; exactness of a subset against the same pipeline on the CPU."""
    from fastaug.transforms import BrightnessContrast, Compose, GaussianNoise, RandomAffine

    dev, sizes = ctx["device"], ctx["sizes"]
    images = ctx["images"][: sizes.mnist_n].astype(np.float32) / 255
    pipeline = Compose(
        [
            RandomAffine(degrees=15, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=10),
            GaussianNoise(0.05),
            BrightnessContrast(0.2, 0.2),
        ]
    )
    d = dev.put(images)
    result = {"images": len(images), "time": timed(lambda: pipeline(d, seed=0), dev.sync, sizes)}
    k = min(sizes.subset, len(images))
    got = dev.get(pipeline(d, seed=0))[:k]
    result["vs_cpu"] = compare(got, pipeline(images[:k], seed=0))
    return result


def _torchvision_pipeline(ctx):
    torch, torchvision = _import_torchvision(ctx)
    v2 = torchvision.transforms.v2
    sizes = ctx["sizes"]
    images = ctx["images"][: sizes.mnist_n]
    steps = [v2.RandomAffine(15, translate=(0.1, 0.1), scale=(0.9, 1.1))]
    if hasattr(v2, "GaussianNoise"):
        steps.append(v2.GaussianNoise(sigma=0.05))
    steps.append(v2.ColorJitter(brightness=0.2, contrast=0.2))
    compose = v2.Compose(steps)
    x = torch.from_numpy(images[:, None].astype(np.float32) / 255).cuda()
    loop_n = min(sizes.pipeline_loop_n, len(images))

    def per_image():
        for i in range(loop_n):
            compose(x[i])

    result = {
        "steps": [type(s).__name__ for s in steps],
        "images": len(images),
        "batch_one_draw": timed(lambda: compose(x), torch.cuda.synchronize, sizes),
        "per_image_subset": timed(per_image, torch.cuda.synchronize, sizes, reps=2),
        "per_image_subset_n": loop_n,
    }
    result["per_image_scaled_ms"] = (
        result["per_image_subset"]["median_ms"] * len(images) / max(loop_n, 1)
    )
    return result


def side_by_side(ctx):
    """cupyx.scipy.ndimage ``rotate`` and ``affine_transform`` (chunks of 8192 images) and
    torchvision ``rotate`` / ``affine`` (bilinear) on the ±15° MNIST job."""
    return {
        "cupyx": guarded(lambda: _cupyx_rotation(ctx)),
        "torchvision": guarded(lambda: _torchvision_rotation(ctx)),
    }


def _rotation_3d(angle, size=28):
    """A 3-D ``affine_transform`` matrix and offset that rotate the last two axes of a stack
    as ``scipy.ndimage.rotate(img, angle, reshape=False)`` rotates each image."""
    from fastaug.geometry import rotation_matrices

    m2, o2 = rotation_matrices(np.array([angle], np.float64), (size, size))
    matrix = np.eye(3)
    matrix[1:, 1:] = m2[0]
    offset = np.concatenate([[0.0], o2[0]])
    return matrix, offset


def _cupyx_rotation(ctx):
    if ctx["simulated"]:
        raise Skip("cupyx needs a GPU (simulator run)")
    import cupy
    import cupyx.scipy.ndimage as cndi
    import scipy.ndimage as ndi

    sizes = ctx["sizes"]
    images = ctx["images"][: sizes.mnist_n].astype(np.float32)
    n = len(images)
    d = cupy.asarray(images)
    out = cupy.empty((2 * n, 28, 28), np.float32)
    maps = {a: _rotation_3d(a) for a in (15.0, -15.0)}

    def rotate_chunks(stack, target, angle):
        for s in range(0, len(stack), CUPYX_CHUNK):
            target[s : s + CUPYX_CHUNK] = cndi.rotate(
                stack[s : s + CUPYX_CHUNK], angle, axes=(2, 1), reshape=False, order=3,
                mode="nearest",
            )  # fmt: skip

    def affine_chunks(stack, target, angle):
        matrix, offset = maps[angle]
        for s in range(0, len(stack), CUPYX_CHUNK):
            target[s : s + CUPYX_CHUNK] = cndi.affine_transform(
                stack[s : s + CUPYX_CHUNK], cupy.asarray(matrix), offset, order=3,
                mode="nearest",
            )  # fmt: skip

    result = {"images": n, "outputs": 2 * n, "chunk": CUPYX_CHUNK}
    k = min(sizes.subset, n)
    want = np.concatenate(
        [
            np.stack(
                [ndi.rotate(img, a, reshape=False, order=3, mode="nearest") for img in images[:k]]
            )
            for a in (15.0, -15.0)
        ]  # fmt: skip
    )
    for name, call in (("rotate", rotate_chunks), ("affine_transform", affine_chunks)):

        def job(call=call):
            call(d, out[:n], 15.0)
            call(d, out[n:], -15.0)

        row = {"time": timed(job, cupy.cuda.Device().synchronize, sizes, reps=5)}
        sub = cupy.asarray(images[:k])
        got = cupy.empty((2 * k, 28, 28), np.float32)
        call(sub, got[:k], 15.0)
        call(sub, got[k:], -15.0)
        row["vs_scipy_stack_call"] = compare(got.get(), want)
        per_image = cupy.empty((2 * k, 28, 28), np.float32)
        for i in range(k):
            for j, a in enumerate((15.0, -15.0)):
                call(sub[i : i + 1], per_image[j * k + i : j * k + i + 1], a)
        row["vs_scipy_per_image_call"] = compare(per_image.get(), want)
        result[name] = row
    return result


def _torchvision_rotation(ctx):
    torch, torchvision = _import_torchvision(ctx)
    InterpolationMode = torchvision.transforms.InterpolationMode  # noqa: N806 - its name
    TF = torchvision.transforms.v2.functional  # noqa: N806 - torchvision's own alias
    sizes = ctx["sizes"]
    images = ctx["images"][: sizes.mnist_n]
    x = torch.from_numpy(images[:, None].astype(np.float32)).cuda()
    bilinear = InterpolationMode.BILINEAR

    def rotate():
        return [TF.rotate(x, a, interpolation=bilinear) for a in (15.0, -15.0)]

    def affine():
        return [
            TF.affine(
                x, angle=a, translate=[0, 0], scale=1.0, shear=[0.0, 0.0], interpolation=bilinear
            )  # fmt: skip
            for a in (15.0, -15.0)
        ]

    return {
        "images": len(images),
        "rotate_bilinear": timed(rotate, torch.cuda.synchronize, sizes),
        "affine_bilinear": timed(affine, torch.cuda.synchronize, sizes),
    }


def volume_3d(ctx):
    """``map_coordinates`` and ``affine_transform`` of a float32 volume, orders 3 and 1,
    mode 'constant': times (with cupyx alongside) and exactness vs SciPy on a small volume."""
    import scipy.ndimage as ndi

    import fastaug.cuda as fc

    dev, sizes = ctx["device"], ctx["sizes"]
    rng = np.random.default_rng(3)
    result = {"size": sizes.volume, "exact_size": sizes.volume_exact, "mode": "constant"}

    def problem(size):
        vol = rng.random((size,) * 3, dtype=np.float32)
        angle = np.deg2rad(10.0)
        matrix = np.eye(3)
        matrix[1:, 1:] = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
        matrix *= 0.95
        centre = np.full(3, (size - 1) / 2)
        offset = centre - matrix @ centre + 0.3
        grid = np.indices((size,) * 3, dtype=np.float64).reshape(3, -1)
        coords = (matrix @ grid + offset[:, None]).reshape((3,) + (size,) * 3)
        return vol, matrix, offset, np.ascontiguousarray(coords)

    vol, matrix, offset, coords = problem(sizes.volume)
    d_vol, d_coords = dev.put(vol), dev.put(coords)
    cupyx = None
    if not ctx["simulated"]:
        import cupyx.scipy.ndimage as cupyx

        c_matrix = ctx["device"].cupy.asarray(matrix)

    def both(ndimage, matrix_there, order):
        """``affine_transform`` and ``map_coordinates`` of one library, timed."""
        return {
            "affine_transform": timed(
                lambda: ndimage.affine_transform(d_vol, matrix_there, offset, order=order),
                dev.sync, sizes, reps=5,
            ),
            "map_coordinates": timed(
                lambda: ndimage.map_coordinates(d_vol, d_coords, order=order),
                dev.sync, sizes, reps=5,
            ),
        }  # fmt: skip

    for order in (3, 1):
        row = both(fc, matrix, order)
        if cupyx is None:
            row["cupyx"] = {"skipped": "cupyx needs a GPU (simulator run)"}
        else:
            row["cupyx"] = both(cupyx, c_matrix, order)
        result[f"order{order}"] = row
    small, s_matrix, s_offset, s_coords = problem(sizes.volume_exact)
    d_small = dev.put(small)
    for order in (3, 1):
        got_a = dev.get(fc.affine_transform(d_small, s_matrix, s_offset, order=order))
        got_m = dev.get(fc.map_coordinates(d_small, dev.put(s_coords), order=order))
        want_a = ndi.affine_transform(small, s_matrix, s_offset, order=order)
        want_m = ndi.map_coordinates(small, s_coords, order=order)
        result[f"order{order}"]["vs_scipy"] = {
            "affine_transform": compare(got_a[None], want_a[None]),
            "map_coordinates": compare(got_m[None], want_m[None]),
        }
    return result


# --- plumbing ---------------------------------------------------------------------------


class Skip(Exception):
    """A section that cannot run here (a missing library); recorded as ``skipped``."""


def _import_torch(ctx):
    if ctx["simulated"]:
        raise Skip("PyTorch CUDA tensors need a GPU (simulator run)")
    try:
        import torch
    except ImportError as error:
        raise Skip(f"torch not importable: {error}") from None
    if not torch.cuda.is_available():
        raise Skip("torch has no CUDA device")
    return torch


def _import_torchvision(ctx):
    """(torch, torchvision) with ``transforms.v2`` loaded, or :class:`Skip` saying why."""
    torch = _import_torch(ctx)
    try:
        import torchvision
        import torchvision.transforms.v2
        import torchvision.transforms.v2.functional  # noqa: F401 - loads the submodule
    except ImportError as error:
        raise Skip(f"torchvision not importable: {error}") from None
    return torch, torchvision


def guarded(fn):
    """``fn()``, or ``{"skipped": ...}`` / ``{"error": ...}``: a section never stops the run."""
    t0 = time.perf_counter()
    try:
        result = fn()
    except Skip as why:
        return {"skipped": str(why)}
    except ImportError as error:
        return {"skipped": f"not importable: {error}"}
    except Exception as error:  # noqa: BLE001 - recorded, the script goes on
        return {
            "error": f"{type(error).__name__}: {error}",
            "traceback": traceback.format_exc(limit=8),
        }
    if isinstance(result, dict):
        result.setdefault("section_s", time.perf_counter() - t0)
    return result


def _median(section, *path):
    node = section
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node if isinstance(node, (int, float)) else None


def ratios(data):
    """Peer time / fastaug time for the comparisons the report's targets use."""
    fast_rot = _median(data, "mnist_pm15", "device_resident", "median_ms")
    pairs = {
        "fastaug_vs_cupyx_rotate": (
            _median(data, "side_by_side", "cupyx", "rotate", "time", "median_ms"),
            fast_rot,
        ),
        "fastaug_vs_cupyx_affine_transform": (
            _median(data, "side_by_side", "cupyx", "affine_transform", "time", "median_ms"),
            fast_rot,
        ),
        "fastaug_vs_torchvision_rotate": (
            _median(data, "side_by_side", "torchvision", "rotate_bilinear", "median_ms"),
            fast_rot,
        ),
        "fastaug_vs_torchvision_affine": (
            _median(data, "side_by_side", "torchvision", "affine_bilinear", "median_ms"),
            fast_rot,
        ),
        "fastaug_augment_vs_cupyx_rotate": (
            _median(data, "side_by_side", "cupyx", "rotate", "time", "median_ms"),
            _median(data, "mnist_pm15", "device_resident_augment", "median_ms"),
        ),
        "fastaug_pipeline_vs_torchvision_batch": (
            _median(data, "pipeline", "torchvision", "batch_one_draw", "median_ms"),
            _median(data, "pipeline", "fastaug", "time", "median_ms"),
        ),
        "fastaug_pipeline_vs_torchvision_per_image": (
            _median(data, "pipeline", "torchvision", "per_image_scaled_ms"),
            _median(data, "pipeline", "fastaug", "time", "median_ms"),
        ),
        "fastaug_affine_order1_vs_torch_bilinear": (
            _median(data, "affine_each", "torch", "bilinear", "median_ms"),
            _median(data, "affine_each", "order1", "time", "median_ms"),
        ),
        "fastaug_affine_order3_vs_torch_bicubic": (
            _median(data, "affine_each", "torch", "bicubic", "median_ms"),
            _median(data, "affine_each", "order3", "time", "median_ms"),
        ),
    }
    for order in (3, 1):
        for fn in ("affine_transform", "map_coordinates"):
            pairs[f"fastaug_vs_cupyx_3d_{fn}_order{order}"] = (
                _median(data, "volume_3d", f"order{order}", "cupyx", fn, "median_ms"),
                _median(data, "volume_3d", f"order{order}", fn, "median_ms"),
            )
    return {k: (p / f if p and f else None) for k, (p, f) in pairs.items()}


def run_check(smoke):
    import numba

    t0 = time.perf_counter()
    sizes = Sizes(smoke)
    simulated = bool(numba.config.ENABLE_CUDASIM)
    images, source = load_images(max(sizes.mnist_n, sizes.exact_n))
    ctx = {"sizes": sizes, "simulated": simulated, "images": images, "mnist_source": source}
    data = {
        "format": 1,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "smoke": smoke,
        "simulator": simulated,
    }
    try:
        ctx["device"] = Device(simulated)
        device_error = None
    except Exception as error:  # noqa: BLE001 - no CuPy: every device section says why
        device_error = f"CuPy not importable ({error}); the device sections need it"
    data["environment"] = guarded(lambda: environment(ctx))
    for name in SECTIONS[1:]:
        if device_error:
            data[name] = {"skipped": device_error}
            continue
        print(f"[gpu_check] {name} ...", flush=True)
        started = time.perf_counter()
        data[name] = guarded(lambda name=name: globals()[name](ctx))
        data.setdefault("section_s", {})[name] = round(time.perf_counter() - started, 2)
    data["ratios"] = guarded(lambda: ratios(data))
    data["total_s"] = time.perf_counter() - t0
    return data


def main(argv=None):
    parser = argparse.ArgumentParser(description="fastaug GPU check: write a JSON of results.")
    parser.add_argument("--out", required=True, help="where to write the JSON")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (simulator)")
    args = parser.parse_args(argv)
    if "FASTAUG_DATA" not in os.environ and (ROOT / "shared" / "data").is_dir():
        os.environ["FASTAUG_DATA"] = str(ROOT / "shared" / "data")
    try:
        data = run_check(args.smoke)
    except Exception as error:  # noqa: BLE001 - the JSON is always written
        data = {"error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=1, default=str) + "\n")
    print(f"wrote {out} ({data.get('total_s', 0):.1f} s)")


if __name__ == "__main__":
    main()
