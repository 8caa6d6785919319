"""fastaug.Loader: every sample once per epoch, deterministic batches, a clean stop."""

import gc
import textwrap
import threading
import time

import numpy as np
import pytest

from fastaug import Loader, presets
from fastaug.transforms import Compose, GaussianNoise, RandomAffine

from conftest import run_under_workqueue


def _data(n=230):
    rng = np.random.default_rng(0)
    return rng.random((n, 12, 12)).astype(np.float32), np.arange(n)


def _loader_threads():
    return [t for t in threading.enumerate() if t.name.startswith("fastaug-loader")]


@pytest.mark.parametrize("drop_last", [False, True])
def test_every_sample_once_per_epoch(drop_last):
    x, y = _data()
    loader = Loader(x, y, 50, shuffle=True, seed=3, drop_last=drop_last)
    assert len(loader) == (4 if drop_last else 5)
    orders = []
    for epoch in range(2):
        seen = []
        for xb, yb in loader:
            assert len(xb) == len(yb) and (len(xb) == 50 or not drop_last)
            np.testing.assert_array_equal(xb, x[yb])  # images and labels stay paired
            seen.extend(yb.tolist())
        assert loader.epoch == epoch
        assert len(seen) == (200 if drop_last else 230) and len(set(seen)) == len(seen)
        orders.append(seen)
    assert orders[0] != orders[1]  # a new order each epoch


def test_no_shuffle_keeps_the_order_and_no_labels():
    x, _ = _data(10)
    batches = list(Loader(x, None, 4, shuffle=False))
    assert [len(b) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b.copy() for b in batches]), x)


def test_same_batches_for_the_same_seed_whatever_the_timing():
    x, y = _data()
    pipeline = Compose([RandomAffine(15, translate=(0.1, 0.1)), GaussianNoise(0.05)])

    def run(pause, loader=None):
        out = []
        for xb, yb in loader or Loader(x, y, 64, pipeline=pipeline, seed=7):
            out.append((xb.copy(), yb.copy()))
            time.sleep(pause)  # the background thread runs ahead, or not
        return out

    fast, slow = run(0.0), run(0.02)
    assert len(fast) == len(slow)
    for (a, la), (b, lb) in zip(fast, slow):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(la, lb)
    # each sample augmented exactly as the pipeline alone does it for (seed, epoch, sample)
    xb, yb = fast[1]
    np.testing.assert_array_equal(xb, pipeline(x[yb], seed=7, epoch=0, indices=yb))
    loader = Loader(x, y, 64, pipeline=pipeline, seed=7)
    first_epoch, second_epoch = run(0.0, loader), run(0.0, loader)
    np.testing.assert_array_equal(first_epoch[0][0], fast[0][0])
    assert not np.array_equal(second_epoch[0][0], fast[0][0])  # a new epoch, new draws


def test_set_epoch_replays_an_epoch():
    x, y = _data()
    loader = Loader(x, y, 100, pipeline=presets.mnist(), seed=1)
    first = [b[0].copy() for b in loader]
    loader.set_epoch(0)
    again = [b[0].copy() for b in loader]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)


def test_a_batch_stays_valid_until_two_more_are_taken():
    x, y = _data(400)
    batches = iter(Loader(x, y, 50, shuffle=False))
    xb, _ = next(batches)
    kept = xb.copy()
    next(batches)
    np.testing.assert_array_equal(xb, kept)


def test_abandoned_loops_stop_their_thread():
    x, y = _data(2000)
    loader = Loader(x, y, 10, pipeline=presets.mnist(), seed=0)
    for k, _ in enumerate(loader):
        if k == 3:
            break
    gc.collect()
    deadline = time.time() + 5
    while _loader_threads() and time.time() < deadline:
        time.sleep(0.01)
    assert _loader_threads() == []
    it = iter(loader)
    next(it)
    del it
    gc.collect()
    deadline = time.time() + 5
    while _loader_threads() and time.time() < deadline:
        time.sleep(0.01)
    assert _loader_threads() == []


def test_an_error_in_the_pipeline_reaches_the_caller():
    x, y = _data()
    with pytest.raises(ValueError, match="images must have shape"):
        next(iter(Loader(x.reshape(len(x), -1), y, 10, pipeline=presets.mnist())))


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(batch_size=0), "batch_size must be a positive integer"),
        (dict(batch_size=2.5), "batch_size must be a positive integer"),
        (dict(seed=-1), "seed must be an integer from 0 to"),
        (dict(pipeline=lambda x: x), "pipeline must be a fastaug transform"),
        (dict(y=np.arange(3)), "y must have one entry per sample"),
    ],
)
def test_bad_arguments(kwargs, message):
    x, y = _data(20)
    args = dict(x=x, y=y, batch_size=4) | kwargs
    with pytest.raises(ValueError, match=message):
        Loader(**args)


def test_loader_and_mlp_together_under_the_workqueue_layer(tmp_path):
    """The Loader's thread augments while the caller trains: both run kernels at once. A
    fresh process with Numba's workqueue layer forced (it aborts on concurrent parallel
    launches; fastaug makes none)."""
    script = textwrap.dedent("""
        import numpy as np
        from fastaug import Loader, presets
        from fastaug.mlp import MLP

        rng = np.random.default_rng(0)
        x = rng.random((600, 28, 28)).astype(np.float32)
        y = rng.integers(0, 10, 600)
        net = MLP(seed=0)
        losses = []
        for epoch in range(2):
            for xb, yb in Loader(x, y, 50, pipeline=presets.mnist(), seed=epoch):
                losses.append(net.step(xb.reshape(len(xb), -1), yb, 0.01))
        import numba
        print("ok", len(losses), np.isfinite(losses).all(), numba.config.THREADING_LAYER)
    """)
    assert run_under_workqueue(script, tmp_path, timeout=300).split() == [
        "ok",
        "24",
        "True",
        "workqueue",
    ]
