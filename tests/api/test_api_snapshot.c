/* test_api_snapshot.c — batch reads and writes of globals: zx_program_snapshot (also from a monitoring thread while the program runs) and zx_program_set_globals. */
#include <pthread.h>
#include <stdatomic.h>

#include "api_check.h"

static zx_vm *new_vm(zx_mode mode, zx_jit jit, int workers)
{
    zx_options o;
    zx_options_init(&o);
    o.mode = mode;
    o.jit = jit;
    o.workers = workers;
    zx_vm *vm = NULL;
    CHECK_ST(NULL, zx_vm_create(&o, &vm), ZX_OK);
    return vm;
}

static int64_t as_int(const zx_val *v)
{
    int64_t i = -1;
    if (zx_val_as_int(v, &i) != ZX_OK) return -999;
    return i;
}

static void free_all(zx_val **v, size_t n)
{
    for (size_t i = 0; i < n; i++) zx_val_free(v[i]);
}

/* ---- from the host thread, between runs ---- */

static const char basic_src[] =
    "let x = 1\n"
    "let s = \"two\"\n"
    "const limit = 10\n"
    "shared let total = 3\n"
    "action sum() { return x + total }\n"
    "if (false) { let never = 0 }\n";

static void test_basics(void)
{
    zx_vm *vm = new_vm(ZX_MODE_SEQ, ZX_JIT_OFF, 1);
    zx_program *p = NULL;
    CHECK_ST(vm, zx_program_load_source(vm, "b.zx", basic_src, sizeof basic_src - 1, &p), ZX_OK);
    const char *names[] = { "x", "s", "total", "never", "limit" };
    zx_val *out[5] = { NULL };
    CHECK_ST(vm, zx_program_snapshot(p, names, 5, out), ZX_E_NOT_FOUND);   /* not run yet */
    CHECK_ST(vm, zx_program_run(p), ZX_OK);

    CHECK_ST(vm, zx_program_snapshot(p, names, 5, out), ZX_OK);
    CHECK(as_int(out[0]) == 1);
    const char *bytes = NULL;
    size_t len = 0;
    CHECK_ST(vm, zx_val_as_string(out[1], &bytes, &len), ZX_OK);
    CHECK(len == 3 && bytes && memcmp(bytes, "two", 3) == 0);
    CHECK(as_int(out[2]) == 3);
    CHECK(out[3] == NULL);                           /* never assigned */
    CHECK(as_int(out[4]) == 10);
    free_all(out, 5);

    /* bad names: nothing written */
    const char *bad[] = { "x", "nope" };
    zx_val *sentinel = (zx_val *)&bad;
    zx_val *two[2] = { sentinel, sentinel };
    CHECK_ST(vm, zx_program_snapshot(p, bad, 2, two), ZX_E_NOT_FOUND);
    CHECK(two[0] == sentinel && two[1] == sentinel);
    const char *null_name[] = { "x", NULL };
    CHECK_ST(vm, zx_program_snapshot(p, null_name, 2, two), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_program_snapshot(p, names, 1, NULL), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_program_snapshot(NULL, names, 1, two), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_program_snapshot(p, NULL, 0, NULL), ZX_OK);

    /* set several at once; the next call sees them */
    zx_val *a = NULL, *b = NULL, *c = NULL;
    CHECK_ST(vm, zx_val_int(vm, 100, &a), ZX_OK);
    CHECK_ST(vm, zx_val_int(vm, 20, &b), ZX_OK);
    CHECK_ST(vm, zx_val_int(vm, 30, &c), ZX_OK);
    const char *xt[] = { "x", "total", "total" };
    const zx_val *vals[] = { a, b, c };
    CHECK_ST(vm, zx_program_set_globals(p, xt, vals, 3), ZX_OK);   /* a name twice: the later wins */
    zx_val *r = NULL;
    CHECK_ST(vm, zx_program_call(p, "sum", NULL, 0, &r), ZX_OK);
    CHECK(as_int(r) == 130);
    zx_val_free(r);
    /* all or nothing: a const or unknown name assigns none */
    const char *with_const[] = { "x", "limit" };
    CHECK_ST(vm, zx_program_set_globals(p, with_const, vals, 2), ZX_E_ARGUMENT);
    CHECK_CONTAINS(zx_vm_last_error(vm), "constant 'limit'");
    const char *with_unknown[] = { "total", "nope" };
    CHECK_ST(vm, zx_program_set_globals(p, with_unknown, vals, 2), ZX_E_NOT_FOUND);
    CHECK_CONTAINS(zx_vm_last_error(vm), "no global 'nope'");
    const char *xs[] = { "x", "total" };
    CHECK_ST(vm, zx_program_snapshot(p, xs, 2, out), ZX_OK);
    CHECK(as_int(out[0]) == 100 && as_int(out[1]) == 30);
    free_all(out, 2);
    const zx_val *with_null[] = { a, NULL };
    CHECK_ST(vm, zx_program_set_globals(p, xs, with_null, 2), ZX_E_ARGUMENT);
    zx_vm *other = new_vm(ZX_MODE_SEQ, ZX_JIT_OFF, 1);
    zx_val *foreign = NULL;
    CHECK_ST(other, zx_val_int(other, 1, &foreign), ZX_OK);
    const zx_val *fv[] = { foreign };
    CHECK_ST(vm, zx_program_set_globals(p, xs, fv, 1), ZX_E_ARGUMENT);
    zx_val_free(foreign);
    zx_vm_destroy(other);

    /* a new run starts from fresh globals */
    CHECK_ST(vm, zx_program_run(p), ZX_OK);
    CHECK_ST(vm, zx_program_snapshot(p, xs, 2, out), ZX_OK);
    CHECK(as_int(out[0]) == 1 && as_int(out[1]) == 3);
    free_all(out, 2);
    zx_val_free(a);
    zx_val_free(b);
    zx_val_free(c);
    zx_vm_destroy(vm);
}

