"""Whole jobs behind the command line: augment a dataset to a file, describe it, verify it.

Each is one public function the CLI calls; they validate, compute the output chunk by chunk
and write each chunk while the next is computed, so the output is never all in memory,
into a file written atomically (see :mod:`fastaug.io`).
"""

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__, datasets, io
from . import _validation as v
from .functional import LAYOUTS, augment, augment_into

#: Source images per chunk: big enough for the kernel's tiles and threads, small enough for a
#: responsive progress bar and Ctrl-C, and for little fresh memory: the two sample buffers
#: are new pages of a new process, which cost host faults on VMs (77 MB of float32 buffers
#: took 0.2-0.26 s to touch at 4096). Full MNIST, +-15 degrees, 8 alternations: float32
#: 1.42 s (2048) against 1.53 s (4096), uint8 1.09 against 1.15 s; 1024 and 512 were no
#: faster than 2048.
CHUNK = 2048
#: Sources shown in a --preview grid.
PREVIEW_ROWS = 4
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
        return (
            f"wrote {self.samples:,} samples ({self.sources:,} sources x "
            f"{self.samples // max(self.sources, 1)}) = {self.bytes / 1e6:,.1f} MB to "
            f"{', '.join(str(p) for p in self.paths)} in {self.seconds:.2f} s "
            f"({self.images_per_second:,.0f} images/s)"
        )


def _source_images(images, dtype, out=None):
    """The source pixels as the output dtype: uint8 as stored (``images`` itself, no copy),
    float32 in [0, 1] (into ``out`` when given)."""
    if images.dtype == dtype:
        return images
    out = np.empty(images.shape, dtype) if out is None else out
    if dtype == "float32":
        # As the textbook loader, astype(float32) then /= 255 (an exact cast, then one
        # rounded division), in one pass over the memory instead of two.
        return np.divide(images, np.float32(255), out=out, dtype=np.float32)
    out[...] = images
    return out


def _passes(angles, include_original, layout):
    """(angles, include_original) of each pass over the sources, in file order."""
    if layout == "interleaved":
        return [(angles, include_original)]
    return ([([], True)] if include_original else []) + [([a], False) for a in angles]


def _chunk_buffers(raw, dtype, passes):
    """The source chunk and the two sample buffers of :func:`_sample_blocks` for ``passes``
    (:func:`_passes`), with their pages touched: the job does this while the kernels load, so
    the first chunks do not pay for fresh memory (up to 0.05 s each on VMs that give freed
    memory back to the host). No source chunk (None) when ``raw`` is already in ``dtype``:
    :func:`_source_images` then uses it as stored."""
    n, rest = raw.shape[0], raw.shape[1:]
    widest = max(len(a) + o for a, o in passes)
    sources = None if raw.dtype == dtype else np.empty((min(CHUNK, n),) + rest, dtype)
    samples = np.empty((2, min(CHUNK, n) * widest) + rest, dtype)
    samples.fill(0)  # NumPy releases the GIL here, so the kernel loader runs on meanwhile
    return sources, samples


def _sample_blocks(
    raw, dtype, angles, include_original, layout, order, mode, cval, progress, buffers=None
):
    """The augmented samples in file order, as blocks of rows computed chunk by chunk into
    two buffers used in turn: the output is never all in memory (each block is written
    while the next is computed). ``buffers``: from :func:`_chunk_buffers` (made if None).

    'interleaved' makes each chunk's samples in one pass (the prefilter shared by all
    angles); 'blocked' makes one pass per copy, since its file holds each copy contiguously.
    """
    from tqdm import tqdm

    n = raw.shape[0]
    passes = _passes(angles, include_original, layout)
    if buffers is None:
        buffers = _chunk_buffers(raw, dtype, passes)
    # Two sample buffers in turn: one is written while the other is filled.
    sources, samples = buffers
    turn = 0
    with tqdm(
        total=n * len(passes), unit="img", desc="augment", disable=not progress, leave=False
    ) as bar:
        for pass_angles, original in passes:
            copies = len(pass_angles) + original
            for s in range(0, n, CHUNK):
                m = min(CHUNK, n - s)
                chunk = _source_images(
                    raw[s : s + m], dtype, out=None if sources is None else sources[:m]
                )
                block = samples[turn, : m * copies]
                turn ^= 1
                augment_into(
                    chunk,
                    pass_angles,
                    block,
                    include_original=original,
                    layout="interleaved",
                    order=order,
                    mode=mode,
                    cval=cval,
                    channel=None if chunk.ndim == 3 else 3,  # files hold channels last
                )
                yield block
                bar.update(m)


def _start_loading_kernels(image_shape, dtype, *args):
    """Run the chunk path on two blank images in a background thread, so Numba loads the
    compiled kernels (about 0.3 s from its disk cache, holding the GIL) while the input is
    read and decompressed; the arrays have the real chunks' types. Daemon: Ctrl-C need not
    wait."""
    blank = np.zeros((2,) + tuple(image_shape), np.uint8)

    def load():
        try:
            for _ in _sample_blocks(blank, dtype, *args, progress=False):
                pass
        except Exception:  # noqa: BLE001 - the real run reports any error properly
            pass

    thread = threading.Thread(target=load, name="fastaug-kernels", daemon=True)
    thread.start()
    return thread


