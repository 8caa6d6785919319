"""The source script's experiment, reproduced over several seeds, as a report, with a control.

For each seed ``s`` (the source used 8): ``np.random.seed(s)``, pick 10 training images with
``np.random.choice(60000, 10)``, draw the initial weights from the same global state; every
model starts from those weights and trains with the source's maths (``MLP(gradient="sum")``:
the applied gradient ``y - t`` is summed over the batch), full-batch SGD:

* A: the 10 images, learning rate ``lr`` (the source's model A);
* B: the 30 (the 10 plus their +15 and -15 degree rotations, order 3, mode 'nearest'),
  ``lr`` (the source's model B);
* B, lr/3: the 30 images at a third of the rate. With a summed gradient, B's steps are about
  3x A's at the same ``lr``, so "B converges sooner" may be step size, not augmentation; at
  ``lr / 3`` B takes steps the size of A's, which separates the two effects.
"""

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import datasets, io
from ..functional import augment_data
from ..mlp import MLP

THRESHOLDS = (1.0, 0.1, 0.01)
#: name -> (training images: 10 or 30, learning-rate factor)
MODELS = {"A": (10, 1.0), "B": (30, 1.0), "B, lr/3": (30, 1 / 3)}
#: (model, model) pairs the report compares, with what each comparison isolates.
COMPARISONS = (
    ("A", "B", "the source's comparison: augmentation and a 3x step together"),
    ("A", "B, lr/3", "augmentation alone, at A's step size"),
    ("B, lr/3", "B", "step size alone (3x), on the same 30 images"),
)


@dataclass
class Run:
    seed: int
    indices: list
    losses: dict = field(repr=False)  # model name -> loss per step
    accuracy: dict = field(default_factory=dict)  # model name -> test accuracy

    def first_below(self, model, threshold):
        hits = np.flatnonzero(self.losses[model] < threshold)
        return int(hits[0]) if hits.size else None


def run_experiment(
    seeds=10, steps=4000, lr=0.001, angles=(15, -15), *, first_seed=8, data=None, progress=None
):
    """Train every model of :data:`MODELS` for every seed; returns the list of :class:`Run`
    and the 30 images of the first seed (for the sample grid)."""
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
        batches = {10: (x10, t10), 30: (x30, t30)}
        run = Run(seed, idx.tolist(), {})
        for name, (images, factor) in MODELS.items():
            model = start.copy()
            run.losses[name] = model.fit(*batches[images], steps=steps, lr=lr * factor)
            run.accuracy[name] = model.accuracy(x_test, t_test)
        runs.append(run)
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
    """Numbers the report and the closing note quote, per model and per comparison."""
    out = dict(seeds=len(runs), models={}, comparisons={})
    for name in runs[0].losses:
        acc = np.array([r.accuracy[name] for r in runs])
        model = dict(
            accuracy=(acc.mean(), acc.std()), final=np.mean([r.losses[name][-1] for r in runs])
        )
        for thr in THRESHOLDS:
            hits = [r.first_below(name, thr) for r in runs]
            model[thr] = (_mean_std(hits), sum(h is not None for h in hits))
        out["models"][name] = model
    for first, second, _ in COMPARISONS:
        if first not in runs[0].losses or second not in runs[0].losses:
            continue
        diff = np.array([r.accuracy[second] - r.accuracy[first] for r in runs])
        se = diff.std(ddof=1) / np.sqrt(len(runs)) if len(runs) > 1 else np.nan
        steps = {}
        for thr in THRESHOLDS:
            pairs = [(r.first_below(first, thr), r.first_below(second, thr)) for r in runs]
            pairs = [(a, b) for a, b in pairs if a is not None and b is not None]
            steps[thr] = (
                (np.mean([b - a for a, b in pairs]), sum(b < a for a, b in pairs), len(pairs))
                if pairs
                else None
            )
        out["comparisons"][(first, second)] = dict(accuracy=(diff.mean(), se), steps=steps)
    return out


