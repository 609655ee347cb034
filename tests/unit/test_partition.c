/* test_partition.c — unit tests of runtime/partition: the layout of globals in partitions, the lock, snapshots. */
#include "check.h"
#include "runtime/partition.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

static uintptr_t addr(const zx_partitions *ps, uint32_t g) { return (uintptr_t)partitions_var(ps, g); }
static uintptr_t line_of(const zx_partitions *ps, uint32_t g) { return addr(ps, g) / ZX_CACHE_LINE; }

static bool inside(const zx_partitions *ps, uint32_t g)
{
    const partition *p = &ps->parts[ps->part_of[g]];
    return addr(ps, g) >= (uintptr_t)p->mem && addr(ps, g) + sizeof(zx_value) <= (uintptr_t)p->mem + p->bytes;
}

static void test_layout(void)
{
    char err[256];
    topo *t = NULL;
    CHECK(topo_create("package:2 numa:2 core:2 pu:1", &t, err, sizeof err) == 0);
    /* node 0: globals 0, 1 (group 5), 2 (group 7); node 3: global 3 (group 1);
     * home: 4 shared padded, 5 padded, 6 and 7 packed (group 9), 8 shared padded */
    enum { N = 9 };
    partition_place place[N] = {
        { 0, 5, 0 }, { 0, 5, 0 }, { 0, 7, 0 }, { 1, 1, 0 }, { 2, 0, 1 }, { 2, 0, 1 }, { 2, 9, 0 }, { 2, 9, 0 },
        { 2, 0, 1 },
    };
    uint8_t shared[N] = { 0, 0, 0, 0, 1, 0, 0, 0, 1 };
    int nodes[3] = { 0, 3, ZX_PARTITION_HOME };
    zx_partitions *ps = t ? partitions_create(t, N, shared, place, nodes, 3) : NULL;
    CHECK(ps != NULL);
    if (ps) {
        CHECK(ps->nparts == 3);
        CHECK(ps->parts[0].node == 0 && ps->parts[1].node == 3 && ps->parts[2].node == ZX_PARTITION_HOME);
        CHECK(ps->parts[0].nvars == 3 && ps->parts[1].nvars == 1 && ps->parts[2].nvars == 5);
        for (uint32_t p = 0; p < ps->nparts; p++) {
            CHECK(ps->parts[p].bytes % ZX_CACHE_LINE == 0);
            CHECK((uintptr_t)ps->parts[p].mem % ZX_CACHE_LINE == 0);
            CHECK(ps->parts[p].memory == PARTITION_PLAIN);      /* a synthetic topology */
        }
        for (uint32_t g = 0; g < N; g++) {
            CHECK(ps->part_of[g] == place[g].part);
            CHECK(inside(ps, g));
            CHECK(addr(ps, g) % sizeof(zx_value) == 0);
            CHECK(partitions_var(ps, g)->tag == ZX_T_UNDEF);
            CHECK(ps->is_shared[g] == shared[g]);
        }
        /* one group packed, the next on a line of its own */
        CHECK(addr(ps, 1) == addr(ps, 0) + sizeof(zx_value));
        CHECK(line_of(ps, 0) == line_of(ps, 1));
        CHECK(line_of(ps, 2) != line_of(ps, 1));
        CHECK(ps->parts[0].bytes == 2 * ZX_CACHE_LINE);
        CHECK(ps->parts[1].bytes == ZX_CACHE_LINE);
        /* padded globals: a line each, shared with nothing */
        for (uint32_t g = 4; g < N; g++)
            for (uint32_t h = 4; h < N; h++)
                if (g != h && (place[g].padded || place[h].padded)) CHECK(line_of(ps, g) != line_of(ps, h));
        CHECK(addr(ps, 4) % ZX_CACHE_LINE == 0 && addr(ps, 5) % ZX_CACHE_LINE == 0);
        CHECK(line_of(ps, 6) == line_of(ps, 7));
        CHECK(ps->parts[2].bytes == 4 * ZX_CACHE_LINE);
        /* stores and release */
        partitions_store(ps, 0, zx_int(42));
        partitions_store(ps, 4, zx_int(7));
        CHECK(partitions_var(ps, 0)->tag == ZX_T_INT && partitions_var(ps, 0)->u.i == 42);
        CHECK(partitions_var(ps, 4)->u.i == 7);
        CHECK(partitions_var(ps, 1)->tag == ZX_T_UNDEF);
        partitions_destroy(ps);
    }
    /* a bad partition index is refused */
    place[3].part = 3;
    CHECK(t == NULL || partitions_create(t, N, shared, place, nodes, 3) == NULL);
    topo_destroy(t);

    /* without a placement: one home partition of ordinary memory, shared globals padded */
    ps = partitions_create(NULL, N, shared, NULL, NULL, 0);
    CHECK(ps != NULL);
    if (ps) {
        CHECK(ps->nparts == 1 && ps->parts[0].node == ZX_PARTITION_HOME && ps->parts[0].nvars == N);
        CHECK(addr(ps, 1) == addr(ps, 0) + sizeof(zx_value));
        CHECK(line_of(ps, 4) != line_of(ps, 3) && line_of(ps, 4) != line_of(ps, 5));
        CHECK(line_of(ps, 8) != line_of(ps, 7));
        for (uint32_t g = 0; g < N; g++) CHECK(inside(ps, g));
        partitions_destroy(ps);
    }
    /* no globals at all */
    ps = partitions_create(NULL, 0, NULL, NULL, NULL, 0);
    CHECK(ps != NULL && ps->nparts == 1 && ps->parts[0].nvars == 0);
    partitions_destroy(ps);
}

