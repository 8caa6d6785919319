"""End-to-end tests of the command line on generated IDX files (and real MNIST in CI)."""

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from fastaug import cli, jobs
from fastaug import io as fio

from idx_fixtures import NAMES, idx_bytes, write_dataset

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture
def data_dir(tmp_path):
    folder = tmp_path / "data"
    arrays = write_dataset(folder)
    return folder, arrays


def run(*args):
    return cli.main([str(a) for a in args])


@pytest.mark.parametrize("layout", ["interleaved", "blocked"])
@pytest.mark.parametrize("dtype", ["float32", "uint8"])
@pytest.mark.parametrize("chunk", [jobs.CHUNK, 7])  # one chunk; chunks with a short last one
def test_augment_loses_nothing(data_dir, tmp_path, layout, dtype, chunk, capsys, monkeypatch):
    monkeypatch.setattr(jobs.engine, "CHUNK", chunk)
    folder, arrays = data_dir
    out = tmp_path / "out.npz"
    assert (
        run(
            "augment",
            "--angles",
            "15,-15",
            "--data",
            folder,
            "--out",
            out,
            "--layout",
            layout,
            "--dtype",
            dtype,
        )
        == 0
    )
    summary = capsys.readouterr().out
    assert re.search(
        r"wrote 120 samples .* MB to .*out\.npz in [\d.]+ s \([\d,]+ images/s\)", summary
    )
    data = np.load(out)
    images, labels, src, angle = (data[k] for k in ("images", "labels", "source_index", "angle"))
    source = arrays[NAMES[0]]
    source = source.astype(np.float32) / np.float32(255) if dtype == "float32" else source
    assert images.shape == (40 * 3, 28, 28) and images.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(labels, arrays[NAMES[1]][src])
    assert sorted(np.bincount(src)) == [3] * 40
    for k in np.flatnonzero(angle == 0):
        assert images[k].tobytes() == source[src[k]].tobytes()
    for k in np.flatnonzero(angle != 0):
        expected = ndimage.rotate(source[src[k]], float(angle[k]), reshape=False, mode="nearest")
        np.testing.assert_array_equal(images[k], expected)
    order = [0.0, 15.0, -15.0]
    expected_angles = np.tile(order, 40) if layout == "interleaved" else np.repeat(order, 40)
    np.testing.assert_array_equal(angle, expected_angles)


def test_npy_output_info_verify_and_preview(data_dir, tmp_path, capsys):
    folder, _ = data_dir
    out, png = tmp_path / "aug.npy", tmp_path / "aug.png"
    assert (
        run(
            "augment",
            "--angles=-10,10",
            "--data",
            folder,
            "--out",
            out,
            "--preview",
            png,
            "--no-original",
            "--order",
            "1",
            "--quiet",
        )
        == 0
    )
    assert capsys.readouterr().out == ""
    for suffix in (".npy", ".labels.npy", ".source_index.npy", ".angle.npy", ".meta.json"):
        assert (tmp_path / f"aug{suffix}").is_file()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.load(out).shape == (80, 28, 28)
    assert run("info", out) == 0
    text = capsys.readouterr().out
    assert "(80, 28, 28)" in text and "angles [-10.0, 10.0]" in text
    assert run("verify", out, "--samples", "10", "--data", folder) == 0
    assert capsys.readouterr().out.startswith("OK: 10 augmented samples")
    images = np.load(out, mmap_mode="r+")
    images[3] += 0.25  # tamper with one rotated sample
    images.flush()
    del images
    assert run("verify", out, "--samples", "80", "--data", folder) == 1
    assert capsys.readouterr().out.startswith("FAILED")
    assert not list(tmp_path.glob(".*tmp"))


def test_refuses_to_overwrite(data_dir, tmp_path, capsys):
    folder, _ = data_dir
    out = tmp_path / "o.npz"
    out.write_bytes(b"precious")
    assert run("augment", "--angles", "15", "--data", folder, "--out", out) == 1
    assert "exists; pass --force" in capsys.readouterr().err
    assert out.read_bytes() == b"precious"
    assert (
        run("augment", "--angles", "15", "--data", folder, "--out", out, "--force", "--quiet") == 0
    )
    assert np.load(out)["images"].shape == (80, 28, 28)


@pytest.mark.parametrize("angles", ["15,,x", "nan", "15,inf", "", "abc"])
def test_bad_angles_are_usage_errors(angles, capsys):
    with pytest.raises(SystemExit) as info:
        run("augment", "--angles", angles)
    assert info.value.code == 2
    assert "expected comma-separated finite numbers" in capsys.readouterr().err


