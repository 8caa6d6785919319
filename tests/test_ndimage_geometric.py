"""fastaug.map_coordinates and fastaug.affine_transform against SciPy, bit for bit."""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy import ndimage

import fastaug

from conftest import MODES, call_signature, scipy_reflect_is_buggy
from tolerances import assert_matches_scipy

SHAPES = [(7,), (6,), (5, 6), (4, 4), (1, 5), (4, 5, 3), (3, 3, 3)]
FUNCTIONS = ("map_coordinates", "affine_transform")


def sample(rng, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        return sample(rng, shape, np.float64) + 1j * sample(rng, shape, np.float64)
    if dtype.kind == "f":
        return (rng.standard_normal(shape) * 60 + 100).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -200), min(info.max, 255), size=shape, endpoint=True).astype(
        dtype
    )


def coordinates_for(rng, shape, n=40, spread=3.0):
    """Points in and around ``shape``: random, on exact halves and integers, at the edges."""
    coords = np.stack([rng.uniform(-spread, s - 1 + spread, n) for s in shape])
    coords[:, : n // 4] = np.round(coords[:, : n // 4] * 2) / 2  # ties of order 0
    coords[:, n // 4 : n // 3] = np.round(coords[:, n // 4 : n // 3])  # integers, edges
    coords[:, -1] = [s - 1 for s in shape]
    coords[:, -2] = -0.0
    return coords


def both(name, *args, **kwargs):
    """(fastaug's result, SciPy's) for the same call."""
    return getattr(fastaug, name)(*args, **kwargs), getattr(ndimage, name)(*args, **kwargs)


def assert_same(name, *args, context="", **kwargs):
    actual, expected = both(name, *args, **kwargs)
    assert_matches_scipy(actual, expected, context=f"{name} {context} {kwargs}")
    return actual


@pytest.mark.parametrize("name", FUNCTIONS)
def test_signature_is_scipys(name):
    assert call_signature(getattr(fastaug, name)) == call_signature(getattr(ndimage, name))
    assert getattr(fastaug.ndimage, name) is getattr(fastaug, name)


def sweep(order, mode, prefilter, shapes):
    """Every shape, coordinates in and far out, affine maps of each matrix form with larger
    and smaller outputs, cval of either sign."""
    rng = np.random.default_rng(order * 8 + MODES.index(mode))
    compared = 0
    for shape in shapes:
        if scipy_reflect_is_buggy(mode, order, shape, prefilter):
            continue
        data = sample(rng, shape, np.float64)
        if order > 1 and not prefilter:
            data = ndimage.spline_filter(data, order, mode=mode)  # as a user filtering once
        ndim = len(shape)
        kwargs = dict(order=order, mode=mode, prefilter=prefilter)
        for cval in (0.0, -0.0, -2.5):
            coords = coordinates_for(rng, shape)
            assert_same("map_coordinates", data, coords, cval=cval, context=shape, **kwargs)
        far = coordinates_for(rng, shape, spread=1000.0)
        assert_same("map_coordinates", data, far, context=f"far {shape}", **kwargs)
        rotation = np.linalg.qr(rng.standard_normal((ndim, ndim)))[0]
        center = (np.array(shape) - 1) / 2
        for out_shape in (shape, tuple(s + 3 for s in shape), tuple(max(s - 2, 1) for s in shape)):
            offset = center - rotation @ ((np.array(out_shape) - 1) / 2)
            homogeneous = np.eye(ndim + 1)
            homogeneous[:ndim, :ndim] = rotation
            homogeneous[:ndim, ndim] = offset
            for matrix, off in (
                (rotation, offset),
                (homogeneous, 0.0),
                (homogeneous[:ndim], None),
                (rng.uniform(0.4, 1.6, ndim), offset),  # the diagonal (zoom/shift) form
            ):
                extra = {} if off is None else {"offset": off}
                assert_same(
                    "affine_transform",
                    data,
                    matrix,
                    output_shape=out_shape,
                    cval=-1.25,
                    context=f"{shape} -> {out_shape} matrix {np.shape(matrix)}",
                    **extra,
                    **kwargs,
                )
        compared += 1
    assert compared > 0


@pytest.mark.parametrize("order", range(6))
@pytest.mark.parametrize("mode", MODES)
def test_unfiltered_sweep(order, mode):
    """``prefilter=False`` samples the values as they are (for orders > 1, SciPy's own
    coefficients are passed in)."""
    sweep(order, mode, False, SHAPES)


@pytest.mark.parametrize("order", range(2, 6))
@pytest.mark.parametrize("mode", MODES)
def test_prefiltered_sweep(order, mode):
    """The default: fastaug's own pre-padding and spline prefilter, then the sampling. Axes of
    27 and 28 samples let reflect modes be compared with SciPy 1.17 (see conftest)."""
    sweep(order, mode, True, SHAPES + [(27,), (28, 27)])


@pytest.mark.parametrize("mode", MODES)
def test_four_axes(mode):
    rng = np.random.default_rng(4)
    data = sample(rng, (3, 4, 2, 5), np.float64)
    for order, prefilter in ((0, False), (1, False), (3, False), (2, True)):
        if scipy_reflect_is_buggy(mode, order, data.shape, prefilter):
            continue
        kwargs = dict(order=order, mode=mode, prefilter=prefilter, cval=0.5)
        assert_same("map_coordinates", data, coordinates_for(rng, data.shape, n=30), **kwargs)
        matrix = np.eye(4) + rng.uniform(-0.2, 0.2, (4, 4))
        assert_same("affine_transform", data, matrix, offset=0.3, **kwargs)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32, np.float64, np.complex128])
