"""IDX reading, data location and the downloader (against a server on 127.0.0.1)."""

import gzip
import hashlib
import http.server
import threading

import numpy as np
import pytest

from fastaug import datasets

from idx_fixtures import NAMES, idx_bytes, write_dataset


def test_read_idx_roundtrip(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a.gz").write_bytes(gzip.compress(idx_bytes(arr)))
    (tmp_path / "a").write_bytes(idx_bytes(arr))
    np.testing.assert_array_equal(datasets.read_idx(tmp_path / "a.gz"), arr)
    np.testing.assert_array_equal(datasets.read_idx(tmp_path / "a"), arr)


@pytest.mark.parametrize(
    "data,message",
    [
        (b"\x00\x00", "too short"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01x", "unknown IDX type"),
        (b"\x00\x00\x08\x02\x00\x00", "truncated header"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x05abc", "payload truncated"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x01ab", "trailing bytes"),
    ],
)
def test_parse_idx_rejects(data, message):
    with pytest.raises(datasets.DatasetError, match=message):
        datasets.parse_idx(data, "f")


def test_load_mnist_textbook_shapes(tmp_path):
    arrays = write_dataset(tmp_path, n_train=12, n_test=5)
    (x, t), (xt, tt) = datasets.load_mnist(path=tmp_path)
    assert x.shape == (12, 784) and x.dtype == np.float32 and x.max() <= 1.0
    np.testing.assert_array_equal(t, arrays[NAMES[1]])
    (x, t), _ = datasets.load_mnist(
        normalize=False, flatten=False, one_hot_label=True, path=tmp_path
    )
    assert x.shape == (12, 1, 28, 28) and x.dtype == np.uint8 and t.shape == (12, 10)
    np.testing.assert_array_equal(t.argmax(1), arrays[NAMES[1]])


def test_locate_order(tmp_path, monkeypatch):
    env, cache = tmp_path / "env", tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    write_dataset(cache / "fastaug" / "mnist")
    monkeypatch.delenv("FASTAUG_DATA", raising=False)
    assert datasets.locate("mnist", download=False).origin == "cache"
    write_dataset(env / "mnist")
    monkeypatch.setenv("FASTAUG_DATA", str(env))
    found = datasets.locate("mnist", download=False)
    assert found.origin == "FASTAUG_DATA" and found.verified
    # Generated files are not the official MNIST: a verified read refuses them.
    with pytest.raises(datasets.DatasetError, match="checksum mismatch"):
        datasets.load_split("mnist", "train", download=False)
    assert datasets.locate("mnist", path=env / "mnist").origin == "path"


class _Server:
    """Serves ``routes`` (path -> (status, body, declared length)) on 127.0.0.1."""

    def __init__(self, routes):
        self.routes = routes
        self.hits = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits.append(self.path)
                status, body, length = outer.routes.get(self.path, (404, b"", None))
                self.send_response(status)
                self.send_header("Content-Length", str(length if length is not None else len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, prefix):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{prefix}/"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def tiny_spec(tmp_path, monkeypatch):
    """A dataset 'tiny' whose official checksums are those of generated files."""
    src = tmp_path / "src"
    write_dataset(src, n_train=6, n_test=3)
    blobs = {name: (src / name).read_bytes() for name in NAMES}
    files = [datasets.DataFile(n, hashlib.md5(blobs[n]).hexdigest()) for n in NAMES]
    spec = datasets.DatasetSpec("tiny", (), *files)
    monkeypatch.setitem(datasets.DATASETS, "tiny", spec)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("FASTAUG_DATA", raising=False)
    return blobs


def _cache_files(tmp_path):
    folder = tmp_path / "cache" / "fastaug" / "tiny"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_fails_over_to_the_next_mirror(tiny_spec, tmp_path):
    routes = {f"/good/{n}": (200, b, None) for n, b in tiny_spec.items()}
    routes.update({f"/bad/{n}": (500, b"oops", None) for n in tiny_spec})
    with _Server(routes) as server:
        folder = datasets.download_dataset(
            "tiny", mirrors=[server.url("bad"), server.url("good")], progress=False
        )
        assert any(h.startswith("/bad/") for h in server.hits)
    assert _cache_files(tmp_path) == sorted(NAMES)
    images, labels, located = datasets.load_split("tiny", "train", download=False)
    assert images.shape == (6, 28, 28) and located.origin == "cache" and folder.is_dir()


@pytest.mark.parametrize("fault", ["checksum", "truncated", "server error", "missing"])
def test_download_faults_leave_nothing_partial(tiny_spec, tmp_path, fault):
    routes = {}
    for n, b in tiny_spec.items():
        if fault == "checksum":
            routes[f"/m/{n}"] = (200, b[:-1] + bytes([b[-1] ^ 1]), None)
        elif fault == "truncated":
            routes[f"/m/{n}"] = (200, b[: len(b) // 2], len(b))
        elif fault == "server error":
            routes[f"/m/{n}"] = (503, b"busy", None)
    with _Server(routes) as server:
        with pytest.raises(datasets.DatasetNotFound, match="download failed"):
            datasets.download_dataset("tiny", mirrors=[server.url("m")], progress=False)
    assert _cache_files(tmp_path) == []
    assert not (tmp_path / "cache" / "fastaug" / "tiny").exists()  # no empty folder either


def test_locate_downloads_when_nothing_is_local(tiny_spec, tmp_path, monkeypatch):
    routes = {f"/m/{n}": (200, b, None) for n, b in tiny_spec.items()}
    with _Server(routes) as server:
        spec = datasets.DATASETS["tiny"]
        monkeypatch.setitem(
            datasets.DATASETS,
            "tiny",
            datasets.DatasetSpec("tiny", (server.url("m"),), *spec.files()),
        )
        found = datasets.locate("tiny", progress=False)
    assert found.origin == "download" and _cache_files(tmp_path) == sorted(NAMES)
