"""fastaug.rotate against scipy.ndimage.rotate: parameter sweeps, exact cases, properties."""

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy import ndimage

import fastaug

from conftest import MODES, call_signature, scipy_reflect_is_buggy
from tolerances import assert_matches_scipy

ANGLES = [0, 15, -15, 90, 180, 270, 375, -0.001, 37.5, 1e-9]
SHAPES = [(1, 1), (2, 3), (5, 5), (28, 28), (31, 17)]
DTYPES = [np.uint8, np.int16, np.float32, np.float64]
CVALS = [0.0, 3.25]


def sample(rng, shape, dtype):
    if np.dtype(dtype).kind == "f":
        return (rng.standard_normal(shape) * 60 + 100).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(
        max(info.min, -200), min(info.max, 255), size=shape, endpoint=True, dtype=dtype
    )


def test_signature_is_scipys():
    assert call_signature(fastaug.rotate) == call_signature(ndimage.rotate)


@pytest.mark.parametrize("order", range(6))
@pytest.mark.parametrize("mode", MODES)
def test_sweep_against_scipy(order, mode):
    """angles x shapes x dtypes x reshape x cval for one (order, mode): every case compared."""
    rng = np.random.default_rng(order * 31 + MODES.index(mode))
    compared = 0
    for shape, dtype in itertools.product(SHAPES, DTYPES):
        data = sample(rng, shape, dtype)
        for angle, reshape, cval in itertools.product(ANGLES, (True, False), CVALS):
            if scipy_reflect_is_buggy(mode, order, shape):
                continue
            kwargs = dict(reshape=reshape, order=order, mode=mode, cval=cval)
            expected = ndimage.rotate(data, angle, **kwargs)
            actual = fastaug.rotate(data, angle, **kwargs)
            assert_matches_scipy(
                actual,
                expected,
                order,
                np.ptp(data) if data.size else 1,
                context=f"{shape} {np.dtype(dtype).name} angle={angle} {kwargs}",
            )
            compared += 1
    assert compared > 0


@pytest.mark.parametrize("order", [0, 1, 3, 5])
@pytest.mark.parametrize("mode", ["constant", "nearest", "grid-wrap", "grid-constant"])
def test_prefilter_false(order, mode, rng):
    data = rng.random((13, 11)) * 255
    for angle in (15, -33.3, 90):
        expected = ndimage.rotate(data, angle, order=order, mode=mode, prefilter=False)
        assert_matches_scipy(
            fastaug.rotate(data, angle, order=order, mode=mode, prefilter=False),
            expected,
            order,
            255,
        )


@pytest.mark.parametrize(
    "dtype", [np.bool_, np.int8, np.uint16, np.int32, np.uint32, np.int64, np.uint64]
)
@pytest.mark.parametrize("order", [0, 1, 3])
def test_other_dtypes(dtype, order, rng):
    data = (
        (rng.random((9, 12)) > 0.5)
        if dtype is np.bool_
        else rng.integers(0, 120, (9, 12)).astype(dtype)
    )
    for angle in (15, -40, 90):
        expected = ndimage.rotate(data, angle, order=order, mode="nearest")
        assert_matches_scipy(
            fastaug.rotate(data, angle, order=order, mode="nearest"), expected, order
        )


def test_integer_rounding_and_clipping():
    """Overshoot of order 3 on uint8/int8 clips; ties round half up (unsigned) / away (signed)."""
    a = np.zeros((9, 9))
    a[4, 4] = 255
    for dtype in (np.uint8, np.int8):
        data = np.clip(a, np.iinfo(dtype).min, np.iinfo(dtype).max).astype(dtype)
        for angle in (10, 45, 33):
            expected = ndimage.rotate(data, angle, order=3)
            assert_matches_scipy(fastaug.rotate(data, angle, order=3), expected, 3)
    half = np.array([[0, 5], [5, -5]], np.float64)
    for dtype in (np.uint8, np.int8, np.int16):
        expected = ndimage.rotate(half, 45, order=1, output=dtype)
        assert_matches_scipy(fastaug.rotate(half, 45, order=1, output=dtype), expected, 1)


@pytest.mark.parametrize("out_dtype", [np.float32, np.uint8, np.int16, np.float64])
def test_output_dtype_and_array(out_dtype, rng):
    data = rng.random((10, 14)) * 300 - 20
    expected = ndimage.rotate(data, 20, output=out_dtype)
    assert_matches_scipy(fastaug.rotate(data, 20, output=out_dtype), expected, 3, 320)
    out = np.empty(expected.shape, out_dtype)
    result = fastaug.rotate(data, 20, output=out)
    assert result is out
    assert_matches_scipy(out, expected, 3, 320)


def test_complex_input(rng):
    data = rng.random((12, 10)) + 1j * rng.random((12, 10))
    for cval in (0, 1 + 2j):
        expected = ndimage.rotate(data, 30, cval=cval, mode="constant")
        assert_matches_scipy(fastaug.rotate(data, 30, cval=cval), expected, 3, 1)
    expected = ndimage.rotate(data.astype(np.complex64), -10, order=1)
    assert_matches_scipy(fastaug.rotate(data.astype(np.complex64), -10, order=1), expected, 1)


