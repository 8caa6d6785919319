"""CUDA kernels of the photometric transforms: one thread per value of a float64 ``(N, E)``
batch, read flat, calling the CPU kernels' own per-value functions
(:mod:`fastaug.kernels.photometric`).

Gaussian noise takes each normal number's first ziggurat try on the GPU (98.8 % of them,
integer arithmetic and one product: exact anywhere). The rest need C's ``exp`` and ``log``,
which libdevice may round otherwise, so their positions are listed (``pending``) and the
host computes them with the CPU kernel; :func:`noise_finish` adds them. Every value is then
the CPU's, bit for bit.
"""

from numba import cuda, uint64

from .. import photometric
from . import device_function

scaled_shifted = device_function(photometric.scaled_shifted)
with_noise = device_function(photometric.with_noise)
ziggurat_first_try = device_function(photometric.ziggurat_first_try)


@cuda.jit
def scale_shift_rows(values, n_elements, applied, alphas, betas, lo, hi):
    """``values[r, e] = clip(alphas[r] * values[r, e] + betas[r])`` where ``applied[r]``."""
    i = cuda.grid(1)
    if i >= values.shape[0]:
        return
    r = i // n_elements
    if applied[r]:
        values[i] = scaled_shifted(values[i], alphas[r], betas[r], lo, hi)


@cuda.jit
def noise_rows(values, n_elements, sample_ids, key, scales, lo, hi, pending, count):
    """``values[r, e] += scales[r] * z`` clipped, ``z`` normal number ``sample_ids[r] * E +
    e`` of stream ``key``, where its first try settles it; else the value's position goes
    to ``pending`` (``count[0]`` of them; past its end they are only counted). Rows with a
    zero scale are left alone."""
    i = cuda.grid(1)
    if i >= values.shape[0]:
        return
    r = i // n_elements
    scale = scales[r]
    if scale == 0.0:
        return
    n = uint64(sample_ids[r]) * uint64(n_elements) + uint64(i - r * n_elements)
    z, done = ziggurat_first_try(key, n)
    if done:
        values[i] = with_noise(values[i], scale, z, lo, hi)
        return
    slot = cuda.atomic.add(count, 0, 1)
    if slot < pending.shape[0]:
        pending[slot] = i


@cuda.jit
def noise_finish(values, n_elements, pending, normals, scales, lo, hi):
    """The pending values of :func:`noise_rows`, with the normal numbers the host made."""
    k = cuda.grid(1)
    if k >= normals.shape[0]:
        return
    i = pending[k]
    r = i // n_elements
    values[i] = with_noise(values[i], scales[r], normals[k], lo, hi)
