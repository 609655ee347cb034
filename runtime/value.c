/* value.c — the heap (accounting, memory limit, cycle candidates), heap objects, equality and printing. */
#include "value.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtins.h"
#include "object.h"
#include "topology.h"

/* ------------------------------------------------------------------------------------------ */
/* The heap                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/* Small blocks (see "The small-block pool" below): sizes 1..POOL_MAX in classes of POOL_GRAIN. */
#define POOL_GRAIN ((size_t)16)
#define POOL_MAX ((size_t)512)
#define POOL_NCLASS (POOL_MAX / POOL_GRAIN)

typedef struct pool_block {
    struct pool_block *next;
} pool_block;

typedef struct pool_list {
    pool_block *head, *tail;         /* tail: valid while head is not NULL */
    size_t n;
} pool_list;

/* A mutator thread's free blocks of one heap (tl_pool). */
typedef struct pool_cache {
    zx_heap *heap;
    struct pool_cache *next_spare;   /* in zx_heap.pool_spare while no thread uses it */
    pool_list cls[POOL_NCLASS];
} pool_cache;

struct zx_heap {
    size_t max_bytes;                /* 0 = unlimited */
    zx_heap_alloc_fn alloc;          /* NULL: malloc, realloc, free */
    void *alloc_ud;
    _Atomic size_t bytes;
    _Atomic size_t peak;
    pthread_mutex_t lock;            /* guards the candidate registry and the mutator count */
    pthread_cond_t resume;           /* signalled when a collection ends */
    zx_obj **cands;                  /* weak references to the live cycle candidates */
    size_t ncands, capcands;
    /* The cycle collector (see "Cycle collection" below). */
    int mutators;                    /* pieces of parallel work running Zexus code on this heap */
    bool collecting;                 /* a collection runs: pieces wait before they start */
    _Atomic bool wanted;             /* a collection is due but other mutators run: each of
                                        them parks at its next safe point (zx_heap_safepoint) */
    atomic_int *poll_hint;           /* bit 2 set while wanted, so compiled code polls */
    bool stress;                     /* ZX_GC_STRESS: collect at every candidate */
    size_t next_collect;             /* collect once this many candidates are registered */
    _Atomic size_t collect_bytes;    /* ... or once the heap holds this many bytes */
    _Atomic uint64_t collections, cycles_freed;
    /* The small-block pool (below); the lists and slabs are guarded by pool_lock. */
    bool pooled;                     /* small blocks come from the pool */
    pthread_mutex_t pool_lock;
    pool_list pool[POOL_NCLASS];     /* free blocks that threads gave back */
    void *slabs;                     /* every slab, linked through its first word */
    char *carve, *carve_end;         /* the unused rest of the newest slab */
    pool_cache *pool_spare;          /* caches of threads that stopped being mutators */
};

/*
 * Every object is preceded by a hidden prefix that records its heap and size, because
 * zx_obj_free has no heap argument and must still return the bytes to the right counter
 * and the block to the right allocator.  Once an object is dying its accounting is settled,
 * and the size becomes the link of the free worklist, so freeing any structure needs neither
 * recursion nor allocation; the size of a dying object is then recomputed from its type
 * (dying_size), which only lists, maps, cells and closures need.
 */
typedef struct zx_objpre {
    zx_heap *heap;
    union {
        size_t size;                 /* live strings and builtins: the size, prefix excluded */
        struct {                     /* live lists, maps, cells and closures (their size is
                                        dying_size, from the type) */
            uint32_t slot;           /* index in the candidate registry, or NO_SLOT */
            uint32_t refs;           /* the collector's scratch count */
        } gc;
        struct zx_obj *next_dying;   /* dying */
    } u;
} zx_objpre;

#define NO_SLOT UINT32_MAX
#define COLLECT_MIN_CANDIDATES ((size_t)10000)
#define COLLECT_MIN_BYTES ((size_t)16 << 20)
static size_t collect_bytes_after(const zx_heap *h, size_t live);

static bool is_container_type(uint8_t type)
{
    return type == ZX_O_LIST || type == ZX_O_MAP || type == ZX_O_CELL || type == ZX_O_FUNC ||
           type == ZX_O_CLASS || type == ZX_O_INST;
}

#define ZX_PREFIX_SIZE sizeof(zx_objpre)

static zx_objpre *obj_prefix(zx_obj *o) { return (zx_objpre *)(void *)((char *)o - ZX_PREFIX_SIZE); }

/*
 * The small-block pool.  Programs that build and drop many small objects (tree nodes, short
 * strings, the items of short lists) spent a third of their time in malloc and free: the C
 * library's per-thread cache holds only a few blocks of each size, so freeing a tree and
 * building the next went through its slow paths.  Blocks of up to POOL_MAX bytes (an object
 * with its prefix, or out-of-line storage) now come from slabs that the heap owns, in size
 * classes of POOL_GRAIN bytes, and every mutator thread keeps its own free list per class
 * (tl_pool), so the common allocation and free is a pop or a push with no lock and no atomic
 * instruction.  A block belongs to the heap, not to the thread that carved it: a thread that
 * frees an object another thread made keeps the block in its own cache, and gives a class's
 * list back to the heap (one splice under pool_lock) when it holds more than
 * POOL_CACHE_BYTES of it or stops being a mutator (zx_heap_mutator_leave, with the byte
 * credit), so memory freed on a worker is reused by the others.  A thread whose cache is
 * empty takes POOL_BATCH blocks at once from the heap's lists, or carves them from a slab.
 * Threads that are not mutators of the heap (a background compile, the API between runs)
 * take and give single blocks under the lock.  Whether a block is pooled follows from its
 * size alone, which every free passes, so frees need no header.  The price: a free block
 * keeps its class, and slabs go back to the C library only when the heap is destroyed, so a
 * heap holds on to its peak of small blocks of each class (a program that frees a million
 * small lists and then makes a million strings has both in memory; a long-lived VM keeps its
 * peak until it is destroyed).  Not pooled, therefore: heaps with a memory limit
 * (--max-memory, zx_options.max_memory: the limit must bound what the process holds, and
 * accounting counts objects, not slack), heaps with an embedder's allocator (it sees every
 * allocation with its exact size), and builds with AddressSanitizer (whose checks of use
 * after free need each block to come from malloc).
 */
#define POOL_SLAB ((size_t)64 << 10)
#define POOL_BATCH 32
#define POOL_CACHE_BYTES ((size_t)1 << 20)
#if defined(__SANITIZE_ADDRESS__)
#define POOL_ENABLED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_ENABLED 0
#endif
#endif
#ifndef POOL_ENABLED
#define POOL_ENABLED 1
#endif

static _Thread_local pool_cache *tl_pool __attribute__((tls_model("initial-exec")));

static bool pool_fits(const zx_heap *h, size_t n) { return h->pooled && n - 1 < POOL_MAX; }
static unsigned pool_class(size_t n) { return (unsigned)((n - 1) / POOL_GRAIN); }

static void pool_push(pool_list *l, pool_block *b)
{
    b->next = l->head;
    if (!l->head) l->tail = b;
    l->head = b;
    l->n++;
}

/* Move up to `want` free blocks of class c to the empty list out (pool_lock held). */
static void pool_take(zx_heap *h, unsigned c, size_t want, pool_list *out)
{
    size_t size = (c + 1) * POOL_GRAIN;
    pool_list *s = &h->pool[c];
    for (; want > 0 && s->head; want--) {
        pool_block *b = s->head;
        s->head = b->next;
        s->n--;
        pool_push(out, b);
    }
    for (; want > 0; want--) {
        if ((size_t)(h->carve_end - h->carve) < size) {
            char *slab = malloc(POOL_SLAB);        /* the rest of the old slab is left over */
            if (!slab) return;
            *(void **)(void *)slab = h->slabs;
            h->slabs = slab;
            h->carve = slab + POOL_GRAIN;
            h->carve_end = slab + POOL_SLAB;
        }
        pool_block *b = (pool_block *)(void *)h->carve;
        h->carve += size;
        pool_push(out, b);
    }
}

/* Append the cached list l to the heap's list of its class and empty it (pool_lock held). */
static void pool_give(zx_heap *h, unsigned c, pool_list *l)
{
    if (!l->head) return;
    l->tail->next = h->pool[c].head;
    h->pool[c].head = l->head;
    h->pool[c].n += l->n;
    l->head = l->tail = NULL;
    l->n = 0;
}

static void *pool_alloc(zx_heap *h, size_t n)
{
    unsigned c = pool_class(n);
    pool_cache *pc = tl_pool;
    pool_list one = { 0 }, *l = &one;
    if (pc && pc->heap == h) {
        l = &pc->cls[c];
        if (__builtin_expect(l->head != NULL, 1)) goto pop;
    }
    pthread_mutex_lock(&h->pool_lock);
    pool_take(h, c, l == &one ? 1 : POOL_BATCH, l);
    pthread_mutex_unlock(&h->pool_lock);
    if (!l->head) return NULL;
pop:;
    pool_block *b = l->head;
    l->head = b->next;
    l->n--;
    return b;
}

static void pool_free(zx_heap *h, void *p, size_t n)
{
    unsigned c = pool_class(n);
    pool_cache *pc = tl_pool;
    if (pc && pc->heap == h) {
        pool_list *l = &pc->cls[c];
        pool_push(l, p);
        if (__builtin_expect(l->n * (c + 1) * POOL_GRAIN <= POOL_CACHE_BYTES, 1)) return;
        pthread_mutex_lock(&h->pool_lock);
        pool_give(h, c, l);
        pthread_mutex_unlock(&h->pool_lock);
        return;
    }
    pthread_mutex_lock(&h->pool_lock);
    pool_block *b = p;
    b->next = h->pool[c].head;
    h->pool[c].head = b;
    h->pool[c].n++;
    pthread_mutex_unlock(&h->pool_lock);
}

/* This thread becomes a mutator of h: give it a cache (none if out of memory: then it
 * takes blocks under the lock). */
static void pool_open(zx_heap *h)
{
    tl_pool = NULL;
    if (!h->pooled) return;
    pthread_mutex_lock(&h->pool_lock);
    pool_cache *pc = h->pool_spare;
    if (pc) h->pool_spare = pc->next_spare;
    pthread_mutex_unlock(&h->pool_lock);
    if (!pc) pc = calloc(1, sizeof *pc);    /* bookkeeping: freed with the heap */
    if (pc) pc->heap = h;
    tl_pool = pc;
}

/* This thread stops being a mutator: its free blocks go back to the heap for the others. */
static void pool_close(void)
{
    pool_cache *pc = tl_pool;
    if (!pc) return;
    tl_pool = NULL;
    zx_heap *h = pc->heap;
    pthread_mutex_lock(&h->pool_lock);
    for (unsigned c = 0; c < POOL_NCLASS; c++) pool_give(h, c, &pc->cls[c]);
    pc->next_spare = h->pool_spare;
    h->pool_spare = pc;
    pthread_mutex_unlock(&h->pool_lock);
}

static void pool_destroy(zx_heap *h)
{
    while (h->pool_spare) {
        pool_cache *pc = h->pool_spare;
        h->pool_spare = pc->next_spare;
        free(pc);
    }
    while (h->slabs) {
        void *slab = h->slabs;
        h->slabs = *(void **)slab;
        free(slab);
    }
}

/* The heap's allocator, for blocks of Zexus-heap memory (h may be NULL: the C library's). */
static void *heap_malloc(zx_heap *h, size_t n)
{
    if (!h) return malloc(n);
    if (pool_fits(h, n)) return pool_alloc(h, n);
    if (!h->alloc) return malloc(n);
    return h->alloc(h->alloc_ud, NULL, 0, n);
}

