/* value.h — Zexus values: tagged immediates and reference-counted heap objects. */
#ifndef ZX_VALUE_H
#define ZX_VALUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Memory management (docs/architecture.md, "Memory"): every heap object carries a reference
 * count, changed atomically while several threads may touch objects (zx_rc_atomic), so chunks
 * running on different workers may share objects without a collector pause or a global lock:
 * increments are then relaxed, decrements acq_rel; the thread that drops the last reference
 * frees the object.  Reference cycles (a list that contains
 * itself, a recursive closure held in a cell) can only be made by storing a container or a
 * closure into a container or a cell; such a store registers the destination with its heap
 * (zx_heap_note_cycle_candidate, a weak reference that freeing removes), and the heap's cycle
 * collector (value.c, "Cycle collection") frees unreachable cycles by trial deletion whenever
 * its thread is the heap's only mutator (zx_heap_mutator_enter).  zx_heap_destroy empties
 * every candidate left, so nothing leaks past the end of a VM.
 */

typedef enum zx_tag {
    ZX_T_UNDEF = 0,   /* a variable that has not been assigned yet; never a user-visible value */
    ZX_T_NULL,
    ZX_T_BOOL,
    ZX_T_INT,
    ZX_T_FLOAT,
    ZX_T_OBJ,
} zx_tag;

typedef enum zx_objtype {
    ZX_O_STRING = 1,
    ZX_O_LIST,
    ZX_O_MAP,
    ZX_O_FUNC,      /* an action or lambda closure */
    ZX_O_BUILTIN,   /* a builtin function used as a value */
    ZX_O_CELL,      /* a boxed captured variable */
    ZX_O_CLASS,     /* an entity, data, contract or interface type (runtime/object.h) */
    ZX_O_INST,      /* an instance of a class: its fields at fixed slots (runtime/object.h) */
} zx_objtype;

typedef struct zx_obj {
    uint32_t rc;                 /* plain or atomic, by zx_rc_atomic (below) */
    uint8_t type;                /* zx_objtype */
    _Atomic uint8_t flags;       /* ZX_OF_* */
    uint16_t node;               /* lists and maps: the NUMA node of the worker that made them,
                                    or ZX_NODE_NONE; 0 for other objects */
} zx_obj;

enum {
    ZX_OF_CYCLE_CANDIDATE = 1,
    ZX_OF_NUMA_STORE = 2,        /* a list's items or a map's entries are NUMA-bound (value.c) */
    ZX_OF_NUMA_INDEX = 4,        /* a map's index is */
    /* 8 and 16: the cycle collector's marks, only while it runs (value.c) */
};
#define ZX_NODE_NONE 0xffffu     /* zx_obj.node of an object made off the scheduler's workers */

typedef struct zx_value {
    uint8_t tag;                 /* zx_tag */
    union {
        int64_t i;
        double f;
        bool b;
        zx_obj *o;
    } u;
} zx_value;

typedef struct zx_heap zx_heap;

typedef struct zx_string {
    zx_obj hdr;
    uint32_t nbytes;             /* UTF-8 length, excluding the terminating NUL */
    uint32_t ncodepoints;
    uint64_t hash;               /* 0 = not computed */
    _Atomic int8_t method;       /* cached method id for CALL_METHOD names; -2 = not computed */
    char data[];                 /* NUL-terminated; right after method, so that a short
                                    string with its prefix fits 48 bytes */
} zx_string;

/* A list's element kind (docs/architecture.md, "Values"): its items are stored unboxed while
 * they are all ints, all floats or all bools, as zx_value otherwise.  An empty list takes the
 * kind of the first item pushed; a store or push of another type makes the list generic once
 * (zx_list_make_generic, O(n)), and it never goes back, so no value ever changes its type. */
typedef enum zx_list_kind {     /* an unboxed kind is the tag of its items */
    ZX_LIST_GENERIC = 0,         /* items: zx_value, each holding its own reference */
    ZX_LIST_BOOL = ZX_T_BOOL,    /* bools: one byte each, 0 or 1 */
    ZX_LIST_INT = ZX_T_INT,      /* ints: int64_t */
    ZX_LIST_FLOAT = ZX_T_FLOAT,  /* floats: double */
} zx_list_kind;

