"""Whole jobs behind the command line: augment a dataset to a file, describe it, verify it.

Each is one public function the CLI calls; they validate, compute the output chunk by chunk
and write each chunk while the next is computed, so the output is never all in memory,
into a file written atomically (see :mod:`fastaug.io`).
"""

import math
import os
import threading
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__, datasets, io, pixels
from . import _validation as v
from .functional import LAYOUTS, augment_into
from .resampling import Interp

#: Source images per chunk: big enough for the kernel's tiles and threads, small enough for a
#: responsive progress bar and Ctrl-C, and for little fresh memory: the two sample buffers
#: are new pages of a new process, which cost host faults on VMs (77 MB of float32 buffers
#: took 0.2-0.26 s to touch at 4096). Full MNIST, +-15 degrees, 8 alternations: float32
#: 1.42 s (2048) against 1.53 s (4096), uint8 1.09 against 1.15 s; 1024 and 512 were no
#: faster than 2048.
CHUNK = 2048
#: Columns a file may hold beside its images (``.npy``: ``<stem>.<column>.npy``).
COLUMNS = ("labels", "source_index", "angle", "copy", "params")
#: Sources shown in a --preview grid.
PREVIEW_ROWS = 4
#: Copies shown per source in a --preview grid (the first ones).
PREVIEW_COPIES = 12
OUTPUT_DTYPES = pixels.OUTPUT_DTYPES
#: Most random copies of each source: the ``copy`` column is int16.
MAX_COPIES = int(np.iinfo(np.int16).max)


@dataclass
class AugmentSummary:
    samples: int
    bytes: int
    seconds: float
    paths: list
    sources: int

    @property
    def images_per_second(self):
        return self.samples / self.seconds if self.seconds else float("inf")

    def line(self):
        return (
            f"wrote {self.samples:,} samples ({self.sources:,} sources x "
            f"{self.samples // max(self.sources, 1)}) = {self.bytes / 1e6:,.1f} MB to "
            f"{', '.join(str(p) for p in self.paths)} in {self.seconds:.2f} s "
            f"({self.images_per_second:,.0f} images/s{self._details()})"
        )

    def _details(self):
        return ""


def _source_images(images, dtype, out=None, scale=None):
    """The source pixels as the output dtype, by :mod:`fastaug.pixels`' one rule (uint8 as
    stored or divided by 255 into float32; other dtypes keep their values): ``images``
    itself when no conversion is needed, else into ``out`` when given."""
    return pixels.to_output(images, dtype, pixels.resolve_scale(images.dtype, dtype, scale), out)


class FixedAngles:
    """The source script's job: each source, then its rotations by fixed ``angles``."""

    def __init__(self, angles, order, mode, cval):
        self.angles = [float(a) for a in v.finite_angles(np.atleast_1d(np.asarray(angles, float)))]
        column_max = float(np.finfo(np.float32).max)
        if any(abs(a) > column_max for a in self.angles):
            raise ValueError(
                f"angles must be within ±{column_max:.4g}, the range of the float32 angle "
                f"column; got {max(self.angles, key=abs):g}"
            )
        self.order = v.spline_order(order)
        v.mode_code(mode)
        self.mode = mode
        self.cval = v.real_scalar(cval, "cval")
        self.copies = len(self.angles)

    def pass_items(self):
        return self.angles

    def one_copy(self):
        """The same job with one copy: what loading the kernels needs (3600 angles would
        make 3600 plans before the first chunk could start)."""
        return FixedAngles(self.angles[:1], self.order, self.mode, self.cval)

    def fill(self, chunk, start, items, original, block):
        """``block``: the chunk's samples of one pass, each source then its copies."""
        augment_into(
            chunk,
            items,
            block,
            include_original=original,
            layout="interleaved",
            interp=Interp(self.order, self.mode, self.cval),
            channel=None if chunk.ndim == 3 else 3,  # files hold channels last
        )

    def columns(self, n, include_original, layout, start=0, items=None):
        """Per-sample columns of sources ``start .. start + n`` with copies ``items``
        (default: all), in ``layout`` order."""
        items = self.angles if items is None else items
        per_copy = ([0.0] if include_original else []) + list(items)
        return {"angle": _per_copy_column(np.asarray(per_copy, np.float32), n, layout)}

    def titles(self, include_original):
        return [f"{a:+g} deg" for a in ([0.0] if include_original else []) + self.angles]

    def meta(self):
        return dict(angles=self.angles, order=self.order, mode=self.mode, cval=self.cval)


