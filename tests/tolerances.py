"""The one table of how close fastaug must be to SciPy, and the assertion that applies it.

| output                      | bound                                   |
|-----------------------------|-----------------------------------------|
| order 0 (any dtype)         | bit-exact                               |
| bool / integer outputs      | bit-exact                               |
| float64                     | |diff| <= 1e-12 * data range (max |x|, at least 1) |
| float32                     | <= 1 ulp of SciPy's float32 value       |

Nothing here is loosened for any case; in practice every case in the suite is bit-exact.
"""
import numpy as np

FLOAT64_RELATIVE = 1e-12
FLOAT32_ULPS = 1


def assert_matches_scipy(actual, expected, order, data_range=None, context=""):
    """Compare with the bound of the table above for ``expected``'s dtype and ``order``."""
    assert actual.shape == expected.shape, f"{context}: shape {actual.shape} != {expected.shape}"
    assert actual.dtype == expected.dtype, f"{context}: dtype {actual.dtype} != {expected.dtype}"
    kind = expected.dtype.kind
    if order == 0 or kind in "biu":
        mismatch = np.flatnonzero(~((actual == expected) | (np.isnan(actual) & np.isnan(expected))
                                    if kind in "fc" else actual == expected))
        assert mismatch.size == 0, (
            f"{context}: {mismatch.size} values differ (bit-exact required); first at flat "
            f"index {mismatch[0]}: {actual.flat[mismatch[0]]!r} vs {expected.flat[mismatch[0]]!r}")
        return
    if kind == "c":
        assert_matches_scipy(actual.real, expected.real, order, data_range, context + " real")
        assert_matches_scipy(actual.imag, expected.imag, order, data_range, context + " imag")
        return
    if expected.dtype == np.float32:
        ulp = np.spacing(np.abs(expected)).astype(np.float64)
        diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
        assert (diff <= FLOAT32_ULPS * ulp).all(), f"{context}: float32 off by >1 ulp: {diff.max()}"
        return
    scale = max(1.0, float(data_range if data_range is not None else np.abs(expected).max(initial=0)))
    err = np.abs(actual - expected).max(initial=0.0)
    assert err <= FLOAT64_RELATIVE * scale, f"{context}: float64 max error {err} > 1e-12 * {scale}"
