"""Datasets in IDX format (MNIST, Fashion-MNIST, KMNIST): find, download, verify, read.

Where data comes from, in order: ``path=`` (``--data DIR``); the ``FASTAUG_DATA``
environment variable (a folder holding the files, or ``<dataset>/`` subfolders); the user
cache (``$XDG_CACHE_HOME/fastaug/<dataset>``, default ``~/.cache/fastaug/<dataset>``); and
last a download from the public mirrors into the cache, verified against the official
checksums and written atomically.
"""

import contextlib
import hashlib
import os
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import settings


class DatasetError(ValueError):
    """A dataset file is corrupt, truncated or not what it claims to be."""


class DatasetNotFound(FileNotFoundError):
    """No copy of a dataset could be found or downloaded."""


@dataclass(frozen=True)
class DataFile:
    name: str  # file name as published (gzip)
    gz_md5: str  # MD5 of the published .gz file
    payload_md5: str = ""  # MD5 of the decompressed IDX payload (accepts recompressed copies)


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    mirrors: tuple
    train_images: DataFile
    train_labels: DataFile
    test_images: DataFile
    test_labels: DataFile
    image_shape: tuple = (28, 28)  # (H, W) as published

    def files(self):
        return (self.train_images, self.train_labels, self.test_images, self.test_labels)

    def split(self, split):
        if split == "train":
            return self.train_images, self.train_labels
        if split == "test":
            return self.test_images, self.test_labels
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")


