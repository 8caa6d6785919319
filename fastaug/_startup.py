"""What the ``fastaug`` command does to its own process, and why (:func:`fastaug.cli.console`).

A command's process runs one job and exits, so it can skip work a library inside someone
else's program must not: these measures are taken by the command only, never on import.

* :func:`before_command` (once the arguments are parsed, so ``--help`` stays quick):
  :func:`preload_blas_bindings`, which keeps ``scipy.linalg`` out of the first kernel's
  load (0.07-0.1 s on the job's critical path).
* :func:`before_exit`: ``gc.freeze()``, which spares the interpreter's final garbage
  collection (about 0.2 s walking Numba's objects).
"""

import gc
import importlib.machinery
import importlib.util
import os
import sys

#: The module Numba imports to look for a BLAS when its first kernel loads (see
#: :func:`preload_blas_bindings`).
BLAS_BINDINGS = "scipy.linalg.cython_blas"


def before_command():
    """Start-up measures for a command about to run."""
    preload_blas_bindings()


def before_exit():
    """Exit without the interpreter's final garbage collection, which spends about 0.2 s
    walking Numba's objects: nothing left needs it (outputs are closed and renamed by then,
    and objects still alive at exit are not collected anyway; their memory goes with the
    process)."""
    gc.freeze()


def preload_blas_bindings():
    """Import :data:`BLAS_BINDINGS` on its own, without running the ``scipy.linalg`` package.

    Why: loading the first kernel makes Numba check for a BLAS with ``import
    scipy.linalg.cython_blas``, which first imports all of ``scipy.linalg`` (and through
    it SciPy's array-API layer, which imports every NumPy submodule, ``numpy.f2py``
    included): 0.07-0.1 s holding the GIL on the job's critical path, for one extension
    module that needs only NumPy. Once that module is in ``sys.modules`` under its full
    name, Numba's import and the C-level imports of Numba and SciPy find it directly.

    Nothing is lost: a later ``import scipy.linalg`` runs the package as usual, and
    ``from scipy.linalg import cython_blas`` gives this same module (only the attribute
    ``scipy.linalg.cython_blas`` stays unset). Where the module cannot be found or loaded
    this way, nothing changes and the usual import happens.
    """
    if BLAS_BINDINGS in sys.modules or "scipy.linalg" in sys.modules:
        return
    package = importlib.util.find_spec("scipy")  # a top-level name: nothing is imported
    if package is None or not package.submodule_search_locations:
        return
    extension = (importlib.machinery.ExtensionFileLoader, importlib.machinery.EXTENSION_SUFFIXES)
    for folder in package.submodule_search_locations:
        linalg = os.path.join(folder, "linalg")
        spec = importlib.machinery.FileFinder(linalg, extension).find_spec(BLAS_BINDINGS)
        if spec is not None:
            break
    else:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules[BLAS_BINDINGS] = module
    try:
        spec.loader.exec_module(module)
    except ImportError:
        del sys.modules[BLAS_BINDINGS]
