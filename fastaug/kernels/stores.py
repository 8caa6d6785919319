"""Stores: doubles into the output element type, as SciPy stores them.

SciPy's ``CASE_INTERP_OUT*`` macros (``src/ni_interpolation.c``): floats are stored as they
are; integers round half away from zero (half up, with a clip at 0, for unsigned), clip to
the type's range, then truncate; bool is C's conversion to an unsigned char. Each store
kernel compiles once per output dtype and is small, so a new dtype never recompiles a
gather.

The 64-bit integers have their own rules: their maximum rounds up as a double (to 2**64 or
2**63), so SciPy's clip leaves a value C cannot convert, and what it stores there is its
compiler's choice (undefined behaviour in C): :func:`_to_uint64`, :func:`_to_int64`.
"""

import numpy as np

from ._jit import jit

# How a double is stored into the output element type (SciPy's CASE_INTERP_OUT*).
CAST_FLOAT = 0


CAST_UNSIGNED = 1


CAST_SIGNED = 2


CAST_BOOL = 3


CAST_UINT64 = 4


CAST_INT64 = 5


@jit(per_pixel=True)
def _to_unsigned(t, hi):
    t = t + 0.5 if t > 0 else 0.0
    t = hi if t > hi else t
    return 0.0 if t < 0 else t


@jit(per_pixel=True)
def _to_signed(t, lo, hi):
    t = t + 0.5 if t > 0 else t - 0.5
    t = hi if t > hi else t
    t = lo if t < lo else t
    if t != t:
        # NaN: C's conversion is undefined. SciPy's x86-64 builds convert through int32
        # (cvttsd2si: INT32_MIN) and keep the low bits: 0 for int8 and int16. Numba's own
        # conversion depends on the CPU (-32768 for int16 on an AVX-512 FP16 Xeon).
        return lo if lo == -2147483648.0 else 0.0
    return t


@jit(per_pixel=True)
def _to_uint64(t, hi):
    # hi is NPY_MAX_ULONGLONG as a double, 2**64: SciPy clips t > hi to it, then converts
    # 2**64 to npy_ulonglong, undefined in C. SciPy 1.17's x86-64 build stores 0 for every
    # t >= 2**64 (the SSE2 sequence, cvttsd2si of t - 2**63 with the top bit flipped, wraps);
    # Numba's conversion on an AVX-512 machine saturates to 2**64 - 1, hence the explicit 0.
    t = t + 0.5 if t > 0 else 0.0
    return np.uint64(t) if t < hi else np.uint64(0)


@jit(per_pixel=True)
def _to_int64(t, lo, hi):
    # hi is NPY_MAX_LONGLONG as a double, 2**63, and C's conversion of 2**63 is undefined.
    # SciPy 1.17 on x86-64 stores 2**63 - 1 for t > 2**63 (its compiler folds the clip's
    # constant, saturating), but -2**63 (cvttsd2si at run time) for t == 2**63 and NaN;
    # written out here rather than left to Numba's (equally undefined) conversion.
    t = t + 0.5 if t > 0 else t - 0.5
    if lo <= t < hi:
        return np.int64(t)
    return np.int64(9223372036854775807) if t > hi else np.int64(-9223372036854775808)


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
    zero (half up for unsigned), clip, then truncate (64-bit: :func:`_to_uint64`,
    :func:`_to_int64`); bool is C's conversion (:func:`_to_bool`).
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
def tile_store_64(values, out, b0, a, lanes, cast, lo, hi):
    """:func:`tile_store` into 64-bit integers (``CAST_UINT64``, ``CAST_INT64``), in a
    kernel apart, chosen by the caller: two branches more in the stores' loops made the
    uint8 stores 3% (tiles) to 10% (planes) slower, and a call from them compiled this one
    with every other output dtype too."""
    for p in range(values.shape[0]):
        row = values[p]
        if cast == CAST_UINT64:
            for b in range(lanes):
                out[b0 + b, a, p] = _to_uint64(row[b], hi)
        else:
            for b in range(lanes):
                out[b0 + b, a, p] = _to_int64(row[b], lo, hi)


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


@jit
def planes_store_64(values, out, b0, lanes, cast, lo, hi):
    """:func:`planes_store` into 64-bit integers (see :func:`tile_store_64`)."""
    for b in range(lanes):
        row = values[b]
        if cast == CAST_UINT64:
            for p in range(row.shape[0]):
                out[b0 + b, 0, p] = _to_uint64(row[p], hi)
        else:
            for p in range(row.shape[0]):
                out[b0 + b, 0, p] = _to_int64(row[p], lo, hi)
