"""Where a dataset job's images come from: an IDX dataset split (in memory), a ``.npy``, an
uncompressed ``.npz`` member, or a Zarr array (read chunk by chunk, also as a Dask array).

Every source has ``shape``, ``dtype``, ``label`` (its name in messages) and
``read(start, stop, out=None)``, the rows ``start .. stop``; file sources read into ``out``
with ``pread`` (not memory-mapped: mapped file pages count as the process's memory).
"""

import hashlib
import math
import os
import zipfile
from pathlib import Path

import numpy as np

from .. import io
from ..datasets import sha256


class InputError(ValueError):
    """An input that cannot be augmented (with what is wrong in one line)."""


class ArraySource:
    """Rows of an array already in memory (an IDX dataset split)."""

    in_memory = True

    def __init__(self, array, label):
        self.array, self.label = array, label
        self.shape, self.dtype = tuple(array.shape), array.dtype

    def read(self, start, stop, out=None):
        return self.array[start:stop]  # a view: nothing to copy


class NpyRegion:
    """An array stored raw in a file at ``offset`` (a ``.npy`` or an uncompressed ``.npz``
    member), read row range by row range with ``pread``."""

    in_memory = False

    def __init__(self, path, offset, shape, dtype, fortran, label):
        if fortran and len(shape) > 1:
            raise InputError(
                f"{label}: Fortran-ordered arrays are not supported; save it C-ordered"
            )
        self.path, self.offset, self.shape, self.dtype = path, offset, shape, dtype
        self.label = label
        size = os.path.getsize(path)
        needed = offset + math.prod(shape) * dtype.itemsize  # Python ints: no overflow
        if size < needed:
            raise InputError(f"{label}: truncated: {size} bytes, the header promises {needed}")

    def read(self, start, stop, out=None):
        row = int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize
        out = np.empty((stop - start,) + tuple(self.shape[1:]), self.dtype) if out is None else out
        view = memoryview(out.reshape(-1).view(np.uint8))
        with open(self.path, "rb", buffering=0) as fh:
            done = 0
            while done < len(view):
                got = os.preadv(fh.fileno(), [view[done:]], self.offset + start * row + done)
                if got <= 0:
                    raise InputError(f"{self.label}: ended early at row {start}")
                done += got
        return out

    def digest(self):
        return sha256(self.path)


def npy_region(path):
    """The array of a ``.npy`` file."""
    with open(path, "rb") as fh:
        shape, fortran, dtype = io.read_npy_header(fh, str(path))
        offset = fh.tell()
    return NpyRegion(path, offset, shape, dtype, fortran, str(path))


def npz_member(path, key):
    """Array ``key`` of the ``.npz`` at ``path``, which must be stored uncompressed."""
    label = f"{path}[{key}]"
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{path}: not a readable .npz ({exc})") from None
    with archive:
        names = [n[:-4] for n in archive.namelist() if n.endswith(".npy")]
        if key is None:
            raise InputError(f"{path}: pass --key, one of {', '.join(names)}")
        if key not in names:
            raise InputError(f"{path}: no array {key!r}; it has {', '.join(names)}")
        info = archive.getinfo(f"{key}.npy")
        if info.compress_type != zipfile.ZIP_STORED:
            raise InputError(
                f"{label}: compressed members cannot be read in parts; save with np.savez "
                "(not savez_compressed), or as .npy or Zarr"
            )
        with open(path, "rb") as fh:
            fh.seek(info.header_offset)
            local = fh.read(30)
            name_len, extra_len = (
                int.from_bytes(local[26:28], "little"),
                int.from_bytes(local[28:30], "little"),
            )
            fh.seek(info.header_offset + 30 + name_len + extra_len)
            shape, fortran, dtype = io.read_npy_header(fh, label)
            offset = fh.tell()
    return NpyRegion(path, offset, shape, dtype, fortran, label)


class ZarrSource:
    """A Zarr array read chunk range by chunk range; it pickles (by path) into Dask tasks."""

    in_memory = False

    def __init__(self, path):
        self.path, self.label = Path(path), str(path)
        array = self.array
        self.shape, self.dtype = tuple(array.shape), np.dtype(array.dtype)

    @property
    def array(self):
        if getattr(self, "_array", None) is None:
            try:
                import zarr
            except ImportError:
                raise InputError(
                    "reading Zarr needs the zarr extra: pip install 'fastaug[dask]'"
                ) from None
            try:
                self._array = zarr.open_array(str(self.path), mode="r")
            except Exception as exc:  # noqa: BLE001 - zarr raises many kinds; one line for all
                raise InputError(f"{self.path}: not a readable Zarr array ({exc})") from None
        return self._array

    def __getstate__(self):
        return dict(self.__dict__, _array=None)

    def read(self, start, stop, out=None):
        block = self.array[start:stop]
        if out is None:
            return block
        out[...] = block
        return out

    def digest(self):
        h = hashlib.sha256()
        for file in sorted(p for p in self.path.rglob("*") if p.is_file()):
            h.update(str(file.relative_to(self.path)).encode() + b"\0" + sha256(file).encode())
        return h.hexdigest()

    def to_dask(self):
        import dask.array as da

        return da.from_zarr(str(self.path))


def open_source(path, key=None):
    """The array at ``path``: ``.npy``, a ``.npz`` member (``key``) or a Zarr array."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.suffix == ".npy":
        return npy_region(path)
    if path.suffix == ".npz":
        return npz_member(path, key)
    if path.is_dir():
        return ZarrSource(path)
    raise InputError(f"{path}: expected a .npy, a .npz (with --key) or a Zarr directory")


def open_labels(path):
    """The labels at ``path``; of a ``.npz``, its ``labels`` array (as fastaug names them)."""
    return open_source(path, "labels" if Path(path).suffix == ".npz" else None)


def check_images(source):
    """Refuse a source that is not images (N, H, W) or (N, H, W, C) of a real dtype."""
    if len(source.shape) not in (3, 4) or source.dtype.kind not in "biuf":
        raise InputError(
            f"{source.label}: expected images (N, H, W) or (N, H, W, C) of a real dtype; got "
            f"shape {source.shape}, dtype {source.dtype}"
        )


def check_labels(labels, images):
    """Refuse labels that are not one row per image."""
    if labels is not None and labels.shape[:1] != images.shape[:1]:
        raise InputError(
            f"{labels.label}: {labels.shape[0] if labels.shape else 0} labels for "
            f"{images.shape[0]} images"
        )
