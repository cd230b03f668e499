"""``prefetch(array, index)``: ask the CPU to start loading ``array[index]`` into cache.

For gathers whose addresses the hardware prefetcher cannot guess: histogram passes over a deep
node's rows read scattered rows of the bin matrix, and issuing the load a few rows ahead hides
most of the memory latency (microbenchmark, 2M x 28 bins, 1 thread, 1/8 of the rows: 5.9 ->
3.0 ns per update; contiguous rows unchanged). A hint only: it never faults and changes no
result. Under NUMBA_DISABLE_JIT it is a no-op Python function.
"""
from numba import config, types
from numba.extending import intrinsic

__all__ = ["prefetch"]


def _prefetch_python(array, index):
    """No-op twin used when Numba's JIT is disabled."""


@intrinsic
def _prefetch_compiled(typingctx, array, index):
    from llvmlite import ir

    if not isinstance(array, types.Array) or array.ndim != 1 or not isinstance(index, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        array_value = context.make_array(signature.args[0])(context, builder, args[0])
        byte_stride = builder.extract_value(array_value.strides, 0)  # a column of a C-ordered matrix too
        offset = builder.mul(context.cast(builder, args[1], signature.args[1], types.intp), byte_stride)
        data = builder.bitcast(array_value.data, ir.IntType(8).as_pointer())
        address = builder.gep(data, [offset])
        i32 = ir.IntType(32)
        hint = builder.module.declare_intrinsic(
            "llvm.prefetch", fnty=ir.FunctionType(ir.VoidType(), [address.type, i32, i32, i32]))
        # read access, high temporal locality, data cache
        builder.call(hint, [address, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.void(array, index), codegen


prefetch = _prefetch_python if config.DISABLE_JIT else _prefetch_compiled