/* ---- from a host function, during the run ---- */

typedef struct peek_ctx {
    zx_program *prog;
    zx_status shared_st, plain_st, set_st;
    int64_t seen;
} peek_ctx;

static zx_status peek(void *ud, zx_vm *vm, const zx_val *const *argv, int argc, zx_val **result)
{
    (void)argv;
    (void)argc;
    peek_ctx *c = ud;
    const char *total[] = { "total" }, *plain[] = { "x" };
    zx_val *v = NULL;
    c->shared_st = zx_program_snapshot(c->prog, total, 1, &v);
    if (c->shared_st == ZX_OK) c->seen = as_int(v);
    zx_val_free(v);
    v = NULL;
    c->plain_st = zx_program_snapshot(c->prog, plain, 1, &v);
    zx_val_free(v);
    v = NULL;
    if (zx_val_int(vm, 1, &v) == ZX_OK) {
        const zx_val *one[] = { v };
        c->set_st = zx_program_set_globals(c->prog, total, one, 1);
    }
    zx_val_free(v);
    return zx_val_null(vm, result);
}

static void test_during_run(void)
{
    static const char src[] =
        "let x = 5\n"
        "shared let total = 0\n"
        "total = total + 41\n"
        "peek()\n";
    zx_vm *vm = new_vm(ZX_MODE_SEQ, ZX_JIT_OFF, 1);
    peek_ctx c = { NULL, ZX_E_IO, ZX_E_IO, ZX_E_IO, 0 };
    CHECK_ST(vm, zx_vm_register(vm, "peek", peek, &c, 0), ZX_OK);
    CHECK_ST(vm, zx_program_load_source(vm, "d.zx", src, sizeof src - 1, &c.prog), ZX_OK);
    CHECK_ST(vm, zx_program_run(c.prog), ZX_OK);
    CHECK(c.shared_st == ZX_OK && c.seen == 41);     /* a shared global: allowed, current */
    CHECK(c.plain_st == ZX_E_ARGUMENT);               /* a plain one: not while it runs */
    CHECK(c.set_st == ZX_E_ARGUMENT);                 /* writing: never while it runs */
    zx_vm_destroy(vm);
}