class RandomDraws:
    """``copies`` random variants of each source by ``pipeline`` (a fastaug Compose): copy
    ``c`` of source ``i`` is ``pipeline`` at ``seed``, epoch ``c``, sample ``i``, so the
    file is the same for any chunking, thread count or layout. ``name``: how the command
    line named it; ``rotation``: (order, mode, cval) when it is one ``RandomRotation``,
    whose drawn angles ``verify`` can check against SciPy."""

    def __init__(self, pipeline, copies, seed, name, rotation=None, arguments=None):
        if isinstance(copies, bool) or not isinstance(copies, int | np.integer):
            raise TypeError(f"copies must be an integer; got {copies!r}")
        if not 1 <= copies <= MAX_COPIES:
            raise ValueError(
                f"copies must be from 1 to {MAX_COPIES} (the copy column is int16); got {copies}"
            )
        self.pipeline, self.copies, self.seed, self.name = pipeline, int(copies), int(seed), name
        self.rotation = rotation
        self.arguments = arguments  #: what :func:`random_work` was given, to rebuild it

    def pass_items(self):
        # A range, not a list: --copies may be huge, and is checked against the disk and
        # the memory budget before anything of its size is made.
        return range(self.copies)

    def one_copy(self):
        """The same draws with one copy (see :meth:`FixedAngles.one_copy`)."""
        return RandomDraws(self.pipeline, 1, self.seed, self.name, self.rotation, self.arguments)

    def fill(self, chunk, start, items, original, block):
        grid = block.reshape((len(chunk), len(items) + original) + chunk.shape[1:])
        if original:
            grid[:, 0] = chunk
        for j, copy in enumerate(items):
            grid[:, original + j] = self.pipeline(chunk, seed=self.seed, epoch=copy, start=start)

    def columns(self, n, include_original, layout, start=0, items=None):
        """Per-sample columns of sources ``start .. start + n`` with copies ``items``
        (default: all), in ``layout`` order."""
        items = list(self.pass_items() if items is None else items)
        per_copy = []
        names = self.param_names
        for copy in items:
            drawn = self.pipeline.draw_params(n, seed=self.seed, epoch=copy, start=start)
            per_copy.append(_flat_params(drawn)[1])
        if include_original:
            per_copy.insert(0, np.full((n, len(names)), np.nan))
        copy_ids = np.asarray(([-1] if include_original else []) + items, np.int16)
        stacked = np.stack(per_copy)  # (copies, n, parameters)
        if layout == "interleaved":
            stacked = stacked.transpose(1, 0, 2)
        columns = {
            "copy": _per_copy_column(copy_ids, n, layout),
            "params": np.ascontiguousarray(stacked.reshape(-1, stacked.shape[-1])),
        }
        if self.rotation is not None:
            angles = columns["params"][:, names.index("0:RandomRotation.angle")]
            columns["angle"] = np.nan_to_num(angles, nan=0.0)  # float64: as drawn
        return columns

    @property
    def param_names(self):
        """The names of the ``params`` columns (one draw shows them)."""
        return _flat_params(self.pipeline.draw_params(1, seed=self.seed))[0]

    def titles(self, include_original):
        return (["original"] if include_original else []) + [
            f"copy {c}" for c in range(self.copies)
        ]

    def meta(self):
        order, mode, cval = self.rotation or (None, None, None)
        return dict(
            random=self.name,
            random_args=self.arguments,
            pipeline=repr(self.pipeline.transforms),
            seed=self.seed,
            random_copies=self.copies,
            param_names=self.param_names,
            angles=[],
            order=order,
            mode=mode,
            cval=cval,
        )


