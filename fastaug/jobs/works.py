"""What a dataset job computes for each source: a :class:`Work` (fixed angles, or random
draws of a pipeline), independent of where the sources come from and where samples go."""

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from .. import _validation as v
from ..functional import augment_into

#: Most random copies of each source: the ``copy`` column is int16.
MAX_COPIES = int(np.iinfo(np.int16).max)


class Work(Protocol):
    """The copies a job makes of each source. ``copies``: how many (not counting the
    original); one pass over the sources makes the copies in ``items`` (a slice of
    :meth:`pass_items`), after the source itself when ``original``."""

    copies: int

    def pass_items(self) -> Sequence:
        """The copies, in file order (angles, or copy numbers)."""

    def one_copy(self) -> "Work":
        """The same work with its first copy only (what loading the kernels needs)."""

    def fill(
        self, chunk: np.ndarray, start: int, items: Sequence, original: bool, block: np.ndarray
    ) -> None:
        """Write into ``block`` each source of ``chunk`` (sources ``start ..``), then its
        copies ``items``: ``len(chunk) * (len(items) + original)`` samples."""

    def column_types(self) -> dict[str, tuple[tuple, np.dtype]]:
        """The work's per-sample columns: name -> (shape of one row, dtype), known without
        drawing any (the size checks come before the columns exist)."""

    def columns(self, n: int, original: bool, start: int, items: Sequence) -> dict:
        """The rows of :meth:`column_types` for sources ``start .. start + n``, each source
        then its copies ``items`` (as :meth:`fill` orders them)."""

    def titles(self, include_original: bool) -> list[str]:
        """A caption per copy, for previews."""

    def meta(self) -> dict:
        """The work's parameters, as the output's metadata records them."""


def per_copy_column(per_copy: np.ndarray, n: int) -> np.ndarray:
    """A column with one value per copy, for ``n`` sources each followed by its copies."""
    return np.tile(per_copy, n)


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
        self.interp = v.interpolation(order, mode, cval)
        self.copies = len(self.angles)

    def pass_items(self):
        return self.angles

    def one_copy(self):
        # 3600 angles would make 3600 plans before the first chunk could start
        return FixedAngles(self.angles[:1], *self.interp[:3])

    def fill(self, chunk, start, items, original, block):
        augment_into(
            chunk,
            items,
            block,
            include_original=original,
            layout="interleaved",
            interp=self.interp,
            channel=None if chunk.ndim == 3 else 3,  # files hold channels last
        )

    def column_types(self):
        return {"angle": ((), np.dtype(np.float32))}

    def columns(self, n, original, start, items):
        per_copy = ([0.0] if original else []) + list(items)
        return {"angle": per_copy_column(np.asarray(per_copy, np.float32), n)}

    def titles(self, include_original):
        return [f"{a:+g} deg" for a in ([0.0] if include_original else []) + self.angles]

    def meta(self):
        order, mode, cval, _ = self.interp
        return dict(angles=self.angles, order=order, mode=mode, cval=cval)


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
        return RandomDraws(self.pipeline, 1, self.seed, self.name, self.rotation, self.arguments)

    def fill(self, chunk, start, items, original, block):
        grid = block.reshape((len(chunk), len(items) + original) + chunk.shape[1:])
        if original:
            grid[:, 0] = chunk
        for j, copy in enumerate(items):
            grid[:, original + j] = self.pipeline(chunk, seed=self.seed, epoch=copy, start=start)

    def column_types(self):
        types = {
            "copy": ((), np.dtype(np.int16)),
            "params": ((len(self.param_names),), np.dtype(np.float64)),
        }
        if self.rotation is not None:
            types["angle"] = ((), np.dtype(np.float64))  # as drawn
        return types

    def columns(self, n, original, start, items):
        items = list(items)
        names = self.param_names
        per_copy = [
            flat_params(self.pipeline.draw_params(n, seed=self.seed, epoch=copy, start=start))[1]
            for copy in items
        ]
        if original:
            per_copy.insert(0, np.full((n, len(names)), np.nan))
        copy_ids = np.asarray(([-1] if original else []) + items, np.int16)
        stacked = np.stack(per_copy).transpose(1, 0, 2)  # (n, copies, parameters)
        columns = {
            "copy": per_copy_column(copy_ids, n),
            "params": np.ascontiguousarray(stacked.reshape(-1, stacked.shape[-1])),
        }
        if self.rotation is not None:
            angles = columns["params"][:, names.index("0:RandomRotation.angle")]
            columns["angle"] = np.nan_to_num(angles, nan=0.0)
        return columns

    @property
    def param_names(self):
        """The names of the ``params`` columns (one draw shows them)."""
        return flat_params(self.pipeline.draw_params(1, seed=self.seed))[0]

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


def flat_params(params):
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


def random_work(random_rotation=None, pipeline=None, *, copies=1, seed=0, order=3,
                mode="nearest", cval=0.0):  # fmt: skip
    """The :class:`RandomDraws` of ``--random-rotation DEGREES`` or ``--pipeline NAME``."""
    from .. import presets
    from ..transforms import Compose, RandomRotation

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