/* ---- from another thread, while the program runs in parallel ----
 * Every parallel_map element adds the same amount to `a` and to `b`; the updates of a block
 * of elements are logged and applied at the join under one hold of the lock, so a snapshot
 * taken at any moment has a == b, and the values only grow. */

static const char monitor_src[] =
    "shared let a = 0\n"
    "shared let b = 0\n"
    "action work(x) {\n"
    "    a += x\n"
    "    b += x\n"
    "    return x\n"
    "}\n"
    "let r = 0\n"
    "while (r < 300) {\n"
    "    parallel_map(work, range(1, 65))\n"
    "    r = r + 1\n"
    "}\n"
    "print(a, b)\n";

typedef struct monitor {
    zx_program *prog;
    atomic_int done;
    long snapshots, torn, backwards, errors, mid_run;
} monitor;

static void *watch(void *arg)
{
    monitor *m = arg;
    const char *ab[] = { "a", "b" };
    int64_t last = 0;
    while (!atomic_load(&m->done)) {
        zx_val *v[2] = { NULL, NULL };
        zx_status st = zx_program_snapshot(m->prog, ab, 2, v);
        if (st == ZX_E_NOT_FOUND) continue;           /* the run has not started yet */
        if (st != ZX_OK) {
            m->errors++;
            continue;
        }
        int64_t x = v[0] ? as_int(v[0]) : 0, y = v[1] ? as_int(v[1]) : 0;
        m->snapshots++;
        if (x != y) m->torn++;
        if (x < last) m->backwards++;
        if (x > 0 && x < 300 * 2080) m->mid_run++;
        last = x;
        free_all(v, 2);
    }
    return NULL;
}

static void test_monitor_thread(void)
{
    zx_options o;
    zx_options_init(&o);
    o.mode = ZX_MODE_PAR;
    o.jit = ZX_JIT_OFF;
    o.workers = 3;
    api_capture cap = { .len = 0 };
    o.output = api_capture_output;
    o.output_userdata = &cap;
    zx_vm *vm = NULL;
    CHECK_ST(NULL, zx_vm_create(&o, &vm), ZX_OK);
    monitor m = { NULL, 0, 0, 0, 0, 0, 0 };
    CHECK_ST(vm, zx_program_load_source(vm, "m.zx", monitor_src, sizeof monitor_src - 1, &m.prog), ZX_OK);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, watch, &m) == 0);
    for (int run = 0; run < 2; run++) CHECK_ST(vm, zx_program_run(m.prog), ZX_OK);
    atomic_store(&m.done, 1);
    pthread_join(th, NULL);
    CHECK_STR(cap.buf, "624000 624000\n624000 624000\n");
    CHECK(m.torn == 0);
    CHECK(m.errors == 0);
    /* a second run starts again from 0: going back is only allowed once */
    CHECK(m.backwards <= 1);
    printf("monitor: %ld snapshots, %ld during the runs\n", m.snapshots, m.mid_run);
    char *stats = NULL;
    CHECK_ST(vm, zx_vm_stats(vm, 1, &stats), ZX_OK);
    CHECK_CONTAINS(stats, "\"parallel_map\":{\"parallel\":300");
    CHECK_CONTAINS(stats, "\"variables\":[\"a\",\"b\"");
    free(stats);
    zx_vm_destroy(vm);
}

int main(void)
{
    CHECK_ST(NULL, ZX_CHECK_VERSION(), ZX_OK);
    test_basics();
    test_during_run();
    test_monitor_thread();
    return api_report("test_api_snapshot");
}
