"""``fastaug verify``: samples of an augmented file recomputed with SciPy from its inputs."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import _validation as v
from .. import datasets
from .engine import OUTPUT_DTYPES, source_images
from .formats import open_output
from .sources import open_source
from .works import flat_params, random_work


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
    source = source_images(raw[: meta["sources"]], dtype)
    return source.__getitem__, len(source)


def _input_sources(path, meta, dtype):
    """:func:`_verify_sources` for an ``--input`` job: rows read from its input file."""
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
        return source_images(source.read(int(i), int(i) + 1), dtype, scale=meta.get("scale"))[0]

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
        names, values = flat_params(drawn)
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
