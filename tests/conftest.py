import inspect

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


#: The largest pole (in magnitude) of each spline order's prefilter (SciPy's get_filter_poles).
_LARGEST_POLE = {2: 0.1716, 3: 0.2680, 4: 0.3614, 5: 0.4306}


def call_signature(function):
    """``function``'s parameters (names, kinds, defaults, order) without annotations: what a
    drop-in must share with SciPy's function; its type hints are its own."""
    sig = inspect.signature(function)
    bare = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()]
    return sig.replace(parameters=bare, return_annotation=inspect.Signature.empty)


def scipy_reflect_is_buggy(mode, order, plane_shape, prefilter=True):
    """SciPy < 1.18 mis-initialises the reflect prefilter (its causal initialisation reads
    c[0] after updating it): an error of about |z|^(2n - 1) for the largest pole z on an axis
    of n samples. fastaug implements the fixed (1.18) maths, so the cases where that error
    can reach a result's last bit (above 1e-19 relative) are not compared with older SciPy:
    axes under 13 samples for order 2, 18 for order 3, 22 for order 4, 27 for order 5."""
    if SCIPY_VERSION >= (1, 18) or mode not in ("reflect", "grid-mirror") or not prefilter:
        return False
    if order < 2:
        return False
    return _LARGEST_POLE[order] ** (2 * min(plane_shape) - 1) > 1e-19


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


#: Run before a subprocess test's script: an exception that escapes a thread (reported by
#: threading.excepthook) or is unraisable (sys.unraisablehook) is printed as usual and then
#: fails the process at exit. Python would exit 0 and the test would pass.
_FAIL_ON_STRAY_EXCEPTIONS = """
import atexit as _atexit, os as _os, sys as _sys, threading as _threading
_stray = []
def _thread_hook(args, _default=_threading.excepthook):
    _stray.append(f"thread {args.thread.name}: {args.exc_type.__name__}: {args.exc_value}")
    _default(args)
def _unraisable_hook(args, _default=_sys.unraisablehook):
    _stray.append(f"unraisable: {args.exc_type.__name__}: {args.exc_value}")
    _default(args)
def _fail_if_stray():  # atexit runs after non-daemon threads are joined
    if _stray:
        _sys.stdout.flush()
        print("STRAY EXCEPTIONS:", *_stray, sep="\\n  ", file=_sys.stderr, flush=True)
        _os._exit(3)
_threading.excepthook = _thread_hook
_sys.unraisablehook = _unraisable_hook
_atexit.register(_fail_if_stray)
"""


def run_under_workqueue(script, cwd, timeout=600):
    """``script`` in a fresh Python with Numba's ``workqueue`` threading layer forced (the
    layer is chosen once per process, and it aborts when two threads launch parallel
    kernels at once); returns its stdout, after checking it exited cleanly, with no
    exception escaping any of its threads."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_THREADING_LAYER="workqueue")
    done = subprocess.run(
        [sys.executable, "-c", _FAIL_ON_STRAY_EXCEPTIONS + script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout
