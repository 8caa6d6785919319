"""A stand-in for an array in GPU memory: host memory behind ``__cuda_array_interface__``.

Real GPU code cannot read it; numba-cuda's simulator (``NUMBA_ENABLE_CUDASIM=1``), whose
"device" memory is host memory, can. The dispatch tests need only the attribute.
"""

import numpy as np


class StandIn:
    """Exposes a NumPy array's memory as ``__cuda_array_interface__`` (version 3)."""

    def __init__(self, array):
        self.array = np.ascontiguousarray(array)

    @property
    def __cuda_array_interface__(self):
        a = self.array
        return {
            "shape": a.shape,
            "strides": None,
            "typestr": a.dtype.str,
            "data": (a.ctypes.data, False),
            "version": 3,
        }
