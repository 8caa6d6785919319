"""fastaug: exact, fast batch image augmentation (SciPy-exact rotation on Numba kernels).

The public names load on first use (PEP 562): ``import fastaug`` costs nothing, so the
command line answers ``--help`` or a usage error without loading NumPy and Numba (about
0.3 s), and ``fastaug.<name>`` or ``from fastaug import <name>`` imports what it needs.
"""

import importlib
import typing

if typing.TYPE_CHECKING:  # what __getattr__ loads, for type checkers
    from . import presets, transforms
    from ._compiling import compile_notice
    from ._parallel import get_num_threads, set_num_threads
    from ._validation import ArgumentError
    from .functional import affine_each, augment, augment_data, rotate_each
    from .loader import Loader
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

#: Each public name and the module that defines it (a module itself where the name is one).
_PUBLIC = {
    "ArgumentError": "._validation",
    "Loader": ".loader",
    "RotationPlan": ".plan",
    "affine_each": ".functional",
    "affine_transform": ".ndimage",
    "augment": ".functional",
    "augment_data": ".functional",
    "compile_notice": "._compiling",
    "get_num_threads": "._parallel",
    "map_coordinates": ".ndimage",
    "presets": ".presets",
    "rotate": ".ndimage",
    "rotate_each": ".functional",
    "set_num_threads": "._parallel",
    "shift": ".ndimage",
    "spline_filter": ".ndimage",
    "spline_filter1d": ".ndimage",
    "transforms": ".transforms",
    "zoom": ".ndimage",
}


def __getattr__(name):
    where = _PUBLIC.get(name)
    if where is None:
        # A submodule (``fastaug.ndimage.zoom`` after ``import fastaug``), as when the
        # package imported them all.
        try:
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":
                raise
        raise AttributeError(f"module 'fastaug' has no attribute {name!r}")
    # The compile notice listens before any kernel can load (fastaug._compiling).
    importlib.import_module("._compiling", __name__)
    module = importlib.import_module(where, __name__)
    value = module if where == f".{name}" else getattr(module, name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__():
    return sorted(set(globals()) | set(_PUBLIC))


__all__ = [*sorted(_PUBLIC), "__version__"]
