/* test_sched.c — unit tests of runtime/tbb_shim: DAG order, parallel for, fork, cancellation, nesting, threads, pinning. */
#include "check.h"
#include "runtime/tbb_shim.h"
#include "runtime/topology.h"

#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* Callbacks run on many threads, and check.h's counters are not atomic: callbacks count
 * what went wrong here and the main thread CHECKs it. */

static tbbshim_executor *make_exec(int workers, uint64_t seed)
{
    tbbshim_config cfg = {0};
    tbbshim_executor *ex = NULL;
    char err[256] = "";
    cfg.workers = workers;
    cfg.seed = seed;
    CHECK(tbbshim_create(&cfg, &ex, err, sizeof err) == TBBSHIM_OK);
    if (!ex)
        fprintf(stderr, "tbbshim_create(%d): %s\n", workers, err);
    return ex;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

/* ---- a DAG in the shim's form, plus predecessor lists for checking ---- */

typedef struct dag {
    uint32_t n;
    uint32_t *succ_off, *succs, *npreds;
    uint32_t *pred_off, *preds;
    atomic_uint *ran;             /* times each node ran */
    atomic_ulong *finished;       /* global completion tick of each node, 0 = not yet */
    atomic_ulong clock;
    atomic_int violations;        /* a node started before one of its predecessors finished */
    atomic_int cancel;
    uint32_t fail_at, cancel_at;  /* UINT32_MAX: never */
    long sleep_us;
    tbbshim_executor *nested;     /* non-NULL: each node runs a nested parallel_for on it */
    atomic_int nested_bad;
} dag;

/* Edges only from lower to higher index, each with probability `density`. */
static void dag_random(dag *d, uint32_t n, double density, uint64_t seed)
{
    uint32_t ne = 0, cap = 64;
    memset(d, 0, sizeof *d);
    d->n = n;
    d->succ_off = calloc(n + 1, sizeof *d->succ_off);
    d->succs = malloc(cap * sizeof *d->succs);
    d->npreds = calloc(n, sizeof *d->npreds);
    for (uint32_t i = 0; i < n; i++) {
        d->succ_off[i] = ne;
        for (uint32_t j = i + 1; j < n; j++) {
            seed = mix(seed + 0x9e3779b97f4a7c15ULL);
            if ((double)(seed >> 11) / (double)(1ULL << 53) >= density)
                continue;
            if (ne == cap) {
                cap *= 2;
                d->succs = realloc(d->succs, cap * sizeof *d->succs);
            }
            d->succs[ne++] = j;
            d->npreds[j]++;
        }
    }
    d->succ_off[n] = ne;
    d->pred_off = calloc(n + 1, sizeof *d->pred_off);
    d->preds = malloc((ne ? ne : 1) * sizeof *d->preds);
    for (uint32_t i = 0; i < n; i++)
        d->pred_off[i + 1] = d->pred_off[i] + d->npreds[i];
    {
        uint32_t *fill = calloc(n, sizeof *fill);
        for (uint32_t i = 0; i < n; i++)
            for (uint32_t e = d->succ_off[i]; e < d->succ_off[i + 1]; e++) {
                uint32_t j = d->succs[e];
                d->preds[d->pred_off[j] + fill[j]++] = i;
            }
        free(fill);
    }
    d->ran = calloc(n, sizeof *d->ran);
    d->finished = calloc(n, sizeof *d->finished);
    d->fail_at = d->cancel_at = UINT32_MAX;
}

/* A chain 0 -> 1 -> ... -> n-1. */
static void dag_chain(dag *d, uint32_t n)
{
    dag_random(d, n, 0.0, 1);
    for (uint32_t i = 0; i < n; i++) {
        d->succ_off[i] = i < n - 1 ? i : n - 1;
        d->npreds[i] = i > 0;
        d->pred_off[i] = i > 0 ? i - 1 : 0;
    }
    d->succ_off[n] = n - 1;
    d->pred_off[n] = n - 1;
    d->succs = realloc(d->succs, n * sizeof *d->succs);
    d->preds = realloc(d->preds, n * sizeof *d->preds);
    for (uint32_t i = 0; i + 1 < n; i++) {
        d->succs[i] = i + 1;
        d->preds[i] = i;
    }
}

static void dag_free(dag *d)
{
    free(d->succ_off);
    free(d->succs);
    free(d->npreds);
    free(d->pred_off);
    free(d->preds);
    free(d->ran);
    free(d->finished);
}

static void nested_body(void *ctx, size_t begin, size_t end, int slot)
{
    atomic_uint *hits = ctx;
    for (size_t i = begin; i < end; i++)
        atomic_fetch_add(&hits[i], 1);
}

static int dag_node(void *ctx, uint32_t node)
{
    dag *d = ctx;
    for (uint32_t k = d->pred_off[node]; k < d->pred_off[node + 1]; k++)
        if (atomic_load(&d->finished[d->preds[k]]) == 0)
            atomic_fetch_add(&d->violations, 1);
    atomic_fetch_add(&d->ran[node], 1);
    if (d->sleep_us)
        sleep_us(d->sleep_us);
    if (d->nested) {
        atomic_uint hits[300];
        memset(hits, 0, sizeof hits);
        if (tbbshim_parallel_for(d->nested, 300, 7, nested_body, hits, NULL) != TBBSHIM_OK)
            atomic_fetch_add(&d->nested_bad, 1);
        for (int i = 0; i < 300; i++)
            if (atomic_load(&hits[i]) != 1)
                atomic_fetch_add(&d->nested_bad, 1);
    }
    atomic_store(&d->finished[node], atomic_fetch_add(&d->clock, 1) + 1);
    if (node == d->cancel_at)
        atomic_store(&d->cancel, 1);
    return node == d->fail_at;
}

static tbbshim_status dag_run(tbbshim_executor *ex, dag *d)
{
    return tbbshim_run_dag(ex, d->n, d->succ_off, d->succs, d->npreds, dag_node, d, &d->cancel);
}

/* Every node ran once, after all its predecessors. */
static int dag_ok(dag *d)
{
    int ok = atomic_load(&d->violations) == 0;
    for (uint32_t j = 0; j < d->n; j++) {
        ok &= atomic_load(&d->ran[j]) == 1;
        for (uint32_t k = d->pred_off[j]; k < d->pred_off[j + 1]; k++)
            ok &= atomic_load(&d->finished[d->preds[k]]) < atomic_load(&d->finished[j]);
    }
    return ok;
}

static void test_random_dags(void)
{
    static const int workers[] = {1, 2, 3, 8};
    static const double density[] = {0.005, 0.02, 0.1};
    for (int w = 0; w < 4; w++) {
        int bad = 0;
        for (int run = 0; run < 50; run++) {
            /* Every fifth run in the ordinary mode, the rest under random seeds. */
            uint64_t seed = run % 5 == 0 ? 0 : mix((uint64_t)(w * 1000 + run + 1)) | 1;
            tbbshim_executor *ex = make_exec(workers[w], seed);
            dag d;
            tbbshim_status st;
            if (!ex)
                return;
            dag_random(&d, 200, density[run % 3], (uint64_t)(run * 7 + w));
            st = dag_run(ex, &d);
            if (st != TBBSHIM_OK || !dag_ok(&d)) {
                bad++;
                fprintf(stderr, "DAG run failed: workers %d run %d seed %llu status %d\n", workers[w], run,
                        (unsigned long long)seed, (int)st);
            }
            dag_free(&d);
            tbbshim_destroy(ex);
        }
        CHECK(bad == 0);
    }
}

/* ---- threads, stacks and statistics ---- */

typedef struct fork_ctx {
    pthread_t ids[256];
    size_t stacks[256];
    int slots[256];
    tbbshim_executor *ex;
    long sleep_us;
    uint32_t fail_at;             /* task i == fail_at fails */
    int fail_nth;                 /* the fail_nth task to start fails (0: none) */
    atomic_int ran;
    atomic_int *cancel_after;  /* set *cancel_after once this many tasks ran */
    int cancel_at;
} fork_ctx;

static int fork_task(void *ctx, uint32_t i)
{
    fork_ctx *f = ctx;
    pthread_attr_t attr;
    int n = atomic_fetch_add(&f->ran, 1) + 1;
    if (f->cancel_after && n == f->cancel_at)
        atomic_store(f->cancel_after, 1);
    f->ids[i] = pthread_self();
    f->slots[i] = f->ex ? tbbshim_current_slot(f->ex) : 0;
    f->stacks[i] = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstacksize(&attr, &f->stacks[i]);
        pthread_attr_destroy(&attr);
    }
    if (f->sleep_us)
        sleep_us(f->sleep_us);
    return i == f->fail_at || n == f->fail_nth;
}

