"""The scalar arithmetic is written once: numba-cuda compiles the CPU kernels' per-pixel
helpers (boundary folding, footprints, spline weights) for a GPU unchanged (issue 21, item
3): ``kernels.cuda.device_function`` compiles them from their own source, with only
``kernels._math``'s primitives bound to CUDA's spelling (``kernels.cuda.primitives``).

Needs numba-cuda with its NVVM (``pip install "numba-cuda[cu12]"``), not a GPU: PTX for
sm_90 is compiled on the CPU. Skipped where numba-cuda is absent (CI's CUDA step has it).
"""

import sys
import types

import pytest

pytest.importorskip("numba_cuda", reason="numba-cuda not installed: pip install '.[cuda]'")

from numba import config  # noqa: E402

if config.ENABLE_CUDASIM:
    pytest.skip(
        "PTX needs the real compiler (NUMBA_ENABLE_CUDASIM is set)", allow_module_level=True
    )


def test_scalar_helpers_compile_to_ptx_for_sm_90(monkeypatch):
    import numpy as np
    from numba import cuda, float64

    from fastaug.kernels import boundary, spline
    from fastaug.kernels.cuda import device_function

    # The CPU compiles the helpers first, from source (an empty kernel cache), as a process
    # that ran the CPU backend before its first GPU call does: the CUDA build must not pick
    # up what the CPU inlined.
    assert spline.spline_weights_called(np.float64(0.3), 3)[0] > 0.0
    assert boundary.boundary_axis_start(np.float64(-3.5), 28, 0, 3, 2)[2]

    # A kernel compiles its device functions for the current device's compute capability;
    # there is no device here, so name the one the PTX is for.
    dispatcher = sys.modules[cuda.jit.__module__.rsplit(".", 1)[0] + ".dispatcher"]
    monkeypatch.setattr(
        dispatcher, "get_current_device", lambda: types.SimpleNamespace(compute_capability=(9, 0))
    )
    axis_start = device_function(boundary.boundary_axis_start)
    weights = device_function(spline.spline_weights)
    tap_line = device_function(boundary.boundary_tap_line)

    def kernel(coords, out):
        i = cuda.grid(1)
        if i < coords.shape[0]:
            for mode in range(7):
                for order in range(6):
                    start, cc, inside = axis_start(coords[i], 28, 0, order, mode)
                    w0, w1, w2, w3, w4, w5 = weights(cc, order)
                    line, outside = tap_line(start, 28, mode % 4, mode == 6)
                    out[i] += w0 + w1 + w2 + w3 + w4 + w5 + line if inside else -1.0

    ptx, _ = cuda.compile_ptx(kernel, (float64[:], float64[:]), cc=(9, 0))
    assert ".target sm_90" in ptx
    assert "mul.rn.f64" in ptx  # the products that feed sums, rounded on their own
