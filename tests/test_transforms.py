"""Transforms and pipelines: against their definitions, determinism, replay, bad input."""

import doctest
import warnings

import numpy as np
import pytest
from scipy import ndimage

import fastaug
from fastaug import draws, presets
from fastaug.transforms import (
    BrightnessContrast,
    Compose,
    GaussianBlur,
    GaussianNoise,
    HorizontalFlip,
    OneOf,
    RandomAffine,
    RandomRotation,
    VerticalFlip,
    affine_pullback,
)

from tolerances import assert_matches_scipy


def _images(n=40, shape=(20, 18), dtype=np.uint8, seed=0):
    data = np.random.default_rng(seed).random((n,) + shape) * 255
    return data.astype(dtype) if np.dtype(dtype).kind != "f" else (data / 255).astype(dtype)


def _full():
    return Compose(
        [
            RandomAffine(20, translate=(0.1, 0.2), scale=(0.8, 1.2), shear=(-10, 10, -5, 5), p=0.8),
            HorizontalFlip(p=0.3),
            OneOf([RandomRotation(30, order=3, mode="nearest"), VerticalFlip(p=1.0)], p=0.5),
            GaussianNoise((0.01, 0.1), p=0.7),
            BrightnessContrast(0.2, 0.3, p=0.6),
            GaussianBlur((0.5, 1.5), p=0.3),
        ]
    )


# ------------------------------------------------------------------ definitions
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_random_rotation_with_a_fixed_angle_is_rotate(dtype):
    x = _images(dtype=dtype)
    for order, mode in ((1, "constant"), (3, "nearest"), (0, "wrap")):
        got = RandomRotation((12.5, 12.5), order=order, mode=mode)(x, seed=3)
        want = fastaug.rotate(x, 12.5, axes=(1, 2), reshape=False, order=order, mode=mode)
        assert_matches_scipy(got, want, order)
        # ... and SciPy's own rotate, image by image
        assert_matches_scipy(
            got[:3],
            np.stack(
                [ndimage.rotate(im, 12.5, reshape=False, order=order, mode=mode) for im in x[:3]]
            ),
            order,
        )


def test_random_affine_with_a_fixed_draw_is_affine_each_with_its_matrix():
    x = _images()
    t = RandomAffine(
        (10, 10), translate=None, scale=(1.25, 1.25), shear=(7, 7), order=3, mode="reflect"
    )
    got = t(x, seed=0)
    n = len(x)
    pull = affine_pullback(
        np.full(n, 10.0), np.zeros((n, 2)), np.full(n, 1.25), np.tile([0.0, 7.0], (n, 1)), (20, 18)
    )
    want = fastaug.affine_each(x, pull[:, :2, :], order=3, mode="reflect")
    np.testing.assert_array_equal(got, want)
    # the motion: a point moved by the forward map comes back through the pull-back
    a = np.deg2rad(10.0)
    forward = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) @ (
        np.array([[1.0, 0.0], [np.tan(np.deg2rad(7.0)), 1.0]]) * 1.25
    )
    center = np.array([9.5, 8.5])
    point = np.array([3.0, 4.0])
    moved = center + forward @ (point - center)
    np.testing.assert_allclose(pull[0, :2, :2] @ moved + pull[0, :2, 2], point, atol=1e-12)


def test_affine_translation_is_a_shift_in_pixels():
    x = np.zeros((1, 9, 9))
    x[0, 4, 4] = 1.0
    t = RandomAffine(0, translate=(0.25, 0.25), order=0)
    out = t(x, seed=5)
    entry = Compose([t]).draw_params(1, seed=5).transforms[0]
    shift = entry["shift_fraction"][0] * 9  # (rows, columns) in pixels
    assert out[0, int(round(4 + shift[0])), int(round(4 + shift[1]))] == 1.0