def _flat_params(params):
    """``(names, values)``: a pipeline call's drawn parameters as float64 columns ``(n, P)``,
    named ``<transform number>:<class>.<parameter>[<index>]``."""
    names, columns = [], []
    for k, entry in enumerate(params.transforms):
        kind = entry["transform"].split("(")[0]
        for key, value in entry.items():
            if key == "transform":
                continue
            value = np.asarray(value, np.float64)
            if value.ndim == 1:
                names.append(f"{k}:{kind}.{key}")
                columns.append(value)
            else:
                for j in range(value.shape[1]):
                    names.append(f"{k}:{kind}.{key}[{j}]")
                    columns.append(value[:, j])
    return names, np.stack(columns, axis=1)


def _check_fits_memory(nbytes):
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


def _per_copy_column(per_copy, n, layout):
    """A column with one value per copy, in file order."""
    return np.tile(per_copy, n) if layout == "interleaved" else np.repeat(per_copy, n)


def _passes(work, include_original, layout):
    """(items, include_original) of each pass over the sources, in file order."""
    items = work.pass_items()
    if layout == "interleaved":
        return [(items, include_original)]
    return ([([], True)] if include_original else []) + [([a], False) for a in items]


def _chunk_size(raw, dtype, passes, memory_mb):
    """Sources per chunk: :data:`CHUNK`, or fewer where the two sample buffers of many
    copies would not fit ``memory_mb`` (3600 angles would otherwise ask for 46 GB)."""
    from .outofcore import chunk_sources

    widest = max(len(a) + o for a, o in passes)
    per_image = int(np.prod(raw.shape[1:])) * np.dtype(dtype).itemsize
    in_item = int(np.prod(raw.shape[1:])) * raw.dtype.itemsize
    return min(CHUNK, chunk_sources(memory_mb, in_item, per_image, widest))


def _chunk_buffers(raw, dtype, passes, chunk=None):
    """The source chunk and the two sample buffers of :func:`_sample_blocks` for ``passes``
    (:func:`_passes`), with their pages touched: the job does this while the kernels load, so
    the first chunks do not pay for fresh memory (up to 0.05 s each on VMs that give freed
    memory back to the host). No source chunk (None) when ``raw`` is already in ``dtype``:
    :func:`_source_images` then uses it as stored."""
    n, rest = raw.shape[0], raw.shape[1:]
    chunk = CHUNK if chunk is None else chunk
    widest = max(len(a) + o for a, o in passes)
    sources = None if raw.dtype == dtype else np.empty((min(chunk, n),) + rest, dtype)
    samples = np.empty((2, min(chunk, n) * widest) + rest, dtype)
    samples.fill(0)  # NumPy releases the GIL here, so the kernel loader runs on meanwhile
    return sources, samples


def _sample_blocks(
    raw, dtype, work, include_original, layout, progress, buffers=None, chunk_size=None
):
    """The augmented samples in file order, as blocks of rows computed chunk by chunk into
    two buffers used in turn: the output is never all in memory (each block is written
    while the next is computed). ``work``: :class:`FixedAngles` or :class:`RandomDraws`;
    ``buffers``: from :func:`_chunk_buffers` (made if None).

    'interleaved' makes each chunk's samples in one pass (for fixed angles, the prefilter
    shared by all of them); 'blocked' makes one pass per copy, since its file holds each
    copy contiguously.
    """
    from ._progress import tqdm

    n = raw.shape[0]
    passes = _passes(work, include_original, layout)
    chunk_size = CHUNK if chunk_size is None else chunk_size
    if buffers is None:
        buffers = _chunk_buffers(raw, dtype, passes, chunk_size)
    # Two sample buffers in turn: one is written while the other is filled.
    sources, samples = buffers
    turn = 0
    with tqdm(
        total=n * len(passes), unit="img", desc="augment", disable=not progress, leave=False
    ) as bar:
        for items, original in passes:
            copies = len(items) + original
            for s in range(0, n, chunk_size):
                m = min(chunk_size, n - s)
                chunk = _source_images(
                    raw[s : s + m], dtype, out=None if sources is None else sources[:m]
                )
                block = samples[turn, : m * copies]
                turn ^= 1
                work.fill(chunk, s, items, original, block)
                yield block
                bar.update(m)


