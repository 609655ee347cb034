/* partition.c — laying global variables out in NUMA partitions; the lock, snapshots and batch stores of shared ones. */
#include "partition.h"

#include <stdlib.h>
#include <string.h>

static size_t line_up(size_t x) { return (x + ZX_CACHE_LINE - 1) / ZX_CACHE_LINE * ZX_CACHE_LINE; }

/* Order of the slots inside one partition: packed groups first (by group, then slot), padded
 * globals after them. */
typedef struct slot_key {
    uint32_t g, group;
    uint8_t padded;
} slot_key;

static int cmp_key(const void *x, const void *y)
{
    const slot_key *a = x, *b = y;
    if (a->padded != b->padded) return a->padded < b->padded ? -1 : 1;
    if (a->group != b->group) return a->group < b->group ? -1 : 1;
    return a->g < b->g ? -1 : a->g > b->g;
}

static void *part_alloc(const topo *t, partition *p)
{
    bool bound = false;
    void *mem = NULL;
    p->memory = PARTITION_PLAIN;
    if (t) {
        mem = p->node == ZX_PARTITION_HOME ? topo_alloc_interleaved(t, p->bytes, &bound)
                                           : topo_alloc_on_node(t, p->node, p->bytes, &bound);
        if (bound) p->memory = p->node == ZX_PARTITION_HOME ? PARTITION_INTERLEAVED : PARTITION_BOUND;
    } else if (posix_memalign(&mem, ZX_CACHE_LINE, p->bytes) != 0) {
        mem = NULL;
    }
    /* zero is ZX_T_UNDEF; touching the pages here also commits them under their policy */
    if (mem) memset(mem, 0, p->bytes);
    return mem;
}

static void part_free(const topo *t, partition *p)
{
    if (t) topo_free(t, p->mem);
    else free(p->mem);
    p->mem = NULL;
}

zx_partitions *partitions_create(const topo *t, uint32_t n, const uint8_t *is_shared, const partition_place *place,
                                 const int *nodes, uint32_t nparts)
{
    if (!place) nparts = 1;
    if (nparts == 0) return NULL;
    zx_partitions *ps = calloc(1, sizeof *ps);
    slot_key *keys = calloc(n ? n : 1, sizeof *keys);
    if (!ps || !keys) goto fail;
    ps->topo = t;
    ps->n = n;
    ps->var = calloc(n ? n : 1, sizeof *ps->var);
    ps->is_shared = calloc(n ? n : 1, 1);
    ps->part_of = calloc(n ? n : 1, sizeof *ps->part_of);
    ps->parts = calloc(nparts, sizeof *ps->parts);
    if (!ps->var || !ps->is_shared || !ps->part_of || !ps->parts) goto fail;
    if (pthread_rwlock_init(&ps->lock, NULL) != 0) goto fail;
    ps->nparts = nparts;
    for (uint32_t p = 0; p < nparts; p++) ps->parts[p].node = place ? nodes[p] : ZX_PARTITION_HOME;
    for (uint32_t g = 0; g < n; g++) {
        ps->is_shared[g] = is_shared && is_shared[g];
        ps->part_of[g] = place ? place[g].part : 0;
        if (ps->part_of[g] >= nparts) goto fail_locked;
    }

    for (uint32_t p = 0; p < nparts; p++) {
        partition *part = &ps->parts[p];
        uint32_t k = 0;
        for (uint32_t g = 0; g < n; g++) {
            if (ps->part_of[g] != p) continue;
            keys[k].g = g;
            keys[k].group = place ? place[g].group : 0;
            keys[k].padded = place ? place[g].padded : ps->is_shared[g];
            k++;
        }
        qsort(keys, k, sizeof *keys, cmp_key);
        /* offsets first (kept in var[] as byte offsets until the block exists) */
        size_t at = 0;
        for (uint32_t i = 0; i < k; i++) {
            bool new_line = keys[i].padded || i == 0 || keys[i].group != keys[i - 1].group || keys[i - 1].padded;
            if (new_line) at = line_up(at);
            ps->var[keys[i].g] = (zx_value *)(uintptr_t)at;
            at += keys[i].padded ? ZX_CACHE_LINE : sizeof(zx_value);
        }
        part->nvars = k;
        part->bytes = line_up(at ? at : 1);
        part->mem = part_alloc(t, part);
        if (!part->mem) goto fail_locked;
    }
    for (uint32_t g = 0; g < n; g++)
        ps->var[g] = (zx_value *)(void *)((char *)ps->parts[ps->part_of[g]].mem + (uintptr_t)ps->var[g]);
    free(keys);
    return ps;

fail_locked:
    pthread_rwlock_destroy(&ps->lock);
fail:
    free(keys);
    if (ps) {
        for (uint32_t p = 0; ps->parts && p < ps->nparts; p++) part_free(t, &ps->parts[p]);
        free(ps->parts);
        free(ps->var);
        free(ps->is_shared);
        free(ps->part_of);
        free(ps);
    }
    return NULL;
}

void partitions_destroy(zx_partitions *ps)
{
    if (!ps) return;
    for (uint32_t g = 0; g < ps->n; g++) zx_decref(*ps->var[g]);
    for (uint32_t p = 0; p < ps->nparts; p++) part_free(ps->topo, &ps->parts[p]);
    pthread_rwlock_destroy(&ps->lock);
    free(ps->parts);
    free(ps->var);
    free(ps->is_shared);
    free(ps->part_of);
    free(ps);
}

void partitions_write_lock(zx_partitions *ps) { pthread_rwlock_wrlock(&ps->lock); }
void partitions_write_unlock(zx_partitions *ps) { pthread_rwlock_unlock(&ps->lock); }

void partitions_store_shared(zx_partitions *ps, uint32_t g, zx_value v)
{
    zx_value *slot = ps->var[g];
    pthread_rwlock_wrlock(&ps->lock);
    zx_value old = *slot;
    *slot = v;
    pthread_rwlock_unlock(&ps->lock);
    zx_decref(old);        /* freeing may take long: never under the lock */
}

void partitions_snapshot(zx_partitions *ps, const uint32_t *idx, size_t n, zx_value *out)
{
    pthread_rwlock_rdlock(&ps->lock);
    for (size_t k = 0; k < n; k++) {
        out[k] = *ps->var[idx[k]];
        zx_incref(out[k]);     /* under the lock: no writer can release it meanwhile */
    }
    pthread_rwlock_unlock(&ps->lock);
}

void partitions_exchange(zx_partitions *ps, const uint32_t *idx, size_t n, zx_value *vals)
{
    pthread_rwlock_wrlock(&ps->lock);
    for (size_t k = 0; k < n; k++) {
        zx_value *slot = ps->var[idx[k]], old = *slot;
        *slot = vals[k];
        vals[k] = old;
    }
    pthread_rwlock_unlock(&ps->lock);
}
