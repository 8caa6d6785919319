"""Stores: doubles into the output element type, as SciPy stores them.

SciPy's ``CASE_INTERP_OUT*`` macros (``src/ni_interpolation.c``): floats are stored as they
are; integers round half away from zero (half up, with a clip at 0, for unsigned), clip to
the type's range, then truncate; bool is C's conversion to an unsigned char. Each store
kernel compiles once per output dtype and is small, so a new dtype never recompiles a
gather.
"""

from ._jit import jit

# How a double is stored into the output element type (SciPy's CASE_INTERP_OUT*).
CAST_FLOAT = 0


CAST_UNSIGNED = 1


CAST_SIGNED = 2


CAST_BOOL = 3


@jit(per_pixel=True)
def _to_unsigned(t, hi):
    t = t + 0.5 if t > 0 else 0.0
    t = hi if t > hi else t
    return 0.0 if t < 0 else t


@jit(per_pixel=True)
def _to_signed(t, lo, hi):
    t = t + 0.5 if t > 0 else t - 0.5
    t = hi if t > hi else t
    return lo if t < lo else t


@jit(per_pixel=True)
def _to_bool(t):
    # C's conversion to npy_bool (an unsigned char): truncate to int32 (x86: INT32_MIN when
    # out of range or NaN), keep the low byte: 0.5 -> False, -1.5 -> True, 256.0 -> False.
    if not -2147483648.0 < t < 2147483648.0:
        return False
    return (int(t) & 0xFF) != 0


@jit
def tile_store(values, out, b0, a, lanes, cast, lo, hi):
    """Store doubles ``values[p, b]`` into ``out[b0 + b, a, p]`` like SciPy's CASE_INTERP_OUT*.

    ``out``: ``(B, A, P)``, any real dtype, pixels contiguous. Integers round half away from
    zero (half up for unsigned), clip, then truncate; bool is C's conversion (:func:`_to_bool`).
    """
    # Pixel by pixel, each reading one contiguous row of ``values`` and writing one element
    # to each lane's output row: the lanes' rows stay in L1 for the next pixels. This ran
    # about 1.3x faster than reading ``values`` down a column for each lane in turn.
    for p in range(values.shape[0]):
        row = values[p]
        if cast == CAST_FLOAT:
            for b in range(lanes):
                out[b0 + b, a, p] = row[b]
        elif cast == CAST_UNSIGNED:
            for b in range(lanes):
                out[b0 + b, a, p] = _to_unsigned(row[b], hi)
        elif cast == CAST_SIGNED:
            for b in range(lanes):
                out[b0 + b, a, p] = _to_signed(row[b], lo, hi)
        else:
            for b in range(lanes):
                out[b0 + b, a, p] = _to_bool(row[b])


@jit
def planes_store(values, out, b0, lanes, cast, lo, hi):
    """:func:`tile_store` for planes: doubles ``values[b, p]`` into ``out[b0 + b, 0, p]``."""
    for b in range(lanes):
        row = values[b]
        if cast == CAST_FLOAT:
            for p in range(row.shape[0]):
                out[b0 + b, 0, p] = row[p]
        elif cast == CAST_UNSIGNED:
            for p in range(row.shape[0]):
                out[b0 + b, 0, p] = _to_unsigned(row[p], hi)
        elif cast == CAST_SIGNED:
            for p in range(row.shape[0]):
                out[b0 + b, 0, p] = _to_signed(row[p], lo, hi)
        else:
            for p in range(row.shape[0]):
                out[b0 + b, 0, p] = _to_bool(row[p])