@pytest.mark.parametrize("axes", [(1, 0), (0, 1), (1, 2), (2, 1), (0, 2), (-1, -2)])
def test_nd_every_plane(axes, rng):
    data = rng.random((6, 9, 7)) * 100
    for order, reshape in ((0, True), (3, False), (1, True)):
        expected = ndimage.rotate(data, 25, axes=axes, order=order, reshape=reshape)
        assert_matches_scipy(
            fastaug.rotate(data, 25, axes=axes, order=order, reshape=reshape), expected, order, 100
        )


def test_batch_with_channels(rng):
    """(N, H, W, C) with the plane in axes (1, 2): N and C are batch axes."""
    data = (rng.random((4, 28, 28, 3)) * 255).astype(np.uint8)
    for mode in ("nearest", "grid-constant", "reflect"):
        expected = ndimage.rotate(data, 15, axes=(1, 2), reshape=False, mode=mode)
        assert_matches_scipy(
            fastaug.rotate(data, 15, axes=(1, 2), reshape=False, mode=mode), expected, 3
        )


def test_exact_cases():
    a = np.arange(25.0).reshape(5, 5)
    # Multiples of 90 degrees land on sample centres (exact cosdg/sindg): order 1 is a pure copy.
    np.testing.assert_array_equal(fastaug.rotate(a, 90, order=1), np.rot90(a))
    np.testing.assert_array_equal(fastaug.rotate(a, -90, order=1), np.rot90(a, -1))
    np.testing.assert_array_equal(fastaug.rotate(a, 270, order=0), np.rot90(a, 3))
    np.testing.assert_array_equal(fastaug.rotate(a, 180, order=0), a[::-1, ::-1])
    np.testing.assert_array_equal(fastaug.rotate(a, 0, order=1), a)
    tile = np.tile(np.arange(5), (5, 1))
    np.testing.assert_array_equal(fastaug.rotate(fastaug.rotate(tile, 180), -180), tile)
    np.testing.assert_array_equal(fastaug.rotate(a, 360), fastaug.rotate(a, 0))


def test_spec_vectors():
    """Numbers from the semantics note (shared/docs/scipy_rotate_semantics.md section 9)."""
    a = np.arange(25.0).reshape(5, 5)
    np.testing.assert_allclose(
        fastaug.rotate(a, 30, order=1)[3],
        [0, 5.267949, 8.633975, 12, 15.366025, 18.732051, 0],
        atol=1e-6,
    )
    np.testing.assert_array_equal(
        fastaug.rotate(a, 30, order=0, reshape=False),
        [
            [0, 0, 3, 9, 0],
            [1, 7, 8, 13, 0],
            [5, 11, 12, 18, 19],
            [0, 11, 17, 17, 23],
            [0, 15, 21, 0, 0],
        ],
    )
    np.testing.assert_array_equal(
        fastaug.rotate((a * 10).astype(np.uint8), 30, order=3, reshape=False),
        [
            [0, 0, 35, 74, 0],
            [8, 42, 83, 119, 0],
            [51, 89, 120, 151, 189],
            [0, 121, 157, 198, 232],
            [0, 166, 205, 0, 0],
        ],
    )
    sums = [
        fastaug.rotate(a, 30, reshape=False, cval=0.5, order=o, mode="grid-constant").sum()
        for o in range(6)
    ]
    np.testing.assert_allclose(
        sums,
        [260, 255.651325704, 265.550144758, 266.585805456, 267.109949978, 267.324214923],
        rtol=1e-10,
    )


def test_reflect_prefilter_is_the_fixed_one():
    """SciPy 1.18's corrected reflect initialisation: symmetric, and rotating a 5x5 ramp with
    reflect keeps its sum 300 for orders 1-5 (1.17 drifts to 299.9897 for order >= 2)."""
    a = np.arange(25.0).reshape(5, 5)
    for order in range(1, 6):
        total = fastaug.rotate(a, 30, reshape=False, mode="reflect", cval=0.5, order=order).sum()
        assert abs(total - 300.0) < 1e-9, (order, total)
    # The 1-D filter of an impulse, order 5: symmetric (1.17 gives 0.321626 ... 0.321521).
    from fastaug.kernels import prefilter

    line = np.zeros((5, 1))
    line[2] = 1
    prefilter.spline_filter_lines(line, np.zeros(1, np.int64), 1, 5, 5, prefilter.INIT_REFLECT)
    np.testing.assert_allclose(
        line[:, 0], [0.321519, -1.197468, 2.751899, -1.197468, 0.321519], atol=1e-6
    )
    np.testing.assert_allclose(line[:, 0], line[::-1, 0], rtol=1e-12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    angle=st.floats(-720, 720),
    order=st.integers(0, 5),
    mode=st.sampled_from(MODES),
    reshape=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_property_random_shapes_and_angles(h, w, angle, order, mode, reshape, seed):
    assume(not scipy_reflect_is_buggy(mode, order, (h, w)))
    data = np.random.default_rng(seed).random((h, w)) * 100
    expected = ndimage.rotate(data, angle, order=order, mode=mode, reshape=reshape)
    assert_matches_scipy(
        fastaug.rotate(data, angle, order=order, mode=mode, reshape=reshape), expected, order, 100
    )
