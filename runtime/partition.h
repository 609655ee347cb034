/* partition.h — the global variables of a run, in per-NUMA-node partitions and an interleaved home partition. */
#ifndef ZX_PARTITION_H
#define ZX_PARTITION_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "topology.h"
#include "value.h"

/*
 * Storage: each global variable has one 16-byte slot in one partition.  A partition is one
 * block of memory: a node partition is bound to its NUMA node (topo_alloc_on_node), the home
 * partition is interleaved over all nodes (topo_alloc_interleaved); on a topology that is not
 * this machine, or one node, both are ordinary memory.  Which global goes where is the
 * caller's decision (src/analysis/placement.c has the rule); this module lays the slots out:
 *
 *   - a padded global has a cache line (ZX_CACHE_LINE bytes) of its own;
 *   - the other globals of a partition are packed in groups: globals of one group share
 *     cache lines, and every group starts on a new line, so two groups never share one.
 *
 * Access: `var[g]` is the address of global g's slot; the table is filled before the run and
 * never changes, so the interpreter reads a global with one indirection and compiled code may
 * treat the table as invariant.  The values are read and written in place, unlocked, by the
 * run's tasks, which the analysis orders (docs/analysis.md).  Writes to `shared` globals also
 * take the write side of `lock`, and partitions_snapshot and partitions_exchange take it too:
 * a snapshot of shared globals taken from another thread while the program runs is never
 * torn, and sees every group of updates made under one lock hold (partitions_write_lock) all
 * or not at all.
 *
 * Threading: after partitions_create, the layout (everything but the values) is read-only.
 */

#define ZX_CACHE_LINE 64
#define ZX_PARTITION_HOME (-1)       /* partition node of the home partition */

/* Where one global goes. */
typedef struct partition_place {
    uint32_t part;                   /* index into the partition list */
    uint32_t group;                  /* packing group within the partition */
    uint8_t padded;                  /* a cache line of its own */
} partition_place;

enum partition_memory {
    PARTITION_PLAIN = 0,             /* ordinary memory (first touch decides) */
    PARTITION_BOUND,                 /* bound to its NUMA node */
    PARTITION_INTERLEAVED,           /* interleaved over every NUMA node */
};

typedef struct partition {
    int node;                        /* logical NUMA node, or ZX_PARTITION_HOME */
    int memory;                      /* enum partition_memory */
    size_t bytes;                    /* slots and padding: a multiple of ZX_CACHE_LINE */
    uint32_t nvars;
    void *mem;
} partition;

typedef struct zx_partitions {
    zx_value **var;                  /* n: the slot of each global */
    uint8_t *is_shared;              /* n: stores take the lock */
    uint32_t *part_of;               /* n: partition index of each global */
    uint32_t n;
    partition *parts;
    uint32_t nparts;
    const topo *topo;                /* NULL: every partition is ordinary memory */
    pthread_rwlock_t lock;
} zx_partitions;

/* Lay out n globals: place[g] says where global g goes among the nparts partitions whose
 * nodes are nodes[0..nparts-1] (ZX_PARTITION_HOME for the home partition).  place NULL: one
 * home partition, the shared globals padded, the others packed in one group (nodes, nparts
 * ignored).  is_shared[g] marks the `shared` globals (NULL: none).  Every slot starts
 * undefined.  t may be NULL (ordinary memory).  NULL when out of memory. */
zx_partitions *partitions_create(const topo *t, uint32_t n, const uint8_t *is_shared, const partition_place *place,
                                 const int *nodes, uint32_t nparts);
/* Release every value and the memory.  NULL is allowed. */
void partitions_destroy(zx_partitions *ps);

static inline zx_value *partitions_var(const zx_partitions *ps, uint32_t g) { return ps->var[g]; }

/* Store v (consumed) into global g and release the old value (after the lock, if any). */
void partitions_store_shared(zx_partitions *ps, uint32_t g, zx_value v);
static inline void partitions_store(zx_partitions *ps, uint32_t g, zx_value v)
{
    if (__builtin_expect(ps->is_shared[g], 0)) {
        partitions_store_shared(ps, g, v);
        return;
    }
    zx_value *slot = ps->var[g], old = *slot;
    *slot = v;
    zx_decref(old);
}

/* Hold the lock for writing across several stores into shared slots made in place (the
 * runtime's update protocol applying one piece's updates).  Nothing that can block on
 * another task may run while it is held. */
void partitions_write_lock(zx_partitions *ps);
void partitions_write_unlock(zx_partitions *ps);

/* Read globals idx[0..n-1] into out (new references) under the read lock: one consistent cut
 * of the shared ones. */
void partitions_snapshot(zx_partitions *ps, const uint32_t *idx, size_t n, zx_value *out);
/* Swap vals[k] with global idx[k] for every k under the write lock (all or nothing for a
 * reader): the globals take the values (consumed), vals gets the old ones (now owned by the
 * caller, to release after). */
void partitions_exchange(zx_partitions *ps, const uint32_t *idx, size_t n, zx_value *vals);

#endif
