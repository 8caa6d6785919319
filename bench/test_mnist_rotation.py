"""Issue 2's benchmark: the full MNIST training set rotated by +15 and -15 degrees.

Side by side in one run: fastaug, (a) the source script's per-image SciPy loop, (b) SciPy on
the whole stack, (c) the dense linear map (rotate the 784 basis images once, then one
float32 GEMM per angle) and, for order 1, the sparse (CSR) linear map. The slow SciPy
baselines run on ``LOOP_SUBSET`` images and are scaled to 60000. Targets are ratios of
medians measured in this run (``test_targets``). ``test_exact_gather_floor`` times the
arithmetic an exact order-3 kernel cannot avoid, which bounds the ratios any exact kernel
could reach on the machine.

Run: ``pytest bench/test_mnist_rotation.py --benchmark-only`` (needs FASTAUG_DATA).
"""

import json
import os
import subprocess
import sys
import textwrap

import numba
import numpy as np
import pytest
import scipy.sparse
from numba import prange
from scipy import ndimage

import fastaug
from bench.conftest import ANGLES, LOOP_SUBSET, MEDIANS, ratio, record
from fastaug.kernels import gather_tiles

SCALE = 60000 / LOOP_SUBSET


def _linear_map(order, mode="nearest"):
    """The rotation as a 784 x 784 matrix: SciPy applied to each basis image (once)."""
    basis = np.eye(784).reshape(784, 28, 28)
    return [
        ndimage.rotate(basis, a, axes=(1, 2), reshape=False, order=order, mode=mode)
        .reshape(784, 784)
        .T
        for a in ANGLES
    ]


def _check_exact(result_first, x, order):
    """fastaug's first images against SciPy (bit-exact on this machine)."""
    for k, angle in enumerate(ANGLES):
        expected = np.stack(
            [
                ndimage.rotate(img, angle, reshape=False, order=order, mode="nearest")
                for img in x[:200]
            ]
        )
        np.testing.assert_array_equal(result_first[:200, k], expected)


@pytest.mark.parametrize("order", [0, 1, 3])
def test_fastaug(benchmark, mnist_train, order):
    x = mnist_train[0]
    benchmark.group = "mnist-pm15"
    fastaug.augment(x[:64], angles=ANGLES, include_original=False, order=order)  # compile
    out, _ = benchmark.pedantic(
        fastaug.augment,
        args=(x,),
        kwargs=dict(angles=ANGLES, include_original=False, order=order),
        rounds=7,
        warmup_rounds=1,
    )
    record(benchmark, f"fastaug-order{order}")
    benchmark.extra_info.update(case=f"mnist-pm15-order{order}", peer="fastaug", scale=1.0)
    _check_exact(out.reshape(60000, 2, 28, 28), x, order)


def test_source_loop(benchmark, mnist_train):
    """(a) The source script: SciPy per image, appended to a list (6000 images, x10)."""
    x = mnist_train[0][:LOOP_SUBSET]
    benchmark.group = "mnist-pm15"

    def loop():
        rotated = []
        for img in x:
            for angle in ANGLES:
                rotated.append(ndimage.rotate(img, angle, reshape=False, mode="nearest"))
        return np.array(rotated)

    benchmark.pedantic(loop, rounds=1, iterations=1)
    benchmark.extra_info.update(case="mnist-pm15-order3", peer="scipy-loop", scale=SCALE)
    MEDIANS["scipy-loop-order3"] = benchmark.stats.stats.median * SCALE


def test_scipy_stack(benchmark, mnist_train):
    """(b) One scipy.ndimage.rotate call per angle on the stack, axes=(1, 2) (6000, x10)."""
    x = mnist_train[0][:LOOP_SUBSET]
    benchmark.group = "mnist-pm15"
    benchmark.pedantic(
        lambda: [ndimage.rotate(x, a, axes=(1, 2), reshape=False, mode="nearest") for a in ANGLES],
        rounds=1,
        iterations=1,
    )
    benchmark.extra_info.update(case="mnist-pm15-order3", peer="scipy-stack", scale=SCALE)
    MEDIANS["scipy-stack-order3"] = benchmark.stats.stats.median * SCALE


