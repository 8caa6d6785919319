"""Where a dataset job's samples go: the output layouts of :mod:`.formats`, written either
in one stream or chunk by chunk into partial files that a rerun resumes.

* :class:`StreamedSink` (``.npz``, ``.npy``): each block written as the next is computed,
  straight into temporaries renamed into place at the end (:func:`fastaug.io.atomic_paths`);
  the columns are held in memory. The fastest way, for a job that fits one run.
* :class:`PartialSink` (``.npz``, ``.npy``, ``.zarr``): samples written at their place in
  ``<out>.partial`` files (``pwrite``, or a Zarr group), and
  ``<out>.fastaug-progress.json`` records, atomically after each chunk is on disk, how many
  chunks are done, with the SHA-256 of the inputs and every parameter. A run interrupted in
  any way and started again continues after the last recorded chunk; a changed input or
  parameter starts over. The finished output is moved into place, so it is byte-identical
  to an uninterrupted run's and single files still appear whole or not at all.
"""

import json
import os
import shutil
from pathlib import Path

import numpy as np

from .. import io, pixels
from . import formats

PROGRESS_SUFFIX = ".fastaug-progress.json"


def check_fits_memory(nbytes):
    """Refuse to build ``nbytes`` of columns in memory when the machine has less (one line
    instead of a MemoryError or the OOM killer)."""
    try:
        physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):  # not reported on this platform: let it try
        return
    if nbytes > physical:
        raise MemoryError(
            f"the per-sample columns need {nbytes / 1e9:,.1f} GB in memory, more than this "
            f"machine's {physical / 1e9:,.1f} GB; use fewer --copies or out of core (--input)"
        )


class _Sink:
    """What every sink shares: its output ``out``, checked at once."""

    suffixes: tuple
    resumable = False
    chunked_summary = True  #: the summary line counts chunks

    def __init__(self, out, force):
        self.out, self.force = Path(out), force
        if self.out.suffix not in self.suffixes:
            raise ValueError(f"out must end in {', '.join(self.suffixes)}; got {out}")

    def targets(self):
        """The paths the job must not overwrite without ``force``."""
        return [self.out]

    def work_paths(self):
        """The files the job keeps while it runs."""
        return []

    def check(self):
        """Refuse an existing output (without ``force``) or a missing folder, before the
        job reads anything."""
        for target in self.targets():
            io.refuse_existing(target, self.force)
        io.check_folder(self.out.parent)


class StreamedSink(_Sink):
    """An ``.npz`` or ``.npy`` set written in one pass (see the module), and a ``preview``
    PNG beside it when given."""

    suffixes = (".npz", ".npy")
    chunked_summary = False

    def __init__(self, out, force=False, preview=None):
        super().__init__(out, force)
        self.preview = None if preview is None else Path(preview)
        if self.preview is not None and self.preview.suffix.lower() != ".png":
            raise ValueError(f"preview must be a .png path; got {preview}")

    def targets(self):
        return [self.out] + ([self.preview] if self.preview is not None else [])

    def paths(self, names):
        """Every file the job writes, for arrays ``names``."""
        previews = [self.preview] if self.preview is not None else []
        return formats.output_paths(self.out, names) + previews

    def disk_need(self, nbytes):
        return nbytes

    def start(self, plan):
        """Tasks already done (none) once the sink can take ``plan``: its columns are made
        whole in memory (the images are streamed), so they must fit."""
        check_fits_memory(plan.column_bytes)
        return 0

    def write(self, plan, chunks):
        """Write every chunk of ``chunks`` (``(task, row, block, columns)`` in file order),
        the metadata and the preview; they appear together when all are written."""
        columns = {
            name: np.empty(shape, dtype)
            for name, (shape, dtype) in plan.columns.items()
            if name != "images"
        }

        def blocks():
            for _, row, block, rows in chunks:
                for name, value in rows.items():
                    columns[name][row : row + len(value)] = value
                yield block

        shape, dtype = plan.columns["images"]
        arrays = dict(images=io.StreamedArray(shape, dtype, blocks()), **columns)
        paths = self.paths(plan.columns)
        with io.atomic_paths(paths, self.force) as tmps:
            formats.write_files(tmps[: len(tmps) - (self.preview is not None)], arrays, plan.meta)
            if self.preview is not None:
                from .preview import write_preview

                write_preview(tmps[-1], *plan.preview_grid())

    def finish(self, plan):
        """The paths written (all in place once :meth:`write` returns)."""
        return self.paths(plan.columns)


