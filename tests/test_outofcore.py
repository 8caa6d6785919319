"""fastaug augment --input: any array in, chunked out, bounded memory, resumable."""

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import fastaug
from fastaug import cli, jobs


def _images(n=300, seed=0, shape=(28, 28)):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n,) + shape, dtype=np.uint8), rng.integers(
        0, 10, n, dtype=np.uint8
    )


def _in_memory(x, y, angles=(15.0, -15.0), dtype="float32"):
    source = jobs.source_images(x, dtype)
    images, labels = fastaug.augment(source, y, angles=angles, order=3, mode="nearest")
    return images, labels


def run(*args):
    return cli.main([str(a) for a in args])


@pytest.mark.parametrize("form", ["npy", "npz", "zarr"])
@pytest.mark.parametrize("out_suffix", [".npy", ".npz", ".zarr"])
def test_any_input_any_output_equals_the_in_memory_job(tmp_path, form, out_suffix):
    x, y = _images()
    if form == "npy":
        np.save(tmp_path / "x.npy", x)
        inputs = ["--input", tmp_path / "x.npy"]
    elif form == "npz":
        np.savez(tmp_path / "x.npz", images=x)
        inputs = ["--input", tmp_path / "x.npz", "--key", "images"]
    else:
        zarr = pytest.importorskip("zarr")
        z = zarr.create_array(
            str(tmp_path / "x.zarr"), shape=x.shape, dtype=x.dtype, chunks=(64, 28, 28)
        )
        z[:] = x
        inputs = ["--input", tmp_path / "x.zarr"]
    np.save(tmp_path / "y.npy", y)
    out = tmp_path / f"out{out_suffix}"
    assert run("augment", "--angles", "15,-15", *inputs, "--labels", tmp_path / "y.npy",
               "--out", out, "--memory", "32", "--quiet") == 0  # fmt: skip
    images, labels = _in_memory(x, y)
    if out_suffix == ".npy":
        got = {"images": np.load(out), "labels": np.load(tmp_path / "out.labels.npy"),
               "angle": np.load(tmp_path / "out.angle.npy")}  # fmt: skip
        assert json.loads(Path(tmp_path / "out.meta.json").read_text())["sources"] == 300
    elif out_suffix == ".npz":
        got = dict(np.load(out))
    else:
        import zarr

        group = zarr.open_group(str(out), mode="r")
        got = {k: group[k][:] for k in ("images", "labels", "angle")}
    np.testing.assert_array_equal(got["images"], images)
    np.testing.assert_array_equal(got["labels"], labels)
    np.testing.assert_array_equal(got["angle"], np.tile([0.0, 15.0, -15.0], 300).astype(np.float32))
    assert not list(tmp_path.glob("*.partial")) and not list(tmp_path.glob("*progress*"))


def test_random_copies_out_of_core_equal_the_pipeline(tmp_path):
    x, y = _images(120)
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "r.npy"
    assert run("augment", "--pipeline", "mnist", "--copies", "2", "--seed", "4", "--input",
               tmp_path / "x.npy", "--out", out, "--memory", "25", "--layout", "blocked",
               "--quiet") == 0  # fmt: skip
    got = np.load(out)
    source = jobs.source_images(x, "float32")
    want = np.concatenate(
        [source] + [fastaug.presets.mnist()(source, seed=4, epoch=c) for c in (0, 1)]
    )
    np.testing.assert_array_equal(got, want)
    copy = np.load(tmp_path / "r.copy.npy")
    np.testing.assert_array_equal(copy, np.repeat([-1, 0, 1], 120))


def _run_job(tmp_path, out, **kwargs):
    work = jobs.FixedAngles([15.0, -15.0, 40.0], 3, "nearest", 0.0)
    return jobs.augment_file(
        tmp_path / "x.npy", work, labels=tmp_path / "y.npy", out=out, memory_mb=25, **kwargs
    )


def _file_bytes(paths):
    return {Path(p).name: Path(p).read_bytes() for p in paths}


def test_an_interrupted_run_resumes_to_the_same_bytes(tmp_path):
    x, y = _images(2000)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    whole = _run_job(tmp_path, tmp_path / "whole.npy")
    assert whole.chunks >= 4
    assert _run_job(tmp_path, tmp_path / "part.npy", stop_after=2) is None  # "interrupted"
    assert json.loads((tmp_path / "part.npy.fastaug-progress.json").read_text())["done"] == 2
    assert not (tmp_path / "part.npy").exists()  # nothing half-written in place
    resumed = _run_job(tmp_path, tmp_path / "part.npy")
    assert resumed.resumed_from == 2
    a = _file_bytes(whole.paths[:-1])
    b = _file_bytes(resumed.paths[:-1])
    assert [k.replace("whole", "part") for k in a] == list(b)
    assert all(a[k] == b[k.replace("whole", "part")] for k in a)


