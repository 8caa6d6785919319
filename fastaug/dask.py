"""fastaug on Dask arrays: the kernels mapped over batch-axis chunks, lazily.

Needs the dask extra (``pip install "fastaug[dask]"``); ``import fastaug`` never imports
Dask. Each function rechunks the image axes to whole images (only the batch axis is
split), keeps the batch chunks (so outputs line up with them for ``to_zarr``), and gives
per-sample randomness the sample's global index, so results are the same for any chunking
and any number of workers. Inside a task fastaug uses one thread: a Dask worker already
runs as many tasks at once as it was given cores, so workers x tasks x fastaug threads
stays at the core count.
"""

import time
from pathlib import Path

import dask.array as da
import numpy as np

from . import _validation as v
from ._parallel import threads_here
from .functional import augment as _augment
from .plan import RotationPlan

__all__ = ["rotate", "augment", "apply", "augment_zarr"]


def _whole_images(darr):
    """Chunks split along axis 0 only: each holds whole images."""
    darr = da.asarray(darr)
    if darr.ndim not in (3, 4):
        raise ValueError(f"expected images (N, H, W) or (N, H, W, C); got shape {darr.shape}")
    return darr.rechunk({axis: -1 for axis in range(1, darr.ndim)})


def _repeat_rows(arr, copies, batch_chunks):
    """Each row ``copies`` times, chunked as ``batch_chunks`` times ``copies`` (what the
    images get): ``da.repeat`` splits chunks its own way, which ``to_zarr`` cannot write."""
    arr = da.asarray(arr).rechunk({0: batch_chunks})
    chunks = (tuple(c * copies for c in batch_chunks),) + arr.chunks[1:]
    return arr.map_blocks(np.repeat, copies, axis=0, chunks=chunks, dtype=arr.dtype)


def rotate(
    darr, angle, axes=(1, 2), reshape=False, order=3, mode="constant", cval=0.0, prefilter=True
):
    """:func:`fastaug.rotate` of every image of ``darr`` (``(N, H, W[, C])``, planes in
    ``axes``, not the batch axis 0), lazily, chunk by chunk."""
    darr = _whole_images(darr)
    axes = v.plane_axes(axes, darr.ndim)
    if 0 in axes:
        raise ValueError(f"axes must not include the batch axis 0; got {axes}")
    plan = RotationPlan(
        (darr.shape[axes[0]], darr.shape[axes[1]]),
        angle,
        reshape=reshape,
        order=order,
        mode=mode,
        cval=cval,
        prefilter=prefilter,
    )  # fmt: skip  (checks every argument before anything runs)
    chunks = list(darr.chunks)
    chunks[axes[0]], chunks[axes[1]] = (plan.out_shape[0],), (plan.out_shape[1],)

    def task(block):
        with threads_here(1):
            return plan(block, axes=axes)

    return darr.map_blocks(task, chunks=tuple(chunks), dtype=darr.dtype)


def augment(
    darr,
    angles=(15, -15),
    labels=None,
    *,
    include_original=True,
    order=3,
    mode="nearest",
    cval=0.0,
    name=None,
):
    """:func:`fastaug.augment` (interleaved: each image, then its rotations) of a Dask array;
    returns ``(images, labels)`` (labels ``None`` when not given), lazily. ``name``: the
    output's key prefix, as in ``map_blocks`` (default: from the arguments)."""
    darr = _whole_images(darr)
    angles = [float(a) for a in v.finite_angles(angles, single=True)]
    copies = len(angles) + bool(include_original)

    def task(block):
        with threads_here(1):
            return _augment(
                block,
                angles=angles,
                include_original=include_original,
                order=order,
                mode=mode,
                cval=cval,
            )[0]

    chunks = (tuple(c * copies for c in darr.chunks[0]),) + darr.chunks[1:]
    images = darr.map_blocks(task, chunks=chunks, dtype=darr.dtype, name=name)
    if labels is not None:
        labels = _repeat_rows(labels, copies, darr.chunks[0])
    return images, labels


def apply(darr, pipeline, seed, epoch=0):
    """A fastaug pipeline (:mod:`fastaug.transforms`) over a Dask array: sample ``i`` is
    drawn from ``(seed, epoch, i)``, whatever the chunk it falls in."""
    darr = _whole_images(darr)
    seed, epoch = v.random_counter(seed, "seed"), v.random_counter(epoch, "epoch")

    def task(block, block_info=None):
        start = block_info[0]["array-location"][0][0] if block_info else 0
        with threads_here(1):
            return pipeline(block, seed=seed, epoch=epoch, start=start)

    return darr.map_blocks(task, dtype=darr.dtype)