static void heap_free(zx_heap *h, void *p, size_t n)
{
    if (!p) return;
    if (!h) free(p);
    else if (pool_fits(h, n)) pool_free(h, p, n);
    else if (!h->alloc) free(p);
    else (void)h->alloc(h->alloc_ud, p, n, 0);
}

static void *heap_realloc(zx_heap *h, void *p, size_t old_n, size_t n)
{
    if (!p) old_n = 0;
    if (h && ((p && pool_fits(h, old_n)) || pool_fits(h, n))) {
        /* into, out of or within the pool: a class holds every size it rounds up to */
        if (p && pool_fits(h, old_n) && pool_fits(h, n) && pool_class(old_n) == pool_class(n)) return p;
        void *q = heap_malloc(h, n);
        if (!q) return NULL;
        if (p) memcpy(q, p, old_n < n ? old_n : n);
        heap_free(h, p, old_n);
        return q;
    }
    if (!h || !h->alloc) return realloc(p, n);
    return h->alloc(h->alloc_ud, p, old_n, n);
}

static void update_peak(zx_heap *h, size_t now)
{
    size_t p = atomic_load_explicit(&h->peak, memory_order_relaxed);
    while (now > p &&
           !atomic_compare_exchange_weak_explicit(&h->peak, &p, now, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
}

zx_heap *zx_heap_create(size_t max_bytes) { return zx_heap_create_with(max_bytes, NULL, NULL); }

zx_heap *zx_heap_create_with(size_t max_bytes, zx_heap_alloc_fn alloc, void *ud)
{
    zx_heap *h = calloc(1, sizeof *h);   /* bookkeeping: not from the heap's allocator */
    if (!h) return NULL;
    h->max_bytes = max_bytes;
    h->alloc = alloc;
    h->alloc_ud = alloc ? ud : NULL;
    atomic_init(&h->bytes, 0);
    atomic_init(&h->peak, 0);
    if (pthread_mutex_init(&h->lock, NULL) != 0) {
        free(h);
        return NULL;
    }
    if (pthread_cond_init(&h->resume, NULL) != 0) {
        pthread_mutex_destroy(&h->lock);
        free(h);
        return NULL;
    }
    if (pthread_mutex_init(&h->pool_lock, NULL) != 0) {
        pthread_cond_destroy(&h->resume);
        pthread_mutex_destroy(&h->lock);
        free(h);
        return NULL;
    }
    h->pooled = POOL_ENABLED && !alloc && !max_bytes;
    const char *stress = getenv("ZX_GC_STRESS");
    h->stress = stress && *stress && strcmp(stress, "0") != 0;
    h->next_collect = COLLECT_MIN_CANDIDATES;
    atomic_init(&h->collect_bytes, collect_bytes_after(h, 0));
    atomic_init(&h->collections, 0);
    atomic_init(&h->cycles_freed, 0);
    return h;
}

/* ------------------------------------------------------------------------------------------ */
/* Reference counting modes                                                                   */
/* ------------------------------------------------------------------------------------------ */

/*
 * An atomic read-modify-write (a lock-prefixed instruction on x86) costs some twenty cycles
 * even when no other core holds the line; a program on one thread paid that on every copy of
 * a reference.  So counts change with plain instructions while zx_rc_concurrent is 0, and
 * atomically while it is not.  It is raised by whoever lets a second thread reach objects and
 * lowered once that thread can no longer reach them: the scheduler around every piece of
 * parallel work (a DAG of chunks, parallel_map, fork blocks: src/exec/parallel.c), a run or
 * call of a program with `shared` globals (a monitoring thread may read them,
 * zx_program_snapshot), and each API call that touches values (src/vm/).  Raising it happens
 * before the other thread starts (the spawn or the lock that the other thread takes after),
 * lowering after it has finished (the join), so two threads never change one count at the
 * same time unless both see the atomic mode.  It is one counter for the process: a VM that
 * goes parallel makes the others count atomically meanwhile, which costs only time.  Compiled
 * code reads it through zx_run.rc_concurrent once per native entry: it can change only inside
 * a call that native code makes, and every such change is undone before the call returns.
 */
atomic_int zx_rc_concurrent;

void zx_rc_concurrent_begin(void) { atomic_fetch_add_explicit(&zx_rc_concurrent, 1, memory_order_seq_cst); }
void zx_rc_concurrent_end(void) { atomic_fetch_sub_explicit(&zx_rc_concurrent, 1, memory_order_seq_cst); }

/* ------------------------------------------------------------------------------------------ */
/* Cycle collection                                                                           */
/* ------------------------------------------------------------------------------------------ */

/*
 * Reference counting frees everything but cycles.  A cycle can only be closed by storing a
 * list, map, cell or closure into a list, map or cell, so each such store registers the
 * destination as a candidate (zx_heap_note_cycle_candidate).  Stores into a container that
 * nothing but its maker references yet (a list or map literal being built, the result of
 * map or parallel_map being filled: zx_list_push_fresh) do not register: the edge of a cycle
 * that was stored last points from a container that the stored value already reached, so
 * that container was not fresh then, and its store registered it.  That keeps a binary tree
 * of literals [left, right] out of the registry and its lock.  The registry holds weak
 * references: a candidate that reference counting frees leaves it (its slot is kept in its
 * prefix), so dead acyclic structures go at once.  From time to time the collector runs a
 * synchronous trial deletion (Bacon and Rajan's mark-gray / scan / collect-white, in
 * CPython's form): it takes every container reachable from the candidates, subtracts the
 * references they hold to each other from their counts (in a scratch count, never touching
 * rc), keeps whatever still has a reference from outside the set (an operand stack, a frame,
 * a register of compiled code, a global, a C local: all of them counted) and everything
 * reachable from it, and frees the rest, which only the set itself references.
 *
 * Counts read during the collection are exact only when no other thread can change them, so
 * it runs only when the calling thread is the heap's only mutator: the run's thread counts
 * itself one (zx_heap_mutator_enter), a piece of parallel work counts itself while it runs,
 * and a task that waits for its pieces steps out while it waits.  A piece that starts
 * while a collection runs waits for its end.  Other threads (a background compile) never
 * collect.  Triggers: the registry has grown to twice what survived the last collection
 * (at least COLLECT_MIN_CANDIDATES), the heap has grown by as much as it held after the
 * last collection (at least COLLECT_MIN_BYTES, and before the memory limit), and an
 * allocation that would exceed the limit (it collects, then tries again).
 */
static _Thread_local int tl_mutator;     /* this thread's open zx_heap_mutator_enter calls */
static void credit_open(zx_heap *h);     /* per-thread credit of bytes (zx_heap_account) */
static void credit_close(void);

static size_t collect_bytes_after(const zx_heap *h, size_t live)
{
    size_t grow = live > COLLECT_MIN_BYTES ? live : COLLECT_MIN_BYTES;
    if (h->max_bytes) {
        size_t room = h->max_bytes > live ? h->max_bytes - live : 0;
        size_t half = room / 2;
        size_t floor = (size_t)64 << 10;
        if (grow > half) grow = half > floor ? half : floor;
    }
    return live > SIZE_MAX - grow ? SIZE_MAX : live + grow;
}

void zx_heap_mutator_enter(zx_heap *h)
{
    if (!h) return;
    pthread_mutex_lock(&h->lock);
    while (h->collecting) pthread_cond_wait(&h->resume, &h->lock);
    h->mutators++;
    pthread_mutex_unlock(&h->lock);
    tl_mutator++;
    if (tl_mutator == 1) credit_open(h);
}

void zx_heap_mutator_leave(zx_heap *h)
{
    if (!h) return;
    if (tl_mutator == 1) credit_close();
    tl_mutator--;
    pthread_mutex_lock(&h->lock);
    h->mutators--;
    /* parked mutators wait for the last one: that may be this one */
    if (h->mutators == 0 && atomic_load_explicit(&h->wanted, memory_order_relaxed))
        pthread_cond_broadcast(&h->resume);
    pthread_mutex_unlock(&h->lock);
}

void zx_heap_set_poll_hint(zx_heap *h, atomic_int *hint)
{
    if (!h) return;
    pthread_mutex_lock(&h->lock);
    h->poll_hint = hint;
    pthread_mutex_unlock(&h->lock);
}

int zx_heap_mutator_suspend(zx_heap *h)
{
    if (!h || tl_mutator <= 0) return 0;
    zx_heap_mutator_leave(h);
    return 1;
}

void zx_heap_mutator_resume(zx_heap *h, int token)
{
    if (token) zx_heap_mutator_enter(h);
}

/* Claim the heap for a collection: true when this thread is its only mutator. */
static bool collect_begin(zx_heap *h)
{
    if (tl_mutator != 1) return false;
    pthread_mutex_lock(&h->lock);
    bool ok = !h->collecting && h->mutators == 1;
    if (ok) h->collecting = true;
    pthread_mutex_unlock(&h->lock);
    return ok;
}

static void collect_end(zx_heap *h)
{
    pthread_mutex_lock(&h->lock);
    h->collecting = false;
    if (atomic_load_explicit(&h->wanted, memory_order_relaxed)) {
        atomic_store_explicit(&h->wanted, false, memory_order_relaxed);
        if (h->poll_hint) atomic_fetch_and_explicit(h->poll_hint, ~ZX_POLL_COLLECT, memory_order_relaxed);
    }
    size_t n = h->ncands * 2;
    h->next_collect = n > COLLECT_MIN_CANDIDATES ? n : COLLECT_MIN_CANDIDATES;
    pthread_cond_broadcast(&h->resume);
    pthread_mutex_unlock(&h->lock);
    atomic_store_explicit(&h->collect_bytes, collect_bytes_after(h, zx_heap_bytes(h)), memory_order_relaxed);
}

enum { GC_IN = 8, GC_ALIVE = 16 };          /* zx_obj.flags bits, used only while collecting */

typedef struct objvec {
    zx_obj **v;
    size_t n, cap;
    bool failed;
} objvec;

static void objvec_push(objvec *s, zx_obj *o)
{
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 256;
        zx_obj **nv = realloc(s->v, ncap * sizeof *nv);
        if (!nv) {
            s->failed = true;
            return;
        }
        s->v = nv;
        s->cap = ncap;
    }
    s->v[s->n++] = o;
}

static uint8_t gc_flags(const zx_obj *o) { return atomic_load_explicit(&((zx_obj *)o)->flags, memory_order_relaxed); }
static void gc_set(zx_obj *o, uint8_t bit) { atomic_fetch_or_explicit(&o->flags, bit, memory_order_relaxed); }

/* Call fn on every list, map, cell or closure that o references directly. */
#define FOR_CHILD(OBJ, CHILD, BODY)                                                                 \
    do {                                                                                       \
        zx_obj *o_ = (OBJ);                                                                      \
        switch ((zx_objtype)o_->type) {                                                        \
        case ZX_O_LIST: {                                                                      \
            zx_list *l_ = (zx_list *)o_;     /* an unboxed kind holds no references */          \
            if (l_->kind == ZX_LIST_GENERIC)                                                   \
            for (uint32_t i_ = 0; i_ < l_->len; i_++)                                          \
                if (l_->items[i_].tag == ZX_T_OBJ && is_container_type(l_->items[i_].u.o->type)) { \
                    zx_obj *CHILD = l_->items[i_].u.o;                                             \
                    BODY;                                                                      \
                }                                                                              \
            break;                                                                             \
        }                                                                                      \
        case ZX_O_MAP: {                                                                       \
            zx_map *m_ = (zx_map *)o_;                                                         \
            for (uint32_t i_ = 0; i_ < m_->len; i_++)                                          \
                if (m_->entries[i_].value.tag == ZX_T_OBJ &&                                   \
                    is_container_type(m_->entries[i_].value.u.o->type)) {                      \
                    zx_obj *CHILD = m_->entries[i_].value.u.o;                                     \
                    BODY;                                                                      \
                }                                                                              \
            break;                                                                             \
        }                                                                                      \
        case ZX_O_CELL: {                                                                      \
            zx_value v_ = ((zx_cell *)o_)->v;                                                  \
            if (v_.tag == ZX_T_OBJ && is_container_type(v_.u.o->type)) {                       \
                zx_obj *CHILD = v_.u.o;                                                            \
                BODY;                                                                          \
            }                                                                                  \
            break;                                                                             \
        }                                                                                      \
        case ZX_O_FUNC: {                                                                      \
            zx_func *f_ = (zx_func *)o_;                                                       \
            for (uint32_t i_ = 0; i_ < f_->nfree; i_++)                                        \
                if (f_->free[i_]) {                                                            \
                    zx_obj *CHILD = &f_->free[i_]->hdr;                                            \
                    BODY;                                                                      \
                }                                                                              \
            break;                                                                             \
        }                                                                                      \
        case ZX_O_CLASS: {                                                                     \
            zx_class *c_ = (zx_class *)o_;                                                     \
            for (uint32_t i_ = 0; i_ < ZX_CLS_NPARTS; i_++)                                    \
                if (c_->part[i_].tag == ZX_T_OBJ && is_container_type(c_->part[i_].u.o->type)) { \
                    zx_obj *CHILD = c_->part[i_].u.o;                                          \
                    BODY;                                                                      \
                }                                                                              \
            break;                                                                             \
        }                                                                                      \
        case ZX_O_INST: {                                                                      \
            zx_inst *n_ = (zx_inst *)o_;                                                       \
            if (n_->cls) {                                                                     \
                zx_obj *CHILD = &n_->cls->hdr;                                                 \
                BODY;                                                                          \
            }                                                                                  \
            for (uint32_t i_ = 0; i_ < n_->nslots; i_++)                                       \
                if (n_->slot[i_].tag == ZX_T_OBJ && is_container_type(n_->slot[i_].u.o->type)) { \
                    zx_obj *CHILD = n_->slot[i_].u.o;                                          \
                    BODY;                                                                      \
                }                                                                              \
            break;                                                                             \
        }                                                                                      \
        case ZX_O_STRING: case ZX_O_BUILTIN: break;                                            \
        }                                                                                      \
    } while (0)

static void drop_outgoing(zx_obj *o);

/* Hold each object, empty it, then let go: the emptied objects free one another. */
static void release_objects(zx_obj **objs, size_t n)
{
    for (size_t i = 0; i < n; i++) zx_obj_incref(objs[i]);
    for (size_t i = 0; i < n; i++) drop_outgoing(objs[i]);
    for (size_t i = 0; i < n; i++) zx_obj_decref(objs[i]);
}

/* Trial deletion over everything reachable from the candidates (collect_begin succeeded). */
static void collect(zx_heap *h)
{
    objvec set = { 0 }, work = { 0 }, garbage = { 0 };
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < h->ncands && !set.failed; i++) objvec_push(&set, h->cands[i]);
    pthread_mutex_unlock(&h->lock);
    for (size_t i = 0; i < set.n; i++) {
        gc_set(set.v[i], GC_IN);
        obj_prefix(set.v[i])->u.gc.refs = set.v[i]->rc;
    }
    /* the set: everything reachable from a candidate (set.v grows as it is scanned) */
    for (size_t i = 0; i < set.n && !set.failed; i++)
        FOR_CHILD(set.v[i], c, {
            if (!(gc_flags(c) & GC_IN)) {
                gc_set(c, GC_IN);
                obj_prefix(c)->u.gc.refs = c->rc;
                objvec_push(&set, c);
            }
        });
    if (!set.failed) {
        /* take out the references the set holds to itself */
        for (size_t i = 0; i < set.n; i++)
            FOR_CHILD(set.v[i], c, {
                if (gc_flags(c) & GC_IN) obj_prefix(c)->u.gc.refs--;
            });
        /* what is still referenced from outside lives, and all it reaches */
        for (size_t i = 0; i < set.n && !work.failed; i++)
            if (obj_prefix(set.v[i])->u.gc.refs > 0) {
                gc_set(set.v[i], GC_ALIVE);
                objvec_push(&work, set.v[i]);
            }
        while (work.n > 0 && !work.failed) {
            zx_obj *o = work.v[--work.n];
            FOR_CHILD(o, c, {
                if ((gc_flags(c) & (GC_IN | GC_ALIVE)) == GC_IN) {
                    gc_set(c, GC_ALIVE);
                    objvec_push(&work, c);
                }
            });
        }
        if (!work.failed)
            for (size_t i = 0; i < set.n && !garbage.failed; i++)
                if (!(gc_flags(set.v[i]) & GC_ALIVE)) objvec_push(&garbage, set.v[i]);
    }
    for (size_t i = 0; i < set.n; i++)
        atomic_fetch_and_explicit(&set.v[i]->flags, (uint8_t)~(GC_IN | GC_ALIVE), memory_order_relaxed);
    if (!set.failed && !work.failed && !garbage.failed) {
        release_objects(garbage.v, garbage.n);
        atomic_fetch_add_explicit(&h->cycles_freed, garbage.n, memory_order_relaxed);
    }
    atomic_fetch_add_explicit(&h->collections, 1, memory_order_relaxed);
    free(set.v);
    free(work.v);
    free(garbage.v);
}

