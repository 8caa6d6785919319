"""Every output layout of a dataset job, read and written here only.

* ``.npz``: one uncompressed member per array (``images`` first, then the columns) and
  ``meta``, a 0-d string array of JSON;
* ``.npy``: ``<stem>.npy`` (images), ``<stem>.<column>.npy`` per column and
  ``<stem>.meta.json``;
* ``.zarr``: a group with one array per column and the metadata as its attributes.
"""

import json
import math
import os
import shutil
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .. import io
from .sources import npz_member

#: Columns a file may hold beside its images (``.npy``: ``<stem>.<column>.npy``).
COLUMNS = ("labels", "source_index", "angle", "copy", "params")
SUFFIXES = (".npz", ".npy", ".zarr")


def output_paths(out, names):
    """The finished files of an output with arrays ``names`` (``images`` first): ``out``
    alone (``.npz``, ``.zarr``), or for ``.npy`` one file per array and the metadata."""
    out = Path(out)
    if out.suffix != ".npy":
        return [out]
    stem = out.with_suffix("")
    sides = [Path(f"{stem}.{name}.npy") for name in names if name != "images"]
    return [out] + sides + [Path(f"{stem}.meta.json")]


# --------------------------------------------------------------------------- writing
def write_files(paths, arrays, meta):
    """An ``.npz`` (one path) or a ``.npy`` set (:func:`output_paths`, here temporaries)
    from ``arrays`` (``images`` first; arrays or :class:`fastaug.io.StreamedArray`)."""
    if len(paths) == 1:
        io.write_npz(paths[0], dict(arrays, meta=io.meta_array(meta)))
        return
    *targets, meta_path = paths
    for target, array in zip(targets, arrays.values()):
        io.write_npy(target, array)
    write_meta_json(meta_path, meta)


def write_meta_json(path, meta):
    Path(path).write_text(str(io.meta_array(meta)))


def npz_from_npy(path, parts, meta):
    """An ``.npz`` at ``path`` of the ``.npy`` files ``parts`` (name -> path), in order,
    copied as they are (their headers and bytes become the members'), and ``meta``."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, part_path in parts.items():
            with (
                open(part_path, "rb") as part,
                zf.open(io.zip_member(f"{name}.npy"), "w", force_zip64=True) as member,
            ):
                shutil.copyfileobj(part, member, io.WRITE_SLICE)
        with zf.open(io.zip_member("meta.npy"), "w", force_zip64=True) as member:
            io.write_array(member, io.meta_array(meta))


def write_zarr_meta(group, meta):
    """The metadata of a Zarr output: its group's attributes, as JSON values."""
    import zarr

    zarr.open_group(str(group), mode="a").attrs.update(json.loads(json.dumps(meta, default=str)))


def npy_header(shape, dtype):
    """The header of a C-ordered ``.npy`` of ``shape`` and ``dtype`` (a fixed size)."""
    import io as _io

    buffer = _io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, dict(descr=np.lib.format.dtype_to_descr(dtype), fortran_order=False, shape=shape)
    )
    return buffer.getvalue()


# --------------------------------------------------------------------------- reading
def open_output(path):
    """``(arrays, meta)`` of an augmented file (``.npz``, ``.npy`` with its side files, or
    a ``.zarr`` group); arrays are memory-mapped where possible. Headers are checked before
    anything is read (shape, dtype, size against the file): a bad file is a one-line
    ``ValueError``."""
    path = Path(path)
    if path.is_dir():
        if not any((path / name).is_file() for name in ("zarr.json", ".zgroup")):
            raise ValueError(f"{path}: a directory, not a fastaug output (.npz, .npy or .zarr)")
        return _open_zarr(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.suffix == ".npz":
        try:
            with zipfile.ZipFile(path) as archive:
                arrays = {
                    info.filename[:-4]: _stored_array(path, archive, info)
                    for info in archive.infolist()
                    if info.filename.endswith(".npy")
                }
        except (zipfile.BadZipFile, EOFError, zlib.error, OSError) as exc:
            raise ValueError(f"{path}: not a readable .npz ({exc})") from None
        meta = arrays.pop("meta", None)
        return arrays, {} if meta is None else _meta_of(path, meta)
    if path.suffix == ".npy":
        *files, meta_path = output_paths(path, ("images",) + COLUMNS)
        arrays = {
            name: _npy_array(file)
            for name, file in zip(("images",) + COLUMNS, files)
            if name == "images" or file.is_file()
        }
        meta = _meta_of(meta_path, meta_path.read_text()) if meta_path.is_file() else {}
        return arrays, meta
    raise ValueError(f"{path}: expected a .npz or .npy file or a .zarr directory")


def _meta_of(path, value):
    try:
        meta = io.read_meta(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: its metadata is not fastaug's JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{path}: its metadata is not fastaug's JSON (a {type(meta).__name__})")
    return meta


def _npy_array(path):
    """A ``.npy`` file, memory-mapped after its header is checked."""
    with open(path, "rb") as fh:
        shape, fortran, dtype = io.read_npy_header(fh, str(path))
        offset = fh.tell()
    _check_declared(str(path), shape, dtype, path.stat().st_size - offset)
    return _mapped(path, offset, shape, dtype, fortran)


def _stored_array(path, archive, info):
    """One ``.npz`` member: memory-mapped when stored raw (as fastaug writes them), else
    read, once its header is checked against the member's size."""
    key, label = info.filename[:-4], f"{path}[{info.filename[:-4]}]"
    with archive.open(info) as member:
        shape, fortran, dtype = io.read_npy_header(member, label)
        header = member.tell()
    _check_declared(label, shape, dtype, info.file_size - header)
    if info.compress_type == zipfile.ZIP_STORED:
        return _mapped(path, npz_member(path, key).offset, shape, dtype, fortran)
    with archive.open(info) as member:
        return np.lib.format.read_array(member, allow_pickle=False)


def _check_declared(label, shape, dtype, available):
    """Refuse what a header declares but the file cannot hold, before allocating it."""
    if dtype.hasobject:
        raise ValueError(f"{label}: an array of Python objects (a pickle); fastaug reads none")
    size = math.prod(shape) * dtype.itemsize  # Python integers: no overflow
    if size > available:
        raise ValueError(
            f"{label}: truncated or crafted: the header declares {size:,} bytes of data "
            f"(shape {shape}), the file holds {max(available, 0):,}"
        )


def _mapped(path, offset, shape, dtype, fortran):
    if not math.prod(shape) or not dtype.itemsize:
        return np.zeros(shape, dtype)  # nothing to map
    return np.memmap(path, dtype, "r", offset, shape, order="F" if fortran else "C")


def _open_zarr(path):
    """``(arrays, meta)`` of a ``.zarr`` output: the group's arrays and attributes."""
    try:
        import zarr
    except ImportError:
        raise ValueError(f"{path}: reading Zarr needs the zarr extra") from None
    try:
        group = zarr.open_group(str(path), mode="r")
    except Exception as exc:  # noqa: BLE001 - zarr raises many kinds; one line for all
        raise ValueError(f"{path}: not a readable Zarr group ({exc})") from None
    arrays = {name: group[name] for name in ("images",) + COLUMNS if name in group}
    return arrays, dict(group.attrs)


def replace_dir(source, target):
    """Move the directory ``source`` to ``target``, replacing what is there."""
    if Path(target).exists():
        shutil.rmtree(target)
    os.replace(source, target)
