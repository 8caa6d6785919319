"""fastaug: exact, fast batch image augmentation (SciPy-exact rotation on Numba kernels)."""

from ._compiling import compile_notice
from ._parallel import get_num_threads, set_num_threads
from ._validation import ArgumentError
from .functional import affine_each, augment, augment_data, rotate_each
from .ndimage import (
    affine_transform,
    map_coordinates,
    rotate,
    shift,
    spline_filter,
    spline_filter1d,
    zoom,
)
from .plan import RotationPlan

__version__ = "0.1.0"


def __getattr__(name):
    # The training-side modules load on first use: the command line's start-up stays small
    # (they bring in SciPy's filters).
    if name in ("presets", "transforms"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    if name == "Loader":
        from .loader import Loader

        return Loader
    raise AttributeError(f"module 'fastaug' has no attribute {name!r}")


__all__ = [
    "ArgumentError",
    "Loader",
    "RotationPlan",
    "affine_each",
    "affine_transform",
    "augment",
    "augment_data",
    "compile_notice",
    "get_num_threads",
    "map_coordinates",
    "presets",
    "rotate",
    "rotate_each",
    "set_num_threads",
    "shift",
    "spline_filter",
    "spline_filter1d",
    "transforms",
    "zoom",
    "__version__",
]
