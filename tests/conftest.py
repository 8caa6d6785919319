import numpy as np
import pytest
import scipy

MODES = [
    "constant",
    "grid-constant",
    "nearest",
    "reflect",
    "grid-mirror",
    "mirror",
    "wrap",
    "grid-wrap",
]

SCIPY_VERSION = tuple(int(p) for p in scipy.__version__.split(".")[:2])


def scipy_reflect_is_buggy(mode, order, plane_shape, prefilter=True):
    """SciPy < 1.18 mis-initialises the reflect prefilter on axes shorter than 21 samples;
    fastaug implements the fixed (1.18) maths, so such cases are not compared with 1.17."""
    return (
        SCIPY_VERSION < (1, 18)
        and mode in ("reflect", "grid-mirror")
        and prefilter
        and order >= 2
        and min(plane_shape) < 21
    )


@pytest.fixture(autouse=True)
def _own_folder(tmp_path, monkeypatch):
    """Every test runs in its own empty folder: what the README's main command (or another
    test) left in the current folder cannot change a result, and nothing is left there."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def mnist_dir():
    """Real MNIST, found the way users find it: FASTAUG_DATA, then the user cache."""
    from fastaug import datasets

    try:
        return datasets.locate("mnist", download=False)
    except datasets.DatasetNotFound as exc:
        pytest.skip(f"real MNIST not available (set FASTAUG_DATA): {exc}")