static void test_threads(void)
{
    tbbshim_executor *ex = make_exec(8, 0);
    fork_ctx f;
    tbbshim_slot_stats st[9];
    int threads = -1, distinct = 0, worker_stacks_ok = 1, n_slots, bad_slots = 0;
    uint64_t tasks = 0, busy = 0;
    pthread_t main_thread = pthread_self();
    if (!ex)
        return;
    CHECK(tbbshim_workers(ex) == 8);
    memset(&f, 0, sizeof f);
    f.sleep_us = 3000;
    f.fail_at = UINT32_MAX;
    f.ex = ex;
    /* Sleeping tasks keep every thread busy long enough for all eight to join. */
    CHECK(tbbshim_fork(ex, 96, fork_task, &f, NULL) == TBBSHIM_OK);
    CHECK(atomic_load(&f.ran) == 96);
    for (int i = 0; i < 96; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++)
            seen |= pthread_equal(f.ids[i], f.ids[j]);
        distinct += !seen;
        /* Slot 0 is the calling thread's, and only its. */
        if ((f.slots[i] == 0) != (pthread_equal(f.ids[i], main_thread) != 0) || f.slots[i] < 0 || f.slots[i] >= 8)
            bad_slots++;
        /* Workers get the stack size asked for (64 MiB by default); the main thread has its own. */
        if (!pthread_equal(f.ids[i], main_thread) && f.stacks[i] < TBBSHIM_DEFAULT_STACK)
            worker_stacks_ok = 0;
    }
    CHECK(distinct == 8);
    CHECK(bad_slots == 0);
    CHECK(worker_stacks_ok);
    n_slots = tbbshim_stats(ex, st, 9, &threads);
    CHECK(n_slots == 9);
    CHECK(threads == 8);
    for (int s = 0; s < 9; s++) {
        tasks += st[s].tasks;
        busy += st[s].busy_ns;
    }
    CHECK(tasks == 96);
    CHECK(st[8].tasks == 0);  /* nothing ran outside the arena */
    CHECK(busy >= 96ull * 3000 * 1000);
    tbbshim_stats_reset(ex);
    CHECK(tbbshim_stats(ex, st, 9, &threads) == 9);
    CHECK(threads == 0 && st[0].tasks == 0 && st[0].busy_ns == 0);
    tbbshim_destroy(ex);
}

