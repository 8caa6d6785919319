"""affine_each against scipy.ndimage.affine_transform, image by image (bit-exact)."""

import numpy as np
import pytest
from scipy import ndimage

import fastaug

from conftest import MODES, scipy_reflect_is_buggy
from tolerances import assert_matches_scipy

#: Odd and even sizes, square and not;
SHAPES = [(9, 9), (10, 7), (28, 27)]  # the last also long enough for reflect (conftest)


def _motions(rng, n, plane):
    """Per-sample ``(N, 2, 2)`` matrices and ``(N, 2)`` offsets of every kind, about the
    plane's centre: rotation, scale, shear, translation, and general random matrices."""
    center = (np.asarray(plane) - 1) / 2
    kinds = []
    for i in range(n):
        kind = i % 5
        if kind == 0:  # rotation
            a = np.deg2rad(rng.uniform(-180, 180))
            m = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
        elif kind == 1:  # anisotropic scale
            m = np.diag(rng.uniform(0.6, 1.6, 2))
        elif kind == 2:  # shear
            m = np.array([[1.0, rng.uniform(-0.5, 0.5)], [rng.uniform(-0.5, 0.5), 1.0]])
        elif kind == 3:  # translation only
            m = np.eye(2)
        else:  # general, possibly reflecting
            m = rng.uniform(-1.5, 1.5, (2, 2))
        kinds.append(m)
    matrices = np.array(kinds)
    offsets = center - matrices @ center + rng.uniform(-3, 3, (n, 2))
    return matrices, offsets


def _scipy_each(images, matrices, offsets, **kwargs):
    return np.stack(
        [
            ndimage.affine_transform(im, m, o, **kwargs)
            for im, m, o in zip(images, matrices, offsets)
        ]
    )


def _images(rng, n, plane, dtype):
    data = rng.random((n,) + plane) * 200
    return data.astype(dtype)


@pytest.mark.parametrize("order", range(6))
@pytest.mark.parametrize("mode", MODES)
def test_sweep_against_scipy(order, mode):
    """Every kind of matrix, shapes, dtypes and cvals for one (order, mode)."""
    rng = np.random.default_rng(order * 17 + MODES.index(mode))
    compared = 0
    for plane in SHAPES:
        if scipy_reflect_is_buggy(mode, order, plane):
            continue
        matrices, offsets = _motions(rng, 10, plane)
        for dtype in (np.uint8, np.float32, np.float64):
            images = _images(rng, 10, plane, dtype)
            for cval in (0.0, 7.5):
                # prefilter=False matters from order 2 (coefficients = samples); float64
                # only, so an ignored prefilter cannot hide in a rounding to integers
                prefilters = (True, False) if order > 1 and dtype == np.float64 else (True,)
                for prefilter in prefilters:
                    kwargs = dict(order=order, mode=mode, cval=cval, prefilter=prefilter)
                    assert_matches_scipy(
                        fastaug.affine_each(images, matrices, offsets, **kwargs),
                        _scipy_each(images, matrices, offsets, **kwargs),
                        order,
                        context=f"{plane} {np.dtype(dtype).name} {kwargs}",
                    )
                    compared += 1
    assert compared > 0


@pytest.mark.parametrize("order", [0, 1, 3])
def test_matrix_forms_are_the_same_transform(order, rng):
    """(N, 2, 2) + offsets, (N, 2, 3) and homogeneous (N, 3, 3), as SciPy reads them."""
    plane = (12, 11)
    images = _images(rng, 7, plane, np.float64)
    matrices, offsets = _motions(rng, 7, plane)
    two_by_three = np.concatenate([matrices, offsets[:, :, None]], axis=2)
    homogeneous = np.concatenate([two_by_three, np.tile([[[0.0, 0.0, 1.0]]], (7, 1, 1))], axis=1)
    expected = _scipy_each(images, matrices, offsets, order=order, mode="mirror")
    for form in (two_by_three, homogeneous):
        got = fastaug.affine_each(images, form, order=order, mode="mirror")
        assert_matches_scipy(got, expected, order)
        # SciPy's own reading of the same form
        assert_matches_scipy(
            got,
            np.stack(
                [
                    ndimage.affine_transform(im, m, order=order, mode="mirror")
                    for im, m in zip(images, form)
                ]
            ),
            order,
        )
    shared = fastaug.affine_each(images, matrices, offsets[0], order=order, mode="mirror")
    assert_matches_scipy(
        shared, _scipy_each(images, matrices, [offsets[0]] * 7, order=order, mode="mirror"), order
    )
    assert_matches_scipy(
        fastaug.affine_each(images, matrices, order=order),
        _scipy_each(images, matrices, np.zeros((7, 2)), order=order),
        order,
    )


