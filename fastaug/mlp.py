"""A small MLP on Numba kernels: the source script's network, same maths, fast.

ReLU hidden layers, softmax + cross-entropy (``-sum(t * log(y + 1e-7)) / batch``), plain
SGD on the source's gradient ``y - t`` (``gradient="sum"``; ``"mean"`` is the textbook's
``(y - t) / batch``), weights ``weight_init_std * randn``. With ``seed=None`` the weights
come from NumPy's global random state in the source's order (W1, W2, ...), so
``np.random.seed(s); MLP()`` starts exactly where the source's network does.
"""

from __future__ import annotations

import contextlib
import math
import os
import zipfile
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from .io import read_npy_header
from .kernels import mlp as kernels

#: ``"sum"``: the source's gradient ``y - t`` (summed over the batch); ``"mean"``: the
#: textbook's ``(y - t) / batch``, the gradient of the loss as reported.
GRADIENTS = ("sum", "mean")


class _Params(dict):
    """``W1, b1, ...`` as views of the flat buffer; assigning copies into the buffer."""

    def __setitem__(self, key, value):
        if key not in self:
            raise KeyError(f"no parameter {key!r}; have {', '.join(self)}")
        target = dict.__getitem__(self, key)
        value = np.asarray(value)
        if value.shape != target.shape:
            raise ValueError(f"{key} must have shape {target.shape}; got {value.shape}")
        target[...] = value


class _SingleThreadBLAS:
    """Small products: BLAS threads inside the step loop only cost (oversubscription).

    ``threadpool_limits()`` looks through every loaded library each time (0.3-0.9 ms a
    step) and even a ``ThreadpoolController.limit`` costs about 8 us; this reads and sets the
    thread counts of the BLAS libraries found once (Numba's ``np.dot`` calls SciPy's, loaded
    first), about 1 us.
    """

    _libraries = None

    def __enter__(self):
        if _SingleThreadBLAS._libraries is None:
            import importlib

            from threadpoolctl import ThreadpoolController

            importlib.import_module("scipy.linalg.cython_blas")
            blas = ThreadpoolController().select(user_api="blas")
            _SingleThreadBLAS._libraries = tuple(blas.lib_controllers)
        self._restore = []
        for library in _SingleThreadBLAS._libraries:
            threads = library.get_num_threads()
            if threads != 1:
                library.set_num_threads(1)
                self._restore.append((library, threads))
        return self

    def __exit__(self, *exc):
        for library, threads in self._restore:
            library.set_num_threads(threads)


_blas_single_thread = _SingleThreadBLAS


class _RepeatedBatch:
    """The batch of the last ``MLP.step``, and W1's held-back update while it repeats.

    Arrays that come once (a mini-batch loop) cost nothing but their identity; the second
    time the same objects come, their contents are copied, and from the third on, equal
    contents mean the batch repeats.
    """

    def __init__(self, x, t):
        self.given = (x, t)  # the caller's objects: identity is the cheap first test
        self.seen = None  # copies of their contents, to catch in-place changes
        self.carried = None

    def is_given(self, x, t):
        return x is self.given[0] and t is self.given[1]

    def remember(self, x, t, inputs, targets):
        self.seen = (np.array(x), np.array(t))
        self.x = inputs.copy()
        self.targets = targets

    def same(self, x, t):
        if self.seen is None or not self.is_given(x, t):
            return False
        seen_x, seen_t = self.seen
        return np.array_equal(x, seen_x) and np.array_equal(t, seen_t)

    def start(self, params, offsets, sizes):
        w_first, _ = kernels._weights(params, offsets, sizes, 0)
        self.gram = self.x @ self.x.T
        self.carried = self.x @ w_first
        self.lr_d_sum = np.zeros_like(self.carried)
        self.d_first = np.empty_like(self.carried)


