"""``prefetch(array, i)``: ask the CPU to start loading the cache line of ``array[i]`` (1-D).

The hold'em traversal is bound by memory latency, not arithmetic: the regret row of every visited
node sits at an unpredictable place in tables far larger than the caches. Issuing the loads as soon
as their addresses are known, instead of when the values are needed, lets the misses overlap. A
prefetch never faults and never changes a result; an index out of bounds is harmless.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _emit_prefetch(context, builder, signature, args) -> None:
    array_type, array = signature.args[0], args[0]
    indices = [context.cast(builder, v, t, types.intp) for v, t in zip(args[1:], signature.args[1:])]
    ary = context.make_array(array_type)(context, builder, array)
    ptr = cgutils.get_item_pointer(context, builder, array_type, ary, indices, wraparound=False)
    byte_ptr = builder.bitcast(ptr, ir.IntType(8).as_pointer())
    i32 = ir.IntType(32)
    fn = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(ir.VoidType(), [byte_ptr.type, i32, i32, i32]), "llvm.prefetch.p0"
    )
    # read (0), keep in every cache level (3), data cache (1)
    builder.call(fn, [byte_ptr, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])


if TYPE_CHECKING:  # what a jitted caller sees; mypy cannot read numba's intrinsic below

    def prefetch(array: np.ndarray, i: int) -> None:
        """Prefetch array[i] of a 1-D array."""

else:

    @intrinsic
    def prefetch(typingctx, array, i):
        """Prefetch array[i] of a 1-D array."""
        if not isinstance(array, types.Array) or array.ndim != 1 or not isinstance(i, types.Integer):
            return None

        def codegen(context, builder, signature, args):
            _emit_prefetch(context, builder, signature, args)
            return context.get_dummy_value()

        return types.void(array, i), codegen
