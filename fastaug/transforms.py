"""Random augmentation transforms and their composition, drawn per sample and deterministic.

Every transform only validates its arguments, draws its parameters and calls the functional
layer (``affine_each`` for geometry, NumPy/SciPy or ``fastaug.draws`` for the rest).
Parameters are drawn up front on the host from a counter-based generator keyed by (seed,
epoch, transform, global sample index) (:mod:`fastaug.draws`), so a sample's result does
not depend on thread count, chunk size or the order samples are processed in, and a call
can be read back (``last_params``) and replayed exactly (``replay``).

Consecutive geometric transforms in a :class:`Compose` (rotations, affines, flips, and
:class:`OneOf` made of them) are composed into one matrix per sample and applied as **one**
resampling: interpolating twice would blur twice. A sample none of them moved is copied
unchanged, and one that is only flipped is flipped by indexing, exactly.

Conventions (torchvision's and albumentations' names; SciPy's geometry): images ``(N, H, W)``
or ``(N, H, W, C)`` (``channel_axis`` as in :func:`fastaug.affine_each`); angles in degrees,
counter-clockwise as :func:`fastaug.rotate`; a range ``(lo, hi)`` is drawn uniformly and a
single number ``d`` means ``(-d, d)``. Photometric transforms work in float64 on the
image's own scale, whose top ``max_value`` is 1.0 for float images, 255 for uint8 (the
dtype's maximum for other integers, 1 for bool), and clip to ``[0, max_value]``; the result
is stored in the input dtype (integers rounded half away from zero, as SciPy stores).
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import ndimage

from . import _validation as v
from . import cuda as gpu
from . import draws
from .backends.cpu import stored_as
from .functional import _plane_axes, affine_batch
from .geometry import affine_pullback, flip_pullbacks, homogeneous, rotation_matrices
from .kernels.photometric import scale_shift_clip as _scale_shift_clip
from .resampling import Interp

_SLOTS = 8  #: random numbers a transform may draw per sample (stream ``8 * node + slot``)


# --------------------------------------------------------------------------- arguments
def _probability(p):
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"p must be a probability in [0, 1]; got {p!r}")
    return float(p)


def _range(value, name, *, symmetric=True, low=None, high=None):
    """A number ``d`` -> ``(-d, d)`` (``symmetric``) or ``(d, d)``; a pair -> itself. Values
    are checked as every angle of the API is (:func:`fastaug._validation.finite_reals`)."""
    what = "a number or a pair (lo, hi) of real numbers"
    arr = v.finite_reals(value, name, what)
    if arr.ndim == 0:
        d = float(arr)
        if symmetric and d < 0:
            raise ValueError(f"{name} must be >= 0 when a single number; got {value!r}")
        pair = (-d, d) if symmetric else (d, d)
    elif arr.shape == (2,) and arr[0] <= arr[1]:
        pair = (float(arr[0]), float(arr[1]))
    else:
        raise ValueError(f"{name} must be {what} with lo <= hi; got {value!r}")
    if (low is not None and pair[0] < low) or (high is not None and pair[1] > high):
        raise ValueError(f"{name} must lie in [{low}, {high}]; got {value!r}")
    return pair


def _scaled(lo_hi, u):
    lo, hi = lo_hi
    return lo + (hi - lo) * u


def max_value(dtype):
    """The top of an image dtype's scale: 1.0 for floats and bool, else the integer maximum."""
    dtype = np.dtype(dtype)
    if dtype.kind in "fb":
        return 1.0
    return float(np.iinfo(dtype).max)


