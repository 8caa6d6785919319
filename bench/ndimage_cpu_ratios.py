"""CPU time per call (``time.process_time``, best of N) of SciPy and of fastaug on one
thread, for issue 21's affine_transform and map_coordinates rows: a ratio that other
processes sharing the machine disturb far less than wall time (they take cores away from
fastaug's second thread first). Run: ``python -m bench.ndimage_cpu_ratios``.
"""

import json
import time

import numpy as np
from scipy import ndimage

import fastaug


def _best_cpu(call, n):
    call()
    best = float("inf")
    for _ in range(n):
        start = time.process_time()
        call()
        best = min(best, time.process_time() - start)
    return best


def _repeated(f, args, kwargs, repeat):
    return lambda: [f(*args, **kwargs) for _ in range(repeat)]


def main():
    rng = np.random.default_rng(21)
    image = rng.random((28, 28))
    c, s = np.cos(0.4), np.sin(0.4)
    shear = np.array([[c, s + 0.1], [-s, c]])
    volume = rng.random((96, 96, 96)).astype(np.float32)
    c, s = np.cos(np.deg2rad(20.0)), np.sin(np.deg2rad(20.0))
    matrix = np.array([[1.0, 0.0, 0.0], [0.0, c, s], [0.0, -s, c]])
    offset = 47.5 - matrix @ np.full(3, 47.5)
    grid = np.stack(np.meshgrid(*[np.linspace(10, 85, 64)] * 3, indexing="ij"))
    warped = grid + rng.normal(0.0, 2.0, grid.shape)
    cases = {
        "affine-2d-28-order3 (x200 calls)": (
            "affine_transform", (image, shear), dict(offset=(2.0, -3.0)), 200, 20
        ),
        "affine-3d-96-order3-nearest": (
            "affine_transform", (volume, matrix), dict(offset=offset, mode="nearest"), 1, 5
        ),
        "map-coordinates-3d-64-from-96-order3": ("map_coordinates", (volume, warped), {}, 1, 5),
    }  # fmt: skip
    fastaug.set_num_threads(1)
    results = {}
    for name, (func, args, kwargs, repeat, n) in cases.items():
        times = {}
        for peer, module in (("scipy", ndimage), ("fastaug", fastaug)):
            call = _repeated(getattr(module, func), args, kwargs, repeat)
            times[peer] = _best_cpu(call, n)
        results[name] = {
            "scipy_ms": round(times["scipy"] * 1e3, 2),
            "fastaug_1_thread_ms": round(times["fastaug"] * 1e3, 2),
            "ratio": round(times["scipy"] / times["fastaug"], 2),
        }
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