def test_flips_are_exact_by_indexing():
    x = _images(dtype=np.float32)
    assert np.array_equal(HorizontalFlip(p=1.0)(x, seed=0), x[:, :, ::-1])
    assert np.array_equal(VerticalFlip(p=1.0)(x, seed=0), x[:, ::-1])
    both = Compose([HorizontalFlip(p=1.0), VerticalFlip(p=1.0), HorizontalFlip(p=1.0)])(x, seed=0)
    assert np.array_equal(both, x[:, ::-1])
    params = Compose([HorizontalFlip()]).draw_params(len(x), seed=1)
    applied = params.transforms[0]["applied"]
    out = HorizontalFlip()(x, seed=1)
    assert np.array_equal(out[applied], x[applied][:, :, ::-1]) and np.array_equal(
        out[~applied], x[~applied]
    )


def test_consecutive_geometry_is_one_resampling():
    """Rotation then flip then rotation: one interpolation with the product matrix."""
    x = _images(dtype=np.float64)
    pipeline = Compose(
        [RandomRotation((10, 10), order=3), HorizontalFlip(p=1.0), RandomRotation((5, 5), order=3)]
    )
    got = pipeline(x, seed=0)
    from fastaug.functional import rotation_matrices

    def h(m, o):
        out = np.zeros((len(m), 3, 3))
        out[:, :2, :2], out[:, :2, 2], out[:, 2, 2] = m, o, 1
        return out

    n = len(x)
    r10 = h(*rotation_matrices(np.full(n, 10.0), (20, 18)))
    r5 = h(*rotation_matrices(np.full(n, 5.0), (20, 18)))
    flip = h(np.tile(np.diag([1.0, -1.0]), (n, 1, 1)), np.tile([0.0, 17.0], (n, 1)))
    product = r10 @ flip @ r5
    np.testing.assert_array_equal(got, fastaug.affine_each(x, product[:, :2, :], order=3))
    twice = fastaug.affine_each(
        fastaug.affine_each(x, r10[:, :2, :], order=3)[:, :, ::-1], r5[:, :2, :], order=3
    )
    assert not np.array_equal(got, twice)  # chaining would interpolate twice


def test_brightness_contrast_is_its_formula():
    for dtype, top in ((np.float32, 1.0), (np.uint8, 255.0)):
        x = _images(dtype=dtype)
        t = BrightnessContrast(0.3, 0.4)
        got = t(x, seed=2)
        p = Compose([t]).draw_params(len(x), seed=2).transforms[0]
        values = np.clip(
            p["alpha"][:, None, None] * x.astype(np.float64) + p["beta"][:, None, None] * top,
            0,
            top,
        )
        want = values.astype(dtype) if dtype == np.float32 else np.floor(values + 0.5).astype(dtype)
        np.testing.assert_array_equal(got, want)


def test_gaussian_noise_is_its_formula_and_gaussian():
    x = np.full((30, 16, 16), 0.5)
    t = GaussianNoise(0.02)
    got = t(x, seed=4, start=100)
    key = draws.stream_key(4, 0, 8 * 0 + 7)
    z = np.stack([draws.normals(key, (100 + i) * 256, 256) for i in range(30)]).reshape(30, 16, 16)
    np.testing.assert_array_equal(got, np.clip(0.5 + 0.02 * z, 0, 1))
    noise = (got - 0.5) / 0.02
    assert abs(noise.mean()) < 0.05 and abs(noise.std() - 1) < 0.05


def test_counter_normals_are_standard_normal_and_counter_based():
    from scipy import stats

    key = draws.stream_key(1, 2, 3)
    z = draws.normals(key, 0, 2_000_000)
    assert stats.kstest(z, "norm").pvalue > 1e-3  # a fixed draw: this cannot flake
    assert abs(z.mean()) < 3e-3 and abs(z.std() - 1) < 3e-3
    tail = np.mean(np.abs(z) > 3.5)  # the ziggurat's tail and wedge paths
    assert abs(tail / (2 * stats.norm.sf(3.5)) - 1) < 0.1
    np.testing.assert_array_equal(draws.normals(key, 123_456, 1000), z[123_456:124_456])
    u = draws.uniforms(key, np.arange(1_000_000))
    assert stats.kstest(u, "uniform").pvalue > 1e-3 and 0 <= u.min() and u.max() < 1


