/* executor.h — the scheduler: a oneTBB executor over hwloc-pinned workers, its threads started on first parallel work. */
#ifndef ZX_EXECUTOR_H
#define ZX_EXECUTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/tbb_shim.h"
#include "runtime/topology.h"

/* Made by the VM before a run whose plan may go parallel, from a topology it has read; the
 * executor's threads start only when parallel work first needs them (zx_sched_executor), on
 * the thread running the program: a run that stays sequential never pays for them. */
typedef struct zx_sched {
    topo *topo;
    tbbshim_executor *ex;           /* NULL until started */
    int workers;
    bool pin;
    uint64_t seed;                  /* non-zero: seeded random scheduling order */
    topo_binding *caller_binding;   /* the embedder's thread binding, restored on leaving */
} zx_sched;

/* A scheduler of `workers` workers over t (borrowed; outlives it).  NULL when out of memory. */
zx_sched *zx_sched_create(topo *t, int workers, bool pin, uint64_t seed);
/* Its executor, started on first use.  NULL with a message in err when it cannot start. */
tbbshim_executor *zx_sched_executor(zx_sched *s, char *err, size_t errsz);
void zx_sched_destroy(zx_sched *s);

#endif