DATASETS = {
    "mnist": DatasetSpec(
        "mnist",
        (
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        DataFile(
            "train-images-idx3-ubyte.gz",
            "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "6bbc9ace898e44ae57da46a324031adb",
        ),
        DataFile(
            "train-labels-idx1-ubyte.gz",
            "d53e105ee54ea40749a09fcbcd1e9432",
            "a25bea736e30d166cdddb491f175f624",
        ),
        DataFile(
            "t10k-images-idx3-ubyte.gz",
            "9fb629c4189551a2d022fa330f9573f3",
            "2646ac647ad5339dbf082846283269ea",
        ),
        DataFile(
            "t10k-labels-idx1-ubyte.gz",
            "ec29112dd5afa0611ce80d1b7f02629c",
            "27ae3e4e09519cfbb04c329615203637",
        ),
    ),
    "fashion-mnist": DatasetSpec(
        "fashion-mnist",
        ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        DataFile("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        DataFile("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        DataFile("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        DataFile("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ),
    "kmnist": DatasetSpec(
        "kmnist",
        ("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",),
        DataFile("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        DataFile("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        DataFile("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        DataFile("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ),
}

# IDX element type codes -> big-endian NumPy dtypes.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def spec(name):
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {name!r}") from None


# ----------------------------------------------------------------------------- reading


def read_bytes(path):
    """The IDX payload of ``path`` (.gz or raw) and the file's own bytes."""
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw, raw
    try:
        # wbits 16 + 15: a gzip stream; one call, no line-by-line Python loop.
        return zlib.decompress(raw, 16 + zlib.MAX_WBITS), raw
    except zlib.error as exc:
        raise DatasetError(f"{path}: corrupt or truncated gzip data ({exc})") from None


def parse_idx(data, source="<bytes>"):
    """Decode an IDX payload, checking magic number, type code, dimensions and length."""
    if len(data) < 4:
        raise DatasetError(f"{source}: too short for an IDX header ({len(data)} bytes)")
    if data[0] != 0 or data[1] != 0:
        raise DatasetError(f"{source}: bad magic number {data[:4].hex()} (expected 0000TTDD)")
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        raise DatasetError(f"{source}: unknown IDX type code 0x{code:02x}")
    if ndim < 1:
        raise DatasetError(f"{source}: IDX file with no dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(f"{source}: truncated header ({len(data)} of {header} bytes)")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = IDX_DTYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "has trailing bytes"
        raise DatasetError(
            f"{source}: payload {what}: {len(data)} bytes, expected {expected} for shape {shape}"
        )
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=False)


def read_idx(path, data_file=None):
    """Read an IDX file (``.gz`` or raw) into a native-endian array.

    With ``data_file``, the file must also be the official one (see :func:`is_official`).
    """
    payload, raw = read_bytes(path)
    if data_file is not None and not is_official(raw, payload, data_file):
        raise DatasetError(
            f"{path}: checksum mismatch: not the official {data_file.name} "
            f"(MD5 {hashlib.md5(raw).hexdigest()}, expected {data_file.gz_md5})"
        )
    return parse_idx(payload, str(path))


# ----------------------------------------------------------------------------- locating


def cache_dir(name):
    return settings.user_cache() / name


def _find_file(folder, data_file):
    """The file in ``folder`` under its published name or without ``.gz``; None if absent."""
    for candidate in (data_file.name, data_file.name[:-3]):
        path = Path(folder) / candidate
        if path.is_file():
            return path
    return None


def _complete(folder, ds):
    paths = [_find_file(folder, f) for f in ds.files()]
    return paths if all(paths) else None


def is_official(raw, payload, data_file):
    """The file's own MD5, or (a recompressed copy) its payload's, is the official one."""
    if hashlib.md5(raw).hexdigest() == data_file.gz_md5:
        return True
    return bool(data_file.payload_md5) and hashlib.md5(payload).hexdigest() == data_file.payload_md5


def verify_file(path, data_file):
    """True if ``path`` holds the official ``data_file``."""
    try:
        payload, raw = read_bytes(path)
    except DatasetError:
        return False
    return is_official(raw, payload, data_file)


@dataclass(frozen=True)
class Located:
    folder: Path
    paths: tuple  # train images, train labels, test images, test labels
    origin: str  # 'path', 'FASTAUG_DATA', 'cache' or 'download'
    verified: bool  # reads check the official checksums (all but the user's own path)

    def split_paths(self, split):
        """(images, labels) paths of ``split`` ('train' or 'test')."""
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
        return self.paths[:2] if split == "train" else self.paths[2:]


def locate(name="mnist", path=None, download=True, progress=True):
    """Find the four IDX files of dataset ``name``; see the module docstring for the order.

    Files given by ``path`` are the user's own (read and validated as IDX, checksums not
    required). Files from ``FASTAUG_DATA`` or the cache must match the official checksums,
    checked as they are read. Raises :class:`DatasetNotFound` listing every place tried.
    """
    ds = spec(name)
    tried = []
    if path is not None:
        paths = _complete(path, ds)
        if paths:
            return Located(Path(path), tuple(paths), "path", False)
        tried.append(f"--data/path {path}: {_missing(path, ds)}")
        raise DatasetNotFound(_not_found_message(name, tried, explicit=True))
    env = settings.data_folder()
    candidates = []
    if env:
        candidates += [(Path(env) / name, "FASTAUG_DATA"), (Path(env), "FASTAUG_DATA")]
    else:
        tried.append("FASTAUG_DATA: not set")
    candidates.append((cache_dir(name), "cache"))
    for folder, origin in candidates:
        paths = _complete(folder, ds)
        if paths:
            return Located(folder, tuple(paths), origin, True)
        tried.append(f"{origin} {folder}: {_missing(folder, ds)}")
    if download:
        try:
            folder = download_dataset(name, progress=progress)
            return Located(folder, tuple(_complete(folder, ds)), "download", True)
        except DatasetNotFound as exc:
            tried.append(str(exc))
    else:
        tried.append("download: not attempted (download=False)")
    raise DatasetNotFound(_not_found_message(name, tried))


def _missing(folder, ds):
    if not Path(folder).is_dir():
        return "no such folder"
    return "missing " + ", ".join(f.name for f in ds.files() if not _find_file(folder, f))


def _not_found_message(name, tried, explicit=False):
    lines = [f"dataset {name!r} not found. Tried:"] + [f"  - {t}" for t in tried]
    lines.append(
        "Fix: pass --data DIR (a folder with the four IDX .gz files), set "
        "FASTAUG_DATA to such a folder, or connect to the internet so fastaug can "
        f"download it into {cache_dir(name)}."
    )
    return "\n".join(lines)


# ----------------------------------------------------------------------------- downloading


def download_dataset(name, dest=None, mirrors=None, progress=True, timeout=30):
    """Download the four files of ``name`` into ``dest`` (default: the cache), verified.

    Each file is fetched from the first mirror that serves it intact (MD5 of the official
    file); a failed mirror is skipped. Files appear only complete: written to a temporary
    file in ``dest`` and renamed.
    """
    ds = spec(name)
    dest = Path(dest) if dest is not None else cache_dir(name)
    mirrors = tuple(mirrors) if mirrors is not None else ds.mirrors
    created = not dest.exists()
    dest.mkdir(parents=True, exist_ok=True)
    try:
        for data_file in ds.files():
            target = dest / data_file.name
            if target.is_file() and verify_file(target, data_file):
                continue
            errors = []
            for mirror in mirrors:
                try:
                    _fetch(mirror + data_file.name, target, data_file, progress, timeout)
                    break
                except (OSError, DatasetError, ValueError) as exc:  # URLError is an OSError
                    errors.append(f"{mirror}{data_file.name}: {exc}")
            else:
                raise DatasetNotFound("download failed:\n" + "\n".join(f"    {e}" for e in errors))
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                dest.rmdir()  # only if nothing was fetched: no empty cache folder left behind
        raise
    return dest


def _fetch(url, target, data_file, progress, timeout):
    """Stream ``url`` into a temporary file beside ``target``; rename only if the MD5 matches."""
    import urllib.request  # only here: with ssl, 12 ms of every command's start-up otherwise

    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        h = hashlib.md5()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            total = int(resp.headers.get("Content-Length") or 0) or None
            bar = _progress_bar(total, target.name, progress)
            got = 0
            try:
                for block in iter(lambda: resp.read(1 << 16), b""):
                    out.write(block)
                    h.update(block)
                    got += len(block)
                    bar.update(len(block))
            finally:
                bar.close()
            if total is not None and got != total:
                raise DatasetError(f"truncated response: {got} of {total} bytes")
        if h.hexdigest() != data_file.gz_md5:
            raise DatasetError(
                f"checksum mismatch: MD5 {h.hexdigest()}, expected {data_file.gz_md5}"
            )
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _progress_bar(total, desc, enabled):
    from ._progress import tqdm

    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, disable=not enabled, leave=False)


# ----------------------------------------------------------------------------- loading


def load_split(name="mnist", split="train", path=None, download=True, progress=True):
    """``(images, labels, located)`` of one split: images (N, H, W) uint8, labels (N,) uint8."""
    official = spec(name).split(split)  # validates name and split before any search
    located = locate(name, path=path, download=download, progress=progress)
    img_path, lab_path = located.split_paths(split)
    img_file, lab_file = official if located.verified else (None, None)
    images, labels = read_idx(img_path, img_file), read_idx(lab_path, lab_file)
    if images.ndim != 3:
        raise DatasetError(f"{img_path}: expected 3 dimensions (N, H, W), got shape {images.shape}")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise DatasetError(
            f"{lab_path}: {labels.shape[0] if labels.ndim else 0} labels for "
            f"{images.shape[0]} images in {img_path.name}"
        )
    return images, labels, located


def _one_hot(labels, classes=10):
    out = np.zeros((labels.size, classes))
    out[np.arange(labels.size), labels] = 1
    return out


def load_mnist(
    normalize=True, flatten=True, one_hot_label=False, *, path=None, download=True, dataset="mnist"
):
    """``((x_train, t_train), (x_test, t_test))``, like the textbook ``load_mnist``.

    normalize: float32 in [0, 1] (else uint8); flatten: rows of 784 (else (N, 1, 28, 28));
    one_hot_label: (N, 10) one-hot float64 labels (else uint8 class numbers).
    """
    result = []
    for split in ("train", "test"):
        images, labels, _ = load_split(dataset, split, path=path, download=download)
        x = images.astype(np.float32) / np.float32(255.0) if normalize else images
        x = x.reshape(len(x), -1) if flatten else x.reshape(len(x), 1, *images.shape[1:])
        t = _one_hot(labels) if one_hot_label else labels
        result.append((x, t))
    return tuple(result)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


__all__ = [
    "DATASETS",
    "DatasetError",
    "DatasetNotFound",
    "download_dataset",
    "load_mnist",
    "load_split",
    "locate",
    "read_idx",
]
