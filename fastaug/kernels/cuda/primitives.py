"""The CUDA spelling of :mod:`fastaug.kernels._math`'s primitives, and numba-cuda's
compatibility with the installed NumPy.

* ``mul``: libdevice's ``dmul_rn``, a product rounded on its own. NVVM contracts ``a * b +
  c`` into one FMA by default (without fast-math), which rounds once where SciPy's C rounds
  twice; ``dmul_rn`` is never contracted.
* ``floor``: libdevice's ``floor`` (numba-cuda has no scalar ``np.floor``).

Under numba-cuda's simulator (``NUMBA_ENABLE_CUDASIM=1``) kernels run as Python: the
primitives are plain Python arithmetic there, IEEE without contraction.
"""

import math

import numpy as np

# numba-cuda 0.30 registers an implementation of np.row_stack, which NumPy 2.5 removed:
# without the name its compiler fails on every kernel. np.row_stack was np.vstack.
if not hasattr(np, "row_stack"):
    np.row_stack = np.vstack

from numba import config, cuda  # noqa: E402

SIMULATED = bool(config.ENABLE_CUDASIM)

if SIMULATED:

    def mul(a, b):
        return a * b

    def floor(x):
        return float(math.floor(x)) if math.isfinite(x) else x

else:
    from numba.cuda import libdevice

    @cuda.jit(device=True)
    def mul(a, b):
        return libdevice.dmul_rn(float(a), float(b))

    @cuda.jit(device=True)
    def floor(x):
        return libdevice.floor(x)
