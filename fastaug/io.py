"""Output files written atomically: a temporary file in the target folder, renamed at the end.

An interrupted or failed write (Ctrl-C, a full disk, an exception) removes its temporary
files and leaves any existing output untouched; nothing half-written ever carries the
final name.
"""
import contextlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np


class OutputError(OSError):
    """The output could not be written (exists, unwritable folder, disk full...)."""


@contextlib.contextmanager
def atomic_path(target, force=False):
    """Yield a temporary path beside ``target``; on success fsync and rename it to ``target``."""
    target = Path(target)
    if target.exists() and not force:
        raise OutputError(f"{target} exists; pass --force (force=True) to overwrite it")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"output folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(f"cannot write in {folder}: {exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual mode
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(f"writing {target} failed: {exc.strerror or exc}; nothing was "
                          "written") from exc
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_paths(targets, force=False):
    """Several files that appear together or not at all."""
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(atomic_path(t, force)) for t in targets]


def write_npz(path, arrays):
    """Uncompressed ``.npz`` (readable by ``np.load``), streamed array by array."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, arr in arrays.items():
            with zf.open(f"{name}.npy", "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.asanyarray(arr), allow_pickle=False)


def meta_array(meta):
    """JSON metadata stored as a 0-d string array (no pickle needed to read it)."""
    return np.array(json.dumps(meta, sort_keys=True))


def read_meta(value):
    return json.loads(str(value[()] if isinstance(value, np.ndarray) else value))
