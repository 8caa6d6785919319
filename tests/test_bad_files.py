"""Bad files fed to every subcommand that reads files: each is refused with one line on
stderr (exit 1, no traceback), and nothing is left in the output folder (issue 20, rows 4,
10 and 17's ``info .``)."""

import gc
import io
import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from fastaug import cli, jobs
from fastaug import io as fio
from fastaug.mlp import MLP

from idx_fixtures import write_dataset


def _npy_bytes(arr, **options):
    buffer = io.BytesIO()
    np.save(buffer, arr, **options)
    return buffer.getvalue()


def _crafted_npy(descr, shape, data=b"\0" * 64):
    """A .npy whose header says ``descr`` and ``shape`` whatever data follows."""
    buffer = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + data


def _zip(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def _corpus(folder):
    """``{name: path}`` of bad files (and two readable foreign ones) in ``folder``."""
    folder.mkdir()
    good = np.random.default_rng(0).integers(0, 256, (20, 8, 8), dtype=np.uint8)
    good_npz = io.BytesIO()
    np.savez(good_npz, images=good, labels=np.arange(20))
    contents = {
        "empty.npy": b"",
        "empty.npz": b"",
        "text.npy": b"not an array at all\n",
        "truncated.npy": _npy_bytes(good)[:300],
        "truncated.npz": good_npz.getvalue()[:700],
        "negative.npy": _crafted_npy("|u1", (-5, 8, 8)),
        "huge.npy": _crafted_npy("|u1", (10**12, 28, 28)),
        "overflow.npy": _crafted_npy("<f8", (2**40, 2**40, 2**40)),
        "descr.npy": _npy_bytes(good).replace(b"'|u1'", b"'|Z9'"),
        "pickle.npy": _npy_bytes(np.array([{"a": 1}] * 3, dtype=object), allow_pickle=True),
        "flat.npy": _npy_bytes(np.arange(7.0)),
        "huge.npz": _zip({"images.npy": _crafted_npy("<f4", (8000, 8000))}),
        "pickle.npz": _zip({"images.npy": _npy_bytes(np.array([None] * 3), allow_pickle=True)}),
        "foreign.npz": _zip({"a.npy": _npy_bytes(np.zeros(3))}),
        "badmeta.npz": _zip(
            {"images.npy": _npy_bytes(good), "meta.npy": _npy_bytes(np.array("{no json"))}
        ),
    }
    paths = {}
    for name, data in contents.items():
        paths[name] = folder / name
        paths[name].write_bytes(data)
    paths["folder"] = folder / "folder"
    paths["folder"].mkdir()
    paths["folder.npy"] = folder / "folder.npy"
    paths["folder.npy"].mkdir()
    return paths


#: Files ``fastaug info`` can describe although they are no fastaug output.
DESCRIBABLE = {"flat.npy", "foreign.npz"}


def _one_line_failure(capsys, code, expected_code=1):
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == expected_code, err
    if expected_code:
        assert len(lines) == 1, err
        assert "Traceback" not in err and "internal error" not in err, err
        assert lines[0].startswith("fastaug ") and "error:" in lines[0], err
    return err


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return _corpus(tmp_path_factory.mktemp("corpus") / "bad")


@pytest.fixture
def good_input(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((20, 8, 8), np.uint8))
    return tmp_path / "x.npy"


NAMES = [
    "empty.npy", "empty.npz", "text.npy", "truncated.npy", "truncated.npz", "negative.npy",
    "huge.npy", "overflow.npy", "descr.npy", "pickle.npy", "flat.npy", "huge.npz",
    "pickle.npz", "foreign.npz", "badmeta.npz", "folder", "folder.npy",
]  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_info_refuses_bad_files_in_one_line(corpus, name, capsys):
    code = cli.main(["info", str(corpus[name])])
    _one_line_failure(capsys, code, 0 if name in DESCRIBABLE else 1)


@pytest.mark.parametrize("name", NAMES)
def test_verify_refuses_bad_files_in_one_line(corpus, name, capsys):
    _one_line_failure(capsys, cli.main(["verify", str(corpus[name])]))


AS_INPUT = [
    name
    for name in NAMES
    if name != "badmeta.npz"  # its images member is a good input (only its meta is bad)
]


@pytest.mark.parametrize("name", AS_INPUT)
def test_augment_refuses_bad_inputs_leaving_nothing(corpus, tmp_path, name, capsys):
    bad = str(corpus[name])
    _refused_leaving_nothing(
        tmp_path, ["--input", bad] + (["--key", "images"] * bad.endswith(".npz")), capsys
    )


@pytest.mark.parametrize("name", NAMES)
def test_augment_refuses_bad_labels_leaving_nothing(corpus, good_input, tmp_path, name, capsys):
    _refused_leaving_nothing(tmp_path, ["--input", good_input, "--labels", corpus[name]], capsys)


def _refused_leaving_nothing(tmp_path, files, capsys):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    argv = ["augment", "--angles", "15", "--quiet", "--out", out_dir / "o.npy", *files]
    _one_line_failure(capsys, cli.main([str(a) for a in argv]))
    assert list(out_dir.iterdir()) == []


def test_info_of_a_folder_says_it_is_a_folder(tmp_path, capsys):
    _one_line_failure(capsys, cli.main(["info", "."]))
    # (main said "no such file" for an existing folder)


def test_truncated_npz_in_a_real_process_prints_no_traceback(corpus):
    done = subprocess.run(
        [sys.executable, "-m", "fastaug", "info", str(corpus["truncated.npz"])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1 and "not a readable .npz" in done.stderr


# --------------------------------------------------------------- damaged fastaug outputs
@pytest.fixture
def made(tmp_path):
    """A genuine output of the dataset job and how to write a damaged copy of it."""
    data = tmp_path / "data"
    write_dataset(data)
    out = tmp_path / "good.npz"
    assert cli.main(["augment", "--angles", "15,-15", "--data", str(data), "--out", str(out),
                     "--quiet"]) == 0  # fmt: skip
    with np.load(out) as stored:
        arrays = {k: stored[k] for k in stored.files}
    meta = fio.read_meta(arrays.pop("meta"))

    def damaged(change):
        copy = {k: v.copy() for k, v in arrays.items()}
        meta_copy = json.loads(json.dumps(meta))
        change(copy, meta_copy)
        path = tmp_path / "damaged.npz"
        np.savez(path, **copy, meta=fio.meta_array(meta_copy))
        return path

    return data, damaged


def _short_images(arrays, meta):
    arrays["images"] = arrays["images"][:-5]


def _far_source(arrays, meta):
    arrays["source_index"][7] = 10**6


def _order_99(arrays, meta):
    meta["order"] = 99


def _no_dataset(arrays, meta):
    del meta["dataset"]


def _no_source_index(arrays, meta):
    del arrays["source_index"]


def _too_many_sources(arrays, meta):
    meta["sources"] = 10**9


@pytest.mark.parametrize(
    "change, says",
    [
        (_short_images, "source_index of shape"),
        (_far_source, "outside the"),
        (_order_99, "order must be"),
        (_no_dataset, "lack dataset"),
        (_no_source_index, "lack source_index"),
        (_too_many_sources, "sources; its input has"),
    ],
)
def test_verify_refuses_damaged_outputs_in_one_line(made, change, says, capsys):
    data, damaged = made
    path = damaged(change)
    err = _one_line_failure(capsys, cli.main(["verify", str(path), "--data", str(data)]))
    assert says in err


# --------------------------------------------------------------- MLP.load (helper B's row 14)
@pytest.mark.parametrize(
    "name",
    ["truncated.npz", "foreign.npz", "huge.npz", "flat.npy", "empty.npz", "pickle.npz"],
)
def test_mlp_load_refuses_bad_files_with_a_value_error(corpus, name):
    message = other = None
    try:
        MLP.load(corpus[name])
    except ValueError as exc:
        message = str(exc)
    except Exception as exc:  # noqa: BLE001 - reported below, after its file is collected
        other = repr(exc)
    finally:
        gc.collect()  # a file left open by a failed load is reported here, not in a later test
    assert message is not None and "\n" not in message, other


def test_describe_reads_fastaug_outputs_without_loading_them(made):
    """Images are memory-mapped (info and verify of a large file read what they need)."""
    _, damaged = made
    arrays, meta = jobs.open_output(damaged(lambda arrays, meta: None))
    assert isinstance(arrays["images"], np.memmap) and meta["dataset"] == "mnist"
