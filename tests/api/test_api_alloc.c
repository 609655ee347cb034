/* test_api_alloc.c — zx_options.alloc: the Zexus heap goes through a custom, thread-safe allocator. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "api_check.h"

/*
 * A counting allocator with zx_alloc_fn's contract.  Every block carries a 16-byte header
 * (keeping malloc's alignment) with its size and a tag, so that the old_size the VM passes is
 * checked on every free and resize, and a block that is not ours is noticed.  Thread-safe:
 * only atomics, and a thread-local note of whether this thread has called it yet.
 */
typedef struct counting {
    _Atomic long long live_bytes;     /* bytes handed out and not yet freed */
    _Atomic long long live_blocks;
    _Atomic long long calls;
    _Atomic long long allocs;         /* calls that allocate or resize (the failure clock) */
    _Atomic long long bad_sizes;      /* old_size differed from the block's size, or not our block */
    _Atomic long long failed;         /* allocations refused */
    _Atomic long long fail_after;     /* > 0: refuse every allocation once `allocs` reaches it */
    _Atomic int threads;              /* distinct threads that called it */
    long long id;                     /* tells this allocator's threads from an earlier one's */
} counting;

#define TAG 0x7a78616c6c6f6321ull     /* "zxalloc!" */

typedef struct block_hdr {
    size_t size;
    uint64_t tag;
} block_hdr;

static _Atomic long long next_id = 1;
static _Thread_local long long tl_seen;      /* the id of the allocator this thread last called */

static void *counting_alloc(void *ud, void *ptr, size_t old_size, size_t new_size)
{
    counting *c = ud;
    atomic_fetch_add(&c->calls, 1);
    if (tl_seen != c->id) {
        tl_seen = c->id;
        atomic_fetch_add(&c->threads, 1);
    }
    block_hdr *h = ptr ? (block_hdr *)ptr - 1 : NULL;
    if (h && (h->tag != TAG || h->size != old_size)) atomic_fetch_add(&c->bad_sizes, 1);
    if (!h && old_size != 0) atomic_fetch_add(&c->bad_sizes, 1);
    if (new_size == 0) {
        if (h) {
            atomic_fetch_sub(&c->live_bytes, (long long)h->size);
            atomic_fetch_sub(&c->live_blocks, 1);
            h->tag = 0;
            free(h);
        }
        return NULL;
    }
    long long n = atomic_fetch_add(&c->allocs, 1) + 1;
    long long limit = atomic_load(&c->fail_after);
    if (limit > 0 && n >= limit) {
        atomic_fetch_add(&c->failed, 1);
        return NULL;                  /* the old block, if any, stays as it was */
    }
    size_t old = h ? h->size : 0;
    block_hdr *nh = realloc(h, sizeof *nh + new_size);
    if (!nh) return NULL;
    nh->size = new_size;
    nh->tag = TAG;
    atomic_fetch_add(&c->live_bytes, (long long)new_size - (long long)old);
    if (!h) atomic_fetch_add(&c->live_blocks, 1);
    return nh + 1;
}

static zx_vm *make_vm(counting *c, int workers, zx_mode mode, zx_jit jit, api_capture *out)
{
    c->id = atomic_fetch_add(&next_id, 1);
    zx_options o;
    zx_options_init(&o);
    o.alloc = counting_alloc;
    o.alloc_ud = c;
    o.workers = workers;
    o.mode = mode;
    o.jit = jit;
    o.opt_level = 0;
    o.output = api_capture_output;
    o.output_userdata = out;
    zx_vm *vm = NULL;
    CHECK_ST(NULL, zx_vm_create(&o, &vm), ZX_OK);
    return vm;
}

/* After zx_vm_destroy: every block returned, with the sizes it was allocated with. */
static void check_settled(const char *what, counting *c)
{
    long long live = atomic_load(&c->live_bytes), blocks = atomic_load(&c->live_blocks);
    long long bad = atomic_load(&c->bad_sizes);
    printf("%s: %lld calls from %d thread(s), %lld refused; after destroy %lld bytes in %lld blocks, "
           "%lld bad sizes\n", what, (long long)atomic_load(&c->calls), atomic_load(&c->threads),
           (long long)atomic_load(&c->failed), live, blocks, bad);
    CHECK(atomic_load(&c->calls) > 0);
    CHECK(live == 0);
    CHECK(blocks == 0);
    CHECK(bad == 0);
}

