"""Steady-state speed of two fastaug source trees, side by side (issue 21).

Each measurement runs in a fresh process per tree, the trees alternating round by round
(on a shared machine, interleaving spreads the other load over both), each with its own
kernel cache. In each process: full MNIST train as float32 in [0, 1], 2 fastaug threads,
one untimed full-size run per case (compiles and warms), then the best of ``--repeats``
wall-clock times, and the best process CPU times (both threads; less sensitive to other
processes' load than wall time):

* ``rotate-<mode>``: ``fastaug.rotate(x, 15, axes=(1, 2), reshape=False, mode=<mode>,
  output=out)`` (order 3) on the 60000-image stack, into a preallocated ``out``;
* ``augment``: ``fastaug.augment(x, labels)`` (+-15 degrees, originals kept);
* ``pipeline``: the benchmarks' ``RandomAffine + GaussianNoise + BrightnessContrast``
  (``bench/test_pipeline.py``), a draw per image.

    FASTAUG_DATA=/work/shared/data python -m bench.side_by_side OLD_TREE NEW_TREE \
        --rounds 5 --repeats 5

A tree whose kernels live in a top-level ``kernels/`` (before cb0f55a) needs
``fastaug/kernels`` linked to ``../kernels`` first. Prints each round and the ranges
(min-max over rounds of the per-process bests) per tree and case, in seconds.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

CHILD = r"""
import json, sys, time
import numpy as np
import fastaug
from fastaug import datasets

repeats, cases = int(sys.argv[1]), sys.argv[2].split(",")
fastaug.set_num_threads(2)
images, labels, _ = datasets.load_split("mnist", "train", download=False)
x = images.astype(np.float32) / np.float32(255)
out = np.empty_like(x)
runs = {"augment": lambda: fastaug.augment(x, labels)}
from fastaug.transforms import BrightnessContrast, Compose, GaussianNoise, RandomAffine
pipeline = Compose([RandomAffine(degrees=15, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=10),
                    GaussianNoise(0.05), BrightnessContrast(0.2, 0.2)])
runs["pipeline"] = lambda: pipeline(x, seed=0)
for mode in ("nearest", "constant"):
    runs["rotate-" + mode] = lambda mode=mode: fastaug.rotate(
        x, 15, axes=(1, 2), reshape=False, mode=mode, output=out
    )
best, cpu = {}, {}
for case in cases:
    runs[case]()  # compile and warm, not timed
    times, cpus = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        runs[case]()
        times.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    best[case], cpu[case] = min(times), min(cpus)
print(json.dumps(dict(file=fastaug.__file__, best=best, cpu=cpu)))
"""


def run_tree(tree, cache, repeats, cases):
    env = dict(os.environ, PYTHONPATH=tree, FASTAUG_CACHE_DIR=cache)
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(repeats), ",".join(cases)],
        env=env,
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    if not report["file"].startswith(os.path.abspath(tree)):
        raise SystemExit(f"{tree}: imported {report['file']} instead")
    return report["best"], report["cpu"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="+", help="source trees to compare")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cases", default="rotate-nearest,rotate-constant,augment,pipeline")
    args = parser.parse_args(argv)
    cases = args.cases.split(",")
    caches = {tree: tempfile.mkdtemp(prefix="fastaug-cache-") for tree in args.trees}
    results = {tree: {case: [] for case in cases} for tree in args.trees}
    cpu_results = {tree: {case: [] for case in cases} for tree in args.trees}
    for r in range(args.rounds):
        # Alternate which tree goes first, so neither always follows the other.
        order = args.trees if r % 2 == 0 else args.trees[::-1]
        for tree in order:
            best, cpu = run_tree(tree, caches[tree], args.repeats, cases)
            for case in cases:
                results[tree][case].append(best[case])
                cpu_results[tree][case].append(cpu[case])
            shown = "  ".join(f"{c} {best[c]:.3f} (cpu {cpu[c]:.3f})" for c in cases)
            print(f"round {r}  {tree}: {shown}", flush=True)
    print()
    for case in cases:
        for tree in args.trees:
            times, cpus = results[tree][case], cpu_results[tree][case]
            print(
                f"{case:16s} {tree:30s} wall {min(times):.3f}-{max(times):.3f} s,"
                f" cpu {min(cpus):.3f}-{max(cpus):.3f} s"
            )


if __name__ == "__main__":
    main()
