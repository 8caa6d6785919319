"""The one engine of every dataset job: a :class:`~.works.Work` run over a source
(:mod:`.sources`) into a sink (:mod:`.sinks`), chunk by chunk within a memory budget.

:func:`plan_job` checks everything once (options, the images, the labels, existing
outputs, outputs that are inputs, free space, memory) and fixes the columns, the metadata
and the chunks; :func:`run_local` computes the chunks here, each written while the next is
computed, so the output is never all in memory; :func:`run_on_scheduler` maps the same
chunk step over a Dask array on a ``dask.distributed`` scheduler. The public jobs
(:func:`augment_dataset`, :func:`augment_file`, :func:`augment_zarr`) choose the source
and the sink.
"""

import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import __version__, datasets, io, pixels
from .. import _validation as v
from ..functional import LAYOUTS
from .sinks import PartialSink, StreamedSink
from .sources import (
    ArraySource,
    InputError,
    ZarrSource,
    check_images,
    check_labels,
    open_labels,
    open_source,
)
from .works import FixedAngles

#: Most sources per chunk of a streamed job: big enough for the kernel's tiles and threads,
#: small enough for a responsive progress bar and Ctrl-C, and for little fresh memory: the
#: two sample buffers are new pages of a new process, which cost host faults on VMs (77 MB
#: of float32 buffers took 0.2-0.26 s to touch at 4096). Full MNIST, +-15 degrees, 8
#: alternations: float32 1.42 s (2048) against 1.53 s (4096), uint8 1.09 against 1.15 s;
#: 1024 and 512 were no faster than 2048.
CHUNK = 2048
#: Most sources per chunk of a resumable job (beyond this a chunk only delays progress and
#: resumption).
MAX_CHUNK = 8192
#: Default budget for the job's data buffers (``--memory``), in MB.
DEFAULT_MEMORY_MB = 256
#: Memory of the job beside its data buffers: the kernels' tiles, a few MB per thread.
WORKING_MB = 24
#: Sources shown in a --preview grid.
PREVIEW_ROWS = 4
#: Copies shown per source in a --preview grid (the first ones).
PREVIEW_COPIES = 12
OUTPUT_DTYPES = pixels.OUTPUT_DTYPES


@dataclass
class AugmentSummary:
    """What a job wrote; ``chunks`` and ``resumed_from`` for resumable and Dask jobs."""

    samples: int
    bytes: int
    seconds: float
    paths: list
    sources: int
    chunks: int | None = None
    resumed_from: int = 0

    @property
    def images_per_second(self):
        return self.samples / self.seconds if self.seconds else float("inf")

    def line(self):
        details = ""
        if self.chunks is not None:
            resumed = f", resumed after chunk {self.resumed_from}" if self.resumed_from else ""
            details = f", {self.chunks} chunks{resumed}"
        return (
            f"wrote {self.samples:,} samples ({self.sources:,} sources x "
            f"{self.samples // max(self.sources, 1)}) = {self.bytes / 1e6:,.1f} MB to "
            f"{', '.join(str(p) for p in self.paths)} in {self.seconds:.2f} s "
            f"({self.images_per_second:,.0f} images/s{details})"
        )


@dataclass(frozen=True)
class Options:
    """How samples are written, validated once: ``dtype`` (``float32`` or ``uint8``),
    ``layout`` (``interleaved``: each source then its copies; ``blocked``: every source,
    then every first copy...), ``include_original`` and ``limit`` (the first sources only)."""

    dtype: str = "float32"
    layout: str = "interleaved"
    include_original: bool = True
    limit: int | None = None

    def __post_init__(self):
        v.choice(self.dtype, "dtype", OUTPUT_DTYPES)
        v.choice(self.layout, "layout", LAYOUTS)
        limit = self.limit
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
        ):
            raise ValueError(f"limit must be a positive number of images; got {limit!r}")


