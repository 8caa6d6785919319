"""Scaling: time against N (must be linear) and threads 1 versus 2, order 3 'nearest'
float32, +-15 degrees."""

import numpy as np
import pytest

import fastaug
from bench.conftest import ANGLES, MEDIANS, SCALING_SIZES, record
from fastaug._parallel import MAX_THREADS


@pytest.fixture(scope="module")
def images(seeded_images):
    base = seeded_images["float32"]
    return np.concatenate([base] * (max(SCALING_SIZES) // len(base) + 1))[: max(SCALING_SIZES)]


@pytest.mark.parametrize("n", SCALING_SIZES)
def test_time_vs_n(benchmark, images, n):
    x = images[:n]
    fastaug.augment(x[:64], angles=ANGLES, include_original=False)
    benchmark.group = "scaling-n"
    benchmark.pedantic(
        fastaug.augment,
        args=(x,),
        kwargs=dict(angles=ANGLES, include_original=False),
        rounds=5 if n <= 60000 else 3,
        warmup_rounds=1,
    )
    benchmark.extra_info.update(case="scaling", n=n)
    record(benchmark, f"scaling-{n}")


def test_linear_in_n():
    sizes = np.array(SCALING_SIZES, float)
    times = np.array([MEDIANS.get(f"scaling-{n}", np.nan) for n in SCALING_SIZES])
    if np.isnan(times).any():
        pytest.skip("needs every test_time_vs_n case in this run")
    slope, intercept = np.polyfit(sizes, times, 1)
    fit = slope * sizes + intercept
    r2 = 1 - ((times - fit) ** 2).sum() / ((times - times.mean()) ** 2).sum()
    MEDIANS["scaling-slope-us-per-image"] = slope * 1e6
    MEDIANS["scaling-r2"] = r2
    print(
        f"\nslope {slope * 1e6:.3f} us per source image (2 angles), intercept "
        f"{intercept * 1e3:.2f} ms, R^2 {r2:.5f}"
    )
    assert r2 >= 0.99


@pytest.mark.parametrize("threads", [1, 2])
def test_threads(benchmark, images, threads):
    if threads > MAX_THREADS:
        pytest.skip(f"only {MAX_THREADS} CPUs")
    x = images[:60000]
    before = fastaug.get_num_threads()
    fastaug.set_num_threads(threads)
    try:
        fastaug.augment(x[:64], angles=ANGLES, include_original=False)
        benchmark.group = "threads"
        benchmark.pedantic(
            fastaug.augment,
            args=(x,),
            kwargs=dict(angles=ANGLES, include_original=False),
            rounds=5,
            warmup_rounds=1,
        )
        benchmark.extra_info.update(case="threads", threads=threads)
        record(benchmark, f"threads-{threads}")
    finally:
        fastaug.set_num_threads(before)


def test_two_threads_speedup():
    if "threads-1" not in MEDIANS or "threads-2" not in MEDIANS:
        pytest.skip("needs both thread counts in this run")
    speedup = MEDIANS["threads-1"] / MEDIANS["threads-2"]
    MEDIANS["threads-speedup"] = speedup
    print(f"\nthreads 1 -> 2 speedup: {speedup:.2f}x")
    assert speedup >= 1.7