# --------------------------------------------------------------------------- base classes
class Transform:
    """A random transform applied to each sample with probability ``p``.

    Subclasses define ``draw(uniform, n)``: this transform's parameters for ``n`` samples (a
    dict of arrays), from ``uniform(slot)`` (``slot`` 1-7; slot 0 decides ``p``).
    """

    geometric = False

    def __init__(self, p: float = 1.0) -> None:
        self.p = _probability(p)

    def draw(self, uniform, n):
        return {}

    def apply_on_gpu(self, values, n_elements, rows, params, context):
        """This photometric transform on a GPU batch (flat float64 ``values``)."""
        raise NotImplementedError(f"{type(self).__name__} does not run on the GPU yet")

    def __call__(self, images: ArrayLike, labels: ArrayLike | None = None, **kwargs: Any) -> Any:
        """This transform alone as a pipeline: see :meth:`Compose.__call__`."""
        return Compose([self])(images, labels, **kwargs)

    def _tree(self):
        return [self]

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class GeometricTransform(Transform):
    """A transform given by one affine pull-back per sample: ``matrices(params, n, plane)``
    returns homogeneous ``(n, 3, 3)`` maps from output ``(row, col)`` to input
    coordinates. ``order``, ``mode`` and ``cval`` as in :func:`fastaug.rotate` (default
    order 1, the peers' bilinear, and mode ``'constant'`` with ``cval`` 0)."""

    geometric = True

    def __init__(
        self, p: float = 1.0, order: int = 1, mode: str = "constant", cval: float = 0.0
    ) -> None:
        super().__init__(p)
        self.order, self.mode, self.cval, _ = v.interpolation(order, mode, cval)

    @property
    def interp(self):
        """How a group this transform moves is resampled (an :class:`Interp`; None: any,
        a flip)."""
        return Interp(self.order, self.mode, self.cval)


# --------------------------------------------------------------------------- geometry
class RandomRotation(GeometricTransform):
    """Rotate about the centre by an angle drawn from ``degrees`` (a number ``d``: ``(-d,
    d)``), shape kept: with a fixed angle, exactly ``fastaug.rotate(image, angle,
    reshape=False, ...)``."""

    def __init__(
        self,
        degrees: float | tuple[float, float],
        *,
        p: float = 1.0,
        order: int = 1,
        mode: str = "constant",
        cval: float = 0.0,
    ) -> None:
        super().__init__(p, order, mode, cval)
        self.degrees = _range(degrees, "degrees")

    def draw(self, uniform, n):
        return {"angle": _scaled(self.degrees, uniform(1))}

    def matrices(self, params, n, plane):
        return homogeneous(*rotation_matrices(params["angle"], plane))


class RandomAffine(GeometricTransform):
    """Rotation, translation, scale and shear about the centre, drawn per sample
    (torchvision's ``RandomAffine`` parameters).

    ``degrees``: a number ``d`` (``(-d, d)``) or a range. ``translate=(a, b)``: shifts of up
    to ``a * W`` columns and ``b * H`` rows (fractions in [0, 1]). ``scale=(lo, hi)``: zoom
    factors (> 0). ``shear``: degrees along x (a number ``d`` or a range), or four numbers,
    the x range then the y range. See :func:`affine_pullback` for the motion.
    """

    def __init__(
        self,
        degrees: float | tuple[float, float] = 0,
        translate: tuple[float, float] | None = None,
        scale: tuple[float, float] | None = None,
        shear: float | Sequence[float] | None = None,
        *,
        p: float = 1.0,
        order: int = 1,
        mode: str = "constant",
        cval: float = 0.0,
    ) -> None:
        super().__init__(p, order, mode, cval)
        self.degrees = _range(degrees, "degrees")
        self.translate = None
        if translate is not None:
            # two fractions (of the width, of the height), not a range: (0.2, 0.0) is valid
            if isinstance(translate, (numbers.Real, str, bytes)) or np.shape(translate) != (2,):
                raise ValueError(f"translate must be a pair (a, b) of fractions; got {translate!r}")
            self.translate = tuple(
                _range(f, "translate", symmetric=False, low=0.0, high=1.0)[0] for f in translate
            )
        self.scale = None
        if scale is not None:
            self.scale = _range(scale, "scale", symmetric=False)
            if self.scale[0] <= 0:
                raise ValueError(f"scale must be > 0; got {scale!r}")
        self.shear = None
        if shear is not None:
            four = v.finite_reals(shear, "shear", "a number, a pair or four real numbers")
            if four.shape == (4,):
                x_range = _range(four[:2], "shear", low=-89.0, high=89.0)
                y_range = _range(four[2:], "shear", low=-89.0, high=89.0)
            else:
                x_range, y_range = _range(shear, "shear", low=-89.0, high=89.0), (0.0, 0.0)
            self.shear = (x_range, y_range)

    def draw(self, uniform, n):
        zero = np.zeros(n)
        shift = np.stack([zero, zero], -1)
        if self.translate is not None:
            # translate = (a, b): a of the width (columns), b of the height (rows)
            rows = _scaled((-self.translate[1], self.translate[1]), uniform(3))
            cols = _scaled((-self.translate[0], self.translate[0]), uniform(2))
            shift = np.stack([rows, cols], -1)
        shear = np.stack([zero, zero], -1)
        if self.shear is not None:
            shear = np.stack(
                [_scaled(self.shear[1], uniform(6)), _scaled(self.shear[0], uniform(5))], -1
            )
        return {
            "angle": _scaled(self.degrees, uniform(1)),
            "shift_fraction": shift,
            "scale": _scaled(self.scale, uniform(4)) if self.scale else np.ones(n),
            "shear": shear,
        }

    def matrices(self, params, n, plane):
        shift = params["shift_fraction"] * np.asarray(plane, dtype=np.float64)
        return affine_pullback(params["angle"], shift, params["scale"], params["shear"], plane)


