"""Issue 4's benchmark: the source's MLP loops, fastaug versus the NumPy reference (and
PyTorch when installed), measured in one run. Targets are ratios from this run."""

import os
import sys
import time

import numpy as np
import pytest

from bench.conftest import MEDIANS, ratio, record
from fastaug.mlp import MLP

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from reference_mlp import MultiLayerNet, NeuralNetwork  # noqa: E402

STEPS = 4000


def _batch(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 784)), np.eye(10)[rng.integers(0, 10, n)]


@pytest.mark.parametrize("batch", [10, 30])
def test_fastaug_fixed_batch(benchmark, batch):
    x, t = _batch(batch)
    MLP(seed=0).fit(x, t, steps=2, lr=0.001)  # compile
    benchmark.group = f"mlp-{STEPS}-steps-batch{batch}"
    benchmark.pedantic(lambda: MLP(seed=0).fit(x, t, steps=STEPS, lr=0.001), rounds=5)
    record(benchmark, f"mlp-fastaug-{batch}")
    benchmark.extra_info.update(case=f"mlp-4000-steps-batch{batch}", peer="fastaug", scale=1.0)


@pytest.mark.parametrize("batch", [10, 30])
def test_fastaug_step_loop(benchmark, batch):
    """The source-shaped loop: one ``net.step`` per iteration, each loss recorded."""
    x, t = _batch(batch)
    MLP(seed=0).step(x, t, 0.001)  # compile

    def run():
        net = MLP(seed=0)
        return [net.step(x, t, 0.001) for _ in range(STEPS)]

    benchmark.group = f"mlp-{STEPS}-steps-batch{batch}"
    benchmark.pedantic(run, rounds=3)
    record(benchmark, f"mlp-step-loop-{batch}")
    benchmark.extra_info.update(
        case=f"mlp-4000-steps-batch{batch}", peer="fastaug-step-loop", scale=1.0
    )


@pytest.mark.parametrize("batch", [10, 30])
def test_source_classes_fixed_batch(benchmark, batch):
    """The source's own NumPy classes and loop (tests/reference_mlp.py), same maths."""
    x, t = _batch(batch)
    benchmark.group = f"mlp-{STEPS}-steps-batch{batch}"

    def run():
        np.random.seed(0)
        return NeuralNetwork(784, 200, 10).train(x, t, STEPS, 0.001)

    benchmark.pedantic(run, rounds=1)
    record(benchmark, f"mlp-reference-{batch}")
    benchmark.extra_info.update(
        case=f"mlp-4000-steps-batch{batch}", peer="source-classes", scale=1.0
    )


@pytest.mark.parametrize("batch", [10, 30])
def test_torch_fixed_batch(benchmark, batch):
    torch = pytest.importorskip("torch", reason="PyTorch is an optional peer (not installed)")
    x, t = _batch(batch)
    benchmark.group = f"mlp-{STEPS}-steps-batch{batch}"
    xt, tt = torch.tensor(x), torch.tensor(t)

    def run():
        torch.manual_seed(0)
        model = torch.nn.Sequential(
            torch.nn.Linear(784, 200),
            torch.nn.ReLU(),
            torch.nn.Linear(200, 200),
            torch.nn.ReLU(),
            torch.nn.Linear(200, 10),
        ).double()
        opt = torch.optim.SGD(model.parameters(), lr=0.001)
        for _ in range(STEPS):
            opt.zero_grad()
            y = torch.softmax(model(xt), dim=1)
            loss = -(tt * torch.log(y + 1e-7)).sum() / len(xt)
            loss.backward()
            opt.step()

    benchmark.pedantic(run, rounds=1)
    record(benchmark, f"mlp-torch-{batch}")
    benchmark.extra_info.update(case=f"mlp-4000-steps-batch{batch}", peer="torch", scale=1.0)


@pytest.fixture(scope="module")
def epoch_data():
    rng = np.random.default_rng(1)
    return rng.random((60000, 784)), np.eye(10)[rng.integers(0, 10, 60000)]


def test_fastaug_epoch(benchmark, epoch_data):
    x, t = epoch_data
    # The textbook reference network averages its gradient: so does this one.
    MLP(seed=0, gradient="mean").fit(x[:200], t[:200], epochs=1, batch_size=100, lr=0.01)
    benchmark.group = "mlp-epoch-60000-batch100"
    benchmark.pedantic(
        lambda: MLP(seed=0, gradient="mean").fit(x, t, epochs=1, batch_size=100, lr=0.01),
        rounds=3,
    )
    record(benchmark, "mlp-epoch-fastaug")
    benchmark.extra_info.update(case="mlp-epoch-60000-batch100", peer="fastaug", scale=1.0)


def test_reference_epoch(benchmark, epoch_data):
    x, t = epoch_data
    benchmark.group = "mlp-epoch-60000-batch100"

    def run():
        np.random.seed(0)
        net = MultiLayerNet()
        order = np.random.default_rng(0).permutation(60000)
        for k in range(0, 60000, 100):
            idx = order[k : k + 100]
            net.train(x[idx], t[idx], 1, 0.01)

    benchmark.pedantic(run, rounds=1)
    record(benchmark, "mlp-epoch-reference")
    benchmark.extra_info.update(case="mlp-epoch-60000-batch100", peer="numpy-reference", scale=1.0)


def test_experiment_wall_time(mnist_train):
    from fastaug.reports.experiment import run_experiment

    start = time.perf_counter()
    run_experiment(seeds=10, steps=STEPS, lr=0.001)
    MEDIANS["experiment-seconds"] = time.perf_counter() - start
    print(f"\nfastaug experiment, 10 seeds: {MEDIANS['experiment-seconds']:.1f} s")
    assert MEDIANS["experiment-seconds"] <= 60


def test_mlp_targets():
    """Issue 13: fit(steps=4000) >= 7x and the step loop >= 5x the source's classes; an
    epoch at batch 100 >= 1.3x the textbook NumPy network."""
    results = {
        f"batch {b}: fit vs source classes": ratio(f"mlp-reference-{b}", f"mlp-fastaug-{b}")
        for b in (10, 30)
    }
    results["batch 10: step loop vs source classes"] = ratio("mlp-reference-10", "mlp-step-loop-10")
    results["epoch 60000/100: vs reference"] = ratio("mlp-epoch-reference", "mlp-epoch-fastaug")
    absolute = {b: MEDIANS[f"mlp-fastaug-{b}"] for b in (10, 30)}
    print(
        f"\nratios { ({k: round(v, 1) for k, v in results.items()}) }, fastaug seconds "
        f"{ ({b: round(s, 3) for b, s in absolute.items()}) }"
    )
    targets = {
        "batch 10: fit vs source classes": 7,
        "batch 30: fit vs source classes": 7,
        "batch 10: step loop vs source classes": 5,
        # reports/PERFORMANCE.md measured 1.8x; 1.3x leaves this machine's run-to-run noise
        "epoch 60000/100: vs reference": 1.3,
    }
    missed = {k: (round(results[k], 2), t) for k, t in targets.items() if results[k] < t}
    missed.update(
        {f"fit batch {b} seconds": (round(s, 3), 1.0) for b, s in absolute.items() if s > 1.0}
    )
    assert not missed, f"targets missed (measured, target): {missed}"
