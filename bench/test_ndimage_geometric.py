"""affine_transform and map_coordinates (issue 21's rows): fastaug against SciPy in the same
run, each result checked against SciPy bit for bit after timing, with fastaug's threads
(2 on the reference machine). Run: ``pytest bench/test_ndimage_geometric.py --benchmark-only -s``.
"""

import json

import numpy as np
import pytest
from scipy import ndimage

import fastaug
from bench.conftest import ratio, record


def _rotation_about_axis_0(degrees, shape):
    """A 3-D pull matrix turning the (1, 2) plane about axis 0, centred, and its offset."""
    c, s = np.cos(np.deg2rad(degrees)), np.sin(np.deg2rad(degrees))
    matrix = np.array([[1.0, 0.0, 0.0], [0.0, c, s], [0.0, -s, c]])
    center = (np.array(shape) - 1) / 2
    return matrix, center - matrix @ center


@pytest.fixture(scope="module")
def cases():
    return make_cases()


def make_cases():
    """name -> (function name, args, kwargs): the three calls of issue 21's table."""
    rng = np.random.default_rng(21)
    image = rng.random((28, 28))
    c, s = np.cos(0.4), np.sin(0.4)
    shear = np.array([[c, s + 0.1], [-s, c]])
    volume = rng.random((96, 96, 96)).astype(np.float32)
    matrix, offset = _rotation_about_axis_0(20.0, volume.shape)
    grid = np.stack(np.meshgrid(*[np.linspace(10, 85, 64)] * 3, indexing="ij"))
    warped = grid + rng.normal(0.0, 2.0, grid.shape)  # an elastic field
    return {
        "affine-2d-28-order3": (
            "affine_transform",
            (image, shear),
            dict(offset=(2.0, -3.0), order=3),
        ),
        "affine-3d-96-order3-nearest": (
            "affine_transform",
            (volume, matrix),
            dict(offset=offset, order=3, mode="nearest"),
        ),
        "map-coordinates-3d-64-from-96-order3": (
            "map_coordinates",
            (volume, warped),
            dict(order=3),
        ),
    }


NAMES = [
    "affine-2d-28-order3",
    "affine-3d-96-order3-nearest",
    "map-coordinates-3d-64-from-96-order3",
]


def _rounds(name):
    return (2000, 50) if name.startswith("affine-2d") else (7, 1)


@pytest.mark.parametrize("name", NAMES)
def test_fastaug(benchmark, cases, name):
    func, args, kwargs = cases[name]
    call = getattr(fastaug, func)
    call(*args, **kwargs)  # compile outside the timing
    benchmark.group = f"ndimage-{name}"
    rounds, warmup = _rounds(name)
    result = benchmark.pedantic(call, args=args, kwargs=kwargs, rounds=rounds, warmup_rounds=warmup)
    benchmark.extra_info.update(case=name, peer="fastaug")
    record(benchmark, f"fastaug-{name}")
    np.testing.assert_array_equal(result, getattr(ndimage, func)(*args, **kwargs))


@pytest.mark.parametrize("name", NAMES)
def test_scipy(benchmark, cases, name):
    func, args, kwargs = cases[name]
    benchmark.group = f"ndimage-{name}"
    rounds, warmup = _rounds(name)
    benchmark.pedantic(
        getattr(ndimage, func), args=args, kwargs=kwargs, rounds=rounds, warmup_rounds=warmup
    )
    benchmark.extra_info.update(case=name, peer="scipy")
    record(benchmark, f"scipy-{name}")


def test_targets():
    """Issue 21's targets, as ratios of medians from this run."""
    targets = {
        "affine-2d-28-order3": 3,
        "affine-3d-96-order3-nearest": 4,
        "map-coordinates-3d-64-from-96-order3": 4,
    }
    results = {name: ratio(f"scipy-{name}", f"fastaug-{name}") for name in targets}
    print("\n" + json.dumps({k: round(v, 2) for k, v in results.items()}, indent=1))
    missed = {k: (round(results[k], 2), t) for k, t in targets.items() if results[k] < t}
    assert not missed, f"targets missed (measured, target): {missed}"
