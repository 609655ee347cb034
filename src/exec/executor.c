/* executor.c — starts the scheduler's oneTBB executor on first use, and pins workers as they enter the arena. */
#include "exec/executor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/frame.h"
#include "runtime/value.h"

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

zx_sched *zx_sched_create(topo *t, int workers, bool pin, uint64_t seed)
{
    zx_sched *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->topo = t;
    s->workers = workers;
    s->pin = pin;
    s->seed = seed;
    return s;
}

tbbshim_executor *zx_sched_executor(zx_sched *s, char *err, size_t errsz)
{
    if (s->ex) return s->ex;
    if (!s->caller_binding) s->caller_binding = topo_binding_new(s->topo);
    if (!s->caller_binding) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    tbbshim_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.workers = s->workers;
    cfg.stack_size = zx_stack_size_for(ZX_MAX_DEPTH);  /* the largest depth limit fits (frame.h) */
    cfg.seed = s->seed;
    cfg.on_entry = on_entry;
    cfg.on_exit = on_exit_arena;
    cfg.observer_ctx = s;
    if (tbbshim_create(&cfg, &s->ex, err, errsz) != TBBSHIM_OK) {
        s->ex = NULL;
        return NULL;
    }
    return s->ex;
}

void zx_sched_destroy(zx_sched *s)
{
    if (!s) return;
    if (s->ex) tbbshim_destroy(s->ex);
    topo_binding_free(s->caller_binding);
    free(s);
}