def test_gaussian_blur_is_scipy_gaussian_filter():
    x = _images(dtype=np.float64)
    t = GaussianBlur((0.5, 2.0))
    got = t(x, seed=6)
    sigmas = Compose([t]).draw_params(len(x), seed=6).transforms[0]["sigma"]
    want = np.stack([ndimage.gaussian_filter(im, s) for im, s in zip(x, sigmas)])
    np.testing.assert_array_equal(got, want)
    fixed = GaussianBlur(1.2)(x, seed=0)
    np.testing.assert_array_equal(fixed, np.stack([ndimage.gaussian_filter(im, 1.2) for im in x]))
    rgb = np.random.default_rng(1).random((3, 12, 10, 3))
    blurred = GaussianBlur(1.0)(rgb, seed=0)
    np.testing.assert_array_equal(blurred, ndimage.gaussian_filter(rgb, (0, 1.0, 1.0, 0)))


def test_p_zero_and_one():
    """p=0 leaves every image as it was; p=1 changes every one (random float images, which
    any of these transforms changes). p=0.3: tests/test_transform_distributions.py."""
    x = _images(dtype=np.float64)
    for p in (0.0, 1.0):
        transforms = [
            RandomAffine(20, p=p),
            RandomRotation((5, 20), p=p),
            HorizontalFlip(p=p),
            VerticalFlip(p=p),
            GaussianNoise(0.1, p=p),
            BrightnessContrast(0.2, 0.2, p=p),
            GaussianBlur(1.0, p=p),
            OneOf([RandomRotation((5, 20)), VerticalFlip(p=1.0)], p=p),
        ]
        for t in transforms + [Compose(transforms[:2]), Compose(transforms[4:6])]:
            changed = (t(x, seed=0) != x).any(axis=(1, 2))
            assert changed.all() if p == 1.0 else not changed.any(), (t, p)


# ------------------------------------------------------------------ determinism
def test_same_for_any_thread_count_chunking_and_order():
    x = _images(n=120, dtype=np.float32)
    pipeline = _full()
    whole = pipeline(x, seed=11, epoch=2)
    saved = fastaug.get_num_threads()
    try:
        fastaug.set_num_threads(1)
        assert np.array_equal(pipeline(x, seed=11, epoch=2), whole)
    finally:
        fastaug.set_num_threads(saved)
    for chunk in (1, 7, 1000):
        parts = [
            pipeline(x[s : s + chunk], seed=11, epoch=2, start=s) for s in range(0, len(x), chunk)
        ]
        assert np.array_equal(np.concatenate(parts), whole), chunk
    reverse = np.arange(len(x))[::-1]
    assert np.array_equal(pipeline(x[reverse], seed=11, epoch=2, indices=reverse)[::-1], whole)
    assert not np.array_equal(pipeline(x, seed=11, epoch=3), whole)
    assert not np.array_equal(pipeline(x, seed=12, epoch=2), whole)


def test_replay_reproduces_the_last_call():
    x = _images(dtype=np.uint8)
    pipeline = _full()
    first = pipeline(x, seed=3, epoch=1, start=50)
    params = pipeline.last_params
    assert len(params.indices) == len(x) and params.indices[0] == 50
    assert len(params.transforms) == 8  # 6 transforms, and the OneOf's two members
    pipeline(x, seed=99)  # another call in between
    np.testing.assert_array_equal(pipeline.replay(x, params), first)
    with pytest.raises(ValueError, match="params are for 40 images"):
        pipeline.replay(x[:5], params)


def test_drawing_parameters_is_cheap():
    import time

    pipeline = _full()
    start = time.perf_counter()
    pipeline.draw_params(60000, seed=0)
    assert time.perf_counter() - start < 0.5  # measured about 0.05 s; resampling takes ~10x


