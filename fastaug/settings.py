"""fastaug's settings from the environment: the one module that reads it.

Read once, when this module is imported, since they shape the whole process:

* ``FASTAUG_JIT_CACHE=0``: no disk cache of compiled kernels (:data:`JIT_CACHE`).
* ``FASTAUG_CACHE_DIR``: where that cache goes (:data:`KERNEL_CACHE`); default the user
  cache below.
* ``FASTAUG_FORCE_SLOW_PATH=1``: the benchmark regression guard's self-test switch
  (:data:`FORCE_SLOW_PATH`).

Read at each use, on paths that run once per job (finding a dataset), so that a program or
a test may set them at any time:

* ``FASTAUG_DATA``: a folder holding datasets (:func:`data_folder`).
* ``XDG_CACHE_HOME``: the user cache, ``$XDG_CACHE_HOME/fastaug`` or ``~/.cache/fastaug``
  (:func:`user_cache`), where datasets are downloaded.

No hot path reads the environment. This is a leaf (the standard library only, no fastaug
import): the kernels' JIT policy (``fastaug/kernels/_jit.py``) takes its settings from here
without depending on the rest of the library.
"""

import os
from pathlib import Path


def user_cache() -> Path:
    """``$XDG_CACHE_HOME/fastaug``, by default ``~/.cache/fastaug``."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "fastaug"


def data_folder() -> str | None:
    """``FASTAUG_DATA``: a folder with the IDX files, or ``<dataset>/`` folders; None if unset."""
    return os.environ.get("FASTAUG_DATA") or None


#: Compiled kernels are kept on disk (``FASTAUG_JIT_CACHE=0``: not).
JIT_CACHE: bool = os.environ.get("FASTAUG_JIT_CACHE", "1") != "0"

#: The folder for the kernel cache's ``numba-<digest>`` folders.
KERNEL_CACHE: Path = Path(os.environ.get("FASTAUG_CACHE_DIR") or user_cache())

#: ``FASTAUG_FORCE_SLOW_PATH=1``: only for the benchmark regression guard's self-test (one
#: image per tile, no single-image path: same results, far slower), to show that it trips.
FORCE_SLOW_PATH: bool = os.environ.get("FASTAUG_FORCE_SLOW_PATH") == "1"
