"""Every exact CUDA kernel compiles to PTX for sm_90 without an FMA (issue 23, item 3).

NVVM contracts ``a * b + c`` into one ``fma`` by default, which rounds once where SciPy's C
rounds twice: one such instruction and a result can differ from SciPy in its last bit. The
kernels write every product that feeds a sum as ``kernels._math.mul`` (libdevice's
``dmul_rn`` on CUDA); this compiles each kernel for every output dtype, on the CPU (NVVM
needs no GPU), and reads the PTX. A control kernel written with plain ``*`` and ``+`` shows
that the check finds FMAs where they are.

Needs numba-cuda with its NVVM (``pip install ".[cuda]"``); skipped where it is absent.
"""

import re
import sys
import types as pytypes

import pytest

pytest.importorskip("numba_cuda", reason="numba-cuda not installed: pip install '.[cuda]'")

from numba import config  # noqa: E402

if config.ENABLE_CUDASIM:  # pragma: no cover - the simulator compiles nothing
    pytest.skip(
        "PTX needs the real compiler (NUMBA_ENABLE_CUDASIM is set)", allow_module_level=True
    )

from numba import types  # noqa: E402

ARCH = (9, 0)
FMA = re.compile(r"\bfma\.")

F64 = types.float64
I64 = types.int64
OUT_DTYPES = [types.float64, types.float32, types.uint8, types.int16, types.uint64, types.int64,
              types.boolean]  # fmt: skip


def arr(dtype, ndim, layout="C"):
    return types.Array(dtype, ndim, layout)


@pytest.fixture(autouse=True)
def _sm_90(monkeypatch):
    """CPU helpers called from a CUDA kernel compile for the current device's compute
    capability; there is no device here, so name the one the PTX is for."""
    from numba import cuda

    dispatcher = sys.modules[cuda.jit.__module__.rsplit(".", 1)[0] + ".dispatcher"]
    monkeypatch.setattr(
        dispatcher, "get_current_device", lambda: pytypes.SimpleNamespace(compute_capability=ARCH)
    )


def ptx_of(kernel, signature):
    from numba import cuda

    ptx, _ = cuda.compile_ptx(kernel.py_func, signature, cc=ARCH)
    assert f".target sm_{ARCH[0]}{ARCH[1]}" in ptx
    return ptx


def kernel_signatures():
    from fastaug.kernels.cuda import resample as k

    c4 = arr(F64, 4)
    store = (I64, F64, F64)
    for out in OUT_DTYPES:
        for src in (types.uint8, types.float32):
            yield (
                f"affine_gather-{src}-{out}",
                k.affine_gather,
                (c4, arr(src, 4, "A"), arr(I64, 1), arr(types.int8, 1), arr(I64, 1), arr(F64, 3),
                 arr(F64, 2), arr(out, 1), I64, I64, I64, I64, I64, F64, I64, types.boolean,
                 *store),
            )  # fmt: skip
        yield (
            f"separable_gather-{out}",
            k.separable_gather,
            (
                c4,
                arr(I64, 3),
                arr(F64, 3),
                arr(types.boolean, 2),
                arr(I64, 1),
                arr(out, 1),
                I64,
                I64,
                F64,
                *store,
            ),
        )
        for src in (types.uint8, types.float32):
            f1 = arr(F64, 1)
            yield (
                f"planes_fused-{src}-{out}",
                k.planes_fused,
                (arr(src, 4, "A"), arr(I64, 1), arr(I64, 1), arr(types.int8, 1), arr(I64, 1),
                 arr(F64, 3), arr(F64, 2), arr(out, 1), I64, I64, I64, types.boolean, F64,
                 types.boolean, I64, f1, f1, F64, f1, f1, F64, I64, I64, F64, types.boolean,
                 *store),
            )  # fmt: skip
    for coords in (F64, types.float32, I64):
        yield (
            f"points_gather-{coords}",
            k.points_gather,
            (c4, arr(coords, 2), arr(F64, 1), I64, I64, F64, I64, *store),
        )
    yield (
        "prefilter_lines",
        k.prefilter_lines,
        (arr(F64, 2), I64, arr(F64, 1), arr(F64, 1), F64, I64, arr(F64, 2)),
    )
    for src in (types.uint8, types.float32, F64):
        yield (
            f"pad_load-{src}",
            k.pad_load,
            (arr(src, 4, "A"), c4, I64, I64, I64, types.boolean, F64),
        )
    from fastaug.kernels.cuda import photometric as p

    f1 = arr(F64, 1)
    yield "scale_shift_rows", p.scale_shift_rows, (f1, I64, arr(types.boolean, 1), f1, f1, F64, F64)
    yield (
        "noise_rows",
        p.noise_rows,
        (f1, I64, arr(I64, 1), types.uint64, f1, F64, F64, arr(I64, 1), arr(I64, 1)),
    )
    yield "noise_finish", p.noise_finish, (f1, I64, arr(I64, 1), f1, f1, F64, F64)
    for out in (types.float32, F64):
        yield f"store_values-{out}", k.store_values, (arr(F64, 1), arr(out, 1), *store)


CASES = list(kernel_signatures())


@pytest.mark.parametrize("name, kernel, signature", CASES, ids=[c[0] for c in CASES])
def test_exact_kernel_has_no_fma(name, kernel, signature):
    ptx = ptx_of(kernel, signature)
    assert not FMA.findall(ptx), f"{name}: {len(FMA.findall(ptx))} fma instructions in its PTX"


def test_the_check_finds_fma_in_plain_arithmetic():
    """The control: the same kind of sum written with plain ``*`` and ``+`` gets FMAs."""
    from numba import cuda

    @cuda.jit
    def plain(a, b, out):
        i = cuda.grid(1)
        if i < out.shape[0]:
            t = 0.0
            for j in range(4):
                t += a[i, j] * b[j]
            out[i] = t

    ptx = ptx_of(plain, (arr(F64, 2), arr(F64, 1), arr(F64, 1)))
    assert FMA.findall(ptx)