class MLP:
    """Multi-layer perceptron with ReLU hidden layers and a softmax output.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, input first (default ``(784, 200, 200, 10)``).
    weight_init_std : float
        Standard deviation of the initial weights (biases start at 0).
    seed : int or None
        Seed of a private generator; None draws from NumPy's global state (the source's way).
    dtype : float64 or float32
    gradient : {"sum", "mean"}
        ``"sum"`` (default): the source's maths, whose ``SoftmaxCrossEntropy.backward``
        applies ``y - t`` summed over the batch while the loss it reports is the batch mean,
        so a batch of 30 takes steps 3x those of a batch of 10 at the same ``lr``.
        ``"mean"``: the textbook's ``(y - t) / batch``, the gradient of the reported loss.

    Examples
    --------
    >>> import numpy as np
    >>> from fastaug.mlp import MLP
    >>> np.random.seed(0)
    >>> net = MLP((4, 8, 3))
    >>> x, t = np.random.rand(5, 4), np.array([0, 1, 2, 1, 0])
    >>> loss = net.step(x, t, lr=0.1)
    >>> round(float(loss), 3)
    1.099
    """

    def __init__(
        self,
        sizes: Sequence[int] = (784, 200, 200, 10),
        weight_init_std: float = 0.01,
        seed: int | None = None,
        dtype: DTypeLike = np.float64,
        gradient: str = "sum",
    ) -> None:
        sizes = tuple(int(s) for s in sizes)
        if gradient not in GRADIENTS:
            raise ValueError(f"gradient must be one of {GRADIENTS}; got {gradient!r}")
        self.gradient_mode = gradient
        self._mean = gradient == "mean"
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes must be at least two positive layer widths; got {sizes}")
        self.dtype: np.dtype[np.floating[Any]] = np.dtype(dtype)  # type: ignore[assignment]  # float32 or float64, checked below
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64; got {self.dtype}")
        if not np.isfinite(weight_init_std) or weight_init_std < 0:
            raise ValueError(f"weight_init_std must be finite and >= 0; got {weight_init_std}")
        self.sizes = np.asarray(sizes, np.int64)
        counts = [sizes[i] * sizes[i + 1] + sizes[i + 1] for i in range(len(sizes) - 1)]
        self.offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        self._buffer = np.zeros(sum(counts), self.dtype)
        self._grads = np.zeros_like(self._buffer)
        self._params = _Params()
        self._repeated: _RepeatedBatch | None = None  # the batch step() saw last: see step()
        rng = np.random.default_rng(seed) if seed is not None else None
        for i in range(len(sizes) - 1):
            w, b = kernels._weights(self._buffer, self.offsets, self.sizes, i)
            shape = (sizes[i], sizes[i + 1])
            # the source draws from NumPy's global generator; a seed gives a Generator
            w[...] = weight_init_std * (
                rng.standard_normal(shape) if rng is not None else np.random.randn(*shape)
            )
            dict.__setitem__(self._params, f"W{i + 1}", w)
            dict.__setitem__(self._params, f"b{i + 1}", b)

    @property
    def _flat(self):
        """The parameter buffer, with any update step() held back applied."""
        repeated = self._repeated
        if repeated is not None and repeated.carried is not None:
            with _blas_single_thread():
                kernels.mlp_apply_carried(
                    self._buffer, self.offsets, self.sizes, repeated.x, repeated.lr_d_sum
                )
            repeated.carried = None
        return self._buffer

    @property
    def params(self) -> dict[str, NDArray[Any]]:
        """``{"W1": ..., "b1": ..., ...}``: views of the weights (up to date when read here)."""
        self._flat  # noqa: B018  (applies what step() held back)
        return self._params

    def __reduce__(self):
        # Rebuilt from the buffer: params are views of it, and the held-back update applied.
        return _rebuild, (tuple(self.sizes.tolist()), self.dtype, self.gradient_mode, self._flat)

    def __repr__(self):
        return (
            f"MLP(sizes={tuple(self.sizes.tolist())}, dtype={self.dtype.name}, "
            f"gradient={self.gradient_mode!r})"
        )

    def copy(self) -> MLP:
        """An independent network with the same weights."""
        return _rebuild(tuple(self.sizes.tolist()), self.dtype, self.gradient_mode, self._flat)

    def __deepcopy__(self, memo):
        return self.copy()

    # ---------------------------------------------------------------- validation
    def _inputs(self, x):
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ValueError(f"x must have shape (batch, {self.sizes[0]}); got {x.shape}")
        if x.dtype.kind not in "biuf":
            raise ValueError(f"x must be numeric; got dtype {x.dtype}")
        x = np.ascontiguousarray(x, dtype=self.dtype)
        if not np.isfinite(x).all():
            raise ValueError("x contains NaN or infinite values")
        return x

    def _targets(self, t, batch):
        _nonempty(batch)
        t = np.asarray(t)
        classes = int(self.sizes[-1])
        if t.ndim == 1:
            if t.shape[0] != batch:
                raise ValueError(f"t has {t.shape[0]} labels for {batch} inputs")
            if t.dtype.kind not in "iu" or t.size and (t.min() < 0 or t.max() >= classes):
                raise ValueError(f"integer labels must lie in 0..{classes - 1}")
            one_hot = np.zeros((batch, classes), self.dtype)
            one_hot[np.arange(batch), t] = 1
            return one_hot
        if t.ndim == 2 and t.shape == (batch, classes):
            return np.ascontiguousarray(t, dtype=self.dtype)
        raise ValueError(
            f"t must be ({batch},) integer labels or ({batch}, {classes}) one-hot;"
            f" got shape {t.shape}"
        )

    @staticmethod
    def _lr(lr):
        if not np.isfinite(lr) or lr <= 0:
            raise ValueError(f"lr must be a positive finite number; got {lr}")
        return float(lr)

    # ---------------------------------------------------------------- maths
    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        """Softmax probabilities, shape (batch, classes)."""
        return kernels.mlp_forward(self._flat, self.offsets, self.sizes, self._inputs(x))

    def predict(self, x: NDArray[Any]) -> NDArray[Any]:
        """Predicted class of each input."""
        return self.forward(x).argmax(axis=1)

    def accuracy(self, x: NDArray[Any], t: NDArray[Any]) -> float:
        t = np.asarray(t)
        _nonempty(len(t))
        labels = t.argmax(axis=1) if t.ndim == 2 else t
        return float(np.mean(self.predict(x) == labels))

    def loss(self, x: NDArray[Any], t: NDArray[Any]) -> float:
        """Cross-entropy of the batch (no update)."""
        x = self._inputs(x)
        return float(
            kernels.mlp_loss_grad(
                self._flat,
                self.offsets,
                self.sizes,
                x,
                self._targets(t, len(x)),
                self._mean,
                np.empty_like(self._grads),
            )
        )

    def gradient(self, x: NDArray[Any], t: NDArray[Any]) -> dict[str, NDArray[Any]]:
        """Gradients as a dict like ``params``."""
        x = self._inputs(x)
        grads = np.zeros_like(self._flat)
        kernels.mlp_loss_grad(
            self._flat, self.offsets, self.sizes, x, self._targets(t, len(x)), self._mean, grads
        )
        return {
            f"{k}{i + 1}": part
            for i in range(len(self.sizes) - 1)
            for k, part in zip("Wb", kernels._weights(grads, self.offsets, self.sizes, i))
        }

    def step(self, x: NDArray[Any], t: NDArray[Any], lr: float) -> float:
        """One SGD step; returns the loss before the update.

        The source's loop calls this thousands of times on one small batch. When the same
        array objects come back with the same contents, the inputs are not checked again
        and W1's update is held back (see ``kernels.mlp.mlp_carried_step``): it is applied
        as soon as anything reads the weights (``params``, ``forward``, ``save``, ...) or
        another batch comes. A view such as ``W1 = net.params["W1"]`` kept across steps
        shows those steps once the network is next read.
        """
        lr = self._lr(lr)
        repeated = self._repeated
        if repeated is not None and repeated.same(x, t):
            if repeated.carried is None:
                repeated.start(self._buffer, self.offsets, self.sizes)
            with _blas_single_thread():
                return float(
                    kernels.mlp_carried_step(
                        self._buffer,
                        self.offsets,
                        self.sizes,
                        repeated.x,
                        repeated.targets,
                        self._mean,
                        self.dtype.type(lr),
                        repeated.gram,
                        repeated.carried,
                        repeated.lr_d_sum,
                        repeated.d_first,
                        self._grads,
                    )
                )
        self._flat  # noqa: B018  (another batch: apply what the last one held back)
        inputs = self._inputs(x)
        targets = self._targets(t, len(inputs))
        # The carried product pays off only while the batch is much smaller than the input.
        small = len(inputs) < self.sizes[0] and len(self.sizes) > 2
        if not small:
            self._repeated = None
        elif repeated is not None and repeated.seen is None and repeated.is_given(x, t):
            repeated.remember(x, t, inputs, targets)
        else:
            self._repeated = _RepeatedBatch(x, t)
        return float(self._steps(inputs, targets, lr, 1)[0])

    def _steps(self, x, t, lr, steps):
        losses = np.empty(steps)
        # Many steps on a small fixed batch: carry x @ W1 through the Gram matrix.
        kernel = (
            kernels.mlp_sgd_steps_fixed_batch
            if steps > 1 and len(x) < self.sizes[0]
            else kernels.mlp_sgd_steps
        )
        with _blas_single_thread():
            kernel(
                self._flat,
                self.offsets,
                self.sizes,
                x,
                self._targets(t, len(x)),
                self._mean,
                self.dtype.type(lr),
                losses,
                self._grads,
            )
        return losses

    def fit(
        self,
        x: NDArray[Any],
        t: NDArray[Any],
        *,
        steps: int | None = None,
        epochs: int | None = None,
        batch_size: int | None = None,
        lr: float,
        callback: Callable[..., Any] | None = None,
        seed: int | None = None,
    ) -> NDArray[Any]:
        """Train; returns the loss of every step (before its update).

        ``steps``: full-batch steps on ``(x, t)`` (the source's fixed-batch loop).
        ``epochs`` with ``batch_size``: shuffled mini-batches (``seed`` for the shuffle).
        ``callback(step, loss)`` is called after every step when given (slower).
        """
        x = self._inputs(x)
        lr = self._lr(lr)
        targets = self._targets(t, len(x))
        if (steps is None) == (epochs is None):
            raise ValueError("give exactly one of steps and epochs")
        if steps is not None:
            if steps < 1:
                raise ValueError(f"steps must be >= 1; got {steps}")
            if callback is None:
                return self._steps(x, targets, lr, int(steps))
            return np.array(
                [self._callback_step(x, targets, lr, k, callback) for k in range(int(steps))]
            )
        if epochs is None or epochs < 1 or batch_size is None or batch_size < 1:
            raise ValueError("epochs and batch_size must be >= 1")
        rng = np.random.default_rng(seed)
        losses: list[NDArray[Any]] = []
        per_epoch = -(-len(x) // int(batch_size))
        for _ in range(int(epochs)):
            order = rng.permutation(len(x))
            if callback is None:
                epoch_losses = np.empty(per_epoch)
                # Large batches: let BLAS use its threads (no per-step Python in between).
                limit = _blas_single_thread() if batch_size < 64 else contextlib.nullcontext()
                with limit:
                    kernels.mlp_sgd_epoch(
                        self._flat,
                        self.offsets,
                        self.sizes,
                        x,
                        targets,
                        self._mean,
                        order,
                        int(batch_size),
                        self.dtype.type(lr),
                        epoch_losses,
                        self._grads,
                    )
                losses.extend(epoch_losses)
                continue
            for k in range(0, len(x), batch_size):
                idx = order[k : k + batch_size]
                losses.append(self._callback_step(x[idx], targets[idx], lr, len(losses), callback))
        return np.array(losses)

    def _callback_step(self, x, targets, lr, k, callback):
        loss = self._steps(x, targets, lr, 1)[0]
        callback(k, loss)
        return loss

    # ---------------------------------------------------------------- files
    def save(self, path: str | os.PathLike[str]) -> None:
        """Parameters and sizes to an ``.npz`` (written atomically)."""
        from .io import atomic_path

        with atomic_path(path, force=True) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(
                    fh,
                    sizes=self.sizes,
                    gradient=np.array(self.gradient_mode),
                    **dict(self.params.items()),  # type: ignore[arg-type]  # NumPy's stub
                )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> MLP:
        """The network :meth:`save` wrote to ``path``.

        Raises :class:`NetworkFileError` (a ValueError), with what is wrong in one line, for
        any other file: not an ``.npz``, truncated, other arrays, shapes that do not fit the
        sizes, non-finite weights. Each array's header is checked before its data is read,
        so nothing beyond the file's own size is allocated.
        """
        arrays = _read_network(path)
        net = cls(
            tuple(arrays["sizes"].tolist()),
            weight_init_std=0.0,
            dtype=arrays["W1"].dtype,
            seed=0,
            gradient=str(arrays.get("gradient", "sum")),
        )
        for key in net.params:
            net.params[key] = arrays[key]
        return net


class NetworkFileError(ValueError):
    """A file :meth:`MLP.load` cannot read as a network (what is wrong, in one line)."""


def _read_network(path):
    """The arrays of a network file, checked against each other as they are read: ``sizes``
    first, then every header against the shape the sizes give it, then the data."""
    path = os.fspath(path)
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise NetworkFileError(f"{path}: not a network saved by MLP.save ({exc})") from None
    with archive:
        members = {info.filename: info for info in archive.infolist()}
        keys = {name[:-4] for name in members if name.endswith(".npy")}

        def read(key, check):
            info = members[f"{key}.npy"]
            if info.compress_type != zipfile.ZIP_STORED:
                raise NetworkFileError(f"{path}: {key} is compressed; MLP.save stores arrays")
            if info.header_offset + info.compress_size > os.path.getsize(path):
                raise NetworkFileError(f"{path}: {key} is truncated")
            try:
                with archive.open(info) as fh:
                    shape, fortran, dtype = read_npy_header(fh, key)
                    check(shape, dtype)
                    nbytes = math.prod(shape) * dtype.itemsize
                    if info.file_size - fh.tell() != nbytes:  # before reading anything
                        raise ValueError(
                            f"{info.file_size - fh.tell()} bytes of data for a {shape} "
                            f"{dtype} array"
                        )
                    data = fh.read(nbytes)
            except (ValueError, EOFError, OSError, zipfile.BadZipFile) as exc:
                raise NetworkFileError(f"{path}: {key} cannot be read ({exc})") from None
            if len(data) != nbytes:
                raise NetworkFileError(f"{path}: {key} is truncated")
            return np.frombuffer(data, dtype).reshape(shape, order="F" if fortran else "C")

        def expect(key, shape, kinds, dtype=None):
            def check(got_shape, got_dtype):
                if (
                    got_shape != shape
                    or got_dtype.kind not in kinds
                    or (dtype is not None and got_dtype != dtype)
                ):
                    raise ValueError(
                        f"expected {'an' if dtype is None else dtype} {shape} array, found "
                        f"{got_dtype} {got_shape}"
                    )

            return read(key, check)

        if not {"sizes", "W1"} <= keys or set(members) != {f"{key}.npy" for key in keys}:
            raise NetworkFileError(
                f"{path}: not a network saved by MLP.save (it holds "
                f"{', '.join(sorted(members)) or 'nothing'})"
            )

        def count(shape, dtype):
            if len(shape) != 1 or dtype.kind not in "iu" or not 2 <= shape[0] <= len(keys):
                raise ValueError(f"expected 2 or more integer layer widths, found {shape}")

        sizes = read("sizes", count)
        if sizes.min() < 1:
            raise NetworkFileError(f"{path}: layer widths must be positive; got {sizes}")
        layers = [f"{k}{i}" for i in range(1, len(sizes)) for k in "Wb"]
        expected = {"sizes", *layers} | ({"gradient"} & keys)
        if keys != expected:
            raise NetworkFileError(
                f"{path}: sizes {sizes.tolist()} need arrays {', '.join(layers)}; it holds "
                f"{', '.join(sorted(keys - {'sizes', 'gradient'}))}"
            )
        arrays = {"sizes": sizes}
        if "gradient" in keys:
            arrays["gradient"] = str(expect("gradient", (), "U"))
            if arrays["gradient"] not in GRADIENTS:
                raise NetworkFileError(
                    f"{path}: gradient must be one of {GRADIENTS}; got {arrays['gradient']!r}"
                )
        dtype = None
        for i in range(1, len(sizes)):
            for key, shape in (
                (f"W{i}", (int(sizes[i - 1]), int(sizes[i]))),
                (f"b{i}", (int(sizes[i]),)),
            ):
                arrays[key] = expect(key, shape, "f", dtype)
                dtype = arrays[key].dtype
                if dtype not in (np.float32, np.float64):
                    raise NetworkFileError(f"{path}: {key} is {dtype}; expected float32 or float64")
                if not np.isfinite(arrays[key]).all():
                    raise NetworkFileError(f"{path}: {key} holds NaN or infinite weights")
    return arrays


def _nonempty(batch):
    """A loss, a gradient, a step or an accuracy of no samples is a mean of nothing (NaN):
    refused rather than returned."""
    if not batch:
        raise ValueError("no samples: a loss, gradient, step or accuracy needs at least one")


def _rebuild(sizes, dtype, gradient, flat):
    net = MLP(sizes, weight_init_std=0.0, seed=0, dtype=dtype, gradient=gradient)
    net._buffer[...] = flat
    return net
