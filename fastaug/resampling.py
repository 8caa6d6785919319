"""What the kernels need to know about a resampling, decided once on the host.

An :class:`Interp` says how to interpolate (order, mode, cval, prefilter, and what follows
from them: the kernels' mode code, SciPy's pre-pad and prefilter family); every function
below the public ones takes one. A :class:`Resampling` is a plan: a coordinate source (one or
per-sample affine maps, explicit coordinates, or separable zoom/shift maps), the shapes and an
``Interp``; every function of :mod:`fastaug.ndimage`, the batch functions and the
transforms describe their work with one, and :mod:`fastaug.backends.cpu` runs it.
Argument checking lives in ``_validation`` and only checks.
"""

import functools
import typing

import numpy as np

from .kernels import boundary, stores, tiles
from .kernels import prefilter as prefilter_kernels

#: SciPy's boundary mode names and the kernels' codes for them.
MODES = {
    "nearest": boundary.NEAREST,
    "wrap": boundary.WRAP,
    "reflect": boundary.REFLECT,
    "grid-mirror": boundary.REFLECT,
    "mirror": boundary.MIRROR,
    "constant": boundary.CONSTANT,
    "grid-wrap": boundary.GRID_WRAP,
    "grid-constant": boundary.GRID_CONSTANT,
}

# Prefilter boundary initialisation used by each mode (SciPy's spline filter mode mapping).
PREFILTER_INIT = {
    boundary.NEAREST: prefilter_kernels.INIT_REFLECT,
    boundary.WRAP: prefilter_kernels.INIT_MIRROR,
    boundary.REFLECT: prefilter_kernels.INIT_REFLECT,
    boundary.MIRROR: prefilter_kernels.INIT_MIRROR,
    boundary.CONSTANT: prefilter_kernels.INIT_MIRROR,
    boundary.GRID_WRAP: prefilter_kernels.INIT_WRAP,
    boundary.GRID_CONSTANT: prefilter_kernels.INIT_MIRROR,
}

#: Width of the pre-padding SciPy adds before prefiltering in these modes.
PREPAD = 12
PREPAD_MODES = (boundary.NEAREST, boundary.GRID_CONSTANT)


def prepad_width(order, mode_code, prefilter):
    """SciPy pads by 12 before prefiltering in 'nearest' and 'grid-constant' modes."""
    return PREPAD if prefilter and order > 1 and mode_code in PREPAD_MODES else 0


@functools.lru_cache(maxsize=32)
def cast_rule(dtype):
    """(cast code, low, high) with which the kernels store a double into ``dtype``."""
    if dtype.kind == "f":
        return stores.CAST_FLOAT, 0.0, 0.0
    if dtype.kind == "b":
        return stores.CAST_BOOL, 0.0, 0.0
    info = np.iinfo(dtype)
    if dtype.itemsize == 8:  # maxima that round up as doubles: SciPy's stores differ there
        code = stores.CAST_UINT64 if dtype.kind == "u" else stores.CAST_INT64
    else:
        code = stores.CAST_UNSIGNED if dtype.kind == "u" else stores.CAST_SIGNED
    return code, float(info.min), float(info.max)


def pad_value(cval, dtype):
    """cval as ``np.pad`` stores it in an array of ``dtype`` (SciPy pre-pads with np.pad)."""
    # Keyed by the exact bits: -0.0 == 0.0 would otherwise share a cache entry.
    return _pad_value(float(cval).hex(), dtype)


@functools.lru_cache(maxsize=64)
def _pad_value(cval_hex, dtype):
    return float(np.pad(np.zeros(1, dtype), 1, constant_values=float.fromhex(cval_hex))[0])


class Interp(typing.NamedTuple):
    """How to interpolate: spline ``order`` (0-5), SciPy's boundary ``mode`` name, a real
    ``cval`` and ``prefilter``. Public functions validate their arguments into one
    (:func:`fastaug._validation.interpolation`, or SciPy's own order of checks in
    :mod:`fastaug.ndimage`) and pass it down; nothing below checks it again.

    Equal values compare equal, so a ``-0.0`` ``cval`` equals ``0.0``: cache keys add its
    sign (:func:`fastaug._validation.with_sign`).
    """

    order: int
    mode: str
    cval: float
    prefilter: bool = True

    @property
    def code(self):
        """The kernels' mode code."""
        return MODES[self.mode]

    @property
    def filtered(self):
        """Whether SciPy samples spline coefficients (prefiltered, orders > 1) rather than
        the input values themselves."""
        return self.prefilter and self.order > 1

    @property
    def npad(self):
        """Pre-pad width on each side of the coefficients (SciPy's 12, or 0)."""
        return prepad_width(self.order, self.code, self.prefilter)

    @property
    def pad_edge(self):
        """Pre-padding repeats edge pixels ('nearest') rather than holding cval."""
        return self.mode == "nearest"

    @property
    def prefilter_init(self):
        """The prefilter's boundary family, or -1 when the input is sampled directly."""
        return PREFILTER_INIT[self.code] if self.filtered else -1


