"""Contracts every entry point keeps: inputs untouched, batch == loop, odd layouts, errors."""

import pickle

import numpy as np
import pytest
from scipy import ndimage

import fastaug
from fastaug import RotationPlan

from reference import rotate_each_loop, rotate_loop
from tolerances import assert_matches_scipy


def _layouts(base):
    """The same data as C, Fortran, non-contiguous, read-only and big-endian arrays."""
    fortran = np.asfortranarray(base)
    strided = np.repeat(base, 2, axis=-1)[..., ::2]
    readonly = base.copy()
    readonly.flags.writeable = False
    big = base.astype(base.dtype.newbyteorder(">"))
    return {"C": base, "F": fortran, "strided": strided, "readonly": readonly, "big-endian": big}


@pytest.mark.parametrize("layout", ["C", "F", "strided", "readonly", "big-endian"])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_layouts_give_the_same_result(layout, dtype, rng):
    base = (rng.random((5, 14, 12)) * 200).astype(dtype)
    data = _layouts(base)[layout]
    before = data.copy()
    expected = ndimage.rotate(base, 20, axes=(1, 2), mode="nearest")
    result = fastaug.rotate(data, 20, axes=(1, 2), mode="nearest")
    assert_matches_scipy(result, expected, 3)
    np.testing.assert_array_equal(data, before)  # input never modified
    each = fastaug.rotate_each(data, np.full(5, 20.0), order=3)
    assert_matches_scipy(each, rotate_each_loop(base, [20] * 5, mode="nearest"), 3)
    augmented, _ = fastaug.augment(data, angles=(20,))
    np.testing.assert_array_equal(augmented[1::2], each)
    # unfiltered coefficients (prefilter=False), per-sample matrices and angles
    matrices = np.array([[[1.0, 0.2], [-0.1, 0.9]]] * 5) * np.linspace(0.8, 1.2, 5)[:, None, None]
    offsets = np.array([[1.5, -2.0]] * 5)
    unfiltered = dict(order=3, mode="nearest", prefilter=False)
    assert_matches_scipy(
        fastaug.affine_each(data, matrices, offsets, **unfiltered),
        np.stack(
            [
                ndimage.affine_transform(b, m, o, **unfiltered)
                for b, m, o in zip(base, matrices, offsets)
            ]
        ),
    )
    assert_matches_scipy(
        fastaug.rotate_each(data, np.linspace(-40, 40, 5), **unfiltered),
        rotate_each_loop(base, np.linspace(-40, 40, 5), **unfiltered),
    )
    np.testing.assert_array_equal(data, before)


def test_batched_equals_per_image_loop(rng):
    stack = rng.random((7, 20, 16)) * 255
    for order, mode in ((0, "constant"), (3, "nearest"), (5, "mirror")):
        batched = fastaug.rotate(stack, -33, axes=(1, 2), order=order, mode=mode)
        looped = np.stack([fastaug.rotate(img, -33, order=order, mode=mode) for img in stack])
        np.testing.assert_array_equal(batched, looped)  # same kernel, same bits
        assert_matches_scipy(batched, rotate_loop(stack, -33, order=order, mode=mode), order, 255)


@pytest.mark.parametrize("shape", [(0, 28, 28), (0, 28, 28, 3)])
def test_empty_batches_keep_their_shape(shape):
    empty = np.zeros(shape, np.float32)
    out = fastaug.rotate(empty, 15, axes=(1, 2), reshape=False)
    assert out.shape == shape and out.dtype == np.float32
    assert (
        fastaug.rotate(empty, 15, axes=(1, 2)).shape == ndimage.rotate(empty, 15, axes=(1, 2)).shape
    )
    assert fastaug.rotate_each(empty, np.zeros(0)).shape == shape
    x, y = fastaug.augment(empty, np.zeros(0, int))
    assert x.shape == (0,) + shape[1:] and y.shape == (0,)


def test_output_aliasing_input_is_safe(rng):
    a = rng.random((6, 9, 9))
    expected = ndimage.rotate(a, 15, axes=(1, 2), reshape=False)
    fastaug.rotate(a, 15, axes=(1, 2), reshape=False, output=a)
    np.testing.assert_array_equal(a, expected)


def test_plan_is_immutable_picklable_and_reports_memory(rng):
    plan = RotationPlan((28, 28), 15, reshape=False, mode="nearest")
    assert plan.nbytes > 28 * 28 * 16 * 4
    assert "angle=15.0" in repr(plan) and "nearest" in repr(plan)
    with pytest.raises(AttributeError):
        plan.angle = 3
    with pytest.raises(ValueError):
        plan.taps[0, 0] = 1
    clone = pickle.loads(pickle.dumps(plan))
    images = rng.random((3, 28, 28)).astype(np.float32)
    np.testing.assert_array_equal(clone(images), plan(images))
    assert_matches_scipy(plan(images), rotate_loop(images, 15, reshape=False, mode="nearest"), 3)
    np.testing.assert_array_equal(
        plan(images.transpose(1, 2, 0), axes=(0, 1)).transpose(2, 0, 1), plan(images)
    )


