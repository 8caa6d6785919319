"""The one JIT policy every kernel uses.

* ``cache``: compiled machine code is kept on disk so a second process skips compilation
  (``FASTAUG_JIT_CACHE=0`` turns it off). The cache folder is named by a digest of all kernel
  sources: Numba checks only the timestamp of the file holding each function, so code that
  inlined a helper from another kernel module could otherwise be reused after that helper
  changed. Folder: ``$FASTAUG_CACHE_DIR`` or ``$XDG_CACHE_HOME/fastaug`` (``~/.cache/fastaug``),
  then ``numba-<digest>``. These two settings come from :mod:`fastaug.settings`, the one
  reader of the environment and a leaf (standard library only), so the kernels still depend
  on nothing else in fastaug.
* ``fastmath``: a named, empty set. Exactness against SciPy needs IEEE semantics: no
  reassociation and no FMA contraction, which any fast-math flag would allow.
* ``error_model="numpy"``: a float division by zero gives inf or NaN as in C (SciPy's code)
  instead of raising, so kernels carry no exception paths for it.
* no ``parallel``: kernels are serial and release the GIL (``nogil``); fastaug runs them on
  its own threads (:mod:`fastaug._parallel`). A Numba ``prange`` kernel costs seconds more to
  compile, and Numba's ``workqueue`` threading layer aborts when two Python threads launch
  one at the same time.
* ``inline="always"`` only for scalar helpers called per pixel (``per_pixel=True``): Numba
  optimises each function before linking its callees, so LLVM does not inline them and each
  call stays a call (measured: the per-sample rotation ran 2-4x slower). Everywhere else
  IR-level inlining only multiplies compile work, except for a function split out only to
  be shared with the CUDA target (``inline=True``, e.g. ``prefilter.filter_line``): each
  compiled function costs about 0.3 s on first use, inlined it costs what it did before.
"""

import hashlib
import os
import sys
from pathlib import Path

import numba

from .. import settings

#: Fast-math flags allowed in kernels: none, because results must match SciPy bit for bit.
EXACT_FASTMATH = frozenset()

CACHE = settings.JIT_CACHE


def _cache_dir():
    sources = sorted(Path(__file__).parent.glob("*.py"))
    digest = hashlib.sha256()
    for path in sources:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    digest.update(f"{numba.__version__} {sys.version_info[:2]}".encode())
    return os.path.join(settings.KERNEL_CACHE, f"numba-{digest.hexdigest()[:16]}")


CACHE_DIR = _cache_dir() if CACHE else None


def jit(func=None, *, per_pixel=False, inline=False):
    """``numba.njit`` with fastaug's policy: cached, no fast-math, GIL released, serial;
    ``per_pixel``: a small scalar helper inlined where it is called; ``inline``: inlined too,
    a part shared with the CUDA target (see above)."""
    options = dict(
        cache=CACHE,
        fastmath=set(EXACT_FASTMATH),
        nogil=True,
        error_model="numpy",
        inline="always" if per_pixel or inline else "never",
    )

    def wrap(f):
        # Numba picks a function's cache folder when it is decorated: point it at ours for
        # that moment only, leaving other libraries' caching as configured.
        saved = numba.config.CACHE_DIR
        numba.config.CACHE_DIR = CACHE_DIR or saved
        try:
            return numba.njit(**options)(f)
        finally:
            numba.config.CACHE_DIR = saved

    return wrap(func) if func is not None else wrap
