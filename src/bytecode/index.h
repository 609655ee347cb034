/* index.h — a hash index over an append-only table (constants, globals, a scope's names), so
 * that finding an entry is O(1) instead of a scan of the table: compiling N globals or
 * constants was quadratic.  The table stays the owner of its entries; the index holds their
 * positions (open addressing, linear probing, slot = position + 1).  When the index cannot
 * grow (out of memory) it is simply dropped and callers scan, so it never makes a build fail. */
#ifndef ZX_INDEX_H
#define ZX_INDEX_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct zx_index {
    uint32_t *slot;       /* cap slots, 0 = empty, else table position + 1 */
    uint32_t cap;         /* a power of two, or 0: no index (scan) */
    uint32_t covered;     /* table entries [0, covered) are in the index */
} zx_index;

/* The hash of a string: FNV-1a, then mixed. */
static inline uint64_t zx_index_hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

static inline void zx_index_free(zx_index *ix)
{
    free(ix->slot);
    ix->slot = NULL;
    ix->cap = ix->covered = 0;
}

/* Callbacks of a table: the hash of entry i, and whether entry i equals the key. */
typedef uint64_t (*zx_index_hash_fn)(const void *table, uint32_t i);
typedef bool (*zx_index_eq_fn)(const void *table, uint32_t i, const void *key);

/* Put entry i in, unless an equal earlier entry is there already (the first one stays). */
static inline void zx_index_put(zx_index *ix, const void *table, uint32_t i, zx_index_hash_fn hash,
                                zx_index_eq_fn eq, const void *key_of_i)
{
    uint32_t mask = ix->cap - 1;
    for (uint32_t k = (uint32_t)hash(table, i) & mask;; k = (k + 1) & mask) {
        if (!ix->slot[k]) {
            ix->slot[k] = i + 1;
            return;
        }
        if (eq(table, ix->slot[k] - 1, key_of_i)) return;
    }
}

/* Bring the index up to table entries [0, n): false (and no index) when it cannot grow.
 * key_at(table, i) gives entry i as a key for eq. */
static inline bool zx_index_cover(zx_index *ix, const void *table, uint32_t n, zx_index_hash_fn hash,
                                  zx_index_eq_fn eq, const void *(*key_at)(const void *table, uint32_t i))
{
    if (ix->covered == n && ix->cap) return true;
    if ((uint64_t)n * 2 + 2 > ix->cap) {
        uint64_t cap = ix->cap ? ix->cap : 16;
        while (cap < (uint64_t)n * 2 + 2) cap *= 2;
        uint32_t *slot = cap > UINT32_MAX ? NULL : calloc((size_t)cap, sizeof *slot);
        if (!slot) {
            zx_index_free(ix);
            return false;
        }
        free(ix->slot);
        ix->slot = slot;
        ix->cap = (uint32_t)cap;
        ix->covered = 0;
    }
    for (uint32_t i = ix->covered; i < n; i++) zx_index_put(ix, table, i, hash, eq, key_at(table, i));
    ix->covered = n;
    return true;
}

/* The position of the first entry equal to key with hash h, or UINT32_MAX. */
static inline uint32_t zx_index_find(const zx_index *ix, const void *table, uint64_t h, zx_index_eq_fn eq,
                                     const void *key)
{
    uint32_t mask = ix->cap - 1;
    for (uint32_t k = (uint32_t)h & mask; ix->slot[k]; k = (k + 1) & mask)
        if (eq(table, ix->slot[k] - 1, key)) return ix->slot[k] - 1;
    return UINT32_MAX;
}

#endif
