"""SciPy's separable interpolation functions on one 512 x 512 float32 image (seeded):
``zoom`` x2 order 3, ``shift`` by a sub-pixel (0.3, -1.7) order 3 and ``spline_filter``
order 3, fastaug (2 threads, or as many as the machine has) against SciPy in the same run.
Each fastaug result is checked bit for bit against SciPy's after timing.
``test_first_use`` times each function's first call in a new process from an empty kernel
cache, after ``rotate`` (whose prefilter and boundary kernels they share) and alone.
Run: ``pytest bench/test_ndimage_splines.py --benchmark-only -s``.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from scipy import ndimage

import fastaug
from bench.conftest import ratio, record

CALLS = {
    "zoom-x2-order3": ("zoom", (2,), {"order": 3}),
    "shift-subpixel-order3": ("shift", ((0.3, -1.7),), {"order": 3}),
    "spline-filter-order3": ("spline_filter", (3,), {}),
}
THREADS = min(2, fastaug._parallel.MAX_THREADS)


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(512).random((512, 512)).astype(np.float32)


@pytest.mark.parametrize("case", CALLS)
def test_fastaug(benchmark, image, case):
    name, args, kwargs = CALLS[case]
    call = getattr(fastaug, name)
    saved = fastaug.get_num_threads()
    fastaug.set_num_threads(THREADS)
    try:
        call(image, *args, **kwargs)  # compile outside the timing
        benchmark.group = case
        result = benchmark.pedantic(
            call, args=(image, *args), kwargs=kwargs, rounds=20, warmup_rounds=2
        )
        record(benchmark, f"fastaug-{case}")
    finally:
        fastaug.set_num_threads(saved)
    benchmark.extra_info.update(case=case, peer="fastaug", scale=1.0)
    expected = getattr(ndimage, name)(image, *args, **kwargs)
    assert result.dtype == expected.dtype
    np.testing.assert_array_equal(result.view(np.uint8), expected.view(np.uint8))


@pytest.mark.parametrize("case", CALLS)
def test_scipy(benchmark, image, case):
    name, args, kwargs = CALLS[case]
    benchmark.group = case
    benchmark.pedantic(
        getattr(ndimage, name), args=(image, *args), kwargs=kwargs, rounds=10, warmup_rounds=1
    )
    record(benchmark, f"scipy-{case}")
    benchmark.extra_info.update(case=case, peer="scipy", scale=1.0)


def test_targets():
    """The issue's targets, as ratios of medians from this run."""
    targets = {"zoom-x2-order3": 4, "shift-subpixel-order3": 4, "spline-filter-order3": 2}
    results = {case: ratio(f"scipy-{case}", f"fastaug-{case}") for case in targets}
    print("\n" + json.dumps({k: round(v, 2) for k, v in results.items()}, indent=1))
    missed = {k: (round(results[k], 2), t) for k, t in targets.items() if results[k] < t}
    assert not missed, f"targets missed (measured, target): {missed}"


FIRST_USE_SCRIPT = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    import fastaug
    a = np.random.default_rng(0).random((20, 21)).astype(np.float32)
    calls = {
        "rotate": lambda: fastaug.rotate(a, 10),
        "spline_filter": lambda: fastaug.spline_filter(a),
        "spline_filter1d": lambda: fastaug.spline_filter1d(a, 4, 0),
        "zoom": lambda: fastaug.zoom(a, 1.5),
        "shift": lambda: fastaug.shift(a, 0.5),
        "zoom uint8 order 1": lambda: fastaug.zoom(a.astype(np.uint8), 1.5, order=1),
        "shift 4-D": lambda: fastaug.shift(np.ones((2, 3, 4, 5)), 0.5),
    }
    times = {}
    for name in sys.argv[1:]:
        start = time.perf_counter()
        calls[name]()
        times[name] = time.perf_counter() - start
    print(json.dumps(times))
""")


def _first_use(names, tmp_path):
    cache = tmp_path / f"cache-{len(os.listdir(tmp_path))}"
    env = dict(os.environ, FASTAUG_CACHE_DIR=str(cache))
    done = subprocess.run(
        [sys.executable, "-c", FIRST_USE_SCRIPT, *names],
        env=env, capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_first_use(benchmark, tmp_path):
    """Issue 21: each new function's first use from an empty cache adds at most 5 s."""
    after_rotate = benchmark.pedantic(
        _first_use,
        args=(["rotate", "spline_filter", "spline_filter1d", "zoom", "shift",
               "zoom uint8 order 1", "shift 4-D"], tmp_path),
        rounds=1,
    )  # fmt: skip
    alone = {name: _first_use([name], tmp_path)[name] for name in ("spline_filter", "zoom")}
    print(
        "\nfirst use after rotate (s):",
        json.dumps({k: round(v, 2) for k, v in after_rotate.items()}),
    )
    print("first use alone (s):", json.dumps({k: round(v, 2) for k, v in alone.items()}))
    benchmark.extra_info.update(after_rotate=after_rotate, alone=alone)
    slow = {k: round(v, 2) for k, v in after_rotate.items() if k != "rotate" and v > 5}
    assert not slow, f"first use over 5 s after rotate: {slow}"
