/* placement.h — where a run's global variables live: the partition rule of DESIGN.md §6. */
#ifndef ZX_PLACEMENT_H
#define ZX_PLACEMENT_H

#include <stdbool.h>

#include "analysis/analysis.h"
#include "runtime/partition.h"

/*
 * The rule (docs/parallel.md, "Shared state"), decided once per run from the analysis, before
 * anything runs:
 *
 *  1. The NUMA nodes in use are those of the workers' cores (topo_worker_node of workers
 *     0..N-1).  With one node in use, or --mode=seq, there is one partition and steps 2-4 only
 *     decide the packing inside it.
 *  2. Every top-level chunk gets a node: level by level (a chunk's level is the longest path
 *     of edges to it from a chunk without predecessors), the chunks of a level go costliest
 *     first onto the node in use with the least estimated cost assigned so far, so the chunks
 *     that may run at once spread over the nodes and the work is balanced between them.
 *  3. A global's writers are the top-level chunks whose effects write it (callees included);
 *     when some writers are heavy (a loop or a costly call standing alone), only those count,
 *     since a declaration or a cheap assignment runs once.  A global that every counted writer
 *     writes from one node lives in that node's partition, packed with the other globals of
 *     the same first writer (a group of its own cache lines).
 *  4. The home partition (interleaved over the nodes) holds every `shared` global and every
 *     global written from several nodes or by a fork block (blocks run anywhere), each on a
 *     cache line of its own, and the globals no chunk writes, packed.
 */

/* The machine facts the rule needs, decided by the caller before the run. */
typedef struct placement_options {
    const topo *topo;             /* NULL: no rule, one partition of ordinary memory */
    int workers;                  /* the workers of a parallel region (>= 1) */
    bool pin;                     /* workers are pinned (unpinned ones float: no rule) */
} placement_options;

/* Where every global of a program goes: a pure function of the analysis and the options,
 * made once per plan; partitions_create lays out each run's globals from it. */
typedef struct placement_layout {
    uint32_t nglobals;
    uint8_t *shared;              /* nglobals: the `shared` globals */
    partition_place *place;       /* nglobals, or NULL: one partition, shared globals padded */
    int *nodes;                   /* nparts partition nodes (ZX_PARTITION_HOME: home) */
    uint32_t nparts;
    const topo *topo;             /* the topology partitions_create gets (NULL: plain memory) */
    int *used;                    /* the NUMA nodes in use, in worker order */
    int nused;
    uint32_t nchunks;             /* top-level chunks placed (0 without the rule) */
    int *chunk_node;              /* nchunks: each one's NUMA node */
} placement_layout;

/* The placement of p's globals from its analysis a (NULL when the top level runs in order:
 * no rule) under o.  NULL when out of memory. */
placement_layout *placement_build(const zx_program *p, const analysis *a, const placement_options *o);
void placement_free(placement_layout *pl);
/* This run's globals laid out as pl says.  NULL when out of memory. */
zx_partitions *placement_partitions(const placement_layout *pl);
/* The partitions as --stats shows them (json and text replaced): the partitions in order,
 * their memory, bytes and variables (in slot order), the nodes in use and each top-level
 * chunk's node. */
void placement_report(const placement_layout *pl, const zx_program *p, const zx_partitions *ps, zx_buf *json,
                      zx_buf *text);

#endif
