"""Ready-made pipelines for known datasets."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .transforms import Compose

#: The presets, by name (``fastaug augment --pipeline NAME``).
NAMES = ("mnist",)


def mnist(order: int = 1) -> Compose:
    """Small rotations (±15°), shifts (up to 10 % of the side), and scale (0.9-1.1) about the
    centre, zero fill: the variations handwriting really has.

    No flips: a mirrored 2, 3, 4, 5, 7 or 9 is not a digit, and a turned 6 is a 9, so a flip
    would change what the label means. No large rotations for the same reason; no shear
    beyond the slant the rotations and scale already cover; no photometric changes, since
    MNIST's strokes are already normalised in contrast.
    """
    from .transforms import Compose, RandomAffine

    return Compose(
        [
            RandomAffine(
                degrees=15, translate=(0.1, 0.1), scale=(0.9, 1.1), order=order, mode="constant"
            )
        ]
    )
