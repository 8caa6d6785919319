"""Stateless batch operations: arrays and per-sample parameter arrays in, arrays out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _validation as v
from . import cuda as gpu
from .backends.cpu import apply_plans, resample, resample_each
from .geometry import rotation_matrices
from .plan import cached_plan
from .resampling import AffineMaps, Resampling

LAYOUTS = ("interleaved", "blocked")


def _plane_axes(channel):
    """Axes of the image plane in a batch whose channel axis is ``channel`` (None, 1 or 3)."""
    return (2, 3) if channel == 1 else (1, 2)


_EACH_DOC = """order : int
        Spline order, 0 to 5 (default 3).
    mode : str
        SciPy's boundary modes, as in :func:`fastaug.rotate`.
    cval : float
        Fill value for 'constant' and 'grid-constant' (default 0.0).
    prefilter : bool
        Spline-prefilter the input for orders > 1 (default True), as SciPy.
    out : array, optional
        Output array of ``images``' shape (any supported dtype); default: same dtype.
    channel_axis : int or None
        Which axis of 4-D ``images`` holds channels: -1 / 3 for ``(N, H, W, C)``, 1 for
        ``(N, C, H, W)`` (scikit-image's name). Default None: ``(N, H, W)`` images, or
        channels last where the shape says so plainly (at most 4 channels); an ambiguous
        4-D shape is an error. Channels share their image's transform."""


def affine_each(
    images: ArrayLike,
    matrices: ArrayLike,
    offsets: ArrayLike | None = None,
    *,
    order: int = 3,
    mode: str = "constant",
    cval: float = 0.0,
    prefilter: bool = True,
    out: NDArray[Any] | None = None,
    channel_axis: int | None = None,
    output_shape: Sequence[int] | None = None,
) -> NDArray[Any]:
    """Apply its own affine transform to each image (shape kept), or to each 3-D volume.

    Parameters
    ----------
    images : array, shape (N, H, W), (N, H, W, C), (N, C, H, W) or (N, D, H, W)
        Real images, or volumes (see ``matrices``).
    matrices : array, shape (N, 2, 2), (N, 2, 3) or (N, 3, 3); or (N, 3, 3), (N, 3, 4), (N, 4, 4)
        SciPy's ``affine_transform`` matrices, one per sample: each maps an output
        coordinate to the input coordinate it samples (the inverse of the motion). The
        forms with one more column carry the offset in it (homogeneous when square).
        ``(N, 3, 4)`` and ``(N, 4, 4)`` matrices make 4-D ``images`` volumes ``(N, D, H,
        W)``; so do ``(N, 3, 3)`` matrices when ``channel_axis`` is None and the shape is
        not plainly channels-last (then they are homogeneous 2-D matrices).
    offsets : array, shape (N, ndim) or (ndim,), optional
        Offsets for ``(N, ndim, ndim)`` matrices (default 0).
    {doc}
    output_shape : tuple of 3 ints, optional
        Volumes only: the ``(D, H, W)`` of each output volume (default: the input's).

    Returns
    -------
    ndarray
        ``out[i]`` equals ``scipy.ndimage.affine_transform(images[i], matrices[i],
        offsets[i], output_shape, order=order, mode=mode, cval=cval, prefilter=prefilter)``
        (per channel for images).

    Examples
    --------
    >>> import numpy as np
    >>> from fastaug import affine_each
    >>> x = np.arange(2 * 4 * 4, dtype=np.float64).reshape(2, 4, 4)
    >>> shift_one_row = np.array([[1, 0, 1], [0, 1, 0]])  # output (r, c) reads (r + 1, c)
    >>> affine_each(x, np.stack([np.eye(2, 3), shift_one_row]), order=0)[1, 0].tolist()
    [20.0, 21.0, 22.0, 23.0]
    """
    if gpu.is_device_array(images):  # CuPy, torch CUDA: the CUDA backend
        interp = v.interpolation(order, mode, cval, prefilter)
        return gpu.affine_each(images, matrices, offsets, interp, output_shape, out, channel_axis)
    arr = v.image_batch(images)
    interp = v.interpolation(order, mode, cval, prefilter)
    if _volumes(arr.shape, np.shape(matrices), channel_axis):
        matrices, offsets = v.affine_matrices(matrices, offsets, arr.shape[0], ndim=3)
        return _affine_volumes(arr, matrices, offsets, output_shape, interp, out)
    if output_shape is not None:
        raise ValueError(
            f"output_shape is for volumes (N, D, H, W); images keep their shape: got "
            f"output_shape={output_shape!r} for images of shape {arr.shape}"
        )
    channel = v.channel_axis(arr.shape, channel_axis)
    matrices, offsets = v.affine_matrices(matrices, offsets, arr.shape[0])
    out = v.output_array(out, arr, arr.shape)
    return affine_batch(arr, channel, matrices, offsets, interp, out)


def _volumes(shape, matrices_shape, channel_axis):
    """Whether ``affine_each`` reads a 4-D batch as volumes: 3-D matrix forms, no channel
    axis, and for ``(N, 3, 3)`` (also a homogeneous 2-D form) not plainly channels-last."""
    if len(shape) != 4 or channel_axis is not None or len(matrices_shape) != 3:
        return False
    form = matrices_shape[1:]
    return form in ((3, 4), (4, 4)) or form == (3, 3) and not shape[3] <= 4 < shape[1]


def _affine_volumes(arr, matrices, offsets, output_shape, interp, out):
    """Volume ``i`` through ``matrices[i]``, ``offsets[i]`` (checked) into ``output_shape``:
    one prefilter and one threaded resampling per volume (a volume is work enough)."""
    if output_shape is None:
        output_shape = arr.shape[1:]
    output_shape = tuple(int(n) for n in output_shape)
    if len(output_shape) != 3 or min(output_shape) < 0:
        raise ValueError(f"output_shape must be three sizes (D, H, W); got {output_shape!r}")
    out = v.output_array(out, arr, arr.shape[:1] + output_shape)
    if arr.shape[0]:
        v.empty_plane(arr.shape[1:], output_shape, interp.mode, interp.order, interp.prefilter)
    for i in range(arr.shape[0]):
        maps = AffineMaps(matrices[i : i + 1], offsets[i : i + 1])
        resample(Resampling(arr.shape[1:], output_shape, interp, maps), arr[i], out[i])
    return out


if affine_each.__doc__:  # absent under python -OO
    affine_each.__doc__ = affine_each.__doc__.format(doc=_EACH_DOC)


def rotate_each(
    images: ArrayLike,
    angles: ArrayLike,
    *,
    order: int = 3,
    mode: str = "nearest",
    cval: float = 0.0,
    prefilter: bool = True,
    out: NDArray[Any] | None = None,
    channel_axis: int | None = None,
) -> NDArray[Any]:
    """Rotate each image by its own angle (shape kept, as ``rotate(..., reshape=False)``).

    Parameters
    ----------
    images : array, shape (N, H, W), (N, H, W, C) or (N, C, H, W)
        Real images; channels share their image's angle.
    angles : array, shape (N,)
        Degrees, finite; SciPy's convention (counter-clockwise with row 0 at the top).
    {doc}

    The default mode is ``'nearest'``, as the augmentation libraries use.

    Returns
    -------
    ndarray
        ``out[i]`` equals ``scipy.ndimage.rotate(images[i], angles[i], reshape=False, ...)``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastaug import rotate_each
    >>> x = np.zeros((4, 28, 28), np.float32)
    >>> rotate_each(x, [0, 90, -15, 15]).shape
    (4, 28, 28)
    """
    if gpu.is_device_array(images):  # CuPy, torch CUDA: the CUDA backend
        interp = v.interpolation(order, mode, cval, prefilter)
        return gpu.rotate_each(images, angles, interp, out, channel_axis)
    arr = v.image_batch(images)
    channel = v.channel_axis(arr.shape, channel_axis)
    interp = v.interpolation(order, mode, cval, prefilter)
    angles = v.finite_angles(angles)
    if angles.shape[0] != arr.shape[0]:
        raise ValueError(
            f"angles must have one angle per image: expected {arr.shape[0]}, got {angles.shape[0]}"
        )
    plane = arr.shape[slice(2, 4) if channel == 1 else slice(1, 3)]
    matrices, offsets = rotation_matrices(angles, plane)
    out = v.output_array(out, arr, arr.shape)
    return affine_batch(arr, channel, matrices, offsets, interp, out)


def affine_batch(arr, channel, matrices, offsets, interp, out):
    """Image ``i`` of ``arr`` (all its channels; ``channel``: the channel axis, None, 1 or 3)
    by ``matrices[i]``, ``offsets[i]`` (float64 ``(N, 2, 2)``, ``(N, 2)``) with ``interp``
    into ``out`` (an array of ``arr``'s shape): the validated core of ``affine_each`` and
    ``rotate_each``, which the transforms call."""
    axes = _plane_axes(channel)
    if channel is not None:  # the planes go image by image, channels within an image
        matrices = np.repeat(matrices, arr.shape[channel], axis=0)
        offsets = np.repeat(offsets, arr.shape[channel], axis=0)
    plane = (arr.shape[axes[0]], arr.shape[axes[1]])
    if v.plane_count(arr.shape, axes):
        v.empty_plane(plane, plane, interp.mode, interp.order, interp.prefilter)
    resampling = Resampling.planes(plane, plane, interp, matrices, offsets)
    resample_each(arr, axes, resampling, out)
    return out


def augment(
    images: ArrayLike,
    labels: ArrayLike | None = None,
    angles: Sequence[float] | ArrayLike = (15, -15),
    *,
    include_original: bool = True,
    layout: str = "interleaved",
    order: int = 3,
    mode: str = "nearest",
    cval: float = 0.0,
    channel_axis: int | None = None,
) -> tuple[NDArray[Any], NDArray[Any] | None]:
    """Grow a dataset with rotated copies: every image, then each of its rotations.

    Parameters
    ----------
    images : array, shape (N, H, W), (N, H, W, C) or (N, C, H, W)
        Real images (bool, integer, float32 or float64); the output keeps the dtype.
    labels : array, shape (N,) or (N, K), optional
        Integer or one-hot labels, repeated to follow their images.
    angles : sequence of float
        Degrees (SciPy's convention); default ``(15, -15)`` as in the source script.
    include_original : bool
        Keep the unrotated images (default True).
    layout : {'interleaved', 'blocked'}
        ``'interleaved'``: image 0, its rotations, image 1, ... (the source script's order);
        ``'blocked'``: all originals, then all images at ``angles[0]``, then ``angles[1]`` ...
    order, mode, cval
        As in :func:`fastaug.rotate` (``reshape=False``, prefiltered).
    channel_axis : int or None
        As in :func:`rotate_each`.

    Returns
    -------
    images_out : ndarray, shape (N * (len(angles) + include_original), ...)
    labels_out : ndarray or None

    Each image is prefiltered once and the coefficients serve every angle.

    Examples
    --------
    >>> import numpy as np
    >>> from fastaug import augment
    >>> x, y = augment(np.zeros((10, 28, 28), np.uint8), np.arange(10))
    >>> x.shape, y[:4].tolist()
    ((30, 28, 28), [0, 0, 0, 1])
    """
    if gpu.is_device_array(images):  # CuPy, torch CUDA: the CUDA backend
        angle_list = v.finite_angles(angles, single=True)
        v.choice(layout, "layout", LAYOUTS)
        interp = v.interpolation(order, mode, cval)
        if labels is not None and not gpu.is_device_array(labels):
            labels = np.asarray(labels)
        return gpu.augment(
            images, labels, angle_list, include_original, layout, interp, channel_axis
        )
    arr = v.image_batch(images)
    channel = v.channel_axis(arr.shape, channel_axis)
    angle_list = v.finite_angles(angles, single=True)
    v.choice(layout, "layout", LAYOUTS)
    interp = v.interpolation(order, mode, cval)
    n = arr.shape[0]
    if labels is not None:
        labels = np.asarray(labels)
        if labels.ndim not in (1, 2) or labels.shape[0] != n:
            raise ValueError(
                f"labels must have shape (N,) or (N, K) with N = {n} images; got "
                f"shape {labels.shape}"
            )
    copies = len(angle_list) + bool(include_original)
    out = np.empty((n * copies,) + arr.shape[1:], dtype=arr.dtype.newbyteorder("="))
    augment_into(
        arr,
        angle_list,
        out,
        include_original=include_original,
        layout=layout,
        interp=interp,
        channel=channel,
    )
    labels_out = None
    if labels is not None:
        labels_out = (
            np.repeat(labels, copies, axis=0)
            if layout == "interleaved"
            else np.concatenate([labels] * copies, axis=0)
        )
    return out, labels_out


def augment_into(images, angles, out, *, include_original, layout, interp, channel):
    """Write the augmented copies of ``images`` into ``out`` (validated arguments): in
    ``layout`` order, ``len(images) * (len(angles) + include_original)`` samples, rotated
    with ``interp`` (:class:`fastaug.resampling.Interp`); ``channel``: the channel axis
    (None, 1 or 3)."""
    n = images.shape[0]
    copies = len(angles) + bool(include_original)
    rest = images.shape[1:]
    if layout == "interleaved":
        grid = out.reshape((n, copies) + rest)
    else:
        grid = np.swapaxes(out.reshape((copies, n) + rest), 0, 1)
    first = 0
    if include_original:
        grid[:, 0] = images
        first = 1
    if not len(angles) or not n:
        return out
    rotated = grid[:, first:]  # (n, angles) + rest
    axes = _plane_axes(channel)
    plane = (images.shape[axes[0]], images.shape[axes[1]])
    plans = [cached_plan(plane, float(a), False, interp) for a in angles]
    pixels = plane[0] * plane[1]
    if channel is None:
        apply_plans(plans, images, None, axes, out_index=rotated.reshape(n, len(plans), pixels))
        return out
    channels = images.shape[channel]
    scratch = np.empty((n * channels, len(plans), pixels), out.dtype)
    apply_plans(plans, images, None, axes, out_index=scratch)
    by_channel = scratch.reshape((n, channels, len(plans)) + plane)
    # to (n, angles, C, H, W) or (n, angles, H, W, C)
    rotated[...] = np.moveaxis(by_channel, 1, 2 if channel == 1 else 4)
    return out


def augment_data(
    X: ArrayLike,
    y: ArrayLike,
    angles: Sequence[float] = [15, -15],  # noqa: B006 - the source script's signature
) -> tuple[NDArray[Any], NDArray[Any] | None]:
    """The source script's ``augment_data``, same inputs and identical outputs, fast.

    ``X``: ``(N, 784)`` flattened 28x28 images or ``(N, 28, 28)``; ``y``: integer or one-hot
    labels. Returns ``(X_aug, y_aug)``: each image followed by its rotations (order 3,
    ``mode='nearest'``, ``reshape=False``), as arrays shaped like the inputs.
    """
    X = np.asarray(X)
    if X.ndim == 2:
        side = int(round(np.sqrt(X.shape[1])))
        if side * side != X.shape[1] or not side:
            raise ValueError(
                f"X rows must be flattened square images (e.g. 784 = 28 x 28); "
                f"got {X.shape[1]} values per row"
            )
        images = X.reshape(X.shape[0], side, side)
    elif X.ndim == 3:
        images = X
    else:
        raise ValueError(f"X must have shape (N, 784) or (N, 28, 28); got shape {X.shape}")
    x_aug, y_aug = augment(images, y, angles=list(angles), order=3, mode="nearest")
    return x_aug.reshape(x_aug.shape[:1] + X.shape[1:]), y_aug
