/* plan.h — the plan of a run: analysis, parallel-or-not decisions per site, placement; made before anything runs. */
#ifndef ZX_PLAN_H
#define ZX_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "analysis/analysis.h"
#include "analysis/placement.h"

/*
 * A run's data goes one way: the VM builds the plan on the host thread while nothing runs,
 * then execution reads it (zx_run.plan) and never builds analysis, reads the topology or
 * decides a mode of its own.  What the plan decides:
 *
 *  - the top level: a chunk DAG or in order (--mode=par whenever it has two chunks or more;
 *    --mode=auto on evidence of heavy independent work, and then only the chunks left after
 *    its first millisecond, with more than one worker);
 *  - each code object as a parallel_map function: whether it may run elementwise in parallel
 *    (the analysis' pmap verdict) and its cost, looked up by code object at run time, since
 *    which closure reaches a parallel_map is a runtime value; under --mode=auto the element
 *    count then decides (plan_worth_it);
 *  - each fork site: its blocks concurrently or in order;
 *  - placement: which partition each global lives in (placement.h).
 *
 * It is built in two steps, because reading the topology costs milliseconds that a run which
 * never goes parallel must not pay: plan_build (the program and the options), then, with the
 * machine facts that the first step says are needed (plan.may_go_parallel), plan_set_machine.
 * A plan depends on nothing else, so the VM keeps one per program.
 */

/* What a plan is built from besides the program. */
typedef struct plan_options {
    int mode;                             /* zx_mode */
    int chunk_size;                       /* <= 0: the default */
    const analysis_hosts *hosts;          /* host purity (borrowed for the plan's life; NULL: none pure) */
} plan_options;

/* The machine facts, read by the VM before the run. */
typedef struct plan_machine {
    int workers;                          /* of a parallel region, >= 1 */
    bool pin;                             /* workers are pinned */
    const topo *topo;                     /* NULL when not read (or unreadable) */
    bool place_by_topology;               /* the placement rule may apply: --mode=par, a named
                                             topology, one read before, or a NUMA machine */
} plan_machine;

typedef struct plan_code {                /* per analysis code id */
    const char *pmap_blocker;             /* as a parallel_map function: why not in parallel
                                             (borrowed); NULL: it may be */
    uint64_t cost;                        /* of one call */
    uint32_t first_fork;                  /* its fork sites: forks[first_fork ..] (nforks of its analysis) */
} plan_code;

typedef struct plan_fork {
    uint32_t code;                        /* analysis code id of the code object holding it */
    const analysis_fork *fork;            /* its blocks' DAG */
    bool parallel;                        /* its blocks run concurrently */
    char *ordered;                        /* owned: "blocks 1 and 2 run in order: ..." when two
                                             blocks both touch files, the clock, the random state
                                             or sleep (DEP_EFFECT), for --stats; or NULL */
} plan_fork;

typedef struct zx_plan {
    int mode;                             /* zx_mode */
    analysis *a;                          /* owned; NULL under --mode=seq */
    const analysis_hosts *hosts;
    const analysis_code *main;            /* the top level's analysis, or NULL */
    bool main_dag;                        /* the top level runs as a chunk DAG */
    uint32_t main_width;                  /* width of its DAG (for --stats) */
    char *main_ordered;                   /* owned: the first two chunks that files, the clock,
                                             the random state or sleeping keep in order, in
                                             words for --stats; or NULL */
    char **builtin_blocker;               /* owned, ZX_BI_COUNT: why builtin b itself may not be
                                             a parallel_map function, or NULL */
    plan_code *codes;                     /* a->ncodes */
    uint32_t nforks;
    plan_fork *forks;                     /* in code id and pc order */
    bool may_go_parallel;                 /* some site may run in parallel: the run needs the
                                             machine facts and a scheduler */
    /* set by plan_set_machine */
    bool has_machine;
    plan_machine machine;
    int workers;                          /* machine.workers, 1 without machine facts */
    placement_layout *place;
} zx_plan;

/* The plan of a run of p under o, without machine facts (plan_set_machine adds them).  NULL
 * when out of memory. */
zx_plan *plan_build(zx_program *p, const plan_options *o);
/* Add or replace the machine facts: the decisions that depend on the workers, and placement
 * (with m NULL: one worker, no topology).  False when out of memory. */
bool plan_set_machine(zx_plan *pl, zx_program *p, const plan_machine *m);
void plan_free(zx_plan *pl);

/* Whether estimated `work` with `parallelism` pays for a parallel region in the plan's mode
 * (--mode=par: always; --mode=auto: enough work, parallelism and workers). */
bool plan_worth_it(const zx_plan *pl, uint64_t work, double parallelism);
/* Why the function value fn may not run as a parallel_map function in parallel (NULL: it may;
 * else a constant or the analysis' string), and the cost of one call. */
const char *plan_pmap_blocker(const zx_plan *pl, zx_value fn, uint64_t *cost);
/* The fork site at instruction pc of code object c, or NULL (no analysis). */
const plan_fork *plan_fork_at(const zx_plan *pl, const zx_code *c, uint32_t pc);

#endif