class _Flip(GeometricTransform):
    axis = 0  #: 0: rows (top-bottom), 1: columns (left-right)

    def __init__(self, *, p: float = 0.5) -> None:
        super().__init__(p)

    @property
    def interp(self):
        return None  # exact by indexing; inside a group it takes the group's resampling

    def matrices(self, params, n, plane):
        return flip_pullbacks(self.axis, n, plane)


class HorizontalFlip(_Flip):
    """Mirror left-right with probability ``p`` (default 0.5); exact (by indexing) unless
    another geometric transform moves the same sample."""

    axis = 1


class VerticalFlip(_Flip):
    """Mirror top-bottom with probability ``p`` (default 0.5); exact (by indexing) unless
    another geometric transform moves the same sample."""

    axis = 0


# --------------------------------------------------------------------------- photometric
class GaussianNoise(Transform):
    """Add ``std * max_value * z`` to every value, ``z`` standard normal (counter-based:
    the same for any thread count or chunking), then clip to ``[0, max_value]``. ``std``: a
    number or a range drawn per sample, >= 0."""

    def __init__(self, std: float | tuple[float, float] = 0.05, *, p: float = 1.0) -> None:
        super().__init__(p)
        self.std = _range(std, "std", symmetric=False, low=0.0)

    def draw(self, uniform, n):
        return {"std": _scaled(self.std, uniform(1))}

    def apply(self, values, rows, params, context):
        scales = np.zeros(len(values))
        scales[rows] = params["std"][rows] * context.max_value
        draws.add_noise(values, context.ids, context.key(7), scales, 0.0, context.max_value)

    def apply_on_gpu(self, values, n_elements, rows, params, context):
        scales = np.zeros(len(context.ids))
        scales[rows] = params["std"][rows] * context.max_value
        key = context.key(7)
        gpu.backend().add_noise(
            values, n_elements, context.ids, key, draws.retry_key(key), scales, 0.0,
            context.max_value,
        )  # fmt: skip


