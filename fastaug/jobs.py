"""Whole jobs behind the command line: augment a dataset to a file, describe it, verify it.

Each is one public function the CLI calls; they validate, stream the work in chunks into a
preallocated output and write it atomically (see :mod:`fastaug.io`).
"""
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__, _validation as v, datasets, io
from .functional import LAYOUTS, augment_into

#: Images per chunk: big enough for the kernel's tiles and threads, small enough for a
#: responsive progress bar and Ctrl-C.
CHUNK = 8192
OUTPUT_DTYPES = ("float32", "uint8")


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
        return (f"wrote {self.samples:,} samples ({self.sources:,} sources x "
                f"{self.samples // max(self.sources, 1)}) = {self.bytes / 1e6:,.1f} MB to "
                f"{', '.join(str(p) for p in self.paths)} in {self.seconds:.2f} s "
                f"({self.images_per_second:,.0f} images/s)")


def _source_images(images, dtype):
    if dtype == "float32":
        # As the textbook loader: astype(float32), then /= 255 (one allocation).
        scaled = images.astype(np.float32)
        scaled /= np.float32(255)
        return scaled
    return images


def augment_dataset(angles, *, dataset="mnist", data=None, split="train", order=3,
                    mode="nearest", cval=0.0, dtype="float32", layout="interleaved",
                    include_original=True, limit=None, out=None, force=False, preview=None,
                    progress=False, download=True):
    """Augment a dataset split with rotations and write it to ``out`` (``.npz`` or ``.npy``).

    ``.npz`` (default) holds ``images``, ``labels``, ``source_index``, ``angle`` (0 for the
    originals) and ``meta`` (JSON: fastaug version, every parameter, SHA-256 of the input
    files). ``.npy`` writes ``<stem>.npy`` (images), ``<stem>.labels.npy``,
    ``<stem>.source_index.npy``, ``<stem>.angle.npy`` and ``<stem>.meta.json``.
    Returns an :class:`AugmentSummary`.
    """
    start = time.perf_counter()
    angles = [float(a) for a in v.finite_angles(np.atleast_1d(np.asarray(angles, float)))]
    v.choice(dtype, "dtype", OUTPUT_DTYPES)
    v.choice(layout, "layout", LAYOUTS)
    order = v.spline_order(order)
    v.mode_code(mode)
    cval = v.real_scalar(cval, "cval")
    if not angles and not include_original:
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

    raw, labels, located = datasets.load_split(dataset, split, path=data, download=download,
                                               progress=progress)
    if limit is not None:
        raw, labels = raw[:limit], labels[:limit]
    images = _source_images(raw, dtype)
    n = images.shape[0]
    copies = len(angles) + include_original
    per_copy = ([0.0] if include_original else []) + angles
    meta = dict(fastaug_version=__version__, dataset=dataset, split=split, angles=angles,
                order=order, mode=mode, cval=cval, dtype=dtype, layout=layout,
                include_original=bool(include_original), limit=limit, sources=n,
                copies=copies, data_origin=located.origin, checksums_verified=located.verified,
                inputs={p.name: datasets.sha256(p) for p in located.split_paths(split)})
    source_index = np.arange(n, dtype=np.int64)
    if layout == "interleaved":
        source_index = np.repeat(source_index, copies)
        angle_col = np.tile(np.asarray(per_copy, np.float32), n)
    else:
        source_index = np.tile(source_index, copies)
        angle_col = np.repeat(np.asarray(per_copy, np.float32), n)
    label_col = labels[source_index]
    shape = (n * copies,) + images.shape[1:]

    def fill(target):
        from tqdm import tqdm

        with tqdm(total=n, unit="img", desc="augment", disable=not progress, leave=False) as bar:
            for s in range(0, n, CHUNK):
                augment_into(images[s:s + CHUNK], angles, target,
                             include_original=include_original, layout=layout, order=order,
                             mode=mode, cval=cval, start=s, total=n)
                bar.update(min(CHUNK, n - s))

    previews = [Path(preview)] if preview is not None else []
    if out.suffix == ".npz":
        paths = [out] + previews
        with io.atomic_paths(paths, force) as tmps:
            result = np.empty(shape, images.dtype)
            fill(result)
            io.write_npz(tmps[0], dict(images=result, labels=label_col,
                                       source_index=source_index, angle=angle_col,
                                       meta=io.meta_array(meta)))
            if previews:
                write_preview(tmps[-1], result, angle_col, source_index, copies)
            written = result.nbytes
    else:
        stem = out.with_suffix("")
        paths = [out] + [Path(f"{stem}.{k}.npy") for k in ("labels", "source_index", "angle")] \
            + [Path(f"{stem}.meta.json")] + previews
        with io.atomic_paths(paths, force) as tmps:
            result = np.lib.format.open_memmap(tmps[0], mode="w+", dtype=images.dtype,
                                               shape=shape)
            fill(result)
            result.flush()
            written = result.nbytes
            for tmp, arr in zip(tmps[1:4], (label_col, source_index, angle_col)):
                with open(tmp, "wb") as fh:
                    np.lib.format.write_array(fh, arr, allow_pickle=False)
            Path(tmps[4]).write_text(str(io.meta_array(meta)))
            if previews:
                write_preview(tmps[-1], result, angle_col, source_index, copies)
            del result
    return AugmentSummary(samples=shape[0], bytes=written, seconds=time.perf_counter() - start,
                          paths=paths, sources=n)


