"""What the dataset job does with the values and sizes it is given (issue 20, rows 1-3, 7-9
and the command line's messages): every dtype by one rule, sizes checked before anything
of their size is made, and a clear one-line error for what cannot be done."""

import re

import numpy as np
import pytest
from scipy import ndimage

from fastaug import cli, jobs, pixels

from idx_fixtures import write_dataset


def run(*args):
    return cli.main([str(a) for a in args])


def expected(images, angle):
    """SciPy's rotation of float32 images, as the job makes them (order 3, 'nearest')."""
    return np.stack(
        [ndimage.rotate(im, angle, reshape=False, order=3, mode="nearest") for im in images]
    )


def augment_input(path, *extra, out="o.npy"):
    return run("augment", "--angles", "15", "--no-original", "--quiet", "--input", path,
               "--out", out, *extra)  # fmt: skip


# ---------------------------------------------------------------- row 1: one rule for dtypes
FLOATS_IN_UNIT_RANGE = ["float64", "float16", ">f4", "<f8", ">f8"]


@pytest.mark.parametrize("dtype", FLOATS_IN_UNIT_RANGE)
def test_float_inputs_keep_their_values(tmp_path, dtype):
    """float64, float16 and big-endian images in [0, 1] are rotated as they are (they were
    divided by 255 before)."""
    x = np.random.default_rng(0).random((6, 12, 10)).astype(dtype)
    np.save(tmp_path / "x.npy", x)
    assert augment_input(tmp_path / "x.npy") == 0
    got = np.load("o.npy")
    np.testing.assert_array_equal(got, expected(x.astype(np.float32), 15))
    assert got.max() > 0.5


@pytest.mark.parametrize("dtype", ["int16", "uint16", "int32", ">i2", "bool"])
def test_integer_inputs_keep_their_values_in_float32(tmp_path, dtype):
    high = 2 if dtype == "bool" else 512
    low = 0 if dtype in ("bool", "uint16") else -3
    x = np.random.default_rng(1).integers(low, high, (5, 9, 11)).astype(dtype)
    np.save(tmp_path / "x.npy", x)
    assert augment_input(tmp_path / "x.npy") == 0
    np.testing.assert_array_equal(np.load("o.npy"), expected(x.astype(np.float32), 15))


def test_uint8_is_scaled_into_unit_range_unless_told_not_to(tmp_path):
    x = np.random.default_rng(2).integers(0, 256, (4, 10, 10), dtype=np.uint8)
    np.save(tmp_path / "x.npy", x)
    assert augment_input(tmp_path / "x.npy") == 0
    np.testing.assert_array_equal(np.load("o.npy"), expected(x.astype(np.float32) / 255, 15))
    assert augment_input(tmp_path / "x.npy", "--no-scale", "--force") == 0
    np.testing.assert_array_equal(np.load("o.npy"), expected(x.astype(np.float32), 15))


def test_scale_divides_16_bit_integers_by_their_maximum(tmp_path):
    x = np.random.default_rng(3).integers(0, 65536, (4, 10, 10)).astype(np.uint16)
    np.save(tmp_path / "x.npy", x)
    assert augment_input(tmp_path / "x.npy", "--scale") == 0
    want = expected(np.divide(x, np.float32(65535), dtype=np.float32), 15)
    np.testing.assert_array_equal(np.load("o.npy"), want)


@pytest.mark.parametrize(
    "values, dtype, extra, message",
    [
        ([-3, 511], "int16", ["--dtype", "uint8"], r"int16 values in \[-3, 511\] do not fit uint8"),
        ([0.25, 0.5], "float64", ["--dtype", "uint8"], r"do not fit uint8 \(whole numbers"),
        ([0, 1 << 25], "int64", [], r"do not fit float32 \(±16,777,216 \(exact\)\)"),
        ([0, 1e300], "float64", [], r"do not fit float32 \(float32's range\)"),
        ([0, np.nan], "float64", [], "holds NaN or infinite values"),
        ([0, np.inf], "float32", [], "holds NaN or infinite values"),
        ([0, 1], "int16", ["--scale", "--dtype", "uint8"], "it needs dtype float32"),
        ([0, 1], "float32", ["--scale"], "integer images of up to 16 bits"),
    ],
)
def test_values_the_output_cannot_hold_are_refused(tmp_path, values, dtype, extra, message,
                                                   capsys):  # fmt: skip
    """No wrap (int16 511 became 255), no clip, no silent zeros (float64 [0, 1] as uint8)."""
    x = np.zeros((3, 8, 8), dtype)
    x[1, 2, 3], x[2, 4, 4] = values
    np.save(tmp_path / "x.npy", x)
    assert augment_input(tmp_path / "x.npy", *extra) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert re.search(message, err), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.npy"]