@pytest.mark.parametrize("order", [1, 3])
def test_dense_linear_map(benchmark, mnist_train, order):
    """(c) X @ M.T in float32, M built once from SciPy (set-up not timed)."""
    x = mnist_train[0].reshape(60000, 784)
    maps = [m.astype(np.float32) for m in _linear_map(order)]
    benchmark.group = "mnist-pm15"
    out = benchmark.pedantic(lambda: [x @ m.T for m in maps], rounds=3, iterations=1)
    record(benchmark, f"dense-order{order}")
    benchmark.extra_info.update(case=f"mnist-pm15-order{order}", peer="dense-gemm", scale=1.0)
    ref = ndimage.rotate(
        mnist_train[0][:200], ANGLES[0], axes=(1, 2), reshape=False, order=order, mode="nearest"
    )
    benchmark.extra_info["max_error_vs_scipy"] = float(
        np.abs(out[0][:200].reshape(200, 28, 28) - ref).max()
    )


def test_sparse_linear_map_order1(benchmark, mnist_train):
    """The fastest exact peer measured for order 1: CSR matrix times the image matrix."""
    x = mnist_train[0].reshape(60000, 784)
    maps = [scipy.sparse.csr_matrix(m.astype(np.float32)) for m in _linear_map(1)]
    xt = np.ascontiguousarray(x.T)
    benchmark.group = "mnist-pm15"
    benchmark.pedantic(lambda: [(m @ xt).T for m in maps], rounds=3, iterations=1)
    record(benchmark, "sparse-order1")
    benchmark.extra_info.update(case="mnist-pm15-order1", peer="sparse-csr", scale=1.0)


@numba.njit(parallel=True)  # no fast-math: IEEE rounding, no FMA contraction, as SciPy
def _exact_gather_floor(n_tiles, n_calls, c, taps, wy, wx, outside, sink):
    """The kernel's own gather (``tile_gather``, order 3: 16 taps per output,
    ``(coefficient * wy) * wx`` added in order) called ``n_calls`` times on 16 pixels for
    each of ``n_tiles`` tiles, reading a 16-row tile and tables that stay in L1: its
    arithmetic without its memory traffic."""
    for tile in prange(n_tiles):
        vals = np.zeros((16, c.shape[1]))
        for _ in range(n_calls):
            gather_tiles.tile_gather(c, taps, wy, wx, outside, 3, 0.0, vals)
        sink[tile] = vals.sum()


