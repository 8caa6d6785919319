"""The source script's experiment, reproduced over several seeds, as a report.

For each seed ``s`` (the source used 8): ``np.random.seed(s)``, pick 10 training images with
``np.random.choice(60000, 10)``, draw the initial weights from the same global state; model
A trains on the 10 images, model B on the 30 (the 10 plus their +15 and -15 degree
rotations, order 3, mode 'nearest'), both from the same weights, full-batch SGD.
"""

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import datasets, io
from .functional import augment_data
from .mlp import MLP

THRESHOLDS = (1.0, 0.1, 0.01)


@dataclass
class Run:
    seed: int
    indices: list
    loss_a: np.ndarray = field(repr=False)
    loss_b: np.ndarray = field(repr=False)
    acc_a: float = 0.0
    acc_b: float = 0.0

    def first_below(self, which, threshold):
        loss = self.loss_a if which == "A" else self.loss_b
        hits = np.flatnonzero(loss < threshold)
        return int(hits[0]) if hits.size else None


def run_experiment(
    seeds=10, steps=4000, lr=0.001, angles=(15, -15), *, first_seed=8, data=None, progress=None
):
    """Train A and B for every seed; returns the list of :class:`Run` and the 30 images of
    the first seed (for the sample grid)."""
    if seeds < 1 or steps < 1:
        raise ValueError(f"seeds and steps must be >= 1; got {seeds}, {steps}")
    (x_train, t_train), (x_test, t_test) = datasets.load_mnist(
        normalize=True, flatten=True, one_hot_label=True, path=data
    )
    runs, first_images = [], None
    for k in range(seeds):
        seed = first_seed + k
        np.random.seed(seed)
        idx = np.random.choice(60000, 10)
        start = MLP()  # from the global state, right after the choice, as the source
        x10, t10 = x_train[idx], t_train[idx]
        x30, t30 = augment_data(x10, t10, angles=list(angles))
        model_a, model_b = start, start.copy()
        loss_a = model_a.fit(x10, t10, steps=steps, lr=lr)
        loss_b = model_b.fit(x30, t30, steps=steps, lr=lr)
        runs.append(
            Run(
                seed,
                idx.tolist(),
                loss_a,
                loss_b,
                model_a.accuracy(x_test, t_test),
                model_b.accuracy(x_test, t_test),
            )
        )
        if first_images is None:
            first_images = x30.reshape(-1, 28, 28)
        if progress:
            progress(k + 1, seeds)
    return runs, first_images


def _mean_std(values):
    values = [v for v in values if v is not None]
    if not values:
        return "never"
    return f"{np.mean(values):.1f} ± {np.std(values):.1f}"


def summarize(runs):
    """Numbers the report and the closing note quote."""
    acc_a = np.array([r.acc_a for r in runs])
    acc_b = np.array([r.acc_b for r in runs])
    diff = acc_b - acc_a
    out = dict(
        seeds=len(runs),
        acc_a=(acc_a.mean(), acc_a.std()),
        acc_b=(acc_b.mean(), acc_b.std()),
        acc_diff=(diff.mean(), diff.std()),
        acc_diff_se=diff.std(ddof=1) / np.sqrt(len(runs)) if len(runs) > 1 else np.nan,
        final_a=np.mean([r.loss_a[-1] for r in runs]),
        final_b=np.mean([r.loss_b[-1] for r in runs]),
    )
    for thr in THRESHOLDS:
        for which in "AB":
            hits = [r.first_below(which, thr) for r in runs]
            out[f"{which}<{thr}"] = (_mean_std(hits), sum(h is not None for h in hits))
    return out


def _conclusion(s, runs, steps):
    lines = []
    for thr in THRESHOLDS:
        (ma, na), (mb, nb) = s[f"A<{thr}"], s[f"B<{thr}"]
        if na == 0 and nb == 0:
            lines.append(f"- Neither model's training loss went below {thr} within {steps} steps.")
            continue
        a_steps = [r.first_below("A", thr) for r in runs]
        b_steps = [r.first_below("B", thr) for r in runs]
        paired = [(a, b) for a, b in zip(a_steps, b_steps) if a is not None and b is not None]
        verdict = ""
        if paired:
            faster = sum(b < a for a, b in paired)
            verdict = (
                f"; B got there first in {faster} of {len(paired)} seeds where both did"
                f" (mean step difference B - A = "
                f"{np.mean([b - a for a, b in paired]):+.1f})"
            )

        def reached(mean, count):
            return (
                f"after {mean} steps ({count}/{len(runs)} seeds)"
                if count
                else f"never (0/{len(runs)} seeds)"
            )

        lines.append(f"- Loss < {thr}: A {reached(ma, na)}, B {reached(mb, nb)}{verdict}.")
    if max(s["acc_a"][0], s["acc_b"][0]) < 0.2:
        lines.append(
            f"- With these settings ({steps} steps) both models "
            "stay close to chance on the test set (10 classes: 10 %): the source's "
            "settings barely train this network, so neither claim (faster "
            "convergence, better generalisation) is supported by this run."
        )
    d, se = s["acc_diff"][0], s["acc_diff_se"]
    significant = np.isfinite(se) and abs(d) > 2 * se
    lines.append(
        f"- Test accuracy (10000 images): A {100 * s['acc_a'][0]:.2f} ± {100 * s['acc_a'][1]:.2f}"
        f" %, B {100 * s['acc_b'][0]:.2f} ± {100 * s['acc_b'][1]:.2f} %; paired difference "
        f"B - A = {100 * d:+.2f} % (standard error {100 * se:.2f} %): "
        + (
            "a difference larger than two standard errors."
            if significant
            else "within two standard errors of zero, so no reliable difference."
        )
    )
    return "\n".join(lines)


