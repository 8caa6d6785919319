"""fastaug.mlp.MLP against the source's NumPy layer classes (tests/reference_mlp.py)."""

import io
import re
import tracemalloc
import zipfile

import numpy as np
import pytest

from fastaug.mlp import MLP, NetworkFileError

from reference_mlp import MultiLayerNet, NeuralNetwork


def _batch(n, seed=0, one_hot=True):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 784))
    labels = rng.integers(0, 10, n)
    return x, (np.eye(10)[labels] if one_hot else labels)


def _rel(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


def test_same_initial_weights_as_the_source():
    np.random.seed(8)
    ref = MultiLayerNet()
    np.random.seed(8)
    net = MLP()
    for key in ref.params:
        np.testing.assert_array_equal(net.params[key], ref.params[key])


@pytest.mark.parametrize("batch", [10, 30, 100])
@pytest.mark.parametrize("loop", ["fit", "step"])
def test_200_steps_match_the_sources_own_classes(batch, loop):
    """gradient="sum" (the default) is the source's maths: its classes, its loop."""
    x, t = _batch(batch, seed=batch)
    np.random.seed(batch)
    ref = NeuralNetwork(784, 200, 10)
    np.random.seed(batch)
    net = MLP()
    lr = 0.001  # the source's
    ref_losses = np.array(ref.train(x, t, 200, lr))
    if loop == "fit":
        losses = net.fit(x, t, steps=200, lr=lr)
    else:
        losses = np.array([net.step(x, t, lr) for _ in range(200)])
    assert _rel(losses, ref_losses) <= 1e-10
    for key in ref.params:
        assert _rel(net.params[key], ref.params[key]) <= 1e-10, key
    assert losses[-1] < losses[0]  # it actually trained


@pytest.mark.parametrize("batch", [10, 30, 100])
def test_200_steps_of_the_mean_gradient_match_the_textbook(batch):
    x, t = _batch(batch, seed=batch)
    np.random.seed(batch)
    ref = MultiLayerNet()
    np.random.seed(batch)
    net = MLP(gradient="mean")
    ref_losses = np.array(ref.train(x, t, 200, 0.1))
    losses = net.fit(x, t, steps=200, lr=0.1)
    assert _rel(losses, ref_losses) <= 1e-10
    for key in ref.params:
        assert _rel(net.params[key], ref.params[key]) <= 1e-10, key
    assert losses[-1] < losses[0]


def test_sum_gradient_is_batch_times_the_mean():
    x, t = _batch(30, seed=2)
    total = MLP(seed=4).gradient(x, t)
    mean = MLP(seed=4, gradient="mean").gradient(x, t)
    for key in total:  # relative to the largest entry: cancellation makes small ones noisy
        assert _rel(30 * mean[key], total[key]) <= 1e-12, key


def test_gradient_choice_is_validated_kept_and_saved(tmp_path):
    with pytest.raises(ValueError, match="gradient must be one of"):
        MLP(gradient="avg")
    net = MLP((784, 5, 10), seed=0, gradient="mean")
    assert "gradient='mean'" in repr(net) and net.copy().gradient_mode == "mean"
    net.save(tmp_path / "n.npz")
    assert MLP.load(tmp_path / "n.npz").gradient_mode == "mean"


def test_integer_labels_equal_one_hot():
    x, labels = _batch(12, seed=3, one_hot=False)
    a, b = MLP(seed=5), MLP(seed=5)
    np.testing.assert_array_equal(
        a.fit(x, labels, steps=20, lr=0.05), b.fit(x, np.eye(10)[labels], steps=20, lr=0.05)
    )


@pytest.mark.parametrize("gradient", ["sum", "mean"])
def test_gradient_matches_central_differences(gradient):
    """The gradient of the reported (mean) loss, times the batch for the source's "sum"."""
    x, t = _batch(4, seed=1)
    net = MLP((784, 6, 5, 10), weight_init_std=0.1, seed=2, gradient=gradient)
    scale = len(x) if gradient == "sum" else 1
    grads = net.gradient(x, t)
    rng = np.random.default_rng(0)
    for key in net.params:
        p = net.params[key]
        for idx in [tuple(rng.integers(0, n) for n in p.shape) for _ in range(6)]:
            old = p[idx]
            h = 1e-7  # central difference: truncation O(h^2), rounding O(eps / h)
            p[idx] = old + h
            up = net.loss(x, t)
            p[idx] = old - h
            down = net.loss(x, t)
            p[idx] = old
            numeric = (up - down) / (2 * h)  # of the mean loss: the sum's is scale times it
            analytic = grads[key][idx] / scale
            assert abs(numeric - analytic) <= 1e-6 * max(1.0, abs(numeric)), key


@pytest.mark.parametrize("gradient", ["sum", "mean"])
def test_float32_tracks_float64(gradient):
    """float32: the same maths in single precision. Stated tolerance, at steps up to the
    experiment's (lr <= 0.01 with the mean gradient, lr <= 0.001 with the source's sum over
    10 images, the same step) over 200 steps: losses within 1e-6 and weights within 1e-4 of
    float64 (relative to the largest value). Measured: 1.5e-8 and 1.4e-6 at mean lr 0.01.
    With 10x larger steps the trajectory amplifies rounding (ReLU units switching): weights
    differ by ~2e-3 there."""
    x, t = _batch(10, seed=4)
    for lr in (0.01, 0.001) if gradient == "mean" else (0.001, 0.0001):
        a = MLP(seed=7, gradient=gradient)
        b = MLP(seed=7, dtype=np.float32, gradient=gradient)
        la = a.fit(x, t, steps=200, lr=lr)
        lb = b.fit(x, t, steps=200, lr=lr)
        assert b.params["W1"].dtype == np.float32
        assert _rel(lb, la) <= 1e-6
        for key in a.params:
            assert _rel(b.params[key].astype(np.float64), a.params[key]) <= 1e-4, key


def test_predict_accuracy_save_load_copy(tmp_path):
    x, labels = _batch(30, seed=5, one_hot=False)
    net = MLP(seed=1)
    before = net.loss(x, labels)
    net.fit(x, labels, steps=300, lr=0.003)
    assert net.loss(x, labels) < before
    assert net.accuracy(x, labels) == np.mean(net.predict(x) == labels)
    assert net.accuracy(x, np.eye(10)[labels]) == net.accuracy(x, labels)
    path = tmp_path / "net.npz"
    net.save(path)
    clone = MLP.load(path)
    np.testing.assert_array_equal(clone.forward(x), net.forward(x))
    np.testing.assert_allclose(net.forward(x).sum(axis=1), 1.0)
    twin = net.copy()
    twin.fit(x, labels, steps=5, lr=0.003)
    np.testing.assert_array_equal(clone.params["W2"], net.params["W2"])  # net untouched
    assert not np.array_equal(twin.params["W2"], net.params["W2"])


def test_epochs_minibatches_and_callback():
    x, t = _batch(50, seed=6)
    seen = []
    losses = MLP(seed=0).fit(
        x,
        t,
        epochs=2,
        batch_size=20,
        lr=0.1,
        callback=lambda k, loss: seen.append((k, loss)),
        seed=3,
    )
    assert len(losses) == 6 and [k for k, _ in seen] == list(range(6))
    np.testing.assert_array_equal(
        losses, MLP(seed=0).fit(x, t, epochs=2, batch_size=20, lr=0.1, seed=3)
    )


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda n, x, t: n.fit(x[:, :5], t, steps=1, lr=0.1), r"x must have shape \(batch, 784\)"),
        (lambda n, x, t: n.fit(x, t[:3], steps=1, lr=0.1), "labels for 4 inputs|got shape"),
        (lambda n, x, t: n.fit(np.full_like(x, np.nan), t, steps=1, lr=0.1), "NaN"),
        (lambda n, x, t: n.fit(x, t, steps=1, lr=0), "lr must be a positive"),
        (lambda n, x, t: n.fit(x, t, steps=1, lr=-1), "lr must be a positive"),
        (lambda n, x, t: n.step(x, np.array([0, 1, 2, 11]), lr=0.1), "labels must lie in 0..9"),
    ],
)
def test_bad_input(call, message):
    x, t = _batch(4)
    with pytest.raises(ValueError, match=message):
        call(MLP(seed=0), x, t)