class GaussianBlur(Transform):
    """``scipy.ndimage.gaussian_filter`` over each image's plane (channels apart), with
    ``sigma`` a number or a range drawn per sample (> 0); SciPy's defaults (mode 'reflect',
    truncate 4.0)."""

    def __init__(self, sigma: float | tuple[float, float] = 1.0, *, p: float = 1.0) -> None:
        super().__init__(p)
        self.sigma = _range(sigma, "sigma", symmetric=False, low=0.0)
        if self.sigma[0] <= 0:
            raise ValueError(f"sigma must be > 0; got {sigma!r}")

    def draw(self, uniform, n):
        return {"sigma": _scaled(self.sigma, uniform(1))}

    def apply(self, values, rows, params, context):
        images = values.reshape((len(values),) + context.sample_shape)
        axes = [a - 1 for a in context.plane_axes]
        sigmas = params["sigma"]
        # One call per distinct sigma: a fixed sigma blurs the whole batch at once.
        for sigma in np.unique(sigmas[rows]):
            chosen = rows[sigmas[rows] == sigma]
            per_axis = [0.0] * (images.ndim - 1)
            for axis in axes:
                per_axis[axis] = sigma
            images[chosen] = ndimage.gaussian_filter(images[chosen], [0.0] + per_axis)


class BrightnessContrast(Transform):
    """``alpha * x + beta * max_value``, clipped to ``[0, max_value]``, with ``alpha = 1 +
    U(-contrast, contrast)`` and ``beta = U(-brightness, brightness)`` per sample
    (albumentations' ``RandomBrightnessContrast``); numbers or ranges."""

    def __init__(
        self,
        brightness: float | tuple[float, float] = 0.2,
        contrast: float | tuple[float, float] = 0.2,
        *,
        p: float = 1.0,
    ) -> None:
        super().__init__(p)
        self.brightness = _range(brightness, "brightness")
        self.contrast = _range(contrast, "contrast")

    def draw(self, uniform, n):
        return {
            "alpha": 1.0 + _scaled(self.contrast, uniform(1)),
            "beta": _scaled(self.brightness, uniform(2)),
        }

    def apply(self, values, rows, params, context):
        top = context.max_value
        alphas = np.ascontiguousarray(params["alpha"], dtype=np.float64)
        betas = params["beta"] * top

        def kernel(part):
            _scale_shift_clip(values, part, alphas, betas, 0.0, top)

        draws.for_rows(rows, kernel)

    def apply_on_gpu(self, values, n_elements, rows, params, context):
        top = context.max_value
        applied = np.zeros(len(context.ids), bool)
        applied[rows] = True
        gpu.backend().scale_shift_clip(
            values, n_elements, applied, params["alpha"], params["beta"] * top, 0.0, top
        )


# --------------------------------------------------------------------------- composition
class OneOf(Transform):
    """Apply one of ``transforms`` to each sample (chosen uniformly), with probability
    ``p``; the chosen transform's own ``p`` applies too. Made only of geometric
    transforms, it joins the resampling of its geometric neighbours."""

    def __init__(self, transforms: Sequence[Transform], *, p: float = 1.0) -> None:
        super().__init__(p)
        self.transforms = _transform_list(transforms, "OneOf")

    def draw(self, uniform, n):
        choice = np.minimum(
            (uniform(1) * len(self.transforms)).astype(np.int64), len(self.transforms) - 1
        )
        return {"choice": choice}

    def _tree(self):
        return [self] + [node for t in self.transforms for node in t._tree()]


def _transform_list(transforms, name):
    if isinstance(transforms, Transform):
        raise ValueError(f"{name} takes a list of transforms; got a single {transforms!r}")
    transforms = list(transforms)
    if not transforms:
        raise ValueError(f"{name} needs at least one transform; got an empty list")
    for t in transforms:
        if not isinstance(t, Transform):
            raise ValueError(f"{name}: {t!r} is not a fastaug transform")
    return transforms


class _Context:
    """What photometric transforms need besides their parameters."""

    def __init__(self, params, stream, max_value, sample_shape, plane_axes):
        self.ids = params.indices
        self._params = params
        self._stream = stream
        self.max_value = max_value
        self.sample_shape = sample_shape
        self.plane_axes = plane_axes

    def key(self, slot):
        return draws.stream_key(self._params.seed, self._params.epoch, _SLOTS * self._stream + slot)