def _start_loading_kernels(image_shape, dtype, work, include_original, layout):
    """Run the chunk path on two blank images in a background thread, so Numba loads the
    compiled kernels (about 0.3 s from its disk cache, holding the GIL) while the input is
    read and decompressed; the arrays have the real chunks' types. Daemon: Ctrl-C need not
    wait."""
    blank = np.zeros((2,) + tuple(image_shape), np.uint8)
    work = work.one_copy()

    def load():
        try:
            for _ in _sample_blocks(blank, dtype, work, include_original, layout, False):
                pass
        except Exception:  # noqa: BLE001 - the real run reports any error properly
            pass

    thread = threading.Thread(target=load, name="fastaug-kernels", daemon=True)
    thread.start()
    return thread


def random_work(random_rotation=None, pipeline=None, *, copies=1, seed=0, order=3,
                mode="nearest", cval=0.0):  # fmt: skip
    """The :class:`RandomDraws` of ``--random-rotation DEGREES`` or ``--pipeline NAME``."""
    from . import presets
    from .transforms import Compose, RandomRotation

    if (random_rotation is None) == (pipeline is None):
        raise ValueError("give one of random_rotation and pipeline")
    arguments = dict(random_rotation=random_rotation, pipeline=pipeline, copies=copies,
                     seed=seed, order=order, mode=mode, cval=cval)  # fmt: skip
    if random_rotation is not None:
        rotation = RandomRotation(random_rotation, order=order, mode=mode, cval=cval)
        name = f"random-rotation {random_rotation:g}"
        return RandomDraws(Compose([rotation]), copies, seed, name, (order, mode, cval), arguments)
    if pipeline not in presets.NAMES:
        raise ValueError(f"unknown pipeline {pipeline!r}; known: {', '.join(presets.NAMES)}")
    preset = getattr(presets, pipeline)()
    return RandomDraws(preset, copies, seed, f"pipeline {pipeline}", arguments=arguments)


