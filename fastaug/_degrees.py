"""Cosine and sine of angles in degrees, to the bit as ``scipy.special.cosdg`` / ``sindg``.

SciPy's ``rotate`` builds its matrix from these (Cephes' algorithm: reduce to an octant of
45 degrees, then one of two polynomials), and the matrix decides every sample position, so
fastaug needs the very same doubles. Doing the arithmetic here, with NumPy's IEEE operations in
the same order (no FMA), spares ``import fastaug`` the import of ``scipy.special``: 0.14 s
alone, 0.04 s once ``scipy.linalg`` is in (Numba imports it when it loads the first kernel, so
the command-line job saves the 0.04 s). ``tests/test_degrees.py`` checks the results against
SciPy bit for bit.
"""

import numpy as np

# Cephes' minimax coefficients, highest power first: sin(z) = z + z^3 P(z^2) and
# cos(z) = 1 - z^2 Q(z^2) for |z| <= pi/4.
_SIN_POLY = (
    1.58962301572218447952e-10,
    -2.50507477628503540135e-8,
    2.75573136213856773549e-6,
    -1.98412698295895384658e-4,
    8.33333333332211858862e-3,
    -1.66666666666666307295e-1,
)
_COS_POLY = (
    1.13678171382044553091e-11,
    -2.08758833757683644217e-9,
    2.75573155429816611547e-7,
    -2.48015872936186303776e-5,
    1.38888888888806666760e-3,
    -4.16666666666666348141e-2,
    4.99999999999999999798e-1,
)
_RADIANS_PER_DEGREE = 1.74532925199432957692e-2

#: Beyond this magnitude the reduction has no significant bits left; SciPy returns 0.0.
TOTAL_LOSS = 1.0e14


def _horner(zz, coefficients):
    acc = np.full_like(zz, coefficients[0])
    for c in coefficients[1:]:
        acc = acc * zz + c
    return acc


def cos_sin_degrees(angle):
    """``(cosdg(angle), sindg(angle))`` for a finite float or array of floats (float64)."""
    x = np.asarray(angle, dtype=np.float64)
    magnitude = np.abs(x)
    lost = magnitude > TOTAL_LOSS
    magnitude = np.where(lost, 0.0, magnitude)  # reduce a harmless 0 in their place
    # Octant index modulo 16, computed on a float so huge angles do not overflow an int.
    octants = np.floor(magnitude / 45.0)
    j = (octants - np.ldexp(np.floor(np.ldexp(octants, -4)), 4)).astype(np.int64)
    odd = (j & 1) == 1
    j = np.where(odd, j + 1, j) & 7
    octants = np.where(odd, octants + 1.0, octants)
    lower_half = j > 3  # 180-360 degrees: sine and cosine both reflected
    j = np.where(lower_half, j - 4, j)
    z = (magnitude - octants * 45.0) * _RADIANS_PER_DEGREE
    zz = z * z
    sin_series = z + z * (zz * _horner(zz, _SIN_POLY))
    cos_series = 1.0 - zz * _horner(zz, _COS_POLY)
    swapped = (j == 1) | (j == 2)
    sin = np.where(swapped, cos_series, sin_series)
    cos = np.where(swapped, sin_series, cos_series)
    sin = np.where((x < 0) != lower_half, -sin, sin)  # SciPy 1.17 tests x < 0: sindg(-0.0) is 0.0
    cos = np.where(lower_half != (j > 1), -cos, cos)
    sin = np.where(lost, 0.0, sin)
    cos = np.where(lost, 0.0, cos)
    if sin.ndim == 0:
        return float(cos), float(sin)
    return cos, sin
