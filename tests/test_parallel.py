"""fastaug's threads: every tile taken exactly once, errors surface, results independent of
the thread count, and calls from many Python threads at once are safe."""

import itertools
import textwrap
import threading
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import ndimage

import fastaug
from fastaug import _parallel
from fastaug.kernels import tiles

from conftest import run_under_workqueue


@pytest.fixture
def threads():
    saved = fastaug.get_num_threads()
    yield
    fastaug.set_num_threads(saved)


@pytest.mark.parametrize("n_tiles", [0, 1, 2, 3, 64, 1000])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_each_tile_is_taken_exactly_once(n_tiles, n_threads, threads):
    fastaug.set_num_threads(min(n_threads, _parallel.MAX_THREADS))
    times_taken = np.zeros(n_tiles, np.int64)
    lock = threading.Lock()

    def worker(claim):
        while (t := claim()) is not None:
            with lock:
                times_taken[t] += 1

    _parallel.run_tiles(n_tiles, worker)
    np.testing.assert_array_equal(times_taken, 1)


def test_an_error_in_a_worker_is_raised_and_stops_the_others(threads):
    fastaug.set_num_threads(_parallel.MAX_THREADS)
    taken = []

    def worker(claim):
        while (t := claim()) is not None:
            taken.append(t)
            if t == 3:
                raise ZeroDivisionError("tile 3")

    with pytest.raises(ZeroDivisionError, match="tile 3"):
        _parallel.run_tiles(10_000, worker)
    assert len(taken) < 10_000


def test_thread_count_is_validated(threads):
    for bad in (0, -1, _parallel.MAX_THREADS + 1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="n must be an integer"):
            fastaug.set_num_threads(bad)
    fastaug.set_num_threads(1)
    assert fastaug.get_num_threads() == 1


def test_results_do_not_depend_on_the_number_of_threads(threads, monkeypatch):
    """One thread against two, forced even where this process may use one CPU only (then
    MAX_THREADS is 1 and the comparison would be a run with itself), and two threads
    really taking part: the threads that claim tiles are counted."""
    monkeypatch.setattr(_parallel, "MAX_THREADS", max(2, _parallel.MAX_THREADS))
    claimers = set()

    class RecordingCounter:  # run_tiles' tile counter, noting which threads claim
        def __init__(self):
            self._counter = itertools.count()

        def __next__(self):
            claimers.add(threading.get_ident())
            return next(self._counter)

    monkeypatch.setattr(_parallel, "itertools", SimpleNamespace(count=RecordingCounter))
    rng = np.random.default_rng(3)
    images = rng.random((3 * tiles.TILE + 5, 9, 11)).astype(np.float32)
    each_angle = np.linspace(-90, 90, len(images))
    runs = {}
    for n in (1, 2):
        fastaug.set_num_threads(n)
        claimers.clear()
        runs[n] = (
            fastaug.augment(images, angles=(15, -40), order=3)[0],
            fastaug.rotate_each(images, each_angle),
        )
        assert len(claimers) == n, (n, claimers)
    for one, two in zip(runs[1], runs[2]):
        np.testing.assert_array_equal(one, two)


def test_many_python_threads_at_once_give_scipys_results():
    """Four threads call rotate (single images and batches) at the same time."""
    rng = np.random.default_rng(4)
    batch = rng.random((150, 16, 16))
    expected = ndimage.rotate(batch, 20, axes=(1, 2), reshape=False, mode="nearest")
    single_expected = [ndimage.rotate(img, 20, reshape=False, mode="nearest") for img in batch[:20]]
    failures = []

    def caller():
        try:
            for _ in range(3):
                got = fastaug.rotate(batch, 20, axes=(1, 2), reshape=False, mode="nearest")
                if not np.array_equal(got, expected):
                    failures.append("batch differs")
                for img, want in zip(batch[:20], single_expected):
                    if not np.array_equal(
                        fastaug.rotate(img, 20, reshape=False, mode="nearest"), want
                    ):
                        failures.append("single image differs")
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(repr(exc))

    callers = [threading.Thread(target=caller) for _ in range(4)]
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    assert failures == []


def test_concurrent_calls_survive_numbas_workqueue_threading_layer(tmp_path):
    """Numba's workqueue layer aborts the process when two threads launch a parallel kernel
    at once; fastaug launches none, so threads are safe under any layer. A fresh process,
    since the layer is chosen once per process."""
    script = textwrap.dedent("""
        import threading
        import numba
        import numpy as np
        import fastaug
        from fastaug.mlp import MLP

        batch = np.random.default_rng(0).random((200, 28, 28), dtype=np.float32)
        expected = fastaug.rotate(batch, 15, axes=(1, 2), reshape=False)
        errors = []

        def rotate_many():
            for _ in range(5):
                if not np.array_equal(fastaug.rotate(batch, 15, axes=(1, 2), reshape=False),
                                      expected):
                    errors.append("differs")

        def train():
            net = MLP(seed=0)
            net.fit(batch.reshape(200, -1)[:30], np.arange(30) % 10, steps=50, lr=0.01)

        threads = [threading.Thread(target=rotate_many) for _ in range(3)]
        threads.append(threading.Thread(target=train))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [], errors
        print("ok", numba.config.THREADING_LAYER)
    """)
    assert run_under_workqueue(script, tmp_path).split() == ["ok", "workqueue"]


def test_an_exception_escaping_a_scripts_thread_fails_it(tmp_path):
    """The subprocess check above would pass a script whose thread died: Python prints the
    thread's traceback and still exits 0. run_under_workqueue fails it."""
    script = textwrap.dedent("""
        import threading

        def fail():
            raise ZeroDivisionError("in a thread")

        t = threading.Thread(target=fail)
        t.start()
        t.join()
        print("ok")
    """)
    with pytest.raises(AssertionError, match=r"STRAY EXCEPTIONS:\s+thread .*ZeroDivisionError"):
        run_under_workqueue(script, tmp_path)
    assert run_under_workqueue('print("ok")', tmp_path).split() == ["ok"]
