"""The array API at its edges (issue 20, rows 13, 15, 16, 17): SciPy's results and error
classes for huge angles, empty images and complex outputs; one validator for every angle,
matrix, plane shape and seed; one-line errors where NumPy's leaked."""

import fractions

import numpy as np
import pytest
from scipy import ndimage

import fastaug
from fastaug import RotationPlan
from fastaug.loader import Loader
from fastaug.transforms import Compose, RandomAffine, RandomRotation

from tolerances import assert_matches_scipy

A = np.arange(20.0).reshape(4, 5)


def _outcome(call):
    """``("ok", result)`` or ``("raises", exception class)``."""
    try:
        return "ok", call()
    except Exception as exc:  # noqa: BLE001 - whichever class SciPy raises
        return "raises", type(exc)


def _assert_same_outcome(ours, scipys, context):
    """Both return the same array (shape, dtype, bits), or both raise, ours an instance of
    SciPy's class."""
    kind, expected = _outcome(scipys)
    if kind == "raises":
        with pytest.raises(expected):
            ours()
        return
    assert_matches_scipy(ours(), expected, context=context)


# ------------------------------------------------------------ row 13: rotate's edges
@pytest.mark.parametrize("angle", [1e15, -1e15, 1.5e14, 1e14 + 1, 1e16, 1e300, 1e14, 9.9e13])
@pytest.mark.parametrize("reshape", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.uint8, np.complex128])
def test_huge_angles_give_scipys_array(angle, reshape, dtype):
    # Beyond 1e14 degrees SciPy's cosdg and sindg are both 0: reshape=True gives a (0, 0)
    # plane, reshape=False samples the centre everywhere.
    image = (A * 7).astype(dtype)
    _assert_same_outcome(
        lambda: fastaug.rotate(image, angle, reshape=reshape),
        lambda: ndimage.rotate(image, angle, reshape=reshape),
        f"{angle} {reshape}",
    )
    stack = np.stack([image, image + 1], axis=-1)  # n-D: (4, 5, 2), planes in (0, 1)
    _assert_same_outcome(
        lambda: fastaug.rotate(stack, angle, reshape=reshape),
        lambda: ndimage.rotate(stack, angle, reshape=reshape),
        f"{angle} {reshape} n-D",
    )


EMPTY = [(0, 5), (5, 0), (0, 0), (0, 1), (0, 5, 3), (3, 0, 4), (2, 3, 0), (0, 0, 5)]


@pytest.mark.parametrize("shape", EMPTY)
@pytest.mark.parametrize("angle", [0, 30, 90, -45, 1e15])
@pytest.mark.parametrize("reshape", [True, False])
def test_empty_arrays_give_scipys_shape_and_values(shape, angle, reshape):
    # A non-empty output of an empty plane holds cval in the constant modes, computed as
    # SciPy computes it (grid-constant weights cval, pre-padded for the prefilter).
    axes_choices = [(1, 0)] + ([(0, 2), (1, 2)] if len(shape) == 3 else [])
    for axes in axes_choices:
        for mode, order, prefilter in (
            ("constant", 3, True),
            ("constant", 0, True),
            ("grid-constant", 3, True),
            ("grid-constant", 1, True),
            ("grid-constant", 5, False),
        ):
            kwargs = dict(axes=axes, reshape=reshape, mode=mode, order=order, cval=7.5)
            _assert_same_outcome(
                lambda kw=kwargs, pf=prefilter: fastaug.rotate(
                    np.zeros(shape, np.float32), angle, prefilter=pf, **kw
                ),
                lambda kw=kwargs, pf=prefilter: ndimage.rotate(
                    np.zeros(shape, np.float32), angle, prefilter=pf, **kw
                ),
                f"{shape} {angle} {kwargs} {prefilter}",
            )


@pytest.mark.parametrize("mode", ["nearest", "reflect", "mirror", "wrap", "grid-wrap"])
@pytest.mark.parametrize("order", [0, 1, 3])
def test_empty_planes_other_modes(mode, order):
    """SciPy reads uninitialised memory when it samples an empty plane into a non-empty
    output outside the constant modes, and refuses 'nearest' with a prefilter: fastaug
    refuses both with a ValueError naming the mode, and returns what SciPy returns where
    no value is sampled."""
    empty = np.zeros((0, 5))
    with pytest.raises(ValueError, match=f"mode '{mode}' cannot extend an empty input plane"):
        fastaug.rotate(empty, 30, mode=mode, order=order)  # (2, 4) output
    _assert_same_outcome(
        lambda: fastaug.rotate(empty, 30, reshape=False, mode=mode, order=order),
        lambda: ndimage.rotate(empty, 30, reshape=False, mode=mode, order=order),
        f"{mode} {order} same shape",
    )
    # No plane at all (an empty batch axis): SciPy loops over nothing, in every mode.
    _assert_same_outcome(
        lambda: fastaug.rotate(np.zeros((3, 0, 0)), 30, axes=(1, 2), mode=mode, order=order),
        lambda: ndimage.rotate(np.zeros((3, 0, 0)), 30, axes=(1, 2), mode=mode, order=order),
        f"{mode} {order} no planes",
    )