def _conclusion(s, steps):
    lines = []
    for (first, second), c in s["comparisons"].items():
        why = next(w for a, b, w in COMPARISONS if (a, b) == (first, second))
        d, se = c["accuracy"]
        significant = np.isfinite(se) and abs(d) > 2 * se
        parts = []
        for thr in THRESHOLDS:
            got = c["steps"][thr]
            if got is None:
                parts.append(f"loss < {thr}: not reached by both")
            else:
                mean, sooner, n = got
                parts.append(
                    f"loss < {thr}: {second} {mean:+.0f} steps vs {first} (sooner in "
                    f"{sooner} of {n} seeds)"
                )
        lines.append(
            f"- **{second} vs {first}** ({why}): test accuracy {100 * d:+.2f} % (standard "
            f"error {100 * se:.2f} %), "
            + (
                "more than two standard errors from zero"
                if significant
                else "within two standard errors of zero: no reliable difference"
            )
            + "; "
            + "; ".join(parts)
            + "."
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
    names = list(runs[0].losses)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    x_axis = np.arange(1, steps + 1)
    colors = dict(zip(names, ("tab:blue", "tab:orange", "tab:green", "tab:red")))
    for name in names:
        curves = np.array([r.losses[name] for r in runs])
        images_, factor = MODELS[name]
        label = f"{name}: {images_} images, lr {lr * factor:.3g}"
        ax.plot(x_axis, curves.mean(axis=0), color=colors[name], label=f"{label}, mean")
        ax.fill_between(
            x_axis, curves.min(axis=0), curves.max(axis=0), color=colors[name], alpha=0.15
        )
    ax.set_yscale("log")
    ax.set_xlabel("SGD step")
    ax.set_ylabel("training loss (cross-entropy)")
    ax.set_title(f"{len(runs)} seeds: mean and min-max band")
    ax.legend(fontsize=8)
    fig.tight_layout()
    io.save_figure(fig, out_dir / "experiment_loss.png")

    fig, axes = plt.subplots(3, 10, figsize=(10, 3.3))
    grid = images.reshape(10, 3, 28, 28)  # interleaved: original, +15, -15 per image
    for col in range(10):
        for row in range(3):
            axes[row, col].imshow(grid[col, row], cmap="gray", vmin=0, vmax=1)
            axes[row, col].axis("off")
    for row, name in enumerate(("original", "+15°", "-15°")):
        axes[row, 0].set_title(name, fontsize=8, loc="left")
    fig.tight_layout()
    io.save_figure(fig, out_dir / "experiment_samples.png")

    models = s["models"]
    summary = "\n".join(
        [
            "| | " + " | ".join(names) + " |",
            "|---|" + "---|" * len(names),
            "| training images, lr | "
            + " | ".join(f"{MODELS[n][0]}, {lr * MODELS[n][1]:.3g}" for n in names)
            + " |",
        ]
        + [
            f"| first step with loss < {thr} | "
            + " | ".join(f"{models[n][thr][0]} ({models[n][thr][1]} seeds)" for n in names)
            + " |"
            for thr in THRESHOLDS
        ]
        + [
            "| final training loss (mean) | "
            + " | ".join(f"{models[n]['final']:.4g}" for n in names)
            + " |",
            "| test accuracy, 10000 images | "
            + " | ".join(
                f"{100 * models[n]['accuracy'][0]:.2f} ± {100 * models[n]['accuracy'][1]:.2f} %"
                for n in names
            )
            + " |",
        ]
    )
    head = (
        "| seed | "
        + " | ".join(f"{n} <{thr}" for thr in THRESHOLDS for n in names)
        + " | "
        + " | ".join(f"test acc {n} %" for n in names)
        + " |"
    )
    rows = "\n".join(
        [head, "|---|" + "---|" * (len(names) * (len(THRESHOLDS) + 1))]
        + [
            f"| {r.seed} | "
            + " | ".join(str(r.first_below(n, thr)) for thr in THRESHOLDS for n in names)
            + " | "
            + " | ".join(f"{100 * r.accuracy[n]:.2f}" for n in names)
            + " |"
            for r in runs
        ]
    )
    text = f"""# Does augmenting 10 MNIST images with ±15° rotations help a small MLP?

Generated by `{command}` in {seconds:.1f} s; do not edit by hand.

Set-up (the source script's): 784-200-200-10 MLP, ReLU, softmax cross-entropy, weights
`0.01 * randn`, full-batch SGD for {steps} steps with the source's maths: the loss reported
is the batch mean, the gradient applied is `y - t` summed over the batch
(`SoftmaxCrossEntropy.backward`; `fastaug.mlp.MLP(gradient="sum")`). For each seed s (8 is
the source's), `np.random.seed(s); np.random.choice(60000, 10)` picks the training images and
the same global state draws the initial weights; every model starts from them. A trains on
the 10 images; B on 30: each image and its +15° and −15° rotations (`scipy.ndimage.rotate`
semantics, order 3, mode 'nearest', made by `fastaug.augment_data`). Because the gradient is
a sum, B's steps are about 3x A's at the same learning rate: the control "B, lr/3" trains B
at a third of the rate, A's step size, to separate augmentation from step size.
"Steps" count from 0; "None" means the loss never went below the threshold.

## Summary over {len(runs)} seeds (mean ± std)

{summary}

## Conclusion

{_conclusion(s, steps)}

B's loss is an average over 30 images (three views of each), so "converges sooner" compares
losses on different training sets; test accuracy is the like-for-like measure.

## Per seed

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