/* (1) strings, lists, maps, closures and cycles, in both tiers, from the host thread. */
static const char objects_src[] =
    "action make_counter(start) {\n"
    "    let n = start\n"
    "    return () => {\n"
    "        n += 1\n"
    "        return n\n"
    "    }\n"
    "}\n"
    "let c = make_counter(10)\n"
    "c()\n"
    "let words = []\n"
    "for each i in range(200) { words.push(\"w\" + string(i)) }\n"
    "let m = {}\n"
    "for each w in words { m[w] = len(w) }\n"
    "let total = 0\n"
    "for each w in words { total += m[w] }\n"
    "print(c(), len(words), len(m), total, words[199])\n"
    "let nested = [[1, 2], {a: [3], b: \"x\" * 3}, c]\n"
    "nested.push(nested)\n"
    "nested[1][\"self\"] = nested[1]\n"
    "print(nested[1][\"b\"], len(nested), nested[2]())\n";

static void test_objects(zx_jit jit, const char *what)
{
    counting c = {0};
    api_capture out = {0};
    zx_vm *vm = make_vm(&c, 1, ZX_MODE_SEQ, jit, &out);
    if (!vm) return;
    zx_program *p = NULL;
    CHECK_ST(vm, zx_program_load_source(vm, "objects.zx", objects_src, strlen(objects_src), &p), ZX_OK);
    if (p) {
        CHECK_ST(vm, zx_program_run(p), ZX_OK);
        CHECK_STR(out.buf, "12 200 200 690 w199\nxxx 4 13\n");
        /* values made by the host come from the allocator too */
        long long before = atomic_load(&c.calls);
        zx_val *s = NULL, *l = NULL, *m = NULL;
        CHECK_ST(vm, zx_val_string(vm, "from C", 6, &s), ZX_OK);
        CHECK_ST(vm, zx_val_list_new(vm, &l), ZX_OK);
        CHECK_ST(vm, zx_val_map_new(vm, &m), ZX_OK);
        for (int i = 0; i < 100 && s && l; i++) CHECK_ST(vm, zx_val_list_push(l, s), ZX_OK);
        for (int i = 0; i < 100 && m; i++) {
            zx_val *k = NULL;
            CHECK_ST(vm, zx_val_int(vm, i, &k), ZX_OK);
            if (k) CHECK_ST(vm, zx_val_map_set(m, k, l), ZX_OK);
            zx_val_free(k);
        }
        if (l && m) CHECK_ST(vm, zx_val_list_push(l, m), ZX_OK);       /* a cycle: l -> m -> l */
        CHECK(atomic_load(&c.calls) > before);
        zx_val_free(m);
        zx_val_free(l);
        zx_val_free(s);
        CHECK(atomic_load(&c.live_bytes) > 0);    /* the run's globals are still alive */
        zx_program_destroy(p);
    }
    zx_vm_destroy(vm);
    check_settled(what, &c);
}

/* (2) parallel_map on two workers: objects made and freed on worker threads. */
static const char parallel_src[] =
    "let squares = parallel_map((x) => {\n"
    "    let s = \"item\" + string(x)\n"
    "    let parts = [s, {k: x}, [x, x * x]]\n"
    "    return len(parts[0]) + parts[1][\"k\"] + parts[2][1]\n"
    "}, range(5000))\n"
    "let sum = 0\n"
    "for each v in squares { sum += v }\n"
    "let names = parallel_map((x) => \"n\" + string(x), range(3000))\n"
    "print(len(squares), sum, names[2999])\n";