@pytest.mark.parametrize("order", [0, 1, 3, 5])
def test_dtypes_in_and_out(dtype, order):
    """Input dtypes, and outputs of each dtype given as a dtype or an array (SciPy rounds
    half away from zero, clips integers)."""
    rng = np.random.default_rng(7)
    data = sample(rng, (6, 5), dtype)
    coords = coordinates_for(rng, data.shape)
    matrix = [[0.9, 0.3], [-0.3, 0.9]]
    kwargs = dict(order=order, mode="nearest")
    assert_same("map_coordinates", data, coords, **kwargs)
    cval = 3 + 2j if data.dtype.kind == "c" else -2.0
    assert_same("affine_transform", data, matrix, offset=(1.0, -0.5), cval=cval, **kwargs)
    outputs = [np.uint8, np.int8, np.int16, np.uint16, np.int32, np.float32, np.float64, bool]
    for out_dtype in outputs if data.dtype.kind != "c" else [np.complex64, np.complex128]:
        assert_same("map_coordinates", data, coords, output=out_dtype, **kwargs)
        target = np.full(coords.shape[1], 7, out_dtype)
        result = fastaug.map_coordinates(data, coords, output=target, **kwargs)
        assert result is target
        assert_matches_scipy(
            target, ndimage.map_coordinates(data, coords, output=out_dtype, **kwargs)
        )


def test_real_output_dtype_for_complex_input_is_promoted_with_scipys_warning():
    data = sample(np.random.default_rng(1), (5, 5), np.complex128)
    with pytest.warns(UserWarning, match="promoting specified output dtype to complex"):
        actual = fastaug.affine_transform(data, np.eye(2), output=np.float32, order=1)
    with pytest.warns(UserWarning, match="promoting"):
        expected = ndimage.affine_transform(data, np.eye(2), output=np.float32, order=1)
    assert_matches_scipy(actual, expected)


def test_integer_rounding_and_clipping():
    """Values at exact halves and beyond the range of the output type."""
    data = np.array([-300.0, -2.5, -0.5, 0.4, 0.5, 2.5, 300.0, 70000.0])
    coords = np.arange(8.0)[None]
    for out in (np.uint8, np.int8, np.uint16, np.int16, bool):
        assert_same("map_coordinates", data, coords, output=out, order=1)


def test_memory_layouts_of_the_input():
    base = sample(np.random.default_rng(2), (9, 8, 6), np.float64)
    read_only = base.copy()
    read_only.flags.writeable = False
    matrix = [[1.0, 0.1, 0.0], [0.0, 0.9, 0.2], [0.1, 0.0, 1.1]]
    for data in (
        np.asfortranarray(base),
        base[::2, 1:, ::-1],
        read_only,
        base.astype(">f8"),
        base.astype(">i2"),
        base.transpose(2, 0, 1),
        base.tolist(),
    ):
        arr = np.asarray(data)
        coords = coordinates_for(np.random.default_rng(3), arr.shape)
        for order, mode in ((0, "mirror"), (1, "wrap"), (2, "mirror"), (3, "nearest")):
            kwargs = dict(order=order, mode=mode)
            assert_same("map_coordinates", data, coords, **kwargs)
            assert_same("affine_transform", data, matrix, offset=-0.5, **kwargs)


