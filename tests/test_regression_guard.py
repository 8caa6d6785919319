"""The CI speed guard (bench/check_regression.py): its thresholds follow each case's recorded
spread, every case has one, and it really fails on a slowed kernel."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.check_regression import BASELINE, CASES, compare, recorded_for, spread, threshold

ROOT = Path(__file__).resolve().parents[1]


def test_threshold_is_the_lowest_run_less_twice_its_distance_to_the_median():
    assert threshold(spread([10.0, 11.0, 30.0])) == pytest.approx(10.0 * (1 - 0.2))  # not max
    assert threshold(spread([10.0, 10.2, 10.4])) == pytest.approx(9.0)  # at least 10 % below
    assert threshold(spread([10.0, 30.0, 30.0])) == pytest.approx(5.0)  # at most 50 % below


def test_compare_flags_a_case_below_its_limit_only():
    baseline = {"a": spread([10.0, 11.0, 12.0]), "b": spread([10.0, 10.1, 10.5])}  # 8.0, 9.0
    lines, ok = compare({"a": 8.5, "b": 8.9, "c": 3.0}, baseline)
    assert not ok
    assert [line.split()[0] for line in lines if "REGRESSION" in line] == ["b"]
    assert any(line.startswith("c ") and "no baseline" in line for line in lines)
    assert compare({"a": 8.0, "b": 9.0}, baseline)[1]


def test_every_case_has_a_recorded_spread_on_every_cpu():
    machines = json.loads(BASELINE.read_text())["machines"]
    assert machines
    for cpu, recorded in machines.items():
        assert set(recorded) == set(CASES), cpu
        for name, stats in recorded.items():
            assert stats["min"] <= stats["median"] <= stats["max"] and stats["runs"] >= 5, name
            assert threshold(stats) > 1.0, name  # a limit that still asks fastaug to be faster


def test_a_cpu_without_a_record_gets_the_lowest_limit_of_each_case():
    fast = {"a": {"min": 8.0, "median": 8.2, "max": 9.0, "runs": 5}}
    slow = {"a": {"min": 5.0, "median": 5.1, "max": 5.5, "runs": 5}}
    machines = {"AMD EPYC": fast, "Intel(R) Xeon(R) Processor": slow}
    assert recorded_for(machines, "AMD EPYC 7B13 64-Core Processor")[0] is fast
    assert recorded_for(machines, "Intel(R) Xeon(R) Processor")[0] is slow
    cases, source = recorded_for(machines, "Apple M4")
    assert cases == slow and "no record for Apple M4" in source


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