# ------------------------------------------------------------------ labels and masks
def _forward_motion(angle, shift, scale, shear_y, shear_x, plane):
    """RandomAffine's documented motion, written out here (not from the library): about the
    centre ``c`` of ``plane``, ``x -> c + shift + R S H (x - c)`` in ``(row, col)``
    coordinates, as a homogeneous 3x3 matrix. R turns the picture counter-clockwise as
    ``scipy.ndimage.rotate``; in ``(x, y) = (col, -row)`` that is the usual
    ``[[cos, -sin], [sin, cos]]``, so ``row' = cos row - sin col`` and ``col' = sin row + cos
    col``. H adds ``tan(shear_x) * row`` to each column and ``tan(shear_y) * col`` to each
    row."""
    a = np.radians(angle)
    rotate = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    shear = np.array([[1.0, np.tan(np.radians(shear_y))], [np.tan(np.radians(shear_x)), 1.0]])
    centre = (np.array(plane, float) - 1) / 2

    def translation(v):
        m = np.eye(3)
        m[:2, 2] = v
        return m

    linear = np.eye(3)
    linear[:2, :2] = rotate @ (scale * np.eye(2)) @ shear
    return translation(centre + shift) @ linear @ translation(-centre)


def test_forward_motion_of_a_rotation_is_scipys_rotate():
    """The test's own formula above turns the picture as scipy.ndimage.rotate does."""
    x = _images(n=1, dtype=np.float64)[0]
    forward = _forward_motion(25.0, np.zeros(2), 1.0, 0.0, 0.0, x.shape)
    got = ndimage.affine_transform(x, np.linalg.inv(forward), order=1)
    np.testing.assert_allclose(got, ndimage.rotate(x, 25.0, reshape=False, order=1), atol=1e-12)


def test_images_labels_and_masks_against_an_independent_reference():
    """Affine, flip and brightness/contrast, each applied to some samples: every image and
    mask (moved or not) against SciPy's affine_transform with the pull-back of the motion
    built above from the drawn parameters, then the photometric formula on the images only.
    Masks move with order 0 and no photometric change; labels are untouched."""
    x = _images(dtype=np.float64)
    n, plane = len(x), x.shape[1:]
    labels = np.arange(n)
    masks = (x > 0.5).astype(np.uint8)
    pipeline = Compose(
        [
            RandomAffine(20, translate=(0.1, 0.2), scale=(0.8, 1.2), shear=(-8, 8, -4, 4), p=0.7),
            HorizontalFlip(p=0.5),
            BrightnessContrast(0.2, 0.3, p=0.6),
        ]
    )
    out, out_labels, out_masks = pipeline(x, labels, masks=masks, seed=0)
    np.testing.assert_array_equal(out_labels, labels)
    affine, flip, photometric = pipeline.last_params.transforms
    moved, flipped = affine["applied"], flip["applied"]
    for case in (moved & flipped, moved & ~flipped, ~moved & flipped, ~moved & ~flipped):
        assert case.any()  # every combination occurs
    mirror = np.array([[1.0, 0, 0], [0, -1.0, plane[1] - 1], [0, 0, 1]])
    for i in range(n):
        forward = np.eye(3)
        if affine["applied"][i]:
            forward = _forward_motion(
                affine["angle"][i],
                affine["shift_fraction"][i] * plane,  # fractions of (height, width)
                affine["scale"][i],
                affine["shear"][i, 0],
                affine["shear"][i, 1],
                plane,
            )
        if flip["applied"][i]:
            forward = mirror @ forward  # the flip moves what the affine has moved
        pull = np.linalg.inv(forward)  # output (row, col) -> input
        want_mask = ndimage.affine_transform(masks[i], pull, order=0)
        np.testing.assert_array_equal(out_masks[i], want_mask, err_msg=f"mask {i}")
        image = ndimage.affine_transform(x[i], pull, order=1)
        if photometric["applied"][i]:
            image = np.clip(photometric["alpha"][i] * image + photometric["beta"][i], 0, 1)
        if affine["applied"][i]:
            # the pipeline's matrix is the same motion by other arithmetic: last bits differ
            np.testing.assert_allclose(out[i], image, rtol=0, atol=1e-12, err_msg=f"image {i}")
        else:  # unmoved or flipped by indexing: exact
            np.testing.assert_array_equal(out[i], image, err_msg=f"image {i}")