@pytest.mark.parametrize(
    "text,expected",
    [
        ("15,-15", [15.0, -15.0]),
        ("+5", [5.0]),
        ("-30:30:10", [-30, -20, -10, 0, 10, 20, 30]),
        ("10:0:-2.5,45", [10, 7.5, 5, 2.5, 0, 45]),
        ("-15:15:7", [-15, -8, -1, 6, 13]),
        ("0:1:0.1", [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]),
    ],
)
def test_angle_lists_and_ranges(text, expected):
    # Range steps are exact decimals: 0.3 is the float the user would type, bit for bit.
    assert cli.angle_list(text) == [float(a) for a in expected]


@pytest.mark.parametrize(
    "angles,message",
    [
        ("1:2:0", "must not be 0"),
        ("1:0:1", "is empty"),
        ("0:1e9:1", "at most 3600 angles"),
        ("1:2", "START:STOP:STEP"),
        ("1e400", "must be finite"),
        ("-1:1:1,5:4:1", "is empty"),
    ],
)
def test_bad_angle_ranges_are_usage_errors(angles, message, capsys):
    with pytest.raises(SystemExit) as info:
        run("augment", "--angles", angles)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_angle_range_end_to_end(data_dir, tmp_path):
    folder, _ = data_dir
    out = tmp_path / "r.npz"
    assert (
        run(
            "augment",
            "--angles",
            "-20:20:20",
            "--data",
            folder,
            "--out",
            out,
            "--quiet",
            "--no-original",
            "--limit",
            "3",
        )
        == 0
    )
    np.testing.assert_array_equal(np.load(out)["angle"], np.tile([-20.0, 0.0, 20.0], 3))


@pytest.mark.parametrize(
    "argv",
    [
        ["augment"],
        ["augment", "--angles", "1", "--order", "7"],
        ["augment", "--angles", "1", "--mode", "edge"],
        ["augment", "--angles", "1", "--limit", "0"],
        ["augment", "--angles", "1", "--random-rotation", "15"],
        ["augment", "--random-rotation", "-5"],
        ["augment", "--pipeline", "cifar"],
        ["augment", "--random-rotation", "5", "--copies", "0"],
        ["augment", "--random-rotation", "5", "--seed", "-1"],
        ["bogus"],
    ],
)
def test_bad_arguments_exit_2(argv):
    with pytest.raises(SystemExit) as info:
        run(*argv)
    assert info.value.code == 2


@pytest.mark.parametrize("layout", ["interleaved", "blocked"])
@pytest.mark.parametrize("chunk", [jobs.CHUNK, 7])
def test_random_rotation_copies_are_seeded_and_recorded(
    data_dir, tmp_path, layout, chunk, capsys, monkeypatch
):
    """--random-rotation: N x copies draws plus originals, the same file for any chunk size
    and layout order, each sample's angle stored, verify and info read them."""
    from fastaug.transforms import RandomRotation

    monkeypatch.setattr(jobs.engine, "CHUNK", chunk)
    folder, arrays = data_dir
    out = tmp_path / "r.npz"
    argv = ["augment", "--random-rotation", "15", "--copies", "3", "--seed", "5"]
    assert run(*argv, "--data", folder, "--out", out, "--layout", layout, "--dtype", "uint8") == 0
    data = np.load(out)
    images, src, copy, angle, params = (
        data[k] for k in ("images", "source_index", "copy", "angle", "params")
    )
    source = arrays[NAMES[0]]
    assert images.shape == (40 * 4, 28, 28) and params.shape == (160, 2)
    assert sorted(np.bincount(src)) == [4] * 40 and sorted(np.bincount(copy + 1)) == [40] * 4
    originals = copy < 0
    assert np.all(angle[originals] == 0) and np.all(np.isnan(params[originals]))
    assert np.all(np.abs(angle[~originals]) <= 15) and len(np.unique(angle[~originals])) == 120
    for k in np.flatnonzero(originals):
        assert images[k].tobytes() == source[src[k]].tobytes()
    for k in np.flatnonzero(~originals)[::7]:
        want = ndimage.rotate(source[src[k]], float(angle[k]), reshape=False, mode="nearest")
        np.testing.assert_array_equal(images[k], want)
        drawn = RandomRotation(15, order=3, mode="nearest")
        np.testing.assert_array_equal(
            images[k],
            drawn(source[src[k] : src[k] + 1], seed=5, epoch=int(copy[k]), start=int(src[k]))[0],
        )
    # the same seed, any chunking or layout: the same (source, copy) -> the same image
    key = np.lexsort((copy, src))
    reference = tmp_path / "reference.npz"
    monkeypatch.setattr(jobs.engine, "CHUNK", 11)
    assert run(*argv, "--data", folder, "--out", reference, "--dtype", "uint8", "--quiet") == 0
    ref = np.load(reference)
    ref_key = np.lexsort((ref["copy"], ref["source_index"]))
    np.testing.assert_array_equal(images[key], ref["images"][ref_key])
    np.testing.assert_array_equal(angle[key], ref["angle"][ref_key])
    capsys.readouterr()
    assert run("info", out) == 0
    info = capsys.readouterr().out
    assert (
        "random-rotation 15, 3 copies per source, seed 5" in info
        and "0:RandomRotation.angle" in info
    )
    assert run("verify", out, "--data", folder, "--samples", "30") == 0
    assert capsys.readouterr().out.startswith("OK: 30 augmented samples")
    other = tmp_path / "other.npz"
    assert (
        run(*argv[:-1], "6", "--data", folder, "--out", other, "--dtype", "uint8", "--quiet") == 0
    )
    assert not np.array_equal(np.load(other)["images"], ref["images"])  # another seed