def augment_dataset(
    angles=(),
    *,
    random=None,
    dataset="mnist",
    data=None,
    split="train",
    order=3,
    mode="nearest",
    cval=0.0,
    dtype="float32",
    layout="interleaved",
    include_original=True,
    limit=None,
    out=None,
    force=False,
    preview=None,
    progress=False,
    download=True,
    memory_mb=256,
):
    """Augment a dataset split and write it to ``out`` (``.npz`` or ``.npy``): each source
    followed by its rotations by ``angles``, or by random copies (``random``: a
    :class:`RandomDraws`, see :func:`random_work`).

    ``.npz`` (default) holds ``images``, ``labels``, ``source_index``, ``angle`` (0 for the
    originals) and ``meta`` (JSON: fastaug version, every parameter, SHA-256 of the input
    files); random copies add ``copy`` (-1 for originals) and ``params`` (the drawn
    parameters of each sample, NaN for originals, named in ``meta["param_names"]``), and
    have ``angle`` only for a random rotation. ``.npy`` writes ``<stem>.npy`` (images) and
    ``<stem>.<column>.npy`` for each column, plus ``<stem>.meta.json``.
    Returns an :class:`AugmentSummary`.
    """
    start = time.perf_counter()
    if random is not None and len(angles):
        raise ValueError("give angles or a random augmentation, not both")
    work = random if random is not None else FixedAngles(angles, order, mode, cval)
    v.choice(dtype, "dtype", OUTPUT_DTYPES)
    v.choice(layout, "layout", LAYOUTS)
    if not work.copies and not include_original:
        raise ValueError("nothing to write: no angles and --no-original")
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a positive number of images; got {limit}")
    out = Path(out) if out is not None else Path(f"{dataset}-{split}-augmented.npz")
    if out.suffix not in (".npz", ".npy"):
        raise ValueError(f"out must end in .npz or .npy; got {out}")
    if preview is not None and Path(preview).suffix.lower() != ".png":
        raise ValueError(f"preview must be a .png path; got {preview}")
    for target in [out] + ([Path(preview)] if preview is not None else []):
        if target.exists() and not force:
            raise io.OutputError(f"{target} exists; pass --force to overwrite it")

    kernels = _start_loading_kernels(
        datasets.spec(dataset).image_shape, dtype, work, include_original, layout
    )
    try:
        raw, labels, located = datasets.load_split(
            dataset, split, path=data, download=download, progress=progress
        )
        if limit is not None:
            raw, labels = raw[:limit], labels[:limit]
        n = raw.shape[0]
        copies = work.copies + include_original
        needed = n * copies * int(np.prod(raw.shape[1:])) * np.dtype(dtype).itemsize
        folder = out.parent if str(out.parent) else Path(".")
        if not folder.is_dir():
            raise io.OutputError(f"output folder {folder} does not exist")
        io.check_free_space(folder, needed)
        # The columns are made whole in memory (the images are streamed): check their size
        # from one source's first copy before making them (plus labels and source_index).
        one = work.columns(1, include_original, layout, items=work.pass_items()[:1])
        rows = min(1, work.copies) + include_original
        per_sample = sum(c.nbytes for c in one.values()) // rows + 8 + labels.itemsize
        _check_fits_memory(n * copies * per_sample)
        passes = _passes(work, include_original, layout)
        chunk = _chunk_size(raw, dtype, passes, memory_mb)
        buffers = _chunk_buffers(raw, dtype, passes, chunk)
        sources = np.arange(n, dtype=np.int64)
        interleaved = layout == "interleaved"
        source_index = np.repeat(sources, copies) if interleaved else np.tile(sources, copies)
        columns = dict(labels=labels[source_index], source_index=source_index)
        columns.update(work.columns(n, include_original, layout))
        meta = dict(
            fastaug_version=__version__,
            dataset=dataset,
            split=split,
            **work.meta(),
            dtype=dtype,
            layout=layout,
            include_original=bool(include_original),
            limit=limit,
            sources=n,
            copies=copies,
            data_origin=located.origin,
            checksums_verified=located.verified,
            inputs={p.name: datasets.sha256(p) for p in located.split_paths(split)},
        )
    except BaseException:
        kernels.join()  # no kernel loading left running in the background
        raise
    # All of the above runs while the kernels load (hashing and filling release the GIL).
    kernels.join()  # loaded (or compiled, once per machine) before the first chunk
    images = io.StreamedArray(
        (n * copies,) + raw.shape[1:],
        np.dtype(dtype),
        _sample_blocks(raw, dtype, work, include_original, layout, progress, buffers, chunk),
    )

    previews = [Path(preview)] if preview is not None else []
    if out.suffix == ".npz":
        paths = [out] + previews
    else:
        stem = out.with_suffix("")
        paths = (
            [out]
            + [Path(f"{stem}.{k}.npy") for k in columns]
            + [Path(f"{stem}.meta.json")]
            + previews
        )
    with io.output_lock(out), io.atomic_paths(paths, force) as tmps:
        if out.suffix == ".npz":
            io.write_npz(tmps[0], dict(images=images, **columns, meta=io.meta_array(meta)))
        else:
            io.write_npy(tmps[0], images)
            for tmp, arr in zip(tmps[1 : 1 + len(columns)], columns.values()):
                io.write_npy(tmp, arr)
            Path(tmps[1 + len(columns)]).write_text(str(io.meta_array(meta)))
        if previews:
            # The first sources again, alone: the same values as in the file.
            first = _source_images(raw[:PREVIEW_ROWS], dtype)
            shown = work.pass_items()[:PREVIEW_COPIES]  # 3600 angles make no readable grid
            per = len(shown) + include_original
            grid = np.empty((len(first) * per,) + raw.shape[1:], dtype)
            work.fill(first, 0, shown, include_original, grid)
            titles = work.titles(include_original)[:per]
            write_preview(tmps[-1], grid.reshape((len(first), per) + raw.shape[1:]), titles)
    return AugmentSummary(
        samples=images.shape[0],
        bytes=images.nbytes,
        seconds=time.perf_counter() - start,
        paths=paths,
        sources=n,
    )


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
        stem = path.with_suffix("")
        arrays = {"images": _npy_array(path)}
        for key in COLUMNS:
            side = Path(f"{stem}.{key}.npy")
            if side.is_file():
                arrays[key] = _npy_array(side)
        meta_path = Path(f"{stem}.meta.json")
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
    from .outofcore import _npz_member

    key, label = info.filename[:-4], f"{path}[{info.filename[:-4]}]"
    with archive.open(info) as member:
        shape, fortran, dtype = io.read_npy_header(member, label)
        header = member.tell()
    _check_declared(label, shape, dtype, info.file_size - header)
    if info.compress_type == zipfile.ZIP_STORED:
        return _mapped(path, _npz_member(path, key).offset, shape, dtype, fortran)
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


