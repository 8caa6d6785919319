"""Slow references the tests compare fastaug against. Never imported by fastaug itself."""

import numpy as np
from scipy import ndimage


def rotate_loop(images, angle, **kwargs):
    """SciPy on one (H, W) plane at a time (the per-image loop users write)."""
    return (
        np.stack([ndimage.rotate(img, angle, **kwargs) for img in images])
        if len(images)
        else ndimage.rotate(images, angle, axes=(1, 2), **kwargs)
    )


def rotate_each_loop(images, angles, **kwargs):
    """SciPy, image ``i`` by ``angles[i]``, shape kept; channels last (N, H, W[, C])."""
    return np.stack(
        [
            ndimage.rotate(img, a, axes=(0, 1), reshape=False, **kwargs)
            for img, a in zip(images, angles)
        ]
    )


def augment_data(X, y, angles=[15, -15]):  # noqa: B006 - kept exactly as the source has it
    """The source script's augmentation: each image, then its rotations, built in lists."""
    augmented_X = []
    augmented_y = []
    for img, label in zip(X, y):
        img_2d = img.reshape(28, 28)
        augmented_X.append(img)
        augmented_y.append(label)
        for angle in angles:
            rotated = ndimage.rotate(img_2d, angle, reshape=False, mode="nearest")
            augmented_X.append(rotated.reshape(img.shape))
            augmented_y.append(label)
    return np.array(augmented_X), np.array(augmented_y)
