"""The CI speed guard (bench/check_regression.py) really fails on a slowed kernel."""

import os
import subprocess
import sys
from pathlib import Path

from bench.check_regression import compare

ROOT = Path(__file__).resolve().parents[1]


def test_compare_flags_drops_beyond_25_percent():
    lines, ok = compare({"a": 10.0, "b": 7.4, "c": 3.0}, {"a": 10.0, "b": 10.0})
    assert not ok
    assert any("b" in line and "REGRESSION" in line for line in lines)
    assert not any(line.startswith("a ") and "REGRESSION" in line for line in lines)
    assert compare({"a": 7.6}, {"a": 10.0})[1]


def test_guard_trips_on_a_deliberately_slow_path():
    env = dict(os.environ, FASTAUG_FORCE_SLOW_PATH="1")
    done = subprocess.run(
        [sys.executable, "-m", "bench.check_regression", "--cases", "order1-nearest"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "REGRESSION" in done.stdout and "FAILED: speed regression" in done.stdout
