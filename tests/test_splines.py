"""fastaug.splines.prefiltered: SciPy's pre-padding + spline_filter, bit for bit."""

import numpy as np
import pytest
import scipy.ndimage as ndi

from fastaug.splines import prefiltered

from conftest import MODES, call_signature, scipy_reflect_is_buggy
from tolerances import assert_matches_scipy

SHAPES = [
    (7,),
    (1,),
    (64,),
    (5, 6),
    (2, 3),
    (25, 23),
    (40, 64),
    (4, 5, 6),
    (3, 32, 7),
    (3, 1, 4, 2),
]


def scipy_prefiltered(a, order, mode, cval):
    """What SciPy's interpolation functions sample: pad (np.pad), then spline_filter."""
    if order < 2:
        return a.astype(np.float64), 0
    npad = 12 if mode in ("nearest", "grid-constant") else 0
    if mode == "nearest":
        a = np.pad(a, npad, mode="edge")
    elif mode == "grid-constant":
        a = np.pad(a, npad, mode="constant", constant_values=cval)
    return ndi.spline_filter(a, order, output=np.float64, mode=mode), npad


def filter_is_version_dependent(mode, order, shape):
    """SciPy < 1.18's reflect-initialised prefilter on short axes (see conftest): 'nearest'
    filters with the reflect initialisation too, on axes 24 samples longer."""
    if mode == "nearest" and order > 1:
        return scipy_reflect_is_buggy("reflect", order, tuple(s + 24 for s in shape))
    return scipy_reflect_is_buggy(mode, order, shape)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("mode", MODES)
def test_prefiltered_matches_scipy(shape, mode, rng):
    for dtype in (np.uint8, np.int16, np.float32, np.float64):
        a = (rng.random(shape) * 300 - 40).astype(dtype)
        for order in range(6):
            if filter_is_version_dependent(mode, order, shape):
                continue
            coeffs, npad = prefiltered(a, order, mode, 1.5)
            expected, expected_npad = scipy_prefiltered(a, order, mode, 1.5)
            assert npad == expected_npad
            assert coeffs.flags.c_contiguous
            assert_matches_scipy(coeffs, expected, context=f"{dtype.__name__} order {order}")


@pytest.mark.parametrize("mode", ["nearest", "grid-constant", "mirror"])
def test_prefiltered_large_array_on_threads_matches_scipy(mode, rng):
    # Large enough to be split among threads, with lines of each axis in several tiles.
    a = rng.random((300, 260)).astype(np.float32)
    coeffs, npad = prefiltered(a, 3, mode, -2.0)
    expected, _ = scipy_prefiltered(a, 3, mode, -2.0)
    assert_matches_scipy(coeffs, expected)


def test_prefiltered_layouts_and_cval_cast(rng):
    base = rng.random((46, 25)) * 255  # reflect axes long enough for SciPy 1.17 (conftest)
    for a in (
        np.asfortranarray(base),
        base[::2, ::-1],
        base.astype(">f8"),
        base.astype(np.uint8),
    ):
        a.setflags(write=False)
        for mode in ("nearest", "grid-constant", "reflect"):
            # cval stored as the input dtype stores it (np.pad), -1 -> 255 for uint8
            coeffs, _ = prefiltered(a, 4, mode, -1.0)
            expected, _ = scipy_prefiltered(a, 4, mode, -1.0)
            assert_matches_scipy(coeffs, expected, context=f"{a.dtype} {mode}")


def test_prefiltered_low_orders_are_the_input_as_float64(rng):
    a = rng.random((4, 5)).astype(np.float32)
    for order in (0, 1):
        coeffs, npad = prefiltered(a, order, "nearest", 3.0)
        assert npad == 0 and coeffs.dtype == np.float64
        assert_matches_scipy(coeffs, a.astype(np.float64))


# -- the public drop-ins: fastaug.spline_filter, fastaug.spline_filter1d --------------------


def test_filter_signatures_are_scipys():
    import fastaug

    for name in ("spline_filter", "spline_filter1d"):
        assert call_signature(getattr(fastaug, name)) == call_signature(getattr(ndi, name))


@pytest.mark.parametrize("shape", [(9,), (1,), (6, 7), (40, 64), (3, 4, 5), (2, 3, 1, 4)], ids=str)
@pytest.mark.parametrize("mode", MODES)
def test_spline_filter_matches_scipy(shape, mode, rng):
    import fastaug

    for dtype in (np.uint8, np.int16, np.float32, np.float64):
        a = (rng.random(shape) * 200 - 20).astype(dtype)
        for order in range(2, 6):
            if filter_is_version_dependent("reflect" if mode == "nearest" else mode, order, shape):
                continue
            assert_matches_scipy(
                fastaug.spline_filter(a, order, mode=mode),
                ndi.spline_filter(a, order, mode=mode),
                context=f"{dtype.__name__} order {order}",
            )
        for axis in range(-len(shape), len(shape)):
            for order in range(6):
                if filter_is_version_dependent(
                    "reflect" if mode == "nearest" else mode, order, (shape[axis],)
                ):
                    continue
                assert_matches_scipy(
                    fastaug.spline_filter1d(a, order, axis, mode=mode),
                    ndi.spline_filter1d(a, order, axis, mode=mode),
                    context=f"{dtype.__name__} order {order} axis {axis}",
                )