def test_whole_float_values_in_byte_range_make_uint8(tmp_path):
    x = np.random.default_rng(4).integers(0, 256, (3, 9, 9)).astype(np.float64)
    np.save(tmp_path / "x.npy", x)
    assert augment_input(tmp_path / "x.npy", "--dtype", "uint8") == 0
    want = np.stack(
        [ndimage.rotate(im, 15, reshape=False, mode="nearest") for im in x.astype(np.uint8)]
    )
    np.testing.assert_array_equal(np.load("o.npy"), want)


def test_pixel_rule_is_one_function_for_every_job():
    """The dataset job and out of core share the rule (the dataset job's uint8 path is
    unchanged: an exact cast, then one float32 division)."""
    x = np.arange(256, dtype=np.uint8).reshape(16, 16)
    got = jobs.source_images(x, "float32")
    np.testing.assert_array_equal(got, x.astype(np.float32) / np.float32(255))
    assert jobs.source_images(x, "uint8") is x
    assert pixels.resolve_scale(np.dtype(np.int16), "float32") is False


# ---------------------------------------------------------------- row 2: huge counts
def test_huge_copies_are_refused_before_anything_is_allocated(tmp_path, capsys):
    """--copies 1000000000 built a list of a billion copies first (24 GB, then the OOM
    killer); it is now refused at once, in one line."""
    folder = tmp_path / "data"
    write_dataset(folder)
    code = run("augment", "--random-rotation", "15", "--copies", "1000000000", "--limit",
               "10", "--data", folder, "--out", tmp_path / "o.npz")  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert "copies must be from 1 to 32767" in err and len(err.strip().splitlines()) == 1


def test_copies_beyond_the_disk_are_refused_before_the_columns_exist(tmp_path, monkeypatch,
                                                                    capsys):  # fmt: skip
    folder = tmp_path / "data"
    write_dataset(folder)
    made = []
    original = jobs.RandomDraws.columns

    def columns(self, n, *args, **kwargs):
        made.append(n)
        return original(self, n, *args, **kwargs)

    monkeypatch.setattr(jobs.RandomDraws, "columns", columns)
    monkeypatch.setattr("shutil.disk_usage", lambda _: type("U", (), dict(total=1, free=1000)))
    code = run("augment", "--random-rotation", "15", "--copies", "30000", "--data", folder,
               "--out", tmp_path / "o.npz")  # fmt: skip
    assert code == 1
    assert "not enough disk space" in capsys.readouterr().err
    assert made == []  # the columns of 30000 copies were never drawn
    assert not (tmp_path / "o.npz").exists()


def test_columns_larger_than_memory_are_refused(monkeypatch):
    monkeypatch.setattr(jobs.sinks.os, "sysconf", lambda name: 1024)  # a 1 MB machine
    with pytest.raises(MemoryError, match="per-sample columns need"):
        jobs.sinks.check_fits_memory(2 << 20)
    jobs.sinks.check_fits_memory(1 << 19)


def test_out_of_core_blocked_copies_are_planned_without_per_copy_lists(tmp_path, capsys):
    """Out of core, the size checks come before the per-copy task list is built."""
    np.save(tmp_path / "x.npy", np.zeros((2, 8, 8), np.uint8))
    code = run("augment", "--random-rotation", "5", "--copies", "32767", "--layout",
               "blocked", "--input", tmp_path / "x.npy", "--out", tmp_path / "o.npy",
               "--memory", "1")  # fmt: skip
    assert code == 1
    assert "--memory 1 MB is too small" in capsys.readouterr().err


