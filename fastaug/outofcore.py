"""Augmenting arrays larger than memory: any ``.npy``, ``.npz`` member or Zarr array in,
``.npy``, ``.npz`` or Zarr out, chunk by chunk within a memory budget, resumable.

Memory: sources are read with ``pread`` into reused buffers (not memory-mapped: mapped file
pages count as the process's memory), samples written with ``pwrite`` at their place in the
output, and the chunk size comes from the budget (``--memory``), so the data the job holds
is bounded whatever the dataset size or the number of angles.

Resuming: the output is written into ``<out>.partial`` files (a directory for Zarr) at fixed
offsets, and ``<out>.fastaug-progress.json`` records, atomically after each chunk is on
disk, how many chunks are done, with the SHA-256 of the inputs and every parameter. A run
interrupted in any way (Ctrl-C, kill, power loss) and started again with the same command
continues after the last recorded chunk; a changed input or parameter starts over. The
finished output is renamed into place, so it is byte-identical to an uninterrupted run's
and single files still appear whole or not at all.
"""

import hashlib
import json
import math
import os
import shutil
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__, io, pixels
from . import _validation as v
from .datasets import sha256
from .functional import LAYOUTS
from .jobs import AugmentSummary

#: Default budget for the job's data buffers (``--memory``), in MB.
DEFAULT_MEMORY_MB = 256
#: Most sources per chunk (beyond this a chunk only delays progress and resumption).
MAX_CHUNK = 8192
#: Memory of the job beside its data buffers: the kernels' tiles, a few MB per thread.
WORKING_MB = 24
PROGRESS_SUFFIX = ".fastaug-progress.json"


class InputError(ValueError):
    """An input that cannot be augmented (with what is wrong in one line)."""


# --------------------------------------------------------------------------- inputs
class NpyRegion:
    """An array stored raw in a file at ``offset`` (a ``.npy`` or an uncompressed ``.npz``
    member), read row range by row range with ``pread``."""

    def __init__(self, path, offset, shape, dtype, fortran, label):
        if fortran and len(shape) > 1:
            raise InputError(
                f"{label}: Fortran-ordered arrays are not supported; save it C-ordered"
            )
        self.path, self.offset, self.shape, self.dtype, self.label = (
            path,
            offset,
            shape,
            dtype,
            label,
        )
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


def _npy(path):
    with open(path, "rb") as fh:
        shape, fortran, dtype = io.read_npy_header(fh, str(path))
        offset = fh.tell()
    return NpyRegion(path, offset, shape, dtype, fortran, str(path))


def _npz_member(path, key):
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
    """A Zarr array read chunk range by chunk range."""

    def __init__(self, path):
        try:
            import zarr
        except ImportError:
            raise InputError(
                "reading Zarr needs the zarr extra: pip install 'fastaug[dask]'"
            ) from None
        try:
            self.array = zarr.open_array(str(path), mode="r")
        except Exception as exc:  # noqa: BLE001 - zarr raises many kinds; one line for all
            raise InputError(f"{path}: not a readable Zarr array ({exc})") from None
        self.path, self.shape, self.dtype = (
            Path(path),
            tuple(self.array.shape),
            np.dtype(self.array.dtype),
        )
        self.label = str(path)

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


