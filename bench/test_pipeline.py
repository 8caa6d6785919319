"""Augmentation while training: a fastaug pipeline against albumentations on all 60000 MNIST
images, and the Loader's cost over a bare training loop.

Pipeline: ``RandomAffine(15°, shift 10 %, scale 0.9-1.1, shear 10°)`` (bilinear, zero fill),
``GaussianNoise(0.05)`` and ``BrightnessContrast(0.2, 0.2)``, a fresh draw per image;
albumentations' ``Compose([Affine, GaussNoise, RandomBrightnessContrast])`` with the same
ranges applied per image (6000 images, scaled x10), in a plain loop and, at 2 threads, in a
pool of 2 (the faster counts). Images float32 in [0, 1].

Loader: one epoch of ``MLP.step`` on minibatches of 100 over the full set, bare (indexing
``x[idx]`` in the loop) against ``Loader(x, t, 100)``, and with ``presets.mnist()``.
"""

import time

import numpy as np
import pytest

from bench.conftest import MEDIANS, loop_or_pool, record

THREADS = (1, 2)


def _pipeline():
    from fastaug.transforms import BrightnessContrast, Compose, GaussianNoise, RandomAffine

    return Compose(
        [
            RandomAffine(degrees=15, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=10),
            GaussianNoise(0.05),
            BrightnessContrast(0.2, 0.2),
        ]
    )


@pytest.mark.parametrize("threads", THREADS, indirect=True)
def test_fastaug_pipeline(benchmark, mnist_train, threads):
    x = mnist_train[0]
    pipeline = _pipeline()
    pipeline(x[:64], seed=0)  # compile
    benchmark.group = f"pipeline-60000-{threads}-threads"
    epochs = iter(range(100))
    out = benchmark.pedantic(
        lambda: pipeline(x, seed=0, epoch=next(epochs)), rounds=5, warmup_rounds=1
    )
    record(benchmark, f"pipeline-fastaug-{threads}t")
    benchmark.extra_info.update(case=f"pipeline-{threads}t", peer="fastaug", scale=1.0)
    assert out.shape == x.shape and out.dtype == x.dtype and 0.0 <= out.min() and out.max() <= 1.0


@pytest.mark.parametrize("threads", THREADS, indirect=True)
@pytest.mark.parametrize("way", ["loop", "pool"])
def test_albumentations_pipeline(benchmark, mnist_train, threads, way):
    A = pytest.importorskip(
        "albumentations",
        reason="albumentations is a peer of the bench extra (pip install -e '.[bench]')",
    )
    if way == "pool" and threads == 1:
        pytest.skip("a pool of one thread is the plain loop")
    x = mnist_train[0][:6000]
    transform = A.Compose(
        [
            A.Affine(
                rotate=(-15, 15), translate_percent=(-0.1, 0.1), scale=(0.9, 1.1), shear=(-10, 10),
                interpolation=1, border_mode=0, p=1.0,
            ),
            A.GaussNoise(std_range=(0.05, 0.05), p=1.0),
            A.RandomBrightnessContrast(0.2, 0.2, p=1.0),
        ]
    )  # fmt: skip

    def part(lo, hi):
        return [transform(image=img)["image"] for img in x[lo:hi]]

    run = loop_or_pool(part, len(x), way, threads)

    benchmark.group = f"pipeline-60000-{threads}-threads"
    benchmark.pedantic(run, rounds=1)
    record(benchmark, f"pipeline-albumentations-{way}-{threads}t")
    benchmark.extra_info.update(
        case=f"pipeline-{threads}t", peer=f"albumentations-{way}", scale=10.0
    )


def _epoch(net, batches):
    for xb, tb in batches:
        net.step(xb.reshape(len(xb), -1), tb, 0.01)


def _batch_source(how, x, t):
    """What one epoch iterates, made anew per call: ``x[idx]`` indexed in the loop (bare),
    or a Loader, plain or with ``presets.mnist()``."""
    from fastaug import Loader, presets

    if how == "bare":
        flat = x.reshape(len(x), -1)

        def bare():
            order = np.random.default_rng(0).permutation(len(x))
            return (
                (flat[idx], t[idx]) for idx in (order[k : k + 100] for k in range(0, len(x), 100))
            )

        return bare
    loader = Loader(x, t, 100, pipeline=presets.mnist() if how != "loader" else None, seed=0)
    return lambda: loader


@pytest.mark.parametrize("how", ["bare", "loader", "loader-mnist-preset"])
def test_training_epoch(benchmark, mnist_train, how):
    from fastaug.mlp import MLP

    x, labels = mnist_train
    t = np.eye(10)[labels]
    MLP(seed=0).step(x[:100].reshape(100, -1), t[:100], 0.01)  # compile
    batches = _batch_source(how, x, t)
    benchmark.group = "training-epoch-60000-batch100"
    benchmark.pedantic(
        lambda: _epoch(MLP(seed=0, gradient="mean"), batches()), rounds=3, warmup_rounds=1
    )
    record(benchmark, f"epoch-{how}")
    benchmark.extra_info.update(case="training-epoch", peer=how, scale=1.0)


def test_pipeline_target():
    """Issue 15: the pipeline >= 10x albumentations (the faster of its loop and pool at the
    same thread count)."""
    results = {}
    for threads in THREADS:
        peers = [MEDIANS.get(f"pipeline-albumentations-{w}-{threads}t") for w in ("loop", "pool")]
        peers = [p * 10 for p in peers if p is not None]  # 6000 images, scaled to 60000
        mine = MEDIANS.get(f"pipeline-fastaug-{threads}t")
        if not peers or mine is None:
            pytest.skip("pipeline rows not measured in this run (albumentations installed?)")
        results[f"pipeline vs albumentations, {threads} threads"] = min(peers) / mine
    print("\npipeline speed-ups:", {k: round(v, 1) for k, v in results.items()})
    assert all(v >= 10 for v in results.values())


def test_loader_overhead_target(mnist_train):
    """Issue 15: the Loader costs <= 10 % of a bare epoch. Needs no peer, so it runs without
    albumentations. Bare and Loader epochs take turns and the fastest of each counts: both
    meet the same moments of a shared machine (timed one after the other, as the benchmark
    rows above are, the two differed by -25 % to +170 % from run to run there)."""
    from fastaug.mlp import MLP

    x, labels = mnist_train
    t = np.eye(10)[labels]
    MLP(seed=0).step(x[:100].reshape(100, -1), t[:100], 0.01)  # compile
    sources = {how: _batch_source(how, x, t) for how in ("bare", "loader")}
    best = dict.fromkeys(sources, np.inf)
    for _ in range(5):
        for how, batches in sources.items():
            start = time.perf_counter()
            _epoch(MLP(seed=0, gradient="mean"), batches())
            best[how] = min(best[how], time.perf_counter() - start)
    overhead = best["loader"] / best["bare"] - 1
    print(f"\nloader overhead {overhead:+.1%} (fastest epochs {best})")
    assert overhead <= 0.10, f"the Loader costs {overhead:+.1%} of a bare epoch (target <= 10 %)"