def _plain_steps(net, batches, lr):
    """Reference: every step on a fresh copy, so no update is ever held back."""
    return [net.step(np.array(x), np.array(t), lr) for x, t in batches]


def test_repeated_batch_holds_w1_back_and_any_read_applies_it():
    x, t = _batch(10, seed=11)
    net, ref = MLP(seed=3), MLP(seed=3)
    w1_view = net.params["W1"]  # a view kept across the steps
    losses = [net.step(x, t, 0.01) for _ in range(30)]
    assert net._repeated is not None and net._repeated.carried is not None  # the fast path ran
    assert _rel(np.array(losses), np.array(_plain_steps(ref, [(x, t)] * 30, 0.01))) <= 1e-12
    held = w1_view.copy()
    for key in ref.params:  # reading through params applies the held-back update
        assert _rel(net.params[key], ref.params[key]) <= 1e-12, key
    assert not np.array_equal(held, w1_view)  # ... into the same memory the view shows
    assert net._repeated.carried is None


def _read(net, read, x, t, path):
    """What a user sees of the weights through one of the network's methods."""
    if read == "save":
        net.save(path)
        return MLP.load(path).forward(x)
    if read == "copy":
        return net.copy().forward(x)
    if read == "fit":
        net.fit(x, t, steps=1, lr=0.01)
        return net.forward(x)
    if read == "gradient":
        return np.concatenate([g.ravel() for g in net.gradient(x, t).values()])
    return np.asarray(net.loss(x, t) if read == "loss" else net.forward(x))


