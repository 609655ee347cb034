/* run_stats.h — what a run did in parallel and why not: execution fills it, the VM prints it (--stats). */
#ifndef ZX_RUN_STATS_H
#define ZX_RUN_STATS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "runtime/value.h"

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
void zx_stats_note(zx_run_stats *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