def open_source(path, key=None):
    """The array at ``path``: ``.npy``, a ``.npz`` member (``key``) or a Zarr array."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.suffix == ".npy":
        return _npy(path)
    if path.suffix == ".npz":
        return _npz_member(path, key)
    if path.is_dir():
        return ZarrSource(path)
    raise InputError(f"{path}: expected a .npy, a .npz (with --key) or a Zarr directory")


# --------------------------------------------------------------------------- outputs
class PartialNpy:
    """A ``.npy`` being written at row offsets (``pwrite``), resumable: its header is fixed
    by shape and dtype, so the same job always makes the same bytes."""

    def __init__(self, path, shape, dtype, resume):
        self.path, self.shape, self.dtype = Path(path), tuple(shape), np.dtype(dtype)
        header = _npy_header(self.shape, self.dtype)
        self.offset = len(header)
        self.row = int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize
        if not (resume and self.path.is_file()):
            with open(self.path, "wb") as fh:
                fh.write(header)
        self.fd = os.open(self.path, os.O_WRONLY)

    def write(self, start, rows):
        data = memoryview(np.ascontiguousarray(rows, self.dtype).reshape(-1).view(np.uint8))
        done = 0
        while done < len(data):
            done += os.pwrite(self.fd, data[done:], self.offset + start * self.row + done)

    def sync(self):
        os.fsync(self.fd)

    def close(self):
        os.close(self.fd)

    @property
    def nbytes(self):
        return self.offset + self.shape[0] * self.row


def _npy_header(shape, dtype):
    import io as _io

    buffer = _io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, dict(descr=np.lib.format.dtype_to_descr(dtype), fortran_order=False, shape=shape)
    )
    return buffer.getvalue()


class ZarrColumns:
    """The output as a Zarr group being written (``<out>.partial`` until finished): one array
    per column, chunked along the samples as the job writes them."""

    def __init__(self, path, columns, chunk_rows, resume):
        import zarr

        self.path = Path(path)
        if not resume and self.path.exists():
            shutil.rmtree(self.path)
        self.group = zarr.open_group(str(self.path), mode="a")
        self.arrays = {}
        for name, (shape, dtype) in columns.items():
            if resume and name in self.group:
                self.arrays[name] = self.group[name]
            else:
                self.arrays[name] = self.group.create_array(
                    name, shape=shape, dtype=dtype, chunks=(chunk_rows,) + tuple(shape[1:]),
                    overwrite=True,
                )  # fmt: skip

    def write(self, name, start, rows):
        self.arrays[name][start : start + len(rows)] = rows


# --------------------------------------------------------------------------- the job
@dataclass
class OutOfCoreSummary(AugmentSummary):
    """:class:`fastaug.jobs.AugmentSummary` with the chunks done and where a resumed run
    took over."""

    chunks: int = 0
    resumed_from: int = 0

    def _details(self):
        resumed = f", resumed after chunk {self.resumed_from}" if self.resumed_from else ""
        return f", {self.chunks} chunks{resumed}"


def chunk_sources(memory_mb, in_item, out_item, copies):
    """Sources per chunk so that the buffers fit ``memory_mb``: the input chunk, the chunk
    in the output dtype, and two output blocks (one written while the next is computed),
    plus the kernels' tiles (a few MB per thread)."""
    budget = (memory_mb - WORKING_MB) * (1 << 20)
    per_source = in_item + out_item + 2 * copies * out_item
    if budget < per_source:
        raise ValueError(
            f"--memory {memory_mb} MB is too small: the job needs {WORKING_MB} MB for its "
            f"kernels plus {per_source / (1 << 20):.2f} MB per source ({copies} samples "
            "each), so at least "
            f"{WORKING_MB + -(-per_source // (1 << 20))} MB"
        )
    return int(min(MAX_CHUNK, budget // per_source))


def augment_file(input, work, *, out=None, **options):
    """:func:`_augment_file` holding ``<out>.lock`` (:func:`fastaug.io.output_lock`) from
    before it looks at ``out`` to the end: a second job to the same output refuses, and
    this one's progress journal and partial files are its own."""
    out = (
        Path(out) if out is not None else Path(input).with_name(Path(input).stem + "-augmented.npy")
    )
    with io.output_lock(out):
        return _augment_file(input, work, out=out, **options)


def _augment_file(
    input,
    work,
    *,
    key=None,
    labels=None,
    dtype="float32",
    layout="interleaved",
    include_original=True,
    out=None,
    memory_mb=DEFAULT_MEMORY_MB,
    force=False,
    progress=False,
    stop_after=None,
    scale=None,
    limit=None,
):
    """Augment the array at ``input`` (``work``: ``jobs.FixedAngles`` or ``jobs.RandomDraws``)
    into ``out`` (``.npy``, ``.npz`` or ``.zarr``), within ``memory_mb``; resumable (see the
    module). ``stop_after``: stop after that many chunks, leaving the run resumable (tests).
    ``scale``: how stored pixels become ``dtype`` (:mod:`fastaug.pixels`); ``limit``: only
    the first ``limit`` images. Returns an :class:`OutOfCoreSummary`.
    """
    from ._progress import tqdm
    from .jobs import _passes

    start_time = time.perf_counter()
    v.choice(dtype, "dtype", ("float32", "uint8"))
    v.choice(layout, "layout", LAYOUTS)
    source = open_source(input, key)
    if len(source.shape) not in (3, 4) or source.dtype.kind not in "biuf":
        raise InputError(
            f"{source.label}: expected images (N, H, W) or (N, H, W, C) of a real dtype; got "
            f"shape {source.shape}, dtype {source.dtype}"
        )
    scale = pixels.resolve_scale(source.dtype, dtype, scale)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive number of images; got {limit!r}")
    total = source.shape[0]
    n = total if limit is None else min(limit, total)
    label_source = None
    if labels is not None:
        # A .npz of labels: its "labels" array (the name fastaug's own files use).
        label_source = open_source(labels, "labels" if Path(labels).suffix == ".npz" else None)
        if label_source.shape[:1] != (total,):
            raise InputError(
                f"{label_source.label}: {label_source.shape[0] if label_source.shape else 0} "
                f"labels for {total} images"
            )
    if not work.copies and not include_original:
        raise ValueError("nothing to write: no angles and --no-original")
    out = (
        Path(out) if out is not None else Path(input).with_name(Path(input).stem + "-augmented.npy")
    )
    if out.suffix not in (".npy", ".npz", ".zarr"):
        raise ValueError(f"out must end in .npy, .npz or .zarr; got {out}")
    if out.exists() and not force:
        raise io.OutputError(f"{out} exists; pass --force to overwrite it")
    if not out.parent.is_dir():
        raise io.OutputError(f"output folder {out.parent} does not exist")

    copies = work.copies + include_original
    image_shape = tuple(source.shape[1:])
    out_item = int(np.prod(image_shape)) * np.dtype(dtype).itemsize
    chunk = chunk_sources(
        memory_mb, int(np.prod(image_shape)) * source.dtype.itemsize, out_item, copies
    )
    # Sizes are Python integers, checked before anything of that size exists (a huge
    # --copies must not build its lists first).
    chunk_count = -(-n // chunk) * (1 if layout == "interleaved" else copies)

    # The columns, by name: (shape, dtype), and how to make a chunk's rows of each.
    probe = work.columns(1, include_original, "interleaved", start=0, items=work.pass_items()[:1])
    columns = {"images": ((n * copies,) + image_shape, np.dtype(dtype))}
    if label_source is not None:
        columns["labels"] = ((n * copies,) + tuple(label_source.shape[1:]), label_source.dtype)
    columns["source_index"] = ((n * copies,), np.dtype(np.int64))
    for name, value in probe.items():
        columns[name] = ((n * copies,) + value.shape[1:], value.dtype)
    work_paths = [Path(f"{out}{PROGRESS_SUFFIX}"), Path(f"{out}.partial")]  # journal, partial
    io.refuse_inputs_as_outputs(_output_paths(out, columns) + work_paths, [input, labels])
    meta = dict(
        fastaug_version=__version__,
        input=str(input),
        key=key,
        labels=None if labels is None else str(labels),
        **work.meta(),
        dtype=dtype,
        layout=layout,
        include_original=bool(include_original),
        scale=scale,
        limit=limit,
        sources=n,
        copies=copies,
        chunk=chunk,
    )
    identity = dict(
        input_sha256=source.digest(),
        labels_sha256=None if label_source is None else label_source.digest(),
        parameters=json.loads(
            json.dumps({k: meta[k] for k in sorted(meta) if k != "fastaug_version"}, default=str)
        ),
    )
    meta["inputs"] = {
        Path(str(input)).name: identity["input_sha256"],
        **({Path(str(labels)).name: identity["labels_sha256"]} if labels is not None else {}),
    }
    total_bytes = sum(math.prod(shape) * dt.itemsize for shape, dt in columns.values())
    journal = Path(f"{out}{PROGRESS_SUFFIX}")
    done = _resume_point(journal, identity)
    need = total_bytes * (2 if out.suffix == ".npz" else 1)
    io.check_free_space(out.parent, int(need * (1 - done / max(chunk_count, 1))))
    passes = _passes(work, include_original, layout)
    tasks = [(p, s) for p in range(len(passes)) for s in range(0, n, chunk)]
    pass_start = np.cumsum([0] + [n * (len(items) + original) for items, original in passes])
    partial = Path(f"{out}.partial")
    if out.suffix == ".zarr":
        sink = ZarrColumns(partial, columns, chunk * copies, resume=done > 0)
        writers = None
    else:
        partial.mkdir(exist_ok=True) if done else _fresh_dir(partial)
        writers = {
            name: PartialNpy(partial / f"{name}.npy", shape, dt, resume=done > 0)
            for name, (shape, dt) in columns.items()
        }
    in_buffer = np.empty((chunk,) + image_shape, source.dtype)
    blocks = [np.empty((chunk * copies,) + image_shape, dtype) for _ in range(2)]
    try:
        with tqdm(
            total=len(tasks), initial=done, unit="chunk", desc="augment", disable=not progress
        ) as bar:
            for t in range(done, len(tasks)):
                if stop_after is not None and t - done >= stop_after:
                    return None
                p, s = tasks[t]
                items, original = passes[p]
                m = min(chunk, n - s)
                per = len(items) + original
                raw = source.read(s, s + m, in_buffer[:m])
                images = pixels.to_output(raw, dtype, scale, label=f"{source.label}[{s}:{s + m}]")
                block = blocks[t % 2][: m * per]
                work.fill(images, s, items, original, block)
                row = int(pass_start[p]) + s * per
                chunk_columns = _chunk_columns(work, items, original, s, m, label_source)
                if writers is not None:
                    writers["images"].write(row, block)
                    for name, value in chunk_columns.items():
                        writers[name].write(row, value)
                    for w in writers.values():
                        w.sync()
                else:
                    sink.write("images", row, block)
                    for name, value in chunk_columns.items():
                        sink.write(name, row, value)
                _record(journal, identity, t + 1)
                bar.update(1)
    except pixels.PixelError:
        # The data itself cannot be written as asked: a rerun fails the same way, so
        # nothing is kept for it to resume.
        shutil.rmtree(partial, ignore_errors=True)
        journal.unlink(missing_ok=True)
        raise
    finally:
        if writers is not None:
            for w in writers.values():
                w.close()
    paths = _finish(out, partial, columns, meta, force)
    journal.unlink(missing_ok=True)
    return OutOfCoreSummary(
        samples=n * copies,
        bytes=total_bytes,
        seconds=time.perf_counter() - start_time,
        paths=paths,
        sources=n,
        chunks=len(tasks),
        resumed_from=done,
    )


def _chunk_columns(work, items, original, start, m, label_source):
    """The column rows of one chunk of one pass (sources ``start .. start + m``)."""
    per = len(items) + original
    sources = np.repeat(np.arange(start, start + m, dtype=np.int64), per)
    out = {}
    if label_source is not None:
        out["labels"] = np.repeat(label_source.read(start, start + m), per, axis=0)
    out["source_index"] = sources
    out.update(work.columns(m, original, "interleaved", start=start, items=items))
    return out


def _fresh_dir(path):
    if path.exists():
        shutil.rmtree(path)
    path.mkdir()


def _resume_point(journal, identity):
    """Chunks already done by an earlier run of this same job (0 if none or another job)."""
    try:
        record = json.loads(journal.read_text())
    except (OSError, ValueError):
        return 0
    if {k: record.get(k) for k in identity} != identity:
        return 0  # another input or other parameters: start over
    return int(record.get("done", 0))


def _record(journal, identity, done):
    with io.atomic_path(journal, force=True) as tmp:
        Path(tmp).write_text(json.dumps(dict(identity, done=done), sort_keys=True))


def _finish(out, partial, columns, meta, force):
    """Move the finished output into place: the only step that replaces ``out``."""
    if out.suffix == ".zarr":
        import zarr

        zarr.open_group(str(partial), mode="a").attrs.update(
            json.loads(json.dumps(meta, default=str))
        )
        if out.exists():
            shutil.rmtree(out)
        os.replace(partial, out)
        return [out]
    if out.suffix == ".npz":
        with io.atomic_path(out, force=True) as tmp:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
                for name in columns:
                    with (
                        open(partial / f"{name}.npy", "rb") as part,
                        zf.open(io.zip_member(f"{name}.npy"), "w", force_zip64=True) as member,
                    ):
                        shutil.copyfileobj(part, member, io.WRITE_SLICE)
                with zf.open(io.zip_member("meta.npy"), "w", force_zip64=True) as member:
                    io.write_array(member, io.meta_array(meta))
        shutil.rmtree(partial)
        return [out]
    *targets, meta_path = _output_paths(out, columns)
    with io.atomic_path(meta_path, force=True) as tmp:
        Path(tmp).write_text(str(io.meta_array(meta)))
    for name, target in zip(columns, targets):
        os.replace(partial / f"{name}.npy", target)
    shutil.rmtree(partial)
    return targets + [meta_path]


def _output_paths(out, columns):
    """The finished files of the job: ``out`` alone (``.npz``, ``.zarr``), or for ``.npy``
    one file per column (``images`` first, as ``out``) and ``<stem>.meta.json``."""
    if out.suffix != ".npy":
        return [out]
    stem = out.with_suffix("")
    names = [name for name in columns if name != "images"]
    return [out] + [Path(f"{stem}.{name}.npy") for name in names] + [Path(f"{stem}.meta.json")]