def test_a_changed_input_or_parameter_starts_over(tmp_path):
    x, y = _images(2000)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    _run_job(tmp_path, tmp_path / "o.npy", stop_after=2)
    x[0, 0, 0] ^= 1
    np.save(tmp_path / "x.npy", x)  # same size, other content
    fresh = _run_job(tmp_path, tmp_path / "o.npy")
    assert fresh.resumed_from == 0
    np.testing.assert_array_equal(
        np.load(tmp_path / "o.npy")[0], jobs.source_images(x[:1], "float32")[0]
    )
    _run_job(tmp_path, tmp_path / "p.npy", stop_after=2)
    work = jobs.FixedAngles([15.0, -15.0, 41.0], 3, "nearest", 0.0)  # another angle
    other = jobs.augment_file(tmp_path / "x.npy", work, labels=tmp_path / "y.npy",
                                   out=tmp_path / "p.npy", memory_mb=25)  # fmt: skip
    assert other.resumed_from == 0


def test_sigkill_mid_run_then_restart_gives_the_same_file(tmp_path):
    """A real kill -9 of the command line, then the same command again."""
    x, y = _images(6000, seed=3)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    argv = [sys.executable, "-m", "fastaug", "augment", "--angles", "15,-15,30,-30", "--input",
            "x.npy", "--labels", "y.npy", "--memory", "25", "--quiet"]  # fmt: skip
    subprocess.run(argv + ["--out", "whole.npy"], cwd=tmp_path, check=True, timeout=300)
    job = subprocess.Popen(argv + ["--out", "cut.npy"], cwd=tmp_path)
    journal = tmp_path / "cut.npy.fastaug-progress.json"
    deadline = time.time() + 120
    while time.time() < deadline and job.poll() is None:
        if journal.exists() and json.loads(journal.read_text() or "{}").get("done", 0) >= 2:
            break
        time.sleep(0.005)
    assert job.poll() is None, "the job finished before it could be killed; make it longer"
    job.send_signal(signal.SIGKILL)
    job.wait()
    assert not (tmp_path / "cut.npy").exists() and journal.exists()
    subprocess.run(argv + ["--out", "cut.npy"], cwd=tmp_path, check=True, timeout=300)
    for suffix in ("npy", "labels.npy", "source_index.npy", "angle.npy"):
        whole = (tmp_path / f"whole.{suffix}").read_bytes()
        assert whole == (tmp_path / f"cut.{suffix}").read_bytes(), suffix
    assert not journal.exists() and not (tmp_path / "cut.npy.partial").exists()


def test_memory_stays_within_the_budget_for_data_ten_times_larger(tmp_path):
    """320 MB of uint8 images through a 32 MB budget: the process's peak resident memory
    during the job exceeds what it held before it by at most the budget + 20 %. (Linux: the
    peak is reset through /proc/self/clear_refs once the kernels are loaded.)"""
    if not os.access("/proc/self/clear_refs", os.W_OK):
        pytest.skip("needs Linux's /proc/self/clear_refs to reset the peak RSS")
    budget = 32
    n = 320 * (1 << 20) // (28 * 28)
    rows = np.lib.format.open_memmap(tmp_path / "big.npy", "w+", np.uint8, (n, 28, 28))
    rng = np.random.default_rng(0)
    for s in range(0, n, 50000):
        rows[s : s + 50000] = rng.integers(0, 256, (min(50000, n - s), 28, 28), dtype=np.uint8)
    rows.flush()
    del rows
    np.save(tmp_path / "tiny.npy", np.zeros((10, 28, 28), np.uint8))
    script = """
        from fastaug import cli

        def kb(key):
            for line in open("/proc/self/status"):
                if line.startswith(key):
                    return int(line.split()[1])

        def job(source, out):
            cli.main(["augment", "--angles", "15", "--no-original", "--dtype", "uint8",
                      "--input", source, "--out", out, "--memory", "BUDGET", "--quiet"])

        job("tiny.npy", "t.npy")  # imports done and kernels loaded
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        before = kb("VmRSS")
        job("big.npy", "b.npy")
        print(before / 1024, kb("VmHWM") / 1024)
    """.replace("BUDGET", str(budget))
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    before, peak = map(float, done.stdout.split())
    print(f"\nRSS before the 320 MB job {before:.0f} MB, peak in it {peak:.0f} MB, budget {budget}")
    assert peak - before <= budget * 1.2
    assert os.path.getsize(tmp_path / "b.npy") > 300 * (1 << 20)


