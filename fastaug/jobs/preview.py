"""The ``--preview`` PNG: the one place the dataset job draws (matplotlib, imported here
only when a preview is asked for)."""

import numpy as np


def write_preview(png, grid, titles):
    """A PNG grid of samples: ``grid`` (sources, copies, H, W), one row per source, each
    copy titled by ``titles``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, copies = grid.shape[:2]
    fig, axes = plt.subplots(
        max(rows, 1), copies, squeeze=False, figsize=(1.6 * copies, 1.6 * max(rows, 1))
    )
    for ax in axes.ravel():
        ax.axis("off")
    for r in range(rows):
        for c in range(copies):
            # One grey scale for all panels: the input range, not each panel's own.
            axes[r, c].imshow(
                grid[r, c], cmap="gray", vmin=0, vmax=255 if grid.dtype == np.uint8 else 1
            )
            axes[r, c].set_title(f"#{r} {titles[c]}", fontsize=8)
    fig.tight_layout()
    fig.savefig(png, format="png", dpi=80)
    plt.close(fig)