def test_bool_images_and_float_masks_warn():
    x = _images() > 128
    with pytest.warns(UserWarning, match="label maps"):
        RandomRotation(10)(x, seed=0)
    with pytest.warns(UserWarning, match="masks of dtype float64"):
        RandomRotation(10)(x.astype(np.float32), masks=x.astype(np.float64), seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RandomRotation(10, order=0)(x, seed=0)  # order 0 is right for label maps
    with pytest.raises(ValueError, match="photometric transforms need numeric images"):
        GaussianNoise(0.1)(x, seed=0)


def test_mnist_preset_has_no_flips_and_moves_little():
    pipeline = presets.mnist()
    assert not any(isinstance(t, (HorizontalFlip, VerticalFlip)) for t in pipeline._tree())
    assert "flip" in presets.mnist.__doc__.lower()
    x = np.zeros((50, 28, 28), np.float32)
    x[:, 10:18, 12:16] = 1.0
    out = pipeline(x, seed=0)
    assert np.abs(out.sum(axis=(1, 2)) - 32).max() < 32 * 0.3  # mass roughly kept


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: GaussianNoise(-0.1), "std must lie in"),
        (lambda: GaussianNoise((0.2, 0.1)), "lo <= hi"),
        (lambda: GaussianBlur(0), "sigma must be > 0"),
        (lambda: GaussianBlur(-1), "sigma must lie in"),
        (lambda: RandomRotation(10, p=1.5), "p must be a probability"),
        (lambda: HorizontalFlip(p=-0.1), "p must be a probability"),
        (lambda: RandomRotation((1, 2, 3)), "degrees must be a number or a pair"),
        (lambda: RandomRotation(float("nan")), "degrees must be finite"),
        (lambda: RandomAffine(0, translate=(0.1, 1.5)), "translate must lie in"),
        (lambda: RandomAffine(0, translate=0.1), "translate must be a pair"),
        (lambda: RandomAffine(0, scale=(0, 1)), "scale must be > 0"),
        (lambda: RandomAffine(0, shear=(0, 95)), "shear must lie in"),
        (lambda: RandomRotation(10, mode="edge"), "mode must be one of"),
        (lambda: Compose([]), "Compose needs at least one transform"),
        (lambda: OneOf([]), "OneOf needs at least one transform"),
        (lambda: Compose([lambda x: x]), "is not a fastaug transform"),
    ],
)
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_call_arguments():
    x = _images(n=4)
    pipeline = Compose([RandomRotation(10)])
    with pytest.raises(ValueError, match="seed must be an integer"):
        pipeline(x, seed=1.5)
    with pytest.raises(TypeError):
        pipeline(x)  # seed is required
    with pytest.raises(ValueError, match="epoch must be an integer from 0"):
        pipeline(x, seed=0, epoch=-1)
    with pytest.raises(ValueError, match="indices must be 4 non-negative integers"):
        pipeline(x, seed=0, indices=[0, 1])
    with pytest.raises(ValueError, match="labels must have one entry per image"):
        pipeline(x, np.arange(3), seed=0)
    with pytest.raises(ValueError, match="nothing to replay"):
        Compose([RandomRotation(10)]).replay(x)


def test_docstring_examples_run():
    import fastaug.functional
    import fastaug.loader
    import fastaug.mlp
    import fastaug.ndimage
    import fastaug.plan
    import fastaug.transforms

    for module in (
        fastaug.transforms,
        fastaug.loader,
        fastaug.functional,
        fastaug.ndimage,
        fastaug.plan,
        fastaug.mlp,
    ):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__
