"""fastaug's threads: tiles of a batch shared among Python threads running nogil kernels.

Why Python threads rather than Numba's ``prange``: the kernels stay serial, so each compiles
once and fast (a ``parallel=True`` kernel costs seconds more, again for every dtype pair), and
no Numba threading layer is involved, so any number of Python threads may call fastaug at
once (Numba's ``workqueue`` layer aborts the process when two of them launch a parallel
kernel together). The kernels release the GIL; Python only hands out tile numbers.

Tiles are handed out dynamically, from a shared counter: when another thread or process
takes part of one core (the output writer's CRC and disk copies, for instance), the thread
on that core simply takes fewer tiles, instead of finishing an equal share last.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

#: Most threads fastaug may use: the CPUs this process may run on.
MAX_THREADS = (
    len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
)

_threads = MAX_THREADS
_pool = None
_pool_lock = threading.Lock()
_this_thread = threading.local()  # a per-thread override: see threads_here


def set_num_threads(n: int) -> None:
    """Use ``n`` threads (1 .. :data:`MAX_THREADS`) for batch kernels."""
    global _threads
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_THREADS:
        raise ValueError(f"n must be an integer from 1 to {MAX_THREADS}; got {n!r}")
    _threads = n


def get_num_threads() -> int:
    """Threads the batch kernels use (in this thread: see :func:`threads_here`)."""
    return getattr(_this_thread, "threads", None) or _threads


@contextlib.contextmanager
def threads_here(n):
    """Calls made from this thread use ``n`` threads meanwhile (others are unaffected): a
    Dask task, whose worker already runs as many tasks at once as it has cores, uses one."""
    saved = getattr(_this_thread, "threads", None)
    _this_thread.threads = max(1, min(int(n), MAX_THREADS))
    try:
        yield
    finally:
        _this_thread.threads = saved


def _helpers():
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=max(MAX_THREADS - 1, 1), thread_name_prefix="fastaug"
            )
        return _pool


def run_tiles(n_tiles, worker):
    """Call ``worker(claim)`` on up to :func:`get_num_threads` threads (this one included)
    until every tile in ``range(n_tiles)`` has been claimed once.

    ``worker`` sets up its own buffers, then loops: ``t = claim()``, stopping at ``None``.
    One tile, or one thread, runs here alone with no hand-off. An error in any worker stops
    the others from claiming more and is raised here.
    """
    counter = itertools.count()  # next() is atomic under the GIL
    failed = []

    def claim():
        t = next(counter)
        return t if t < n_tiles and not failed else None

    def guarded():
        try:
            worker(claim)
        except BaseException as exc:
            failed.append(exc)
            raise

    helpers = min(get_num_threads(), n_tiles) - 1
    if helpers <= 0:
        worker(claim)
        return
    futures = [_helpers().submit(guarded) for _ in range(helpers)]
    try:
        guarded()
    finally:
        for future in futures:
            future.exception()  # wait: the helpers write into the caller's arrays
    if failed:
        raise failed[0]


#: Work (array elements, or output values times taps) below which :func:`run_pieces` stays on
#: the calling thread: handing tiles to a second thread costs more than it saves.
PARALLEL_MIN_WORK = 1 << 15


def run_pieces(count, work, run, granule=1):
    """``run(lo, hi)`` over ``range(count)`` in pieces of ``granule`` items: in one call
    on this thread when ``work`` is small, else as tiles, several per thread (a thread
    slowed by other work takes fewer), through :func:`run_tiles`."""
    threads = get_num_threads()
    if work < PARALLEL_MIN_WORK or threads == 1 or count <= granule:
        run(0, count)
        return
    per_tile = max(granule, -(-count // (4 * threads * granule)) * granule)
    n_tiles = -(-count // per_tile)

    def worker(claim):
        while (t := claim()) is not None:
            run(t * per_tile, min((t + 1) * per_tile, count))

    run_tiles(n_tiles, worker)
