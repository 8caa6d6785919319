"""fastaug.splines.prefiltered: SciPy's pre-padding + spline_filter, bit for bit."""

import numpy as np
import pytest
import scipy.ndimage as ndi

from fastaug.splines import prefiltered

from conftest import MODES, scipy_reflect_is_buggy
from tolerances import assert_matches_scipy

SHAPES = [
    (7,),
    (1,),
    (64,),
    (5, 6),
    (2, 3),
    (25, 23),
    (40, 64),
    (4, 5, 6),
    (3, 32, 7),
    (3, 1, 4, 2),
]


def scipy_prefiltered(a, order, mode, cval):
    """What SciPy's interpolation functions sample: pad (np.pad), then spline_filter."""
    if order < 2:
        return a.astype(np.float64), 0
    npad = 12 if mode in ("nearest", "grid-constant") else 0
    if mode == "nearest":
        a = np.pad(a, npad, mode="edge")
    elif mode == "grid-constant":
        a = np.pad(a, npad, mode="constant", constant_values=cval)
    return ndi.spline_filter(a, order, output=np.float64, mode=mode), npad


def filter_is_version_dependent(mode, order, shape):
    """SciPy < 1.18's reflect-initialised prefilter on short axes (see conftest): 'nearest'
    filters with the reflect initialisation too, on axes 24 samples longer."""
    if mode == "nearest" and order > 1:
        return scipy_reflect_is_buggy("reflect", order, tuple(s + 24 for s in shape))
    return scipy_reflect_is_buggy(mode, order, shape)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("mode", MODES)
def test_prefiltered_matches_scipy(shape, mode, rng):
    for dtype in (np.uint8, np.int16, np.float32, np.float64):
        a = (rng.random(shape) * 300 - 40).astype(dtype)
        for order in range(6):
            if filter_is_version_dependent(mode, order, shape):
                continue
            coeffs, npad = prefiltered(a, order, mode, 1.5)
            expected, expected_npad = scipy_prefiltered(a, order, mode, 1.5)
            assert npad == expected_npad
            assert coeffs.flags.c_contiguous
            assert_matches_scipy(coeffs, expected, context=f"{dtype.__name__} order {order}")


@pytest.mark.parametrize("mode", ["nearest", "grid-constant", "mirror"])
def test_prefiltered_large_array_on_threads_matches_scipy(mode, rng):
    # Large enough to be split among threads, with lines of each axis in several tiles.
    a = rng.random((300, 260)).astype(np.float32)
    coeffs, npad = prefiltered(a, 3, mode, -2.0)
    expected, _ = scipy_prefiltered(a, 3, mode, -2.0)
    assert_matches_scipy(coeffs, expected)


def test_prefiltered_layouts_and_cval_cast(rng):
    base = rng.random((46, 25)) * 255  # reflect axes long enough for SciPy 1.17 (conftest)
    for a in (
        np.asfortranarray(base),
        base[::2, ::-1],
        base.astype(">f8"),
        base.astype(np.uint8),
    ):
        a.setflags(write=False)
        for mode in ("nearest", "grid-constant", "reflect"):
            # cval stored as the input dtype stores it (np.pad), -1 -> 255 for uint8
            coeffs, _ = prefiltered(a, 4, mode, -1.0)
            expected, _ = scipy_prefiltered(a, 4, mode, -1.0)
            assert_matches_scipy(coeffs, expected, context=f"{a.dtype} {mode}")


def test_prefiltered_low_orders_are_the_input_as_float64(rng):
    a = rng.random((4, 5)).astype(np.float32)
    for order in (0, 1):
        coeffs, npad = prefiltered(a, order, "nearest", 3.0)
        assert npad == 0 and coeffs.dtype == np.float64
        assert_matches_scipy(coeffs, a.astype(np.float64))
