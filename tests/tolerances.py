"""The one table of how close fastaug must be to SciPy, and the assertion that applies it.

| output                        | bound     |
|-------------------------------|-----------|
| every order, mode and dtype   | bit-exact |

fastaug reproduces SciPy's arithmetic operation for operation (coordinates, folding, weights,
prefilter recursions, summation order, output rounding), so the README claims bit-for-bit
results, and this is what the suite asserts: equal values, NaN where SciPy has NaN, and the
same sign on zeros. (Earlier bounds of 1e-12 relative for float64 and 1 ulp for float32 were
never needed; they are gone so that the claim and the tests say the same.) The reference is
SciPy >= 1.16 on x86-64, with the correct reflect prefilter of SciPy 1.18 (see conftest).
"""

import numpy as np


def assert_matches_scipy(actual, expected, order=None, data_range=None, context=""):
    """Bit-exact equality with SciPy's result (``order`` and ``data_range`` are accepted for
    the callers' context only: no order or range loosens the comparison)."""
    assert actual.shape == expected.shape, f"{context}: shape {actual.shape} != {expected.shape}"
    assert actual.dtype == expected.dtype, f"{context}: dtype {actual.dtype} != {expected.dtype}"
    if expected.dtype.kind == "c":
        assert_matches_scipy(actual.real, expected.real, order, data_range, context + " real")
        assert_matches_scipy(actual.imag, expected.imag, order, data_range, context + " imag")
        return
    same = actual == expected
    if expected.dtype.kind == "f":
        same = (same & (np.signbit(actual) == np.signbit(expected))) | (
            np.isnan(actual) & np.isnan(expected)
        )
    mismatch = np.flatnonzero(~same)
    assert mismatch.size == 0, (
        f"{context}: {mismatch.size} values differ (bit-exact required); first at flat "
        f"index {mismatch[0]}: {actual.flat[mismatch[0]]!r} vs {expected.flat[mismatch[0]]!r}"
    )
