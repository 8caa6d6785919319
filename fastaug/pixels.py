"""How a dataset job turns stored pixels into the output dtype: one rule for every dtype.

* ``uint8`` is an 8-bit image in [0, 255]: a ``float32`` output holds it divided by 255
  (the textbook MNIST loader's [0, 1], and what the dataset job writes), a ``uint8`` output
  holds it as stored.
* Every other dtype keeps its values, as SciPy does: floats of any width, integers, bool,
  big- or little-endian (read in the machine's byte order first).
* ``scale=True`` asks for the [0, 1] scaling of any integer up to 16 bits (divided by its
  dtype's maximum, like torchvision's ``ToDtype(scale=True)``); ``scale=False`` keeps uint8
  values too. ``None`` (the default) scales uint8 only.
* A value the output dtype cannot hold exactly is refused, never wrapped or clipped: NaN or
  infinity, a float beyond float32's range, an integer beyond float32's exact integers
  (2**24), a uint8 output from anything but whole numbers in [0, 255]. The message names the
  range found and the range allowed.
"""

import numpy as np

OUTPUT_DTYPES = ("float32", "uint8")
#: Integers float32 holds exactly (its 24-bit significand).
FLOAT32_EXACT = 1 << 24
_FLOAT32_MAX = float(np.finfo(np.float32).max)


class PixelError(ValueError):
    """Stored pixels that the output dtype cannot hold as they are (one line)."""


def resolve_scale(source: np.dtype, output: str, scale: bool | None = None) -> bool:
    """Whether ``source`` pixels are divided by their dtype's maximum (see the module);
    refuses a scaling that does not apply."""
    source = np.dtype(source)
    if output not in OUTPUT_DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(OUTPUT_DTYPES)}; got {output!r}")
    if scale is None:
        return source == np.uint8 and output == "float32"
    if not scale:
        return False
    if output != "float32":
        raise ValueError("scale=True (--scale) scales integers into [0, 1]: it needs dtype float32")
    if source.kind not in "iu" or source.itemsize > 2:
        raise ValueError(
            f"scale=True (--scale) is for integer images of up to 16 bits; got {source}"
        )
    return True


def to_output(raw: np.ndarray, output: str, scale: bool, out: np.ndarray | None = None,
              label: str = "input") -> np.ndarray:  # fmt: skip
    """``raw`` as ``output`` pixels by the module's rule (``scale`` from
    :func:`resolve_scale`); ``raw`` itself when it already is (no copy), else into ``out``
    when given. ``label`` names the data in errors."""
    if not raw.dtype.isnative:
        raw = raw.astype(raw.dtype.newbyteorder("="))
    if raw.dtype == output and not scale:
        _check_fits(raw, output, label)
        return raw
    out = np.empty(raw.shape, output) if out is None else out
    if scale:
        # An exact cast, then one rounded float32 division: for uint8 the textbook loader's
        # astype(float32) / 255, in one pass over the memory instead of two.
        return np.divide(raw, np.float32(np.iinfo(raw.dtype).max), out=out, dtype=np.float32)
    _check_fits(raw, output, label)
    out[...] = raw
    return out


def _check_fits(raw, output, label):
    if raw.size == 0 or raw.dtype.kind == "b" or raw.dtype == np.uint8:
        return
    if output == "float32" and raw.dtype.kind == "f" and raw.dtype.itemsize <= 4:
        if not np.isfinite(raw).all():
            raise PixelError(f"{label}: holds NaN or infinite values")
        return
    low, high = raw.min(), raw.max()
    if raw.dtype.kind == "f" and not (np.isfinite(low) and np.isfinite(high)):
        raise PixelError(f"{label}: holds NaN or infinite values")
    if output == "float32":
        bound = _FLOAT32_MAX if raw.dtype.kind == "f" else FLOAT32_EXACT
        if -bound <= low and high <= bound:
            return
        allowed = "float32's range" if raw.dtype.kind == "f" else f"±{FLOAT32_EXACT:,} (exact)"
    else:
        whole = raw.dtype.kind != "f" or bool((np.floor(raw) == raw).all())
        if whole and 0 <= low and high <= 255:
            return
        allowed = "whole numbers in [0, 255]"
    raise PixelError(
        f"{label}: {raw.dtype} values in [{low:g}, {high:g}] do not fit {output} "
        f"({allowed}); choose another output dtype or convert the data first"
    )