def augment_dataset(
    angles,
    *,
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
):
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

    kernels = _start_loading_kernels(
        datasets.spec(dataset).image_shape,
        dtype,
        angles,
        include_original,
        layout,
        order,
        mode,
        cval,
    )
    raw, labels, located = datasets.load_split(
        dataset, split, path=data, download=download, progress=progress
    )
    if limit is not None:
        raw, labels = raw[:limit], labels[:limit]
    buffers = _chunk_buffers(raw, dtype, _passes(angles, include_original, layout))
    n = raw.shape[0]
    copies = len(angles) + include_original
    per_copy = ([0.0] if include_original else []) + angles
    meta = dict(
        fastaug_version=__version__,
        dataset=dataset,
        split=split,
        angles=angles,
        order=order,
        mode=mode,
        cval=cval,
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
    source_index = np.arange(n, dtype=np.int64)
    if layout == "interleaved":
        source_index = np.repeat(source_index, copies)
        angle_col = np.tile(np.asarray(per_copy, np.float32), n)
    else:
        source_index = np.tile(source_index, copies)
        angle_col = np.repeat(np.asarray(per_copy, np.float32), n)
    columns = dict(labels=labels[source_index], source_index=source_index, angle=angle_col)
    # All of the above runs while the kernels load (hashing and filling release the GIL).
    kernels.join()  # loaded (or compiled, once per machine) before the first chunk
    images = io.StreamedArray(
        (n * copies,) + raw.shape[1:],
        np.dtype(dtype),
        _sample_blocks(
            raw, dtype, angles, include_original, layout, order, mode, cval, progress, buffers
        ),
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
    with io.atomic_paths(paths, force) as tmps:
        if out.suffix == ".npz":
            io.write_npz(tmps[0], dict(images=images, **columns, meta=io.meta_array(meta)))
        else:
            io.write_npy(tmps[0], images)
            for tmp, arr in zip(tmps[1:4], columns.values()):
                io.write_npy(tmp, arr)
            Path(tmps[4]).write_text(str(io.meta_array(meta)))
        if previews:
            # The first sources again, alone: a batch gives the same values as one image.
            first = _source_images(raw[:PREVIEW_ROWS], dtype)
            grid, _ = augment(
                first,
                angles=angles,
                include_original=include_original,
                order=order,
                mode=mode,
                cval=cval,
            )
            write_preview(tmps[-1], grid.reshape((len(first), copies) + raw.shape[1:]), per_copy)
    return AugmentSummary(
        samples=images.shape[0],
        bytes=images.nbytes,
        seconds=time.perf_counter() - start,
        paths=paths,
        sources=n,
    )


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
        lines.append(
            f"  dataset       {meta.get('dataset')} ({meta.get('split')}), "
            f"{meta.get('sources')} sources x {meta.get('copies')} copies, "
            f"layout {meta.get('layout')}"
        )
        lines.append(
            f"  rotation      angles {meta.get('angles')}, order {meta.get('order')}, "
            f"mode {meta.get('mode')}, cval {meta.get('cval')}, dtype "
            f"{meta.get('dtype')}"
        )
        lines.append(
            f"  made by       fastaug {meta.get('fastaug_version')}; inputs "
            + ", ".join(f"{k} sha256 {h[:12]}" for k, h in meta.get("inputs", {}).items())
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
            f"{'OK' if self.ok else 'FAILED'}: {self.checked} rotated samples recomputed "
            f"with scipy.ndimage.rotate, max |error| {self.max_error:.3g} (tolerance "
            f"{self.tolerance:.3g}); {self.originals_checked} originals byte-identical"
        )


def verify(path, samples=100, *, data=None, seed=0):
    """Recompute ``samples`` random rotated samples with SciPy and compare.

    The source images are read again (``data`` or the usual places) and must have the
    SHA-256 recorded in the file. Tolerance: none; fastaug's results are SciPy's, bit for bit.
    """
    from scipy import ndimage

    arrays, meta = open_output(path)
    if not meta:
        raise ValueError(f"{path}: no fastaug metadata; cannot find its source images")
    raw, _, located = datasets.load_split(meta["dataset"], meta["split"], path=data, download=False)
    for src_path in located.split_paths(meta["split"]):
        if meta["inputs"].get(src_path.name) not in (None, datasets.sha256(src_path)):
            raise ValueError(
                f"{src_path}: SHA-256 differs from the one recorded in "
                f"{path}; these are not the files it was made from"
            )
    source = _source_images(raw[: meta["sources"]], meta["dtype"])
    images, angles, src_index = arrays["images"], arrays["angle"], arrays["source_index"]
    rng = np.random.default_rng(seed)
    rotated = np.flatnonzero(angles != 0) if meta["include_original"] else np.arange(len(angles))
    picks = (
        rng.choice(rotated, size=min(samples, rotated.size), replace=False)
        if rotated.size
        else np.array([], int)
    )
    max_error = 0.0
    tolerance = 0.0
    for k in picks:
        src = source[src_index[k]]
        expected = ndimage.rotate(
            src,
            float(angles[k]),
            reshape=False,
            order=meta["order"],
            mode=meta["mode"],
            cval=meta["cval"],
        )
        diff = np.abs(images[k].astype(np.float64) - expected.astype(np.float64))
        max_error = max(max_error, float(diff.max(initial=0)))
    originals = np.flatnonzero(angles == 0) if meta["include_original"] else np.array([], int)
    originals = originals[: max(samples, 1)]
    for k in originals:
        if not np.array_equal(images[k], source[src_index[k]]):
            max_error = max(max_error, float("inf"))
    return VerifyResult(len(picks), max_error, tolerance, len(originals))


def write_preview(png, grid, per_copy):
    """A PNG grid of samples: ``grid`` (sources, copies, H, W), one row per source, with the
    angle of each copy (0 for the original) in ``per_copy``."""
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
            axes[r, c].set_title(f"#{r} {float(per_copy[c]):+g} deg", fontsize=8)
    fig.tight_layout()
    fig.savefig(png, format="png", dpi=80)
    plt.close(fig)