class Params:
    """The parameters of one pipeline call, for reading back and :meth:`Compose.replay`.

    ``seed``, ``epoch``, ``indices`` (the global sample index of each image) and
    ``transforms``: one entry per transform, depth first (a :class:`OneOf` before its
    members), each a dict with ``transform`` (its repr), ``applied`` (bool per sample) and
    its drawn values (arrays, one entry per sample).
    """

    def __init__(self, seed, epoch, indices, transforms):
        self.seed, self.epoch, self.indices, self.transforms = seed, epoch, indices, transforms

    def __repr__(self):
        return (
            f"Params(seed={self.seed}, epoch={self.epoch}, samples={len(self.indices)}, "
            f"transforms={[t['transform'] for t in self.transforms]})"
        )


class Compose(Transform):
    """Apply ``transforms`` in order: the pipeline.

    ``pipeline(images, labels=None, *, seed, epoch=0, start=0, indices=None, masks=None,
    channel_axis=None)`` returns the augmented images (a new array, the input dtype), with
    ``labels`` (unchanged) and ``masks`` (moved like the images, order 0, no photometric
    change) when given. ``images[i]`` is global sample ``start + i`` (or ``indices[i]``):
    its parameters depend only on ``(seed, epoch, sample)``. :attr:`last_params` holds the
    parameters of the last call; :meth:`replay` applies them again.

    Examples
    --------
    >>> import numpy as np
    >>> from fastaug.transforms import Compose, RandomAffine, GaussianNoise
    >>> pipeline = Compose([RandomAffine(degrees=15, translate=(0.1, 0.1)), GaussianNoise(0.05)])
    >>> x = np.zeros((8, 28, 28), np.float32)
    >>> out = pipeline(x, seed=0)
    >>> np.array_equal(out[4:], pipeline(x[4:], seed=0, start=4))
    True
    """

    def __init__(self, transforms: Sequence[Transform]) -> None:
        self.p = 1.0
        self.transforms: list[Transform] = []
        for t in _transform_list(transforms, "Compose"):
            self.transforms.extend(t.transforms if isinstance(t, Compose) else [t])
        self.last_params: Params | None = None

    def _tree(self):
        return [node for t in self.transforms for node in t._tree()]

    # ----------------------------------------------------------------- drawing
    def draw_params(
        self,
        n: int,
        *,
        seed: int,
        epoch: int = 0,
        start: int = 0,
        indices: ArrayLike | None = None,
    ) -> Params:
        """The parameters a call on ``n`` images would use (nothing is applied)."""
        seed, epoch = v.random_counter(seed, "seed"), v.random_counter(epoch, "epoch")
        if indices is None:
            indices = np.arange(_integer(start, "start", low=0), _integer(start, "start") + n)
        else:
            indices = np.asarray(indices)
            if indices.shape != (n,) or indices.dtype.kind not in "iu" or (n and indices.min() < 0):
                raise ValueError(
                    f"indices must be {n} non-negative integers, one per image; got "
                    f"shape {indices.shape}, dtype {indices.dtype}"
                )
        indices = indices.astype(np.int64)
        entries: list[dict[str, Any]] = []
        self._draw(self.transforms, np.ones(n, bool), seed, epoch, indices, entries)
        return Params(seed, epoch, indices, entries)

    def _draw(self, transforms, gate, seed, epoch, indices, entries):
        for t in transforms:
            if isinstance(t, Compose):
                self._draw(t.transforms, gate, seed, epoch, indices, entries)
                continue
            stream = len(entries)

            def uniform(slot, stream=stream):
                return draws.uniforms(
                    draws.stream_key(seed, epoch, _SLOTS * stream + slot), indices
                )

            applied = gate & (uniform(0) < t.p)
            entries.append(
                {"transform": repr(t), "applied": applied, **t.draw(uniform, len(indices))}
            )
            if isinstance(t, OneOf):
                for j, member in enumerate(t.transforms):
                    chosen = applied & (entries[stream]["choice"] == j)
                    self._draw([member], chosen, seed, epoch, indices, entries)

    # ----------------------------------------------------------------- applying
    def __call__(  # type: ignore[override]  # the pipeline's call takes the draw's keys
        self,
        images: ArrayLike,
        labels: ArrayLike | None = None,
        *,
        seed: int,
        epoch: int = 0,
        start: int = 0,
        indices: ArrayLike | None = None,
        masks: ArrayLike | None = None,
        channel_axis: int | None = None,
    ) -> Any:
        if gpu.is_device_array(images):  # CuPy, torch CUDA: drawn here, run on the GPU
            arr: Any = images
            n = gpu.batch_input(images)[1][0]
        else:
            arr = v.image_batch(images)
            n = len(arr)
        params = self.draw_params(n, seed=seed, epoch=epoch, start=start, indices=indices)
        self.last_params = params
        return self.replay(arr, params, labels=labels, masks=masks, channel_axis=channel_axis)

    def _replay_on_gpu(self, images, params, labels, masks, channel_axis):
        if masks is not None:
            raise NotImplementedError("masks are not moved on the GPU yet")
        n = gpu.batch_input(images)[1][0]
        if len(params.indices) != n:
            raise ValueError(f"params are for {len(params.indices)} images; got {n}")
        leaves = [
            (node, e)
            for node, e in zip(self._tree(), params.transforms)
            if not isinstance(node, OneOf)
        ]
        out = _run_stages_on_gpu(images, leaves, params, channel_axis)
        return out if labels is None else (out, labels)

    def replay(
        self,
        images: ArrayLike,
        params: Params | None = None,
        *,
        labels: ArrayLike | None = None,
        masks: ArrayLike | None = None,
        channel_axis: int | None = None,
    ) -> Any:
        """Apply ``params`` (default: :attr:`last_params`) to ``images``: the same result as
        the call that drew them."""
        params = self.last_params if params is None else params
        if params is None:
            raise ValueError("nothing to replay: call the pipeline first or pass params")
        if gpu.is_device_array(images):  # CuPy, torch CUDA: the CUDA backend
            return self._replay_on_gpu(images, params, labels, masks, channel_axis)
        arr = v.image_batch(images)
        n = arr.shape[0]
        if len(params.indices) != n:
            raise ValueError(f"params are for {len(params.indices)} images; got {n}")
        channel = v.channel_axis(arr.shape, channel_axis)
        if labels is not None:
            labels = np.asarray(labels)
            if labels.ndim == 0 or labels.shape[0] != n:
                raise ValueError(
                    f"labels must have one entry per image ({n}); got shape {labels.shape}"
                )
        if masks is not None:
            masks = np.asarray(masks)
            axes = _plane_axes(channel)
            plane = (arr.shape[axes[0]], arr.shape[axes[1]])
            if masks.shape != (n,) + plane:
                raise ValueError(
                    f"masks must have shape (N, H, W) = {(n,) + plane}; got {masks.shape}"
                )
            if masks.dtype.kind not in "biu":
                warnings.warn(
                    f"masks of dtype {masks.dtype} are resampled with order 0 like label maps; "
                    "pass integer or bool masks", stacklevel=2,
                )  # fmt: skip
        leaves = [
            (node, e)
            for node, e in zip(self._tree(), params.transforms)
            if not isinstance(node, OneOf)
        ]
        out, out_masks = _run_stages(arr, leaves, params, channel, masks)
        result = (
            (out,)
            + ((labels,) if labels is not None else ())
            + ((out_masks,) if masks is not None else ())
        )
        return result[0] if len(result) == 1 else result


