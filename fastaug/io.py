"""Output files written atomically: a temporary file in the target folder, renamed at the end.

An interrupted or failed write (Ctrl-C, a full disk, an exception) removes its temporary
files and leaves any existing output untouched; nothing half-written ever carries the
final name.
"""

import contextlib
import errno
import fcntl
import glob
import io
import json
import mmap
import os
import secrets
import zipfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np


class OutputError(OSError):
    """The output could not be written (exists, unwritable folder, disk full...)."""


@contextlib.contextmanager
def atomic_path(target, force=False):
    """Yield a temporary path beside ``target``; on success fsync and rename it to ``target``.

    The temporary file is locked (``flock``) while it is written, so a writer killed with
    SIGKILL leaves one whose lock no longer holds: the next write of ``target`` removes it.
    """
    target = Path(target)
    remove_stale_temporaries(target)
    refuse_existing(target, force)
    check_folder(target.parent)
    fd, tmp = _locked_temporary(target, target.parent)
    try:
        yield tmp
        os.fsync(fd)
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(
            f"writing {target} failed: {exc.strerror or exc}; nothing was written"
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)
        os.close(fd)
        _OWN_TEMPORARIES.discard(tmp)


def refuse_existing(target, force):
    """Refuse to replace ``target`` unless ``force``: the one place that says so."""
    if Path(target).exists() and not force:
        raise OutputError(f"{target} exists; pass --force (force=True) to overwrite it")


def check_folder(folder):
    """Refuse an output folder that does not exist (before anything is computed for it)."""
    if not Path(folder).is_dir():
        raise OutputError(f"output folder {folder} does not exist")


#: This process's temporary files, each registered before it exists and dropped once it is
#: renamed or removed: an interruption landing anywhere between (even inside the creation)
#: leaves nothing that :func:`remove_own_temporaries` does not find.
_OWN_TEMPORARIES = set()


def _locked_temporary(target, folder):
    """``(fd, path)``: a new temporary file for ``target``, locked through ``fd``."""
    umask = os.umask(0)
    os.umask(umask)
    while True:
        tmp = Path(folder) / f".{target.name}.{secrets.token_hex(6)}.tmp"
        _OWN_TEMPORARIES.add(tmp)
        try:
            fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            _OWN_TEMPORARIES.discard(tmp)
            continue
        except OSError as exc:
            _OWN_TEMPORARIES.discard(tmp)
            raise OutputError(f"cannot write in {folder}: {exc.strerror or exc}") from None
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_nlink:
            break
        os.close(fd)  # swept as stale between its creation and its lock: make another
        _OWN_TEMPORARIES.discard(tmp)
    os.chmod(tmp, 0o666 & ~umask)  # created 0600, as mkstemp does; give it the usual mode
    return fd, tmp


def remove_own_temporaries():
    """Remove every temporary file this process made and has not renamed into place (after
    an interruption: a signal may land between a file's creation and its ``try``)."""
    for tmp in list(_OWN_TEMPORARIES):
        tmp.unlink(missing_ok=True)
        _OWN_TEMPORARIES.discard(tmp)