def _work_blocks(src, work, dtype, include_original, scale):
    """The augmented images of ``work`` (``jobs.FixedAngles`` / ``jobs.RandomDraws``) and
    their columns, as Dask arrays chunked like ``src`` along the samples; ``scale``: how
    stored pixels become ``dtype`` (:func:`fastaug.pixels.resolve_scale`)."""
    from .pixels import to_output

    copies = work.copies + include_original
    items = work.pass_items()
    out_chunks = (tuple(c * copies for c in src.chunks[0]),) + src.chunks[1:]

    def images_task(block, block_info=None):
        start = block_info[0]["array-location"][0][0]
        images = to_output(np.asarray(block), dtype, scale, label=f"images[{start}:]")
        out = np.empty((len(block) * copies,) + block.shape[1:], dtype)
        with threads_here(1):
            work.fill(images, start, items, include_original, out)
        return out

    images = src.map_blocks(images_task, chunks=out_chunks, dtype=np.dtype(dtype))
    index = da.arange(src.shape[0], chunks=(src.chunks[0],))
    columns = {"source_index": _repeat_rows(index, copies, src.chunks[0])}
    probe = work.columns(1, include_original, "interleaved", start=0)
    for name, example in probe.items():

        def column_task(block, name=name):
            start, m = int(block[0]), len(block)
            return work.columns(m, include_original, "interleaved", start=start)[name]

        columns[name] = index.map_blocks(
            column_task,
            chunks=(out_chunks[0],) + example.shape[1:],
            dtype=example.dtype,
            new_axis=list(range(1, example.ndim)) or None,
        )
    return images, columns


def augment_zarr(input, out, work, **options):
    """:func:`_augment_zarr` holding ``<out>.lock`` (:func:`fastaug.io.output_lock`) from
    before it looks at ``out`` to the end: a second job to the same output refuses."""
    from . import io

    if out is None:
        return _augment_zarr(input, out, work, **options)  # refused there
    with io.output_lock(out):
        return _augment_zarr(input, out, work, **options)


def _augment_zarr(input, out, work, *, scheduler, labels=None, dtype="float32",
                  include_original=True, force=False, scale=None, limit=None):  # fmt: skip
    """The ``fastaug augment --input X.zarr --out Y.zarr --scheduler ADDRESS`` job: read
    Zarr, augment on the ``dask.distributed`` scheduler at ``scheduler``, write a Zarr group
    (``images``, ``labels``, ``source_index``, and the work's columns) into
    ``<out>.partial``, renamed to ``out`` when every chunk is written. ``scale`` and
    ``limit`` as in :func:`fastaug.outofcore.augment_file`."""
    import json
    import shutil

    import zarr
    from distributed import Client

    from . import __version__, io
    from .outofcore import OutOfCoreSummary

    start = time.perf_counter()
    out = Path(out) if out is not None else None
    if out is None or out.suffix != ".zarr" or Path(input).suffix != ".zarr":
        raise ValueError("--scheduler reads and writes Zarr: --input X.zarr --out Y.zarr")
    if out.exists() and not force:
        raise io.OutputError(f"{out} exists; pass --force to overwrite it")
    src = da.from_zarr(str(input))
    if src.ndim not in (3, 4):
        raise ValueError(
            f"{input}: expected images (N, H, W) or (N, H, W, C); got shape {src.shape}"
        )
    from .pixels import resolve_scale

    scale = resolve_scale(src.dtype, dtype, scale)
    total = src.shape[0]
    if limit is not None:
        src = src[:limit]
    src = _whole_images(src)
    n = src.shape[0]
    images, columns = _work_blocks(src, work, dtype, include_original, scale)
    copies = work.copies + include_original
    if labels is not None:
        label_array = da.from_zarr(str(labels))
        if label_array.shape[:1] != (total,):
            raise ValueError(f"{labels}: {label_array.shape[0]} labels for {total} images")
        label_array = label_array[:n]
        columns = {"labels": _repeat_rows(label_array, copies, src.chunks[0]), **columns}
    partial = Path(f"{out}.partial")
    io.refuse_inputs_as_outputs([out, partial], [input, labels])
    if partial.exists():
        shutil.rmtree(partial)
    with Client(scheduler) as client:
        targets = {"images": images, **columns}
        stored = [
            da.to_zarr(array, str(partial), component=name, compute=False, overwrite=True)
            for name, array in targets.items()
        ]
        client.compute(stored, sync=True)
    meta = dict(
        fastaug_version=__version__,
        input=str(input),
        labels=None if labels is None else str(labels),
        **work.meta(),
        dtype=dtype,
        layout="interleaved",
        include_original=bool(include_original),
        scale=scale,
        limit=limit,
        sources=n,
        copies=copies,
        scheduler=scheduler,
    )
    zarr.open_group(str(partial), mode="a").attrs.update(json.loads(json.dumps(meta, default=str)))
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)
    return OutOfCoreSummary(
        samples=n * copies,
        bytes=int(images.nbytes + sum(c.nbytes for c in columns.values())),
        seconds=time.perf_counter() - start,
        paths=[out],
        sources=n,
        chunks=len(src.chunks[0]),
        resumed_from=0,
    )
