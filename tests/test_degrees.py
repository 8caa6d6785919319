"""fastaug's degree trigonometry against scipy.special.cosdg / sindg, bit for bit."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from fastaug._degrees import TOTAL_LOSS, cos_sin_degrees


def _same_bits(actual, expected):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    np.testing.assert_array_equal(actual.view(np.int64), expected.view(np.int64))


def _sweep():
    rng = np.random.default_rng(5)
    return np.concatenate(
        [
            np.arange(-1440, 1440.5, 0.5),  # every half degree over four turns
            45.0 * np.arange(-2000, 2001),  # octant boundaries, where the sign flips
            [0.0, -0.0, 1e-9, -1e-9, -0.001, 15, -15, 37.5, 375, 5e-324, -5e-324],
            rng.uniform(-360, 360, 20000),
            rng.uniform(-1e7, 1e7, 20000),
            10.0 ** rng.uniform(-12, 20, 20000) * rng.choice([-1, 1], 20000),
            [TOTAL_LOSS, np.nextafter(TOTAL_LOSS, np.inf), -TOTAL_LOSS, 1e300, -1e300],
        ]
    )


def test_array_matches_scipy_bit_for_bit():
    angles = _sweep()
    cos, sin = cos_sin_degrees(angles)
    _same_bits(cos, special.cosdg(angles))
    _same_bits(sin, special.sindg(angles))


def test_scalar_form_matches_the_array_form():
    for angle in (0.0, -0.0, 90.0, 180.0, 270.0, -15.0, 1e-9, 123.456):
        cos, sin = cos_sin_degrees(angle)
        assert isinstance(cos, float) and isinstance(sin, float)
        _same_bits(cos, special.cosdg(angle))
        _same_bits(sin, special.sindg(angle))


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_finite_angle(angle):
    cos, sin = cos_sin_degrees(angle)
    _same_bits(cos, special.cosdg(angle))
    _same_bits(sin, special.sindg(angle))