# ---------------------------------------------------------------- row 3: crafted headers
@pytest.mark.parametrize("shape", [(-5, 28, 28), (5, -1, 28)])
def test_npy_header_with_a_negative_shape_is_refused(tmp_path, shape, capsys):
    path = tmp_path / "bad.npy"
    with open(path, "wb") as fh:
        header = dict(descr="|u1", fortran_order=False, shape=shape)
        np.lib.format.write_array_header_1_0(fh, header)
        fh.write(bytes(100))
    assert augment_input(path) == 1
    err = capsys.readouterr().err
    assert "not a readable .npy" in err and str(shape) in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.npy"]


# ---------------------------------------------------------------- row 7: --limit with --input
def test_limit_applies_to_input(tmp_path):
    x = np.random.default_rng(5).integers(0, 256, (30, 8, 8), dtype=np.uint8)
    y = np.arange(30, dtype=np.int64)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    assert augment_input(tmp_path / "x.npy", "--limit", "7", "--labels", tmp_path / "y.npy") == 0
    assert np.load("o.npy").shape == (7, 8, 8)
    np.testing.assert_array_equal(np.load("o.labels.npy"), y[:7])


# ---------------------------------------------------------------- rows 8, 9: --angles
@pytest.mark.parametrize("argv", [["--angles", "--"], ["--angles=--"]])
def test_angles_double_dash_is_a_usage_error(tmp_path, argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        run("augment", *argv, "--limit", "5", "--out", tmp_path / "o.npz")
    assert exit_.value.code == 2
    assert "--angles" in capsys.readouterr().err
    assert not (tmp_path / "o.npz").exists()


def test_angles_beyond_the_float32_column_are_refused(tmp_path, capsys):
    folder = tmp_path / "data"
    write_dataset(folder)
    # Warnings are errors in this suite: the overflowing float32 cast warned before.
    code = run("augment", "--angles", "1e300", "--data", folder, "--out", tmp_path / "o.npz")
    assert code == 1
    err = capsys.readouterr().err
    assert "float32 angle column" in err and "RuntimeWarning" not in err
    assert not (tmp_path / "o.npz").exists()


# ---------------------------------------------------------------- row 17: messages
def test_threads_beyond_the_cpus_name_the_option(capsys):
    with pytest.raises(SystemExit) as exit_:
        run("augment", "--angles", "15", "--threads", "999")
    assert exit_.value.code == 2
    assert "argument --threads: expected an integer from 1 to" in capsys.readouterr().err


def test_memory_too_small_says_what_the_job_needs(tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.zeros((4, 512, 512), np.uint8))
    assert augment_input(tmp_path / "x.npy", "--memory", "1") == 1
    err = capsys.readouterr().err
    # 24 MB for the kernels, plus 512*512*(1 + 4 + 2*4) bytes = 3.25 MB per source.
    assert "24 MB for its kernels plus 3.25 MB per source (1 samples each)" in err
    assert "at least 28 MB" in err


@pytest.mark.parametrize("seed", ["-1", "18446744073709551616"])
def test_seeds_outside_the_streams_are_usage_errors(seed, capsys):
    """The library's seed rule, as a usage error (2**64 used to fail late, inside Compose)."""
    with pytest.raises(SystemExit) as exit_:
        run("augment", "--random-rotation", "15", "--seed", seed)
    assert exit_.value.code == 2
    assert "argument --seed: expected an integer from 0 to 2**64 - 1" in capsys.readouterr().err


@pytest.mark.parametrize("dtype, extra", [("float64", []), ("uint16", ["--scale"])])
def test_verify_recomputes_with_the_recorded_pixel_rule(tmp_path, dtype, extra, capsys):
    """verify reads the input again by the rule the job used (``scale`` in the metadata)."""
    x = np.random.default_rng(6).random((5, 9, 9))
    x = (x * 65535).astype(dtype) if dtype == "uint16" else x
    np.save(tmp_path / "x.npy", x)
    assert augment_input(tmp_path / "x.npy", *extra, out=tmp_path / "o.npz") == 0
    assert run("verify", tmp_path / "o.npz", "--samples", "5") == 0
    assert capsys.readouterr().out.startswith("OK: 5 augmented samples")