def test_set_num_threads_keeps_results(rng):
    images = rng.random((70, 28, 28)).astype(np.float32)
    before = fastaug.get_num_threads()
    try:
        fastaug.set_num_threads(1)
        one = fastaug.rotate(images, 15, axes=(1, 2))
        fastaug.set_num_threads(before)
        np.testing.assert_array_equal(fastaug.rotate(images, 15, axes=(1, 2)), one)
    finally:
        fastaug.set_num_threads(before)
    with pytest.raises(ValueError, match="n must be an integer"):
        fastaug.set_num_threads(0)


# ------------------------------------------------------------------------- bad input


def _scipy_error(call):
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - we want whichever class SciPy raises
        return type(exc)
    raise AssertionError("SciPy accepted the input")


A = np.arange(25.0).reshape(5, 5)
BAD_CALLS = {
    "order 6": dict(angle=10, order=6),
    "order -1": dict(angle=10, order=-1),
    "order 1.5": dict(angle=10, order=1.5),
    "mode": dict(angle=10, mode="foo"),
    "axes count": dict(angle=10, axes=(0,)),
    "axes range": dict(angle=10, axes=(0, 2)),
    "axes float": dict(angle=10, axes=(0.5, 1)),
    "output shape": dict(angle=10, output=np.zeros((3, 3))),
    "output float16": dict(angle=10, output=np.float16),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_bad_arguments_raise_scipys_class(case):
    kwargs = BAD_CALLS[case]
    expected = _scipy_error(lambda: ndimage.rotate(A, **kwargs))
    with pytest.raises(expected) as info:
        fastaug.rotate(A, **kwargs)
    assert "got" in str(info.value) or "expected" in str(info.value)


@pytest.mark.parametrize("data", [np.arange(5.0), np.float16(A), A.astype(object)])
def test_bad_input_arrays(data):
    expected = _scipy_error(lambda: ndimage.rotate(data, 10))
    with pytest.raises(expected):
        fastaug.rotate(data, 10)


@pytest.mark.parametrize("angle", [np.nan, np.inf, -np.inf])
def test_non_finite_angle_is_a_value_error(angle):
    with pytest.raises(ValueError, match="angle must be finite"):
        fastaug.rotate(A, angle)
    with pytest.raises(ValueError, match="angles must be finite; got"):
        fastaug.rotate_each(np.zeros((2, 5, 5)), [0, angle])
    with pytest.raises(ValueError, match="finite"):
        fastaug.augment(np.zeros((2, 5, 5)), angles=(15, angle))


def test_batch_api_errors():
    with pytest.raises(ValueError, match=r"shape \(N, H, W\) or \(N, H, W, C\); got shape \(5,\)"):
        fastaug.augment(np.zeros(5))
    with pytest.raises(ValueError, match="labels must have shape"):
        fastaug.augment(np.zeros((3, 5, 5)), np.zeros(4))
    with pytest.raises(ValueError, match="layout must be one of"):
        fastaug.augment(np.zeros((3, 5, 5)), layout="zigzag")
    with pytest.raises(ValueError, match="one angle per image: expected 3, got 2"):
        fastaug.rotate_each(np.zeros((3, 5, 5)), [1, 2])
    with pytest.raises(RuntimeError, match="boundary mode not supported"):
        fastaug.rotate_each(np.zeros((3, 5, 5)), [1, 2, 3], mode="edge")
    with pytest.raises(TypeError, match="angle must be a real number"):
        fastaug.rotate(A, "15")
    with pytest.raises(ValueError, match="plan is for"):
        RotationPlan((5, 5), 10)(np.zeros((2, 6, 6)))


def test_submodules_are_attributes_of_the_lazy_package():
    """``import fastaug`` loads names on first use; submodules stay reachable as attributes
    (``fastaug.ndimage.zoom``), and an unknown name is an AttributeError."""
    import subprocess
    import sys

    code = (
        "import fastaug, numpy as np\n"
        "assert fastaug.ndimage.zoom(np.arange(3.0), 2, order=1).shape == (6,)\n"
        "assert fastaug.transforms.Compose is not None\n"
        "try:\n    fastaug.no_such_name\nexcept AttributeError:\n    pass\n"
        "else:\n    raise SystemExit('no AttributeError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