def write_report(runs, images, out_dir="reports", *, steps, lr, seconds, command):
    """``experiment.md``, ``experiment_loss.png`` and ``experiment_samples.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    s = summarize(runs)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    x_axis = np.arange(1, steps + 1)
    for which, color in (("A", "tab:blue"), ("B", "tab:orange")):
        curves = np.array([r.loss_a if which == "A" else r.loss_b for r in runs])
        label = "A: 10 images" if which == "A" else "B: 10 images + ±15° rotations (30)"
        ax.plot(x_axis, curves.mean(axis=0), color=color, label=f"{label}, mean")
        ax.fill_between(x_axis, curves.min(axis=0), curves.max(axis=0), color=color, alpha=0.2)
    ax.set_yscale("log")
    ax.set_xlabel("SGD step")
    ax.set_ylabel("training loss (cross-entropy)")
    ax.set_title(f"{len(runs)} seeds, lr {lr}: mean and min-max band")
    ax.legend()
    fig.tight_layout()
    with io.atomic_path(out_dir / "experiment_loss.png", force=True) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)

    fig, axes = plt.subplots(3, 10, figsize=(10, 3.3))
    grid = images.reshape(10, 3, 28, 28)  # interleaved: original, +15, -15 per image
    for col in range(10):
        for row in range(3):
            axes[row, col].imshow(grid[col, row], cmap="gray", vmin=0, vmax=1)
            axes[row, col].axis("off")
    for row, name in enumerate(("original", "+15°", "-15°")):
        axes[row, 0].set_title(name, fontsize=8, loc="left")
    fig.tight_layout()
    with io.atomic_path(out_dir / "experiment_samples.png", force=True) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)

    rows = "\n".join(
        f"| {r.seed} | {r.first_below('A', 1.0)} | {r.first_below('B', 1.0)} | "
        f"{r.first_below('A', 0.1)} | {r.first_below('B', 0.1)} | {r.first_below('A', 0.01)} | "
        f"{r.first_below('B', 0.01)} | {r.loss_a[-1]:.4g} | {r.loss_b[-1]:.4g} | "
        f"{100 * r.acc_a:.2f} | {100 * r.acc_b:.2f} |"
        for r in runs
    )
    text = f"""# Does augmenting 10 MNIST images with ±15° rotations help a small MLP?

Generated by `{command}` in {seconds:.1f} s; do not edit by hand.

Set-up (the source script's): 784-200-200-10 MLP, ReLU, softmax cross-entropy, weights
`0.01 * randn`, full-batch SGD with learning rate {lr} for {steps} steps. For each seed s
(8 is the source's), `np.random.seed(s); np.random.choice(60000, 10)` picks the training
images and the same global state draws the initial weights. Model A trains on the 10 images;
model B on 30: each image and its +15° and −15° rotations (`scipy.ndimage.rotate` semantics,
order 3, mode 'nearest', made by `fastaug.augment_data`). Both start from the same weights.
"Steps" count from 0; "None" means the loss never went below the threshold.

## Summary over {len(runs)} seeds (mean ± std)

| | A (10 images) | B (30 images) |
|---|---|---|
| first step with loss < 1.0 | {s["A<1.0"][0]} ({s["A<1.0"][1]} seeds) | {s["B<1.0"][0]} ({s["B<1.0"][1]} seeds) |
| first step with loss < 0.1 | {s["A<0.1"][0]} ({s["A<0.1"][1]} seeds) | {s["B<0.1"][0]} ({s["B<0.1"][1]} seeds) |
| first step with loss < 0.01 | {s["A<0.01"][0]} ({s["A<0.01"][1]} seeds) | {s["B<0.01"][0]} ({s["B<0.01"][1]} seeds) |
| final training loss (mean) | {s["final_a"]:.4g} | {s["final_b"]:.4g} |
| test accuracy, 10000 images | {100 * s["acc_a"][0]:.2f} ± {100 * s["acc_a"][1]:.2f} % | {100 * s["acc_b"][0]:.2f} ± {100 * s["acc_b"][1]:.2f} % |

## Conclusion

{_conclusion(s, runs, steps)}

Note that B's loss is an average over 30 images (three views of each), so "converges sooner"
compares losses on different training sets; test accuracy is the like-for-like measure.

## Per seed

| seed | A<1.0 | B<1.0 | A<0.1 | B<0.1 | A<0.01 | B<0.01 | final loss A | final loss B | test acc A % | test acc B % |
|---|---|---|---|---|---|---|---|---|---|---|
{rows}

![loss curves](experiment_loss.png)

![training images of seed {runs[0].seed}: originals, +15°, −15°](experiment_samples.png)
"""
    with io.atomic_path(out_dir / "experiment.md", force=True) as tmp:
        Path(tmp).write_text(text)
    return s


def experiment(
    seeds=10,
    steps=4000,
    lr=0.001,
    *,
    data=None,
    out_dir="reports",
    command="fastaug experiment",
    progress=None,
):
    """Run the experiment and write the report; returns (summary dict, seconds)."""
    start = time.perf_counter()
    runs, images = run_experiment(seeds, steps, lr, data=data, progress=progress)
    seconds = time.perf_counter() - start
    summary = write_report(
        runs, images, out_dir, steps=steps, lr=lr, seconds=seconds, command=command
    )
    return summary, seconds