def test_empty_planes_in_the_batch_functions():
    images = np.zeros((3, 0, 5))
    for call in (
        lambda: fastaug.rotate_each(images, [1, 2, 3], mode="nearest", order=3),
        lambda: fastaug.affine_each(images, np.tile(np.eye(2), (3, 1, 1)), mode="nearest"),
    ):
        with pytest.raises(ValueError, match="cannot extend an empty input plane"):
            call()  # as ndimage.affine_transform of a (0, 5) plane in 'nearest', order 3
    assert fastaug.rotate_each(images, [1, 2, 3], order=1).shape == (3, 0, 5)
    assert fastaug.affine_each(images, np.tile(np.eye(2), (3, 1, 1))).shape == (3, 0, 5)


@pytest.mark.parametrize(
    "output",
    [np.complex64, np.complex128, "complex64", np.zeros((6, 6), np.complex64)],
    ids=["complex64", "complex128", "name", "array"],
)
def test_complex_output_for_real_input_raises_scipys_class(output):
    kind, expected = _outcome(lambda: ndimage.rotate(A, 30, output=output))
    assert kind == "raises"
    with pytest.raises(expected, match="complex but the input is real"):
        fastaug.rotate(A, 30, output=output)
    with pytest.raises(RuntimeError, match="complex but the input is real"):
        fastaug.rotate_each(np.zeros((2, 5, 5)), [1, 2], out=np.zeros((2, 5, 5), np.complex64))


def test_complex_output_with_nothing_to_write_is_returned_as_scipy_does():
    for image, angle in ((A, 1e15), (np.zeros((0, 5)), 0), (np.zeros((0, 5)), 90)):
        _assert_same_outcome(
            lambda im=image, a=angle: fastaug.rotate(im, a, output=np.complex64),
            lambda im=image, a=angle: ndimage.rotate(im, a, output=np.complex64),
            f"{image.shape} {angle}",
        )


# ------------------------------------------------- row 15: one angle and matrix check
BAD_ANGLES = {
    "str": "15",
    "bytes": b"15",
    "complex": 1 + 1j,
    "complex, no imaginary part": 1 + 0j,
    "numpy complex": np.complex128(1.5),
    "Fraction": fractions.Fraction(1, 2),
    "int beyond 64 bits": 2**70,
    "object": object(),
}


@pytest.mark.parametrize("case", sorted(BAD_ANGLES))
def test_every_angle_refuses_what_rotate_refuses(case):
    bad = BAD_ANGLES[case]
    kind, scipy_class = _outcome(lambda: ndimage.rotate(A, bad))
    assert kind == "raises" and scipy_class is TypeError
    images = np.zeros((6, 5, 5))
    calls = {
        "rotate": lambda: fastaug.rotate(A, bad),
        "rotate_each": lambda: fastaug.rotate_each(images, [bad] * 6),
        "augment": lambda: fastaug.augment(images, angles=bad),
        "augment list": lambda: fastaug.augment(images, angles=[15, bad]),
        "augment_data": lambda: fastaug.augment_data(images, np.arange(6), angles=[bad]),
        "RotationPlan": lambda: RotationPlan((5, 5), bad),
        "RandomRotation": lambda: RandomRotation(bad),
        "RandomRotation range": lambda: RandomRotation((0, bad)),
        "RandomAffine": lambda: RandomAffine(degrees=bad),
        "RandomAffine shear": lambda: RandomAffine(shear=(0, 1, 0, bad)),
    }
    for name, call in calls.items():
        with pytest.raises(TypeError, match="must be"):
            call()
            pytest.fail(f"{name} accepted {bad!r}")


@pytest.mark.parametrize("dtype", [str, complex, object])
def test_every_matrix_refuses_what_rotate_refuses(dtype):
    images = np.zeros((2, 5, 5))
    matrices = np.tile(np.eye(2), (2, 1, 1))
    with pytest.raises(TypeError, match="matrices must be real numbers"):
        fastaug.affine_each(images, matrices.astype(dtype))
    with pytest.raises(TypeError, match="offsets must be real numbers"):
        fastaug.affine_each(images, matrices, np.zeros((2, 2)).astype(dtype))


def test_dask_wrappers_check_angles_alike():
    fdask = pytest.importorskip("fastaug.dask")
    da = pytest.importorskip("dask.array")
    darr = da.zeros((4, 5, 5), chunks=2)
    with pytest.raises(TypeError, match="angles must be real numbers"):
        fdask.augment(darr, angles="15")
    with pytest.raises(TypeError, match="angle must be a real number"):
        fdask.rotate(darr, 1 + 1j)


