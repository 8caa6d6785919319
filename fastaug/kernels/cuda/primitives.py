"""CUDA implementations of :mod:`fastaug.kernels._math`'s primitives, and numba-cuda's
compatibility with the installed NumPy.

* ``mul``: libdevice's ``dmul_rn``, a product rounded on its own. NVVM contracts ``a * b +
  c`` into one FMA by default (without fast-math), which rounds once where SciPy's C rounds
  twice; ``dmul_rn`` is never contracted.
* ``floor``: libdevice's ``floor`` (numba-cuda has no scalar ``np.floor``).

Under numba-cuda's simulator (``NUMBA_ENABLE_CUDASIM=1``) kernels run as Python and call
the primitives' plain Python bodies, which are IEEE arithmetic without contraction: there is
nothing to register.
"""

import numpy as np

# numba-cuda 0.30 registers an implementation of np.row_stack, which NumPy 2.5 removed:
# without the name its compiler fails on every kernel. np.row_stack was np.vstack.
if not hasattr(np, "row_stack"):
    np.row_stack = np.vstack

from numba import config  # noqa: E402
from numba.extending import overload  # noqa: E402

from .. import _math  # noqa: E402

SIMULATED = bool(config.ENABLE_CUDASIM)

if not SIMULATED:
    from numba.cuda import libdevice

    @overload(_math.mul, target="cuda", inline="always")
    def _mul_cuda(a, b):
        return lambda a, b: libdevice.dmul_rn(float(a), float(b))

    @overload(_math.floor, target="cuda", inline="always")
    def _floor_cuda(x):
        return lambda x: libdevice.floor(x)
