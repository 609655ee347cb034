/* executor.c — creates the VM's executor and topology, and pins workers as they enter the arena. */
#include "exec/executor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/vm.h"

static void on_entry(void *ctx, int slot)
{
    zx_sched *s = ctx;
    if (!s->pin) return;
    char err[128];
    /* slot 0 is the embedder's own thread: remember its binding so it is never left pinned */
    if (slot == 0 && topo_binding_save(s->topo, s->caller_binding, err, sizeof err) != 0) return;
    if (topo_pin_worker(s->topo, slot, err, sizeof err) != 0) return;
    /* large list and map storage made here is bound to this worker's node (value.h); with one
     * node there is nothing to choose */
    if (topo_numa_nodes(s->topo) > 1) zx_heap_thread_node(s->topo, topo_worker_node(s->topo, slot));
}

static void on_exit_arena(void *ctx, int slot)
{
    zx_sched *s = ctx;
    char err[128];
    if (!s->pin) return;
    zx_heap_thread_node(NULL, -1);
    if (slot == 0) topo_binding_restore(s->topo, s->caller_binding, err, sizeof err);
}

topo *zx_vm_topology(zx_vm *vm, char *err, size_t errsz)
{
    if (vm->topo) return vm->topo;
    if (topo_create(vm->opts.topology, &vm->topo, err, errsz) != 0) {
        vm->topo = NULL;
        return NULL;
    }
    return vm->topo;
}

int zx_vm_worker_count(zx_vm *vm)
{
    if (vm->opts.workers > 0) return vm->opts.workers;
    char err[256];
    topo *t = zx_vm_topology(vm, err, sizeof err);
    int n = t ? topo_default_workers(t) : 1;
    return n > 0 ? n : 1;
}

zx_sched *zx_vm_sched(zx_vm *vm, char *err, size_t errsz)
{
    if (vm->sched) return vm->sched;
    topo *t = zx_vm_topology(vm, err, errsz);
    if (!t) return NULL;
    zx_sched *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    s->topo = t;
    s->workers = zx_vm_worker_count(vm);
    s->pin = vm->opts.pin != 0;
    s->caller_binding = topo_binding_new(t);
    tbbshim_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.workers = s->workers;
    cfg.stack_size = 0;                  /* the shim's default: room for the recursion limit */
    cfg.seed = vm->opts.sched_seed;
    cfg.on_entry = on_entry;
    cfg.on_exit = on_exit_arena;
    cfg.observer_ctx = s;
    if (!s->caller_binding || tbbshim_create(&cfg, &s->ex, err, errsz) != TBBSHIM_OK) {
        topo_binding_free(s->caller_binding);
        free(s);
        return NULL;
    }
    vm->sched = s;
    return s;
}

void zx_sched_destroy(zx_sched *s)
{
    if (!s) return;
    tbbshim_destroy(s->ex);
    topo_binding_free(s->caller_binding);
    free(s);
}
