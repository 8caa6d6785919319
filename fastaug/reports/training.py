"""Does on-the-fly augmentation help? fastaug's MLP on the full MNIST training set, with and
without ``Loader`` + ``presets.mnist()``, as a report.

For each seed: one network, its initial weights drawn from the seed, is trained twice from
those weights with the same shuffled order, epochs and learning rate: "plain" on the
images as they are, "augmented" on a fresh ``presets.mnist()`` draw of every image in every
epoch. Each is scored after every epoch on the 10000 test images and on a rotated copy of
them (+15° and −15°, 20000 images, SciPy's rotate, order 3, mode 'nearest').
"""

import time
from pathlib import Path

import numpy as np

from .. import datasets, io, presets
from ..functional import augment
from ..loader import Loader
from ..mlp import MLP

VARIANTS = ("plain", "augmented")


def run_training(seeds=3, epochs=10, lr=0.1, batch_size=100, *, data=None, progress=None):
    """Train both variants for every seed; returns ``curves[variant]``, an array ``(seeds,
    epochs, 3)`` of (mean training loss, test accuracy, rotated test accuracy)."""
    if seeds < 1 or epochs < 1:
        raise ValueError(f"seeds and epochs must be >= 1; got {seeds}, {epochs}")
    (x_train, t_train), (x_test, t_test) = datasets.load_mnist(
        normalize=True, flatten=False, path=data
    )
    x_train, x_test = x_train[:, 0], x_test[:, 0]
    targets = np.eye(10, dtype=np.float64)[t_train]
    rotated, rotated_labels = augment(
        x_test, t_test, angles=(15, -15), include_original=False, order=3, mode="nearest"
    )
    test_rows = x_test.reshape(len(x_test), -1)
    rotated_rows = rotated.reshape(len(rotated), -1)
    curves = {name: np.zeros((seeds, epochs, 3)) for name in VARIANTS}
    for seed in range(seeds):
        for name in VARIANTS:
            net = MLP(seed=seed, gradient="mean")
            pipeline = presets.mnist() if name == "augmented" else None
            loader = Loader(x_train, targets, batch_size, pipeline=pipeline, seed=seed)
            for epoch in range(epochs):
                losses = [net.step(xb.reshape(len(xb), -1), tb, lr) for xb, tb in loader]
                curves[name][seed, epoch] = (
                    np.mean(losses),
                    net.accuracy(test_rows, t_test),
                    net.accuracy(rotated_rows, rotated_labels),
                )
        if progress is not None:
            progress(seed + 1, seeds)
    return curves


def summarize(curves):
    """Final-epoch numbers per variant and the paired differences (augmented - plain)."""
    out = {}
    for name, c in curves.items():
        final = c[:, -1]
        out[name] = {
            key: (final[:, k].mean(), final[:, k].std())
            for k, key in enumerate(("loss", "test", "rotated"))
        }
    seeds = curves["plain"].shape[0]
    for k, key in ((1, "test"), (2, "rotated")):
        diff = curves["augmented"][:, -1, k] - curves["plain"][:, -1, k]
        se = diff.std(ddof=1) / np.sqrt(seeds) if seeds > 1 else np.nan
        out[f"difference {key}"] = (diff.mean(), se, int((diff > 0).sum()), seeds)
    return out


def _verdict(mean, se):
    if not np.isfinite(se):
        return "one seed: no standard error"
    if abs(mean) > 2 * se:
        return "more than two standard errors from zero"
    return "within two standard errors of zero: no reliable difference"


