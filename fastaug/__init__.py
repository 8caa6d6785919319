"""fastaug: exact, fast batch image augmentation (SciPy-exact rotation on Numba kernels)."""

from ._compiling import compile_notice
from ._parallel import get_num_threads, set_num_threads
from ._validation import ArgumentError
from .functional import affine_each, augment, augment_data, rotate_each
from .ndimage import rotate
from .plan import RotationPlan

__version__ = "0.1.0"

__all__ = [
    "ArgumentError",
    "RotationPlan",
    "affine_each",
    "augment",
    "augment_data",
    "compile_notice",
    "get_num_threads",
    "rotate",
    "rotate_each",
    "set_num_threads",
    "__version__",
]
