"""Minibatches for training, augmented on the fly, the next one prepared in the background."""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _validation as v
from .transforms import Compose, Transform

#: Batches in flight at once: the one the caller holds, the one being prepared, and the one
#: before, which the caller may still be reading.
RING = 3


class Loader:
    """Iterate over ``(x, y)`` in minibatches of ``batch_size``, each augmented by
    ``pipeline`` with a fresh draw per sample and per epoch, without materialising the
    augmented dataset.

    Parameters
    ----------
    x : array, shape (N, ...)
        Samples (images ``(N, H, W)`` or ``(N, H, W, C)`` when a pipeline is given).
    y : array, shape (N, ...) or None
        Labels, gathered alongside.
    batch_size : int
    pipeline : fastaug transform or Compose, optional
        Applied to each batch with ``seed``, the epoch and the samples' own indices, so a
        sample's augmentation depends only on ``(seed, epoch, sample)``.
    shuffle : bool
        A new order every epoch, from ``(seed, epoch)`` (default True).
    seed : int
        Seeds the order and the augmentation (default 0).
    drop_last : bool
        Drop a last, smaller batch (default False).

    Each ``for`` loop over the loader is one epoch (``epoch`` counts them; ``set_epoch``
    sets the next). While the caller works on a batch, a background thread gathers and
    augments the next (the kernels release the GIL). Without a pipeline the batches are
    written into reused buffers: a batch stays valid until the caller has taken two more
    (copy it to keep it). Leaving the loop early (``break``, an exception, or dropping
    the iterator) stops the thread cleanly.

    Examples
    --------
    >>> import numpy as np
    >>> from fastaug import Loader, presets
    >>> x, y = np.zeros((250, 28, 28), np.float32), np.arange(250) % 10
    >>> loader = Loader(x, y, batch_size=100, pipeline=presets.mnist(), seed=1)
    >>> [len(xb) for xb, yb in loader], len(loader), loader.epoch
    ([100, 100, 50], 3, 0)
    """

    batch_size: int
    shuffle: bool
    seed: int
    drop_last: bool
    epoch: int
    _next_epoch: int

    def __init__(
        self,
        x: ArrayLike,
        y: ArrayLike | None,
        batch_size: int,
        pipeline: Compose | Transform | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        self.x = np.asarray(x)
        if self.x.ndim < 1 or self.x.dtype.kind not in "biuf":
            raise ValueError(
                f"x must be a numeric array of samples; got {self.x.dtype}, shape {self.x.shape}"
            )
        self.y = None if y is None else np.asarray(y)
        if self.y is not None and (self.y.ndim < 1 or len(self.y) != len(self.x)):
            raise ValueError(
                f"y must have one entry per sample ({len(self.x)}); got shape {self.y.shape}"
            )
        if (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, numbers.Integral)
            or batch_size < 1
        ):
            raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
        if pipeline is not None and not isinstance(pipeline, Transform):
            raise ValueError(f"pipeline must be a fastaug transform or Compose; got {pipeline!r}")
        self.batch_size = int(batch_size)
        self.pipeline = (
            pipeline if pipeline is None or isinstance(pipeline, Compose) else Compose([pipeline])
        )
        self.shuffle = bool(shuffle)
        self.seed = v.random_counter(seed, "seed")
        self.drop_last = bool(drop_last)
        self.epoch = 0  #: the epoch the next (or current) loop runs
        self._next_epoch = 0

    def __len__(self) -> int:
        n, b = len(self.x), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def set_epoch(self, epoch: int) -> None:
        """Make the next loop epoch ``epoch`` (its order and augmentation)."""
        self._next_epoch = v.random_counter(epoch, "epoch")

    def order(self, epoch: int) -> NDArray[np.intp]:
        """The sample order of ``epoch``."""
        if not self.shuffle:
            return np.arange(len(self.x))
        return np.random.default_rng([self.seed, int(epoch)]).permutation(len(self.x))

    def __iter__(self) -> Iterator[NDArray[Any] | tuple[NDArray[Any], NDArray[Any]]]:
        epoch = self.epoch = self._next_epoch
        self._next_epoch += 1
        order = self.order(epoch)
        starts = range(0, len(self) * self.batch_size, self.batch_size)
        ring = [None] * RING
        with ThreadPoolExecutor(1, thread_name_prefix="fastaug-loader") as worker:

            def prepare(k):
                rows = order[starts[k] : starts[k] + self.batch_size]
                slot = ring[k % RING]
                if slot is None or len(slot[0]) != len(rows):
                    slot = ring[k % RING] = (
                        np.empty((len(rows),) + self.x.shape[1:], self.x.dtype),
                        None
                        if self.y is None
                        else np.empty((len(rows),) + self.y.shape[1:], self.y.dtype),
                    )
                xb, yb = slot
                np.take(self.x, rows, axis=0, out=xb)
                if yb is not None:
                    np.take(self.y, rows, axis=0, out=yb)
                if self.pipeline is not None:
                    xb = self.pipeline(xb, seed=self.seed, epoch=epoch, indices=rows)
                return xb if yb is None else (xb, yb)

            pending = worker.submit(prepare, 0) if len(starts) else None
            try:
                for k in range(len(starts)):
                    batch = pending.result()  # type: ignore[union-attr]  # set while k < len
                    pending = worker.submit(prepare, k + 1) if k + 1 < len(starts) else None
                    yield batch
            finally:
                if pending is not None:
                    pending.cancel()  # the pool's exit then waits for a batch in progress
