"""fastaug: exact, fast batch image augmentation (SciPy-exact rotation on Numba kernels)."""
from ._validation import ArgumentError
from .ndimage import rotate
from .plan import RotationPlan

__version__ = "0.1.0"

__all__ = ["ArgumentError", "RotationPlan", "rotate", "__version__"]