def source_images(images, dtype, out=None, scale=None):
    """The source pixels as the output dtype, by :mod:`fastaug.pixels`' one rule (uint8 as
    stored or divided by 255 into float32; other dtypes keep their values): ``images``
    itself when no conversion is needed, else into ``out`` when given."""
    return pixels.to_output(images, dtype, pixels.resolve_scale(images.dtype, dtype, scale), out)


def augment_chunk(work, raw, start, items, original, dtype, scale, block, convert=None,
                  label="input"):  # fmt: skip
    """The one chunk step: ``raw`` (sources ``start ..``) as ``dtype`` pixels (into
    ``convert`` when a conversion is needed), then ``work``'s samples into ``block``."""
    images = pixels.to_output(raw, dtype, scale, convert, label=label)
    work.fill(images, start, items, original, block)
    return block


def chunk_columns(work, labels, items, original, start, m):
    """The per-sample columns of sources ``start .. start + m`` in one pass (``items``,
    after each source when ``original``), in file order: ``labels`` (when the job has a
    labels source), ``source_index``, then the work's."""
    per = len(items) + original
    out = {}
    if labels is not None:
        out["labels"] = np.repeat(labels.read(start, start + m), per, axis=0)
    out["source_index"] = np.repeat(np.arange(start, start + m, dtype=np.int64), per)
    out.update(work.columns(m, original, start, items))
    return out


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