static void test_parallel(void)
{
    counting c = {0};
    api_capture out = {0};
    zx_vm *vm = make_vm(&c, 2, ZX_MODE_PAR, ZX_JIT_AUTO, &out);
    if (!vm) return;
    zx_program *p = NULL;
    CHECK_ST(vm, zx_program_load_source(vm, "par.zx", parallel_src, strlen(parallel_src), &p), ZX_OK);
    for (int round = 0; p && round < 3; round++) {
        out.len = 0;
        out.buf[0] = '\0';
        CHECK_ST(vm, zx_program_run(p), ZX_OK);
        CHECK_STR(out.buf, "5000 41666703890 n2999\n");
    }
    char *stats = NULL;
    long parallel = -1;
    if (zx_vm_stats(vm, 1, &stats) == ZX_OK) {
        static const char key[] = "\"parallel_map\":{\"parallel\":";
        const char *at = strstr(stats, key);
        if (at) parallel = strtol(at + strlen(key), NULL, 10);
        free(stats);
    }
    zx_program_destroy(p);
    zx_vm_destroy(vm);
    printf("parallel_maps run in parallel: %ld\n", parallel);
    CHECK(parallel > 0);
    /* the workers called it, not the host thread alone */
    if (parallel > 0) CHECK(atomic_load(&c.threads) >= 2);
    check_settled("parallel_map, 2 workers", &c);
}

/* (3) an allocator that starts failing: a memory error, no crash, nothing leaked, and the VM
 * runs again once it recovers. */
static const char grow_src[] =
    "let xs = []\n"
    "for each i in range(100000) { xs.push(\"s\" + string(i)) }\n"
    "print(len(xs))\n";
static const char grow_par_src[] =
    "let ys = parallel_map((x) => [\"p\" + string(x), {v: x}], range(20000))\n"
    "print(len(ys))\n";

static void test_failing(const char *src, int workers, zx_mode mode, const char *want, const char *what)
{
    counting c = {0};
    api_capture out = {0};
    zx_vm *vm = make_vm(&c, workers, mode, ZX_JIT_AUTO, &out);
    if (!vm) return;
    zx_program *p = NULL;
    CHECK_ST(vm, zx_program_load_source(vm, "grow.zx", src, strlen(src), &p), ZX_OK);
    if (p) {
        atomic_store(&c.fail_after, atomic_load(&c.allocs) + 2000);
        CHECK_ST(vm, zx_program_run(p), ZX_E_MEMORY);
        CHECK_CONTAINS(zx_vm_last_error(vm), "memory limit exceeded");
        CHECK(atomic_load(&c.failed) > 0);
        CHECK(out.len == 0);
        /* host-made values fail the same way */
        zx_val *s = NULL;
        CHECK_ST(vm, zx_val_string(vm, "no room", 7, &s), ZX_E_MEMORY);
        CHECK(s == NULL);
        atomic_store(&c.fail_after, 0);
        CHECK_ST(vm, zx_program_run(p), ZX_OK);
        CHECK_STR(out.buf, want);
        zx_program_destroy(p);
    }
    zx_vm_destroy(vm);
    check_settled(what, &c);
}

/* (3b) an allocator that fails during zx_program_load_source, after 1, 2, 3, ... of the load's
 * allocations: the compiler makes its string constants on the heap, and each failure is
 * ZX_E_MEMORY with "FILE:LINE:COL: error: memory limit exceeded" -- never an abort -- and leaves
 * nothing behind; once the load needs no more than the allocator gives, it succeeds. */
static const char load_src[] =
    "let greeting = \"hello\"\n"
    "let names = [\"ada\", \"grace\", \"alan\"]\n"
    "action tag(n) { return greeting + \", \" + n }\n"
    "let m = {key: \"value\", other: \"thing\"}\n"
    "let tags = parallel_map((n) => tag(n) + \"!\", names)\n"
    "fork { print(m.key) }\n"
    "fork { print(\"second\") }\n"
    "join\n"
    "print(tags, m.other)\n";

