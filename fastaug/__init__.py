"""fastaug: exact, fast batch image augmentation (SciPy-exact rotation on Numba kernels)."""
import numba as _numba

from ._validation import ArgumentError
from .functional import augment, augment_data, rotate_each
from .ndimage import rotate
from .plan import RotationPlan

__version__ = "0.1.0"

__all__ = ["ArgumentError", "RotationPlan", "augment", "augment_data", "get_num_threads",
           "rotate", "rotate_each", "set_num_threads", "__version__"]


def set_num_threads(n):
    """Use ``n`` threads in the parallel kernels (1 .. the number of CPUs Numba found)."""
    limit = _numba.config.NUMBA_NUM_THREADS
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= limit:
        raise ValueError(f"n must be an integer from 1 to {limit}; got {n!r}")
    _numba.set_num_threads(n)


def get_num_threads():
    """Threads the parallel kernels use."""
    return _numba.get_num_threads()