@pytest.mark.parametrize("layout", ["strided", "fortran", "big-endian", "readonly"])
def test_input_layouts_and_prefilter_false(layout, rng):
    plane = (10, 9)
    base = _images(rng, 6, plane, np.float32)
    data = {
        "strided": np.repeat(base, 2, axis=2)[:, :, ::2],
        "fortran": np.asfortranarray(base),
        "big-endian": base.astype(">f4"),
        "readonly": base.copy(),
    }[layout]
    data.flags.writeable = layout != "readonly"
    matrices, offsets = _motions(rng, 6, plane)
    for prefilter in (True, False):
        kwargs = dict(order=3, mode="nearest", prefilter=prefilter)
        assert_matches_scipy(
            fastaug.affine_each(data, matrices, offsets, **kwargs),
            _scipy_each(base, matrices, offsets, **kwargs),
            3,
        )


def test_out_argument_and_dtype(rng):
    plane = (8, 8)
    images = _images(rng, 5, plane, np.float64)
    matrices, offsets = _motions(rng, 5, plane)
    out = np.empty((5,) + plane, np.uint8)
    got = fastaug.affine_each(images, matrices, offsets, order=1, out=out)
    assert got is out
    assert_matches_scipy(out, _scipy_each(images, matrices, offsets, order=1, output=np.uint8), 1)


def test_rotate_each_is_affine_each_with_rotation_matrices(rng):
    from fastaug.functional import rotation_matrices

    images = _images(rng, 6, (14, 13), np.float32)
    angles = rng.uniform(-40, 40, 6)
    matrices, offsets = rotation_matrices(angles, (14, 13))
    np.testing.assert_array_equal(
        fastaug.rotate_each(images, angles, mode="nearest"),
        fastaug.affine_each(images, matrices, offsets, mode="nearest"),
    )


@pytest.mark.parametrize("function", ["affine_each", "rotate_each", "augment"])
def test_channels_first_and_last(function, rng):
    """(N, C, H, W) with channel_axis=1 and (N, H, W, C) equal SciPy channel by channel."""
    first = _images(rng, 4, (3, 12, 10), np.float64)  # (N, C, H, W)
    last = np.moveaxis(first, 1, 3)
    angles = rng.uniform(-30, 30, 4)
    from fastaug.functional import rotation_matrices

    matrices, offsets = rotation_matrices(angles, (12, 10))
    per_channel = np.stack(
        [_scipy_each(first[:, c], matrices, offsets, order=3, mode="nearest") for c in range(3)],
        axis=1,
    )
    if function == "affine_each":
        run = lambda x, axis: fastaug.affine_each(  # noqa: E731
            x, matrices, offsets, mode="nearest", channel_axis=axis
        )
    elif function == "rotate_each":
        run = lambda x, axis: fastaug.rotate_each(x, angles, channel_axis=axis)  # noqa: E731
    else:
        # augment: one angle for all, the first image's
        per_channel = np.stack(
            [
                _scipy_each(
                    first[:, c], [matrices[0]] * 4, [offsets[0]] * 4, order=3, mode="nearest"
                )
                for c in range(3)
            ],
            axis=1,
        )
        run = lambda x, axis: fastaug.augment(  # noqa: E731
            x, angles=(angles[0],), include_original=False, channel_axis=axis
        )[0]
    assert_matches_scipy(run(first, 1), per_channel, 3)
    assert_matches_scipy(run(first, -3), per_channel, 3)
    assert_matches_scipy(run(last, -1), np.moveaxis(per_channel, 1, 3), 3)
    assert_matches_scipy(run(last, None), np.moveaxis(per_channel, 1, 3), 3)  # plainly last
    with pytest.raises(ValueError, match=r"ambiguous layout.*channel_axis=1"):
        run(first, None)