def test_bool_angles_count_as_numbers_as_in_scipy():
    assert_matches_scipy(fastaug.rotate(A, True), ndimage.rotate(A, True))
    images = np.stack([A, A + 1])
    np.testing.assert_array_equal(
        fastaug.rotate_each(images, [True, False]), fastaug.rotate_each(images, [1.0, 0.0])
    )
    assert RandomRotation(True).degrees == (-1.0, 1.0)


def test_non_finite_values_name_their_place():
    with pytest.raises(ValueError, match=r"matrices must be finite; got inf at index \(1, 0, 1\)"):
        m = np.tile(np.eye(2), (2, 1, 1))
        m[1, 0, 1] = np.inf
        fastaug.affine_each(np.zeros((2, 5, 5)), m)
    with pytest.raises(ValueError, match="degrees must be finite"):
        RandomRotation((0, np.nan))


# ------------------------------------------------- row 16: plane shapes and seeds
@pytest.mark.parametrize(
    "shape", [(28.5, 28), (28.0, 28), ("28", 28), (-1, 5), (5,), (5, 5, 5), 28, (True, 5)]
)
def test_plan_shape_must_be_two_integer_sizes(shape):
    with pytest.raises(ValueError, match=r"shape must be two non-negative integer sizes") as e:
        RotationPlan(shape, 10)
    assert repr(shape) in str(e.value)


def test_plan_shape_accepts_numpy_integers_and_empty_planes():
    plan = RotationPlan((np.int64(5), np.uint8(4)), 10)
    assert plan.shape == (5, 4) and type(plan.shape[0]) is int
    assert RotationPlan((0, 5), 30).out_shape == ndimage.rotate(np.zeros((0, 5)), 30).shape


BAD_SEEDS = [-1, 2**64, 2**70, 1.5, 1.0, "1", True, None]


@pytest.mark.parametrize("seed", BAD_SEEDS, ids=repr)
def test_one_seed_rule_for_every_entry_point(seed):
    x = np.zeros((4, 6, 6))
    pipeline = Compose([RandomRotation(10)])
    message = r"seed must be an integer from 0 to 2\*\*64 - 1"
    calls = [
        lambda: pipeline(x, seed=seed),
        lambda: pipeline.draw_params(4, seed=seed),
        lambda: Loader(x, None, 2, pipeline=pipeline, seed=seed),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=message):
            call()
    fdask = pytest.importorskip("fastaug.dask")
    da = pytest.importorskip("dask.array")
    with pytest.raises(ValueError, match=message):
        fdask.apply(da.zeros((4, 6, 6), chunks=2), pipeline, seed)


@pytest.mark.parametrize("epoch", [-1, 2**64, 0.5], ids=repr)
def test_epochs_follow_the_seed_rule(epoch):
    x = np.zeros((4, 6, 6))
    message = r"epoch must be an integer from 0 to 2\*\*64 - 1"
    with pytest.raises(ValueError, match=message):
        Compose([RandomRotation(10)])(x, seed=0, epoch=epoch)
    with pytest.raises(ValueError, match=message):
        Loader(x, None, 2, pipeline=RandomRotation(10)).set_epoch(epoch)


def test_the_largest_seed_is_valid_and_does_not_alias_zero():
    x = np.random.default_rng(0).random((8, 6, 6))
    pipeline = Compose([RandomRotation(45)])
    top = pipeline(x, seed=2**64 - 1)
    assert not np.array_equal(top, pipeline(x, seed=0))
    np.testing.assert_array_equal(top, pipeline(x, seed=np.uint64(2**64 - 1)))
    assert Loader(x, None, 2, seed=2**64 - 1).seed == 2**64 - 1


# ------------------------------------------------- row 17: messages that mislead or leak
def test_axes_messages_show_the_axes_as_given():
    with pytest.raises(ValueError, match=r"got \(-3, 1\)"):
        fastaug.rotate(A, 10, axes=(-3, 1))
    with pytest.raises(ValueError, match=r"two different axes; got \(-1, 1\)"):
        fastaug.rotate(A, 10, axes=(-1, 1))


@pytest.mark.parametrize("shape", [(3, 0), (0, 0)])
def test_augment_data_refuses_rows_without_pixels(shape):
    with pytest.raises(ValueError, match="X rows must be flattened square images.*got 0 values"):
        fastaug.augment_data(np.zeros(shape), np.zeros(shape[0], int))


def test_augment_data_keeps_empty_batches():
    x, y = fastaug.augment_data(np.zeros((0, 784), np.float32), np.zeros(0, int))
    assert x.shape == (0, 784) and y.shape == (0,)