def remove_stale_temporaries(target):
    """Remove the temporary files of ``target`` (see :func:`atomic_path`) whose writer is
    gone: a live writer holds its file's lock, and the kernel drops it when the writer
    dies, however it dies."""
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    for tmp in folder.glob(f".{glob.escape(target.name)}.*.tmp"):
        try:
            fd = os.open(tmp, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue  # gone meanwhile, or not ours to read
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if _same_file(fd, tmp):  # not renamed into place by its writer meanwhile
                tmp.unlink(missing_ok=True)
        except OSError:
            pass  # locked: its writer is alive
        finally:
            os.close(fd)


def _same_file(fd, path):
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except OSError:
        return False


@contextlib.contextmanager
def output_lock(target):
    """Hold ``<target>.lock`` exclusively while a job writes ``target``: a second writer
    of the same output refuses at once instead of racing the first. The lock dies with
    its process (``flock``); the file is removed on exit and harmless if left behind."""
    lock = Path(f"{target}.lock")
    check_folder(lock.parent)
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError as exc:
            raise OutputError(f"cannot write in {lock.parent}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            os.close(fd)
            by = f" (process {holder})" if holder.isdigit() else ""
            raise OutputError(
                f"{target} is being written by another fastaug job{by}; wait for it to "
                "finish or choose another --out"
            ) from None
        if _same_file(fd, lock):
            break
        os.close(fd)  # its last holder removed it after we opened it: lock the new one
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield lock
    finally:
        lock.unlink(missing_ok=True)  # while still locked (see the check above)
        os.close(fd)


def refuse_inputs_as_outputs(outputs, inputs):
    """Refuse a job whose outputs (files or Zarr directories it writes or replaces) would
    be one of its ``inputs`` or inside one, or would contain one, whatever ``--force``
    says: the input would be destroyed before or while it is read."""
    written = [Path(p).resolve() for p in outputs]
    for source in inputs:
        if source is None:
            continue
        read = Path(source).resolve()
        for out, given in zip(written, outputs):
            if out == read or out in read.parents or read in out.parents or _samefile(out, read):
                raise OutputError(
                    f"{given} would replace the input {source} (whatever --force says); "
                    "choose another --out"
                )


def _samefile(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_free_space(folder, needed):
    """Refuse to start a job whose output (``needed`` bytes) cannot fit in ``folder``'s
    file system. A pseudo file system (size 0, like /proc) is left to fail when written."""
    import shutil

    usage = shutil.disk_usage(folder)
    if usage.total and usage.free < needed:
        raise OutputError(
            f"not enough disk space in {folder}: the output needs {needed / 1e6:,.0f} MB, "
            f"{usage.free / 1e6:,.0f} MB free"
        )


def save_figure(fig, path):
    """A matplotlib figure as a PNG at ``path``, written atomically; the figure is closed."""
    import matplotlib.pyplot as plt

    with atomic_path(path, force=True) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


@contextlib.contextmanager
def atomic_paths(targets, force=False):
    """Several files that appear together or not at all."""
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(atomic_path(t, force)) for t in targets]


@dataclass(frozen=True)
class StreamedArray:
    """An array written as it is computed: ``blocks`` yields C-ordered blocks of whole rows
    (along axis 0) that together make ``shape``, so it is never all in memory at once.

    Each block is written while the next one is computed, so a block must stay unchanged
    until the one after the next is drawn (two buffers used in turn are enough)."""

    shape: tuple
    dtype: np.dtype
    blocks: Iterable

    @property
    def nbytes(self):
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize


def write_array(fh, arr):
    """One ``.npy`` payload (header + data) to the binary stream ``fh``."""
    if not isinstance(arr, StreamedArray):
        np.lib.format.write_array(fh, np.asanyarray(arr), allow_pickle=False)
        return
    dtype = np.dtype(arr.dtype)
    np.lib.format.write_array_header_1_0(
        fh,
        dict(
            descr=np.lib.format.dtype_to_descr(dtype), fortran_order=False, shape=tuple(arr.shape)
        ),
    )
    row_bytes = dtype.itemsize * int(np.prod(arr.shape[1:], dtype=np.int64))
    expected = arr.shape[0] * row_bytes
    written = 0
    # One writer thread: the disk (and the zip CRC) works while the next block is computed.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fastaug-write") as writer:
        pending = None
        for block in arr.blocks:
            block = np.ascontiguousarray(block, dtype)
            if block.shape[1:] != tuple(arr.shape[1:]) or written + block.nbytes > expected:
                raise ValueError(
                    f"block of shape {block.shape} does not fit an array of "
                    f"shape {arr.shape} after {written // max(row_bytes, 1)} rows"
                )
            if pending is not None:
                pending.result()
            pending = writer.submit(_write_in_slices, fh, block)
            written += block.nbytes
        if pending is not None:
            pending.result()
    if written != expected:
        raise ValueError(
            f"blocks made {written // max(row_bytes, 1)} rows of an array of shape {arr.shape}"
        )


#: Bytes per write call of a streamed block. A zip member computes its CRC-32 over each
#: write before passing it on, so whole 38 MB blocks left the disk idle during each CRC;
#: in 4 MiB slices the CRC of one slice runs while the disk takes the last (564 MB of
#: float32 samples: 0.48-0.50 s instead of 0.57-0.73 s).
WRITE_SLICE = 4 << 20


def _write_in_slices(fh, block):
    data = memoryview(block.reshape(-1)).cast("B")
    for start in range(0, len(data), WRITE_SLICE):
        fh.write(data[start : start + WRITE_SLICE])


class SequentialFile(io.RawIOBase):
    """A new file written front to back, straight to the disk (``O_DIRECT``) where the file
    system allows it, by a background thread.

    Why: a large output written through the page cache needs as much fresh memory as the
    file is big, and on VMs that hand free memory back to the host (like the machines this
    project is measured on) each fresh page costs a host fault: about 265 MB/s against
    1.5 GB/s direct. Data is copied into two page-aligned staging buffers used in turn, so
    every direct write is aligned, as ``O_DIRECT`` requires, and one buffer fills while
    the other is on its way to the disk; the last partial block goes through the page
    cache. Where ``O_DIRECT`` is refused (some network or FUSE file systems) it is an
    ordinary file. Not seekable: :mod:`zipfile` then streams (data descriptors).
    """

    STAGE = 8 << 20  # a multiple of every block size O_DIRECT may ask for

    def __init__(self, path):
        super().__init__()
        direct = getattr(os, "O_DIRECT", 0)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
        try:
            self._fd = os.open(path, flags | direct, 0o666)
        except OSError as exc:
            if not direct or exc.errno != errno.EINVAL:
                raise
            direct = 0
            self._fd = os.open(path, flags, 0o666)
        self._direct = bool(direct)
        # Page-aligned memory (mmap), used through NumPy views: NumPy releases the GIL while
        # it copies into them (slice assignment to an mmap holds it), so the job's other
        # threads run meanwhile. The mmaps are kept only to free them at close.
        self._mmaps = [mmap.mmap(-1, self.STAGE) for _ in range(2)]
        self._stages = [np.frombuffer(m, np.uint8) for m in self._mmaps]
        self._fill = 0
        self._position = 0
        self._disk = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fastaug-disk")
        self._pending = None

    def writable(self):
        return True

    def tell(self):
        return self._position

    def write(self, data):
        view = memoryview(data).cast("B")
        size = len(view)
        while view:
            take = min(len(view), self.STAGE - self._fill)
            self._stages[0][self._fill : self._fill + take] = np.frombuffer(view[:take], np.uint8)
            self._fill += take
            view = view[take:]
            if self._fill == self.STAGE:
                self._send_stage()
        self._position += size
        return size

    def _send_stage(self):
        """Hand the full stage to the disk thread and continue in the other one."""
        self._wait()
        self._pending = self._disk.submit(self._write_all, self._stages[0], self._fill)
        self._stages.reverse()
        self._fill = 0

    def _wait(self):
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def _write_all(self, stage, length):
        if length % mmap.PAGESIZE:
            self._buffered()  # the last partial block
        done = 0
        with memoryview(stage) as data:
            while done < length:
                try:
                    done += os.write(self._fd, data[done:length])
                except OSError as exc:
                    if exc.errno != errno.EINVAL or not self._direct:
                        raise
                    self._buffered()  # accepted at open, refused at write: write it buffered

    def _buffered(self):
        if self._direct:
            fcntl.fcntl(
                self._fd, fcntl.F_SETFL, fcntl.fcntl(self._fd, fcntl.F_GETFL) & ~os.O_DIRECT
            )
            self._direct = False

    def flush(self):
        """Data is written as the staging buffers fill, and at ``close``."""

    def close(self):
        """Write what is staged and close (on an exception the file is left unfinished)."""
        if self.closed:
            return
        try:
            self._wait()
            if self._fill:
                self._write_all(self._stages[0], self._fill)
        finally:
            self._abandon()

    def _abandon(self):
        if not self.closed:
            self._disk.shutdown(wait=True)
            os.close(self._fd)
            self._stages = []  # NumPy's views keep an mmap from closing
            for memory in self._mmaps:
                try:
                    memory.close()
                except BufferError:
                    pass  # a failed write's traceback still views it; freed with that
            super().close()

    def __exit__(self, kind, value, traceback):
        if kind is None:
            self.close()
        else:
            self._abandon()


def write_npz(path, arrays):
    """Uncompressed ``.npz`` (readable by ``np.load``), streamed array by array; values are
    arrays or :class:`StreamedArray`."""
    with (
        SequentialFile(path) as fh,
        zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf,
    ):
        for name, arr in arrays.items():
            with zf.open(zip_member(f"{name}.npy"), "w", force_zip64=True) as member:
                write_array(member, arr)


#: The time stamp of every ``.npz`` member (the earliest a zip can hold): with it, the
#: same job writes the same bytes, whenever it runs and however often it was resumed.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def zip_member(name):
    """A stored (uncompressed) zip member ``name`` with fixed time stamp and permissions."""
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o600 << 16  # as ZipFile.open and numpy.savez give them
    return info


_NPY_HEADERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


def read_npy_header(fh, label):
    """``(shape, fortran_order, dtype)`` of the ``.npy`` payload at ``fh``'s position, which
    is left at the data; anything else is a one-line ``ValueError`` naming ``label``. A
    crafted header can declare any shape: negative dimensions (which NumPy's own reader
    accepts) are refused before any size is computed from them."""
    try:
        version = np.lib.format.read_magic(fh)
        if version not in _NPY_HEADERS:
            raise ValueError(f"format version {version} is not supported")
        shape, fortran, dtype = _NPY_HEADERS[version](fh)
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{label}: not a readable .npy ({exc})") from None
    if any(not isinstance(d, int) or d < 0 for d in shape):
        raise ValueError(f"{label}: not a readable .npy (its header declares shape {shape})")
    return tuple(shape), fortran, np.dtype(dtype)


def write_npy(path, arr):
    """A ``.npy`` file from an array or a :class:`StreamedArray`."""
    with SequentialFile(path) as fh:
        write_array(fh, arr)


def meta_array(meta):
    """JSON metadata stored as a 0-d string array (no pickle needed to read it)."""
    return np.array(json.dumps(meta, sort_keys=True))


def read_meta(value):
    return json.loads(str(value[()] if isinstance(value, np.ndarray) else value))