static void test_load_failing(void)
{
    bool succeeded = false;
    int memory_errors = 0;
    for (long long n = 1; n <= 1000 && !succeeded; n++) {
        counting c = {0};
        api_capture out = {0};
        zx_vm *vm = make_vm(&c, 1, ZX_MODE_SEQ, ZX_JIT_OFF, &out);
        if (!vm) return;
        atomic_store(&c.fail_after, atomic_load(&c.allocs) + n);
        zx_program *p = NULL;
        zx_status st = zx_program_load_source(vm, "load.zx", load_src, strlen(load_src), &p);
        if (st == ZX_OK) {
            succeeded = true;
            CHECK(atomic_load(&c.failed) == 0);
            atomic_store(&c.fail_after, 0);
            CHECK_ST(vm, zx_program_run(p), ZX_OK);
            CHECK_STR(out.buf, "value\nsecond\n[hello, ada!, hello, grace!, hello, alan!] thing\n");
            zx_program_destroy(p);
        } else {
            memory_errors++;
            CHECK_ST(vm, st, ZX_E_MEMORY);
            CHECK(p == NULL);
            CHECK_CONTAINS(zx_vm_last_error(vm), "load.zx:");
            CHECK_CONTAINS(zx_vm_last_error(vm), ": error: memory limit exceeded");
        }
        zx_vm_destroy(vm);
        long long live = atomic_load(&c.live_bytes), blocks = atomic_load(&c.live_blocks);
        CHECK(live == 0 && blocks == 0 && atomic_load(&c.bad_sizes) == 0);
    }
    printf("failing allocator during load: %d memory errors, then loaded\n", memory_errors);
    CHECK(succeeded);
    CHECK(memory_errors > 0);
}

/* (4b) the same sweep over loading the program's .zxbc and .zxa: a failed allocation is
 * ZX_E_MEMORY ("memory limit exceeded" or "out of memory"), never ZX_E_BYTECODE (damage). */
static void test_load_bytecode_failing(void)
{
    void *bc = NULL;
    size_t bclen = 0;
    char *asmtext = NULL;
    {
        zx_vm *vm = NULL;
        zx_program *p = NULL;
        zx_options o;
        zx_options_init(&o);
        o.jit = ZX_JIT_OFF;
        if (zx_vm_create(&o, &vm) != ZX_OK) { CHECK(false); return; }
        CHECK_ST(vm, zx_program_load_source(vm, "load.zx", load_src, strlen(load_src), &p), ZX_OK);
        if (p) {
            CHECK(zx_program_to_bytecode(p, &bc, &bclen) == ZX_OK);
            CHECK(zx_program_disassemble(p, &asmtext) == ZX_OK);
            zx_program_destroy(p);
        }
        zx_vm_destroy(vm);
        if (!bc || !asmtext) { free(bc); free(asmtext); return; }
    }
    for (int kind = 0; kind < 2; kind++) {
        bool succeeded = false;
        int memory_errors = 0;
        for (long long n = 1; n <= 1000 && !succeeded; n++) {
            counting c = {0};
            api_capture out = {0};
            zx_vm *vm = make_vm(&c, 1, ZX_MODE_SEQ, ZX_JIT_OFF, &out);
            if (!vm) break;
            atomic_store(&c.fail_after, atomic_load(&c.allocs) + n);
            zx_program *p = NULL;
            zx_status st = kind == 0 ? zx_program_load_bytecode(vm, bc, bclen, &p)
                                     : zx_program_load_assembly(vm, "load.zxa", asmtext, strlen(asmtext), &p);
            if (st == ZX_OK) {
                succeeded = true;
                atomic_store(&c.fail_after, 0);
                CHECK_ST(vm, zx_program_run(p), ZX_OK);
                CHECK_STR(out.buf, "value\nsecond\n[hello, ada!, hello, grace!, hello, alan!] thing\n");
                zx_program_destroy(p);
            } else {
                memory_errors++;
                CHECK_ST(vm, st, ZX_E_MEMORY);
                CHECK(p == NULL);
                CHECK_CONTAINS(zx_vm_last_error(vm), kind == 0 ? "<bytecode>: error: " : "load.zxa:");
                const char *e = zx_vm_last_error(vm);
                CHECK(strstr(e, "memory limit exceeded") || strstr(e, "out of memory"));
            }
            zx_vm_destroy(vm);
            long long live = atomic_load(&c.live_bytes), blocks = atomic_load(&c.live_blocks);
            CHECK(live == 0 && blocks == 0 && atomic_load(&c.bad_sizes) == 0);
        }
        printf("failing allocator during %s load: %d memory errors, then loaded\n",
               kind == 0 ? ".zxbc" : ".zxa", memory_errors);
        CHECK(succeeded);
        CHECK(memory_errors > 0);
    }
    free(bc);
    free(asmtext);
}