class AffineMaps(typing.NamedTuple):
    """A coordinate source: input coordinate = ``offsets[i] + matrices[i] @ output index``
    (summed in SciPy's order by the kernels), one pair for the whole array (``M = 1``) or
    one per sample. float64 ``(M, rank, out_rank)`` and ``(M, rank)``, C-contiguous."""

    matrices: np.ndarray
    offsets: np.ndarray


class Coordinates(typing.NamedTuple):
    """A coordinate source: the input coordinates of every output point, float64
    C-contiguous ``(rank, P)`` (``map_coordinates``)."""

    points: np.ndarray


class Separable(typing.NamedTuple):
    """A coordinate source of one map per axis (SciPy's ``NI_ZoomShift``): along axis ``d``
    output index ``i`` reads ``(i + shift[d]) * zoom[d]`` (``((i + shift[d]) + 0.5) *
    zoom[d] - 0.5`` with ``grid_mode``); ``zoom``, ``shift``: float64 ``(ndim,)`` or None
    (factor 1, shift 0). ``shift`` is the one *added* to the output index: ``shift()``
    passes minus its argument, ``affine_transform`` ``offset / diagonal``."""

    zoom: np.ndarray | None
    shift: np.ndarray | None
    grid_mode: bool = False


class Resampling:
    """A resampling plan, plain data: where each output point reads (``source``: an
    :class:`AffineMaps`, :class:`Coordinates` or :class:`Separable`), the input and output
    shapes (of one sample where the maps are per sample) and how to interpolate
    (``interp``, an :class:`Interp`). :mod:`fastaug.backends.cpu` runs it.
    """

    __slots__ = ("in_shape", "out_shape", "interp", "source")

    def __init__(self, in_shape, out_shape, interp, source):
        self.in_shape = tuple(in_shape)
        self.out_shape = tuple(out_shape)
        self.interp = interp
        self.source = source

    @classmethod
    def planes(cls, in_shape, out_shape, interp, matrices, offsets):
        """``(H, W)`` planes by one or per-plane matrices and offsets (``(M, 2, 2)``,
        ``(M, 2)`` or one of each)."""
        matrices = np.ascontiguousarray(matrices, dtype=np.float64).reshape(-1, 2, 2)
        offsets = np.ascontiguousarray(offsets, dtype=np.float64).reshape(-1, 2)
        return cls(in_shape, out_shape, interp, AffineMaps(matrices, offsets))

    def tile_setup(self, input_dtype, row_needed=None):
        """How each tile is prepared (:class:`TileSetup`); ``row_needed``: the coefficient
        rows any tap reads (default all): only those get the prefilter's row pass."""
        interp = self.interp
        npad = interp.npad
        height, width = self.in_shape
        if row_needed is None:
            row_needed = np.ones(height + 2 * npad, np.bool_)
        x_lo, x_hi = tiles.filtered_columns(npad, width, interp.pad_edge)
        return TileSetup(
            height,
            width,
            npad,
            interp.pad_edge,
            pad_value(interp.cval, input_dtype),
            interp.cval,
            interp.order,
            interp.prefilter_init,
            row_needed,
            np.arange(x_lo, x_hi, dtype=np.int64),
            np.flatnonzero(row_needed).astype(np.int64) * (width + 2 * npad),
        )


class TileSetup(typing.NamedTuple):
    """How the kernels prepare each tile of a resampling (the pixel-independent part)."""

    height: int
    width: int
    npad: int  #: pre-pad width on each side (SciPy's 12, or 0)
    pad_edge: bool  #: pre-pad repeats edge pixels ('nearest'), else holds pad_value
    pad_value: float  #: cval as the input dtype stores it (np.pad's cast)
    cval: float  #: cval as a double, read by 'constant'/'grid-constant' taps
    order: int
    prefilter_init: int  #: the prefilter's boundary family, or -1 for none
    row_needed: np.ndarray  #: bool (rows,): rows any tap reads; the row pass filters those
    column_firsts: np.ndarray  #: int64: tile rows starting the columns the column pass filters
    row_firsts: np.ndarray  #: int64: tile rows starting the rows the row pass filters

    @property
    def rows(self):
        return self.height + 2 * self.npad

    @property
    def cols(self):
        return self.width + 2 * self.npad
