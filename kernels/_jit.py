"""The one JIT policy every kernel uses.

* ``cache``: compiled machine code is kept on disk (``__pycache__`` beside the sources, or
  ``NUMBA_CACHE_DIR``) so a second process skips compilation. ``FASTAUG_JIT_CACHE=0`` turns
  it off.
* ``fastmath``: a named, empty set. Exactness against SciPy needs IEEE semantics: no
  reassociation and no FMA contraction, which any fast-math flag would allow.
* ``parallel``: per kernel, ``prange`` over independent work only.
"""
import os

import numba

#: Fast-math flags allowed in kernels: none, because results must match SciPy bit for bit.
EXACT_FASTMATH = frozenset()

CACHE = os.environ.get("FASTAUG_JIT_CACHE", "1") != "0"


def jit(func=None, *, parallel=False):
    """``numba.njit`` with fastaug's policy (cache, no fast-math); ``parallel`` per kernel."""
    options = dict(cache=CACHE, fastmath=set(EXACT_FASTMATH), parallel=parallel, nogil=True)

    def wrap(f):
        return numba.njit(**options)(f)

    return wrap(func) if func is not None else wrap