@pytest.mark.parametrize("read", ["forward", "loss", "gradient", "copy", "save", "fit"])
def test_every_read_of_the_weights_sees_the_held_back_steps(read, tmp_path):
    x, t = _batch(10, seed=12)
    net, ref = MLP(seed=4), MLP(seed=4)
    for _ in range(5):
        net.step(x, t, 0.01)
    _plain_steps(ref, [(x, t)] * 5, 0.01)
    got = _read(net, read, x, t, tmp_path / "net.npz")
    assert _rel(got, _read(ref, read, x, t, tmp_path / "ref.npz")) <= 1e-12


def test_changed_or_alternating_batches_are_not_mistaken_for_the_same():
    x, t = _batch(10, seed=13)
    y, u = _batch(10, seed=14)
    net, ref = MLP(seed=5), MLP(seed=5)
    got = [net.step(x, t, 0.01) for _ in range(3)]
    x[0, :5] = 0.5  # changed in place: same object, new contents
    t[:] = t[::-1]
    got += [net.step(x, t, 0.02) for _ in range(3)]
    got += [net.step(y, u, 0.01), net.step(x, t, 0.01), net.step(x, t, 0.01)]
    x0 = _batch(10, seed=13)
    want = _plain_steps(ref, [x0] * 3, 0.01)
    want += _plain_steps(ref, [(x, t)] * 3, 0.02)
    want += _plain_steps(ref, [(y, u), (x, t), (x, t)], 0.01)
    assert _rel(np.array(got), np.array(want)) <= 1e-12
    for key in ref.params:
        assert _rel(net.params[key], ref.params[key]) <= 1e-12, key


def test_pickle_carries_the_applied_weights():
    import pickle

    x, t = _batch(10, seed=15)
    net = MLP(seed=6)
    for _ in range(4):
        net.step(x, t, 0.01)
    clone = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(clone.forward(x), net.forward(x))


def test_batches_seen_once_are_not_copied():
    """A mini-batch loop (new arrays every step) pays nothing for the repeated-batch path."""
    net = MLP(seed=7)
    for k in range(3):
        x, t = _batch(10, seed=20 + k)
        net.step(x, t, 0.01)
        assert net._repeated.seen is None and net._repeated.carried is None
    net.step(x, t, 0.01)  # the same objects a second time: now watched
    assert net._repeated.seen is not None


# ------------------------------------------------- issue 20 row 17: empty batches
def test_mlp_refuses_empty_batches():
    net = MLP((4, 8, 3), seed=0)
    x, t = np.zeros((0, 4)), np.zeros(0, int)
    for call in (
        lambda: net.step(x, t, lr=0.1),
        lambda: net.loss(x, t),
        lambda: net.gradient(x, t),
        lambda: net.fit(x, t, steps=1, lr=0.1),
        lambda: net.accuracy(x, t),
    ):
        with pytest.raises(ValueError, match="no samples"):
            call()
    assert net.forward(x).shape == (0, 3)  # predicting nothing is well defined


