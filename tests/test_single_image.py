"""The single-image path: repeated calls reuse their set-up, yet every call gives SciPy's
result and every bad argument still raises, whatever was cached before."""

import numpy as np
import pytest
from scipy import ndimage

import fastaug
from fastaug import ndimage as fast_ndimage

from tolerances import assert_matches_scipy


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8, np.int16, np.bool_])
@pytest.mark.parametrize("mode", ["nearest", "constant", "reflect", "grid-constant", "wrap"])
@pytest.mark.parametrize("order", [0, 1, 3, 5])
def test_repeated_calls_match_scipy(dtype, mode, order):
    rng = np.random.default_rng(order)
    # 27 pixels a side or more: SciPy 1.17's reflect prefilter is wrong below (conftest).
    images = (rng.random((3, 28, 27)) * 200).astype(dtype)
    for angle in (15, -15, 15):  # the second 15 comes from the cache
        for img in images:
            kwargs = dict(reshape=angle < 0, order=order, mode=mode, cval=1.5)
            assert_matches_scipy(
                fastaug.rotate(img, angle, **kwargs), ndimage.rotate(img, angle, **kwargs)
            )


def test_signs_of_zero_are_separate_calls():
    img = np.zeros((7, 7))
    for cval in (0.0, -0.0, 0.0):
        got = fastaug.rotate(img, 30, mode="constant", cval=cval)
        want = ndimage.rotate(img, 30, mode="constant", cval=cval)
        assert_matches_scipy(got, want)


def test_bad_arguments_raise_after_a_good_call_was_cached():
    img = np.ones((9, 9), np.float32)
    fastaug.rotate(img, 15, order=1)
    fastaug.rotate(img, 15, order=1)
    with pytest.raises(RuntimeError, match="order must be an integer"):
        fastaug.rotate(img, 15, order=True)
    with pytest.raises(ValueError, match="finite"):
        fastaug.rotate(img, float("nan"), order=1)
    with pytest.raises(RuntimeError, match="mode must be one of"):
        fastaug.rotate(img, 15, order=1, mode=["nearest"])


def test_inputs_that_are_not_plain_contiguous_arrays_still_work():
    base = np.arange(12 * 10, dtype=np.float64).reshape(12, 10)
    for img in (base.T, base[::2], base.astype(">f8"), base.tolist()):
        assert_matches_scipy(fastaug.rotate(img, 20), ndimage.rotate(np.asarray(img), 20))


def test_result_is_a_new_array_each_call():
    img = np.random.default_rng(1).random((8, 8))
    first = fastaug.rotate(img, 10)
    second = fastaug.rotate(img, 10)
    assert first is not second and not np.shares_memory(first, second)
    np.testing.assert_array_equal(first, second)


def test_the_cache_is_bounded_and_keeps_learning():
    img = np.zeros((5, 5))
    for k in range(fast_ndimage._SINGLE_CALLS_MAX + 20):
        fastaug.rotate(img, 1000.0 + k)
    assert len(fast_ndimage._SINGLE_CALLS) <= fast_ndimage._SINGLE_CALLS_MAX
    newest = fast_ndimage._single_call_key(
        img, 1000.0 + k, (1, 0), True, None, 3, "constant", 0.0, True
    )
    assert newest in fast_ndimage._SINGLE_CALLS


def test_large_images_keep_no_cached_call_or_buffers():
    from fastaug.backends.cpu import KEEP_BUFFERS_PIXELS

    side = int(KEEP_BUFFERS_PIXELS**0.5) + 8
    img = np.random.default_rng(2).random((side, side))
    for _ in range(2):
        assert_matches_scipy(fastaug.rotate(img, 7.5), ndimage.rotate(img, 7.5))
    assert all(key[0] != img.shape for key in fast_ndimage._SINGLE_CALLS)