@pytest.mark.parametrize(
    "shape,axis,message",
    [
        ((2, 3, 3, 3), None, "ambiguous layout"),
        ((2, 3, 8, 8), None, "ambiguous layout"),
        ((2, 8, 8, 8), None, "ambiguous layout"),
        ((2, 8, 8, 3), 2, "channel_axis must be 1"),
        ((2, 8, 8, 3), 0, "channel_axis must be 1"),
        ((2, 8, 8), 1, "channel_axis must be None"),
    ],
)
def test_channel_axis_errors(shape, axis, message):
    with pytest.raises(ValueError, match=message):
        fastaug.affine_each(np.zeros(shape), np.tile(np.eye(2), (2, 1, 1)), channel_axis=axis)
    with pytest.raises(ValueError, match=message):
        fastaug.rotate_each(np.zeros(shape), [0.0, 1.0], channel_axis=axis)


def _eyes(n, shape=(2, 2)):
    return np.tile(np.eye(*shape), (n, 1, 1))


@pytest.mark.parametrize(
    "call,error,message",
    [
        (
            lambda x: fastaug.affine_each(x, _eyes(2)),
            ValueError,
            r"N = 3 images; got shape \(2, 2, 2\)",
        ),
        (lambda x: fastaug.affine_each(x, np.eye(2)), ValueError, r"matrices must have shape"),
        (
            lambda x: fastaug.affine_each(x, _eyes(3, (3, 2))),
            ValueError,
            r"matrices must have shape",
        ),
        (
            lambda x: fastaug.affine_each(x, np.full((3, 2, 2), np.nan)),
            ValueError,
            "matrices must be finite",
        ),
        (
            lambda x: fastaug.affine_each(x, _eyes(3), [[0, np.inf]] * 3),
            ValueError,
            "offsets must be finite",
        ),
        (
            lambda x: fastaug.affine_each(x, _eyes(3), np.zeros((2, 2))),
            ValueError,
            r"offsets must have shape \(N, 2\)",
        ),
        (
            lambda x: fastaug.affine_each(x, _eyes(3, (2, 3)), np.zeros(2)),
            ValueError,
            "offsets given twice",
        ),
        (
            lambda x: fastaug.affine_each(x, _eyes(3, (3, 3)) * 2),
            ValueError,
            "bottom row of matrix 0",
        ),
        (lambda x: fastaug.affine_each(x, "eye"), TypeError, "matrices must be real numbers"),
        (
            lambda x: fastaug.affine_each(x, _eyes(3), mode="edge"),
            ValueError,
            "mode must be one of",
        ),
        (
            lambda x: fastaug.affine_each(x, _eyes(3), order=6),
            ValueError,
            "order must be an integer",
        ),
        (
            lambda x: fastaug.affine_each(x, _eyes(3), out=np.empty((3, 5, 4))),
            ValueError,
            "output shape",
        ),
        (lambda x: fastaug.affine_each(x.astype(complex), _eyes(3)), ValueError, "dtype must be"),
        (lambda x: fastaug.affine_each(x[0], _eyes(3)), ValueError, r"\(N, H, W\)"),
    ],
)
def test_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call(np.zeros((3, 5, 5)))


def test_singular_and_empty():
    """A singular matrix is a valid pull-back (SciPy samples along a line); no images is
    no work."""
    images = np.arange(2 * 6 * 6, dtype=np.float64).reshape(2, 6, 6)
    singular = np.array([[[1.0, 1.0], [1.0, 1.0]], [[0.0, 0.0], [0.0, 0.0]]])
    assert_matches_scipy(
        fastaug.affine_each(images, singular, order=1),
        _scipy_each(images, singular, np.zeros((2, 2)), order=1),
        1,
    )
    assert fastaug.affine_each(np.zeros((0, 5, 5)), np.zeros((0, 2, 2))).shape == (0, 5, 5)