def test_coordinate_arrays_of_any_real_type_and_layout():
    rng = np.random.default_rng(5)
    data = sample(rng, (6, 7), np.float64)
    coords = coordinates_for(rng, data.shape, n=24)
    for c in (
        coords.astype(np.float32),
        coords.astype(">f8"),
        np.round(coords).astype(np.int64),
        np.abs(np.round(coords)).astype(np.uint8),
        np.asfortranarray(coords.reshape(2, 4, 6)),
        coords.reshape(2, 6, 4)[:, ::2, ::-1],
        coords > 1,
        coords.tolist(),
    ):
        assert_same("map_coordinates", data, c, order=1, mode="reflect")


def test_output_arrays_of_any_layout_and_byte_order():
    rng = np.random.default_rng(6)
    data = sample(rng, (7, 6), np.float64)
    matrix = [[0.8, 0.2], [-0.2, 0.8]]
    for make in (
        lambda: np.zeros((7, 6), ">f8"),
        lambda: np.zeros((6, 7), np.float32).T,
        lambda: np.zeros((14, 6), np.int16)[::2],
    ):
        target, reference = make(), make()
        result = fastaug.affine_transform(data, matrix, output=target, order=1)
        ndimage.affine_transform(data, matrix, output=reference, order=1)
        assert result is target
        assert_matches_scipy(target, reference)
    # output_shape taken from the output array; the result may not overlap the input
    data = np.arange(30.0).reshape(5, 6)
    expected = ndimage.affine_transform(data, np.eye(2), offset=0.5, order=1)
    fastaug.affine_transform(data, np.eye(2), offset=0.5, order=1, output=data)
    assert_matches_scipy(data, expected)


def test_output_rank_differs_from_input_rank():
    """SciPy maps an output of any rank through a ``(ndim, out_ndim)`` matrix: a plane cut
    from a volume, or a volume from a plane."""
    rng = np.random.default_rng(8)
    volume = sample(rng, (5, 6, 7), np.float64)
    cut = [[0.5, 0.0], [0.2, 1.0], [0.0, 0.7]]
    assert_same("affine_transform", volume, cut, offset=1.0, output_shape=(4, 8), order=1)
    plane = sample(rng, (5, 6), np.float64)
    # (a (2, 3) matrix would be read as (ndim, ndim + 1): a matrix and an offset)
    lift = [[1.0, 0.5, 0.0, 0.3], [0.0, 0.2, 1.0, -0.4]]
    assert_same("affine_transform", plane, lift, output_shape=(3, 4, 5, 2), order=0, mode="wrap")
    # the diagonal form ignores output axes past the input's
    assert_same("affine_transform", plane, [1.0, 0.5], output_shape=(5, 6, 2), order=1)


def test_empty_output():
    data = np.ones((4, 4))
    assert_same("map_coordinates", data, np.zeros((2, 0)), order=1)
    assert_same("affine_transform", data, np.eye(2), output_shape=(0, 3), order=1)


@pytest.mark.parametrize("mode", ["constant", "grid-constant"])
@pytest.mark.parametrize("order", [0, 1, 3])
def test_empty_input_fills_with_cval_where_scipy_does(mode, order):
    data = np.zeros((0, 4))
    coords = np.array([[0.3, 1.7, -2.0], [1.2, 2.5, 9.0]])
    assert_same("map_coordinates", data, coords, order=order, mode=mode, cval=1.3)
    assert_same("affine_transform", data, np.eye(2), 0.0, (2, 3), order=order, mode=mode, cval=2)


@pytest.mark.parametrize("mode", ["nearest", "mirror", "reflect", "wrap", "grid-wrap"])
def test_empty_input_cannot_be_extended(mode):
    """SciPy reads memory it does not own here (or np.pad raises for 'nearest'): refused."""
    with pytest.raises(ValueError, match="cannot extend an empty input"):
        fastaug.map_coordinates(np.zeros((3, 0)), np.zeros((2, 4)), order=1, mode=mode)
    with pytest.raises(ValueError, match="cannot extend an empty input"):
        fastaug.affine_transform(np.zeros((0,)), [[1.0]], output_shape=(3,), mode=mode)