@dataclass
class Plan:
    """A checked job: what :func:`plan_job` fixed before anything of its size exists."""

    source: object
    labels: object
    work: object
    options: Options
    scale: bool
    sources: int  #: how many sources (after ``limit``)
    chunk: int  #: sources per chunk
    columns: dict  #: name -> (shape, dtype), ``images`` first: every array of the output
    meta: dict
    done: int = 0  #: tasks already done by an earlier run (a resumed job)

    @property
    def copies(self):
        """Samples per source (with the original)."""
        return self.work.copies + self.options.include_original

    @property
    def passes(self):
        """Passes over the sources: one (interleaved), or one per copy (blocked: the file
        holds each copy contiguously)."""
        return 1 if self.options.layout == "interleaved" else self.copies

    @property
    def width(self):
        """Samples per source in one pass."""
        return self.copies if self.options.layout == "interleaved" else 1

    @property
    def tasks(self):
        return -(-self.sources // self.chunk) * self.passes

    @property
    def nbytes(self):
        return sum(math.prod(shape) * dtype.itemsize for shape, dtype in self.columns.values())

    @property
    def column_bytes(self):
        shape, dtype = self.columns["images"]
        return self.nbytes - math.prod(shape) * dtype.itemsize

    def pass_of(self, p):
        """``(items, original)`` of pass ``p``: the copies it makes, after the source?"""
        items, original = self.work.pass_items(), self.options.include_original
        if self.options.layout == "interleaved":
            return items, original
        if original:
            return (items[:0], True) if p == 0 else (items[p - 1 : p], False)
        return items[p : p + 1], False

    def task(self, t):
        """``(items, original, start, m, row)`` of task ``t``: pass, sources, first row."""
        per_pass = -(-self.sources // self.chunk)
        p, s = divmod(t, per_pass)
        s *= self.chunk
        items, original = self.pass_of(p)
        return (
            items,
            original,
            s,
            min(self.chunk, self.sources - s),
            p * self.sources + s * self.width,
        )

    def buffers(self):
        """``(read, convert, samples)``: the source rows as read (None for sources in
        memory), as the output dtype (None when read as stored), and two sample buffers
        used in turn (one written while the other is filled), pages touched: a job makes
        them while the kernels load, so the first chunks do not pay for fresh memory (up
        to 0.05 s each on VMs that give freed memory back to the host)."""
        rest, m = self.columns["images"][0][1:], min(self.chunk, self.sources)
        dtype = np.dtype(self.options.dtype)
        read = None if self.source.in_memory else np.empty((m,) + rest, self.source.dtype)
        convert = None if self.source.dtype == dtype else np.empty((m,) + rest, dtype)
        samples = np.empty((2, m * self.width) + rest, dtype)
        samples.fill(0)  # NumPy releases the GIL here, so the kernel loader runs on meanwhile
        return read, convert, samples

    def samples(self, t, buffers):
        """``(row, block)``: task ``t``'s samples, computed into ``buffers``
        (:meth:`buffers`), and the output row they start at."""
        read, convert, samples = buffers
        items, original, s, m, row = self.task(t)
        raw = self.source.read(s, s + m, None if read is None else read[:m])
        block = samples[t % 2, : m * (len(items) + original)]
        augment_chunk(self.work, raw, s, items, original, self.options.dtype, self.scale, block,
                      None if convert is None else convert[:m],
                      f"{self.source.label}[{s}:{s + m}]")  # fmt: skip
        return row, block

    def chunks(self, buffers=None, stop=None, progress=False):
        """``(task, row, block, columns)`` of each task from :attr:`done` to ``stop``."""
        from .._progress import tqdm

        buffers = self.buffers() if buffers is None else buffers
        stop = self.tasks if stop is None else min(stop, self.tasks)
        with tqdm(total=self.tasks, initial=self.done, unit="chunk", desc="augment",
                  disable=not progress, leave=False) as bar:  # fmt: skip
            for t in range(self.done, stop):
                row, block = self.samples(t, buffers)
                items, original, s, m, _ = self.task(t)
                yield t, row, block, chunk_columns(self.work, self.labels, items, original, s, m)
                bar.update(1)

    def preview_grid(self):
        """``(grid, titles)``: the first sources, each with its first copies, computed
        alone (the same values as in the file): ``grid`` (sources, copies, H, W)."""
        first = self.source.read(0, min(PREVIEW_ROWS, self.sources))
        shown = self.work.pass_items()[:PREVIEW_COPIES]  # 3600 angles make no readable grid
        per = len(shown) + self.options.include_original
        rest = first.shape[1:]
        grid = np.empty((len(first) * per,) + rest, self.options.dtype)
        augment_chunk(self.work, first, 0, shown, self.options.include_original,
                      self.options.dtype, self.scale, grid)  # fmt: skip
        titles = self.work.titles(self.options.include_original)[:per]
        return grid.reshape((len(first), per) + rest), titles


def job_meta(head, work, options, scale, sources, copies, tail):
    """The metadata of every output: fastaug's version, where the sources come from
    (``head``), the work's parameters, the options, and ``tail`` (provenance)."""
    return dict(
        fastaug_version=__version__,
        **head,
        **work.meta(),
        dtype=options.dtype,
        layout=options.layout,
        include_original=bool(options.include_original),
        **({} if scale is None else dict(scale=scale)),
        limit=options.limit,
        sources=sources,
        copies=copies,
        **tail,
    )


def plan_job(source, labels, work, options, sink, *, head, tail=None, scale=None,
             record_scale=True, memory_mb=DEFAULT_MEMORY_MB, inputs=()):  # fmt: skip
    """Check the job once and plan it (:class:`Plan`), after ``sink.check()``. ``head``
    and ``tail``: the origin and provenance keys of the metadata; ``scale``: how stored
    pixels become the output dtype (:func:`fastaug.pixels.resolve_scale`), recorded in the
    metadata when ``record_scale``; ``inputs``: paths the outputs must not replace."""
    check_images(source)
    check_labels(labels, source)
    scale = pixels.resolve_scale(source.dtype, options.dtype, scale)
    if not work.copies and not options.include_original:
        raise ValueError("nothing to write: no angles and --no-original")
    total = source.shape[0]
    n = total if options.limit is None else min(options.limit, total)
    copies = work.copies + options.include_original
    # The columns by name: (shape, dtype). Sizes are Python integers, checked before
    # anything of that size exists (a huge --copies must not build its lists first).
    image_shape = tuple(source.shape[1:])
    columns = {"images": ((n * copies,) + image_shape, np.dtype(options.dtype))}
    if labels is not None:
        columns["labels"] = ((n * copies,) + tuple(labels.shape[1:]), labels.dtype)
    columns["source_index"] = ((n * copies,), np.dtype(np.int64))
    for name, (shape, dtype) in work.column_types().items():
        columns[name] = ((n * copies,) + shape, dtype)

    # Resumable outputs size their chunks for every copy at once (their journal and
    # metadata record the chunk, so it must not change between versions); a streamed one
    # for its widest pass, and at most CHUNK sources.
    width = copies if (sink.resumable or options.layout == "interleaved") else 1
    out_item = math.prod(image_shape) * columns["images"][1].itemsize
    chunk = chunk_sources(memory_mb, math.prod(image_shape) * source.dtype.itemsize, out_item,
                          width)  # fmt: skip
    if not sink.resumable:
        chunk = min(CHUNK, chunk)
    tail = dict(tail or {})
    if sink.resumable:
        tail = dict(chunk=chunk, **tail)
    meta = job_meta(head, work, options, scale if record_scale else None, n, copies, tail)
    plan = Plan(source, labels, work, options, scale, n, chunk, columns, meta)

    io.refuse_inputs_as_outputs(sink.paths(columns) + sink.work_paths(), inputs)
    plan.done = sink.start(plan)
    remaining = 1 - plan.done / max(plan.tasks, 1)
    io.check_free_space(sink.out.parent, int(sink.disk_need(plan.nbytes) * remaining))
    return plan


def run_local(plan, sink, *, progress=False, buffers=None, stop_after=None, started=None):
    """Compute ``plan``'s chunks here into ``sink``; returns an :class:`AugmentSummary`
    (None when ``stop_after`` chunks were done and the job is left to resume: tests)."""
    started = time.perf_counter() if started is None else started
    stop = None if stop_after is None else plan.done + stop_after
    sink.write(plan, plan.chunks(buffers, stop, progress))
    if stop is not None and stop < plan.tasks:
        return None
    return _summary(plan, sink, sink.finish(plan), started)


def _summary(plan, sink, paths, started, chunks=None):
    return AugmentSummary(
        samples=plan.sources * plan.copies,
        bytes=plan.nbytes,
        seconds=time.perf_counter() - started,
        paths=paths,
        sources=plan.sources,
        chunks=(chunks or plan.tasks) if sink.chunked_summary else None,
        resumed_from=plan.done,
    )


def run_on_scheduler(plan, sink, scheduler, started=None):
    """Compute ``plan`` on the ``dask.distributed`` scheduler at ``scheduler``: the chunk
    step mapped over the source's Dask chunks (one fastaug thread per task: a worker runs
    as many tasks as it has cores), stored into ``sink``'s partial group."""
    import dask.array as da
    from distributed import Client

    from .._parallel import threads_here
    from ..dask import _whole_images

    started = time.perf_counter() if started is None else started
    work, dtype, scale, labels = plan.work, plan.options.dtype, plan.scale, plan.labels
    items, original = plan.pass_of(0)
    src = _whole_images(plan.source.to_dask()[: plan.sources])
    rows = (tuple(c * plan.copies for c in src.chunks[0]),)

    def images_task(block, block_info=None):
        start = block_info[0]["array-location"][0][0]
        out = np.empty((len(block) * plan.copies,) + block.shape[1:], dtype)
        with threads_here(1):
            return augment_chunk(work, np.asarray(block), start, items, original, dtype, scale,
                                 out, label=f"{plan.source.label}[{start}:]")  # fmt: skip

    arrays = {"images": src.map_blocks(images_task, chunks=rows + src.chunks[1:],
                                       dtype=np.dtype(dtype))}  # fmt: skip
    index = da.arange(plan.sources, chunks=(src.chunks[0],))
    for name, (shape, column_dtype) in list(plan.columns.items())[1:]:

        def column_task(block, name=name):
            start = int(block[0])
            return chunk_columns(work, labels, items, original, start, len(block))[name]

        arrays[name] = index.map_blocks(
            column_task,
            chunks=rows + shape[1:],
            dtype=column_dtype,
            new_axis=list(range(1, len(shape))) or None,
        )
    with Client(scheduler) as client:
        sink.store(arrays, client)
    return _summary(plan, sink, sink.finish(plan), started, chunks=len(src.chunks[0]))


# --------------------------------------------------------------------------- the jobs
def _load_kernels(image_shape, options, work):
    """Run the chunk step on two blank images in a background thread, so Numba loads the
    compiled kernels (about 0.3 s from its disk cache, holding the GIL) while the input is
    read and decompressed; the arrays have the real chunks' types. Daemon: Ctrl-C need not
    wait."""
    blank = ArraySource(np.zeros((2,) + tuple(image_shape), np.uint8), "blank")
    work = work.one_copy()  # 3600 angles would make 3600 plans before the first chunk
    shape = (2 * (work.copies + options.include_original),) + tuple(image_shape)
    scale = pixels.resolve_scale(blank.dtype, options.dtype)
    plan = Plan(blank, None, work, options, scale, 2, 2, {"images": (shape, options.dtype)}, {})

    def load():
        try:
            buffers = plan.buffers()
            for t in range(plan.tasks):
                plan.samples(t, buffers)
        except Exception:  # noqa: BLE001 - the real run reports any error properly
            pass

    thread = threading.Thread(target=load, name="fastaug-kernels", daemon=True)
    thread.start()
    return thread


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
    memory_mb=DEFAULT_MEMORY_MB,
):
    """Augment a dataset split and write it to ``out`` (``.npz`` or ``.npy``): each source
    followed by its rotations by ``angles``, or by random copies (``random``: a
    :class:`~.works.RandomDraws`, see :func:`~.works.random_work`).

    ``.npz`` (default) holds ``images``, ``labels``, ``source_index``, ``angle`` (0 for the
    originals) and ``meta`` (JSON: fastaug version, every parameter, SHA-256 of the input
    files); random copies add ``copy`` (-1 for originals) and ``params`` (the drawn
    parameters of each sample, NaN for originals, named in ``meta["param_names"]``), and
    have ``angle`` only for a random rotation. ``.npy`` writes ``<stem>.npy`` (images) and
    ``<stem>.<column>.npy`` for each column, plus ``<stem>.meta.json``.
    Returns an :class:`AugmentSummary`.
    """
    started = time.perf_counter()
    if random is not None and len(angles):
        raise ValueError("give angles or a random augmentation, not both")
    work = random if random is not None else FixedAngles(angles, order, mode, cval)
    options = Options(dtype, layout, include_original, limit)
    sink = StreamedSink(out if out is not None else f"{dataset}-{split}-augmented.npz", force,
                        preview)  # fmt: skip
    sink.check()
    kernels = _load_kernels(datasets.spec(dataset).image_shape, options, work)
    try:
        raw, labels, located = datasets.load_split(
            dataset, split, path=data, download=download, progress=progress
        )
        paths = located.split_paths(split)
        tail = dict(
            data_origin=located.origin,
            checksums_verified=located.verified,
            inputs={p.name: datasets.sha256(p) for p in paths},
        )
        plan = plan_job(ArraySource(raw, str(paths[0])), ArraySource(labels, str(paths[1])),
                        work, options, sink, head=dict(dataset=dataset, split=split), tail=tail,
                        record_scale=False, memory_mb=memory_mb, inputs=paths)  # fmt: skip
        buffers = plan.buffers()
    finally:
        # All of the above runs while the kernels load (hashing and filling release the
        # GIL); they are loaded (or compiled, once per machine) before the first chunk.
        kernels.join()
    with io.output_lock(sink.out):
        return run_local(plan, sink, progress=progress, buffers=buffers, started=started)


def augment_file(input, work, *, out=None, **options):
    """:func:`_augment_file` holding ``<out>.lock`` (:func:`fastaug.io.output_lock`) from
    before it looks at ``out`` to the end: a second job to the same output refuses, and
    this one's progress journal and partial files are its own."""
    out = (
        Path(out) if out is not None else Path(input).with_name(Path(input).stem + "-augmented.npy")
    )
    with io.output_lock(out):
        return _augment_file(input, work, out=out, **options)


def _augment_file(input, work, *, key=None, labels=None, dtype="float32", layout="interleaved",
                  include_original=True, out, memory_mb=DEFAULT_MEMORY_MB, force=False,
                  progress=False, stop_after=None, scale=None, limit=None):  # fmt: skip
    """Augment the array at ``input`` (``work``: a :class:`~.works.Work`) into ``out``
    (``.npy``, ``.npz`` or ``.zarr``), within ``memory_mb``, resumably (:mod:`.sinks`).
    ``stop_after``: stop after that many chunks, leaving the run resumable (tests).
    ``scale``: how stored pixels become ``dtype`` (:mod:`fastaug.pixels`); ``limit``: only
    the first ``limit`` images. Returns an :class:`AugmentSummary`."""
    started = time.perf_counter()
    options = Options(dtype, layout, include_original, limit)
    source = open_source(input, key)
    label_source = None if labels is None else open_labels(labels)
    sink = PartialSink(out, force)
    sink.check()
    head = dict(input=str(input), key=key, labels=None if labels is None else str(labels))
    names = [input] + ([] if labels is None else [labels])
    plan = plan_job(source, label_source, work, options, sink, head=head, scale=scale,
                    memory_mb=memory_mb, inputs=names)  # fmt: skip
    # The inputs' SHA-256 (computed once, for the journal) go into the metadata too.
    digests = [sink.identity["input_sha256"], sink.identity["labels_sha256"]]
    plan.meta["inputs"] = {Path(str(p)).name: d for p, d in zip(names, digests)}
    return run_local(plan, sink, progress=progress, stop_after=stop_after, started=started)


def augment_zarr(input, out, work, **options):
    """:func:`_augment_zarr` holding ``<out>.lock`` (:func:`fastaug.io.output_lock`) from
    before it looks at ``out`` to the end: a second job to the same output refuses."""
    if out is None or Path(out).suffix != ".zarr" or Path(input).suffix != ".zarr":
        raise ValueError("--scheduler reads and writes Zarr: --input X.zarr --out Y.zarr")
    with io.output_lock(out):
        return _augment_zarr(input, out, work, **options)


def _augment_zarr(input, out, work, *, scheduler, labels=None, dtype="float32",
                  include_original=True, force=False, scale=None, limit=None):  # fmt: skip
    """The ``fastaug augment --input X.zarr --out Y.zarr --scheduler ADDRESS`` job: read
    Zarr, augment on the ``dask.distributed`` scheduler at ``scheduler``, write a Zarr group
    (``images``, ``labels``, ``source_index``, and the work's columns) into
    ``<out>.partial``, renamed to ``out`` when every chunk is written. ``scale`` and
    ``limit`` as in :func:`augment_file`; the inputs are not hashed (they may be huge)."""
    started = time.perf_counter()
    options = Options(dtype, "interleaved", include_original, limit)
    source = open_source(input)
    if not isinstance(source, ZarrSource):
        raise InputError(f"{input}: --scheduler reads a Zarr array")
    label_source = None if labels is None else open_labels(labels)
    sink = PartialSink(out, force, journal=False)
    sink.check()
    head = dict(input=str(input), labels=None if labels is None else str(labels))
    plan = plan_job(source, label_source, work, options, sink, head=head,
                    tail=dict(scheduler=scheduler), scale=scale,
                    inputs=[input] + ([] if labels is None else [labels]))  # fmt: skip
    return run_on_scheduler(plan, sink, scheduler, started)