bool zx_heap_collect(zx_heap *h)
{
    if (!h || !collect_begin(h)) return false;
    collect(h);
    collect_end(h);
    return true;
}

/* Ask every other mutator to park at its next safe point; the last to park collects. */
static void collect_request(zx_heap *h)
{
    if (atomic_load_explicit(&h->wanted, memory_order_relaxed)) return;
    pthread_mutex_lock(&h->lock);
    if (!h->collecting && !atomic_load_explicit(&h->wanted, memory_order_relaxed)) {
        atomic_store_explicit(&h->wanted, true, memory_order_relaxed);
        if (h->poll_hint) atomic_fetch_or_explicit(h->poll_hint, ZX_POLL_COLLECT, memory_order_relaxed);
    }
    pthread_mutex_unlock(&h->lock);
}

void zx_heap_safepoint(zx_heap *h)
{
    if (!h || tl_mutator != 1 || !atomic_load_explicit(&h->wanted, memory_order_relaxed)) return;
    pthread_mutex_lock(&h->lock);
    if (!atomic_load_explicit(&h->wanted, memory_order_relaxed)) {
        pthread_mutex_unlock(&h->lock);
        return;
    }
    h->mutators--;
    for (;;) {
        bool wanted = atomic_load_explicit(&h->wanted, memory_order_relaxed);
        if (!wanted && !h->collecting) break;
        if (wanted && !h->collecting && h->mutators == 0) {
            /* every other mutator is parked or waiting for its pieces: collect here */
            h->collecting = true;
            h->mutators++;
            pthread_mutex_unlock(&h->lock);
            collect(h);
            collect_end(h);
            pthread_mutex_lock(&h->lock);
            h->mutators--;
            continue;
        }
        pthread_cond_wait(&h->resume, &h->lock);
    }
    h->mutators++;
    pthread_mutex_unlock(&h->lock);
}

/* Collect now: at once if this thread is the only mutator, else by parking every mutator
 * at a safe point, this one included (called where this thread may park). */
static bool collect_now(zx_heap *h)
{
    if (zx_heap_collect(h)) return true;
    if (tl_mutator != 1) return false;
    collect_request(h);
    uint64_t before = atomic_load_explicit(&h->collections, memory_order_relaxed);
    zx_heap_safepoint(h);
    return atomic_load_explicit(&h->collections, memory_order_relaxed) != before;
}

uint64_t zx_heap_collections(const zx_heap *h)
{
    return h ? atomic_load_explicit(&((zx_heap *)h)->collections, memory_order_relaxed) : 0;
}

uint64_t zx_heap_cycles_freed(const zx_heap *h)
{
    return h ? atomic_load_explicit(&((zx_heap *)h)->cycles_freed, memory_order_relaxed) : 0;
}

/* The byte trigger: collect if this thread may, else look again a little later. */
static void collect_for_bytes(zx_heap *h, size_t now)
{
    if (zx_heap_collect(h)) return;
    size_t next = now + ((size_t)1 << 20);
    atomic_store_explicit(&h->collect_bytes, next, memory_order_relaxed);
    collect_request(h);          /* the others park at their next back-edge or call */
}

/*
 * Per-thread credit.  Every allocation and free used to be an atomic add on the heap's byte
 * counter, one cache line that all workers wrote.  A mutator thread now reserves bytes in
 * chunks of CREDIT_CHUNK: the heap's counter includes what each mutator has reserved and not
 * used yet (at most 2 * CREDIT_CHUNK per thread), its allocations and frees draw on and refill
 * that credit without touching the heap, and the rest goes back when the thread stops being a
 * mutator (zx_heap_mutator_leave: the end of a run, of a piece of parallel work, or a wait).
 * The limit stays a bound on live bytes: a chunk is reserved only while it fits under it;
 * near the limit the credit is given back and the allocation is accounted exactly, as before,
 * so a program fails only when its live data (plus at most 128 KiB per other running worker)
 * does not fit.
 */
#define CREDIT_CHUNK ((size_t)64 << 10)
static _Thread_local zx_heap *tl_credit_heap __attribute__((tls_model("initial-exec")));
static _Thread_local size_t tl_credit __attribute__((tls_model("initial-exec")));
static bool account_exact(zx_heap *h, ptrdiff_t delta);

static void credit_open(zx_heap *h)
{
    tl_credit_heap = h;
    tl_credit = 0;
    pool_open(h);
}

/* Give this thread's unused credit, and its cached free blocks, back to its heap. */
static void credit_close(void)
{
    if (tl_credit_heap && tl_credit)
        atomic_fetch_sub_explicit(&tl_credit_heap->bytes, tl_credit, memory_order_relaxed);
    tl_credit_heap = NULL;
    tl_credit = 0;
    pool_close();
}

static bool credit_account(zx_heap *h, ptrdiff_t delta)
{
    if (delta < 0) {
        tl_credit += (size_t)-delta;
        if (tl_credit > 2 * CREDIT_CHUNK) {
            size_t give = tl_credit - CREDIT_CHUNK;
            tl_credit = CREDIT_CHUNK;
            atomic_fetch_sub_explicit(&h->bytes, give, memory_order_relaxed);
        }
        return true;
    }
    size_t need = (size_t)delta;
    if (need <= tl_credit) {
        tl_credit -= need;
        return true;
    }
    /* reserve what is missing and a chunk more, if that fits under the limit */
    size_t want = need - tl_credit + CREDIT_CHUNK;
    size_t now = atomic_fetch_add_explicit(&h->bytes, want, memory_order_relaxed) + want;
    if (!h->max_bytes || now <= h->max_bytes) {
        tl_credit = tl_credit + want - need;
        update_peak(h, now);
        if (now >= atomic_load_explicit(&h->collect_bytes, memory_order_relaxed) && tl_mutator == 1)
            collect_for_bytes(h, now);
        return true;
    }
    /* near the limit: give everything back and account this one exactly */
    atomic_fetch_sub_explicit(&h->bytes, want + tl_credit, memory_order_relaxed);
    tl_credit = 0;
    return account_exact(h, delta);
}

bool zx_heap_account(zx_heap *h, ptrdiff_t delta)
{
    if (!h || delta == 0) return true;
    if (h == tl_credit_heap) return credit_account(h, delta);
    return account_exact(h, delta);
}