def describe(path):
    """A human-readable description of an augmented file."""
    arrays, meta = open_output(path)
    lines = [f"{path}"]
    for key, arr in arrays.items():
        lines.append(f"  {key:13s} {str(arr.shape):18s} {arr.dtype}")
    if meta:
        if meta.get("input"):
            key = f" [{meta['key']}]" if meta.get("key") else ""
            origin = f"  input         {meta['input']}{key}"
        else:
            origin = f"  dataset       {meta.get('dataset')} ({meta.get('split')})"
        lines.append(
            f"{origin}, {meta.get('sources')} sources x {meta.get('copies')} copies, "
            f"layout {meta.get('layout')}"
        )
        if meta.get("random"):
            lines.append(
                f"  random        {meta['random']}, {meta.get('random_copies')} copies per "
                f"source, seed {meta.get('seed')}, dtype {meta.get('dtype')}: "
                f"{meta.get('pipeline')}"
            )
            params = np.asarray(arrays.get("params", np.zeros((0, 0))))
            drawn = params[np.asarray(arrays["copy"]) >= 0] if "copy" in arrays else params
            for k, name in enumerate(meta.get("param_names", [])):
                column = drawn[:, k] if drawn.size else np.zeros(0)
                lines.append(
                    f"    {name:32s} min {column.min(initial=np.inf):+.4g} "
                    f"mean {column.mean() if column.size else float('nan'):+.4g} "
                    f"max {column.max(initial=-np.inf):+.4g}"
                )
        else:
            lines.append(
                f"  rotation      angles {meta.get('angles')}, order {meta.get('order')}, "
                f"mode {meta.get('mode')}, cval {meta.get('cval')}, dtype "
                f"{meta.get('dtype')}"
            )
        lines.append(
            f"  made by       fastaug {meta.get('fastaug_version')}; inputs "
            + ", ".join(f"{k} sha256 {h[:12]}" for k, h in (meta.get("inputs") or {}).items())
        )
    if "labels" in arrays:
        counts = np.bincount(np.asarray(arrays["labels"]).astype(np.int64).ravel())
        lines.append(f"  labels        {len(counts)} classes, counts {counts.tolist()}")
    return "\n".join(lines)


@dataclass
class VerifyResult:
    checked: int
    max_error: float
    tolerance: float
    originals_checked: int

    @property
    def ok(self):
        return self.max_error <= self.tolerance

    def line(self):
        return (
            f"{'OK' if self.ok else 'FAILED'}: {self.checked} augmented samples recomputed "
            f"with SciPy (rotate / affine_transform), max |error| {self.max_error:.3g} "
            f"(tolerance "
            f"{self.tolerance:.3g}); {self.originals_checked} originals byte-identical"
        )


