"""The scalar arithmetic is written once: numba-cuda compiles the CPU kernels' per-pixel
helpers (boundary folding, footprints, spline weights) for a GPU unchanged (issue 21, item
3), with only ``kernels._math``'s primitives given a CUDA implementation
(``kernels.cuda.primitives``).

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
    from numba import cuda, float64

    import fastaug.kernels.cuda.primitives  # noqa: F401 - the CUDA spelling of _math
    from fastaug.kernels.boundary import boundary_axis_start, boundary_tap_line
    from fastaug.kernels.spline import spline_weights

    # A CPU helper called from a CUDA kernel is compiled for the current device's compute
    # capability; there is no device here, so name the one the PTX is for.
    dispatcher = sys.modules[cuda.jit.__module__.rsplit(".", 1)[0] + ".dispatcher"]
    monkeypatch.setattr(
        dispatcher, "get_current_device", lambda: types.SimpleNamespace(compute_capability=(9, 0))
    )

    def kernel(coords, out):
        i = cuda.grid(1)
        if i < coords.shape[0]:
            for mode in range(7):
                for order in range(6):
                    start, cc, inside = boundary_axis_start(coords[i], 28, 0, order, mode)
                    w0, w1, w2, w3, w4, w5 = spline_weights(cc, order)
                    line, outside = boundary_tap_line(start, 28, mode % 4, mode == 6)
                    out[i] += w0 + w1 + w2 + w3 + w4 + w5 + line if inside else -1.0

    ptx, _ = cuda.compile_ptx(kernel, (float64[:], float64[:]), cc=(9, 0))
    assert ".target sm_90" in ptx