def test_pipeline_preset_copies_and_verify(data_dir, tmp_path, capsys):
    from fastaug import presets

    folder, arrays = data_dir
    out = tmp_path / "p.npy"
    argv = ["augment", "--pipeline", "mnist", "--copies", "2", "--no-original", "--seed", "1"]
    assert run(*argv, "--data", folder, "--out", out, "--preview", tmp_path / "p.png") == 0
    images = np.load(out)
    copy = np.load(tmp_path / "p.copy.npy")
    src = np.load(tmp_path / "p.source_index.npy")
    assert images.shape == (80, 28, 28) and set(copy) == {0, 1}
    source = arrays[NAMES[0]].astype(np.float32) / np.float32(255)
    for c in (0, 1):
        want = presets.mnist()(source, seed=1, epoch=c)
        np.testing.assert_array_equal(images[copy == c], want[src[copy == c]])
    assert (tmp_path / "p.png").stat().st_size > 0
    capsys.readouterr()
    assert run("verify", out, "--data", folder) == 0
    assert "OK" in capsys.readouterr().out
    assert (
        run(
            "augment",
            "--angles",
            "5",
            "--copies",
            "2",
            "--data",
            folder,
            "--out",
            tmp_path / "x.npz",
        )
        == 1
    )
    assert "--copies is for --random-rotation or --pipeline" in capsys.readouterr().err


def _corrupt(folder, how):
    path = folder / NAMES[0]
    payload = idx_bytes(np.zeros((40, 28, 28), np.uint8))
    if how == "truncated payload":
        path.write_bytes(__import__("gzip").compress(payload[:-100]))
    elif how == "bad magic":
        path.write_bytes(__import__("gzip").compress(b"\x01\x02" + payload[2:]))
    elif how == "truncated gzip":
        path.write_bytes(path.read_bytes()[:200])
    elif how == "label count":
        (folder / NAMES[1]).write_bytes(
            __import__("gzip").compress(idx_bytes(np.zeros(39, np.uint8)))
        )


@pytest.mark.parametrize(
    "how,message",
    [
        ("truncated payload", "payload truncated"),
        ("bad magic", "bad magic number"),
        ("truncated gzip", "corrupt or truncated gzip"),
        ("label count", "39 labels for 40 images"),
    ],
)
def test_corrupt_files_give_clear_errors(data_dir, tmp_path, how, message, capsys):
    folder, _ = data_dir
    _corrupt(folder, how)
    out = tmp_path / "o.npz"
    assert run("augment", "--angles", "15", "--data", folder, "--out", out) == 1
    err = capsys.readouterr().err
    assert message in err and "idx" in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".*tmp"))


def test_missing_data_lists_every_place(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FASTAUG_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    from fastaug import datasets

    real = datasets.DATASETS["mnist"]
    # No network in tests: the only mirror is a closed port on this machine.
    monkeypatch.setitem(
        datasets.DATASETS,
        "mnist",
        datasets.DatasetSpec("mnist", ("http://127.0.0.1:9/",), *real.files()),
    )
    assert run("augment", "--angles", "15") == 1
    err = capsys.readouterr().err
    assert "FASTAUG_DATA" in err and "cache" in err and "download" in err and "Fix:" in err


def test_unwritable_directory(data_dir, capsys):
    folder, _ = data_dir
    for out in ("/proc/fastaug-out.npz", "/nonexistent-dir/out.npz"):
        assert run("augment", "--angles", "15", "--data", folder, "--out", out) == 1
        err = capsys.readouterr().err
        assert "error:" in err and ("cannot write" in err or "does not exist" in err)


def test_full_disk_leaves_nothing(data_dir, tmp_path, monkeypatch, capsys):
    folder, _ = data_dir

    def no_space(path, arrays):
        with open(path, "wb") as fh:
            fh.write(b"x" * 1000)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fio, "write_npz", no_space)
    out = tmp_path / "o.npz"
    assert run("augment", "--angles", "15", "--data", folder, "--out", out) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [folder]


def _bytes_in(paths):
    total = 0
    for path in paths:
        try:
            total += path.stat().st_size
        except FileNotFoundError:  # renamed or removed meanwhile
            pass
    return total


