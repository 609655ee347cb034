/* placement.h — where a run's global variables live: the partition rule of DESIGN.md §6. */
#ifndef ZX_PLACEMENT_H
#define ZX_PLACEMENT_H

#include "runtime/partition.h"
#include "vm/vm.h"

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

/* The partitions of a run of p under vm's options (mode, workers, topology, chunk size), and
 * their description in vm->stats (partitions_json, partitions_text).  NULL when out of memory. */
zx_partitions *placement_build(zx_vm *vm, zx_program *p);

#endif