static bool account_exact(zx_heap *h, ptrdiff_t delta)
{
    if (delta < 0) {
        atomic_fetch_sub_explicit(&h->bytes, (size_t)-delta, memory_order_relaxed);
        return true;
    }
    size_t now = atomic_fetch_add_explicit(&h->bytes, (size_t)delta, memory_order_relaxed) + (size_t)delta;
    if (h->max_bytes && now > h->max_bytes) {
        atomic_fetch_sub_explicit(&h->bytes, (size_t)delta, memory_order_relaxed);
        /* garbage cycles may hold the room: collect once, then try again */
        if (!collect_now(h)) return false;
        now = atomic_fetch_add_explicit(&h->bytes, (size_t)delta, memory_order_relaxed) + (size_t)delta;
        if (now > h->max_bytes) {
            atomic_fetch_sub_explicit(&h->bytes, (size_t)delta, memory_order_relaxed);
            return false;
        }
    } else if (now >= atomic_load_explicit(&h->collect_bytes, memory_order_relaxed) && tl_mutator == 1) {
        collect_for_bytes(h, now);
    }
    update_peak(h, now);
    return true;
}

size_t zx_heap_bytes(const zx_heap *h)
{
    if (!h) return 0;
    size_t n = atomic_load_explicit((_Atomic size_t *)&h->bytes, memory_order_relaxed);
    /* this thread's unused credit is not in use; other running workers' may be (< 128 KiB each) */
    return h == tl_credit_heap && n >= tl_credit ? n - tl_credit : n;
}

size_t zx_heap_peak(const zx_heap *h)
{
    return h ? atomic_load_explicit((_Atomic size_t *)&h->peak, memory_order_relaxed) : 0;
}

void *zx_heap_alloc_obj(zx_heap *h, zx_objtype type, size_t size)
{
    if (size < sizeof(zx_obj) || size > SIZE_MAX / 2) return NULL;
    if (!zx_heap_account(h, (ptrdiff_t)size)) return NULL;
    zx_objpre *pre = heap_malloc(h, ZX_PREFIX_SIZE + size);
    if (!pre) {
        zx_heap_account(h, -(ptrdiff_t)size);
        return NULL;
    }
    pre->heap = h;
    if (is_container_type((uint8_t)type)) {
        pre->u.gc.slot = NO_SLOT;
        pre->u.gc.refs = 0;
    } else {
        pre->u.size = size;
    }
    zx_obj *o = (zx_obj *)(void *)((char *)pre + ZX_PREFIX_SIZE);
    o->rc = 1;
    o->type = (uint8_t)type;
    atomic_init(&o->flags, 0);
    o->node = 0;
    return o;
}

/* The heap an object was allocated from: its out-of-line storage is accounted there too. */
static zx_heap *obj_heap(const void *o) { return obj_prefix((zx_obj *)o)->heap; }

static bool may_hold_refs(zx_value v)
{
    return v.tag == ZX_T_OBJ && is_container_type(v.u.o->type);
}

void zx_heap_note_cycle_candidate(zx_heap *h, zx_obj *o)
{
    (void)h;   /* an object registers with the heap it was allocated from, which it leaves */
    if (!o || !is_container_type(o->type)) return;
    zx_heap *oh = obj_heap(o);
    if (!oh) return;
    if (atomic_load_explicit(&o->flags, memory_order_relaxed) & ZX_OF_CYCLE_CANDIDATE) {
        if (oh->stress) zx_heap_collect(oh);
        return;
    }
    bool stored = false, due = false;
    pthread_mutex_lock(&oh->lock);
    if (oh->ncands == oh->capcands) {
        size_t ncap = oh->capcands ? oh->capcands * 2 : 64;
        zx_obj **nc = ncap <= NO_SLOT ? realloc(oh->cands, ncap * sizeof *nc) : NULL;
        if (nc) {
            oh->cands = nc;
            oh->capcands = ncap;
        }
    }
    if (oh->ncands < oh->capcands) {
        atomic_fetch_or_explicit(&o->flags, ZX_OF_CYCLE_CANDIDATE, memory_order_relaxed);
        obj_prefix(o)->u.gc.slot = (uint32_t)oh->ncands;
        oh->cands[oh->ncands++] = o;
        stored = true;
        due = oh->ncands >= oh->next_collect;
    }
    pthread_mutex_unlock(&oh->lock);
    /* out of memory for the registry: not a candidate, so a later store tries again */
    if (stored && (due || oh->stress) && !zx_heap_collect(oh) && tl_mutator == 1) collect_request(oh);
}

/* o (a candidate that is dying) leaves its heap's registry. */
static void registry_remove(zx_heap *h, zx_obj *o)
{
    pthread_mutex_lock(&h->lock);
    uint32_t slot = obj_prefix(o)->u.gc.slot;
    if (slot != NO_SLOT && slot < h->ncands && h->cands[slot] == o) {
        zx_obj *last = h->cands[--h->ncands];
        h->cands[slot] = last;
        obj_prefix(last)->u.gc.slot = slot;
    }
    obj_prefix(o)->u.gc.slot = NO_SLOT;
    pthread_mutex_unlock(&h->lock);
}

/* Drop every reference an object holds, leaving it a valid empty object. */
static void drop_outgoing(zx_obj *o)
{
    switch ((zx_objtype)o->type) {
    case ZX_O_LIST: {
        zx_list *l = (zx_list *)o;
        if (l->kind != ZX_LIST_GENERIC) l->len = 0;
        while (l->len > 0) {
            zx_value v = l->items[--l->len];
            zx_decref(v);
        }
        break;
    }
    case ZX_O_MAP: {
        zx_map *m = (zx_map *)o;
        while (m->len > 0) {
            zx_map_entry e = m->entries[--m->len];
            zx_decref(e.key);
            zx_decref(e.value);
        }
        if (m->index)
            for (uint32_t i = 0; i < m->index_cap; i++) m->index[i] = -1;
        break;
    }
    case ZX_O_CELL: {
        zx_cell *c = (zx_cell *)o;
        zx_value v = c->v;
        c->v = zx_null();
        zx_decref(v);
        break;
    }
    case ZX_O_FUNC: {
        zx_func *f = (zx_func *)o;
        for (uint32_t i = 0; i < f->nfree; i++) {
            zx_cell *c = f->free[i];
            f->free[i] = NULL;
            if (c) zx_obj_decref(c);
        }
        break;
    }
    case ZX_O_CLASS: {
        zx_class *c = (zx_class *)o;
        for (int i = 0; i < ZX_CLS_NPARTS; i++) {
            zx_value v = c->part[i];
            c->part[i] = zx_null();
            zx_decref(v);
        }
        break;
    }
    case ZX_O_INST: {
        zx_inst *n = (zx_inst *)o;
        for (uint32_t i = 0; i < n->nslots; i++) {
            zx_value v = n->slot[i];
            n->slot[i] = zx_null();
            zx_decref(v);
        }
        break;             /* the class stays until the instance goes */
    }
    case ZX_O_STRING: case ZX_O_BUILTIN: break;
    }
}

