"""Two threads in step: the flags one compiled epoch waits on.

Used by :func:`nndl_core.kernels.dense_sgd.train_epoch_part`, where each
thread trains its own columns of the first layer and meets the others once
per mini-batch. A parallel region per mini-batch (Numba's ``prange``) costs
more than the 20 microseconds of work it would share; instead every thread
runs the whole epoch in one compiled call, and they wait for each other on
counters in shared memory:

* :func:`publish` ``(flags, part, value)`` stores ``value`` as thread
  ``part``'s counter, after everything the thread wrote before it (a
  *release* store);
* :func:`wait_for` ``(flags, part, value)`` returns once thread ``part``'s
  counter has reached ``value`` (an *acquire* load in a loop), and from then
  on sees everything that thread wrote before publishing it; it returns
  False instead if any thread has raised :func:`ABORT` (one that failed).

Each counter has a cache line to itself (``flags[part * STRIDE]``), so that
one thread's store does not evict the line the other is reading. A waiting
thread spins with the processor's ``pause`` hint for a few microseconds and
then gives its core away (``sched_yield``) on each turn: on a machine with
fewer free cores than threads the thread it waits for gets to run.

Each function is plain Python (what it means, and what runs under
``NUMBA_DISABLE_JIT=1``, where the threads take turns holding the GIL) with
a compiled twin that emits LLVM's atomic load and store.
"""

import os
import platform
import time

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

__all__ = ["ABORT", "STRIDE", "SPINS", "abort", "make_flags", "publish", "wait_for"]

#: int64s between two counters: one 64-byte cache line each.
STRIDE = 8
#: Turns a waiting thread spins before it starts yielding its core.
SPINS = 4096
#: Index (in units of ``STRIDE``) of the flag that says a thread failed.
ABORT = -1

_X86 = platform.machine().lower() in ("x86_64", "amd64", "i686", "x86")
_POSIX = os.name == "posix"


def make_flags(n_parts):
    """Zeroed counters for ``n_parts`` threads plus the abort flag (int64)."""
    return np.zeros((n_parts + 1) * STRIDE, dtype=np.int64)


def _slot(flags, part):
    return part * STRIDE if part >= 0 else flags.shape[0] - STRIDE


def publish(flags, part, value):
    """``flags[part] = value``, after every earlier write of this thread."""
    flags[_slot(flags, part)] = value


def abort(flags):
    """Tell every waiting thread to give up (a thread failed)."""
    publish(flags, ABORT, 1)


def _load(flags, part):
    return flags[_slot(flags, part)]


def _pause():
    """Spin-wait hint; nothing in Python."""


def _yield():
    """Give the core to another thread."""
    time.sleep(0)


def wait_for(flags, part, value):
    """Wait until thread ``part``'s counter is at least ``value``.

    Returns True when it is, False if a thread aborted first.
    """
    spins = 0
    while _load(flags, part) < value:
        if _load(flags, ABORT) != 0:
            return False
        if spins < SPINS:
            _pause()
            spins += 1
        else:
            _yield()
    return True


# --- the compiled twins -----------------------------------------------------------


def _flag_pointer(context, builder, signature, flags, part):
    array_type = signature.args[0]
    array = context.make_array(array_type)(context, builder, flags)
    part = context.cast(builder, part, signature.args[1], types.intp)
    length = builder.extract_value(array.shape, 0)
    stride = ir.Constant(part.type, STRIDE)
    index = builder.select(
        builder.icmp_signed(">=", part, ir.Constant(part.type, 0)),
        builder.mul(part, stride),
        builder.sub(length, stride),
    )
    return cgutils.get_item_pointer(
        context, builder, array_type, array, [index], wraparound=False
    )


@intrinsic
def _atomic_store(typingctx, flags, part, value):
    def codegen(context, builder, signature, args):
        pointer = _flag_pointer(context, builder, signature, *args[:2])
        value = context.cast(builder, args[2], signature.args[2], types.int64)
        builder.store_atomic(value, pointer, "release", align=8)
        return context.get_dummy_value()

    return types.none(flags, part, value), codegen


@intrinsic
def _atomic_load(typingctx, flags, part):
    def codegen(context, builder, signature, args):
        pointer = _flag_pointer(context, builder, signature, *args)
        return builder.load_atomic(pointer, "acquire", align=8)

    return types.int64(flags, part), codegen


@intrinsic
def _cpu_pause(typingctx):
    def codegen(context, builder, signature, args):
        if _X86:
            hint = cgutils.get_or_insert_function(
                builder.module,
                ir.FunctionType(ir.VoidType(), []),
                "llvm.x86.sse2.pause",
            )
            builder.call(hint, [])
        return context.get_dummy_value()

    return types.none(), codegen


@intrinsic
def _sched_yield(typingctx):
    def codegen(context, builder, signature, args):
        if _POSIX:  # resolved in the running process (libc), also from the cache
            function = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.IntType(32), []), "sched_yield"
            )
            builder.call(function, [])
        return context.get_dummy_value()

    return types.none(), codegen


def _is_flags(flags, *indices):
    return (
        isinstance(flags, types.Array)
        and flags.ndim == 1
        and flags.dtype == types.int64
        and all(isinstance(i, types.Integer) for i in indices)
    )


@overload(publish)
def _publish_overload(flags, part, value):
    if _is_flags(flags, part, value):
        return lambda flags, part, value: _atomic_store(flags, part, value)
    return None


@overload(_load)
def _load_overload(flags, part):
    if _is_flags(flags, part):
        return lambda flags, part: _atomic_load(flags, part)
    return None


@overload(abort)
def _abort_overload(flags):
    if _is_flags(flags):
        return lambda flags: _atomic_store(flags, ABORT, 1)
    return None


@overload(_pause)
def _pause_overload():
    return lambda: _cpu_pause()


@overload(_yield)
def _yield_overload():
    return lambda: _sched_yield()


@overload(wait_for)
def _wait_for_overload(flags, part, value):
    if _is_flags(flags, part, value):
        return wait_for  # compiled as written, with the twins above
    return None
