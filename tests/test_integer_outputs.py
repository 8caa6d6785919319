"""Integer outputs at the edges of their range, bit for bit with SciPy.

SciPy's ``CASE_INTERP_OUT_UINT`` / ``CASE_INTERP_OUT_INT`` round, clip to the type's
maximum *as a double* and convert; for the 64-bit types that maximum rounds up to 2**64 or
2**63, out of range, so what is stored there is the compiler's (undefined) conversion. These
tests take SciPy on this machine as the oracle for every integer output dtype, with values
just below, at and above each dtype's bounds, infinities, NaN and huge values, through the
point samplers, the cached plans (a repeated 2-D call) and the batch (lanes) stores.
"""

import warnings

import numpy as np
import pytest
import scipy.ndimage as ndi

import fastaug

INTEGER_DTYPES = [np.uint8, np.uint16, np.uint32, np.uint64, np.int8, np.int16, np.int32, np.int64]


def _edge_values():
    """Each integer dtype's bounds as doubles, and the doubles around them that rounding
    half away from zero and clipping tell apart, with infinities, NaN and huge values."""
    values = [0.0, 0.4, -0.4, 0.5, -0.5, 1e30, -1e30, np.inf, -np.inf, np.nan]
    for dtype in INTEGER_DTYPES:
        info = np.iinfo(dtype)
        for bound in (float(info.min), float(info.max)):
            for near in (bound - 1, bound - 0.6, bound - 0.5, bound, bound + 0.4, bound + 0.5):
                values += [near, np.nextafter(near, -np.inf), np.nextafter(near, np.inf)]
            values += [bound + 1, bound * 2]
    values = np.unique(np.array(values))  # one NaN
    # 13 columns: each value has other values beside it, so order 1 and the shifts mix them
    return np.resize(values, (-(-values.size // 13), 13))


def _integer_edges(dtype):
    info = np.iinfo(dtype)
    values = [info.min, info.min + 1, info.min + 1024, info.min + 1025, -1, 0, 1]
    values += [info.max - 1025, info.max - 1024, info.max - 1023, info.max - 1, info.max]
    values = [v for v in values if info.min <= v <= info.max]
    return np.resize(np.array(values, dtype), (4, 6))


def _inputs():
    edges = _edge_values()
    with np.errstate(over="ignore"):
        edges32 = edges.astype(np.float32)
    return {
        "float64": edges,
        "float32": edges32,
        "int64": _integer_edges(np.int64),
        "uint64": _integer_edges(np.uint64),
        "int32": _integer_edges(np.int32),
        "uint32": _integer_edges(np.uint32),
    }


INPUTS = _inputs()

# (name, call): each is run on fastaug and SciPy alike; affine_transform and rotate twice,
# since a repeated 2-D call runs on a cached plan (tap tables) instead of the point sampler.
CALLS = [
    ("shift 0", lambda m, a, o, dt: m.shift(a, 0, order=o, output=dt)),
    ("shift 0.5", lambda m, a, o, dt: m.shift(a, (0.5, -0.25), order=o, output=dt)),
    ("zoom", lambda m, a, o, dt: m.zoom(a, (1.5, 2), order=o, output=dt)),
    ("zoom down", lambda m, a, o, dt: m.zoom(a, 0.7, order=o, output=dt, mode="nearest")),
    (
        "zoom batch",
        lambda m, a, o, dt: m.zoom(
            np.stack([a, a[::-1], a[:, ::-1]]), (1, 1.5, 2), order=o, output=dt
        ),
    ),
    ("affine eye", lambda m, a, o, dt: m.affine_transform(a, np.eye(2), order=o, output=dt)),
    (
        "affine",
        lambda m, a, o, dt: m.affine_transform(
            a, np.array([[0.9, 0.2], [-0.1, 1.1]]), offset=(0.3, -0.2), order=o, output=dt
        ),
    ),
    ("rotate 0", lambda m, a, o, dt: m.rotate(a, 0, order=o, output=dt)),
    ("rotate 90", lambda m, a, o, dt: m.rotate(a, 90, order=o, output=dt)),
    ("rotate 17", lambda m, a, o, dt: m.rotate(a, 17, order=o, output=dt, mode="nearest")),
    (
        "rotate batch",
        lambda m, a, o, dt: m.rotate(
            np.stack([a, a[::-1], a[:, ::-1]]), 23, axes=(1, 2), reshape=False, order=o, output=dt
        ),
    ),
    (
        "map_coordinates",
        lambda m, a, o, dt: m.map_coordinates(
            a, np.indices(a.shape) + np.array([0.0, 0.5])[:, None, None], order=o, output=dt
        ),
    ),
    (
        "map_coordinates eye",
        lambda m, a, o, dt: m.map_coordinates(a, np.indices(a.shape), order=o, output=dt),
    ),
]


def _scipy(call, arr, order, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SciPy's own casts of NaN may warn; not compared
        return call(ndi, arr, order, dtype)


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("source", list(INPUTS))
@pytest.mark.parametrize("dtype", INTEGER_DTYPES, ids=lambda d: np.dtype(d).name)
def test_integer_outputs_match_scipy_at_their_bounds(dtype, source, order):
    arr = INPUTS[source]
    wrong_calls = []
    for name, call in CALLS:
        expected = _scipy(call, arr, order, dtype)
        repeats = 2 if name.startswith(("affine", "rotate")) else 1
        for attempt in range(repeats):
            result = call(fastaug, arr, order, dtype)
            assert result.dtype == expected.dtype
            wrong = result != expected
            if wrong.any():
                wrong_calls.append(
                    f"{name} (call {attempt + 1}): fastaug stored {result[wrong][:3]}, "
                    f"SciPy {expected[wrong][:3]}"
                )
    assert not wrong_calls, "\n".join(wrong_calls)


@pytest.mark.parametrize("dtype", [np.uint64, np.int64])
def test_repeated_single_image_calls_match_scipy(dtype):
    """rotate and affine_transform keep a repeated small 2-D call with its output dtype
    (from the input's) as a ready call: integer input at its edges, stored back."""
    arr = _integer_edges(dtype)
    for order in (0, 1):
        for _ in range(3):
            assert np.array_equal(
                fastaug.rotate(arr, 90, order=order), ndi.rotate(arr, 90, order=order)
            )
            assert np.array_equal(
                fastaug.affine_transform(arr, np.eye(2), order=order),
                ndi.affine_transform(arr, np.eye(2), order=order),
            )
