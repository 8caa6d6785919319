"""affine_transform on small 2-D planes runs on a cached AffinePlan and the single-image
path of rotate: every call still gives SciPy's result, whatever was cached before, and
calls that differ in any number (signs of zeros included) never share a plan."""

import pickle

import numpy as np
import pytest
from scipy import ndimage

import fastaug
from fastaug import ndimage as fast_ndimage
from fastaug.backends.cpu import KEEP_BUFFERS_PIXELS
from fastaug.geometry import rotation_geometry
from fastaug.plan import AffinePlan, RotationPlan, _cached_affine_plan

from conftest import MODES
from tolerances import assert_matches_scipy

SHEAR = np.array([[0.92, 0.49], [-0.39, 0.92]])


def _kept_affine_calls():
    return {k: c for k, c in fast_ndimage._SINGLE_CALLS.items() if k[0] == "affine_transform"}


def _same_each_time(data, *args, **kwargs):
    """fastaug's first call (the point sampler), second (a plan built) and third (the kept
    call) all equal SciPy's."""
    expected = ndimage.affine_transform(data, *args, **kwargs)
    for _ in range(3):
        assert_matches_scipy(fastaug.affine_transform(data, *args, **kwargs), expected)


@pytest.mark.parametrize("order", range(6))
@pytest.mark.parametrize("mode", MODES)
def test_matrix_forms_and_output_shapes_match_scipy_from_the_cache(order, mode):
    rng = np.random.default_rng(order * 8 + MODES.index(mode))
    data = rng.standard_normal((28, 27)) * 60 + 100
    offset = np.array([1.5, -2.25])
    homogeneous = np.eye(3)
    homogeneous[:2, :2], homogeneous[:2, 2] = SHEAR, offset
    # 28 x 27: SciPy 1.17's reflect prefilter is exact on axes this long (conftest)
    for out_shape in (None, (31, 26), (9, 14)):
        kwargs = dict(output_shape=out_shape, order=order, mode=mode, cval=-1.25)
        _same_each_time(data, SHEAR, tuple(offset), **kwargs)
        _same_each_time(data, homogeneous, **kwargs)
        _same_each_time(data, homogeneous[:2], **kwargs)
        _same_each_time(data, SHEAR, offset, prefilter=False, **kwargs)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32, np.float64, np.bool_])
@pytest.mark.parametrize("output", [None, np.float32, np.int16, "array"])
def test_input_and_output_dtypes_match_scipy(dtype, output):
    rng = np.random.default_rng(3)
    data = (rng.random((12, 13)) * 200).astype(dtype)
    for order in (0, 1, 3):
        for _ in range(3):  # the point sampler, a plan built, the kept call
            results = []
            for run in (fastaug.affine_transform, ndimage.affine_transform):
                out = np.zeros((12, 13), np.float32) if output == "array" else output
                result = run(data, SHEAR, (1.0, -0.5), output=out, order=order, mode="nearest")
                assert output != "array" or result is out
                results.append(result)
            assert_matches_scipy(*results)


def test_output_arrays_of_any_layout_or_the_input_itself_match_scipy():
    rng = np.random.default_rng(12)
    for make in (
        lambda: np.zeros((9, 8), ">f8"),
        lambda: np.zeros((8, 9), np.float32).T,
        lambda: np.zeros((18, 8), np.int16)[::2],
        lambda: np.zeros((9, 8), np.uint8),
    ):
        for _ in range(3):
            data = rng.random((9, 8)) * 100
            target, reference = make(), make()
            assert fastaug.affine_transform(data, SHEAR, 0.5, output=target) is target
            ndimage.affine_transform(data, SHEAR, 0.5, output=reference)
            assert_matches_scipy(target, reference)
    data = rng.random((9, 8))
    for _ in range(3):
        expected = ndimage.affine_transform(data, SHEAR, 0.5, order=1)
        assert fastaug.affine_transform(data, SHEAR, 0.5, order=1, output=data) is data
        assert_matches_scipy(data, expected)


