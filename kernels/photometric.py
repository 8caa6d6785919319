"""Per-pixel random noise from a counter-based generator: value ``i`` of a stream depends
only on the stream's key and ``i``, never on which thread or chunk computes it.

The generator is SplitMix64 used as a counter-based generator (value ``i`` is
``mix64(key + (i + 1) * GOLDEN)``, Stafford's "Mix13" finaliser); ``fastaug.draws`` has the
same arithmetic in NumPy for per-sample parameters. Normals come in pairs, Box-Muller on two
uniforms (counters ``2i`` and ``2i + 1``): see :func:`counter_normal_pair`.
"""

import math

import numpy as np

from ._jit import jit

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@jit(per_pixel=True)
def mix64(z):
    """Stafford's Mix13 finaliser of SplitMix64 (uint64 in, uint64 out; wraps)."""
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@jit(per_pixel=True)
def counter_uniform(key, counter):
    """Uniform double in [0, 1) with 53 random bits: value ``counter`` of stream ``key``."""
    z = mix64(key + (counter + np.uint64(1)) * GOLDEN)
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@jit(per_pixel=True)
def counter_normal_pair(key, pair):
    """Standard normal numbers ``2 * pair`` and ``2 * pair + 1`` of stream ``key``: both
    Box-Muller outputs of uniforms ``u, w`` (counters ``2 * pair``, ``2 * pair + 1``).
    (Marsaglia's polar method, which skips the sine and cosine, ran slower here: its
    rejections are unpredictable branches.)"""
    u = counter_uniform(key, np.uint64(2) * pair)
    w = counter_uniform(key, np.uint64(2) * pair + np.uint64(1))
    # 1 - u lies in (0, 1]: the logarithm stays finite.
    radius = math.sqrt(-2.0 * math.log(1.0 - u))
    angle = 2.0 * math.pi * w
    return radius * math.cos(angle), radius * math.sin(angle)


@jit
def counter_normals(key, first_pair, out):
    """``out`` = standard normal numbers ``2 * first_pair ...`` of stream ``key``."""
    for j in range(0, out.shape[0], 2):
        z0, z1 = counter_normal_pair(key, np.uint64(first_pair + j // 2))
        out[j] = z0
        if j + 1 < out.shape[0]:
            out[j + 1] = z1


@jit
def add_gaussian_noise(values, rows, sample_ids, key, scales, lo, hi):
    """``values[r] += scales[r] * z`` then clip to ``[lo, hi]``, for ``r`` in ``rows`` (an
    int64 array of row numbers): ``values`` is float64 ``(N, E)``; element ``e`` of sample
    ``s = sample_ids[r]`` gets normal number ``s * E2 + e`` of stream ``key``, where ``E2``
    is ``E`` rounded up to even (so a sample's normals come in whole pairs)."""
    n_elements = values.shape[1]
    pairs = (n_elements + 1) // 2
    for r in rows:
        first = np.uint64(sample_ids[r]) * np.uint64(pairs)
        scale = scales[r]
        for j in range(pairs):
            z0, z1 = counter_normal_pair(key, first + np.uint64(j))
            e = 2 * j
            v = values[r, e] + scale * z0
            values[r, e] = lo if v < lo else hi if v > hi else v
            if e + 1 < n_elements:
                v = values[r, e + 1] + scale * z1
                values[r, e + 1] = lo if v < lo else hi if v > hi else v


@jit
def scale_shift_clip(values, rows, alphas, betas, lo, hi):
    """``values[r] = clip(alphas[r] * values[r] + betas[r], lo, hi)`` for ``r`` in ``rows``
    (float64 ``(N, E)``): one pass, no temporaries."""
    for r in rows:
        alpha, beta = alphas[r], betas[r]
        for e in range(values.shape[1]):
            v = alpha * values[r, e] + beta
            values[r, e] = lo if v < lo else hi if v > hi else v