def _run_stages_on_gpu(images, leaves, params, channel_axis):
    """:func:`_run_stages` on a GPU batch: the same stages and dtypes, each on the device;
    the parameters are the host's draws, so a seed gives the CPU's images."""
    view, shape, dtype = gpu.batch_input(images)
    gpu.check_channels(shape, channel_axis)
    n = shape[0]
    dtype = np.dtype(dtype.name)
    plane = tuple(shape[-2:])
    stages = _stages(leaves)
    if any(kind == "photometric" for kind, _ in stages) and dtype.kind == "b":
        raise ValueError("photometric transforms need numeric images; got bool images")
    kinds = gpu.backend().kernels
    current, values = view, None  # values: the flat float64 batch between photometric stages
    for k, (kind, items) in enumerate(stages):
        target = dtype if k == len(stages) - 1 else np.dtype(np.float64)
        if kind == "geometric":
            if values is not None:
                current, values = values.reshape(shape), None
            pull, moved, interpolated, interp = _group_maps(items, n, plane, current.dtype)
            flip_rows, flip_cols = pull[:, 0, 0] < 0, pull[:, 1, 1] < 0
            flips = np.select(
                [flip_rows & flip_cols, flip_rows, flip_cols],
                [kinds.FLIP_BOTH, kinds.FLIP_ROWS, kinds.FLIP_COLUMNS],
                kinds.COPY,
            )
            sample_kinds = np.where(
                interpolated, kinds.RESAMPLE, np.where(moved, flips, kinds.COPY)
            )
            current = gpu.moved_batch(current, shape, pull, sample_kinds, interp, target)
            continue
        node, entry = items[0]
        if values is None:
            values = gpu.as_doubles(current, shape)
        rows = np.flatnonzero(entry["applied"])
        if rows.size:
            stream = next(i for i, e in enumerate(params.transforms) if e is entry)
            context = _Context(params, stream, max_value(dtype), tuple(shape[1:]), (2, 3))
            node.apply_on_gpu(values, int(np.prod(shape[1:])), rows, entry, context)
        if target != np.float64:
            current, values = gpu.stored(values, shape, target), None
    if values is not None:
        current = values.reshape(shape)
    if not stages or current is view:
        current = gpu.moved_batch(
            view, shape, np.tile(np.eye(3), (n, 1, 1)), np.full(n, kinds.COPY), None, dtype
        )
    return gpu.like_input(images, current)