typedef struct zx_list {
    zx_obj hdr;
    uint32_t len, cap;           /* cap in items of the list's kind */
    union {                      /* by kind; NULL while cap is 0 */
        zx_value *items;
        int64_t *ints;
        double *floats;
        uint8_t *bools;
    };
    uint8_t kind;                /* zx_list_kind; only a store that changes the list changes it */
} zx_list;

typedef struct zx_map_entry {
    zx_value key, value;
    uint64_t hash;
} zx_map_entry;

typedef struct zx_map {
    zx_obj hdr;
    uint32_t len, cap;           /* entries in insertion order (delete keeps the order) */
    zx_map_entry *entries;
    int32_t *index;              /* open-addressing table of entry positions, -1 empty */
    uint32_t index_cap;          /* power of two */
} zx_map;

typedef struct zx_cell {
    zx_obj hdr;
    zx_value v;
} zx_cell;

struct zx_code;
struct zx_program;

/* A function value.  code and prog are the interpreter's (opaque here); what printing and
 * type() need is kept in the value itself, so runtime/ never looks into a code object. */
typedef struct zx_func {
    zx_obj hdr;
    struct zx_code *code;
    struct zx_program *prog;     /* not owned: a function never outlives its program */
    const char *name;            /* the action's name, "?" if none (not owned: the code's) */
    bool is_lambda;              /* prints as <lambda>, type() is Lambda; else an Action */
    uint32_t nfree;
    zx_cell *free[];             /* owned references */
} zx_func;

typedef struct zx_builtin_obj {
    zx_obj hdr;
    int id;                      /* zx_builtin_id; >= ZX_BI_COUNT: host function id - ZX_BI_COUNT */
    const char *name;            /* a host function's name (owned by its VM); NULL for builtins */
} zx_builtin_obj;

/* ---- immediates ---- */
static inline zx_value zx_undef(void) { zx_value v; v.tag = ZX_T_UNDEF; v.u.i = 0; return v; }
static inline zx_value zx_null(void) { zx_value v; v.tag = ZX_T_NULL; v.u.i = 0; return v; }
static inline zx_value zx_bool(bool b) { zx_value v; v.tag = ZX_T_BOOL; v.u.i = 0; v.u.b = b; return v; }
static inline zx_value zx_int(int64_t i) { zx_value v; v.tag = ZX_T_INT; v.u.i = i; return v; }
static inline zx_value zx_float(double f) { zx_value v; v.tag = ZX_T_FLOAT; v.u.f = f; return v; }
static inline zx_value zx_objval(void *o) { zx_value v; v.tag = ZX_T_OBJ; v.u.o = (zx_obj *)o; return v; }

static inline bool zx_is_obj(zx_value v) { return v.tag == ZX_T_OBJ; }
static inline bool zx_is_type(zx_value v, zx_objtype t) { return v.tag == ZX_T_OBJ && v.u.o->type == t; }
static inline bool zx_truthy(zx_value v) {
    return !(v.tag == ZX_T_NULL || v.tag == ZX_T_UNDEF || (v.tag == ZX_T_BOOL && !v.u.b));
}
#define ZX_AS_STRING(v) ((zx_string *)(v).u.o)
#define ZX_AS_LIST(v)   ((zx_list *)(v).u.o)
#define ZX_AS_MAP(v)    ((zx_map *)(v).u.o)
#define ZX_AS_FUNC(v)   ((zx_func *)(v).u.o)
#define ZX_AS_CELL(v)   ((zx_cell *)(v).u.o)

/* ---- reference counting ---- */
/*
 * Two modes (value.c, "Reference counting modes"): while no object of any heap can be touched
 * by two threads at once, counts change with plain instructions; while some may be (parallel
 * work runs, a monitoring thread may read `shared` globals, an API call is in progress), every
 * count changes atomically.  zx_rc_concurrent counts the reasons for the atomic mode; it is
 * raised before a second thread can reach any object and lowered after it no longer can, so
 * two threads never change one count at the same time with one of them in plain mode.
 */
