"""The whole ``fastaug augment --angles 15,-15`` command on full MNIST: load, augment, write
an uncompressed .npz; wall time and peak RSS of the process."""
import json
import subprocess
import sys
import textwrap

import pytest

from bench.conftest import MEDIANS

RUNNER = textwrap.dedent("""
    import json, resource, subprocess, sys, time
    t = time.perf_counter()
    subprocess.run(sys.argv[1:], check=True)
    wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print(json.dumps(dict(wall=wall, peak=peak)))
""")


@pytest.mark.parametrize("dtype", ["float32", "uint8"])
def test_augment_command(benchmark, mnist_train, tmp_path, dtype):
    out = tmp_path / f"mnist-{dtype}.npz"
    cmd = [sys.executable, "-c", RUNNER, sys.executable, "-m", "fastaug", "augment",
           "--angles", "15,-15", "--dtype", dtype, "--out", str(out), "--force", "--quiet"]
    subprocess.run(cmd, check=True, capture_output=True)  # warm the JIT cache and page cache
    results = []

    def run():
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))

    benchmark.group = "cli-augment"
    benchmark.pedantic(run, rounds=3)
    peak = max(r["peak"] for r in results)
    size = out.stat().st_size
    benchmark.extra_info.update(case=f"cli-{dtype}", peer="fastaug", peak_rss=peak,
                                output_bytes=size)
    MEDIANS[f"cli-{dtype}"] = benchmark.stats.stats.median
    print(f"\nfastaug augment --dtype {dtype}: median {benchmark.stats.stats.median:.2f} s, "
          f"peak RSS {peak / 2**20:.0f} MiB, output {size / 2**20:.0f} MiB")
    assert benchmark.stats.stats.median <= 2.0