def _integer(value, name, low=None):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer; got {value!r}")
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}; got {value!r}")
    return int(value)


def _stages(leaves):
    """Runs of geometric transforms sharing one resampling, and photometric ones alone."""
    stages = []
    for node, entry in leaves:
        if node.geometric:
            last = stages[-1] if stages else None
            if last is not None and last[0] == "geometric":
                settings = {n.interp for n, _ in last[1]} - {None}
                if node.interp is None or not settings or node.interp in settings:
                    last[1].append((node, entry))
                    continue
            stages.append(("geometric", [(node, entry)]))
        else:
            stages.append(("photometric", [(node, entry)]))
    return stages


def _run_stages(arr, leaves, params, channel, masks):
    n = arr.shape[0]
    dtype = np.dtype(arr.dtype.name)  # native order
    axes = _plane_axes(channel)
    plane = (arr.shape[axes[0]], arr.shape[axes[1]])
    stages = _stages(leaves)
    if any(kind == "photometric" for kind, _ in stages) and dtype.kind == "b":
        raise ValueError("photometric transforms need numeric images; got bool images")
    current = arr
    for k, (kind, items) in enumerate(stages):
        target = dtype if k == len(stages) - 1 else np.dtype(np.float64)
        if kind == "geometric":
            current, masks = _resample(current, masks, items, plane, channel, target)
            continue
        node, entry = items[0]
        owned = current is not arr and current.dtype == np.float64 and current.flags.c_contiguous
        values = (current if owned else np.array(current, np.float64, order="C")).reshape(n, -1)
        rows = np.flatnonzero(entry["applied"])
        if rows.size:
            sample_shape = arr.shape[1:]
            stream = next(i for i, e in enumerate(params.transforms) if e is entry)
            context = _Context(params, stream, max_value(dtype), sample_shape, axes)
            node.apply(values, rows, entry, context)
        current = values.reshape(arr.shape)
        if target != np.float64:
            current = stored_as(current, target)
    if not stages:
        current = arr.astype(dtype, copy=True)
    return current, masks