extern atomic_int zx_rc_concurrent;
static inline bool zx_rc_atomic(void)
{
    return atomic_load_explicit(&zx_rc_concurrent, memory_order_relaxed) != 0;
}
void zx_rc_concurrent_begin(void);
void zx_rc_concurrent_end(void);
void zx_obj_free(zx_obj *o);
static inline void zx_obj_incref(void *p)
{
    zx_obj *o = (zx_obj *)p;
    if (__builtin_expect(!zx_rc_atomic(), 1)) o->rc++;
    else __atomic_fetch_add(&o->rc, 1, __ATOMIC_RELAXED);
}
/* Drop one reference to o; true when it was the last (the caller frees o). */
static inline bool zx_obj_release(zx_obj *o)
{
    if (__builtin_expect(!zx_rc_atomic(), 1)) return --o->rc == 0;
    return __atomic_fetch_sub(&o->rc, 1, __ATOMIC_ACQ_REL) == 1;
}
static inline void zx_incref(zx_value v)
{
    if (v.tag == ZX_T_OBJ) zx_obj_incref(v.u.o);
}
static inline void zx_decref(zx_value v)
{
    if (v.tag == ZX_T_OBJ && zx_obj_release(v.u.o)) zx_obj_free(v.u.o);
}
static inline void zx_obj_decref(void *o) { zx_decref(zx_objval(o)); }

/* ---- the heap: allocation accounting, memory limit, cycle candidates ---- */
/* Every allocation goes through a heap so that --max-memory and cycle clearing work.  A heap
 * is shared by all workers of one VM; its counters are atomic. */
zx_heap *zx_heap_create(size_t max_bytes /* 0 = unlimited */);
/* The allocator of a heap, with zx_alloc_fn's contract (include/zexus.h): new_size 0 frees
 * ptr (old_size bytes) and returns NULL; ptr NULL allocates new_size bytes (old_size 0);
 * otherwise it resizes ptr from old_size to new_size bytes, and a NULL result leaves ptr
 * intact.  Called from any thread, concurrently.  The same type as zx_alloc_fn. */
typedef void *(*zx_heap_alloc_fn)(void *ud, void *ptr, size_t old_size, size_t new_size);
/* A heap whose objects and their out-of-line storage (not NUMA-bound storage, not the heap's
 * own bookkeeping) come from alloc(ud, ...); alloc NULL: the C library's malloc, realloc and
 * free, as zx_heap_create. */
zx_heap *zx_heap_create_with(size_t max_bytes, zx_heap_alloc_fn alloc, void *ud);
void zx_heap_destroy(zx_heap *h);      /* clears cycle candidates, then frees the heap */
/* Allocate `size` bytes for an object of `type` with rc = 1; NULL when the memory limit would
 * be exceeded (the caller raises "memory limit exceeded") or the heap's allocator fails.
 * Lists, maps, cells and closures must be allocated with the sizes their constructors below
 * use (zx_obj_free recomputes them); strings and builtins may have any size. */
void *zx_heap_alloc_obj(zx_heap *h, zx_objtype type, size_t size);
/* Account for growth of an object's out-of-line storage; false when over the limit. */
bool zx_heap_account(zx_heap *h, ptrdiff_t delta);
/* Bytes in use; while other threads run as mutators it includes the bytes they have reserved
 * and not used yet (value.c, "Per-thread credit": under 128 KiB each). */
size_t zx_heap_bytes(const zx_heap *h);
size_t zx_heap_peak(const zx_heap *h);
/* o (a list, map, cell or closure) had a container or closure stored into it: register it
 * with the heap it came from (h is ignored) as a possible member of a cycle. */
void zx_heap_note_cycle_candidate(zx_heap *h, zx_obj *o);
/* Mutators: the collector runs only on a thread that is the heap's only mutator.  The thread
 * that runs a program (or a call into it) enters before and leaves after; so does every
 * piece of parallel work on its worker; a task that waits for pieces suspends itself around
 * the wait (suspend returns a token for resume: 0 when the thread was no mutator).  enter
 * waits while a collection runs.  Threads that never enter (a background compile) never
 * collect, and may not hold references that no count records while a mutator runs. */
