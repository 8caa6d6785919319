"""The README's guarantees (issue 20, rows 4, 5, 6, 11, 12 and the one error path): signals
leave nothing behind and the next run gives the uninterrupted run's bytes; a second writer
of one output refuses; an output is never one of the job's inputs; outputs are
byte-reproducible; ``verify`` checks ``--input`` outputs; every failure is one line."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from fastaug import cli, jobs
from fastaug import io as fio

from idx_fixtures import write_dataset

SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGKILL"]
#: Kill points per signal and job: fractions of the job's progress, drawn from a seed.
POINTS = 2


def _fastaug(*args, cwd, **popen):
    argv = [sys.executable, "-m", "fastaug", *map(str, args)]
    return subprocess.Popen(argv, cwd=cwd, stderr=subprocess.PIPE, text=True, **popen)


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir()) if p.is_file()}


class Job:
    """One kind of job (in memory, or out of core) run in a folder of its own."""

    def __init__(self, kind, root):
        self.kind = kind
        rng = np.random.default_rng(7)
        if kind == "memory":
            self.data = root / "data"
            write_dataset(self.data, n_train=6000)
            self.args = ["augment", "--angles", "-20:20:5", "--dtype", "uint8", "--data",
                         self.data, "--out", "o.npz", "--force", "--quiet"]  # fmt: skip
        else:
            x = rng.integers(0, 256, (3000, 28, 28), dtype=np.uint8)
            np.save(root / "x.npy", x)
            np.save(root / "y.npy", rng.integers(0, 10, 3000))
            self.args = ["augment", "--angles", "15,-15,30,-30", "--input", root / "x.npy",
                         "--labels", root / "y.npy", "--dtype", "uint8", "--memory", "25",
                         "--out", "o.npy", "--force", "--quiet"]  # fmt: skip
        self.reference = root / "reference"
        self.reference.mkdir()
        done = _fastaug(*self.args, cwd=self.reference)
        assert done.communicate(timeout=300) and done.returncode == 0
        self.expected = _files(self.reference)
        self.size = (self.reference / "o.npz").stat().st_size if kind == "memory" else None
        self.chunks = None
        if kind == "input":
            self.chunks = -(-3000 // jobs.chunk_sources(25, 784, 784, 5))

    def progress(self, folder):
        """How far a run in ``folder`` is, from 0 to 1 (what it has on disk)."""
        if self.kind == "memory":
            written = sum(p.stat().st_size for p in folder.glob(".o.npz.*.tmp"))
            return written / self.size
        try:
            journal = json.loads((folder / "o.npy.fastaug-progress.json").read_text() or "{}")
        except (OSError, ValueError):
            return 0.0
        return journal.get("done", 0) / self.chunks


@pytest.fixture(scope="module", params=["memory", "input"])
def job(request, tmp_path_factory):
    return Job(request.param, tmp_path_factory.mktemp(request.param))


@pytest.mark.parametrize("name", SIGNALS)
def test_a_signal_at_any_point_leaves_nothing_and_the_rerun_gives_the_same_bytes(
    job, name, tmp_path
):
    signum = getattr(signal, name)
    points = np.random.default_rng(SIGNALS.index(name)).uniform(0.05, 0.9, POINTS)
    interrupted = 0
    for k, point in enumerate(points):
        folder = tmp_path / f"run{k}"
        folder.mkdir()
        proc = _fastaug(*job.args, cwd=folder)
        deadline = time.time() + 300
        while proc.poll() is None and job.progress(folder) < point and time.time() < deadline:
            time.sleep(0.002)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=300)
        assert "Traceback" not in err, err
        if proc.returncode != 0:
            interrupted += 1
            expected = -signum if signum == signal.SIGKILL else 128 + signum
            assert proc.returncode == expected, err
        if signum != signal.SIGKILL:
            # Cleaned up at once: no temporary file, no lock (a resumable --input job keeps
            # its journal and partial files).
            left = {p.name for p in folder.iterdir()} - set(job.expected)
            assert left <= {"o.npy.fastaug-progress.json", "o.npy.partial"}, left
        rerun = _fastaug(*job.args, cwd=folder)
        _, err = rerun.communicate(timeout=300)
        assert rerun.returncode == 0, err
        assert sorted(p.name for p in folder.iterdir()) == sorted(job.expected)
        assert _files(folder) == job.expected  # byte-identical to an uninterrupted run
    assert interrupted, "no run was still going when signalled: make the job longer"


# --------------------------------------------------------------- concurrent writers
def test_a_second_writer_of_the_same_output_refuses(tmp_path, capsys):
    """In memory and out of core, in this process and in another."""
    data = tmp_path / "data"
    write_dataset(data)
    np.save(tmp_path / "x.npy", np.zeros((30, 8, 8), np.uint8))
    for out, extra in [("o.npz", ["--data", data]), ("p.npy", ["--input", "x.npy"])]:
        with fio.output_lock(tmp_path / out):
            argv = ["augment", "--angles", "15", "--quiet", "--force", "--out", out, *extra]
            assert cli.main([str(a) for a in argv]) == 1
            err = capsys.readouterr().err
            assert f"{out} is being written by another fastaug job (process {os.getpid()})" in err
        assert cli.main([str(a) for a in argv]) == 0  # free again
        assert not list(tmp_path.glob("*.lock")) and not list(tmp_path.glob(".*.tmp"))


def test_concurrent_processes_the_second_refuses_the_first_finishes(tmp_path):
    """Out of core (a long job), both with --force: the lock decides, not the file."""
    rng = np.random.default_rng(4)
    np.save(tmp_path / "x.npy", rng.integers(0, 256, (20000, 28, 28), dtype=np.uint8))
    argv = ["augment", "--angles", "15,-15", "--input", "x.npy", "--dtype", "uint8",
            "--memory", "25", "--out", "o.npy", "--force", "--quiet"]  # fmt: skip
    first = _fastaug(*argv, cwd=tmp_path)
    journal = tmp_path / "o.npy.fastaug-progress.json"
    deadline = time.time() + 300
    while first.poll() is None and not journal.exists():
        assert time.time() < deadline
        time.sleep(0.002)
    second = _fastaug(*argv, cwd=tmp_path)
    _, err = second.communicate(timeout=300)
    assert first.poll() is None, "the first job ended too soon: make it longer"
    assert second.returncode == 1 and "is being written by another fastaug job" in err, err
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["o.angle.npy", "o.meta.json", "o.npy", "o.source_index.npy", "x.npy"]


# --------------------------------------------------------------- outputs that are inputs
def _inputs(tmp_path):
    x = np.random.default_rng(1).integers(0, 256, (12, 8, 8), dtype=np.uint8)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.arange(12))
    np.savez(tmp_path / "x.npz", images=x, labels=np.arange(12))
    os.symlink(tmp_path / "x.npy", tmp_path / "link.npy")
    os.link(tmp_path / "x.npy", tmp_path / "hard.npy")
    np.save(tmp_path / "o.labels.npy", np.arange(12))
    try:
        import zarr

        zarr.save_array(str(tmp_path / "x.zarr"), x)
    except ImportError:
        pass


@pytest.mark.parametrize(
    "files, out",
    [
        (["--input", "x.npy"], "x.npy"),
        (["--input", "x.npy"], "./sub/../x.npy"),
        (["--input", "link.npy"], "x.npy"),
        (["--input", "x.npy"], "hard.npy"),
        (["--input", "x.npy", "--labels", "y.npy"], "y.npy"),
        (["--input", "x.npy", "--labels", "o.labels.npy"], "o.npy"),  # a side file
        (["--input", "x.npz", "--key", "images"], "x.npz"),
        (["--input", "x.npy", "--labels", "x.npz"], "x.npz"),
        (["--input", "x.zarr"], "x.zarr"),
    ],
)
def test_an_output_that_is_an_input_is_refused_even_with_force(tmp_path, files, out, capsys):
    _inputs(tmp_path)
    (tmp_path / "sub").mkdir()
    if "x.zarr" in files and not (tmp_path / "x.zarr").exists():
        pytest.skip("needs zarr")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    argv = ["augment", "--angles", "15", "--quiet", "--force", "--out", out, *files]
    assert cli.main(argv) == 1
    assert "would replace the input" in capsys.readouterr().err
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert after == before
    assert {p.name for p in tmp_path.iterdir() if p.is_dir()} <= {"sub", "x.zarr"}


# --------------------------------------------------------------- reproducible bytes
def test_the_same_command_gives_the_same_bytes_resumed_or_not(tmp_path, capsys):
    """Two runs 2 s apart (zip time stamps have 2 s steps), in memory and out of core,
    .npz and .npy; a resumed out-of-core run equals an uninterrupted one."""
    data = tmp_path / "data"
    write_dataset(data)
    x = np.random.default_rng(2).integers(0, 256, (1000, 28, 28), dtype=np.uint8)
    np.save(tmp_path / "x.npy", x)  # 1000 sources: 23 chunks in 25 MB
    work = jobs.FixedAngles([15.0, -15.0], 3, "nearest", 0.0)

    def runs(folder):
        folder.mkdir()
        for out in ("m.npz", "m.npy"):
            jobs.augment_dataset([15, -15], data=data, out=folder / out, download=False)
        for out in ("f.npz", "f.npy"):
            jobs.augment_file(tmp_path / "x.npy", work, out=folder / out, memory_mb=25)
        return _files(folder)

    first = runs(tmp_path / "a")
    time.sleep(2.1)
    second = runs(tmp_path / "b")
    assert first == second and len(first) == 2 + 5 + 4  # two .npz, two .npy sets
    resumed = tmp_path / "c"
    resumed.mkdir()
    for out in ("f.npz", "f.npy"):
        assert jobs.augment_file(tmp_path / "x.npy", work, out=resumed / out,
                                      memory_mb=25, stop_after=1) is None  # fmt: skip
    time.sleep(2.1)
    for out in ("f.npz", "f.npy"):
        summary = jobs.augment_file(tmp_path / "x.npy", work, out=resumed / out, memory_mb=25)
        assert summary.resumed_from == 1
    assert _files(resumed) == {k: v for k, v in first.items() if k.startswith("f.")}


# --------------------------------------------------------------- verify of --input outputs
@pytest.mark.parametrize("out", ["o.npy", "o.npz", "o.zarr"])
def test_verify_recomputes_input_outputs_from_their_input(tmp_path, out, capsys):
    if out.endswith(".zarr"):
        pytest.importorskip("zarr")
    x = np.random.default_rng(3).integers(0, 256, (40, 12, 12), dtype=np.uint8)
    np.save(tmp_path / "x.npy", x)
    argv = ["augment", "--random-rotation", "20", "--copies", "2", "--input", "x.npy",
            "--out", out, "--quiet"]  # fmt: skip
    assert cli.main(argv) == 0
    assert cli.main(["verify", out, "--samples", "30"]) == 0
    assert capsys.readouterr().out.startswith("OK: 30 augmented samples")
    # From another folder: the input is found beside the output.
    (tmp_path / "elsewhere").mkdir()
    os.chdir(tmp_path / "elsewhere")
    assert cli.main(["verify", f"../{out}", "--samples", "5"]) == 0
    os.chdir(tmp_path)
    x[0, 0, 0] ^= 1
    np.save(tmp_path / "x.npy", x)
    assert cli.main(["verify", out]) == 1
    assert "SHA-256 differs" in capsys.readouterr().err
    shutil.move(tmp_path / "x.npy", tmp_path / "moved.npy")
    assert cli.main(["verify", out]) == 1
    err = capsys.readouterr().err
    assert "which is not there (moved or deleted)" in err and err.count("\n") == 1


# --------------------------------------------------------------- one error path
def test_any_failure_is_one_line_and_debug_shows_the_traceback(tmp_path, monkeypatch, capsys):
    def broken(path):
        raise RuntimeError("something unforeseen")

    monkeypatch.setattr(jobs, "describe", broken)
    assert cli.main(["info", "x.npz"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "RuntimeError: something unforeseen" in err
    with pytest.raises(RuntimeError, match="unforeseen"):
        cli.main(["--debug", "info", "x.npz"])


def test_signal_handlers_are_restored_after_a_command(tmp_path):
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    cli.main(["info", "missing.npz"])
    assert {s: signal.getsignal(s) for s in before} == before


def test_an_interruption_inside_a_temporarys_creation_leaves_nothing(tmp_path, monkeypatch):
    """A signal can land after a temporary file exists but before its writer's clean-up is
    armed (CI once caught a SIGTERM there: a progress-file temporary was left). Every
    temporary is registered before it is created, and an interrupted command removes them."""
    np.save(tmp_path / "x.npy", np.zeros((6, 8, 8), np.uint8))
    real_flock = fio.fcntl.flock

    def interrupted(fd, operation):
        if operation == fio.fcntl.LOCK_EX:  # a temporary's lock, just after its creation
            raise KeyboardInterrupt
        return real_flock(fd, operation)

    monkeypatch.setattr(fio.fcntl, "flock", interrupted)
    code = cli.main(["augment", "--angles", "15", "--quiet", "--input", str(tmp_path / "x.npy"),
                     "--out", str(tmp_path / "o.npz")])  # fmt: skip
    assert code == 130
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