/* (5) on a two-node (synthetic) topology, large list storage made on workers is NUMA-bound and
 * bypasses the allocator; a list that grows into it from the allocator's memory returns its
 * old block, and a bound list that grows on the host thread stays bound. */
static const char numa_src[] =
    "let big = parallel_map((x) => [range(40000 + x), {a: x}], range(4))\n"
    "let grown = parallel_map((x) => {\n"
    "    let l = [x]\n"
    "    for each i in range(30000) { l.push(i) }\n"
    "    return len(l)\n"
    "}, range(2))\n"
    "let more = big[0][0]\n"
    "for each i in range(40000) { more.push(i) }\n"
    "print(len(big[3][0]), grown, len(more))\n";

static void test_numa(void)
{
    counting c = {0};
    api_capture out = {0};
    c.id = atomic_fetch_add(&next_id, 1);
    zx_options o;
    zx_options_init(&o);
    o.alloc = counting_alloc;
    o.alloc_ud = &c;
    o.workers = 2;
    o.mode = ZX_MODE_PAR;
    o.topology = "pack:2 numa:1 core:1 pu:1";
    o.output = api_capture_output;
    o.output_userdata = &out;
    zx_vm *vm = NULL;
    CHECK_ST(NULL, zx_vm_create(&o, &vm), ZX_OK);
    if (!vm) return;
    zx_program *p = NULL;
    CHECK_ST(vm, zx_program_load_source(vm, "numa.zx", numa_src, strlen(numa_src), &p), ZX_OK);
    for (int round = 0; p && round < 2; round++) {
        out.len = 0;
        out.buf[0] = '\0';
        CHECK_ST(vm, zx_program_run(p), ZX_OK);
        CHECK_STR(out.buf, "40003 [30001, 30001] 80000\n");
    }
    zx_program_destroy(p);
    zx_vm_destroy(vm);
    check_settled("two NUMA nodes", &c);
}

/* (4) alloc NULL: the C library's allocator, as before (the other API tests run that way). */
static void test_default(void)
{
    zx_options o;
    zx_options_init(&o);
    CHECK(o.alloc == NULL && o.alloc_ud == NULL);
    api_capture out = {0};
    o.output = api_capture_output;
    o.output_userdata = &out;
    o.alloc_ud = &out;            /* ignored without alloc */
    zx_vm *vm = NULL;
    CHECK_ST(NULL, zx_vm_create(&o, &vm), ZX_OK);
    zx_program *p = NULL;
    if (vm) CHECK_ST(vm, zx_program_load_source(vm, "o.zx", objects_src, strlen(objects_src), &p), ZX_OK);
    if (p) CHECK_ST(vm, zx_program_run(p), ZX_OK);
    CHECK_STR(out.buf, "12 200 200 690 w199\nxxx 4 13\n");
    zx_program_destroy(p);
    zx_vm_destroy(vm);
}

int main(void)
{
    test_objects(ZX_JIT_OFF, "objects, interpreter");
    test_objects(ZX_JIT_STRICT, "objects, JIT");
    test_parallel();
    test_failing(grow_src, 1, ZX_MODE_SEQ, "100000\n", "failing allocator, sequential");
    test_failing(grow_par_src, 2, ZX_MODE_PAR, "20000\n", "failing allocator, parallel_map");
    test_load_failing();
    test_load_bytecode_failing();
    test_numa();
    test_default();
    return api_report("test_api_alloc");
}