def test_complex_input_resamples_both_parts_with_their_cval():
    rng = np.random.default_rng(4)
    data = rng.random((9, 10)) + 1j * rng.random((9, 10))
    _same_each_time(data, SHEAR, 0.5, order=3, cval=1.5 - 2j)


def test_repeated_arguments_are_served_by_one_kept_call():
    data = np.random.default_rng(5).random((28, 28))
    fast_ndimage._SINGLE_CALLS.clear()
    fast_ndimage._SEEN_ONCE.clear()
    built = _cached_affine_plan.cache_info().misses
    fastaug.affine_transform(data, SHEAR, (2.0, -3.0), order=3)
    # first sight: the point sampler (building a plan costs several of its calls)
    assert not _kept_affine_calls() and _cached_affine_plan.cache_info().misses == built
    for _ in range(3):
        _same_each_time(data, SHEAR, (2.0, -3.0), order=3)
    assert _cached_affine_plan.cache_info().misses == built + 1
    kept = _kept_affine_calls()
    assert len(kept) == 1
    (call,) = kept.values()
    assert isinstance(call.plan, AffinePlan) and call.plan.out_shape == (28, 28)


def test_different_numbers_never_share_a_plan():
    """Every variant differs from the first in one number or one sign of zero; each gets
    its own kept call and plan, and calls alternating between them all match SciPy."""
    data = np.random.default_rng(6).random((10, 11)) - 0.5
    moved = SHEAR.copy()
    moved[0, 1] = np.nextafter(moved[0, 1], 1.0)
    zero = np.array([[1.0, 0.0], [0.0, 1.0]])
    signed = np.array([[1.0, -0.0], [0.0, 1.0]])
    variants = [
        (SHEAR, (0.5, 0.0), 0.0),
        (moved, (0.5, 0.0), 0.0),
        (SHEAR, (0.5, -0.0), 0.0),
        (SHEAR, (0.5, 1e-300), 0.0),
        (SHEAR, (0.5, 0.0), -0.0),
        (SHEAR, np.array([0.5, 0.25]), 0.0),
        (SHEAR, 0.5, 0.0),
        (SHEAR, -0.5, 0.0),
        (SHEAR.astype(np.float32), (0.5, 0.0), 0.0),
        (zero, (100.0, 0.0), 0.0),
        (signed, (100.0, 0.0), 0.0),
        (zero, (100.0, 0.0), -0.0),
    ]
    fast_ndimage._SINGLE_CALLS.clear()
    for _ in range(2):
        for matrix, offset, cval in variants:
            got = fastaug.affine_transform(data, matrix, offset, order=1, cval=cval)
            want = ndimage.affine_transform(data, matrix, offset, order=1, cval=cval)
            assert_matches_scipy(got, want, context=f"{matrix.tolist()} {offset} {cval}")
    plans = {id(call.plan) for call in _kept_affine_calls().values()}
    assert len(_kept_affine_calls()) == len(variants) and len(plans) == len(variants)


def test_a_matrix_changed_in_place_is_a_new_call():
    data = np.random.default_rng(7).random((8, 8))
    matrix = SHEAR.copy()
    _same_each_time(data, matrix, 0.0, order=1)
    matrix[1, 0] += 0.25
    _same_each_time(data, matrix, 0.0, order=1)


def test_bad_arguments_raise_after_a_good_call_was_kept():
    data = np.ones((9, 9), np.float32)
    for _ in range(2):
        fastaug.affine_transform(data, SHEAR, order=1)
    with pytest.raises(RuntimeError, match="order must be an integer"):
        fastaug.affine_transform(data, SHEAR, order=True)
    with pytest.raises(RuntimeError, match="mode must be one of"):
        fastaug.affine_transform(data, SHEAR, order=1, mode=["nearest"])
    with pytest.raises(RuntimeError, match="output shape not correct"):
        fastaug.affine_transform(data, SHEAR, output_shape=(9, 9), output=np.zeros((8, 9)))
    with pytest.raises(ValueError, match="bottom row"):
        fastaug.affine_transform(data, np.ones((3, 3)), order=1)