/* ---- parallel for ---- */

typedef struct pf_ctx {
    atomic_uint *hits;
    size_t grain;
    atomic_int too_big;
    atomic_int bad_slot;
    int workers;
    atomic_long counter;
    atomic_int *cancel;
    atomic_long calls;
} pf_ctx;

static void pf_body(void *ctx, size_t begin, size_t end, int slot)
{
    pf_ctx *p = ctx;
    if (p->cancel)
        atomic_store(p->cancel, 1);
    if (p->grain && end - begin > p->grain)
        atomic_fetch_add(&p->too_big, 1);
    if (slot < 0 || slot >= p->workers)
        atomic_fetch_add(&p->bad_slot, 1);
    atomic_fetch_add(&p->calls, 1);
    for (size_t i = begin; i < end; i++)
        atomic_fetch_add(&p->hits[i], 1);
}

static void test_parallel_for(void)
{
    static const int workers[] = {1, 3, 8};
    static const size_t grains[] = {0, 1, 7, 1000, 200000};
    const size_t n = 100003;
    atomic_uint *hits = calloc(n, sizeof *hits);
    for (int w = 0; w < 3; w++)
        for (int s = 0; s < 2; s++) {
            tbbshim_executor *ex = make_exec(workers[w], s ? 0xfeedULL + (uint64_t)w : 0);
            if (!ex)
                continue;
            for (int g = 0; g < 5; g++) {
                pf_ctx p;
                int bad = 0;
                memset(&p, 0, sizeof p);
                memset(hits, 0, n * sizeof *hits);
                p.hits = hits;
                p.grain = grains[g];
                p.workers = workers[w];
                CHECK(tbbshim_parallel_for(ex, n, grains[g], pf_body, &p, NULL) == TBBSHIM_OK);
                for (size_t i = 0; i < n; i++)
                    bad += atomic_load(&hits[i]) != 1;
                CHECK(bad == 0);
                CHECK(atomic_load(&p.too_big) == 0);
                CHECK(atomic_load(&p.bad_slot) == 0);
            }
            CHECK(tbbshim_parallel_for(ex, 0, 0, pf_body, NULL, NULL) == TBBSHIM_OK);
            tbbshim_destroy(ex);
        }
    free(hits);
}

