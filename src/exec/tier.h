/* tier.h — where the interpreter meets the JIT: a code object's native function, its hotness, and the run's hook. */
#ifndef ZX_EXEC_TIER_H
#define ZX_EXEC_TIER_H

#include <stdatomic.h>
#include <stdint.h>

#include "exec/frame.h"

/*
 * The interpreter knows the JIT only through this header: a code object's native function
 * (published by the JIT with a release store into zx_code.native) and the run's `on_hot` hook,
 * which the VM points at the JIT's queue when a program may be compiled in the background
 * (--jit=auto).  So src/exec/ includes nothing from jit/, and jit/ builds on src/exec/.
 *
 * A native function is a drop-in replacement for zx_interp_exec on a base frame (jit/jit.h
 * states the whole contract).
 */
typedef zx_status (*zx_native_fn)(zx_task *t, zx_frame *f, uint32_t end_pc, zx_value *result);

/* A code object is queued for compilation once its hotness passes JIT_HOT: an entry
 * counts JIT_ENTRY_TICKS, a loop back-edge 1 (so: 2 calls, or 1000 iterations). */
#define JIT_HOT 1000u
#define JIT_ENTRY_TICKS 500u

/* The native function of c, or NULL. */
static inline zx_native_fn tier_native(zx_code *c)
{
    return (zx_native_fn)atomic_load_explicit(&c->native, memory_order_acquire);
}

/* Count n ticks of hotness for c; past JIT_HOT the run's hook hears of it once.  Racy by
 * design (a lost tick only delays compilation). */
static inline void tier_tick(zx_task *t, zx_code *c, uint32_t n)
{
    uint32_t h = atomic_load_explicit(&c->hotness, memory_order_relaxed);
    if (h >= JIT_HOT) return;
    h += n;
    atomic_store_explicit(&c->hotness, h, memory_order_relaxed);
    if (h >= JIT_HOT && t->run->on_hot) t->run->on_hot(t->run->tier_ctx, t, c);
}

#endif