def verify(path, samples=100, *, data=None, seed=0):
    """Recompute ``samples`` random augmented samples with SciPy and compare: fixed angles
    with ``ndimage.rotate``, random draws with ``ndimage.affine_transform`` (one geometric
    transform; the stored parameters must be the draws of the file's seed).

    The source images are read again and must have the SHA-256 recorded in the file: a
    dataset's from ``data`` or the usual places; an ``--input`` array's from the path in
    the metadata (relative to the current folder, else to the file's folder). A file whose
    input moved, changed or was never hashed (a ``--scheduler`` job) cannot be verified: a
    one-line ``ValueError`` says why. Tolerance: none; fastaug's results are SciPy's, bit
    for bit.
    """
    from scipy import ndimage

    arrays, meta = open_output(path)
    if not meta:
        raise ValueError(f"{path}: no fastaug metadata; cannot find its source images")
    random = bool(meta.get("random"))
    columns = ("source_index",) + (("copy", "params") if random else ("angle",))
    _require(path, "metadata", meta, ("sources", "dtype", "include_original", "inputs"))
    _require(path, "arrays", arrays, ("images",) + columns)
    dtype = v.choice(meta["dtype"], "the metadata's dtype", OUTPUT_DTYPES)
    images = arrays["images"]
    count = images.shape[0] if images.ndim else 0
    columns = {name: np.asarray(arrays[name]) for name in columns}
    for name, column in columns.items():
        if column.shape[:1] != (count,):
            raise ValueError(f"{path}: {name} of shape {column.shape} for {count} images")
    source_of, available = _verify_sources(path, meta, data, dtype)
    sources = meta["sources"]
    if not isinstance(sources, int) or not 0 <= sources <= available:
        raise ValueError(f"{path}: made from {sources!r} sources; its input has {available}")
    src_index = columns["source_index"]
    if src_index.size and not (0 <= src_index.min() and src_index.max() < sources):
        raise ValueError(
            f"{path}: source_index holds {src_index.min()}..{src_index.max()}, outside the "
            f"{sources} sources"
        )
    if random:
        moved = columns["copy"] >= 0
        expected_of = _random_expectation(meta, columns, images.shape[1:3])
    else:
        moved = columns["angle"] != 0
        try:
            order, mode = v.spline_order(meta.get("order")), meta.get("mode")
            v.mode_code(mode)
            cval = v.real_scalar(meta.get("cval"), "cval")
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{path}: its metadata: {exc}") from None

        def expected_of(k, src):
            angle = float(columns["angle"][k])
            return ndimage.rotate(src, angle, reshape=False, order=order, mode=mode, cval=cval)

    rng = np.random.default_rng(seed)
    rotated = np.flatnonzero(moved) if meta["include_original"] else np.arange(count)
    picks = (
        rng.choice(rotated, size=min(samples, rotated.size), replace=False)
        if rotated.size
        else np.array([], int)
    )
    max_error = 0.0
    tolerance = 0.0
    for k in picks:
        expected = expected_of(k, source_of(src_index[k]))
        if expected.shape != images[k].shape:
            raise ValueError(f"{path}: images of shape {images.shape[1:]} from sources of "
                             f"shape {expected.shape}")  # fmt: skip
        diff = np.abs(images[k].astype(np.float64) - expected.astype(np.float64))
        max_error = max(max_error, float(diff.max(initial=0)))
    originals = np.flatnonzero(~moved) if meta["include_original"] else np.array([], int)
    originals = originals[: max(samples, 1)]
    for k in originals:
        if not np.array_equal(images[k], source_of(src_index[k])):
            max_error = max(max_error, float("inf"))
    return VerifyResult(len(picks), max_error, tolerance, len(originals))


def _require(path, what, mapping, keys):
    missing = [key for key in keys if key not in mapping]
    if missing:
        raise ValueError(f"{path}: its {what} lack {', '.join(missing)}; not a fastaug output")


def _verify_sources(path, meta, data, dtype):
    """``(source_of, count)``: ``source_of(i)`` is source image ``i`` in ``dtype``, as the
    job that wrote ``path`` saw it; the input must have the SHA-256 ``path`` records."""
    if meta.get("input"):
        return _input_sources(path, meta, dtype)
    _require(path, "metadata", meta, ("dataset", "split"))
    raw, _, located = datasets.load_split(meta["dataset"], meta["split"], path=data, download=False)
    for src_path in located.split_paths(meta["split"]):
        if meta["inputs"].get(src_path.name) not in (None, datasets.sha256(src_path)):
            raise ValueError(
                f"{src_path}: SHA-256 differs from the one recorded in "
                f"{path}; these are not the files it was made from"
            )
    source = _source_images(raw[: meta["sources"]], dtype)
    return source.__getitem__, len(source)


