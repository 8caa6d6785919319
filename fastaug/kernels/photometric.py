"""Per-pixel random noise from a counter-based generator: value ``i`` of a stream depends
only on the stream's key and ``i``, never on which thread or chunk computes it.

The generator is SplitMix64 used as a counter-based generator (value ``i`` is
``mix64(key + (i + 1) * GOLDEN)``, Stafford's "Mix13" finaliser); ``fastaug.draws`` has the
same arithmetic in NumPy for per-sample parameters. Normals come from a ziggurat on those
values: see :func:`counter_normals`.
"""

import math

import numpy as np

from ._jit import jit
from ._math import mul

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


def _ziggurat_tables(layers=128, r=3.442619855899, v=9.91256303526217e-3):
    """Marsaglia and Tsang's ziggurat for the normal density (Doornik's ZIGNOR layout):
    ``x[i]`` the layer edges (``x[0] = v / f(r)``, ``x[1] = r``, ``x[layers] = 0``) and
    ``ratio[i] = x[i + 1] / x[i]``, the fraction of layer ``i`` inside the density."""
    x = np.zeros(layers + 1)
    f = math.exp(-0.5 * r * r)
    x[0], x[1] = v / f, r
    for i in range(2, layers):
        x[i] = math.sqrt(-2.0 * math.log(v / x[i - 1] + f))
        f = math.exp(-0.5 * x[i] * x[i])
    return x, x[1:] / x[:-1]


ZIGGURAT_X, ZIGGURAT_RATIO = _ziggurat_tables()
ZIGGURAT_R = ZIGGURAT_X[1]
#: Counters each normal number owns in the second stream (its rare retries): attempt ``a``
#: uses ``4 a`` (the wedge test) and ``4 a + 2`` (the next try); tail try ``t`` uses
#: ``RETRY_COUNTERS / 2 + 2 t`` and the next one.
RETRY_COUNTERS = 1 << 16


@jit(per_pixel=True)
def _unit(z):
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@jit(per_pixel=True)
def ziggurat_first_try(key, n):
    """``(value, done)``: normal number ``n`` of stream ``key`` when its first try lands
    inside its layer (98.8 %: ``done``), which takes one 64-bit value and no logarithm or
    exponential; else ``(0.0, False)``, and :func:`counter_normal` finishes it. Its top 53
    bits give the uniform ``u`` in (-1, 1) and its low 7 bits the layer."""
    z = mix64(key + (n + np.uint64(1)) * GOLDEN)
    u = mul(2.0, _unit(z)) - 1.0  # exact either way (2x is); mul keeps NVVM's FMA out
    layer = int(z & np.uint64(127))
    if abs(u) < ZIGGURAT_RATIO[layer]:
        return u * ZIGGURAT_X[layer], True
    return 0.0, False


@jit(per_pixel=True)
def counter_normal(key, retry_key, n):
    """Standard normal number ``n`` (uint64) of stream ``key``, by the ziggurat: the first
    try (:func:`ziggurat_first_try`), else its retries, which draw the tail and wedge tests
    from counters ``n * RETRY_COUNTERS ...`` of ``retry_key`` (so every number is still a
    pure function of ``n``) and use C's ``exp`` and ``log``."""
    value, done = ziggurat_first_try(key, n)
    if done:
        return value
    x, ratio = ZIGGURAT_X, ZIGGURAT_RATIO
    z = mix64(key + (n + np.uint64(1)) * GOLDEN)
    retry = n * np.uint64(RETRY_COUNTERS)
    attempt = np.uint64(0)
    while True:
        u = 2.0 * _unit(z) - 1.0
        layer = int(z & np.uint64(127))
        if abs(u) < ratio[layer]:
            return u * x[layer]
        base = retry + np.uint64(4) * attempt
        if layer == 0:  # the tail beyond r (Marsaglia's method)
            t = 0
            while True:
                c = retry + np.uint64(RETRY_COUNTERS // 2) + np.uint64(2 * t)
                a = math.log(1.0 - counter_uniform(retry_key, c)) / ZIGGURAT_R
                b = math.log(1.0 - counter_uniform(retry_key, c + np.uint64(1)))
                if -2.0 * b >= a * a:
                    break
                t += 1
            return a - ZIGGURAT_R if u < 0 else ZIGGURAT_R - a
        v = u * x[layer]
        f0 = math.exp(-0.5 * (x[layer] * x[layer] - v * v))
        f1 = math.exp(-0.5 * (x[layer + 1] * x[layer + 1] - v * v))
        if f1 + counter_uniform(retry_key, base) * (f0 - f1) < 1.0:
            return v
        attempt += np.uint64(1)
        z = mix64(retry_key + (base + np.uint64(3)) * GOLDEN)  # counter base + 2


@jit
def counter_normals(key, retry_key, first, out):
    """``out[j]`` = standard normal number ``first + j`` of stream ``key``
    (:func:`counter_normal`): 3x faster than Box-Muller, as most numbers take no logarithm
    or exponential."""
    for j in range(out.shape[0]):
        out[j] = counter_normal(key, retry_key, np.uint64(first + j))


@jit(per_pixel=True)
def clipped(v, lo, hi):
    """``v`` clipped to ``[lo, hi]``."""
    return lo if v < lo else hi if v > hi else v


@jit(per_pixel=True)
def with_noise(x, scale, z, lo, hi):
    """``x + scale * z`` clipped (the product rounded on its own: ``_math.mul``)."""
    return clipped(x + mul(scale, z), lo, hi)


@jit(per_pixel=True)
def scaled_shifted(x, alpha, beta, lo, hi):
    """``alpha * x + beta`` clipped (the product rounded on its own: ``_math.mul``)."""
    return clipped(mul(alpha, x) + beta, lo, hi)


@jit
def add_gaussian_noise(values, rows, sample_ids, key, retry_key, scales, lo, hi):
    """``values[r] += scales[r] * z`` then clip to ``[lo, hi]``, for ``r`` in ``rows`` (an
    int64 array of row numbers): ``values`` is float64 ``(N, E)``; element ``e`` of sample
    ``s = sample_ids[r]`` gets normal number ``s * E + e`` (:func:`counter_normals`)."""
    n_elements = values.shape[1]
    z = np.empty(n_elements)
    for r in rows:
        counter_normals(key, retry_key, sample_ids[r] * n_elements, z)
        scale = scales[r]
        for e in range(n_elements):
            values[r, e] = with_noise(values[r, e], scale, z[e], lo, hi)


@jit
def scale_shift_clip(values, rows, alphas, betas, lo, hi):
    """``values[r] = clip(alphas[r] * values[r] + betas[r], lo, hi)`` for ``r`` in ``rows``
    (float64 ``(N, E)``): one pass, no temporaries."""
    for r in rows:
        alpha, beta = alphas[r], betas[r]
        for e in range(values.shape[1]):
            values[r, e] = scaled_shifted(values[r, e], alpha, beta, lo, hi)


@jit
def counter_normals_of(key, retry_key, numbers, out):
    """``out[j]`` = standard normal number ``numbers[j]`` (uint64) of stream ``key``: the
    numbers a GPU left to the host (:func:`counter_normal`'s retries need C's ``exp`` and
    ``log``, which a GPU's libdevice may round otherwise)."""
    for j in range(numbers.shape[0]):
        out[j] = counter_normal(key, retry_key, numbers[j])