void zx_heap_mutator_enter(zx_heap *h);
void zx_heap_mutator_leave(zx_heap *h);
int zx_heap_mutator_suspend(zx_heap *h);
void zx_heap_mutator_resume(zx_heap *h, int token);
/* Collect unreachable cycles now if this thread is the only mutator; false if it did not.
 * Triggered by itself as candidates and bytes grow and before an allocation fails the
 * memory limit; ZX_GC_STRESS=1 in the environment makes every candidate store collect. */
bool zx_heap_collect(zx_heap *h);
/* A safe point of a mutator (a back-edge or call poll): park here while a collection that
 * another mutator asked for waits for every mutator to stop; the last to park collects.
 * The heap then sets ZX_POLL_COLLECT in *hint (the run's cancel hint, which compiled code
 * polls) while such a collection is wanted. */
#define ZX_POLL_COLLECT 2
void zx_heap_safepoint(zx_heap *h);
void zx_heap_set_poll_hint(zx_heap *h, atomic_int *hint);
uint64_t zx_heap_collections(const zx_heap *h);
uint64_t zx_heap_cycles_freed(const zx_heap *h);   /* objects freed by the collector */
/* NUMA placement of the out-of-line storage of lists and maps (docs/parallel.md, "Shared
 * state"): the scheduler calls this on a worker pinned to NUMA node `node` of t as it enters
 * its arena, and with (NULL, -1) as it leaves.  Lists and maps made on that thread remember the
 * node; their items, entries and index of ZX_NUMA_STORE_MIN bytes or more are then bound to it
 * with topo_alloc_on_node, also when they grow later on another thread, and never move. */
struct topo;
#define ZX_NUMA_STORE_MIN ((size_t)256 << 10)
void zx_heap_thread_node(const struct topo *t, int node);

/* ---- strings (UTF-8) ---- */
zx_string *zx_string_new(zx_heap *h, const char *bytes, size_t n);  /* NULL: memory limit */
zx_string *zx_string_concat(zx_heap *h, const zx_string *a, const zx_string *b);
zx_string *zx_string_repeat(zx_heap *h, const zx_string *s, int64_t times);
/* The code point at index i (0-based) as a new one-character string, or NULL if out of range. */
zx_string *zx_string_at(zx_heap *h, const zx_string *s, int64_t i);
bool zx_string_eq(const zx_string *a, const zx_string *b);
int zx_string_cmp(const zx_string *a, const zx_string *b);      /* by code point */
uint64_t zx_string_hash(zx_string *s);
/* True when bytes[0..n) is valid UTF-8. */
bool zx_utf8_valid(const char *bytes, size_t n);

/* ---- lists ---- */
/* A new generic list with room for cap items (filled through items[] and len by its maker,
 * which may then call zx_list_narrow); NULL: memory limit. */
zx_list *zx_list_new(zx_heap *h, uint32_t cap);
bool zx_list_push(zx_heap *h, zx_list *l, zx_value v);          /* takes a new reference to v */
/* zx_list_push into a list that nothing but the caller references yet (a literal being
 * built, a result being filled): no value can reach such a list, so storing into it cannot
 * close a cycle and it is not registered as a candidate (value.c, "Cycle collection"). */
bool zx_list_push_fresh(zx_heap *h, zx_list *l, zx_value v);
/* A new empty list of kind `kind` with room for cap items; NULL: memory limit. */
zx_list *zx_list_new_kind(zx_heap *h, unsigned kind, uint32_t cap);
/* A new list of the n items of l from `from` on, in l's kind, with room for `extra` more;
 * NULL: memory limit. */
zx_list *zx_list_slice(zx_heap *h, const zx_list *l, uint32_t from, uint32_t n, uint32_t extra);
/* Store v at i < len (takes a new reference to v, drops the old item's); false when making
 * the list generic ran out of memory (the list is unchanged). */
bool zx_list_store(zx_heap *h, zx_list *l, uint32_t i, zx_value v);
/* Make l generic (a no-op if it is); false on memory limit (l unchanged). */
bool zx_list_make_generic(zx_list *l);
/* A list just built (no other reference to it yet) whose items are all ints, all floats or all
 * bools takes that kind; on memory limit it stays generic, which is equally right. */