def test_chunks_come_from_the_budget_even_with_thousands_of_angles(tmp_path):
    per_image = 28 * 28 * 4
    chunk = jobs.chunk_sources(64, 28 * 28, per_image, 3601)
    assert 1 <= chunk and chunk * 2 * 3601 * per_image <= 64 << 20
    with pytest.raises(ValueError, match="--memory 30 MB is too small"):
        jobs.chunk_sources(30, 28 * 28, per_image, 3601)
    x, y = _images(3)
    np.save(tmp_path / "x.npy", x)
    assert run("augment", "--angles", "-180:179.9:0.1", "--input", tmp_path / "x.npy", "--out",
               tmp_path / "o.npy", "--memory", "64", "--quiet") == 0  # fmt: skip
    assert np.load(tmp_path / "o.npy", mmap_mode="r").shape == (3 * 3601, 28, 28)


def _truncated(tmp_path):
    np.save(tmp_path / "t.npy", np.zeros((100, 28, 28), np.uint8))
    data = (tmp_path / "t.npy").read_bytes()
    (tmp_path / "t.npy").write_bytes(data[: len(data) // 2])
    return ["--input", tmp_path / "t.npy"]


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda p: ["--input", p / "x.npz", "--key", "nope"], "no array 'nope'; it has images"),
        (lambda p: ["--input", p / "x.npz"], "pass --key, one of images"),
        (lambda p: ["--input", p / "flat.npy"], r"expected images \(N, H, W\)"),
        (lambda p: ["--input", p / "x.npy", "--labels", p / "short.npy"], "3 labels for 50 images"),
        (lambda p: ["--input", p / "junk.npy"], "not a readable .npy"),
        (_truncated, "truncated"),
        (lambda p: ["--input", p / "missing.npy"], "no such file"),
        (
            lambda p: ["--input", p / "c.npz", "--key", "images"],
            "compressed members cannot be read",
        ),
    ],
)
def test_bad_input_is_one_line_exit_1_and_writes_nothing(tmp_path, make, message, capsys):
    x, _ = _images(50)
    np.save(tmp_path / "x.npy", x)
    np.savez(tmp_path / "x.npz", images=x)
    np.savez_compressed(tmp_path / "c.npz", images=x)
    np.save(tmp_path / "flat.npy", x.reshape(50, -1))
    np.save(tmp_path / "short.npy", np.zeros(3, np.uint8))
    (tmp_path / "junk.npy").write_bytes(b"not numpy at all")
    arguments = make(tmp_path)
    before = set(tmp_path.iterdir())
    assert run("augment", "--angles", "15", *arguments, "--out", tmp_path / "o.npy") == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and re.search(message, err), err
    assert set(tmp_path.iterdir()) == before


def test_not_enough_disk_space_is_refused_before_writing(tmp_path, monkeypatch, capsys):
    x, _ = _images(50)
    np.save(tmp_path / "x.npy", x)
    before = set(tmp_path.iterdir())

    class Usage:
        total, free = 10**12, 1000

    monkeypatch.setattr("shutil.disk_usage", lambda path: Usage)
    assert (
        run("augment", "--angles", "15", "--input", tmp_path / "x.npy", "--out", tmp_path / "o.npy")
        == 1
    )
    assert "not enough disk space" in capsys.readouterr().err
    assert set(tmp_path.iterdir()) == before


def test_the_dataset_job_sizes_its_chunks_from_the_budget_too(tmp_path, monkeypatch, capsys):
    """3600 angles of the in-memory dataset job: its two sample buffers would have asked
    for 2048 x 3601 images each (46 GB for full MNIST); now they fit --memory."""
    import sys as _sys

    _sys.path.insert(0, str(Path(__file__).parent))
    from idx_fixtures import write_dataset

    write_dataset(tmp_path / "data", n_train=40)
    from fastaug.jobs import engine, sinks, sources

    raw = sources.ArraySource(np.zeros((40, 28, 28), np.uint8), "raw")
    work = jobs.FixedAngles(np.arange(3600) / 10, 3, "nearest", 0.0)
    sink = sinks.StreamedSink(tmp_path / "q.npy")
    plan = engine.plan_job(raw, None, work, jobs.Options(), sink, head={}, memory_mb=64)
    buffers = [b for b in plan.buffers() if b is not None]
    assert plan.chunk >= 1 and sum(b.nbytes for b in buffers) <= 64 << 20
    args = ["augment", "--angles", "-180:179.9:0.1", "--data", tmp_path / "data", "--limit", "4",
            "--out", tmp_path / "o.npy", "--memory", "64", "--quiet"]  # fmt: skip
    assert run(*args) == 0
    assert np.load(tmp_path / "o.npy", mmap_mode="r").shape == (4 * 3601, 28, 28)

    class Usage:
        total, free = 10**12, 1000

    monkeypatch.setattr("shutil.disk_usage", lambda path: Usage)
    assert run(*args[:-3], "--out", tmp_path / "p.npy") == 1
    assert "not enough disk space" in capsys.readouterr().err
    assert not (tmp_path / "p.npy").exists()