def write_report(curves, sample_grid, out_dir="reports", *, lr, batch_size, seconds, command):
    """``augmentation.md``, ``augmentation_curves.png`` and ``augmentation_samples.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    s = summarize(curves)
    seeds, epochs, _ = curves["plain"].shape
    x_axis = np.arange(1, epochs + 1)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    colors = {"plain": "tab:blue", "augmented": "tab:orange"}
    for name in VARIANTS:
        c = curves[name]
        axes[0].plot(x_axis, c[:, :, 0].mean(0), color=colors[name], label=name)
        for k, style, what in ((1, "-", "test"), (2, "--", "rotated test")):
            mean, std = 100 * c[:, :, k].mean(0), 100 * c[:, :, k].std(0)
            axes[1].plot(x_axis, mean, style, color=colors[name], label=f"{name}, {what}")
            axes[1].fill_between(x_axis, mean - std, mean + std, color=colors[name], alpha=0.15)
    axes[0].set(xlabel="epoch", ylabel="mean training loss", yscale="log", title="training loss")
    axes[1].set(xlabel="epoch", ylabel="accuracy (%)", title=f"accuracy, {seeds} seeds: mean ± std")
    for ax in axes:
        ax.legend(fontsize=8)
    fig.tight_layout()
    io.save_figure(fig, out_dir / "augmentation_curves.png")

    rows, cols = sample_grid.shape[:2]
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.0, rows * 1.05))
    for r in range(rows):
        for c in range(cols):
            axes[r, c].imshow(sample_grid[r, c], cmap="gray", vmin=0, vmax=1)
            axes[r, c].axis("off")
        axes[r, 0].set_title("original" if r == 0 else f"epoch {r - 1}", fontsize=7, loc="left")
    fig.tight_layout()
    io.save_figure(fig, out_dir / "augmentation_samples.png")

    def pct(pair):
        return f"{100 * pair[0]:.2f} ± {100 * pair[1]:.2f} %"

    table = "\n".join(
        ["| | plain | augmented (`presets.mnist()`) |", "|---|---|---|"]
        + [
            f"| {label} | " + " | ".join(fmt(s[name][key]) for name in VARIANTS) + " |"
            for label, key, fmt in (
                ("test accuracy, 10000 images", "test", pct),
                ("rotated test accuracy (±15°, 20000 images)", "rotated", pct),
                ("final training loss (epoch mean)", "loss", lambda p: f"{p[0]:.4f} ± {p[1]:.4f}"),
            )
        ]
    )
    conclusion = []
    for key, label in (("test", "the test set"), ("rotated", "the rotated test set")):
        mean, se, better, n = s[f"difference {key}"]
        conclusion.append(
            f"- On {label}, augmentation changed accuracy by {100 * mean:+.2f} % (standard "
            f"error {100 * se:.2f} %; higher in {better} of {n} seeds): {_verdict(mean, se)}."
        )
    per_seed = "\n".join(
        [
            "| seed | plain test % | augmented test % | plain rotated % | augmented rotated % |",
            "|---|---|---|---|---|",
        ]
        + [
            f"| {k} | "
            + " | ".join(
                f"{100 * curves[name][k, -1, column]:.2f}" for column in (1, 2) for name in VARIANTS
            )
            + " |"
            for k in range(seeds)
        ]
    )
    text = f"""# Does on-the-fly augmentation help a small MLP on full MNIST?

Generated by `{command}` in {seconds:.1f} s; do not edit by hand.

Set-up: `fastaug.mlp.MLP` (784-200-200-10, ReLU, softmax cross-entropy, `0.01 * randn`
weights from the seed), the textbook's mean gradient (`gradient="mean"`), SGD at learning
rate {lr:g} on minibatches of {batch_size} from `fastaug.Loader` (a new order every epoch
from the seed), {epochs} epochs, seeds 0-{seeds - 1}. Each seed trains the same initial
network twice, with the same order: **plain** on the 60000 training images as they are;
**augmented** with `presets.mnist()` (rotation ±15°, shift up to 10 %, scale 0.9-1.1, zero
fill, bilinear; a fresh draw per image and epoch, made while the previous batch trains).
Test accuracy after the last epoch on the 10000 test images and on a rotated copy of them
(each rotated by +15° and by −15°: SciPy's `rotate`, order 3, mode 'nearest').

## Summary over {seeds} seeds (mean ± std, last epoch)

{table}

## Conclusion

{chr(10).join(conclusion)}

## Per seed (last epoch)

{per_seed}

![learning curves](augmentation_curves.png)

![training images, then as the augmented run saw them in its first epochs](augmentation_samples.png)
"""
    with io.atomic_path(out_dir / "augmentation.md", force=True) as tmp:
        Path(tmp).write_text(text)
    return s


def sample_grid(data=None, images=8, epochs=5, seed=0):
    """``(epochs + 1, images)`` images: the first training images, then as
    ``presets.mnist()`` drew them for seed ``seed`` in epochs 0, 1, ..."""
    (x_train, _), _ = datasets.load_mnist(normalize=True, flatten=False, path=data)
    x = x_train[:images, 0]
    pipeline = presets.mnist()
    return np.stack([x] + [pipeline(x, seed=seed, epoch=e) for e in range(epochs)])


def training_report(
    seeds=3,
    epochs=10,
    lr=0.1,
    batch_size=100,
    *,
    data=None,
    out_dir="reports",
    command="fastaug train-report",
    progress=None,
):
    """Train, then write the report; returns (summary dict, seconds)."""
    start = time.perf_counter()
    curves = run_training(seeds, epochs, lr, batch_size, data=data, progress=progress)
    grid = sample_grid(data)
    seconds = time.perf_counter() - start
    summary = write_report(
        curves, grid, out_dir, lr=lr, batch_size=batch_size, seconds=seconds, command=command
    )
    return summary, seconds
