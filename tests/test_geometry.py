"""The one geometry module: every pull-back formula once, and a pure rotation the same
numbers whichever transform asks for it."""

import numpy as np
import pytest

from fastaug import geometry
from fastaug.transforms import Compose, RandomAffine, RandomRotation

ANGLES = [10.0, 33.3, 90.0, -45.0, 180.0, 12.5, 359.9, 0.0, -0.0, 270.0]


@pytest.mark.parametrize("angle", ANGLES)
def test_random_affine_rotation_is_random_rotation_to_the_bit(angle):
    """RandomAffine(degrees=(t, t)) differed from RandomRotation(t) by 3e-15 to 9e-15 (its
    matrix came from np.cos(np.deg2rad) and np.linalg.inv)."""
    x = np.random.default_rng(0).random((6, 17, 14))  # float64: no rounding hides a bit
    kwargs = dict(order=3, mode="reflect")
    rotated = Compose([RandomRotation((angle, angle), **kwargs)])(x, seed=3)
    affine = Compose([RandomAffine(degrees=(angle, angle), **kwargs)])(x, seed=3)
    np.testing.assert_array_equal(affine, rotated)
    assert np.array_equal(np.signbit(affine), np.signbit(rotated))


def test_pure_rotation_pullbacks_are_the_rotation_matrices():
    angles = np.array(ANGLES)
    n = len(angles)
    pull = geometry.affine_pullback(angles, np.zeros((n, 2)), np.ones(n), np.zeros((n, 2)),
                                    (21, 16))  # fmt: skip
    matrices, offsets = geometry.rotation_matrices(angles, (21, 16))
    assert pull.tobytes() == geometry.homogeneous(matrices, offsets).tobytes()


def test_affine_pullback_inverts_the_documented_motion(rng):
    """x -> c + shift + R(angle) S(scale) H(shear) (x - c), built here independently and
    inverted numerically."""
    n, plane = 50, (23, 31)
    angle = rng.uniform(-180, 180, n)
    shift = rng.uniform(-5, 5, (n, 2))
    scale = rng.uniform(0.5, 2, n)
    shear = rng.uniform(-30, 30, (n, 2))
    pull = geometry.affine_pullback(angle, shift, scale, shear, plane)
    c = (np.array(plane) - 1) / 2
    for k in range(n):
        a = np.radians(angle[k])
        rotation = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        ty, tx = np.tan(np.radians(shear[k]))
        forward = rotation @ (scale[k] * np.array([[1, ty], [tx, 1]]))
        points = rng.uniform(-10, 40, (2, 8))
        moved = c[:, None] + shift[k][:, None] + forward @ (points - c[:, None])
        back = pull[k, :2, :2] @ moved + pull[k, :2, 2:]
        np.testing.assert_allclose(back, points, rtol=0, atol=1e-11)


def test_flips_are_exact_mirrors():
    pull = geometry.flip_pullbacks(1, 2, (5, 7))
    np.testing.assert_array_equal(pull[0], [[1, 0, 0], [0, -1, 6], [0, 0, 1]])