def open_output(path):
    """``(arrays, meta)`` of an augmented file; arrays are memory-mapped where possible."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if path.suffix == ".npz":
        try:
            data = np.load(path, allow_pickle=False)
            arrays = {k: data[k] for k in data.files if k != "meta"}
            meta = io.read_meta(data["meta"]) if "meta" in data.files else {}
        except (ValueError, OSError, KeyError) as exc:
            raise ValueError(f"{path}: not a readable fastaug .npz ({exc})") from None
        return arrays, meta
    if path.suffix == ".npy":
        stem = path.with_suffix("")
        arrays = {"images": np.load(path, mmap_mode="r", allow_pickle=False)}
        for key in ("labels", "source_index", "angle"):
            side = Path(f"{stem}.{key}.npy")
            if side.is_file():
                arrays[key] = np.load(side, allow_pickle=False)
        meta_path = Path(f"{stem}.meta.json")
        meta = io.read_meta(meta_path.read_text()) if meta_path.is_file() else {}
        return arrays, meta
    raise ValueError(f"{path}: expected a .npz or .npy file")


def describe(path):
    """A human-readable description of an augmented file."""
    arrays, meta = open_output(path)
    lines = [f"{path}"]
    for key, arr in arrays.items():
        lines.append(f"  {key:13s} {str(arr.shape):18s} {arr.dtype}")
    if meta:
        lines.append(f"  dataset       {meta.get('dataset')} ({meta.get('split')}), "
                     f"{meta.get('sources')} sources x {meta.get('copies')} copies, "
                     f"layout {meta.get('layout')}")
        lines.append(f"  rotation      angles {meta.get('angles')}, order {meta.get('order')}, "
                     f"mode {meta.get('mode')}, cval {meta.get('cval')}, dtype "
                     f"{meta.get('dtype')}")
        lines.append(f"  made by       fastaug {meta.get('fastaug_version')}; inputs "
                     + ", ".join(f"{k} sha256 {h[:12]}" for k, h in meta.get('inputs', {}).items()))
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
        return (f"{'OK' if self.ok else 'FAILED'}: {self.checked} rotated samples recomputed "
                f"with scipy.ndimage.rotate, max |error| {self.max_error:.3g} (tolerance "
                f"{self.tolerance:.3g}); {self.originals_checked} originals byte-identical")


def verify(path, samples=100, *, data=None, seed=0):
    """Recompute ``samples`` random rotated samples with SciPy and compare.

    The source images are read again (``data`` or the usual places) and must have the
    SHA-256 recorded in the file. Tolerance: 0 for uint8, 1 float32 ulp for float32.
    """
    from scipy import ndimage

    arrays, meta = open_output(path)
    if not meta:
        raise ValueError(f"{path}: no fastaug metadata; cannot find its source images")
    raw, _, located = datasets.load_split(meta["dataset"], meta["split"], path=data,
                                          download=False)
    for src_path in located.split_paths(meta["split"]):
        if meta["inputs"].get(src_path.name) not in (None, datasets.sha256(src_path)):
            raise ValueError(f"{src_path}: SHA-256 differs from the one recorded in "
                             f"{path}; these are not the files it was made from")
    source = _source_images(raw[:meta["sources"]], meta["dtype"])
    images, angles, src_index = arrays["images"], arrays["angle"], arrays["source_index"]
    rng = np.random.default_rng(seed)
    rotated = np.flatnonzero(angles != 0) if meta["include_original"] else \
        np.arange(len(angles))
    picks = rng.choice(rotated, size=min(samples, rotated.size), replace=False) \
        if rotated.size else np.array([], int)
    max_error = 0.0
    tolerance = 0.0
    for k in picks:
        src = source[src_index[k]]
        expected = ndimage.rotate(src, float(angles[k]), reshape=False, order=meta["order"],
                                  mode=meta["mode"], cval=meta["cval"])
        diff = np.abs(images[k].astype(np.float64) - expected.astype(np.float64))
        max_error = max(max_error, float(diff.max(initial=0)))
        if expected.dtype == np.float32:
            tolerance = max(tolerance, float(np.spacing(np.abs(expected)).max(initial=0)))
    originals = np.flatnonzero(angles == 0) if meta["include_original"] else np.array([], int)
    originals = originals[: max(samples, 1)]
    for k in originals:
        if not np.array_equal(images[k], source[src_index[k]]):
            max_error = max(max_error, float("inf"))
    return VerifyResult(len(picks), max_error, tolerance, len(originals))


def write_preview(png, images, angles, source_index, copies, *, rows=4):
    """A PNG grid of samples: the first ``rows`` sources, each with all its copies."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sources = np.unique(source_index[: rows * copies] if len(source_index) else source_index)
    sources = sources[:rows]
    fig, axes = plt.subplots(max(len(sources), 1), copies, squeeze=False,
                             figsize=(1.6 * copies, 1.6 * max(len(sources), 1)))
    for ax in axes.ravel():
        ax.axis("off")
    for r, s in enumerate(sources):
        for c, k in enumerate(np.flatnonzero(source_index == s)[:copies]):
            # One grey scale for all panels: the input range, not each panel's own.
            axes[r, c].imshow(images[k], cmap="gray", vmin=0,
                              vmax=255 if images.dtype == np.uint8 else 1)
            axes[r, c].set_title(f"#{s} {float(angles[k]):+g} deg", fontsize=8)
    fig.tight_layout()
    fig.savefig(png, format="png", dpi=80)
    plt.close(fig)
