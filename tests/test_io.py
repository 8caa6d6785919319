"""Output writing: streamed arrays, the direct-I/O sequential file, atomic replacement."""

import errno
import os
import zipfile

import numpy as np
import pytest

from fastaug import io as fio


def _blocks(arr, size):
    """Row blocks of ``arr`` from two buffers used in turn, as the augment job makes them."""
    buffers = np.empty((2, size) + arr.shape[1:], arr.dtype)
    for k, s in enumerate(range(0, len(arr), size)):
        block = buffers[k % 2, : len(arr[s : s + size])]
        block[...] = arr[s : s + size]
        yield block


def _streamed(arr, size):
    return fio.StreamedArray(arr.shape, arr.dtype, _blocks(arr, size))


@pytest.mark.parametrize("stage,write_slice", [(4096, 4 << 20), (8 << 20, 4 << 20), (4096, 1000)])
@pytest.mark.parametrize("rows,block", [(0, 5), (1, 1), (7, 3), (3000, 1000), (2999, 512)])
def test_streamed_npz_and_npy_read_back_exactly(
    tmp_path, monkeypatch, stage, write_slice, rows, block
):
    # A one-page stage exercises many full direct writes, a partial tail and the switch; a
    # 1000-byte write slice cuts blocks (364 KB at most here) mid-row and mid-value.
    monkeypatch.setattr(fio.SequentialFile, "STAGE", stage)
    monkeypatch.setattr(fio, "WRITE_SLICE", write_slice)
    arr = np.random.default_rng(rows).random((rows, 13, 7)).astype(np.float32)
    labels = np.arange(rows, dtype=np.uint8)
    fio.write_npz(
        tmp_path / "a.npz",
        dict(images=_streamed(arr, block), labels=labels, meta=fio.meta_array({"k": [1, 2]})),
    )
    with np.load(tmp_path / "a.npz", allow_pickle=False) as data:
        assert data.files == ["images", "labels", "meta"]
        np.testing.assert_array_equal(data["images"], arr)
        assert data["images"].dtype == np.float32
        np.testing.assert_array_equal(data["labels"], labels)
        assert fio.read_meta(data["meta"]) == {"k": [1, 2]}
    with zipfile.ZipFile(tmp_path / "a.npz") as zf:
        assert zf.testzip() is None  # every member's CRC checks out
    fio.write_npy(tmp_path / "a.npy", _streamed(arr, block))
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), arr)
    assert (tmp_path / "a.npy").stat().st_size == 128 + arr.nbytes


def test_streamed_array_must_add_up(tmp_path):
    arr = np.zeros((10, 4), np.uint8)
    short = fio.StreamedArray((11, 4), np.uint8, iter([arr]))
    with pytest.raises(ValueError, match="made 10 rows of an array of shape"):
        fio.write_npy(tmp_path / "s.npy", short)
    long = fio.StreamedArray((9, 4), np.uint8, iter([arr]))
    with pytest.raises(ValueError, match="does not fit an array of shape"):
        fio.write_npy(tmp_path / "l.npy", long)
    wrong = fio.StreamedArray((10, 5), np.uint8, iter([arr]))
    with pytest.raises(ValueError, match="does not fit"):
        fio.write_npy(tmp_path / "w.npy", wrong)


def test_sequential_file_falls_back_when_direct_io_is_refused(tmp_path, monkeypatch):
    real_write = os.write
    refused = []

    def write(fd, data):
        # A file system that accepts O_DIRECT at open but refuses it at write time.
        if fd == target._fd and target._direct:
            refused.append(len(data))
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_write(fd, data)

    monkeypatch.setattr(fio.SequentialFile, "STAGE", 4096)
    target = fio.SequentialFile(tmp_path / "f.bin")
    monkeypatch.setattr(os, "write", write)
    payload = np.random.default_rng(0).integers(0, 256, 3 * 4096 + 17, np.uint8)
    with target:
        target.write(payload)
    assert (tmp_path / "f.bin").read_bytes() == payload.tobytes()
    assert refused if hasattr(os, "O_DIRECT") else not refused


def test_write_error_in_the_disk_thread_reaches_the_writer(tmp_path, monkeypatch):
    """A full disk during a background write is raised in the caller, not lost."""
    real_write = os.write

    def full(fd, data):
        if fd == target._fd:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(fio.SequentialFile, "STAGE", 4096)
    target = fio.SequentialFile(tmp_path / "f.bin")
    monkeypatch.setattr(os, "write", full)
    with pytest.raises(OSError, match="No space left"):
        with target:
            for _ in range(4):
                target.write(b"x" * 4096)
    assert target.closed


def test_atomic_path_keeps_the_old_file_when_streaming_fails(tmp_path):
    out = tmp_path / "o.npz"
    out.write_bytes(b"old")

    def failing():
        yield np.zeros((4, 3), np.float32)
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(fio.OutputError, match="No space left"):
        with fio.atomic_path(out, force=True) as tmp:
            fio.write_npz(tmp, dict(images=fio.StreamedArray((8, 3), np.float32, failing())))
    assert out.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [out]