class PartialSink(_Sink):
    """An ``.npz``, ``.npy`` set or ``.zarr`` group written chunk by chunk into
    ``<out>.partial`` (see the module); resumable when ``journal``. A Dask job stores its
    arrays into the same partial group (:meth:`store`)."""

    suffixes = (".npy", ".npz", ".zarr")

    def __init__(self, out, force=False, journal=True):
        super().__init__(out, force)
        self.resumable = journal
        self.partial = Path(f"{out}.partial")
        self.journal = Path(f"{out}{PROGRESS_SUFFIX}")
        self.identity = None

    def paths(self, names):
        return formats.output_paths(self.out, names)

    def work_paths(self):
        return [self.journal, self.partial] if self.resumable else [self.partial]

    def disk_need(self, nbytes):
        return nbytes * (2 if self.out.suffix == ".npz" else 1)  # .npz: copied from parts

    def start(self, plan):
        """Tasks done by an earlier run of this same job (0 if none or another job)."""
        if not self.resumable:
            return 0
        self.identity = dict(
            input_sha256=plan.source.digest(),
            labels_sha256=None if plan.labels is None else plan.labels.digest(),
            parameters=json.loads(
                json.dumps(
                    {k: plan.meta[k] for k in sorted(plan.meta)
                     if k not in ("fastaug_version", "inputs")},
                    default=str,
                )
            ),
        )  # fmt: skip
        try:
            record = json.loads(self.journal.read_text())
        except (OSError, ValueError):
            return 0
        if {k: record.get(k) for k in self.identity} != self.identity:
            return 0  # another input or other parameters: start over
        return int(record.get("done", 0))

    def write(self, plan, chunks):
        """Write the chunks, each recorded in the journal once on disk."""
        resume = plan.done > 0
        if self.out.suffix == ".zarr":
            writers = _ZarrWriters(self.partial, plan.columns, plan.chunk * plan.copies, resume)
        else:
            self.partial.mkdir(exist_ok=True) if resume else _fresh_dir(self.partial)
            writers = _NpyWriters(self.partial, plan.columns, resume)
        try:
            for task, row, block, rows in chunks:
                writers.write(row, dict(images=block, **rows))
                self._record(task + 1)
        except pixels.PixelError:
            # The data itself cannot be written as asked: a rerun fails the same way, so
            # nothing is kept for it to resume.
            shutil.rmtree(self.partial, ignore_errors=True)
            self.journal.unlink(missing_ok=True)
            raise
        finally:
            writers.close()

    def store(self, arrays, client):
        """Store Dask arrays (name -> array) into the partial group on ``client``."""
        import dask.array as da

        if self.partial.exists():
            shutil.rmtree(self.partial)
        stored = [
            da.to_zarr(array, str(self.partial), component=name, compute=False, overwrite=True)
            for name, array in arrays.items()
        ]
        client.compute(stored, sync=True)

    def _record(self, done):
        if self.resumable:
            with io.atomic_path(self.journal, force=True) as tmp:
                Path(tmp).write_text(json.dumps(dict(self.identity, done=done), sort_keys=True))

    def finish(self, plan):
        """Move the finished output into place (the only step that replaces ``out``) and
        drop the journal; returns the paths written."""
        out, partial, meta = self.out, self.partial, plan.meta
        paths = self.paths(plan.columns)
        if out.suffix == ".zarr":
            formats.write_zarr_meta(partial, meta)
            formats.replace_dir(partial, out)
        elif out.suffix == ".npz":
            with io.atomic_path(out, force=True) as tmp:
                parts = {name: partial / f"{name}.npy" for name in plan.columns}
                formats.npz_from_npy(tmp, parts, meta)
            shutil.rmtree(partial)
        else:
            *targets, meta_path = paths
            with io.atomic_path(meta_path, force=True) as tmp:
                formats.write_meta_json(tmp, meta)
            for name, target in zip(plan.columns, targets):
                os.replace(partial / f"{name}.npy", target)
            shutil.rmtree(partial)
        self.journal.unlink(missing_ok=True)
        return paths


def _fresh_dir(path):
    if path.exists():
        shutil.rmtree(path)
    path.mkdir()


class _PartialNpy:
    """A ``.npy`` being written at row offsets (``pwrite``), resumable: its header is fixed
    by shape and dtype, so the same job always makes the same bytes."""

    def __init__(self, path, shape, dtype, resume):
        self.path, self.shape, self.dtype = Path(path), tuple(shape), np.dtype(dtype)
        header = formats.npy_header(self.shape, self.dtype)
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


class _NpyWriters:
    """One :class:`_PartialNpy` per column, in the folder ``partial``."""

    def __init__(self, partial, columns, resume):
        self.files = {}
        try:
            for name, (shape, dtype) in columns.items():
                self.files[name] = _PartialNpy(partial / f"{name}.npy", shape, dtype, resume)
        except BaseException:
            self.close()
            raise

    def write(self, row, rows):
        for name, value in rows.items():
            self.files[name].write(row, value)
        for file in self.files.values():
            os.fsync(file.fd)

    def close(self):
        for file in self.files.values():
            os.close(file.fd)


class _ZarrWriters:
    """The output as a Zarr group being written: one array per column, chunked along the
    samples as the job writes them."""

    def __init__(self, path, columns, chunk_rows, resume):
        import zarr

        path = Path(path)
        if not resume and path.exists():
            shutil.rmtree(path)
        group = zarr.open_group(str(path), mode="a")
        self.arrays = {}
        for name, (shape, dtype) in columns.items():
            if resume and name in group:
                self.arrays[name] = group[name]
            else:
                self.arrays[name] = group.create_array(
                    name, shape=shape, dtype=dtype, chunks=(chunk_rows,) + tuple(shape[1:]),
                    overwrite=True,
                )  # fmt: skip

    def write(self, row, rows):
        for name, value in rows.items():
            self.arrays[name][row : row + len(value)] = value

    def close(self):
        pass
