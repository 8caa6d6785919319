"""affine_each on 3-D volumes (N, D, H, W) against scipy.ndimage.affine_transform, volume by
volume (bit-exact), with each matrix form and any output shape."""

import numpy as np
import pytest
from scipy import ndimage

import fastaug

from tolerances import assert_matches_scipy


def _rotations(rng, n, shape, out_shape):
    """``n`` random rotations about the centre, as (N, 3, 3) matrices and (N, 3) offsets."""
    matrices = np.stack([np.linalg.qr(rng.standard_normal((3, 3)))[0] for _ in range(n)])
    centre_in = (np.array(shape) - 1) / 2
    centre_out = (np.array(out_shape) - 1) / 2
    return matrices, centre_in - matrices @ centre_out


def _scipy_each(volumes, matrices, offsets, out_shape, **kwargs):
    return np.stack(
        [
            ndimage.affine_transform(v, m, o, out_shape, **kwargs)
            for v, m, o in zip(volumes, matrices, offsets)
        ]
    )


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize(
    "order,mode,prefilter",
    [(0, "constant", True), (1, "nearest", True), (3, "nearest", True), (3, "mirror", True),
     (2, "grid-constant", True), (3, "wrap", False), (5, "grid-wrap", True)],
)  # fmt: skip
def test_volumes_match_scipy_volume_by_volume(dtype, order, mode, prefilter):
    rng = np.random.default_rng(order * 3 + len(mode))
    shape = (7, 9, 8)
    volumes = (rng.random((3,) + shape) * 200).astype(dtype)
    for out_shape in (shape, (10, 6, 9), (4, 5, 3)):
        matrices, offsets = _rotations(rng, 3, shape, out_shape)
        homogeneous = np.tile(np.eye(4), (3, 1, 1))
        homogeneous[:, :3, :3] = matrices
        homogeneous[:, :3, 3] = offsets
        kwargs = dict(order=order, mode=mode, cval=1.5, prefilter=prefilter)
        expected = _scipy_each(volumes, matrices, offsets, out_shape, **kwargs)
        for form, off in ((matrices, offsets), (homogeneous, None), (homogeneous[:, :3], None)):
            actual = fastaug.affine_each(volumes, form, off, output_shape=out_shape, **kwargs)
            assert_matches_scipy(actual, expected, context=f"{form.shape} -> {out_shape}")


def test_shared_offset_default_shape_and_output_array():
    rng = np.random.default_rng(1)
    volumes = rng.random((2, 6, 7, 5))
    matrices, _ = _rotations(rng, 2, volumes.shape[1:], volumes.shape[1:])
    out = np.empty((2, 6, 7, 5), np.float32)
    result = fastaug.affine_each(volumes, matrices, (0.5, -1.0, 2.0), out=out, mode="mirror")
    assert result is out
    expected = _scipy_each(
        volumes, matrices, [(0.5, -1.0, 2.0)] * 2, None, output=np.float32, mode="mirror"
    )
    assert_matches_scipy(out, expected)
    empty = fastaug.affine_each(np.zeros((0, 4, 4, 4)), np.zeros((0, 3, 4)))
    assert empty.shape == (0, 4, 4, 4)


def test_plainly_channels_last_images_keep_their_2d_reading():
    """(N, 3, 3) matrices on (N, H, W, C) images with few channels stay homogeneous 2-D."""
    images = np.random.default_rng(2).random((2, 9, 8, 3))
    shift = np.tile(np.array([[1.0, 0, 1], [0, 1, 0], [0, 0, 1]]), (2, 1, 1))
    result = fastaug.affine_each(images, shift, order=0)
    np.testing.assert_array_equal(result[:, :-1], images[:, 1:])


@pytest.mark.parametrize(
    "images,matrices,kwargs,message",
    [
        (np.zeros((2, 8, 8, 8)), np.zeros((3, 3, 4)), {}, r"N = 2 volumes"),
        (np.zeros((2, 8, 8, 8)), np.tile(np.eye(4) * 2, (2, 1, 1)), {}, "bottom row"),
        (np.zeros((2, 8, 8, 8)), np.zeros((2, 3, 3)), dict(output_shape=(4, 4)), "three sizes"),
        (np.zeros((2, 8, 8)), np.zeros((2, 2, 2)), dict(output_shape=(4, 4)), "for volumes"),
        (np.zeros((2, 8, 8, 8)), np.zeros((2, 3, 3)), dict(offsets=np.zeros((2, 2))), r"\(N, 3\)"),
    ],
)
def test_bad_volume_arguments(images, matrices, kwargs, message):
    with pytest.raises(ValueError, match=message):
        fastaug.affine_each(images, matrices, **kwargs)
