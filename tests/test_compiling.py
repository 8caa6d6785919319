"""Compiling is said, once, only when it happens; ``fastaug compile`` fills the cache; compile
times are measured per kernel."""

import os
import subprocess
import sys

import numpy as np
import pytest

import fastaug
from fastaug import _compiling, cli

FIRST_CALL = (
    "import numpy as np, fastaug\n"
    "out = fastaug.rotate(np.zeros((6, 6)), 15)\n"
    "out = fastaug.rotate(np.zeros((6, 6), np.float32), 15)\n"
    "print('rotated', out.shape)\n"
)
NOTICE = "fastaug: compiling kernels for first use"


def _python(code, cache, *args):
    env = dict(os.environ, FASTAUG_CACHE_DIR=str(cache))
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=600
    )


def test_notice_once_when_compiling_and_never_from_the_cache(tmp_path):
    cache = tmp_path / "cache"
    first = _python(FIRST_CALL, cache)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "rotated (7, 7)"
    # One line for the whole first use (two dtypes), no spinner off a terminal.
    assert first.stderr.count(NOTICE) == 1 and "\r" not in first.stderr
    again = _python(FIRST_CALL, cache)
    assert again.returncode == 0 and NOTICE not in again.stderr


def test_compile_command_fills_the_cache_and_quiet_silences(tmp_path):
    cache = tmp_path / "cache"
    env = dict(os.environ, FASTAUG_CACHE_DIR=str(cache))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "fastaug",
            "compile",
            "--no-mlp",
            "--dtypes",
            "float64,float32",
            "--jobs",
            "1",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "compiled" in done.stdout and "rotation float32" in done.stdout
    assert NOTICE not in done.stderr
    warm = _python(FIRST_CALL, cache)
    assert warm.returncode == 0 and NOTICE not in warm.stderr, warm.stderr


def test_quiet_silences_the_notice(tmp_path):
    code = (
        "from fastaug import cli\n"
        "import sys\n"
        "sys.exit(cli.main(['augment', '--angles', '15', '--data', sys.argv[1], '--out',"
        " sys.argv[2], '--quiet']))\n"
    )
    from idx_fixtures import write_dataset

    write_dataset(tmp_path / "data")
    done = _python(code, tmp_path / "cache", str(tmp_path / "data"), str(tmp_path / "o.npz"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and NOTICE not in done.stderr


def _twice(x):
    return 2 * x


def test_compile_times_are_measured_per_kernel():
    import numba

    twice = numba.njit(cache=False)(_twice)
    with _compiling.CompileTimes() as times:
        twice(3.0)
        twice(3)
    ((name, signatures, inclusive, exclusive),) = times.table()
    assert name == "numba: _twice" and signatures == 2 and inclusive >= exclusive > 0


def test_compile_rejects_bad_dtypes(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["compile", "--dtypes", "complex128"])
    assert info.value.code == 2
    assert "numeric dtypes" in capsys.readouterr().err


def test_notice_can_be_turned_off_and_on():
    fastaug.compile_notice(False)
    assert not _compiling._notice.enabled
    fastaug.compile_notice(True)
    assert _compiling._notice.enabled
    assert np.isfinite(_compiling.TYPICAL_SECONDS)
