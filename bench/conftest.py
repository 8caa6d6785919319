"""Shared benchmark set-up: the parameter grid, seeded and real data, run metadata, and the
in-run speed ratios that the targets and the regression guard check.

JIT compilation is never timed: every fastaug callable is called once before timing.
"""

import os
import platform
import subprocess

import numba
import numpy as np
import pytest
import scipy

import fastaug

# The grid: (order, mode, dtype) cases of the rotation group.
ORDERS = (0, 1, 3)
MODES = ("nearest", "constant", "reflect")
DTYPES = ("uint8", "float32")
ANGLES = (15.0, -15.0)
#: The per-image SciPy loop runs on this many images and is scaled to the full set.
LOOP_SUBSET = 6000
SCALING_SIZES = (1000, 10000, 60000, 180000)

#: Medians of this run, by benchmark name: the ratios are computed from these.
MEDIANS = {}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit():
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            cwd=os.path.dirname(__file__),
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info.update(
        cpu_model=cpu_model(),
        numba=numba.__version__,
        numpy=np.__version__,
        scipy=scipy.__version__,
        fastaug_threads=fastaug.get_num_threads(),
        git_commit=git_commit(),
    )


@pytest.fixture(scope="session")
def mnist_train():
    """Full MNIST training images as float32 in [0, 1], shape (60000, 28, 28), and labels."""
    from fastaug import datasets

    try:
        images, labels, _ = datasets.load_split("mnist", "train", download=False)
    except datasets.DatasetNotFound as exc:
        pytest.skip(f"real MNIST not available (set FASTAUG_DATA): {exc}")
    return images.astype(np.float32) / np.float32(255), labels


@pytest.fixture(scope="session")
def seeded_images():
    """Seeded synthetic MNIST-sized images, by dtype name."""
    rng = np.random.default_rng(2024)
    base = rng.random((60000, 28, 28))
    return {"float32": base.astype(np.float32), "uint8": (base * 255).astype(np.uint8)}


def record(benchmark, name=None):
    """Keep this benchmark's median for the ratio checks at the end of its module."""
    MEDIANS[name or benchmark.name] = benchmark.stats.stats.median
    benchmark.extra_info["threads"] = fastaug.get_num_threads()


def ratio(slow, fast):
    """How many times faster ``fast`` ran than ``slow`` in this run (None if either missing)."""
    if slow not in MEDIANS or fast not in MEDIANS:
        pytest.skip(f"needs both {slow!r} and {fast!r} in this run")
    return MEDIANS[slow] / MEDIANS[fast]


def loop_or_pool(part, n, way, threads):
    """A peer's run over ``n`` items: ``part(lo, hi)`` in one plain loop, or split among a
    pool of ``threads`` Python threads (peers that release the GIL may gain from it)."""
    if way == "loop":
        return lambda: part(0, n)
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(threads)
    bounds = np.linspace(0, n, threads + 1).astype(int)
    return lambda: list(pool.map(part, bounds[:-1], bounds[1:]))


@pytest.fixture
def threads(request):
    """fastaug's thread count for one test (parametrize indirectly), restored after."""
    saved = fastaug.get_num_threads()
    fastaug.set_num_threads(request.param)
    yield request.param
    fastaug.set_num_threads(saved)
