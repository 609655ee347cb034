/* vm.h — the VM object behind zexus.h's opaque zx_vm, shared by the library's layers. */
#ifndef ZX_VM_H
#define ZX_VM_H

#include <stdarg.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdbool.h>

#include "analysis/plan.h"
#include "exec/executor.h"
#include "exec/host.h"
#include "exec/interp.h"
#include "exec/run_stats.h"
#include "runtime/stdlib_sys.h"
#include "zexus.h"

struct zx_vm {
    zx_options opts;              /* with defaults filled in; topology points at our copy */
    char *topology;
    zx_heap *heap;                /* shared by every program of the VM */
    atomic_int interrupt;
    zx_sys_state sys;             /* the random state, kept across runs (runtime/stdlib_sys.h) */
    zx_buf last_error;
    int argc;
    char **argv;
    bool line_buffered;           /* default sink on a terminal: deliver output per print */
    bool stdout_may_block;        /* default sink: stdout is a pipe, socket or terminal */
    atomic_int stdout_errno;      /* why the default sink failed in this run (0: it did not);
                                     EINTR: an interrupt ended a blocked write */
    zx_program *programs;         /* loaded programs, destroyed with the VM */
    struct zx_jit_host *jit;      /* JIT state (jit/host/jit_loader.c); NULL until a program loads */
    struct topo *topo;            /* hwloc topology, read when a plan first needs it (vm_plan.c) */
    struct zx_sched *sched;       /* executor, made when a plan first may go parallel (vm_plan.c) */
    char sched_error[256];        /* why sched or topo could not be made */
    zx_run_stats stats;           /* of the last run */
    zx_host_table hosts;          /* registered host functions (src/vm/host.c) */
    atomic_int running;           /* a run or call is in progress: reentrant API calls are refused */
    pthread_mutex_t state_lock;   /* guards every program's `state` pointer and setting `running`,
                                     for zx_program_snapshot from other threads (api_call.c) */
    struct zx_error_info *error_info; /* last_error parsed into place and frames (src/vm/api_call.c) */
    struct zx_dist *dist;         /* a --dist session (src/dist/dist.c), or NULL */
};

void zx_vm_set_error(zx_vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
zx_status zx_vm_load_bytecode_named(zx_vm *vm, const char *name, const void *data, size_t len,
                                    zx_program **out);
/* Check a program made by a loader (verifier, host functions, purity), link it into the VM
 * and tell the JIT; on failure p is freed and the VM's last error says why. */
zx_status zx_vm_adopt(zx_vm *vm, zx_program *p, zx_program **out);
/* zx_program_run, with the globals of seed's last run (seed->state; NULL: none) copied into
 * the same slots of the new run first: an interactive session (session.c). */
zx_status zx_vm_run_seeded(zx_program *p, const zx_program *seed);
zx_status zx_run_init(zx_run *run, zx_program *p);
void zx_run_fini(zx_run *run);
/* Free a program's kept run state (prog->state: the last run's globals and args). */
void zx_program_state_free(zx_program *p);
/* Free vm->error_info (src/vm/api_call.c). */
void zx_vm_error_info_free(zx_vm *vm);
/* ---- vm_plan.c ---- */
/* The plan of a run of p, built on first use and kept with the program, with the machine facts
 * and the scheduler it needs made first (host thread, nothing running).  NULL when out of
 * memory. */
const zx_plan *zx_vm_plan(zx_vm *vm, zx_program *p);
/* Point run at p's plan and what executing it needs (scheduler, statistics, host table). */
void zx_vm_run_attach(zx_vm *vm, zx_run *run, const zx_plan *plan);
/* Free p's plan and host purity (zx_program_destroy). */
void zx_vm_plan_release(zx_program *p);
/* The VM's topology (for `info`, statistics and plans), read on first use. */
topo *zx_vm_topology(zx_vm *vm, char *err, size_t errsz);
/* Workers the VM would use: --workers, or the cores the process may use. */
int zx_vm_worker_count(zx_vm *vm);
/* The program's analysis with chunk_size (<= 0: the VM's), built now for the caller, who
 * frees it (analysis_free): `zexus-jit chunks` and tests.  NULL when out of memory. */
analysis *zx_vm_analysis_build(zx_program *p, int chunk_size);
/* For tests: run the top level's chunks (of an analysis with the VM's chunk size) in the
 * given order on one frame with the interpreter, each chunk's output buffered on its own and
 * the buffers joined in program order.  *output and *globals_dump ("name = value" lines, one
 * per global) are malloc'ed, also on a runtime error (the status says which). */
zx_status zx_vm_run_chunk_order(zx_program *p, const uint32_t *order, uint32_t n, char **output,
                                char **globals_dump);

/* Execute the top level of a run with the VM's mode (sequential, DAG, JIT). */
zx_status zx_vm_exec_main(zx_vm *vm, zx_task *root, zx_frame *f);
/* True when its runs and calls must count references atomically throughout (vm.c). */
bool zx_vm_run_concurrent(const zx_program *p);
/* The end of a run or call of p on root task `root` that ended with st: flush its output,
 * make a closed output or the task's error the VM's last error, release the task, and mark
 * the VM idle.  Returns the run's status. */
zx_status zx_vm_finish_root(zx_vm *vm, zx_program *p, zx_task *root, zx_status st);

#endif
