"""``fastaug info``: what an augmented file holds, read through :mod:`.formats`."""

import numpy as np

from .formats import open_output


def describe(path):
    """A human-readable description of an augmented file."""
    arrays, meta = open_output(path)
    lines = [f"{path}"]
    for key, arr in arrays.items():
        lines.append(f"  {key:13s} {str(arr.shape):18s} {arr.dtype}")
    if meta:
        if meta.get("input"):
            key = f" [{meta['key']}]" if meta.get("key") else ""
            origin = f"  input         {meta['input']}{key}"
        else:
            origin = f"  dataset       {meta.get('dataset')} ({meta.get('split')})"
        lines.append(
            f"{origin}, {meta.get('sources')} sources x {meta.get('copies')} copies, "
            f"layout {meta.get('layout')}"
        )
        if meta.get("random"):
            lines.append(
                f"  random        {meta['random']}, {meta.get('random_copies')} copies per "
                f"source, seed {meta.get('seed')}, dtype {meta.get('dtype')}: "
                f"{meta.get('pipeline')}"
            )
            params = np.asarray(arrays.get("params", np.zeros((0, 0))))
            drawn = params[np.asarray(arrays["copy"]) >= 0] if "copy" in arrays else params
            for k, name in enumerate(meta.get("param_names", [])):
                column = drawn[:, k] if drawn.size else np.zeros(0)
                lines.append(
                    f"    {name:32s} min {column.min(initial=np.inf):+.4g} "
                    f"mean {column.mean() if column.size else float('nan'):+.4g} "
                    f"max {column.max(initial=-np.inf):+.4g}"
                )
        else:
            lines.append(
                f"  rotation      angles {meta.get('angles')}, order {meta.get('order')}, "
                f"mode {meta.get('mode')}, cval {meta.get('cval')}, dtype "
                f"{meta.get('dtype')}"
            )
        lines.append(
            f"  made by       fastaug {meta.get('fastaug_version')}; inputs "
            + ", ".join(f"{k} sha256 {h[:12]}" for k, h in (meta.get("inputs") or {}).items())
        )
    if "labels" in arrays:
        counts = np.bincount(np.asarray(arrays["labels"]).astype(np.int64).ravel())
        lines.append(f"  labels        {len(counts)} classes, counts {counts.tolist()}")
    return "\n".join(lines)