def test_exact_gather_floor(benchmark):
    """A lower bound for exact order-3 kernels on this machine: the gather's arithmetic
    alone for 60000 images x 2 angles x 784 pixels (4.5 G multiplies and adds in SciPy's
    order), with no prefilter, no output and no memory traffic beyond L1. The issue's ratio
    targets need the whole job faster than (loop / 150) and (dense map / 5)."""
    rng = np.random.default_rng(0)
    c, wy, wx = rng.random((16, 64)), rng.random((16, 4)), rng.random((16, 4))
    taps = ((np.arange(16)[:, None] + np.arange(16)) % 16).astype(np.int32)
    outside = np.zeros(16, np.bool_)
    n_tiles = -(-60000 // 64)
    sink = np.zeros(n_tiles)
    _exact_gather_floor(2, 1, c, taps, wy, wx, outside, sink)  # compile
    benchmark.group = "mnist-pm15"
    benchmark.pedantic(
        _exact_gather_floor,
        args=(n_tiles, len(ANGLES) * 784 // 16, c, taps, wy, wx, outside, sink),
        rounds=7,
        warmup_rounds=1,
    )
    record(benchmark, "exact-gather-floor")
    benchmark.extra_info.update(case="exact-floor", peer="gather-arithmetic", scale=1.0)
    # The floor did the gather it claims: every tile holds the sum NumPy gets for the same
    # 16 taps in the same order (a wrong order, table or tile count changes it).
    vals = np.zeros((16, c.shape[1]))
    for k in range(16):
        vals = vals + (c[taps[:, k]] * wy[:, k // 4, None]) * wx[:, k % 4, None]
    np.testing.assert_allclose(sink, vals.sum(), rtol=1e-12)


def test_targets():
    """The issue's targets, as ratios of medians from this run."""
    results = {
        "vs source loop (order 3)": ratio("scipy-loop-order3", "fastaug-order3"),
        "vs scipy stack (order 3)": ratio("scipy-stack-order3", "fastaug-order3"),
        "vs dense GEMM (order 3)": ratio("dense-order3", "fastaug-order3"),
        "vs sparse CSR (order 1)": ratio("sparse-order1", "fastaug-order1"),
        "order 3 / order 0": ratio("fastaug-order3", "fastaug-order0"),
        "order 3 / order 1": ratio("fastaug-order3", "fastaug-order1"),
        "order 3 / its gather floor": ratio("fastaug-order3", "exact-gather-floor"),
    }
    print("\n" + json.dumps({k: round(v, 2) for k, v in results.items()}, indent=1))
    targets = {
        "vs source loop (order 3)": 150,
        # reports/PERFORMANCE.md measured 64.1x; 40x leaves this machine's noise (about
        # +-30 % between runs) and still fails if the stack path fell back to a loop
        "vs scipy stack (order 3)": 40,
        # a floor: the whole job cannot take less than its gather's arithmetic alone (4.3x
        # here); below 1, the floor measures something else
        "order 3 / its gather floor": 1,
        "vs dense GEMM (order 3)": 5,
        "vs sparse CSR (order 1)": 3,
        "order 3 / order 0": 2,
        "order 3 / order 1": 2,
    }
    missed = {k: (round(results[k], 2), t) for k, t in targets.items() if results[k] < t}
    assert not missed, f"targets missed (measured, target): {missed}"


PEAK_SCRIPT = textwrap.dedent("""
    import json, sys, numpy as np, fastaug
    from fastaug import datasets
    def status(key):
        for line in open('/proc/self/status'):
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    images, labels, _ = datasets.load_split('mnist', 'train', download=False)
    x = images.astype(np.float32) / np.float32(255)
    del images
    fastaug.augment(x[:64], labels[:64])  # compile, outside the measurement
    before = status('VmRSS:')
    open('/proc/self/clear_refs', 'w').write('5')  # reset the peak (VmHWM) to now
    out, lab = fastaug.augment(x, labels)
    peak = status('VmHWM:') - before
    print(json.dumps(dict(peak_extra=peak, output=out.nbytes + lab.nbytes, input=x.nbytes)))
""")


def test_peak_memory_of_augment(mnist_train):
    """Peak RSS growth of ``augment`` on the full set stays within output + 10 %
    (the input is already resident), so the peak is <= output + input + 10 %."""
    run = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT], capture_output=True, text=True, check=True
    )
    m = json.loads(run.stdout.strip().splitlines()[-1])
    print(
        f"\npeak extra RSS {m['peak_extra'] / 2**20:.1f} MiB for an output of "
        f"{m['output'] / 2**20:.1f} MiB (input {m['input'] / 2**20:.1f} MiB)"
    )
    assert m["peak_extra"] <= 1.10 * m["output"] + 0.10 * m["input"]


COMPILE_SCRIPT = textwrap.dedent("""
    import time
    t = time.perf_counter()
    import numpy as np, fastaug
    fastaug.augment(np.zeros((8, 28, 28), np.float32), angles=(15, -15))
    print(time.perf_counter() - t)
""")


def test_first_call_compile_time(tmp_path):
    """First call in a new process: compiling from scratch vs loading the on-disk cache."""
    env = dict(os.environ, FASTAUG_CACHE_DIR=str(tmp_path))
    times = [
        float(
            subprocess.run(
                [sys.executable, "-c", COMPILE_SCRIPT],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()[-1]
        )
        for _ in range(2)
    ]
    print(f"\nfirst call: {times[0]:.1f} s cold, {times[1]:.2f} s with cache=True")
    assert times[1] < times[0] / 3
