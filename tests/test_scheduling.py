"""Dynamic tile scheduling: every tile taken exactly once, results independent of it."""
import numba
import numpy as np
import pytest

import fastaug
from fastaug.kernels import rotate as rotate_kernels
from fastaug.kernels.scheduling import next_task, worker_count


@numba.njit(parallel=True)
def _take_all(n_tasks, workers, times_taken):
    counter = np.zeros(1, np.int64)
    for _ in numba.prange(min(workers, n_tasks)):
        while True:
            t = next_task(counter)
            if t >= n_tasks:
                break
            times_taken[t] += 1


@pytest.mark.parametrize("n_tasks", [0, 1, 2, 3, 64, 1000])
@pytest.mark.parametrize("workers", [1, 2, 5])
def test_each_task_is_taken_exactly_once(n_tasks, workers):
    times_taken = np.zeros(n_tasks, np.int64)
    _take_all(n_tasks, workers, times_taken)
    np.testing.assert_array_equal(times_taken, 1)


def test_worker_count_follows_the_thread_setting():
    saved = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        assert worker_count() == 1
    finally:
        numba.set_num_threads(saved)
    assert worker_count() == saved


def test_results_do_not_depend_on_the_number_of_threads():
    rng = np.random.default_rng(3)
    images = rng.random((3 * rotate_kernels.TILE + 5, 9, 11)).astype(np.float32)
    each_angle = np.linspace(-90, 90, len(images))
    saved = numba.get_num_threads()
    runs = {}
    try:
        for threads in (1, saved):
            numba.set_num_threads(threads)
            runs[threads] = (fastaug.augment(images, angles=(15, -40), order=3)[0],
                             fastaug.rotate_each(images, each_angle))
    finally:
        numba.set_num_threads(saved)
    for one, many in zip(runs[1], runs[saved]):
        np.testing.assert_array_equal(one, many)
