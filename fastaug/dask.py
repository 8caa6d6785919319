"""fastaug on Dask arrays: the kernels mapped over batch-axis chunks, lazily.

Needs the dask extra (``pip install "fastaug[dask]"``); ``import fastaug`` never imports
Dask. Each function rechunks the image axes to whole images (only the batch axis is
split), keeps the batch chunks (so outputs line up with them for ``to_zarr``), and gives
per-sample randomness the sample's global index, so results are the same for any chunking
and any number of workers. Inside a task fastaug uses one thread: a Dask worker already
runs as many tasks at once as it was given cores, so workers x tasks x fastaug threads
stays at the core count.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import dask.array as da
import numpy as np
from numpy.typing import ArrayLike

from . import _validation as v
from ._parallel import threads_here
from .functional import augment as _augment
from .plan import RotationPlan

if TYPE_CHECKING:
    from .transforms import Compose, Transform

__all__ = ["rotate", "augment", "apply"]


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
    darr: da.Array,
    angle: float,
    axes: Sequence[int] = (1, 2),
    reshape: bool = False,
    order: int = 3,
    mode: str = "constant",
    cval: float = 0.0,
    prefilter: bool = True,
) -> da.Array:
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

    return da.map_blocks(task, darr, chunks=tuple(chunks), dtype=darr.dtype)


def augment(
    darr: da.Array,
    angles: ArrayLike = (15, -15),
    labels: Any = None,
    *,
    include_original: bool = True,
    order: int = 3,
    mode: str = "nearest",
    cval: float = 0.0,
    name: str | None = None,
) -> tuple[da.Array, Any]:
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
    images = da.map_blocks(task, darr, chunks=chunks, dtype=darr.dtype, name=name)
    if labels is not None:
        labels = _repeat_rows(labels, copies, darr.chunks[0])
    return images, labels


def apply(darr: da.Array, pipeline: Compose | Transform, seed: int, epoch: int = 0) -> da.Array:
    """A fastaug pipeline (:mod:`fastaug.transforms`) over a Dask array: sample ``i`` is
    drawn from ``(seed, epoch, i)``, whatever the chunk it falls in."""
    darr = _whole_images(darr)
    seed, epoch = v.random_counter(seed, "seed"), v.random_counter(epoch, "epoch")

    def task(block, block_info=None):
        start = block_info[0]["array-location"][0][0] if block_info else 0
        with threads_here(1):
            return pipeline(block, seed=seed, epoch=epoch, start=start)

    return da.map_blocks(task, darr, dtype=darr.dtype)