def _group_maps(items, n, plane, dtype):
    """The pull-backs of one geometric group, on the host: ``(pull, moved, interpolated,
    interp)``: each sample's product of the group's homogeneous maps (earlier ones first),
    which samples move, which of those are interpolated (not just flipped), and how."""
    pull = np.tile(np.eye(3), (n, 1, 1))
    moved = np.zeros(n, bool)
    interpolated = np.zeros(n, bool)
    interp = next((node.interp for node, _ in items if node.interp), None)
    for node, entry in items:
        applied = entry["applied"]
        if not applied.any():
            continue
        chosen = {
            k: a[applied]
            for k, a in entry.items()
            if isinstance(a, np.ndarray) and a.shape[:1] == (n,)
        }
        # Applied first, then this one: the input point is (earlier pull-backs) @ (this one).
        pull[applied] = pull[applied] @ node.matrices(chosen, int(applied.sum()), plane)
        moved |= applied
        if node.interp is not None:
            interpolated |= applied
        if node.interp is not None and node.order > 0 and dtype.kind == "b":
            warnings.warn(
                "bool images look like label maps: interpolating them with order "
                f"{node.order} mixes labels; pass them as masks= (moved with order 0)",
                stacklevel=5,
            )
    return pull, moved, interpolated, interp


def _resample(src, masks, items, plane, channel, target):
    """One resampling of every sample by the product of the group's pull-backs."""
    n = src.shape[0]
    pull, moved, interpolated, interp = _group_maps(items, n, plane, src.dtype)
    out = np.empty(src.shape, target)
    out_masks = None if masks is None else np.empty_like(masks)
    still = ~moved
    out[still] = (
        src[still] if src.dtype == target else stored_as(np.asarray(src[still], np.float64), target)
    )
    if masks is not None:
        out_masks[still] = masks[still]
    flipped = moved & ~interpolated
    axes = _plane_axes(channel)
    for flip_rows in (False, True):
        for flip_cols in (False, True):
            chosen = (
                flipped & ((pull[:, 0, 0] < 0) == flip_rows) & ((pull[:, 1, 1] < 0) == flip_cols)
            )
            if not chosen.any():
                continue
            flip_axes = [a for a, f in zip(axes, (flip_rows, flip_cols)) if f]
            block = np.flip(src[chosen], flip_axes) if flip_axes else src[chosen]
            out[chosen] = (
                block if src.dtype == target else stored_as(np.asarray(block, np.float64), target)
            )
            if masks is not None:
                mask_axes = [a for a, f in zip((1, 2), (flip_rows, flip_cols)) if f]
                out_masks[chosen] = (
                    np.flip(masks[chosen], mask_axes) if mask_axes else masks[chosen]
                )
    if interpolated.any():
        every = bool(interpolated.all())  # the usual case: no subset copies
        chosen = slice(None) if every else interpolated
        matrices = np.ascontiguousarray(pull[chosen, :2, :2])
        offsets = np.ascontiguousarray(pull[chosen, :2, 2])
        moved_out = out if every else np.empty((int(interpolated.sum()),) + src.shape[1:], target)
        affine_batch(src[chosen], channel, matrices, offsets, interp, moved_out)
        if not every:
            out[chosen] = moved_out
        if masks is not None:
            moved_masks = np.empty_like(masks[chosen])
            label_interp = Interp(0, interp.mode, 0.0)  # labels move without mixing
            affine_batch(masks[chosen], None, matrices, offsets, label_interp, moved_masks)
            out_masks[chosen] = moved_masks
    return out, out_masks