@pytest.mark.parametrize(
    "out_dtype",
    [np.float32, np.uint8, np.int8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.bool_],
)
def test_spline_filter_stores_each_pass_in_the_output_dtype(out_dtype, rng):
    # Integer outputs truncate (and wrap out of range) after every pass, as C's cast does.
    import fastaug

    a = rng.random((30, 31, 3)) * 2000 - 900
    a[0, 0, 0] = 256.2  # bool: C's unsigned char conversion gives False
    for order in (2, 3, 5):
        assert_matches_scipy(
            fastaug.spline_filter(a, order, output=out_dtype),
            ndi.spline_filter(a, order, output=out_dtype),
            context=f"order {order}",
        )
        assert_matches_scipy(
            fastaug.spline_filter1d(a, order, 0, output=out_dtype),
            ndi.spline_filter1d(a, order, 0, output=out_dtype),
            context=f"1d order {order}",
        )


def test_spline_filter_output_arrays_in_place_and_layouts(rng):
    import fastaug

    a = rng.random((24, 30)) * 100
    for src in (np.asfortranarray(a), a[:, ::-1], a.astype(">f4"), a.astype(np.int16)):
        src.setflags(write=False)
        for out in (np.zeros((24, 30)), np.zeros((24, 30), order="F"), np.zeros((24, 30), ">f8")):
            expected = ndi.spline_filter(src, 3, output=out.copy())
            result = fastaug.spline_filter(src, 3, output=out)
            assert result is out
            assert_matches_scipy(result, expected)
    inplace = a.copy()
    assert fastaug.spline_filter1d(inplace, 4, 0, output=inplace) is inplace
    assert_matches_scipy(inplace, ndi.spline_filter1d(a, 4, 0))
    inplace = a.copy()
    fastaug.spline_filter(inplace, 5, output=inplace, mode="grid-wrap")
    assert_matches_scipy(inplace, ndi.spline_filter(a, 5, mode="grid-wrap"))


def test_spline_filter_complex_and_copies(rng):
    import fastaug

    z = (rng.random((23, 22)) + 1j * rng.random((23, 22))).astype(np.complex128)
    out = np.zeros(z.shape, complex)
    assert_matches_scipy(
        fastaug.spline_filter(z, 3, output=out), ndi.spline_filter(z, 3, output=out.copy())
    )
    # The default output (float64) is promoted, with SciPy's warning.
    with pytest.warns(UserWarning, match="promoting"):
        result = fastaug.spline_filter1d(z, 4, 0)
    with pytest.warns(UserWarning, match="promoting"):
        expected = ndi.spline_filter1d(z, 4, 0)
    assert_matches_scipy(result, expected)
    with pytest.warns(UserWarning, match="promoting"):
        result = fastaug.spline_filter(z.astype(np.complex64), 3, output=np.float32)
    with pytest.warns(UserWarning, match="promoting"):
        expected = ndi.spline_filter(z.astype(np.complex64), 3, output=np.float32)
    assert_matches_scipy(result, expected)
    # Orders 0 and 1 copy, with NumPy's casts, even float16 and a bad mode (SciPy's checks
    # come after); a 0-D input is copied by spline_filter.
    h = rng.random((3, 4)).astype(np.float16)
    for order in (0, 1, 1.0, True):
        assert_matches_scipy(
            fastaug.spline_filter1d(h, order, output=np.float16, mode="nope"),
            ndi.spline_filter1d(h, order, output=np.float16, mode="nope"),
        )
    assert_matches_scipy(fastaug.spline_filter(np.array(2.5), 3), ndi.spline_filter(np.array(2.5)))


BAD_FILTER_CALLS = {
    "order 6": ("spline_filter1d", (np.ones(4), 6), {}),
    "order -1": ("spline_filter1d", (np.ones(4), -1), {}),
    "order 1 (spline_filter)": ("spline_filter", (np.ones(4), 1), {}),
    "order 2.5": ("spline_filter", (np.ones(4), 2.5), {}),
    "order 3.0": ("spline_filter1d", (np.ones(4), 3.0), {}),
    "order str": ("spline_filter1d", (np.ones(4), "3"), {}),
    "mode": ("spline_filter", (np.ones(4),), {"mode": "wrapped"}),
    "axis out of range": ("spline_filter1d", (np.ones((2, 3)),), {"axis": 2}),
    "axis float": ("spline_filter1d", (np.ones((2, 3)),), {"axis": 1.0}),
    "0-D spline_filter1d": ("spline_filter1d", (np.array(1.0),), {}),
    "float16 input": ("spline_filter", (np.ones(4, np.float16),), {}),
    "float16 output": ("spline_filter", (np.ones(4),), {"output": np.float16}),
    "object input": ("spline_filter", (np.array([1, None]),), {}),
    "complex output, real input": ("spline_filter", (np.ones(4),), {"output": np.complex128}),
    "output shape": ("spline_filter", (np.ones(4),), {"output": np.zeros(5)}),
    "output list": ("spline_filter", (np.ones(4),), {"output": [1.0]}),
    "output 'f8' for complex": ("spline_filter", (np.ones(4, complex),), {"output": "f8"}),
    "output 'bool' name": ("spline_filter", (np.ones(4),), {"output": "bool"}),
}


@pytest.mark.parametrize("case", BAD_FILTER_CALLS)
def test_bad_filter_arguments_raise_scipys_exception_class(case):
    import fastaug

    name, args, kwargs = BAD_FILTER_CALLS[case]
    with pytest.raises(Exception) as scipy_error:
        getattr(ndi, name)(*args, **kwargs)
    with pytest.raises(scipy_error.type):
        getattr(fastaug, name)(*args, **kwargs)


def test_read_only_output_is_refused():
    import fastaug

    out = np.zeros(4)
    out.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        fastaug.spline_filter(np.ones(4), output=out)
