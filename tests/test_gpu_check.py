"""bench/gpu_check.py end to end under numba-cuda's simulator, and its GPU.md rendering."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.gpu_check import SECTIONS, Sizes  # noqa: E402
from bench.report import gpu_section  # noqa: E402


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("NUMBA_ENABLE_CUDASIM") != "1",
    reason="simulated CUDA: run with NUMBA_ENABLE_CUDASIM=1 (CI's CUDA step)",
)
def test_smoke_run_under_simulator(tmp_path):
    pytest.importorskip("numba_cuda", reason="numba-cuda not installed: pip install '.[cuda]'")
    out = tmp_path / "gpu.json"
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")  # FASTAUG_DATA: real MNIST when set
    proc = subprocess.run(
        [sys.executable, "-m", "bench.gpu_check", "--smoke", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text())
    assert data["simulator"] is True and data["smoke"] is True
    for key in (*SECTIONS, "ratios"):
        assert key in data, key
    assert "mnist" in data["environment"]  # MNIST or the synthetic fallback, said which
    exact = data["exactness"]
    assert "error" not in exact, exact.get("traceback")
    smoke = Sizes(smoke=True)  # images x dtypes x orders x modes x calls:
    combinations = smoke.exact_n * 2 * len(smoke.orders) * len(smoke.modes) * 3
    assert exact["total"] == combinations
    bad = {
        combo: run
        for combo, row in exact["combinations"].items()
        for name, run in row.items()
        if isinstance(run, dict) and run["identical"] != run["total"]
    }
    assert not bad, bad
    assert exact["all_identical"] and exact["max_abs_err"] == 0.0
    for part in ("vs_cpu_device_resident", "vs_cpu_host_job"):
        run = data["mnist_pm15"][part]
        assert run["identical"] == run["total"] > 0, part
    for order in (1, 3):
        run = data["affine_each"][f"order{order}"]["vs_cpu"]
        assert run["identical"] == run["total"] > 0
    for part in ("vs_cpu_augment",):
        run = data["mnist_pm15"][part]
        assert run["identical"] == run["total"] > 0, part
    run = data["pipeline"]["fastaug"]["vs_cpu"]
    assert run["identical"] == run["total"] > 0
    assert "skipped" in data["side_by_side"]["cupyx"]  # no cupyx under the simulator
    text = gpu_section(data)
    assert "## Targets (issue 23)" in text
    assert f"{combinations}/{combinations} identical" in text


def _timing(ms):
    return {"first_call_s": 1.5, "median_ms": ms, "times_ms": [ms]}


def _cmp(identical, total=200, err=0.0):
    return {"identical": identical, "total": total, "max_abs_err": err}


def test_gpu_section_renders_targets_and_skips():
    data = {
        "format": 1,
        "created": "2026-01-01T00:00:00+00:00",
        "smoke": False,
        "simulator": False,
        "total_s": 120.0,
        "environment": {"gpu": "NVIDIA H100 80GB HBM3", "numpy": "2.4", "fastaug_commit": "abc"},
        "exactness": {
            "images": 200,
            "data": "MNIST",
            "identical": 600,
            "total": 600,
            "max_abs_err": 0.0,
            "combinations": {
                "uint8-order3-nearest": {
                    "rotate_+15": _cmp(200),
                    "rotate_-15": _cmp(200),
                    "rotate_each": _cmp(200),
                }
            },
        },
        "mnist_pm15": {
            "images": 60000,
            "outputs": 120000,
            "device_resident": _timing(2.0),
            "host_pinned": _timing(20.0),
            "host_pageable": _timing(40.0),
            "vs_cpu_device_resident": _cmp(400, 400),
            "vs_cpu_host_job": _cmp(400, 400),
        },
        "affine_each": {
            "images": 60000,
            "order1": {"time": _timing(1.0), "vs_cpu": _cmp(200)},
            "order3": {"time": _timing(4.0), "vs_cpu": _cmp(199, err=1e-3)},
            "torch": {"skipped": "torch not importable: No module named 'torch'"},
        },
        "pipeline": {
            "fastaug": {"images": 60000, "time": _timing(3.0), "vs_cpu": _cmp(200)},
            "torchvision": {"skipped": "torch not importable"},
        },
        "side_by_side": {"error": "RuntimeError: boom"},
        "volume_3d": {"skipped": "CuPy not importable"},
        "ratios": {
            "fastaug_vs_cupyx_rotate": 45.0,
            "fastaug_pipeline_vs_torchvision_batch": 2.5,
            "fastaug_vs_cupyx_3d_affine_transform_order3": None,
        },
    }
    text = gpu_section(data)
    assert text.startswith("# fastaug on a GPU")
    assert "NVIDIA H100 80GB HBM3" in text
    lines = text.splitlines()

    def row(start):
        found = [line for line in lines if line.startswith(f"| {start}")]
        assert len(found) == 1, (start, found)
        return found[0]

    assert row("full MNIST ±15°, exact, order 3").endswith("| 2.000 ms, exact | yes |")
    assert row("vs cupyx.scipy.ndimage.rotate >= 30x").endswith("| 45.0x | yes |")
    assert row("host uint8 -> host float32, pinned <= 15 ms").endswith("| 20.000 ms | **no** |")
    assert row("per-sample affine, 60000 images, order 1").endswith("| yes |")
    assert row("per-sample affine, 60000 images, order 3").endswith("| **no** |")
    assert row("pipeline >= 3x torchvision v2").endswith("| 2.5x | **no** |")
    assert row("3-D affine_transform 256³ order 3 >= 2x cupyx").endswith("| not measured | - |")
    assert "Section error: RuntimeError: boom." in text
    assert "Section skipped: CuPy not importable." in text
    assert "torch skipped: torch not importable" in text
    assert "199/200 identical" in text
    assert "| fastaug_vs_cupyx_rotate | 45.00x |" in text


def test_gpu_section_of_a_failed_check():
    text = gpu_section({"error": "ImportError: no numba"})
    assert "The check failed: error: ImportError: no numba." in text


def test_report_cli_writes_gpu_md(tmp_path):
    source = tmp_path / "gpu.json"
    source.write_text(json.dumps({"environment": {"gpu": "X"}, "smoke": True}))
    out = tmp_path / "GPU.md"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.report", "--gpu", str(source), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert "## Targets (issue 23)" in text and "Section not run." in text
