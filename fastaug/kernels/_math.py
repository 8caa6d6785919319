"""Scalar primitives that each compile target spells its own way.

The kernels' scalar arithmetic (boundary folding, footprints, spline weights, the
prefilter's recursions) is written once, as plain functions that call these primitives by
name. The CPU target compiles them as they are here; the CUDA target
(:func:`fastaug.kernels.cuda.device_function`) compiles the same functions with these
names bound to its own spelling (``kernels.cuda.primitives``: libdevice), and nothing else
in the arithmetic changes.

They are Numba intrinsics: each call becomes one LLVM instruction where it stands. (As
``jit(per_pixel=True)`` functions, inlined as Numba IR at each of their ~40 call sites, the
first use compiled about 1 s longer.)
"""

from numba import types
from numba.extending import intrinsic


def _as_double(context, builder, value, value_type):
    return context.cast(builder, value, value_type, types.float64)


@intrinsic
def mul(typingctx, a, b):
    """``a * b`` as a double, rounded on its own: a product that feeds an addition is written
    ``mul(a, b)`` so that no target fuses the two into one FMA (a different double than
    SciPy's). The CPU target never contracts without fast-math (``_jit``); NVVM does by
    default, so the CUDA target spells this with libdevice's ``dmul_rn``. Integers are
    converted to double first, as ``a * b`` converts them."""
    if not all(isinstance(t, (types.Integer, types.Float)) for t in (a, b)):
        return None

    def codegen(context, builder, signature, args):
        x = _as_double(context, builder, args[0], signature.args[0])
        y = _as_double(context, builder, args[1], signature.args[1])
        return builder.fmul(x, y)

    return types.float64(a, b), codegen


@intrinsic
def floor(typingctx, x):
    """C's ``floor`` of a double, as a double (``llvm.floor``): ``math.floor`` returns an int,
    which overflows beyond 2**63 (a coordinate of -1e20 got weights of 9e19)."""
    if not isinstance(x, types.Float):
        return None

    def codegen(context, builder, signature, args):
        value = _as_double(context, builder, args[0], signature.args[0])
        double = context.get_value_type(types.float64)
        function = builder.module.declare_intrinsic("llvm.floor", [double])
        return builder.call(function, [value])

    return types.float64(x), codegen
