"""fastaug.dask: the same numbers as in memory, for any chunking, on a real LocalCluster."""

import os
import signal
import time

import numpy as np
import pytest

import fastaug
from fastaug import cli, jobs

da = pytest.importorskip("dask.array", reason="the dask extra is not installed")
distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
fd = pytest.importorskip("fastaug.dask")


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes, one thread each, on loopback only; closed after the module."""
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield cluster, client


def _images(n=230, seed=0):
    return np.random.default_rng(seed).random((n, 20, 18)).astype(np.float32)


@pytest.mark.parametrize("chunk", [1, 7, 1000, 64])
def test_threaded_scheduler_equals_in_memory(chunk):
    x = _images(100 if chunk == 1 else 230)
    d = da.from_array(x, chunks=(chunk, 20, 18))
    images, _ = fd.augment(d, (15, -40))
    np.testing.assert_array_equal(
        images.compute(scheduler="threads"), fastaug.augment(x, angles=(15, -40))[0]
    )
    rotated = fd.rotate(d, 33, reshape=True, mode="nearest", order=1)
    np.testing.assert_array_equal(
        rotated.compute(), fastaug.rotate(x, 33, axes=(1, 2), reshape=True, mode="nearest", order=1)
    )
    pipeline = fastaug.presets.mnist()
    np.testing.assert_array_equal(
        fd.apply(d, pipeline, seed=5, epoch=2).compute(), pipeline(x, seed=5, epoch=2)
    )


def test_one_fastaug_thread_per_task_while_others_keep_theirs(tmp_path):
    """A worker runs as many tasks as it has cores: inside a task fastaug uses one thread,
    and the setting of other threads (here, the caller's) is untouched."""
    from fastaug.transforms import Compose, Transform

    class Recorder(Transform):
        """Writes the thread count it sees (tasks may run on copies of it)."""

        def __init__(self, path):
            super().__init__()
            self.path = str(path)

        def draw(self, uniform, n):
            with open(self.path, "a") as fh:
                fh.write(f"{fastaug.get_num_threads()}\n")
            return {}

        def apply(self, values, rows, params, context):
            pass

    saved = fastaug.get_num_threads()
    fastaug.set_num_threads(min(2, fastaug._parallel.MAX_THREADS))
    try:
        d = da.from_array(_images(40), chunks=(10, 20, 18))
        fd.apply(d, Compose([Recorder(tmp_path / "seen")]), seed=0).compute(scheduler="threads")
        seen = (tmp_path / "seen").read_text().split()
        assert len(seen) >= 4 and set(seen) == {"1"}  # 4 blocks (and a meta probe)
        assert fastaug.get_num_threads() == min(2, fastaug._parallel.MAX_THREADS)
    finally:
        fastaug.set_num_threads(saved)


@pytest.mark.parametrize("chunk", [1, 7, 1000])
def test_two_worker_processes_equal_in_memory(cluster, chunk):
    _, client = cluster
    x = _images(60 if chunk == 1 else 230)
    labels = np.arange(len(x))
    d = da.from_array(x, chunks=(chunk, 20, 18))
    images, out_labels = fd.augment(d, (15, -15), labels=labels)
    got, got_labels = client.compute([images, out_labels], sync=True)
    want, want_labels = fastaug.augment(x, labels, angles=(15, -15))
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got_labels, want_labels)
    pipeline = fastaug.presets.mnist()
    np.testing.assert_array_equal(
        client.compute(fd.apply(d, pipeline, seed=1), sync=True), pipeline(x, seed=1)
    )


def test_a_killed_worker_is_recovered_and_the_result_is_the_same(cluster):
    _, client = cluster
    # Made on the workers (a 20000-image array sent from here would be a 27 MB graph).
    d = da.random.default_rng(2).random((20000, 20, 18), chunks=(250, 20, 18), dtype=np.float32)
    x = client.compute(d, sync=True)
    images, _ = fd.augment(d, (15, -15, 30, -30, 45), order=5, mode="mirror")
    future = client.compute(images)
    pids = list(client.run(os.getpid).values())
    time.sleep(0.3)  # some tasks done, others running
    assert not future.done(), "the computation ended before a worker could be killed"
    os.kill(pids[0], signal.SIGKILL)
    got = future.result(timeout=300)
    np.testing.assert_array_equal(
        got, fastaug.augment(x, angles=(15, -15, 30, -30, 45), order=5, mode="mirror")[0]
    )
    deadline = time.time() + 60
    while len(client.scheduler_info()["workers"]) < 2 and time.time() < deadline:
        time.sleep(0.1)  # the nanny restarts it for the tests after this one
    assert len(client.scheduler_info()["workers"]) == 2


def test_cli_scheduler_path_end_to_end(cluster, tmp_path, capsys):
    zarr = pytest.importorskip("zarr")
    local, _ = cluster
    x = np.random.default_rng(4).integers(0, 256, (300, 28, 28), dtype=np.uint8)
    y = np.arange(300, dtype=np.int64) % 10
    zarr.create_array(str(tmp_path / "x.zarr"), shape=x.shape, dtype=x.dtype, chunks=(64, 28, 28))[
        :
    ] = x
    labels = zarr.create_array(str(tmp_path / "y.zarr"), shape=(300,), dtype=y.dtype, chunks=64)
    labels[:] = y
    args = ["augment", "--angles", "15,-15", "--input", tmp_path / "x.zarr", "--labels",
            tmp_path / "y.zarr", "--out", tmp_path / "o.zarr", "--scheduler",
            local.scheduler_address]  # fmt: skip
    assert cli.main([str(a) for a in args]) == 0
    assert "wrote 900 samples" in capsys.readouterr().out
    group = zarr.open_group(str(tmp_path / "o.zarr"), mode="r")
    want, want_labels = fastaug.augment(jobs.source_images(x, "float32"), y, angles=(15, -15))
    np.testing.assert_array_equal(group["images"][:], want)
    np.testing.assert_array_equal(group["labels"][:], want_labels)
    np.testing.assert_array_equal(group["source_index"][:], np.repeat(np.arange(300), 3))
    assert group.attrs["angles"] == [15.0, -15.0] and not (tmp_path / "o.zarr.partial").exists()
    bad = ["augment", "--angles", "15", "--input", tmp_path / "x.zarr", "--out", tmp_path / "o.npy",
           "--scheduler", local.scheduler_address]  # fmt: skip
    assert cli.main([str(a) for a in bad]) == 1
    assert "--scheduler reads and writes Zarr" in capsys.readouterr().err


def test_fastaug_imports_and_works_without_dask(tmp_path):
    import subprocess
    import sys

    script = (
        "import sys; sys.modules['dask'] = None; sys.modules['distributed'] = None\n"
        "import numpy as np, fastaug\n"
        "print(fastaug.augment(np.zeros((2, 8, 8)), angles=(10,))[0].shape)\n"
        "try:\n    import fastaug.dask\nexcept ImportError as e:\n    print('no dask:', e)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "(4, 8, 8)" in done.stdout and "no dask" in done.stdout
