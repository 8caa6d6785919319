"""Stateless batch operations: arrays and per-sample parameter arrays in, arrays out."""

import numpy as np

from . import _validation as v
from ._degrees import cos_sin_degrees
from .kernels import boundary
from .kernels import rotate as rotate_kernels
from .plan import TileSetup, apply_plans, cached_plan, prepad_width, resample_tiles

LAYOUTS = ("interleaved", "blocked")


def _planes_first(images):
    """``(N, H, W)`` or ``(N, H, W, C)`` -> ``(N*C, H, W)`` batch of planes, and C (or 0)."""
    if images.ndim == 3:
        return images, 0
    channels = images.shape[3]
    return np.moveaxis(images, 3, 1).reshape((-1,) + images.shape[1:3]), channels


def rotate_each(images, angles, *, order=3, mode="nearest", cval=0.0, prefilter=True, out=None):
    """Rotate each image by its own angle (shape kept, as ``rotate(..., reshape=False)``).

    Parameters
    ----------
    images : array, shape (N, H, W) or (N, H, W, C)
        Real images; channels share their image's angle.
    angles : array, shape (N,)
        Degrees, finite; SciPy's convention (counter-clockwise with row 0 at the top).
    order, mode, cval, prefilter
        As in :func:`fastaug.rotate` (default mode ``'nearest'``, as the augmentation
        libraries use).
    out : array, optional
        Output array of ``images``' shape (any supported dtype); default: same dtype.

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
    arr = v.image_batch(images)
    angles = v.finite_angles(angles)
    if angles.shape[0] != arr.shape[0]:
        raise ValueError(
            f"angles must have one angle per image: expected {arr.shape[0]}, got {angles.shape[0]}"
        )
    order = v.spline_order(order)
    code = v.mode_code(mode)
    cval = v.real_scalar(cval, "cval")
    out = v.output_array(out, arr, arr.shape)
    planes, channels = _planes_first(v.kernel_ready(arr))
    planes = np.ascontiguousarray(planes)
    height, width = planes.shape[1:]
    if channels:
        angles = np.repeat(angles, channels)
    # Matrices and offsets on the host, with the same NumPy arithmetic as scipy's rotate
    # (a stacked matmul gives the same bits as one (2, 2) @ (2,) per sample).
    c, s = cos_sin_degrees(angles)
    matrices = np.ascontiguousarray(np.stack([np.stack([c, s], -1), np.stack([-s, c], -1)], -2))
    plane = np.asarray((height, width))
    offsets = np.ascontiguousarray((plane - 1) / 2 - matrices @ ((plane - 1) / 2))
    npad = prepad_width(order, code, bool(prefilter))
    init = v.PREFILTER_INIT[code] if prefilter and order > 1 else -1
    scratch = np.empty((planes.shape[0], 1, height * width), out.dtype.newbyteorder("="))
    gather = rotate_kernels.tile_gather_each

    def gather_own_angle(c, b0, lanes, a, values):
        gather(
            c,
            lanes,
            matrices[b0 : b0 + lanes],
            offsets[b0 : b0 + lanes],
            height,
            width,
            npad,
            order,
            code,
            cval,
            values,
        )

    setup = TileSetup.of(
        (height, width),
        npad,
        code == boundary.NEAREST,
        cval,
        order,
        init,
        planes.dtype,
        np.ones(height + 2 * npad, np.bool_),
    )
    resample_tiles(planes, scratch, setup, gather_own_angle)
    if channels:
        out[...] = np.moveaxis(scratch.reshape(-1, channels, height, width), 1, 3)
    else:
        out[...] = scratch.reshape(out.shape)
    return out


def augment(
    images,
    labels=None,
    angles=(15, -15),
    *,
    include_original=True,
    layout="interleaved",
    order=3,
    mode="nearest",
    cval=0.0,
):
    """Grow a dataset with rotated copies: every image, then each of its rotations.

    Parameters
    ----------
    images : array, shape (N, H, W) or (N, H, W, C)
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
    arr = v.image_batch(images)
    angle_list = v.finite_angles(np.atleast_1d(angles))
    v.choice(layout, "layout", LAYOUTS)
    order = v.spline_order(order)
    v.mode_code(mode)
    cval = v.real_scalar(cval, "cval")
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
        order=order,
        mode=mode,
        cval=cval,
    )
    labels_out = None
    if labels is not None:
        labels_out = (
            np.repeat(labels, copies, axis=0)
            if layout == "interleaved"
            else np.concatenate([labels] * copies, axis=0)
        )
    return out, labels_out


def augment_into(images, angles, out, *, include_original, layout, order, mode, cval):
    """Write the augmented copies of ``images`` into ``out`` (validated arguments): in
    ``layout`` order, ``len(images) * (len(angles) + include_original)`` samples."""
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
    rotated = grid[:, first:]
    plans = [cached_plan(tuple(rest[:2]), float(a), False, order, mode, cval, True) for a in angles]
    planes, channels = _planes_first(images)
    height, width = rest[:2]
    if channels:
        scratch = np.empty((planes.shape[0], len(plans), height * width), out.dtype)
        apply_plans(plans, planes, None, (1, 2), out_index=scratch)
        rotated[...] = np.moveaxis(scratch.reshape(n, channels, len(plans), height, width), 1, 4)
    else:
        apply_plans(
            plans, planes, None, (1, 2), out_index=rotated.reshape(n, len(plans), height * width)
        )
    return out


def augment_data(X, y, angles=[15, -15]):  # noqa: B006 - the source script's signature
    """The source script's ``augment_data``, same inputs and identical outputs, fast.

    ``X``: ``(N, 784)`` flattened 28x28 images or ``(N, 28, 28)``; ``y``: integer or one-hot
    labels. Returns ``(X_aug, y_aug)``: each image followed by its rotations (order 3,
    ``mode='nearest'``, ``reshape=False``), as arrays shaped like the inputs.
    """
    X = np.asarray(X)
    if X.ndim == 2:
        side = int(round(np.sqrt(X.shape[1])))
        if side * side != X.shape[1]:
            raise ValueError(
                f"X rows must be flattened square images (e.g. 784 = 28 x 28); "
                f"got {X.shape[1]} values per row"
            )
        images = X.reshape(-1, side, side)
    elif X.ndim == 3:
        images = X
    else:
        raise ValueError(f"X must have shape (N, 784) or (N, 28, 28); got shape {X.shape}")
    x_aug, y_aug = augment(images, y, angles=list(angles), order=3, mode="nearest")
    return x_aug.reshape((-1,) + X.shape[1:]), y_aug