BAD_CALLS = [
    ("map_coordinates", (np.ones((3, 3)), np.zeros((2, 4))), dict(order=6)),
    ("map_coordinates", (np.ones((3, 3)), np.zeros((2, 4))), dict(order=-1)),
    ("map_coordinates", (np.ones((3, 3)), np.zeros((2, 4))), dict(order=1.5)),
    ("map_coordinates", (np.ones((3, 3)), np.zeros((2, 4))), dict(mode="edge", order=1)),
    ("map_coordinates", (np.ones((3, 3)), np.zeros((3, 4))), {}),
    ("map_coordinates", (np.ones((3, 3)), np.zeros(2)), {}),
    ("map_coordinates", (np.float64(1.0), np.zeros((0, 2))), {}),
    ("map_coordinates", (np.ones((3, 3)), np.zeros((2, 4), complex)), {}),
    ("map_coordinates", (np.ones((3, 3)), np.zeros((2, 4), np.float16)), {}),
    ("map_coordinates", (np.ones((3, 3)), np.zeros((2, 4), object)), {}),
    ("map_coordinates", (np.ones((3, 3), np.float16), np.zeros((2, 4))), dict(order=1)),
    ("map_coordinates", (np.ones((3, 3)), np.zeros((2, 4))), dict(output=np.float16)),
    ("map_coordinates", (np.ones((3, 3)), np.zeros((2, 4))), dict(output="?")),
    ("map_coordinates", (np.ones((3, 3)), np.zeros((2, 4))), dict(output=np.zeros(5))),
    ("map_coordinates", (np.ones((3, 3), complex), np.zeros((2, 4))), dict(output="f8")),
    ("map_coordinates", (np.ones((3, 3), complex), np.zeros((2, 4))), dict(output=np.zeros(4))),
    ("map_coordinates", (np.ones((3, 3)), np.zeros((2, 4))), dict(cval="x")),
    ("map_coordinates", (np.ones((3, 3)), np.zeros((2, 4))), dict(cval=1j)),
    ("map_coordinates", (np.ones((3, 3)), np.zeros((2, 4))), dict(cval=[1.0])),
    ("affine_transform", (np.ones((3, 3)), np.ones((3, 3))), {}),
    ("affine_transform", (np.ones((3, 3)), np.ones((3, 2))), {}),
    ("affine_transform", (np.ones((3, 3)), np.ones((1, 2))), {}),
    ("affine_transform", (np.ones((3, 3)), np.ones((2, 2, 2))), {}),
    ("affine_transform", (np.ones((3, 3)), 2.0), {}),
    ("affine_transform", (np.ones((3, 3)), np.ones((2, 3))), dict(output_shape=(3, 3, 3))),
    ("affine_transform", (np.ones((3, 3)), np.eye(2)), dict(offset=[1, 2, 3])),
    ("affine_transform", (np.ones((3, 3)), np.eye(2)), dict(offset=[[1, 2], [3, 4]])),
    ("affine_transform", (np.ones((3, 3)), np.eye(2)), dict(output_shape=())),
    ("affine_transform", (np.ones((3, 3)), np.eye(2)), dict(output_shape=(-1, 3))),
    ("affine_transform", (np.ones((3, 3)), np.eye(2), 0.0, (3, 3), np.zeros((2, 2))), {}),
    ("affine_transform", (np.ones((3, 3)), np.eye(2)), dict(mode=None, order=0)),
    ("affine_transform", (np.ones((3, 3)), [["a", 1], [0, 1]]), {}),
    ("affine_transform", (np.float64(2.0), [1.0]), {}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), BAD_CALLS)
def test_bad_input_raises_what_scipy_raises(name, args, kwargs):
    with pytest.raises(Exception) as scipy_error:
        getattr(ndimage, name)(*args, **kwargs)
    with pytest.raises(type(scipy_error.value)) as ours:
        getattr(fastaug, name)(*args, **kwargs)
    assert str(ours.value).count("\n") == 0  # one line


def test_read_only_output_is_refused():
    target = np.zeros((3, 3))
    target.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        fastaug.affine_transform(np.ones((3, 3)), np.eye(2), output=target)


def test_zero_in_a_diagonal_matrix_warns_as_scipy_does():
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        actual = fastaug.affine_transform(np.ones((4, 4)), [0.0, 1.0], order=1)
        expected = ndimage.affine_transform(np.ones((4, 4)), [0.0, 1.0], order=1)
    assert [type(w.message) for w in seen] == [RuntimeWarning, RuntimeWarning]
    assert_matches_scipy(actual, expected)


def test_large_calls_are_split_among_threads_with_the_same_result():
    rng = np.random.default_rng(9)
    volume = sample(rng, (20, 21, 22), np.float32)
    c, s = np.cos(0.3), np.sin(0.3)
    matrix = np.array([[1, 0, 0], [0, c, s], [0, -s, c]])
    for threads in (1, 2):
        fastaug.set_num_threads(min(threads, fastaug._parallel.MAX_THREADS))
        try:
            assert_same(
                "affine_transform",
                volume,
                matrix,
                offset=(0.0, 3.0, -2.0),
                order=1,
                mode="nearest",
                output_shape=(25, 24, 23),
            )
        finally:
            fastaug.set_num_threads(fastaug._parallel.MAX_THREADS)