def _input_sources(path, meta, dtype):
    """:func:`_verify_sources` for an ``--input`` job: rows read from its input file."""
    from .outofcore import open_source

    recorded = Path(str(meta["input"]))
    found = next((p for p in (recorded, Path(path).parent / recorded) if p.exists()), None)
    if found is None:
        raise ValueError(
            f"{path} was made from {recorded}, which is not there (moved or deleted); "
            "verify needs that input"
        )
    expected = meta["inputs"].get(recorded.name) if isinstance(meta["inputs"], dict) else None
    if expected is None:
        raise ValueError(
            f"{path}: no SHA-256 of its input {recorded} recorded (a --scheduler job), so "
            "verify cannot tell that input from another"
        )
    source = open_source(found, meta.get("key"))
    if source.digest() != expected:
        raise ValueError(
            f"{found}: SHA-256 differs from the one recorded in {path}; the input changed "
            "since, or is another file"
        )

    def source_of(i):
        return _source_images(source.read(int(i), int(i) + 1), dtype, scale=meta.get("scale"))[0]

    return source_of, source.shape[0]


def _random_expectation(meta, arrays, plane):
    """``expected_of(k, source_image)`` for a file of random draws: the pipeline is rebuilt
    from the file's ``random_args``, sample ``k``'s parameters drawn again from (seed, copy,
    source) and checked against the stored ones, and its matrix applied by SciPy's
    ``affine_transform``. Pipelines of one geometric transform only."""
    from scipy import ndimage

    work = random_work(**meta["random_args"])
    transforms = work.pipeline.transforms
    if len(transforms) != 1 or not transforms[0].geometric:
        raise ValueError(f"verify checks one geometric transform; this file has {transforms}")
    transform = transforms[0]
    order, mode, cval, _ = transform.interp
    copies, params = np.asarray(arrays["copy"]), np.asarray(arrays["params"])
    source_index = np.asarray(arrays["source_index"])

    def expected_of(k, src):
        i, c = int(source_index[k]), int(copies[k])
        drawn = work.pipeline.draw_params(1, seed=work.seed, epoch=c, indices=[i])
        names, values = _flat_params(drawn)
        if not np.array_equal(values[0], params[k]):
            return np.full(src.shape, np.inf)  # the stored parameters are not the draws
        entry = drawn.transforms[0]
        if not entry["applied"][0]:
            return src
        chosen = {key: val for key, val in entry.items() if isinstance(val, np.ndarray)}
        pull = transform.matrices(chosen, 1, plane)[0]
        planes = src[..., None] if src.ndim == 2 else src  # channels last: plane by plane
        return np.stack(
            [
                ndimage.affine_transform(
                    planes[..., c], pull[:2, :2], pull[:2, 2], order=order, mode=mode, cval=cval
                )
                for c in range(planes.shape[-1])
            ],
            axis=-1,
        ).reshape(src.shape)

    return expected_of


def write_preview(png, grid, titles):
    """A PNG grid of samples: ``grid`` (sources, copies, H, W), one row per source, each
    copy titled by ``titles``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, copies = grid.shape[:2]
    fig, axes = plt.subplots(
        max(rows, 1), copies, squeeze=False, figsize=(1.6 * copies, 1.6 * max(rows, 1))
    )
    for ax in axes.ravel():
        ax.axis("off")
    for r in range(rows):
        for c in range(copies):
            # One grey scale for all panels: the input range, not each panel's own.
            axes[r, c].imshow(
                grid[r, c], cmap="gray", vmin=0, vmax=255 if grid.dtype == np.uint8 else 1
            )
            axes[r, c].set_title(f"#{r} {titles[c]}", fontsize=8)
    fig.tight_layout()
    fig.savefig(png, format="png", dpi=80)
    plt.close(fig)
