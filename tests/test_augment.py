"""augment / augment_data / rotate_each against the source script and SciPy."""

import numpy as np
import pytest

import fastaug
from fastaug import datasets

from reference import augment_data as reference_augment_data
from reference import rotate_each_loop
from tolerances import assert_matches_scipy


@pytest.mark.parametrize("layout", ["interleaved", "blocked"])
@pytest.mark.parametrize("include_original", [True, False])
def test_augment_layouts(layout, include_original, rng):
    images = (rng.random((6, 28, 28)) * 255).astype(np.uint8)
    labels = np.arange(6)
    x, y = fastaug.augment(
        images, labels, angles=(15, -15, 40), layout=layout, include_original=include_original
    )
    copies = 3 + include_original
    assert x.shape == (6 * copies, 28, 28) and y.shape == (6 * copies,)
    expected = [
        [images[i]] * include_original
        + [rotate_each_loop(images[i : i + 1], [a], mode="nearest")[0] for a in (15, -15, 40)]
        for i in range(6)
    ]
    expected = np.array(expected)  # (N, copies, H, W)
    exp_labels = np.repeat(labels[:, None], copies, 1)
    if layout == "blocked":
        expected, exp_labels = expected.swapaxes(0, 1), exp_labels.T
    assert_matches_scipy(x, expected.reshape(x.shape), 3)
    np.testing.assert_array_equal(y, exp_labels.reshape(-1))


def test_augment_channels_and_one_hot(rng):
    images = rng.random((4, 16, 18, 3)).astype(np.float32)
    one_hot = np.eye(4)[[0, 1, 2, 3]]
    x, y = fastaug.augment(images, one_hot, angles=(10,), order=1, mode="reflect")
    assert x.shape == (8, 16, 18, 3) and y.shape == (8, 4)
    assert_matches_scipy(x[1::2], rotate_each_loop(images, [10] * 4, order=1, mode="reflect"), 1)
    np.testing.assert_array_equal(x[::2], images)


@pytest.mark.parametrize("order", [0, 1, 3, 5])
def test_rotate_each_matches_scipy_per_image(order, rng):
    images = (rng.random((9, 28, 28)) * 255).astype(np.uint8)
    angles = rng.uniform(-180, 180, 9)
    angles[:3] = (0, 90, -15)
    for mode in ("nearest", "constant", "grid-constant", "wrap"):
        assert_matches_scipy(
            fastaug.rotate_each(images, angles, order=order, mode=mode),
            rotate_each_loop(images, angles, order=order, mode=mode),
            order,
        )


def test_augment_data_equals_source_function_on_generated_data(rng):
    X = rng.random((20, 784)).astype(np.float32)
    y = np.eye(10)[rng.integers(0, 10, 20)]
    ref_x, ref_y = reference_augment_data(X, y)
    x, yy = fastaug.augment_data(X, y)
    np.testing.assert_array_equal(x, ref_x)
    np.testing.assert_array_equal(yy, ref_y)
    ref_x, ref_y = reference_augment_data(X.reshape(-1, 28, 28), y.argmax(1))
    x, yy = fastaug.augment_data(X.reshape(-1, 28, 28), y.argmax(1))
    np.testing.assert_array_equal(x, ref_x)
    np.testing.assert_array_equal(yy, ref_y)


def test_augment_data_equals_source_function_on_real_mnist(mnist_dir):
    (x_train, t_train), _ = datasets.load_mnist(
        normalize=True, flatten=True, one_hot_label=True, path=mnist_dir.folder
    )
    X, y = x_train[:500], t_train[:500]
    ref_x, ref_y = reference_augment_data(X, y)
    x, yy = fastaug.augment_data(X, y)
    assert x.shape == (1500, 784) and x.dtype == np.float32
    np.testing.assert_array_equal(x, ref_x)
    np.testing.assert_array_equal(yy, ref_y)
