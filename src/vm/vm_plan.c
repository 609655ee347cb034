/* vm_plan.c — the VM's side of the plan: each program's plan, the machine facts it needs (topology, workers) and the scheduler. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jit/jit.h"
#include "vm/api.h"

/*
 * Everything here runs on the host thread while nothing runs: before a run or a call, the
 * plan is made (once per program: it depends only on the program and the VM's options, which
 * never change), then the machine facts it asks for are read and handed to it, then the run
 * is pointed at it.  Execution reads what it is given (zx_run) and never comes back here.
 */

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

/* More than one NUMA node online (Linux: /sys/devices/system/node/online reads "0" on a
 * machine with one node, "0-1" or "0,2" with more); false where it cannot be read. */
static bool numa_machine(void)
{
    FILE *fp = fopen("/sys/devices/system/node/online", "r");
    if (!fp) return false;
    char line[64] = "";
    bool many = fgets(line, sizeof line, fp) && strpbrk(line, "-,") != NULL;
    fclose(fp);
    return many;
}

const zx_plan *zx_vm_plan(zx_vm *vm, zx_program *p)
{
    if (!zx_host_purity_refresh(vm, p)) return NULL;
    zx_plan *pl = p->plan;
    if (!pl) {
        plan_options o = { vm->opts.mode, vm->opts.chunk_size, p->hosts };
        pl = plan_build(p, &o);
        if (!pl) return NULL;
        p->plan = pl;
    }
    plan_machine m = { 1, vm->opts.pin != 0, NULL, false };
    /* Placement under --mode=auto follows the rule only where it can matter: a named
     * topology, one this VM read before this run, or a NUMA machine. */
    bool had_topo = vm->topo != NULL;
    if (pl->may_go_parallel) {
        /* reading the topology and making the scheduler's record are cheap next to the
         * threads, which start only when parallel work first comes (zx_sched_executor) */
        char err[sizeof vm->sched_error];
        m.topo = zx_vm_topology(vm, err, sizeof err);
        m.workers = zx_vm_worker_count(vm);
        if (!m.topo) {
            snprintf(vm->sched_error, sizeof vm->sched_error, "%s", err);
        } else if (!vm->sched) {
            vm->sched = zx_sched_create(vm->topo, m.workers, vm->opts.pin != 0, vm->opts.sched_seed);
            if (!vm->sched) snprintf(vm->sched_error, sizeof vm->sched_error, "out of memory");
        }
    }
    m.place_by_topology = pl->main_dag && (vm->opts.mode == ZX_MODE_PAR || had_topo || vm->opts.topology || numa_machine());
    if (!plan_set_machine(pl, p, &m)) return NULL;
    return pl;
}

void zx_vm_run_attach(zx_vm *vm, zx_run *run, const zx_plan *plan)
{
    run->plan = plan;
    run->sched = vm->sched;
    run->sched_error = vm->sched_error;
    run->stats = &vm->stats;
    run->hosts = &vm->hosts;
    /* code turning hot is queued for the JIT's background compiles (--jit=auto only) */
    run->on_hot = vm->jit && vm->opts.jit == ZX_JIT_AUTO ? zx_jit_hot : NULL;
    run->tier_ctx = vm->jit;
}

void zx_vm_plan_release(zx_program *p)
{
    if (!p) return;
    plan_free(p->plan);
    p->plan = NULL;
    zx_host_purity_free(p);
}