def test_large_planes_keep_no_call():
    side = int(KEEP_BUFFERS_PIXELS**0.5) + 8
    data = np.random.default_rng(8).random((side, side))
    fast_ndimage._SINGLE_CALLS.clear()
    _same_each_time(data, SHEAR, 1.0, order=3)
    small = np.ascontiguousarray(data[:20, :20])
    _same_each_time(small, SHEAR, 1.0, output_shape=(side, side), order=1)
    assert not _kept_affine_calls()


def test_extreme_coordinates_read_as_the_point_sampler_reads_them():
    """Beyond int64 (or NaN) SciPy's own results are not reproducible: the plan's taps are
    those of map_coordinates, which reads only the array's own values, in every mode."""
    data = np.random.default_rng(9).random((5, 6))
    for matrix in (
        [[1e20, 0.0], [0.0, 1.0]],
        [[0.0, -1e300], [np.inf, 1.0]],
        [[np.nan, 0], [0, 1]],
    ):
        matrix = np.array(matrix)
        oy, ox = np.indices(data.shape, dtype=np.float64)
        with np.errstate(invalid="ignore"):  # 0 * inf: NaN, as in the kernels
            coords = np.stack([0.5 + oy * matrix[h, 0] + ox * matrix[h, 1] for h in range(2)])
        for mode in MODES:
            for order in (0, 1, 3):
                got = fastaug.affine_transform(data, matrix, 0.5, order=order, mode=mode)
                want = fastaug.map_coordinates(data, coords, order=order, mode=mode)
                assert_matches_scipy(got, want, context=f"{matrix.tolist()} {mode} {order}")


def test_affine_plan_is_immutable_picklable_and_batches_planes():
    rng = np.random.default_rng(10)
    plan = AffinePlan((12, 13), SHEAR, (1.0, -0.5), (10, 15), order=3, mode="mirror")
    assert "AffinePlan(shape=(12, 13)" in repr(plan) and plan.nbytes > 10 * 15 * 16 * 4
    with pytest.raises(AttributeError, match="AffinePlan is immutable"):
        plan.cval = 1.0
    with pytest.raises(ValueError):
        plan.matrix[0, 0] = 2.0
    images = rng.random((3, 12, 13))
    expected = np.stack(
        [
            ndimage.affine_transform(i, SHEAR, (1.0, -0.5), (10, 15), order=3, mode="mirror")
            for i in images
        ]
    )
    assert_matches_scipy(plan(images), expected)
    assert_matches_scipy(pickle.loads(pickle.dumps(plan))(images), expected)
    with pytest.raises(ValueError, match=r"matrix must have shape \(2, 2\)"):
        AffinePlan((12, 13), np.eye(3), (0.0, 0.0))


def test_rotation_plan_is_rotation_geometry_plus_an_affine_plan():
    images = np.random.default_rng(11).random((2, 9, 11))
    rotation = RotationPlan((9, 11), 33.0, reshape=True, order=2, mode="mirror")
    matrix, offset, out_shape = rotation_geometry((9, 11), 33.0, True)
    affine = AffinePlan((9, 11), matrix, offset, out_shape, order=2, mode="mirror")
    assert isinstance(rotation, AffinePlan) and rotation.out_shape == out_shape
    assert_matches_scipy(rotation(images), affine(images))
    assert repr(rotation).startswith("RotationPlan(shape=(9, 11), angle=33.0")


@pytest.mark.parametrize("dtype", [np.uint64, np.int64, np.uint32, np.int8])
def test_integers_beyond_a_double_load_as_scipy_loads_them(dtype):
    """Integers a double cannot hold round as in SciPy's C conversion (floating outputs:
    a uint64 output near 2**64 differs on main already, in the store kernels)."""
    info = np.iinfo(dtype)
    edges = [info.max, info.max - 1, info.min, info.max // 3 + 1, 3]
    data = np.resize(np.array(edges, dtype), (6, 7))
    for output in (np.float32, np.float64):
        _same_each_time(data, SHEAR, 0.25, order=1, mode="nearest", output=output)
