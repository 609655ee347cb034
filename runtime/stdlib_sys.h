/* stdlib_sys.h — the builtins with effects outside the heap: the clock, sleeping, the random
 * state, JSON, files, hashes and the entry-point names (their rows are in builtins.h). */
#ifndef ZX_STDLIB_SYS_H
#define ZX_STDLIB_SYS_H

#include <stdatomic.h>
#include <stdint.h>

#include "builtins.h"

/* What outlives one run: the random generator (xoshiro256**, seeded through splitmix64 from
 * random_seed(n), or from the clock on first use).  Kept by the VM, so that a seed set on one
 * REPL line holds on the next.  All zero is the valid initial state (not yet seeded).  The
 * analysis orders every use of the random state (ZX_FX_RANDOM), so the lock is only a guard. */
typedef struct zx_sys_state {
    atomic_flag lock;
    bool seeded;
    uint64_t rng[4];
} zx_sys_state;

/* What a call needs from the run. */
typedef struct zx_sys_ctx {
    zx_heap *heap;
    zx_sys_state *state;
    /* Polled while sleeping (at least every 10 ms): true when the run was interrupted
     * (SIGINT, --max-time) or the task's parallel work was cancelled. */
    bool (*should_stop)(void *arg);
    void *stop_arg;
} zx_sys_ctx;

/* True for the builtin ids that zx_sys_call runs. */
bool zx_sys_builtin(int id);
/* Call builtin `id` (zx_sys_builtin) with borrowed arguments (arity already checked); *out is a
 * new reference.  A sleep that should_stop ended fails with ZX_ERR_INTERRUPTED: the caller
 * turns it into the interrupt or cancellation it stands for. */
zx_callres zx_sys_call(const zx_sys_ctx *c, int id, const zx_value *argv, int argc, zx_value *out);

#endif
