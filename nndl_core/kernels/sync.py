"""Threads in step: the counters one compiled epoch coordinates through.

Used by :func:`nndl_core.kernels.dense.threads.train_epoch_part`, where a
helper thread sums and trains half of the first layer's rows of weights. A
parallel region per mini-batch (Numba's ``prange``) costs more than the 20
microseconds of work it would share; instead each thread runs the whole
epoch in one compiled call, and they coordinate through int64 counters in
shared memory, each on a cache line of its own (``flags[i * STRIDE]``), so
that one thread's store does not evict the line another is reading:

* :func:`peek` ``(flags, i)`` reads counter ``i`` (an *acquire* load: what
  the thread that stored it wrote before it is visible from then on);
* :func:`publish` ``(flags, i, value)`` stores it (a *release* store);
* :func:`claim` ``(flags, i, expected)`` adds one to it if it still holds
  ``expected`` and says whether it did (a compare-and-swap): of two threads
  claiming the same piece of work, exactly one gets it;
* :func:`abort` ``(flags)`` raises the flag that says a thread failed, which
  waiting threads check (``peek(flags, ABORT)``);
* :func:`relax` ``(spins)`` is one turn of a wait: the processor's
  ``pause`` hint for the first :data:`SPINS` turns, then ``sched_yield``,
  then short sleeps, so that on a machine with fewer free cores than
  threads the thread being waited for gets to run.

Each function is plain Python (what it means, and what runs under
``NUMBA_DISABLE_JIT=1``, where threads take turns holding the GIL) with a
compiled twin that emits LLVM's atomic instructions.
"""

import os
import platform
import threading
import time

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

__all__ = [
    "ABORT",
    "NAP",
    "SPINS",
    "STRIDE",
    "abort",
    "claim",
    "make_flags",
    "peek",
    "publish",
    "relax",
]

#: int64s between two counters: one 64-byte cache line each.
STRIDE = 8
#: Turns a waiting thread spins (``pause``: 10 ns each on the project's
#: machine, up to 50 ns on other x86 cores) before it starts yielding its core.
SPINS = 4096
#: Microseconds a thread that has waited long sleeps per turn.
NAP = 50
#: Index of the flag that says a thread failed: the last counter.
ABORT = -1

_X86 = platform.machine().lower() in ("x86_64", "amd64", "i686", "x86")
_POSIX = os.name == "posix"


def make_flags(n_counters):
    """``n_counters`` zeroed counters, then the abort flag (int64)."""
    return np.zeros((n_counters + 1) * STRIDE, dtype=np.int64)


def _slot(flags, i):
    return i * STRIDE if i >= 0 else flags.shape[0] - STRIDE


def peek(flags, i):
    """Counter ``i``; what was written before it was published is visible."""
    return flags[_slot(flags, i)]


def publish(flags, i, value):
    """``counter i = value``, after every earlier write of this thread."""
    flags[_slot(flags, i)] = value


_CLAIMS = threading.Lock()  # Python's compare-and-swap (compiled: one instruction)


def claim(flags, i, expected):
    """Counter ``i += 1`` if it is ``expected``; True if this call did it."""
    with _CLAIMS:
        if flags[_slot(flags, i)] != expected:
            return False
        flags[_slot(flags, i)] = expected + 1
        return True


def abort(flags):
    """Tell every waiting thread to give up (a thread failed)."""
    publish(flags, ABORT, 1)


def _pause():
    """Spin-wait hint; nothing in Python."""


def _yield():
    """Give the core to another thread."""
    time.sleep(0)


def _nap():
    """Sleep for about :data:`NAP` microseconds."""
    time.sleep(NAP * 1e-6)


def relax(spins):
    """One turn of a wait that has lasted ``spins`` turns; returns ``spins + 1``.

    ``pause`` for the first :data:`SPINS` turns, ``sched_yield`` for as many
    again, then a nap of :data:`NAP` microseconds per turn: a thread that
    waits long stops competing for a core with the thread it waits for.
    """
    if spins < SPINS:
        _pause()
    elif spins < 2 * SPINS:
        _yield()
    else:
        _nap()
    return spins + 1


# --- the compiled twins -----------------------------------------------------------


def _flag_pointer(context, builder, signature, flags, i):
    """The address of counter ``i`` (``_slot``: the last one for a negative ``i``)."""
    array_type = signature.args[0]
    array = context.make_array(array_type)(context, builder, flags)
    i = context.cast(builder, i, signature.args[1], types.intp)
    length = builder.extract_value(array.shape, 0)
    stride = ir.Constant(i.type, STRIDE)
    index = builder.select(
        builder.icmp_signed(">=", i, ir.Constant(i.type, 0)),
        builder.mul(i, stride),
        builder.sub(length, stride),
    )
    return cgutils.get_item_pointer(
        context, builder, array_type, array, [index], wraparound=False
    )


@intrinsic
def _atomic_store(typingctx, flags, i, value):
    def codegen(context, builder, signature, args):
        pointer = _flag_pointer(context, builder, signature, *args[:2])
        value = context.cast(builder, args[2], signature.args[2], types.int64)
        builder.store_atomic(value, pointer, "release", align=8)
        return context.get_dummy_value()

    return types.none(flags, i, value), codegen


@intrinsic
def _atomic_claim(typingctx, flags, i, expected):
    def codegen(context, builder, signature, args):
        pointer = _flag_pointer(context, builder, signature, *args[:2])
        old = context.cast(builder, args[2], signature.args[2], types.int64)
        new = builder.add(old, ir.Constant(old.type, 1))
        result = builder.cmpxchg(pointer, old, new, "acq_rel", "acquire")
        return builder.extract_value(result, 1)  # the i1 "swapped" bit

    return types.boolean(flags, i, expected), codegen


@intrinsic
def _atomic_load(typingctx, flags, i):
    def codegen(context, builder, signature, args):
        pointer = _flag_pointer(context, builder, signature, *args)
        return builder.load_atomic(pointer, "acquire", align=8)

    return types.int64(flags, i), codegen


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
def _publish_overload(flags, i, value):
    if _is_flags(flags, i, value):
        return lambda flags, i, value: _atomic_store(flags, i, value)
    return None


@overload(peek)
def _peek_overload(flags, i):
    if _is_flags(flags, i):
        return lambda flags, i: _atomic_load(flags, i)
    return None


@overload(claim)
def _claim_overload(flags, i, expected):
    if _is_flags(flags, i, expected):
        return lambda flags, i, expected: _atomic_claim(flags, i, expected)
    return None


@overload(abort)
def _abort_overload(flags):
    if _is_flags(flags):
        return lambda flags: _atomic_store(flags, ABORT, 1)
    return None


@intrinsic
def _usleep(typingctx, microseconds):
    def codegen(context, builder, signature, args):
        if _POSIX:  # libc's usleep, resolved like sched_yield
            function = cgutils.get_or_insert_function(
                builder.module,
                ir.FunctionType(ir.IntType(32), [ir.IntType(32)]),
                "usleep",
            )
            value = context.cast(builder, args[0], signature.args[0], types.uint32)
            builder.call(function, [value])
        return context.get_dummy_value()

    return types.none(microseconds), codegen


@overload(_nap)
def _nap_overload():
    return lambda: _usleep(NAP)


@overload(_pause)
def _pause_overload():
    return lambda: _cpu_pause()


@overload(_yield)
def _yield_overload():
    return lambda: _sched_yield()


@overload(relax)
def _relax_overload(spins):
    if isinstance(spins, types.Integer):
        return relax  # compiled as written, with the twins above
    return None