void zx_heap_destroy(zx_heap *h)
{
    if (!h) return;
    if (tl_pool && tl_pool->heap == h) pool_close();   /* destroyed by a mutator of its own */
    /* Every cycle passes through a candidate (a cycle needs a store into an existing
     * container or cell, and that store registered it), so emptying them all frees them.
     * Nothing runs any more: whatever is still registered is garbage. */
    pthread_mutex_lock(&h->lock);
    zx_obj **objs = h->cands;
    size_t n = h->ncands;
    h->cands = NULL;
    h->ncands = h->capcands = 0;
    for (size_t i = 0; i < n; i++) obj_prefix(objs[i])->u.gc.slot = NO_SLOT;
    pthread_mutex_unlock(&h->lock);
    release_objects(objs, n);
    free(objs);
    pool_destroy(h);
    pthread_mutex_destroy(&h->pool_lock);
    pthread_cond_destroy(&h->resume);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

/* ------------------------------------------------------------------------------------------ */
/* Freeing                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static size_t outofline_bytes(const zx_obj *o)
{
    switch ((zx_objtype)o->type) {
    case ZX_O_LIST: return (size_t)((const zx_list *)o)->cap * zx_list_item_size(((const zx_list *)o)->kind);
    case ZX_O_MAP: {
        const zx_map *m = (const zx_map *)o;
        return (size_t)m->cap * sizeof(zx_map_entry) + (size_t)m->index_cap * sizeof(int32_t);
    }
    case ZX_O_STRING: case ZX_O_FUNC: case ZX_O_BUILTIN: case ZX_O_CELL: case ZX_O_CLASS: case ZX_O_INST:
        return 0;
    }
    return 0;
}

/* The size of a list, map, cell or closure, as its constructor allocated it (the prefix's
 * record of it is the worklist link once it is dying). */
static size_t dying_size(const zx_obj *o)
{
    switch ((zx_objtype)o->type) {
    case ZX_O_LIST: return sizeof(zx_list);
    case ZX_O_MAP: return sizeof(zx_map);
    case ZX_O_CELL: return sizeof(zx_cell);
    case ZX_O_FUNC: return sizeof(zx_func) + (size_t)((const zx_func *)o)->nfree * sizeof(zx_cell *);
    case ZX_O_CLASS: return sizeof(zx_class);
    case ZX_O_INST: return zx_inst_size(((const zx_inst *)o)->nslots);
    case ZX_O_STRING: case ZX_O_BUILTIN: break;
    }
    return 0;
}

/* An object whose count reached zero: settle its accounting, then free it at once if it
 * holds no references, else push it on the worklist threaded through the prefixes. */
static void retire(zx_obj *o, zx_obj **dying)
{
    zx_objpre *pre = obj_prefix(o);
    bool container = is_container_type(o->type);
    if (container && pre->heap &&
        (atomic_load_explicit(&o->flags, memory_order_relaxed) & ZX_OF_CYCLE_CANDIDATE))
        registry_remove(pre->heap, o);
    zx_heap_account(pre->heap, -(ptrdiff_t)((container ? dying_size(o) : pre->u.size) + outofline_bytes(o)));
    switch ((zx_objtype)o->type) {
    case ZX_O_STRING: case ZX_O_BUILTIN:
        heap_free(pre->heap, pre, ZX_PREFIX_SIZE + pre->u.size);
        return;
    case ZX_O_LIST: case ZX_O_MAP: case ZX_O_CELL: case ZX_O_FUNC: case ZX_O_CLASS: case ZX_O_INST:
        pre->u.next_dying = *dying;
        *dying = o;
        return;
    }
    heap_free(pre->heap, pre, ZX_PREFIX_SIZE + pre->u.size);
}

static void release_into(zx_value v, zx_obj **dying)
{
    if (v.tag == ZX_T_OBJ && zx_obj_release(v.u.o)) retire(v.u.o, dying);
}

static void store_release(zx_obj *o, uint8_t flag, void *p, size_t bytes);

void zx_obj_free(zx_obj *o)
{
    zx_obj *dying = NULL;
    retire(o, &dying);
    while (dying) {
        zx_obj *d = dying;
        dying = obj_prefix(d)->u.next_dying;
        switch ((zx_objtype)d->type) {
        case ZX_O_LIST: {
            zx_list *l = (zx_list *)d;
            if (l->kind == ZX_LIST_GENERIC)
                for (uint32_t i = 0; i < l->len; i++) release_into(l->items[i], &dying);
            store_release(d, ZX_OF_NUMA_STORE, l->items, (size_t)l->cap * zx_list_item_size(l->kind));
            break;
        }
        case ZX_O_MAP: {
            zx_map *m = (zx_map *)d;
            for (uint32_t i = 0; i < m->len; i++) {
                release_into(m->entries[i].key, &dying);
                release_into(m->entries[i].value, &dying);
            }
            store_release(d, ZX_OF_NUMA_STORE, m->entries, (size_t)m->cap * sizeof(zx_map_entry));
            store_release(d, ZX_OF_NUMA_INDEX, m->index, (size_t)m->index_cap * sizeof(int32_t));
            break;
        }
        case ZX_O_CELL:
            release_into(((zx_cell *)d)->v, &dying);
            break;
        case ZX_O_FUNC: {
            zx_func *f = (zx_func *)d;
            for (uint32_t i = 0; i < f->nfree; i++)
                if (f->free[i]) release_into(zx_objval(f->free[i]), &dying);
            break;
        }
        case ZX_O_CLASS:
            for (int i = 0; i < ZX_CLS_NPARTS; i++) release_into(((zx_class *)d)->part[i], &dying);
            break;
        case ZX_O_INST: {
            zx_inst *n = (zx_inst *)d;
            for (uint32_t i = 0; i < n->nslots; i++) release_into(n->slot[i], &dying);
            if (n->cls) release_into(zx_objval(n->cls), &dying);
            break;
        }
        case ZX_O_STRING: case ZX_O_BUILTIN: break;
        }
        zx_objpre *pre = obj_prefix(d);
        heap_free(pre->heap, pre, ZX_PREFIX_SIZE + dying_size(d));
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Strings                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static uint32_t count_codepoints(const char *s, size_t n)
{
    uint32_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* A string of n bytes whose contents the caller fills in. */
static zx_string *string_alloc(zx_heap *h, size_t n)
{
    if (n >= UINT32_MAX) return NULL;
    zx_string *s = zx_heap_alloc_obj(h, ZX_O_STRING, offsetof(zx_string, data) + n + 1);
    if (!s) return NULL;
    s->nbytes = (uint32_t)n;
    s->ncodepoints = 0;
    atomic_init(&s->method, (int8_t)-2);
    s->hash = 0;
    s->data[n] = '\0';
    return s;
}

zx_string *zx_string_new(zx_heap *h, const char *bytes, size_t n)
{
    zx_string *s = string_alloc(h, n);
    if (!s) return NULL;
    if (n) memcpy(s->data, bytes, n);
    s->ncodepoints = count_codepoints(s->data, n);
    return s;
}

zx_string *zx_string_concat(zx_heap *h, const zx_string *a, const zx_string *b)
{
    zx_string *s = string_alloc(h, (size_t)a->nbytes + b->nbytes);
    if (!s) return NULL;
    memcpy(s->data, a->data, a->nbytes);
    memcpy(s->data + a->nbytes, b->data, b->nbytes);
    s->ncodepoints = a->ncodepoints + b->ncodepoints;
    return s;
}

zx_string *zx_string_repeat(zx_heap *h, const zx_string *s, int64_t times)
{
    if (times <= 0 || s->nbytes == 0) return string_alloc(h, 0);
    if ((uint64_t)times >= UINT32_MAX / s->nbytes) return NULL;
    size_t n = (size_t)s->nbytes * (size_t)times;
    zx_string *r = string_alloc(h, n);
    if (!r) return NULL;
    memcpy(r->data, s->data, s->nbytes);
    size_t done = s->nbytes;
    while (done < n) {          /* doubling copies: O(log times) memcpy calls */
        size_t chunk = done <= n - done ? done : n - done;
        memcpy(r->data + done, r->data, chunk);
        done += chunk;
    }
    r->ncodepoints = (uint32_t)((uint64_t)s->ncodepoints * (uint64_t)times);
    return r;
}

zx_string *zx_string_at(zx_heap *h, const zx_string *s, int64_t i)
{
    if (i < 0 || i >= (int64_t)s->ncodepoints) return NULL;
    if (s->ncodepoints == s->nbytes) return zx_string_new(h, s->data + i, 1);
    size_t pos = 0;
    for (int64_t k = 0; k < i; k++) {
        pos++;
        while (pos < s->nbytes && ((unsigned char)s->data[pos] & 0xC0) == 0x80) pos++;
    }
    size_t end = pos + 1;
    while (end < s->nbytes && ((unsigned char)s->data[end] & 0xC0) == 0x80) end++;
    return zx_string_new(h, s->data + pos, end - pos);
}

uint64_t zx_string_hash(zx_string *s)
{
    /* Several threads may hash one string; they all store the same value. */
    uint64_t hv = __atomic_load_n(&s->hash, __ATOMIC_RELAXED);
    if (hv) return hv;
    hv = 14695981039346656037ull;                  /* FNV-1a */
    for (uint32_t i = 0; i < s->nbytes; i++) {
        hv ^= (unsigned char)s->data[i];
        hv *= 1099511628211ull;
    }
    if (hv == 0) hv = 1;
    __atomic_store_n(&s->hash, hv, __ATOMIC_RELAXED);
    return hv;
}

bool zx_string_eq(const zx_string *a, const zx_string *b)
{
    if (a == b) return true;
    if (a->nbytes != b->nbytes) return false;
    uint64_t ha = __atomic_load_n(&a->hash, __ATOMIC_RELAXED);
    uint64_t hb = __atomic_load_n(&b->hash, __ATOMIC_RELAXED);
    if (ha && hb && ha != hb) return false;
    return memcmp(a->data, b->data, a->nbytes) == 0;
}

int zx_string_cmp(const zx_string *a, const zx_string *b)
{
    /* For valid UTF-8, byte order is code point order. */
    uint32_t n = a->nbytes < b->nbytes ? a->nbytes : b->nbytes;
    int c = memcmp(a->data, b->data, n);
    if (c) return c < 0 ? -1 : 1;
    return a->nbytes < b->nbytes ? -1 : a->nbytes > b->nbytes;
}

bool zx_utf8_valid(const char *bytes, size_t n)
{
    const unsigned char *s = (const unsigned char *)bytes;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) { i++; continue; }
        size_t len;
        uint32_t cp, min;
        if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; min = 0x80; }
        else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; min = 0x800; }
        else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; min = 0x10000; }
        else return false;
        if (n - i < len) return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* NUMA-bound storage of lists and maps                                                       */
/* ------------------------------------------------------------------------------------------ */

/* The node of the worker this thread is (set by the scheduler: per-worker state, not shared). */
static _Thread_local const topo *tl_topo;
static _Thread_local int tl_node = -1;

void zx_heap_thread_node(const topo *t, int node)
{
    tl_topo = node >= 0 ? t : NULL;
    tl_node = node >= 0 ? node : -1;
}

static uint16_t creation_node(void) { return tl_topo ? (uint16_t)tl_node : (uint16_t)ZX_NODE_NONE; }

/* A bound block starts with the topology it came from, so that any thread can free it. */
typedef struct numa_block {
    const topo *t;
    size_t pad;                      /* keeps the storage 16-byte aligned */
} numa_block;

static const topo *block_topo(const void *p) { return ((const numa_block *)p - 1)->t; }

/* Bound when the object has a node, the storage is large, and a topology is at hand: this
 * thread's, or that of the block being replaced. */
static const topo *numa_topo(const zx_obj *o, size_t bytes, const void *old, bool old_bound)
{
    if (o->node == ZX_NODE_NONE || bytes < ZX_NUMA_STORE_MIN) return NULL;
    return old_bound ? block_topo(old) : tl_topo;
}

/* Storage of `bytes` bytes: bound to `node` of t, else from the heap's allocator. */
static void *store_alloc(zx_heap *h, const topo *t, int node, size_t bytes)
{
    if (!t) return heap_malloc(h, bytes);
    if (bytes > SIZE_MAX - sizeof(numa_block)) return NULL;
    numa_block *b = topo_alloc_on_node(t, node, sizeof *b + bytes, NULL);
    if (!b) return NULL;
    b->t = t;
    return b + 1;
}

static void store_free(zx_heap *h, void *p, bool bound, size_t bytes)
{
    if (!p) return;
    if (!bound) {
        heap_free(h, p, bytes);
        return;
    }
    numa_block *b = (numa_block *)p - 1;
    topo_free(b->t, b);
}

/* realloc for the storage of o that flag marks (ZX_OF_NUMA_STORE or ZX_OF_NUMA_INDEX): p has
 * old_bytes bytes (0 when NULL), of which the first `keep` bytes must survive.  Storage
 * that is not NUMA-bound comes from o's heap's allocator. */
static void *store_realloc(zx_obj *o, uint8_t flag, void *p, size_t old_bytes, size_t keep, size_t bytes)
{
    zx_heap *h = obj_heap(o);
    bool bound = atomic_load_explicit(&o->flags, memory_order_relaxed) & flag;
    const topo *t = numa_topo(o, bytes, p, bound);
    if (!t && !bound) return heap_realloc(h, p, old_bytes, bytes);
    void *q = store_alloc(h, t, o->node, bytes);
    if (!q) return NULL;
    if (p) memcpy(q, p, keep < bytes ? keep : bytes);
    store_free(h, p, bound, old_bytes);
    if (t) atomic_fetch_or_explicit(&o->flags, flag, memory_order_relaxed);
    else atomic_fetch_and_explicit(&o->flags, (uint8_t)~flag, memory_order_relaxed);
    return q;
}

static void *store_new(zx_obj *o, uint8_t flag, size_t bytes)
{
    return store_realloc(o, flag, NULL, 0, 0, bytes);
}

/* A block of `bytes` to replace o's storage p that flag marks (bound: that flag as read before);
 * p stays, for the caller to copy from and then free with store_free(..., bound, ...); the flag
 * describes the new block from here on. */
static void *store_fresh(zx_obj *o, uint8_t flag, const void *p, bool bound, size_t bytes)
{
    const topo *t = numa_topo(o, bytes, p, bound && p);
    void *q = store_alloc(obj_heap(o), t, o->node, bytes);
    if (!q) return NULL;
    if (t) atomic_fetch_or_explicit(&o->flags, flag, memory_order_relaxed);
    else atomic_fetch_and_explicit(&o->flags, (uint8_t)~flag, memory_order_relaxed);
    return q;
}

/* Free the storage p of o (bytes bytes) that flag marks. */
static void store_release(zx_obj *o, uint8_t flag, void *p, size_t bytes)
{
    store_free(obj_heap(o), p, atomic_load_explicit(&o->flags, memory_order_relaxed) & flag, bytes);
}

/* ------------------------------------------------------------------------------------------ */
/* Lists                                                                                      */
/* ------------------------------------------------------------------------------------------ */

zx_list *zx_list_new(zx_heap *h, uint32_t cap)
{
    zx_list *l = zx_heap_alloc_obj(h, ZX_O_LIST, sizeof(zx_list));
    if (!l) return NULL;
    l->hdr.node = creation_node();
    l->len = 0;
    l->cap = 0;
    l->kind = ZX_LIST_GENERIC;
    l->items = NULL;
    if (cap) {
        if (!zx_heap_account(h, (ptrdiff_t)((size_t)cap * sizeof(zx_value)))) goto fail;
        l->items = store_new(&l->hdr, ZX_OF_NUMA_STORE, (size_t)cap * sizeof(zx_value));
        if (!l->items) {
            zx_heap_account(h, -(ptrdiff_t)((size_t)cap * sizeof(zx_value)));
            goto fail;
        }
        l->cap = cap;
    }
    return l;
fail:
    zx_obj_free(&l->hdr);
    return NULL;
}

/* Give l room for ncap items of kind k (its items converted, each to the value it was, when
 * k differs from l's kind: only ever to generic, or from any kind while l is empty).  Called
 * only where a store or push changes l, which no other thread reads meanwhile (the analysis
 * orders every reader after or before it, as it does for a push that moves the items). */
static bool list_restore(zx_list *l, unsigned k, uint32_t ncap)
{
    zx_heap *lh = obj_heap(l);      /* freeing returns the bytes to the list's own heap */
    size_t old_bytes = (size_t)l->cap * zx_list_item_size(l->kind);
    size_t new_bytes = (size_t)ncap * zx_list_item_size(k);
    ptrdiff_t delta = (ptrdiff_t)new_bytes - (ptrdiff_t)old_bytes;
    if (delta > 0 && !zx_heap_account(lh, delta)) return false;
    if (k == l->kind) {
        void *ni = store_realloc(&l->hdr, ZX_OF_NUMA_STORE, l->items, old_bytes, old_bytes, new_bytes);
        if (!ni) goto fail;
        l->items = ni;
    } else {
        bool bound = atomic_load_explicit(&l->hdr.flags, memory_order_relaxed) & ZX_OF_NUMA_STORE;
        void *old = l->items;
        void *ni = store_fresh(&l->hdr, ZX_OF_NUMA_STORE, old, bound, new_bytes);
        if (!ni) goto fail;
        if (k == ZX_LIST_GENERIC) {
            zx_value *items = ni;
            for (uint32_t i = 0; i < l->len; i++) items[i] = zx_list_get(l, i);
        }
        store_free(lh, old, bound, old_bytes);
        l->items = ni;
        l->kind = (uint8_t)k;
    }
    l->cap = ncap;
    if (delta < 0) zx_heap_account(lh, delta);
    return true;
fail:
    if (delta > 0) zx_heap_account(lh, -delta);
    return false;
}

bool zx_list_make_generic(zx_list *l)
{
    return l->kind == ZX_LIST_GENERIC || list_restore(l, ZX_LIST_GENERIC, l->cap);
}

void zx_list_narrow(zx_list *l)
{
    if (l->kind != ZX_LIST_GENERIC || l->len == 0) return;
    unsigned k = zx_list_kind_for(l->items[0]);
    if (k == ZX_LIST_GENERIC) return;
    for (uint32_t i = 1; i < l->len; i++)
        if (l->items[i].tag != l->items[0].tag) return;
    zx_heap *lh = obj_heap(l);
    size_t old_bytes = (size_t)l->cap * sizeof(zx_value), new_bytes = (size_t)l->len * zx_list_item_size(k);
    bool bound = atomic_load_explicit(&l->hdr.flags, memory_order_relaxed) & ZX_OF_NUMA_STORE;
    zx_value *old = l->items;
    void *ni = store_fresh(&l->hdr, ZX_OF_NUMA_STORE, old, bound, new_bytes);
    if (!ni) return;
    for (uint32_t i = 0; i < l->len; i++) {
        switch (k) {
        case ZX_LIST_INT: ((int64_t *)ni)[i] = old[i].u.i; break;
        case ZX_LIST_FLOAT: ((double *)ni)[i] = old[i].u.f; break;
        default: ((uint8_t *)ni)[i] = old[i].u.b; break;
        }
    }
    store_free(lh, old, bound, old_bytes);
    l->items = ni;
    l->kind = (uint8_t)k;
    l->cap = l->len;
    zx_heap_account(lh, (ptrdiff_t)new_bytes - (ptrdiff_t)old_bytes);
}

zx_list *zx_list_new_kind(zx_heap *h, unsigned kind, uint32_t cap)
{
    zx_list *l = zx_list_new(h, kind == ZX_LIST_GENERIC ? cap : 0);
    if (l && kind != ZX_LIST_GENERIC && !list_restore(l, kind, cap ? cap : 4)) {
        zx_obj_free(&l->hdr);
        return NULL;
    }
    return l;
}

zx_list *zx_list_slice(zx_heap *h, const zx_list *l, uint32_t from, uint32_t n, uint32_t extra)
{
    if (n > UINT32_MAX - extra) return NULL;
    zx_list *r = zx_list_new_kind(h, l->kind, n + extra);
    if (!r) return NULL;
    if (l->kind != ZX_LIST_GENERIC) {
        memcpy(r->bools, l->bools + (size_t)from * zx_list_item_size(l->kind), (size_t)n * zx_list_item_size(l->kind));
    } else {
        for (uint32_t i = 0; i < n; i++) {
            r->items[i] = l->items[from + i];
            zx_incref(r->items[i]);
        }
    }
    r->len = n;
    return r;
}

static bool list_append(zx_heap *h, zx_list *l, zx_value v, bool note);

bool zx_list_push(zx_heap *h, zx_list *l, zx_value v) { return list_append(h, l, v, true); }
bool zx_list_push_fresh(zx_heap *h, zx_list *l, zx_value v) { return list_append(h, l, v, false); }

/* Append v (an empty list takes v's kind; another type makes an unboxed list generic); note:
 * register l as a cycle candidate when v may hold references. */
static bool list_append(zx_heap *h, zx_list *l, zx_value v, bool note)
{
    unsigned k = zx_list_kind_for(v);
    if (l->len == 0 && k != l->kind) {             /* an empty list takes the first item's kind */
        if (!list_restore(l, k, l->cap < 4 ? 4 : l->cap)) return false;
    } else if (k != l->kind && l->kind != ZX_LIST_GENERIC) {
        if (!zx_list_make_generic(l)) return false;
    }
    if (l->len == l->cap) {
        if (l->cap == UINT32_MAX) return false;
        uint32_t ncap = l->cap < 4 ? 4 : (l->cap > UINT32_MAX / 2 ? UINT32_MAX : l->cap * 2);
        if (!list_restore(l, l->kind, ncap)) return false;
    }
    if (l->kind != ZX_LIST_GENERIC) {
        zx_list_put(l, l->len++, v);
        return true;
    }
    zx_incref(v);
    l->items[l->len++] = v;
    if (note && may_hold_refs(v)) zx_heap_note_cycle_candidate(h ? h : obj_heap(l), &l->hdr);
    return true;
}

bool zx_list_store(zx_heap *h, zx_list *l, uint32_t i, zx_value v)
{
    if (l->kind != ZX_LIST_GENERIC) {
        if (v.tag == l->kind) {
            zx_list_put(l, i, v);
            return true;
        }
        if (!zx_list_make_generic(l)) return false;
    }
    zx_incref(v);
    zx_value old = l->items[i];
    l->items[i] = v;
    zx_decref(old);
    if (may_hold_refs(v)) zx_heap_note_cycle_candidate(h ? h : obj_heap(l), &l->hdr);
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Maps                                                                                       */
/* ------------------------------------------------------------------------------------------ */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

/* True when d is a whole number that an int64 holds, with that int in *out. */
static bool float_as_int(double d, int64_t *out)
{
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return false;
    int64_t i = (int64_t)d;
    if ((double)i != d) return false;
    *out = i;
    return true;
}

bool zx_value_hashable(zx_value v)
{
    switch ((zx_tag)v.tag) {
    case ZX_T_INT: case ZX_T_FLOAT: case ZX_T_BOOL: return true;
    case ZX_T_OBJ: return v.u.o->type == ZX_O_STRING;
    case ZX_T_UNDEF: case ZX_T_NULL: return false;
    }
    return false;
}

/* Keys equal under == hash equally: an integral float hashes as its int. */
static uint64_t key_hash(zx_value k)
{
    switch ((zx_tag)k.tag) {
    case ZX_T_INT: return mix64((uint64_t)k.u.i);
    case ZX_T_FLOAT: {
        int64_t i;
        if (float_as_int(k.u.f, &i)) return mix64((uint64_t)i);
        uint64_t bits;
        memcpy(&bits, &k.u.f, sizeof bits);
        return mix64(bits ^ 0x5bd1e9955bd1e995ull);
    }
    case ZX_T_BOOL: return mix64(k.u.b ? 0x9e3779b97f4a7c15ull : 0x7f4a7c159e3779b9ull);
    case ZX_T_OBJ: return zx_string_hash((zx_string *)k.u.o);
    case ZX_T_UNDEF: case ZX_T_NULL: return 0;
    }
    return 0;
}

zx_map *zx_map_new(zx_heap *h, uint32_t cap)
{
    zx_map *m = zx_heap_alloc_obj(h, ZX_O_MAP, sizeof(zx_map));
    if (!m) return NULL;
    m->hdr.node = creation_node();
    m->len = m->cap = 0;
    m->entries = NULL;
    m->index = NULL;
    m->index_cap = 0;
    if (cap) {
        if (cap > (1u << 29)) goto fail;
        uint32_t icap = 8;
        while (icap < cap * 2) icap *= 2;
        size_t bytes = (size_t)cap * sizeof(zx_map_entry) + (size_t)icap * sizeof(int32_t);
        if (!zx_heap_account(h, (ptrdiff_t)bytes)) goto fail;
        m->entries = store_new(&m->hdr, ZX_OF_NUMA_STORE, (size_t)cap * sizeof(zx_map_entry));
        m->index = store_new(&m->hdr, ZX_OF_NUMA_INDEX, (size_t)icap * sizeof(int32_t));
        if (!m->entries || !m->index) {
            store_release(&m->hdr, ZX_OF_NUMA_STORE, m->entries, (size_t)cap * sizeof(zx_map_entry));
            store_release(&m->hdr, ZX_OF_NUMA_INDEX, m->index, (size_t)icap * sizeof(int32_t));
            m->entries = NULL;
            m->index = NULL;
            zx_heap_account(h, -(ptrdiff_t)bytes);
            goto fail;
        }
        m->cap = cap;
        m->index_cap = icap;
        for (uint32_t i = 0; i < icap; i++) m->index[i] = -1;
    }
    return m;
fail:
    zx_obj_free(&m->hdr);
    return NULL;
}

static bool scalar_equal(zx_value a, zx_value b);

/* Slot of the index that holds key (or the empty slot where it would go). */
static uint32_t map_probe(const zx_map *m, zx_value key, uint64_t hv, bool *found)
{
    uint32_t mask = m->index_cap - 1;
    uint32_t i = (uint32_t)hv & mask;
    for (;;) {
        int32_t e = m->index[i];
        if (e < 0) { *found = false; return i; }
        const zx_map_entry *en = &m->entries[e];
        if (en->hash == hv && scalar_equal(en->key, key)) { *found = true; return i; }
        i = (i + 1) & mask;
    }
}

zx_value *zx_map_get(zx_map *m, zx_value key)
{
    if (m->len == 0 || !zx_value_hashable(key)) return NULL;
    bool found;
    uint32_t slot = map_probe(m, key, key_hash(key), &found);
    return found ? &m->entries[m->index[slot]].value : NULL;
}

static bool map_grow_index(zx_map *m, zx_heap *mh)
{
    uint32_t ncap = m->index_cap ? m->index_cap * 2 : 8;
    if (ncap > (1u << 30)) return false;
    ptrdiff_t delta = (ptrdiff_t)((size_t)(ncap - m->index_cap) * sizeof(int32_t));
    if (!zx_heap_account(mh, delta)) return false;
    /* rebuilt from the entries below: nothing of the old index is kept */
    int32_t *ni = store_realloc(&m->hdr, ZX_OF_NUMA_INDEX, m->index, (size_t)m->index_cap * sizeof(int32_t), 0,
                                (size_t)ncap * sizeof(int32_t));
    if (!ni) {
        zx_heap_account(mh, -delta);
        return false;
    }
    for (uint32_t i = 0; i < ncap; i++) ni[i] = -1;
    for (uint32_t e = 0; e < m->len; e++) {
        uint32_t i = (uint32_t)m->entries[e].hash & (ncap - 1);
        while (ni[i] >= 0) i = (i + 1) & (ncap - 1);
        ni[i] = (int32_t)e;
    }
    m->index = ni;
    m->index_cap = ncap;
    return true;
}

static bool map_set(zx_heap *h, zx_map *m, zx_value key, zx_value value, bool note);

bool zx_map_set(zx_heap *h, zx_map *m, zx_value key, zx_value value) { return map_set(h, m, key, value, true); }
bool zx_map_set_fresh(zx_heap *h, zx_map *m, zx_value key, zx_value value)
{
    return map_set(h, m, key, value, false);
}

static bool map_set(zx_heap *h, zx_map *m, zx_value key, zx_value value, bool note)
{
    if (!zx_value_hashable(key)) return false;
    zx_heap *mh = obj_heap(m);
    uint64_t hv = key_hash(key);
    bool found = false;
    uint32_t slot = 0;
    if (m->index_cap) slot = map_probe(m, key, hv, &found);
    if (found) {
        zx_map_entry *en = &m->entries[m->index[slot]];
        zx_value old = en->value;
        zx_incref(value);
        en->value = value;            /* the original key stays: {1: a} then m[1.0] = b is {1: b} */
        zx_decref(old);
    } else {
        if ((size_t)(m->len + 1) * 2 > m->index_cap) {
            if (!map_grow_index(m, mh)) return false;
        }
        if (m->len == m->cap) {
            uint32_t ncap = m->cap < 4 ? 4 : m->cap * 2;
            ptrdiff_t delta = (ptrdiff_t)((size_t)(ncap - m->cap) * sizeof(zx_map_entry));
            if (!zx_heap_account(mh, delta)) return false;
            size_t old_bytes = (size_t)m->cap * sizeof(zx_map_entry);
            zx_map_entry *ne = store_realloc(&m->hdr, ZX_OF_NUMA_STORE, m->entries, old_bytes, old_bytes,
                                             (size_t)ncap * sizeof(zx_map_entry));
            if (!ne) {
                zx_heap_account(mh, -delta);
                return false;
            }
            m->entries = ne;
            m->cap = ncap;
        }
        slot = map_probe(m, key, hv, &found);
        zx_incref(key);
        zx_incref(value);
        m->entries[m->len].key = key;
        m->entries[m->len].value = value;
        m->entries[m->len].hash = hv;
        m->index[slot] = (int32_t)m->len;
        m->len++;
    }
    if (note && may_hold_refs(value)) zx_heap_note_cycle_candidate(h ? h : mh, &m->hdr);
    return true;
}

/* Remove key from m, keeping the insertion order of the rest: the entries after it move down
 * and the index is rebuilt (O(len)).  The entry's references pass to *key_out / *value_out. */
bool zx_map_delete(zx_map *m, zx_value key, zx_value *key_out, zx_value *value_out)
{
    if (m->len == 0 || !zx_value_hashable(key)) return false;
    bool found;
    uint32_t slot = map_probe(m, key, key_hash(key), &found);
    if (!found) return false;
    uint32_t e = (uint32_t)m->index[slot];
    *key_out = m->entries[e].key;
    *value_out = m->entries[e].value;
    memmove(&m->entries[e], &m->entries[e + 1], (size_t)(m->len - e - 1) * sizeof(zx_map_entry));
    m->len--;
    uint32_t mask = m->index_cap - 1;
    for (uint32_t i = 0; i < m->index_cap; i++) m->index[i] = -1;
    for (uint32_t k = 0; k < m->len; k++) {
        uint32_t i = (uint32_t)m->entries[k].hash & mask;
        while (m->index[i] >= 0) i = (i + 1) & mask;
        m->index[i] = (int32_t)k;
    }
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Cells and closures                                                                         */
/* ------------------------------------------------------------------------------------------ */

zx_cell *zx_cell_new(zx_heap *h, zx_value v)
{
    zx_cell *c = zx_heap_alloc_obj(h, ZX_O_CELL, sizeof(zx_cell));
    if (!c) return NULL;
    zx_incref(v);
    c->v = v;
    return c;
}

zx_func *zx_func_new(zx_heap *h, struct zx_code *code, struct zx_program *prog, const char *name,
                     bool is_lambda, uint32_t nfree)
{
    zx_func *f = zx_heap_alloc_obj(h, ZX_O_FUNC, sizeof(zx_func) + (size_t)nfree * sizeof(zx_cell *));
    if (!f) return NULL;
    f->code = code;
    f->prog = prog;
    f->name = name ? name : "?";
    f->is_lambda = is_lambda;
    f->nfree = nfree;
    for (uint32_t i = 0; i < nfree; i++) f->free[i] = NULL;
    return f;
}

/* ------------------------------------------------------------------------------------------ */
/* The path set: containers (or pairs of them) on the current path of a printing or a        */
/* comparison, so cycles are found in O(1) per step however deep the structure is.          */
/* ------------------------------------------------------------------------------------------ */

typedef struct pathslot {
    const void *x, *y;
} pathslot;

typedef struct pathset {
    pathslot *slots;
    uint32_t cap, n;              /* cap: power of two; at most half full */
    pathslot *local;              /* caller's initial storage, not freed */
} pathset;

static void pathset_init(pathset *s, pathslot *local, uint32_t cap)
{
    s->slots = s->local = local;
    s->cap = cap;
    s->n = 0;
    memset(local, 0, cap * sizeof *local);
}

static void pathset_free(pathset *s)
{
    if (s->slots != s->local) free(s->slots);
}

static uint32_t pathset_home(const pathset *s, const void *x, const void *y)
{
    return (uint32_t)mix64((uint64_t)(uintptr_t)x * 31u + (uint64_t)(uintptr_t)y) & (s->cap - 1);
}

static bool pathset_has(const pathset *s, const void *x, const void *y)
{
    for (uint32_t i = pathset_home(s, x, y);; i = (i + 1) & (s->cap - 1)) {
        if (!s->slots[i].x) return false;
        if (s->slots[i].x == x && s->slots[i].y == y) return true;
    }
}

static void pathset_place(pathset *s, const void *x, const void *y)
{
    uint32_t i = pathset_home(s, x, y);
    while (s->slots[i].x) i = (i + 1) & (s->cap - 1);
    s->slots[i].x = x;
    s->slots[i].y = y;
}

static bool pathset_add(pathset *s, const void *x, const void *y)
{
    if ((s->n + 1) * 2 > s->cap) {
        if (s->cap >= (1u << 30)) return false;
        pathslot *old = s->slots;
        uint32_t ocap = s->cap;
        pathslot *ns = calloc((size_t)ocap * 2, sizeof *ns);
        if (!ns) return false;
        s->slots = ns;
        s->cap = ocap * 2;
        for (uint32_t i = 0; i < ocap; i++)
            if (old[i].x) pathset_place(s, old[i].x, old[i].y);
        if (old != s->local) free(old);
    }
    pathset_place(s, x, y);
    s->n++;
    return true;
}

/* Linear-probing removal by backward shift, so no tombstones accumulate on deep paths. */
static void pathset_remove(pathset *s, const void *x, const void *y)
{
    uint32_t mask = s->cap - 1;
    uint32_t i = pathset_home(s, x, y);
    while (!(s->slots[i].x == x && s->slots[i].y == y)) {
        if (!s->slots[i].x) return;
        i = (i + 1) & mask;
    }
    s->n--;
    for (uint32_t j = (i + 1) & mask;; j = (j + 1) & mask) {
        if (!s->slots[j].x) break;
        uint32_t home = pathset_home(s, s->slots[j].x, s->slots[j].y);
        /* Move j back into the hole at i unless its home lies cyclically in (i, j]. */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            s->slots[i] = s->slots[j];
            i = j;
        }
    }
    s->slots[i].x = NULL;
    s->slots[i].y = NULL;
}

/* A growable stack of frames, starting in the caller's storage. */
typedef struct walkframe {
    zx_obj *a, *b;
    uint32_t i;
} walkframe;

typedef struct walkstack {
    walkframe *f;
    size_t n, cap;
    walkframe *local;
} walkstack;

static bool walk_push(walkstack *w, zx_obj *a, zx_obj *b)
{
    if (w->n == w->cap) {
        size_t ncap = w->cap * 2;
        walkframe *nf = malloc(ncap * sizeof *nf);
        if (!nf) return false;
        memcpy(nf, w->f, w->n * sizeof *nf);
        if (w->f != w->local) free(w->f);
        w->f = nf;
        w->cap = ncap;
    }
    w->f[w->n].a = a;
    w->f[w->n].b = b;
    w->f[w->n].i = 0;
    w->n++;
    return true;
}

static void walk_free(walkstack *w)
{
    if (w->f != w->local) free(w->f);
}

/* ------------------------------------------------------------------------------------------ */
/* Equality                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/* int == float by exact value: no rounding of the int to a double. */
static bool int_eq_float(int64_t i, double f)
{
    int64_t fi;
    return float_as_int(f, &fi) && fi == i;
}

static bool is_container(zx_value v)
{
    return v.tag == ZX_T_OBJ && (v.u.o->type == ZX_O_LIST || v.u.o->type == ZX_O_MAP);
}

/* == for everything but two distinct lists or maps. */
static bool scalar_equal(zx_value a, zx_value b)
{
    switch ((zx_tag)a.tag) {
    case ZX_T_INT:
        if (b.tag == ZX_T_INT) return a.u.i == b.u.i;
        if (b.tag == ZX_T_FLOAT) return int_eq_float(a.u.i, b.u.f);
        return false;
    case ZX_T_FLOAT:
        if (b.tag == ZX_T_FLOAT) return a.u.f == b.u.f;
        if (b.tag == ZX_T_INT) return int_eq_float(b.u.i, a.u.f);
        return false;
    case ZX_T_BOOL: return b.tag == ZX_T_BOOL && a.u.b == b.u.b;
    case ZX_T_NULL: return b.tag == ZX_T_NULL;
    case ZX_T_UNDEF: return b.tag == ZX_T_UNDEF;
    case ZX_T_OBJ: break;
    }
    if (b.tag != ZX_T_OBJ) return false;
    zx_obj *x = a.u.o, *y = b.u.o;
    if (x == y) return true;
    if (x->type != y->type) return false;
    switch ((zx_objtype)x->type) {
    case ZX_O_STRING: return zx_string_eq((zx_string *)x, (zx_string *)y);
    case ZX_O_BUILTIN: return ((zx_builtin_obj *)x)->id == ((zx_builtin_obj *)y)->id;
    case ZX_O_FUNC: case ZX_O_CELL: case ZX_O_LIST: case ZX_O_MAP: case ZX_O_CLASS: case ZX_O_INST:
        return false;      /* instances and classes: identity (REFERENCE-NOTES S20) */
    }
    return false;
}

static uint32_t container_len(const zx_obj *o)
{
    return o->type == ZX_O_LIST ? ((const zx_list *)o)->len : ((const zx_map *)o)->len;
}

/*
 * Structural equality with an explicit stack (no C recursion, so any depth is fine).  A pair
 * already being compared on the current path is assumed equal: any difference is found
 * elsewhere on the path, so two cyclic structures compare equal exactly when their infinite
 * unfoldings do, and the walk always ends.
 */
bool zx_value_equal(zx_value a, zx_value b)
{
    if (!is_container(a) || !is_container(b)) return scalar_equal(a, b);
    if (a.u.o == b.u.o) return true;
    if (a.u.o->type != b.u.o->type || container_len(a.u.o) != container_len(b.u.o)) return false;

    walkframe flocal[32];
    pathslot slocal[64];
    walkstack w = { flocal, 0, 32, flocal };
    pathset path;
    pathset_init(&path, slocal, 64);
    bool result = true;
    walk_push(&w, a.u.o, b.u.o);
    pathset_add(&path, a.u.o, b.u.o);
    while (w.n) {
        walkframe *f = &w.f[w.n - 1];
        zx_value x, y;
        if (f->i >= container_len(f->a)) {
            pathset_remove(&path, f->a, f->b);
            w.n--;
            continue;
        }
        if (f->a->type == ZX_O_LIST) {
            if (f->i >= ((zx_list *)f->b)->len) { result = false; break; }
            x = zx_list_get((zx_list *)f->a, f->i);
            y = zx_list_get((zx_list *)f->b, f->i);
        } else {
            zx_map_entry *e = &((zx_map *)f->a)->entries[f->i];
            zx_value *other = zx_map_get((zx_map *)f->b, e->key);
            if (!other) { result = false; break; }
            x = e->value;
            y = *other;
        }
        f->i++;
        if (!is_container(x) || !is_container(y)) {
            if (!scalar_equal(x, y)) { result = false; break; }
            continue;
        }
        if (x.u.o == y.u.o || pathset_has(&path, x.u.o, y.u.o)) continue;
        if (x.u.o->type != y.u.o->type || container_len(x.u.o) != container_len(y.u.o)) {
            result = false;
            break;
        }
        if (!walk_push(&w, x.u.o, y.u.o)) { result = false; break; }
        if (!pathset_add(&path, x.u.o, y.u.o)) { result = false; break; }
    }
    walk_free(&w);
    pathset_free(&path);
    return result;
}

const char *zx_type_name(zx_value v)
{
    switch ((zx_tag)v.tag) {
    case ZX_T_UNDEF: return "Undefined";
    case ZX_T_NULL: return "Null";
    case ZX_T_BOOL: return "Boolean";
    case ZX_T_INT: return "Integer";
    case ZX_T_FLOAT: return "Float";
    case ZX_T_OBJ: break;
    }
    switch ((zx_objtype)v.u.o->type) {
    case ZX_O_STRING: return "String";
    case ZX_O_LIST: return "List";
    case ZX_O_MAP: return "Map";
    case ZX_O_FUNC: {
        const zx_func *f = (const zx_func *)v.u.o;
        return f->is_lambda ? "Lambda" : "Action";
    }
    case ZX_O_BUILTIN: return "Action";
    case ZX_O_CELL: return "Cell";
    case ZX_O_CLASS: case ZX_O_INST: return zx_object_type_name(v);
    }
    return "Unknown";
}

/* ------------------------------------------------------------------------------------------ */
/* Buffers                                                                                    */
/* ------------------------------------------------------------------------------------------ */

void zx_buf_init(zx_buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->truncated = false;
}

void zx_buf_free(zx_buf *b)
{
    free(b->data);
    zx_buf_init(b);
}

/* Room for n more bytes plus the NUL that keeps data a C string. */
static bool buf_reserve(zx_buf *b, size_t n)
{
    if (b->len + n + 1 <= b->cap) return true;
    if (n > SIZE_MAX / 2 - b->len) return false;
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap < b->len + n + 1) ncap *= 2;
    char *nd = realloc(b->data, ncap);
    if (!nd) return false;
    b->data = nd;
    b->cap = ncap;
    return true;
}

void zx_buf_put(zx_buf *b, const char *s, size_t n)
{
    if (!buf_reserve(b, n)) {           /* out of memory: the output is truncated */
        b->truncated = true;
        return;
    }
    if (n) memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void zx_buf_puts(zx_buf *b, const char *s) { zx_buf_put(b, s, strlen(s)); }

void zx_buf_printf(zx_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        zx_buf_put(b, small, (size_t)n);
        return;
    }
    if (!buf_reserve(b, (size_t)n)) {
        b->truncated = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* ------------------------------------------------------------------------------------------ */
/* Printing                                                                                   */
/* ------------------------------------------------------------------------------------------ */

static void format_int(zx_buf *b, int64_t i)
{
    char tmp[24];
    char *p = tmp + sizeof tmp;
    uint64_t u = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (i < 0) *--p = '-';
    zx_buf_put(b, p, (size_t)(tmp + sizeof tmp - p));
}

/* Digits of d (d > 0, finite) rounded to `prec` significant digits: writes the digits
 * (no dot) to dig and returns the decimal exponent of the first digit. */
static int float_digits(double d, int prec, char *dig)
{
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.*e", prec - 1, d);
    int k = 0;
    const char *p = tmp;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') dig[k++] = *p;
    dig[k] = '\0';
    return atoi(p + 1);
}

static double digits_value(const char *dig, int exp10)
{
    char tmp[48];
    snprintf(tmp, sizeof tmp, "%c.%se%d", dig[0], dig + 1, exp10);
    return strtod(tmp, NULL);
}

/* Step a digit string to its neighbour one unit in the last place up (+1) or down (-1);
 * false when that changes the number of digits. */
static bool digits_step(char *dig, int *exp10, int dir)
{
    int n = (int)strlen(dig);
    int i = n - 1;
    if (dir > 0) {
        while (i >= 0 && dig[i] == '9') dig[i--] = '0';
        if (i < 0) {                 /* 99..9 + 1 = 100..0: one more digit, exponent up */
            dig[0] = '1';
            (*exp10)++;
            return true;
        }
        dig[i]++;
        return true;
    }
    while (i >= 0 && dig[i] == '0') dig[i--] = '9';
    if (i < 0) return false;
    dig[i]--;
    if (dig[0] == '0') {             /* 10..0 - 1 = 9..9 with one digit fewer */
        if (n == 1) return false;
        memmove(dig, dig + 1, (size_t)n);
        dig[n - 1] = '9';
        dig[n] = '\0';
        (*exp10)--;
    }
    return true;
}

void zx_format_float(zx_buf *b, double d)
{
    if (isnan(d)) { zx_buf_puts(b, "nan"); return; }
    if (isinf(d)) { zx_buf_puts(b, d < 0 ? "-inf" : "inf"); return; }
    if (signbit(d)) zx_buf_put(b, "-", 1);
    d = fabs(d);
    if (d == 0) { zx_buf_puts(b, "0.0"); return; }

    /* Shortest digits that read back as d (Python's repr).  The correctly rounded p-digit
     * string is tried first; where d's rounding interval is lopsided (at a power of two)
     * the other p-digit neighbour may be the one that round-trips. */
    char dig[24];
    int exp10 = 0;
    for (int prec = 1; prec <= 17; prec++) {
        exp10 = float_digits(d, prec, dig);
        if (digits_value(dig, exp10) == d) break;
        if (prec == 17) break;
        char alt[24];
        int aexp = exp10;
        strcpy(alt, dig);
        double nearest = digits_value(dig, exp10);
        if (digits_step(alt, &aexp, nearest < d ? 1 : -1) && (int)strlen(alt) == prec &&
            digits_value(alt, aexp) == d) {
            strcpy(dig, alt);
            exp10 = aexp;
            break;
        }
    }
    int n = (int)strlen(dig);
    while (n > 1 && dig[n - 1] == '0') dig[--n] = '\0';

    if (exp10 < -4 || exp10 >= 16) {
        zx_buf_put(b, dig, 1);
        if (n > 1) {
            zx_buf_put(b, ".", 1);
            zx_buf_put(b, dig + 1, (size_t)n - 1);
        }
        zx_buf_printf(b, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    } else if (exp10 < 0) {
        zx_buf_puts(b, "0.");
        for (int i = 0; i < -exp10 - 1; i++) zx_buf_put(b, "0", 1);
        zx_buf_put(b, dig, (size_t)n);
    } else {
        int intdigits = exp10 + 1;
        if (n <= intdigits) {
            zx_buf_put(b, dig, (size_t)n);
            for (int i = n; i < intdigits; i++) zx_buf_put(b, "0", 1);
            zx_buf_puts(b, ".0");
        } else {
            zx_buf_put(b, dig, (size_t)intdigits);
            zx_buf_put(b, ".", 1);
            zx_buf_put(b, dig + intdigits, (size_t)(n - intdigits));
        }
    }
}

static void format_scalar(zx_buf *b, zx_value v)
{
    switch ((zx_tag)v.tag) {
    case ZX_T_UNDEF: zx_buf_puts(b, "undefined"); return;
    case ZX_T_NULL: zx_buf_puts(b, "null"); return;
    case ZX_T_BOOL: zx_buf_puts(b, v.u.b ? "true" : "false"); return;
    case ZX_T_INT: format_int(b, v.u.i); return;
    case ZX_T_FLOAT: zx_format_float(b, v.u.f); return;
    case ZX_T_OBJ: break;
    }
    switch ((zx_objtype)v.u.o->type) {
    case ZX_O_STRING: {
        const zx_string *s = (const zx_string *)v.u.o;
        zx_buf_put(b, s->data, s->nbytes);
        return;
    }
    case ZX_O_FUNC: {
        const zx_func *f = (const zx_func *)v.u.o;
        if (f->is_lambda) {
            zx_buf_puts(b, "<lambda>");
        } else {
            zx_buf_puts(b, "<action ");
            zx_buf_puts(b, f->name);
            zx_buf_puts(b, ">");
        }
        return;
    }
    case ZX_O_BUILTIN: {
        const zx_builtin_obj *bo = (const zx_builtin_obj *)v.u.o;
        const char *name = bo->id >= ZX_BI_COUNT ? bo->name : zx_builtin_name(bo->id);
        zx_buf_puts(b, "<action ");
        zx_buf_puts(b, name ? name : "?");
        zx_buf_puts(b, ">");
        return;
    }
    case ZX_O_CELL: zx_buf_puts(b, "<cell>"); return;
    case ZX_O_CLASS: case ZX_O_INST: zx_object_format(b, v); return;
    case ZX_O_LIST: zx_buf_puts(b, "[...]"); return;     /* only reached when out of memory */
    case ZX_O_MAP: zx_buf_puts(b, "{...}"); return;
    }
}

/* Print a container that is not on the path: open it and make it the walk's top frame.
 * The path lives in this call's own storage, never in the objects, because several threads
 * may print one object at once. */
static void format_enter(zx_buf *b, walkstack *w, pathset *path, zx_value v)
{
    zx_obj *o = v.u.o;
    if (pathset_has(path, o, NULL) || !pathset_add(path, o, NULL)) {
        zx_buf_puts(b, o->type == ZX_O_LIST ? "[...]" : "{...}");
        return;
    }
    if (!walk_push(w, o, NULL)) {
        pathset_remove(path, o, NULL);
        zx_buf_puts(b, o->type == ZX_O_LIST ? "[...]" : "{...}");
        return;
    }
    zx_buf_put(b, o->type == ZX_O_LIST ? "[" : "{", 1);
}

void zx_format_value(zx_buf *b, zx_value v)
{
    if (!is_container(v)) {
        format_scalar(b, v);
        return;
    }
    walkframe flocal[32];
    pathslot slocal[64];
    walkstack w = { flocal, 0, 32, flocal };
    pathset path;
    pathset_init(&path, slocal, 64);
    format_enter(b, &w, &path, v);
    while (w.n) {
        walkframe *f = &w.f[w.n - 1];
        zx_obj *o = f->a;
        if (f->i >= container_len(o)) {
            zx_buf_put(b, o->type == ZX_O_LIST ? "]" : "}", 1);
            pathset_remove(&path, o, NULL);
            w.n--;
            continue;
        }
        uint32_t i = f->i++;
        if (i > 0) zx_buf_put(b, ", ", 2);
        zx_value item;
        if (o->type == ZX_O_LIST) {
            item = zx_list_get((zx_list *)o, i);
        } else {
            const zx_map_entry *e = &((zx_map *)o)->entries[i];
            format_scalar(b, e->key);
            zx_buf_put(b, ": ", 2);
            item = e->value;
        }
        if (is_container(item)) format_enter(b, &w, &path, item);    /* f may move: not used after */
        else format_scalar(b, item);
    }
    walk_free(&w);
    pathset_free(&path);
}