def test_sigint_mid_write_leaves_nothing(tmp_path):
    folder = tmp_path / "big"
    write_dataset(folder, n_train=30000, n_test=10)
    out = tmp_path / "o.npz"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fastaug",
            "augment",
            "--angles",
            "15,-15,30,-30,45",
            "--order",
            "5",
            "--data",
            str(folder),
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Interrupt once the temporary output holds data (mid-write), not after a guessed delay:
    # the output is 564 MB, written over seconds, so the run is still going when signalled.
    deadline = time.time() + 300
    while (
        proc.poll() is None
        and time.time() < deadline
        and _bytes_in(tmp_path.glob(".o.npz.*.tmp")) < 1 << 20
    ):
        time.sleep(0.01)
    assert proc.poll() is None, proc.communicate()
    assert list(tmp_path.glob(".o.npz.*.tmp")), "no temporary output while writing"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert not out.exists() and not list(tmp_path.glob(".o.npz*"))


def test_every_subcommand_has_help_and_is_in_readme():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    readme = README.read_text()
    for name, subparser in sub.choices.items():
        help_text = subparser.format_help()
        assert "examples:" in help_text and subparser.description
        assert f"fastaug {name}" in readme, f"README does not show 'fastaug {name}'"


@pytest.mark.parametrize(
    "argv", [["--help"], ["--version"], [], ["nonsense"], ["info"], ["info", "--help"]]
)
def test_help_and_usage_errors_load_neither_numpy_nor_numba(argv):
    """``fastaug --help`` answers at once (<= 0.3 s with the interpreter): the package and
    the parser load none of the library until a command runs."""
    done = _command_then(argv, "{'numpy', 'numba', 'scipy'} & set(sys.modules)")
    code = 0 if "--help" in argv or "--version" in argv else 2
    assert done.stdout.strip().splitlines()[-1] == f"exit {code} []", done.stderr


def _command_then(argv, modules):
    """Run ``fastaug ARGV`` as its own process does (``python -m fastaug``), then print
    ``exit CODE`` and the names in the expression ``modules``, sorted."""
    probe = (
        "import runpy, sys\n"
        "sys.argv = ['fastaug'] + sys.argv[1:]\n"
        "try:\n"
        "    runpy.run_module('fastaug', run_name='__main__')\n"
        "except SystemExit as exit:\n"
        f"    print('exit', exit.code, sorted({modules}))\n"
    )
    argv = [str(a) for a in argv]
    return subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True)


def test_module_entry_point_and_version():
    done = subprocess.run(
        [sys.executable, "-m", "fastaug", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.startswith("fastaug ")


def test_real_mnist_end_to_end(mnist_dir, tmp_path, capsys):
    out = tmp_path / "mnist.npz"
    assert run("augment", "--angles", "15,-15", "--limit", "2000", "--out", out) == 0
    assert "wrote 6,000 samples" in capsys.readouterr().out
    assert run("verify", out, "--samples", "50") == 0
    result = jobs.verify(out, 50)
    assert result.ok and result.checked == 50 and result.max_error == 0.0


def test_augment_process_never_imports_scipy_linalg(data_dir, tmp_path):
    """The command's process preloads Numba's BLAS probe alone: an end-to-end run never
    imports the ``scipy.linalg`` package, nor ``numpy.f2py`` which it would pull in."""
    folder, _ = data_dir
    argv = ["augment", "--angles", "15", "--data", folder, "--out", tmp_path / "o.npz", "--quiet"]
    unwanted = "{'scipy.linalg', 'numpy.f2py', 'numpy.testing'} & set(sys.modules)"
    done = _command_then(argv, unwanted)
    assert done.stdout.strip().splitlines()[-1] == "exit 0 []", done.stderr


def test_preloaded_blas_bindings_serve_numba_and_scipy():
    """After the preload, Numba still compiles BLAS calls (the MLP's ``np.dot``) and
    ``scipy.linalg`` still imports and works, with the same bindings module."""
    script = (
        "import sys, numpy as np, numba\n"
        "from fastaug import _startup\n"
        "_startup.preload_blas_bindings()\n"
        "assert _startup.BLAS_BINDINGS in sys.modules and 'scipy.linalg' not in sys.modules\n"
        "preloaded = sys.modules[_startup.BLAS_BINDINGS]\n"
        "dot = numba.njit(cache=False)(lambda a, b: np.dot(a, b))\n"
        "a = np.arange(6.0).reshape(2, 3)\n"
        "np.testing.assert_array_equal(dot(a, a.T), a @ a.T)\n"
        "import scipy.linalg\n"
        "from scipy.linalg import cython_blas\n"
        "assert cython_blas is preloaded\n"
        "np.testing.assert_allclose(scipy.linalg.solve(np.eye(2) * 2, [2.0, 4.0]), [1, 2])\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
