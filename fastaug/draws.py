"""Counter-based random numbers: every value is a pure function of (seed, epoch, stream,
index), so a sample's random parameters do not depend on thread count, chunk size or
processing order, and any subset can be drawn (or redrawn) on its own.

The generator is SplitMix64 used as a counter-based generator (value ``i`` of a stream with
key ``k`` is ``mix64(k + (i + 1) * GOLDEN)``, Stafford's "Mix13" finaliser, which passes
BigCrush as a stream); stream keys are made by mixing seed, epoch and stream number the same
way. ``kernels.photometric`` has the same arithmetic for per-pixel noise.
"""

import numpy as np

from ._parallel import run_tiles
from .kernels import photometric as kernels

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def _mix64(z):
    """Mix13 on Python ints (keys) or uint64 arrays (counters)."""
    if isinstance(z, int):
        z &= _MASK
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def stream_key(seed, epoch, stream):
    """The 64-bit key of one stream: distinct for every (seed, epoch, stream)."""
    key = _mix64(int(seed) * _GOLDEN + 1)
    key = _mix64(key ^ (int(epoch) * _GOLDEN + 2))
    return _mix64(key ^ (int(stream) * _GOLDEN + 3))


def uniforms(key, counters):
    """Uniform doubles in [0, 1) (53 random bits): values ``counters`` of stream ``key``."""
    counters = np.asarray(counters, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = _mix64(np.uint64(key) + (counters + np.uint64(1)) * np.uint64(_GOLDEN))
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def retry_key(key):
    """The second stream of ``key``, from which the ziggurat's rare retries draw."""
    return _mix64(key ^ 0xD1B54A32D192ED03)


def normals(key, first, n):
    """Standard normal numbers ``first .. first + n - 1`` of stream ``key`` (a ziggurat on
    its 64-bit values: ``kernels.photometric.counter_normals``)."""
    out = np.empty(n)
    kernels.counter_normals(np.uint64(key), np.uint64(retry_key(key)), first, out)
    return out


#: Rows of a per-row kernel call handed to one thread at a time.
ROWS_PER_TASK = 256


def for_rows(rows, kernel):
    """``kernel(part)`` for parts of ``rows`` (int64) shared among fastaug's threads: the
    kernels write each row alone, so the split changes nothing."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)

    def worker(claim):
        while (t := claim()) is not None:
            kernel(rows[t * ROWS_PER_TASK : (t + 1) * ROWS_PER_TASK])

    run_tiles(-(-len(rows) // ROWS_PER_TASK), worker)


def add_noise(values, sample_ids, key, scales, lo, hi):
    """In place: ``values[r] += scales[r] * z``, clipped to ``[lo, hi]``, where ``z`` are the
    normals of stream ``key`` numbered ``sample_ids[r] * E + e`` (``values`` float64
    ``(N, E)``, C-contiguous). Rows with a zero scale are left alone."""
    ids = np.ascontiguousarray(sample_ids, dtype=np.int64)
    scales = np.ascontiguousarray(scales, dtype=np.float64)
    keys = np.uint64(key), np.uint64(retry_key(key))

    def kernel(part):
        kernels.add_gaussian_noise(values, part, ids, keys[0], keys[1], scales, lo, hi)

    for_rows(np.flatnonzero(scales), kernel)