/* Concurrent snapshots while writers replace two shared globals together: x and y always hold
 * equal values (an integer, or a string of the same text), so a torn snapshot shows them
 * different.  The strings are heap objects: a reader that took one just as a writer released
 * it would crash or read freed memory (ASan, TSan). */
/* Sized for two shared cores: readers that take the lock back to back starve glibc's writers
 * (it prefers readers), so each reader yields between snapshots, as a chunk does between its
 * starts. */
enum { READERS = 4, WRITERS = 2, ROUNDS = 10000 };

typedef struct torn_ctx {
    zx_partitions *ps;
    zx_heap *heap;
    atomic_int writers_left;
    atomic_long torn, seen;
} torn_ctx;

static const uint32_t XY[2] = { 0, 2 };   /* globals 0 and 2 of the test: x and y */

static void *writer(void *arg)
{
    torn_ctx *c = arg;
    static const char *const texts[] = { "left", "right", "up", "down" };
    for (int r = 0; r < ROUNDS; r++) {
        zx_value v[2];
        if (r % 3 == 0) {
            /* in place under the write lock, as the runtime applies a piece's updates */
            partitions_write_lock(c->ps);
            zx_value *x = partitions_var(c->ps, 0), *y = partitions_var(c->ps, 2);
            v[0] = *x;
            v[1] = *y;
            *x = zx_int(r);
            *y = zx_int(r);
            partitions_write_unlock(c->ps);
        } else {
            zx_string *s = zx_string_new(c->heap, texts[r % 4], strlen(texts[r % 4]));
            if (!s) continue;
            zx_obj_incref(s);
            v[0] = zx_objval(s);
            v[1] = zx_objval(s);
            partitions_exchange(c->ps, XY, 2, v);
        }
        zx_decref(v[0]);
        zx_decref(v[1]);
    }
    atomic_fetch_sub(&c->writers_left, 1);
    return NULL;
}

static bool same(zx_value a, zx_value b)
{
    if (a.tag != b.tag) return false;
    if (a.tag == ZX_T_INT) return a.u.i == b.u.i;
    if (a.tag != ZX_T_OBJ) return a.tag == ZX_T_UNDEF;
    const zx_string *s = ZX_AS_STRING(a), *u = ZX_AS_STRING(b);
    return s->nbytes == u->nbytes && memcmp(s->data, u->data, s->nbytes) == 0;
}

static void *reader(void *arg)
{
    torn_ctx *c = arg;
    while (atomic_load(&c->writers_left) > 0) {
        zx_value v[2];
        partitions_snapshot(c->ps, XY, 2, v);
        if (!same(v[0], v[1])) atomic_fetch_add(&c->torn, 1);
        atomic_fetch_add(&c->seen, 1);
        zx_decref(v[0]);
        zx_decref(v[1]);
        sched_yield();
    }
    return NULL;
}

static void test_snapshot_never_torn(void)
{
    uint8_t shared[3] = { 1, 0, 1 };
    torn_ctx c;
    c.ps = partitions_create(NULL, 3, shared, NULL, NULL, 0);
    c.heap = zx_heap_create(0);
    atomic_init(&c.writers_left, WRITERS);
    atomic_init(&c.torn, 0);
    atomic_init(&c.seen, 0);
    CHECK(c.ps != NULL && c.heap != NULL);
    if (!c.ps || !c.heap) return;
    pthread_t r[READERS], w[WRITERS];
    zx_rc_concurrent_begin();     /* threads share objects: atomic counts (value.h) */
    for (int i = 0; i < READERS; i++) CHECK(pthread_create(&r[i], NULL, reader, &c) == 0);
    for (int i = 0; i < WRITERS; i++) CHECK(pthread_create(&w[i], NULL, writer, &c) == 0);
    for (int i = 0; i < WRITERS; i++) pthread_join(w[i], NULL);
    for (int i = 0; i < READERS; i++) pthread_join(r[i], NULL);
    zx_rc_concurrent_end();
    CHECK(atomic_load(&c.torn) == 0);
    CHECK(atomic_load(&c.seen) > 0);
    zx_value last[2];
    partitions_snapshot(c.ps, XY, 2, last);
    CHECK(same(last[0], last[1]));
    zx_decref(last[0]);
    zx_decref(last[1]);
    partitions_destroy(c.ps);              /* releases the last strings */
    CHECK(zx_heap_bytes(c.heap) == 0);
    zx_heap_destroy(c.heap);
}

int main(void)
{
    test_layout();
    test_snapshot_never_torn();
    return CHECK_DONE();
}