void zx_list_narrow(zx_list *l);
/* Bytes of one item of kind k. */
static inline size_t zx_list_item_size(unsigned k)
{
    return k == ZX_LIST_GENERIC ? sizeof(zx_value) : k == ZX_LIST_BOOL ? 1 : 8;
}
/* The unboxed kind that can hold v (its tag), or ZX_LIST_GENERIC. */
static inline unsigned zx_list_kind_for(zx_value v)
{
    return v.tag == ZX_T_INT || v.tag == ZX_T_FLOAT || v.tag == ZX_T_BOOL ? v.tag : ZX_LIST_GENERIC;
}
/* Item i < len as a value; borrowed (the list holds the reference of an object item). */
static inline zx_value zx_list_get(const zx_list *l, uint32_t i)
{
    if (l->kind == ZX_LIST_GENERIC) return l->items[i];
    if (l->kind == ZX_LIST_INT) return zx_int(l->ints[i]);
    if (l->kind == ZX_LIST_FLOAT) return zx_float(l->floats[i]);
    return zx_bool(l->bools[i]);
}
/* Store v at i < len of an unboxed list whose kind is v's tag (nothing to count or release). */
static inline void zx_list_put(zx_list *l, uint32_t i, zx_value v)
{
    if (l->kind == ZX_LIST_INT) l->ints[i] = v.u.i;
    else if (l->kind == ZX_LIST_FLOAT) l->floats[i] = v.u.f;
    else l->bools[i] = v.u.b;
}
/* Push v without a call when the list has room and is of v's unboxed kind; false (nothing
 * done) otherwise: then zx_list_push. */
static inline bool zx_list_push_unboxed(zx_list *l, zx_value v)
{
    if (l->kind == ZX_LIST_GENERIC || v.tag != l->kind || l->len == l->cap) return false;
    zx_list_put(l, l->len++, v);
    return true;
}
/* zx_list_store without the call where v fits the list's kind as it is (no reference counts
 * change for an unboxed item). */
static inline bool zx_list_set(zx_heap *h, zx_list *l, uint32_t i, zx_value v)
{
    if (l->kind == ZX_LIST_GENERIC || v.tag != l->kind) return zx_list_store(h, l, i, v);
    zx_list_put(l, i, v);
    return true;
}
/* ---- maps ---- */
zx_map *zx_map_new(zx_heap *h, uint32_t cap);
/* Returns a borrowed pointer to the value for key, or NULL. */
zx_value *zx_map_get(zx_map *m, zx_value key);
/* Insert or replace (takes new references); false on memory limit. Key must be hashable. */
bool zx_map_set(zx_heap *h, zx_map *m, zx_value key, zx_value value);
/* zx_map_set into a map that nothing but the caller references yet (as zx_list_push_fresh). */
bool zx_map_set_fresh(zx_heap *h, zx_map *m, zx_value key, zx_value value);
/* Remove key; false if absent.  The removed key and value references pass to the caller. */
bool zx_map_delete(zx_map *m, zx_value key, zx_value *key_out, zx_value *value_out);
bool zx_value_hashable(zx_value v);

/* ---- cells and closures ---- */
zx_cell *zx_cell_new(zx_heap *h, zx_value v);                   /* takes a new reference */
zx_func *zx_func_new(zx_heap *h, struct zx_code *code, struct zx_program *prog, const char *name,
                     bool is_lambda, uint32_t nfree);

/* ---- generic operations ---- */
bool zx_value_equal(zx_value a, zx_value b);     /* ==: exact numeric, structural lists and maps */
const char *zx_type_name(zx_value v);            /* Integer, Float, String, ... */

/* Growable byte buffer used for printing and messages. */
typedef struct zx_buf {
    char *data;
    size_t len, cap;
    bool truncated;               /* an append ran out of memory: the text is incomplete */
} zx_buf;
void zx_buf_init(zx_buf *b);
void zx_buf_free(zx_buf *b);
void zx_buf_put(zx_buf *b, const char *s, size_t n);
void zx_buf_puts(zx_buf *b, const char *s);
void zx_buf_printf(zx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append v as print formats it (LANGUAGE-FACTS.md "How print formats values"). */
void zx_format_value(zx_buf *b, zx_value v);
/* Python repr of a double: shortest round-trip digits, exponent iff exp < -4 or >= 16. */
void zx_format_float(zx_buf *b, double d);

#endif
