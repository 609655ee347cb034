/* executor.h — the VM's scheduler: a oneTBB executor over hwloc-pinned workers, made on first use. */
#ifndef ZX_EXECUTOR_H
#define ZX_EXECUTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/tbb_shim.h"
#include "runtime/topology.h"

struct zx_vm;

typedef struct zx_sched {
    topo *topo;
    tbbshim_executor *ex;
    int workers;
    bool pin;
    topo_binding *caller_binding;   /* the embedder's thread binding, restored on leaving */
} zx_sched;

/* The VM's scheduler, created on first use with the VM's options (workers, pinning,
 * topology, seed).  NULL with a message in err when it cannot be created. */
zx_sched *zx_vm_sched(struct zx_vm *vm, char *err, size_t errsz);
void zx_sched_destroy(zx_sched *s);
/* The VM's topology alone (for `info` and statistics), created on first use. */
topo *zx_vm_topology(struct zx_vm *vm, char *err, size_t errsz);
/* Workers the VM would use: --workers, or the cores the process may use. */
int zx_vm_worker_count(struct zx_vm *vm);

#endif
