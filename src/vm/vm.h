/* vm.h — the VM object behind zexus.h's opaque zx_vm, shared by the library's layers. */
#ifndef ZX_VM_H
#define ZX_VM_H

#include <stdarg.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdbool.h>

#include "exec/interp.h"
#include "zexus.h"

/* What the last run did in parallel and why not, for --stats (filled by src/exec/parallel.c). */
typedef struct zx_run_stats {
    bool dag_used;                /* the top level ran as a chunk DAG */
    uint32_t chunks;              /* top-level chunks */
    uint32_t dag_width;
    uint64_t work, critical_path; /* estimated instructions */
    double parallelism;
    _Atomic uint64_t pmaps_parallel, pmaps_sequential, pmap_elements;
    _Atomic uint64_t forks_parallel, forks_sequential;
    uint64_t wall_ns;
    zx_buf notes;                 /* one line per decision to run something sequentially */
    zx_buf partitions_json;       /* where the run's globals live (src/analysis/placement.c) */
    zx_buf partitions_text;
    pthread_mutex_t lock;         /* guards notes */
} zx_run_stats;

/* Append a note to the run statistics (thread-safe; a repeated note is kept once). */
void zx_stats_note(struct zx_vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct zx_vm {
    zx_options opts;              /* with defaults filled in; topology points at our copy */
    char *topology;
    zx_heap *heap;                /* shared by every program of the VM */
    atomic_int interrupt;
    zx_buf last_error;
    int argc;
    char **argv;
    bool line_buffered;           /* default sink on a terminal: deliver output per print */
    zx_program *programs;         /* loaded programs, destroyed with the VM */
    struct zx_jit_host *jit;      /* JIT state (jit/host/jit_loader.c); NULL until a program loads */
    struct topo *topo;            /* hwloc topology, made on first use (src/exec/executor.c) */
    struct zx_sched *sched;       /* executor, made on first parallel work */
    zx_run_stats stats;           /* of the last run */
    struct zx_host *hosts;        /* registered host functions (src/exec/host.c) */
    uint32_t nhosts, caphosts;
    atomic_int running;           /* a run or call is in progress: reentrant API calls are refused */
    pthread_mutex_t state_lock;   /* guards every program's `state` pointer and setting `running`,
                                     for zx_program_snapshot from other threads (api_call.c) */
    struct zx_error_info *error_info; /* last_error parsed into place and frames (src/vm/api_call.c) */
};

void zx_vm_set_error(zx_vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
zx_status zx_vm_load_bytecode_named(zx_vm *vm, const char *name, const void *data, size_t len,
                                    zx_program **out);
zx_status zx_run_init(zx_run *run, zx_program *p);
void zx_run_fini(zx_run *run);
/* Free a program's kept run state (prog->state: the last run's globals and args). */
void zx_program_state_free(zx_program *p);
/* Free vm->error_info (src/vm/api_call.c). */
void zx_vm_error_info_free(zx_vm *vm);
/* Execute the top level of a run with the VM's mode (sequential, DAG, JIT). */
zx_status zx_vm_exec_main(zx_vm *vm, zx_task *root, zx_frame *f);
/* The end of a run or call of p on root task `root` that ended with st: flush its output,
 * make a closed output or the task's error the VM's last error, release the task, and mark
 * the VM idle.  Returns the run's status. */
zx_status zx_vm_finish_root(zx_vm *vm, zx_program *p, zx_task *root, zx_status st);

#endif