finite = st.floats(-4.0, 4.0, allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ndim=st.integers(1, 3),
    order=st.integers(0, 5),
    mode=st.sampled_from(MODES),
    data=st.data(),
)
def test_hypothesis_random_maps(ndim, order, mode, data):
    shape = tuple(data.draw(st.lists(st.integers(1, 6), min_size=ndim, max_size=ndim)))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    values = sample(rng, shape, np.float64)
    matrix = np.array(data.draw(st.lists(finite, min_size=ndim * ndim, max_size=ndim * ndim)))
    offset = data.draw(st.lists(finite, min_size=ndim, max_size=ndim))
    out_shape = tuple(data.draw(st.lists(st.integers(1, 6), min_size=ndim, max_size=ndim)))
    prefilter = data.draw(st.booleans())
    assume(not scipy_reflect_is_buggy(mode, order, shape, prefilter))
    kwargs = dict(order=order, mode=mode, prefilter=prefilter, cval=data.draw(finite))
    assert_same("affine_transform", values, matrix.reshape(ndim, ndim), offset, out_shape, **kwargs)
    points = data.draw(st.lists(finite, min_size=ndim, max_size=ndim * 5))
    coords = np.array(points[: len(points) // ndim * ndim]).reshape(ndim, -1) * 3
    assert_same("map_coordinates", values, coords, **kwargs)


def test_many_points_in_every_mode_and_order_on_a_realistic_volume():
    """A warped 3-D grid, as elastic augmentation builds it, every order and mode."""
    rng = np.random.default_rng(10)
    volume = sample(rng, (12, 13, 11), np.float32)
    grid = np.stack(
        np.meshgrid(*(np.arange(n, dtype=np.float64) for n in (9, 10, 8)), indexing="ij")
    )
    warped = grid * 1.2 - 1.0 + rng.normal(0, 0.8, grid.shape)
    for order, mode in itertools.product(range(6), MODES):
        prefilter = not scipy_reflect_is_buggy(mode, order, volume.shape)
        assert_same(
            "map_coordinates", volume, warped, order=order, mode=mode, prefilter=prefilter, cval=2.0
        )


@pytest.mark.parametrize("mode", MODES)
def test_coordinates_beyond_int64_stay_inside_the_array(mode):
    """Beyond 9.2e18 C's integer conversions are undefined and SciPy reads outside its
    array (its results there are not reproducible): fastaug reads only the array's own
    values, so results stay bounded by them (or are NaN, or cval)."""
    data = sample(np.random.default_rng(12), (5, 6), np.float64)
    coords = np.array([[1e20, -1e20, 1e300, -1e300, 9.3e18, np.inf, -np.inf, np.nan], [2.0] * 8])
    bound = 36 * np.abs(ndimage.spline_filter(np.pad(data, 12, mode="edge"), 5)).max()
    for order in range(6):
        for c in (coords, coords[::-1]):
            got = fastaug.map_coordinates(data, c, order=order, mode=mode, cval=-1.0)
            assert np.all(np.isnan(got) | (np.abs(got) <= bound)), (order, got)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape", [(7,), (5, 6), (4, 5, 3), (3, 2, 4, 3)])
def test_order_0_reads_one_value_as_scipy_sums_it(shape, mode):
    """Order 0 reads one input value per point (its own kernel outside grid-constant mode),
    summed from 0.0 as SciPy sums a footprint: -0.0 comes out as 0.0; NaN and infinities
    pass through. Points far out, on halves and on the edges, 1 to 4 axes."""
    rng = np.random.default_rng(len(shape))
    data = sample(rng, shape, np.float64)
    data.flat[::3] = -0.0
    data.flat[1::7] = np.nan
    data.flat[2::5] = -np.inf
    for spread in (3.0, 1000.0):
        coords = coordinates_for(rng, shape, n=200, spread=spread)
        for output in (None, np.float32):
            kwargs = dict(order=0, mode=mode, cval=-0.0, output=output)
            assert_same("map_coordinates", data, coords, context=shape, **kwargs)
    matrix = np.linalg.qr(rng.standard_normal((len(shape),) * 2))[0] * 1.3
    assert_same("affine_transform", data, matrix, 0.7, output_shape=(5,) * len(shape), order=0)