static void hammer_body(void *ctx, size_t begin, size_t end, int slot)
{
    atomic_long *counter = ctx;
    for (size_t i = begin; i < end; i++)
        atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

static void test_hammer(void)
{
    for (int s = 0; s < 2; s++) {
        tbbshim_executor *ex = make_exec(8, s ? 99 : 0);
        atomic_long counter = 0;
        int threads = 0;
        if (!ex)
            return;
        CHECK(tbbshim_parallel_for(ex, 2000000, 0, hammer_body, &counter, NULL) == TBBSHIM_OK);
        CHECK(atomic_load(&counter) == 2000000);
        tbbshim_stats(ex, NULL, 0, &threads);
        CHECK(threads >= 1 && threads <= 8);
        tbbshim_destroy(ex);
    }
}

/* ---- cancellation and failure ---- */

static void test_cancel(void)
{
    for (int s = 0; s < 2; s++) {
        tbbshim_executor *ex = make_exec(3, s ? 7 : 0);
        dag d;
        if (!ex)
            return;

        /* A chain: everything after the cancelling node is skipped. */
        dag_chain(&d, 100);
        d.cancel_at = 10;
        CHECK(dag_run(ex, &d) == TBBSHIM_CANCELLED);
        for (uint32_t i = 0; i < 100; i++)
            CHECK(atomic_load(&d.ran[i]) == (i <= 10));
        dag_free(&d);

        /* A failing node: FAILED, and its successors never run. */
        dag_chain(&d, 100);
        d.fail_at = 42;
        CHECK(dag_run(ex, &d) == TBBSHIM_FAILED);
        CHECK(atomic_load(&d.ran[42]) == 1 && atomic_load(&d.ran[43]) == 0 && atomic_load(&d.ran[99]) == 0);
        dag_free(&d);

        /* A wide random DAG cancelled early still returns, and skips work. */
        dag_random(&d, 2000, 0.002, 5);
        d.cancel_at = 3;
        d.sleep_us = 50;
        CHECK(dag_run(ex, &d) == TBBSHIM_CANCELLED);
        CHECK(atomic_load(&d.clock) < 2000);
        CHECK(atomic_load(&d.violations) == 0);
        dag_free(&d);

        /* Cancelled before the start: nothing runs. */
        dag_random(&d, 50, 0.05, 9);
        atomic_store(&d.cancel, 1);
        CHECK(dag_run(ex, &d) == TBBSHIM_CANCELLED);
        CHECK(atomic_load(&d.clock) == 0);
        dag_free(&d);

        /* parallel_for: cancelled from inside the first range, the rest is skipped. */
        {
            const size_t n = 10000;
            atomic_uint *hits = calloc(n, sizeof *hits);
            atomic_int cancel = 0;
            pf_ctx p;
            memset(&p, 0, sizeof p);
            p.hits = hits;
            p.workers = 3;
            p.cancel = &cancel;
            CHECK(tbbshim_parallel_for(ex, n, 1, pf_body, &p, &cancel) == TBBSHIM_CANCELLED);
            CHECK(atomic_load(&p.calls) >= 1 && atomic_load(&p.calls) < (long)n);
            atomic_store(&p.calls, 0);
            CHECK(tbbshim_parallel_for(ex, n, 1, pf_body, &p, &cancel) == TBBSHIM_CANCELLED);
            CHECK(atomic_load(&p.calls) == 0);
            free(hits);
        }

        /* fork: a failure or a cancel skips tasks not yet started. */
        {
            fork_ctx f;
            atomic_int cancel = 0;
            memset(&f, 0, sizeof f);
            f.fail_at = UINT32_MAX;
            f.fail_nth = 1;
            f.sleep_us = 200;
            CHECK(tbbshim_fork(ex, 200, fork_task, &f, NULL) == TBBSHIM_FAILED);
            CHECK(atomic_load(&f.ran) >= 1 && atomic_load(&f.ran) < 200);
            memset(&f, 0, sizeof f);
            f.fail_at = UINT32_MAX;
            f.cancel_after = &cancel;
            f.cancel_at = 5;
            f.sleep_us = 200;  /* so that the others cannot finish all while the canceller is preempted */
            CHECK(tbbshim_fork(ex, 200, fork_task, &f, &cancel) == TBBSHIM_CANCELLED);
            CHECK(atomic_load(&f.ran) >= 5 && atomic_load(&f.ran) < 200);
        }
        tbbshim_destroy(ex);
    }
}

/* ---- nesting ---- */

typedef struct nest_ctx {
    tbbshim_executor *ex;
    atomic_int bad;
    atomic_long leaves;
    int depth;
} nest_ctx;

static int nest_fork(void *ctx, uint32_t i);

static int nest_dag_node(void *ctx, uint32_t node)
{
    nest_ctx *c = ctx;
    atomic_fetch_add(&c->leaves, 1);
    return 0;
}

/* A fork whose tasks fork again and run a small DAG: three levels of nested waits. */
static int nest_fork(void *ctx, uint32_t i)
{
    nest_ctx *c = ctx;
    /* 0 -> 1, 0 -> 2, 1 -> 3, 2 -> 3 */
    static const uint32_t off[5] = {0, 2, 3, 4, 4}, succ[4] = {1, 2, 3, 3}, np[4] = {0, 1, 1, 2};
    (void)i;
    if (c->depth < 2) {
        nest_ctx inner;
        memset(&inner, 0, sizeof inner);
        inner.ex = c->ex;
        inner.depth = c->depth + 1;
        if (tbbshim_fork(c->ex, 4, nest_fork, &inner, NULL) != TBBSHIM_OK)
            atomic_fetch_add(&c->bad, 1);
        atomic_fetch_add(&c->bad, atomic_load(&inner.bad));
        atomic_fetch_add(&c->leaves, atomic_load(&inner.leaves));
    }
    if (tbbshim_run_dag(c->ex, 4, off, succ, np, nest_dag_node, c, NULL) != TBBSHIM_OK)
        atomic_fetch_add(&c->bad, 1);
    return 0;
}

static void test_nested(void)
{
    static const int workers[] = {1, 3, 8};
    for (int w = 0; w < 3; w++)
        for (int s = 0; s < 2; s++) {
            tbbshim_executor *ex = make_exec(workers[w], s ? 1234 + (uint64_t)w : 0);
            dag d;
            nest_ctx c;
            if (!ex)
                return;
            /* parallel_for inside every DAG node. */
            dag_random(&d, 60, 0.05, (uint64_t)w);
            d.nested = ex;
            CHECK(dag_run(ex, &d) == TBBSHIM_OK);
            CHECK(dag_ok(&d));
            CHECK(atomic_load(&d.nested_bad) == 0);
            dag_free(&d);
            /* fork in fork in fork, DAGs at every level: 4 + 16 + 64 tasks, 4 DAG nodes each. */
            memset(&c, 0, sizeof c);
            c.ex = ex;
            CHECK(tbbshim_fork(ex, 4, nest_fork, &c, NULL) == TBBSHIM_OK);
            CHECK(atomic_load(&c.bad) == 0);
            CHECK(atomic_load(&c.leaves) == (4 + 16 + 64) * 4);
            tbbshim_destroy(ex);
        }
}

/* ---- busy time of nested work ---- */

typedef struct busy_ctx {
    tbbshim_executor *ex;
    int depth;               /* levels of nested forks below this one */
} busy_ctx;

static int busy_task(void *ctx, uint32_t i)
{
    busy_ctx *c = ctx;
    (void)i;
    if (c->depth == 0) {
        sleep_us(2000);
        return 0;
    }
    busy_ctx inner = {c->ex, c->depth - 1};
    return tbbshim_fork(c->ex, 3, busy_task, &inner, NULL) != TBBSHIM_OK;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A task that waits for nested tasks is not busy meanwhile: busy time is never counted twice,
 * so the slots together are never busier than the threads were there. */
static void test_nested_busy(void)
{
    static const int workers[] = {1, 2};
    for (int w = 0; w < 2; w++) {
        tbbshim_executor *ex = make_exec(workers[w], 0);
        tbbshim_slot_stats st[3];
        busy_ctx c;
        uint64_t busy = 0, tasks = 0, leaves = 0;
        if (!ex)
            return;
        c.ex = ex;
        c.depth = 2;
        uint64_t t0 = now_ns();
        CHECK(tbbshim_fork(ex, 3, busy_task, &c, NULL) == TBBSHIM_OK);
        uint64_t wall = now_ns() - t0;
        int n = tbbshim_stats(ex, st, 3, NULL);
        CHECK(n == workers[w] + 1);
        for (int s = 0; s < n && s < 3; s++) {
            tasks += st[s].tasks;
            busy += st[s].busy_ns;
        }
        leaves = 27;
        CHECK(tasks == 3 + 9 + leaves);
        /* the 27 sleeping leaves are busy time; the 12 waiting tasks add next to nothing */
        CHECK(busy >= leaves * 2000 * 1000);
        CHECK(busy <= wall * (uint64_t)workers[w]);
        tbbshim_destroy(ex);
    }
}

/* ---- bad input ---- */

static void test_errors(void)
{
    tbbshim_config cfg = {0};
    tbbshim_executor *ex = NULL;
    char err[256] = "";
    dag d;
    static const uint32_t off[3] = {0, 1, 2}, succ[2] = {1, 0}, np_cycle[2] = {1, 1};
    static const uint32_t off1[3] = {0, 1, 1}, succ1[1] = {1}, np_wrong[2] = {0, 2}, succ_far[1] = {7};

    cfg.workers = 0;
    CHECK(tbbshim_create(&cfg, &ex, err, sizeof err) == TBBSHIM_ERROR);
    CHECK(ex == NULL);
    CHECK(strstr(err, "workers") != NULL);
    CHECK(tbbshim_create(NULL, &ex, NULL, 0) == TBBSHIM_ERROR);

    ex = make_exec(2, 0);
    if (!ex)
        return;
    dag_random(&d, 2, 0.0, 1);
    CHECK(tbbshim_run_dag(ex, 2, off, succ, np_cycle, dag_node, &d, NULL) == TBBSHIM_ERROR);
    tbbshim_last_error(ex, err, sizeof err);
    CHECK(strstr(err, "cycle") != NULL);
    CHECK(tbbshim_run_dag(ex, 2, off1, succ1, np_wrong, dag_node, &d, NULL) == TBBSHIM_ERROR);
    tbbshim_last_error(ex, err, sizeof err);
    CHECK(strstr(err, "predecessor counts") != NULL);
    CHECK(tbbshim_run_dag(ex, 2, off1, succ_far, np_wrong, dag_node, &d, NULL) == TBBSHIM_ERROR);
    tbbshim_last_error(ex, err, sizeof err);
    CHECK(strstr(err, "out of range") != NULL);
    CHECK(atomic_load(&d.clock) == 0);
    CHECK(tbbshim_run_dag(ex, 0, off, succ, np_cycle, dag_node, &d, NULL) == TBBSHIM_OK);
    CHECK(tbbshim_fork(ex, 0, fork_task, NULL, NULL) == TBBSHIM_OK);
    dag_free(&d);
    tbbshim_destroy(ex);
    tbbshim_destroy(NULL);
}

/* ---- pinning through the observer: the calling thread ends unpinned ---- */

typedef struct pin_ctx {
    topo *t;
    topo_binding *saved;
    pthread_t main_thread;
    atomic_int entries_main, exits_main, entries, bad;
    int workers;
} pin_ctx;

static void pin_entry(void *ctx, int slot)
{
    pin_ctx *p = ctx;
    atomic_fetch_add(&p->entries, 1);
    if (slot < 0 || slot >= p->workers)
        atomic_fetch_add(&p->bad, 1);
    if (pthread_equal(pthread_self(), p->main_thread)) {
        /* The calling thread always takes the slot reserved for it. */
        if (slot != 0)
            atomic_fetch_add(&p->bad, 1);
        atomic_fetch_add(&p->entries_main, 1);
        if (topo_binding_save(p->t, p->saved, NULL, 0) != 0)
            atomic_fetch_add(&p->bad, 1);
    }
    if (topo_pin_worker(p->t, slot, NULL, 0) != 0)
        atomic_fetch_add(&p->bad, 1);
}

static void pin_exit(void *ctx, int slot)
{
    pin_ctx *p = ctx;
    if (pthread_equal(pthread_self(), p->main_thread)) {
        atomic_fetch_add(&p->exits_main, 1);
        if (topo_binding_restore(p->t, p->saved, NULL, 0) != 0)
            atomic_fetch_add(&p->bad, 1);
    }
}

typedef struct pin_probe {
    pthread_t main_thread;
    atomic_int main_ran, main_pinned_differently;
    cpu_set_t original;
} pin_probe;

static int probe_task(void *ctx, uint32_t i)
{
    pin_probe *p = ctx;
    (void)i;
    if (pthread_equal(pthread_self(), p->main_thread)) {
        cpu_set_t now;
        atomic_fetch_add(&p->main_ran, 1);
        if (sched_getaffinity(0, sizeof now, &now) == 0 && !CPU_EQUAL(&now, &p->original))
            atomic_fetch_add(&p->main_pinned_differently, 1);
    }
    sleep_us(500);
    return 0;
}

static void test_pinning(void)
{
    pin_ctx p;
    pin_probe probe;
    tbbshim_config cfg = {0};
    tbbshim_executor *ex = NULL;
    char err[256] = "";
    cpu_set_t before, after;

    memset(&p, 0, sizeof p);
    memset(&probe, 0, sizeof probe);
    CHECK(topo_create(NULL, &p.t, err, sizeof err) == 0);
    if (!p.t)
        return;
    p.saved = topo_binding_new(p.t);
    p.main_thread = probe.main_thread = pthread_self();
    p.workers = 4;
    cfg.workers = 4;
    cfg.on_entry = pin_entry;
    cfg.on_exit = pin_exit;
    cfg.observer_ctx = &p;
    CHECK(sched_getaffinity(0, sizeof before, &before) == 0);
    probe.original = before;
    CHECK(tbbshim_create(&cfg, &ex, err, sizeof err) == TBBSHIM_OK);
    if (ex) {
        for (int round = 0; round < 3; round++)
            CHECK(tbbshim_fork(ex, 16, probe_task, &probe, NULL) == TBBSHIM_OK);
        CHECK(sched_getaffinity(0, sizeof after, &after) == 0);
        CHECK(CPU_EQUAL(&before, &after));
        CHECK(atomic_load(&p.bad) == 0);
        CHECK(atomic_load(&p.entries_main) >= 1);
        CHECK(atomic_load(&p.entries_main) == atomic_load(&p.exits_main));
        CHECK(atomic_load(&p.entries) > atomic_load(&p.entries_main));
        /* While inside, the calling thread was pinned (to worker 0's core, narrower than the
         * whole machine when there is more than one core). */
        CHECK(atomic_load(&probe.main_ran) >= 1);
        if (topo_ring_size(p.t) > 1 && CPU_COUNT(&before) > 1)
            CHECK(atomic_load(&probe.main_pinned_differently) == atomic_load(&probe.main_ran));
        tbbshim_destroy(ex);
    }
    topo_binding_free(p.saved);
    topo_destroy(p.t);
}

/* ---- no threads left behind ---- */

static int count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_no_thread_leak(void)
{
    int before = count_threads(), after_one = -1, after;
    for (int i = 0; i < 100; i++) {
        tbbshim_executor *ex = make_exec(i % 2 ? 8 : 3, 0);
        fork_ctx f;
        if (!ex)
            return;
        memset(&f, 0, sizeof f);
        f.fail_at = UINT32_MAX;
        f.sleep_us = 200;
        CHECK(tbbshim_fork(ex, 16, fork_task, &f, NULL) == TBBSHIM_OK);
        tbbshim_destroy(ex);
        if (i == 0)
            after_one = count_threads();
    }
    after = count_threads();
    printf("threads: %d before, %d after one executor, %d after 100\n", before, after_one, after);
    CHECK(before >= 1);
    /* The last executor joins oneTBB's pool: nothing remains, and nothing grows. */
    CHECK(after == before);
    CHECK(after_one == before);
}

int main(void)
{
    unsetenv("HWLOC_SYNTHETIC");
    unsetenv("HWLOC_XMLFILE");
    test_errors();
    test_random_dags();
    test_threads();
    test_parallel_for();
    test_hammer();
    test_cancel();
    test_nested();
    test_nested_busy();
    test_pinning();
    test_no_thread_leak();
    return CHECK_DONE();
}
