"""fastaug.zoom and fastaug.shift against SciPy as the oracle: bit for bit, signs of zero
included, with SciPy's output handling, warnings and exception classes."""

import warnings

import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_splines import filter_is_version_dependent

import fastaug
from fastaug import splines
from fastaug.backends.cpu import zoom_shift
from fastaug.resampling import Interp

from conftest import MODES, call_signature
from tolerances import assert_matches_scipy

DTYPES = (np.uint8, np.int16, np.float32, np.float64, np.complex128)


def version_dependent(mode, order, shape, prefilter=True):
    """Results SciPy 1.17's reflect prefilter gets wrong in the last bits (see conftest)."""
    return prefilter and filter_is_version_dependent(mode, order, shape)


def sample(rng, shape, dtype):
    a = rng.random(shape) * 230 - 20
    if np.dtype(dtype).kind == "c":
        a = a + 1j * (rng.random(shape) * 9 - 3)
    return a.astype(dtype)


def both(name, *args, **kwargs):
    """(fastaug's result, SciPy's result) of the same call, warnings kept apart."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # grid_mode's advice; tested on its own below
        expected = getattr(ndi, name)(*args, **kwargs)
        result = getattr(fastaug, name)(*args, **kwargs)
    return result, expected


def test_signatures_are_scipys():
    for name in ("zoom", "shift"):
        assert call_signature(getattr(fastaug, name)) == call_signature(getattr(ndi, name))


SHAPES = [(9,), (5, 6), (4, 7), (6, 5), (3, 4, 5), (1, 6), (25, 23)]
ZOOMS = [1.7, 0.6, 2, 0.5, (1.3, 0.8, 2.2)]
SHIFTS = [0.4, -7.5, 2, (-1.25, 2, 0.5)]


@pytest.mark.parametrize("mode", MODES)
def test_zoom_and_shift_match_scipy(mode, rng):
    """Orders 0-5 x modes x dtypes, 1-3-D, odd/even/non-square, zoom up and down per axis,
    grid_mode, sub-pixel and integer shifts, prefilter on and off."""
    for shape in SHAPES:
        for dtype in DTYPES:
            a = sample(rng, shape, dtype)
            for order in range(6):
                for prefilter in (True, False):
                    if version_dependent(mode, order, shape, prefilter):
                        continue
                    context = f"{shape} {np.dtype(dtype).name} order {order} pf {prefilter}"
                    common = dict(order=order, mode=mode, cval=-3.5, prefilter=prefilter)
                    for z in ZOOMS:
                        z = z[: len(shape)] if isinstance(z, tuple) else z
                        for grid_mode in (False, True):
                            result, expected = both("zoom", a, z, grid_mode=grid_mode, **common)
                            assert_matches_scipy(result, expected, context=f"zoom {z} {context}")
                    for s in SHIFTS:
                        s = s[: len(shape)] if isinstance(s, tuple) else s
                        result, expected = both("shift", a, s, **common)
                        assert_matches_scipy(result, expected, context=f"shift {s} {context}")


@pytest.mark.parametrize("mode", ["nearest", "grid-constant", "mirror", "constant"])
def test_four_dimensional_input_matches_scipy(mode, rng):
    a = sample(rng, (3, 2, 4, 5), np.float64)
    for order in (0, 1, 3, 4):
        result, expected = both("zoom", a, (1.5, 1, 0.7, 2), order=order, mode=mode, cval=2)
        assert_matches_scipy(result, expected, context=f"zoom order {order}")
        result, expected = both("shift", a, (0.5, -1, 0.25, 3), order=order, mode=mode, cval=2)
        assert_matches_scipy(result, expected, context=f"shift order {order}")


@pytest.mark.parametrize("threads", [1, 2])
def test_large_arrays_on_fastaugs_threads_match_scipy(threads, rng):
    a = sample(rng, (150, 131), np.float32)
    saved = fastaug.get_num_threads()
    fastaug.set_num_threads(min(threads, fastaug._parallel.MAX_THREADS))
    try:
        for mode in ("constant", "grid-constant", "reflect"):
            for order in (1, 3, 5):
                result, expected = both("zoom", a, 2.3, order=order, mode=mode)
                assert_matches_scipy(result, expected, context=f"zoom {mode} {order}")
                result, expected = both("shift", a, (0.3, -2.6), order=order, mode=mode)
                assert_matches_scipy(result, expected, context=f"shift {mode} {order}")
                result, expected = both("zoom", a, 0.37, order=order, mode=mode, output=np.uint8)
                assert_matches_scipy(result, expected, context=f"zoom uint8 {mode} {order}")
    finally:
        fastaug.set_num_threads(saved)


def test_zoom_output_shape_rounds_like_scipy():
    # round(): half to even (5 * 0.5 = 2.5 -> 2, 7 * 0.5 = 3.5 -> 4); one-sample outputs use
    # the factor 1; a zoom to nothing gives an empty output.
    for shape, z in [((5,), 0.5), ((7,), 0.5), ((5, 9), (0.2, 1 / 9)), ((4, 4), 0.1)]:
        a = np.arange(float(np.prod(shape))).reshape(shape)
        for grid_mode in (False, True):
            result, expected = both("zoom", a, z, order=1, grid_mode=grid_mode)
            assert_matches_scipy(result, expected, context=f"{shape} {z}")


def test_inputs_of_every_layout(rng):
    base = sample(rng, (26, 22), np.float64)
    inputs = {
        "fortran": np.asfortranarray(base),
        "strided": sample(rng, (52, 22), np.float64)[::2, ::-1],
        "big-endian": base.astype(">f8"),
        "big-endian int16": base.astype(">i2"),
        "bool": base > 100,
        "uint16": base.astype(np.uint16),
    }
    for name, a in inputs.items():
        a.setflags(write=False)
        for mode in ("nearest", "grid-constant", "mirror"):
            for order in (0, 1, 3):
                result, expected = both("zoom", a, 1.4, order=order, mode=mode)
                assert_matches_scipy(result, expected, context=f"{name} zoom {mode} {order}")
                result, expected = both("shift", a, (1.5, -0.25), order=order, mode=mode)
                assert_matches_scipy(result, expected, context=f"{name} shift {mode} {order}")


OUTPUT_DTYPES = [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.int64,
                 np.float32, np.float64, np.bool_]  # fmt: skip


@pytest.mark.parametrize("out_dtype", OUTPUT_DTYPES)
def test_output_dtypes_round_and_clip_like_scipy(out_dtype, rng):
    a = rng.random((12, 13)) * 700 - 300  # overshoots every small integer type
    a[3, 4] = 0.5
    for order in (0, 1, 3):
        result, expected = both("zoom", a, 1.3, order=order, output=out_dtype, mode="mirror")
        assert_matches_scipy(result, expected, context=f"zoom order {order}")
        result, expected = both("shift", a, 0.5, order=order, output=out_dtype)
        assert_matches_scipy(result, expected, context=f"shift order {order}")


def test_output_arrays_are_filled_and_returned(rng):
    a = sample(rng, (10, 12), np.float32)
    for make in (
        lambda s: np.zeros(s),
        lambda s: np.zeros(s, order="F"),
        lambda s: np.zeros(s, ">f4"),
        lambda s: np.zeros((s[0], 2 * s[1]), np.int16)[:, ::2],
    ):
        out = make((15, 18))
        expected = ndi.zoom(a, 1.5, output=out.copy())
        assert fastaug.zoom(a, 1.5, output=out) is out
        assert_matches_scipy(out, expected)
        out = make((10, 12))
        expected = ndi.shift(a, -0.7, output=out.copy(), mode="wrap")
        assert fastaug.shift(a, -0.7, output=out, mode="wrap") is out
        assert_matches_scipy(out, expected)


def test_complex_input(rng):
    z = sample(rng, (9, 8), np.complex64)
    for kwargs in (dict(cval=1 - 2j), dict(mode="grid-constant", cval=3j), dict(order=1)):
        assert_matches_scipy(*both("shift", z, (0.5, -1.5), **kwargs))
        assert_matches_scipy(*both("zoom", z, 1.6, **kwargs))
    # SciPy does not hand grid_mode on to the parts of a complex input: neither does fastaug.
    assert_matches_scipy(*both("zoom", z, 1.6, grid_mode=True, mode="grid-wrap"))
    with pytest.warns(UserWarning, match="promoting"):
        result = fastaug.zoom(z, 2, output=np.float32)
    with pytest.warns(UserWarning, match="promoting"):
        expected = ndi.zoom(z, 2, output=np.float32)
    assert_matches_scipy(result, expected)


def test_zoom_of_one_copies_the_input_as_scipy_does(rng):
    a = sample(rng, (4, 5), np.float64).astype(np.float16)
    # A copy with NumPy's cast, before any check of the mode or the dtype.
    assert_matches_scipy(*both("zoom", a, 1, mode="nope"))
    assert_matches_scipy(*both("zoom", a, (1, 1.0), output=np.complex64))
    # Without the prefilter the coefficients are the input: still a resampling.
    b = sample(rng, (4, 5), np.float64)
    assert_matches_scipy(*both("zoom", b, 1, prefilter=False))


def test_coordinates_far_outside_and_not_finite():
    a = np.arange(1.0, 13.0).reshape(3, 4)
    for mode in MODES:
        for s in (40.5, -1e6, 123456.25):
            assert_matches_scipy(*both("shift", a, s, order=1, mode=mode), context=f"{mode} {s}")
    # Beyond int64 and not finite: SciPy gives cval in 'constant' mode and reads below the
    # input in the others that do not fold (x86's conversion of a huge floor), NaN for NaN.
    for mode in ("constant", "grid-constant", "nearest"):
        for s in (1e20, -1e20, np.inf, -np.inf, np.nan):
            assert_matches_scipy(
                *both("shift", a, s, order=1, mode=mode, cval=7), context=f"{mode} {s}"
            )


def test_unfoldable_coordinates_give_cval_where_scipy_crashes():
    # SciPy 1.17 crashes (a NULL table) on these in its folding modes; fastaug gives cval.
    a = np.arange(1.0, 13.0).reshape(3, 4)
    for mode in ("reflect", "grid-mirror", "mirror", "wrap", "grid-wrap"):
        for s in (np.nan, np.inf):
            assert (fastaug.shift(a, s, order=3, mode=mode, cval=7) == 7).all()


def test_grid_mode_advice_warns_like_scipy():
    a = np.ones((4, 4))
    for mode, advice in (("constant", "grid-constant"), ("wrap", "grid-wrap")):
        with pytest.warns(UserWarning, match=f"mode = {advice} instead of {mode}"):
            fastaug.zoom(a, 2, grid_mode=True, mode=mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fastaug.zoom(a, 2, grid_mode=True, mode="grid-constant")


BAD_CALLS = {
    "0-D zoom": ("zoom", (np.array(1.0), 2), {}),
    "0-D shift": ("shift", (np.array(1.0), 2), {}),
    "zoom sequence length": ("zoom", (np.ones((3, 4)), [2, 2, 2]), {}),
    "shift sequence length": ("shift", (np.ones((3, 4)), [2, 2, 2]), {}),
    "zoom str": ("zoom", (np.ones((3, 4)), "2"), {}),
    "shift str": ("shift", (np.ones((3, 4)), "2"), {}),
    "shift None": ("shift", (np.ones((3, 4)), None), {}),
    "zoom negative": ("zoom", (np.ones((3, 4)), -1), {}),
    "zoom NaN": ("zoom", (np.ones((3, 4)), np.nan), {}),
    "zoom infinite": ("zoom", (np.ones((3, 4)), np.inf), {}),
    "zoom complex": ("zoom", (np.ones((3, 4)), 2j), {}),
    "shift complex": ("shift", (np.ones((3, 4)), 2j), {}),
    "order 6": ("zoom", (np.ones((3, 4)), 2), {"order": 6}),
    "order -1": ("shift", (np.ones((3, 4)), 2), {"order": -1}),
    "order 1.0": ("zoom", (np.ones((3, 4)), 2), {"order": 1.0}),
    "order 2.5": ("shift", (np.ones((3, 4)), 2), {"order": 2.5}),
    "mode": ("zoom", (np.ones((3, 4)), 2), {"mode": "wrapped"}),
    "mode, order 1": ("shift", (np.ones((3, 4)), 2), {"mode": "wrapped", "order": 1}),
    "grid_mode str": ("zoom", (np.ones((3, 4)), 2), {"grid_mode": "yes", "mode": "nearest"}),
    "cval complex, real input": ("zoom", (np.ones((3, 4)), 2), {"cval": 1j}),
    "cval str": ("shift", (np.ones((3, 4)), 2), {"cval": "a"}),
    "cval array": ("shift", (np.ones((3, 4)), 2), {"cval": np.array([1.0])}),
    "float16 input": ("zoom", (np.ones((3, 4), np.float16), 2), {}),
    "float16 output": ("shift", (np.ones((3, 4)), 2), {"output": np.float16}),
    "complex output, real input": ("zoom", (np.ones((3, 4)), 2), {"output": np.complex128}),
    "output shape": ("zoom", (np.ones((3, 4)), 2), {"output": np.zeros((3, 4))}),
    "output 'f8', complex input": ("shift", (np.ones((3, 4), complex), 2), {"output": "f8"}),
    "empty input, nearest": ("zoom", (np.zeros((0, 3)), 2), {"mode": "nearest"}),
}


@pytest.mark.parametrize("case", BAD_CALLS)
def test_bad_arguments_raise_scipys_exception_class(case):
    name, args, kwargs = BAD_CALLS[case]
    with pytest.raises(Exception) as scipy_error:
        getattr(ndi, name)(*args, **kwargs)
    with pytest.raises(scipy_error.type):
        getattr(fastaug, name)(*args, **kwargs)


def test_empty_arrays_stay_empty():
    for name, arg in (("zoom", 2), ("shift", 1.5)):
        assert_matches_scipy(*both(name, np.zeros((0, 3)), arg))


def test_zoom_shift_is_scipys_diagonal_affine_transform(rng):
    """The entry point affine_transform routes a diagonal matrix to, as SciPy does: shift
    ``offset / diagonal`` added to the output index before the zoom."""
    a = sample(rng, (23, 26), np.float32)
    diagonal = np.array([1.3, 0.7])
    offset = np.array([-2.5, 3.25])
    for mode in ("nearest", "constant", "grid-wrap"):
        for order in (0, 3):
            expected = ndi.affine_transform(a, diagonal, offset, (30, 20), order=order, mode=mode)
            interp = Interp(order, mode, 0.0)
            coeffs = splines.coefficients(a, interp)
            out = np.zeros((30, 20), np.float32)
            zoom_shift(coeffs, diagonal, offset / diagonal, out, interp, False)
            assert_matches_scipy(out, expected, context=f"{mode} {order}")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=st.lists(st.integers(1, 9), min_size=1, max_size=3),
    factors=st.lists(st.floats(0.3, 3.0), min_size=3, max_size=3),
    shifts=st.lists(st.floats(-12, 12), min_size=3, max_size=3),
    order=st.integers(0, 5),
    mode=st.sampled_from(MODES),
    prefilter=st.booleans(),
    grid_mode=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_hypothesis_sweep(shape, factors, shifts, order, mode, prefilter, grid_mode, seed):
    shape = tuple(shape)
    assume(not version_dependent(mode, order, shape, prefilter))
    a = np.random.default_rng(seed).random(shape) * 100
    kw = dict(order=order, mode=mode, cval=1.25, prefilter=prefilter)
    z = factors[: len(shape)]
    assert_matches_scipy(*both("zoom", a, z, grid_mode=grid_mode, **kw), context=f"zoom {z}")
    s = shifts[: len(shape)]
    assert_matches_scipy(*both("shift", a, s, **kw), context=f"shift {s}")


def test_bool_outputs_convert_as_c_does_in_rotate_too():
    # (npy_bool)t is an unsigned char conversion: 256.0 and 512.5 are False, 257.0 True.
    a = np.array([[0.5, 256.0, 257.0, -1.5], [512.5, -256.25, 3.0, 1e12]])
    assert_matches_scipy(*both("shift", a, 0, order=1, output=bool))
    assert_matches_scipy(*both("rotate", a, 0, order=1, output=bool))