# ------------------------------------------------- issue 20 row 14: MLP.load of bad files
def _saved(tmp_path, **overrides):
    net = MLP((4, 8, 3), seed=0)
    path = tmp_path / "net.npz"
    net.save(path)
    if overrides:
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files}
        arrays.update(overrides)
        arrays = {k: v for k, v in arrays.items() if v is not None}
        np.savez(path, **arrays)
    return path


def _crafted(path, members):
    """A stored zip of ``.npy`` members given as ``(header dict, data bytes)``."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, (header, data) in members.items():
            raw = io.BytesIO()
            np.lib.format.write_array_header_1_0(raw, header)
            archive.writestr(f"{name}.npy", raw.getvalue() + data)
    return path


def _load_error(path):
    with pytest.raises(NetworkFileError) as info:
        MLP.load(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_load_refuses_other_files_with_one_error(tmp_path):
    good = _saved(tmp_path).read_bytes()
    npy = tmp_path / "x.npy"
    np.save(npy, np.zeros(3))
    assert "not a network saved by MLP.save" in _load_error(npy)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, a=np.zeros(3))
    assert "it holds a.npy" in _load_error(foreign)
    truncated = tmp_path / "truncated.npz"
    for keep in (300, len(good) - 30):
        truncated.write_bytes(good[:keep])
        _load_error(truncated)
    compressed = tmp_path / "compressed.npz"
    with np.load(_saved(tmp_path)) as data:
        np.savez_compressed(compressed, **{k: data[k] for k in data.files})
    assert "compressed" in _load_error(compressed)
    assert issubclass(NetworkFileError, ValueError)


@pytest.mark.parametrize(
    "overrides,message",
    [
        (dict(W2=np.zeros((3, 8))), r"W2 cannot be read \(expected float64 \(8, 3\) array"),
        (dict(b2=np.zeros(3, np.float32)), "b2 cannot be read"),
        (dict(extra=np.zeros(2)), "it holds W1, W2, b1, b2, extra"),
        (dict(b2=None), "need arrays W1, b1, W2, b2"),
        (dict(sizes=np.array([4])), "layer widths"),
        (dict(sizes=np.array([4, 0, 3])), "layer widths must be positive"),
        (dict(sizes=np.array([4.0, 8.0, 3.0])), "integer layer widths"),
        (dict(gradient=np.array("max")), "gradient must be one of"),
        (dict(W1=np.zeros((4, 8), np.float16)), "cannot be read|float16"),
    ],
)
def test_load_checks_every_array_against_the_sizes(tmp_path, overrides, message):
    assert MLP.load(_saved(tmp_path)).sizes.tolist() == [4, 8, 3]
    assert re.search(message, _load_error(_saved(tmp_path, **overrides)))


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_load_refuses_non_finite_weights(tmp_path, value):
    weights = MLP((4, 8, 3), seed=0).params["W2"].copy()
    weights[2, 1] = value
    assert "W2 holds NaN or infinite weights" in _load_error(_saved(tmp_path, W2=weights))


def test_load_checks_headers_before_allocating(tmp_path):
    # A file of a few hundred bytes whose headers declare an 8000 x 8000 network (512 MB).
    path = _crafted(
        tmp_path / "crafted.npz",
        {
            "sizes": ({"descr": "<i8", "fortran_order": False, "shape": (2,)},
                      np.array([8000, 8000]).tobytes()),
            "W1": ({"descr": "<f8", "fortran_order": False, "shape": (8000, 8000)}, b""),
            "b1": ({"descr": "<f8", "fortran_order": False, "shape": (8000,)}, b""),
        },
    )  # fmt: skip
    assert path.stat().st_size < 1000
    tracemalloc.start()
    try:
        with pytest.raises(Exception) as info:  # noqa: PT011 - the class is checked below
            MLP.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, f"{peak} bytes allocated for a {path.stat().st_size}-byte file"
    assert isinstance(info.value, NetworkFileError) and "W1 cannot be read" in str(info.value)
