"""Compile fastaug's kernels ahead of use: ``fastaug compile`` (a container build, a CI step).

Each task runs the public functions on tiny arrays of one dtype, so exactly the argument
types real calls use are compiled into the disk cache. Tasks run in separate processes:
Numba compiles holding the GIL, so threads would not overlap, but processes do, and its cache
files are written atomically. The rotation engine's float64 core comes first, alongside the
MLP's kernels (they share nothing); the other dtypes, which then only add their small load
and store kernels, follow.
"""

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

#: Dtypes compiled by default: MNIST's uint8 sources, float32 (pixels / 255), NumPy's float64.
DEFAULT_DTYPES = ("float64", "float32", "uint8")
TASKS = ("rotation", "mlp")


def _warm_rotation(dtype):
    from . import augment, rotate, rotate_each

    image = np.zeros((9, 9), dtype)
    batch = np.zeros((3, 9, 9), dtype)
    rotate(image, 15)  # one image
    rotate(image, 15, reshape=False, mode="nearest")  # one image, pre-padded
    rotate(batch, 15, axes=(1, 2), reshape=False, mode="nearest")  # a batch of tiles
    augment(batch, angles=(15, -15))  # several angles, strided output
    rotate_each(batch, [1.0, 2.0, 3.0])  # per-sample angles


def _warm_mlp(dtype):
    from .mlp import MLP

    x = np.zeros((12, 16), dtype)
    t = np.arange(12) % 4
    net = MLP(sizes=(16, 8, 4), seed=0, dtype=dtype)
    net.fit(x, t, steps=2, lr=0.01)
    net.fit(x, t, epochs=1, batch_size=4, lr=0.01)
    net.step(x, t, 0.01)
    net.step(x, t, 0.01)  # the same batch again: the held-back path
    net.loss(x, t)  # ... and applying what it held back
    net.accuracy(x, t)


_WARM = {"rotation": _warm_rotation, "mlp": _warm_mlp}


def _run_task(task, dtype):
    """Run one warm-up in this process; return (task, dtype, seconds, compile table)."""
    from ._compiling import CompileTimes, compile_notice

    compile_notice(False)
    start = time.perf_counter()
    with CompileTimes() as times:
        _WARM[task](dtype)
    return task, dtype, time.perf_counter() - start, times.table()


def compile_kernels(dtypes=DEFAULT_DTYPES, tasks=TASKS, jobs=None):
    """Compile the kernels for ``dtypes`` into the disk cache, ``jobs`` processes at a time
    (default: the CPUs fastaug uses; 1 runs here, in this process).

    Returns ``(seconds, results)``, one ``(task, dtype, seconds, table)`` per task, the table
    as in :class:`fastaug._compiling.CompileTimes`.
    """
    from ._parallel import MAX_THREADS

    dtypes = [np.dtype(d).name for d in dtypes]
    for name in dtypes:
        if np.dtype(name).kind not in "biuf":
            raise ValueError(f"dtypes must be real numeric types; got {name!r}")
    unknown = set(tasks) - set(TASKS)
    if unknown:
        raise ValueError(f"tasks must be among {TASKS}; got {sorted(unknown)}")
    first = [("rotation", dtypes[0])] if "rotation" in tasks and dtypes else []
    # The MLP computes in float32 or float64 only.
    first += [("mlp", d) for d in dtypes if "mlp" in tasks and d in ("float32", "float64")]
    then = [("rotation", d) for d in dtypes[1:] if "rotation" in tasks]
    jobs = MAX_THREADS if jobs is None else jobs
    start = time.perf_counter()
    if jobs <= 1:
        results = [_run_task(*task) for task in first + then]
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            results = list(pool.map(_run_task, *zip(*first))) if first else []
            results += list(pool.map(_run_task, *zip(*then))) if then else []
    return time.perf_counter() - start, results
