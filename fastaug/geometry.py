"""Every matrix formula, once: from output coordinates to input coordinates (pull-backs).

Rotations use SciPy's degree-exact cosine and sine (``scipy.special.cosdg``/``sindg``, in
:mod:`fastaug._degrees`) and SciPy's own NumPy calls, so ``rotate`` matches
``scipy.ndimage.rotate`` bit for bit; the affine motion of the transforms reduces to the
same numbers when it is a pure rotation (``RandomAffine(degrees=(t, t))`` is
``RandomRotation(t)`` to the bit). Coordinates are ``(row, col)``; angles in degrees,
positive counter-clockwise as the picture is shown (row 0 at the top). ``zoom``'s output
shape and per-axis factors (SciPy's formulas) are here too; its map and ``shift``'s are
separable, run by :func:`fastaug.backends.cpu.zoom_shift`.
"""

import numpy as np
import numpy.typing as npt

from ._degrees import cos_sin_degrees


def _rotation_pullbacks(c: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``(n, 2, 2)`` inverse rotations ``[[c, s], [-s, c]]``: SciPy's ``rotate`` matrix."""
    return np.ascontiguousarray(np.stack([np.stack([c, s], -1), np.stack([-s, c], -1)], -2))


def rotation_geometry(in_plane, angle: float, reshape: bool):
    """SciPy's ``rotate`` set-up: (matrix, offset, out_plane) computed exactly as it does.

    The order of NumPy calls matters: the offset uses the same ``(2, 2) @ (2,)`` matmul, whose
    rounding (FMA or not) decides ties in order-0 sampling.
    """
    c, s = cos_sin_degrees(angle)
    matrix = np.array([[c, s], [-s, c]])
    in_plane = np.asarray(in_plane)
    if reshape:
        iy, ix = in_plane
        out_bounds = matrix @ [[0, 0, iy, iy], [0, ix, 0, ix]]
        out_plane = (np.ptp(out_bounds, axis=1) + 0.5).astype(int)
    else:
        out_plane = in_plane
    out_center = matrix @ ((out_plane - 1) / 2)
    in_center = (in_plane - 1) / 2
    offset = in_center - out_center
    return matrix, np.ascontiguousarray(offset, dtype=np.float64), tuple(int(n) for n in out_plane)


def rotation_matrices(angles: npt.ArrayLike, plane) -> tuple[np.ndarray, np.ndarray]:
    """SciPy's ``rotate(..., reshape=False)`` matrices and offsets for many angles, with the
    same NumPy arithmetic (a stacked matmul gives the same bits as one ``(2, 2) @ (2,)``
    per angle)."""
    matrices = _rotation_pullbacks(*cos_sin_degrees(angles))
    center = (np.asarray(plane) - 1) / 2
    return matrices, np.ascontiguousarray(center - matrices @ center)


def affine_pullback(angle, shift, scale, shear, plane) -> np.ndarray:
    """Homogeneous ``(n, 3, 3)`` pull-backs (output ``(row, col)`` -> input) of the motion
    ``x -> c + shift + R(angle) S(scale) H(shear) (x - c)`` about the centre ``c`` of
    ``plane``, in ``(row, col)`` coordinates.

    ``angle``: degrees, counter-clockwise as :func:`fastaug.rotate` turns the picture;
    ``shift``: ``(n, 2)`` rows and columns; ``shear``: ``(n, 2)`` degrees ``(y, x)``: the
    shear adds ``tan(x) * row`` to each column and ``tan(y) * column`` to each row.

    The inverse is written out, ``H^-1 R^-1 / scale`` and ``c - P c - P shift``, each factor
    applied only where it moves something, so that a pure rotation gives exactly
    :func:`rotation_matrices`' numbers (no ``linalg.inv``, whose rounding differed by up to
    9e-15).
    """
    angle = np.asarray(angle, dtype=np.float64)
    scale = np.asarray(scale, dtype=np.float64)
    shift = np.asarray(shift, dtype=np.float64).reshape(-1, 2)
    shear = np.asarray(shear, dtype=np.float64).reshape(-1, 2)
    pull, offsets = rotation_matrices(angle, plane)
    scaled = scale != 1.0
    if scaled.any():
        pull = np.where(scaled[:, None, None], pull / scale[:, None, None], pull)
    sheared = (shear != 0.0).any(axis=1)
    if sheared.any():
        tan_y, tan_x = np.tan(np.deg2rad(shear[:, 0])), np.tan(np.deg2rad(shear[:, 1]))
        ones = np.ones_like(tan_y)
        unshear = np.stack([np.stack([ones, -tan_y], -1), np.stack([-tan_x, ones], -1)], -2)
        unshear /= (1.0 - tan_x * tan_y)[:, None, None]
        pull = np.where(sheared[:, None, None], unshear @ pull, pull)
    if scaled.any() or sheared.any():
        center = (np.asarray(plane, dtype=np.float64) - 1) / 2
        offsets = center - pull @ center
    moved = (shift != 0.0).any(axis=1)
    if moved.any():
        offsets = np.where(moved[:, None], offsets - (pull @ shift[..., None])[..., 0], offsets)
    return homogeneous(pull, offsets)


def flip_pullbacks(axis: int, n: int, plane) -> np.ndarray:
    """Homogeneous ``(n, 3, 3)`` mirror images along ``axis`` (0: rows, 1: columns)."""
    diagonal = [1.0, 1.0]
    diagonal[axis] = -1.0
    offset = [0.0, 0.0]
    offset[axis] = plane[axis] - 1.0
    return homogeneous(np.tile(np.diag(diagonal), (n, 1, 1)), np.tile(offset, (n, 1)))


def homogeneous(matrices: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``(n, d + 1, d + 1)`` homogeneous maps from ``(n, d, d)`` matrices and ``(n, d)``
    offsets."""
    n, d = matrices.shape[0], matrices.shape[-1]
    out = np.zeros((n, d + 1, d + 1))
    out[:, :d, :d] = matrices
    out[:, :d, d] = offsets
    out[:, d, d] = 1.0
    return out


def zoom_output_shape(in_shape, zooms):
    """``zoom``'s output shape: each length times its factor, rounded as Python's ``round``
    does (half to even), as SciPy computes it (NaN, infinite or non-numeric factors raise
    there, as in SciPy)."""
    return tuple(int(round(n * z)) for n, z in zip(in_shape, zooms))


def zoom_factors(in_shape, out_shape, grid_mode):
    """SciPy's per-axis zoom factor: ``(in - 1) / (out - 1)`` (sample centres aligned at the
    edges), or ``in / out`` with ``grid_mode`` (pixel edges aligned); 1.0 where the divisor
    is 0 (an output of one sample, or none)."""
    numerator = np.array(in_shape, dtype=np.int64)
    divisor = np.array(out_shape, dtype=np.int64)
    if not grid_mode:
        numerator -= 1
        divisor -= 1
    return np.divide(numerator, divisor, out=np.ones(len(in_shape)), where=divisor != 0)
