/* test_api_limits.c — limits and failures give the sequential run's result in every mode and tier: the globals after a failed run, --max-memory with any worker count, the call-depth limit and its bound. */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <unistd.h>

#include "api_check.h"

typedef struct mode {
    const char *name;
    zx_mode mode;
    int workers;
    zx_jit jit;
} mode;

static const mode modes[] = {
    { "seq interp", ZX_MODE_SEQ, 1, ZX_JIT_OFF },
    { "par1 interp", ZX_MODE_PAR, 1, ZX_JIT_OFF },
    { "par2 interp", ZX_MODE_PAR, 2, ZX_JIT_OFF },
    { "par3 interp", ZX_MODE_PAR, 3, ZX_JIT_OFF },
    { "par8 interp", ZX_MODE_PAR, 8, ZX_JIT_OFF },
    { "seq jit", ZX_MODE_SEQ, 1, ZX_JIT_ALWAYS },
    { "par2 jit", ZX_MODE_PAR, 2, ZX_JIT_ALWAYS },
    { "par3 jit", ZX_MODE_PAR, 3, ZX_JIT_ALWAYS },
};
#define NMODES (sizeof modes / sizeof modes[0])

typedef struct outcome {
    zx_status run;
    char error[512];
    char out[4096];
    char globals[512];    /* "name=value or <status>" for each global asked for */
} outcome;

static void run_in(const mode *m, const char *name, const char *src, size_t max_memory, int max_depth,
                   const char *const *globals, outcome *res)
{
    memset(res, 0, sizeof *res);
    zx_options o;
    zx_options_init(&o);
    o.mode = m->mode;
    o.workers = m->workers;
    o.jit = m->jit;
    o.use_cache = 0;
    o.max_memory = max_memory;
    if (max_depth) o.max_depth = max_depth;
    api_capture out = { .len = 0 };
    o.output = api_capture_output;
    o.output_userdata = &out;
    zx_vm *vm = NULL;
    zx_program *p = NULL;
    CHECK_ST(NULL, zx_vm_create(&o, &vm), ZX_OK);
    if (!vm) return;
    CHECK_ST(vm, zx_program_load_source(vm, name, src, strlen(src), &p), ZX_OK);
    if (p) {
        res->run = zx_program_run(p);
        snprintf(res->error, sizeof res->error, "%s", zx_vm_last_error(vm));
        for (size_t i = 0; globals && globals[i]; i++) {
            zx_val *v = NULL;
            zx_status st = zx_program_get_global(p, globals[i], &v);
            char *text = NULL;
            if (st == ZX_OK && zx_val_to_string(v, &text) == ZX_OK) {
                size_t n = strlen(res->globals);
                snprintf(res->globals + n, sizeof res->globals - n, "%s=%s ", globals[i], text);
                free(text);
            } else {
                size_t n = strlen(res->globals);
                snprintf(res->globals + n, sizeof res->globals - n, "%s=<%s> ", globals[i], zx_status_str(st));
            }
            zx_val_free(v);
        }
    }
    snprintf(res->out, sizeof res->out, "%.*s", (int)out.len, out.buf);
    zx_vm_destroy(vm);
}

/* Every mode must give what the first (sequential, interpreted) gives. */
static void same_everywhere(const char *what, const char *name, const char *src, size_t max_memory, int max_depth,
                            const char *const *globals, zx_status want)
{
    static outcome first, other;
    run_in(&modes[0], name, src, max_memory, max_depth, globals, &first);
    CHECK_ST(NULL, first.run, want);
    for (size_t i = 1; i < NMODES; i++) {
        run_in(&modes[i], name, src, max_memory, max_depth, globals, &other);
        if (other.run != first.run || strcmp(other.error, first.error) != 0 || strcmp(other.out, first.out) != 0 ||
            strcmp(other.globals, first.globals) != 0) {
            fprintf(stderr, "%s, %s: differs from %s\n  status %d / %d\n  error '%s'\n     vs '%s'\n"
                            "  output '%s'\n      vs '%s'\n  globals '%s'\n       vs '%s'\n",
                    what, modes[i].name, modes[0].name, (int)other.run, (int)first.run, other.error, first.error,
                    other.out, first.out, other.globals, first.globals);
            api_failures++;
        }
    }
}

/* Issue #12, 9a: a global written by an independent chunk after the failing one used to keep
 * the value that chunk gave it when it ran ahead in ZX_MODE_PAR. */
static void test_globals_after_failure(void)
{
    static const char src[] =
        "let late = 0\n"
        "let also = \"before\"\n"
        "action spin(n) {\n"
        "    let s = 0\n"
        "    let i = 0\n"
        "    while i < n { s = s + i\n i = i + 1 }\n"
        "    return s\n"
        "}\n"
        "print(\"start\")\n"
        "let early = spin(200000) / 0\n"
        "late = 7\n"
        "also = \"after\"\n";
    static const char *const globals[] = { "late", "also", "early", NULL };
    same_everywhere("globals after a failure", "late.zx", src, 0, 0, globals, ZX_E_RUNTIME);
}

/* Issue #12, defect 3: elements (and top-level chunks) that each hold 16 MB (range(2000000):
 * an int list, 8 bytes an item) under a 40 MB limit: sequentially they fit, and so must they
 * with 3 or 8 workers; one that does not fit even alone fails the same way everywhere. */
static void test_memory_limit(void)
{
    static const char pmap[] =
        "action build(n) {\n"
        "    let xs = range(n)\n"
        "    return len(xs)\n"
        "}\n"
        "print(parallel_map((k) => build(2000000), [1, 2, 3, 4, 5, 6]))\n";
    same_everywhere("parallel_map under --max-memory", "pmap_mem.zx", pmap, 40u << 20, 0, NULL, ZX_OK);
    static const char top[] =
        "action build(n) {\n"
        "    let xs = range(n)\n"
        "    let t = 0\n"
        "    for each x in xs { t = t + x }\n"
        "    return t\n"
        "}\n"
        "let a = build(2000000)\n"
        "let b = build(2000000)\n"
        "let c = build(2000000)\n"
        "print(a + b + c)\n";
    static const char *const abc[] = { "a", "b", "c", NULL };
    same_everywhere("top-level chunks under --max-memory", "top_mem.zx", top, 40u << 20, 0, abc, ZX_OK);
    static const char too_big[] =
        "action build(n) {\n"
        "    let xs = range(n)\n"
        "    return len(xs)\n"
        "}\n"
        "let a = build(2000000)\n"
        "let b = build(8000000)\n"
        "let c = build(2000000)\n"
        "print(a + b + c)\n";
    same_everywhere("a chunk that never fits", "big_mem.zx", too_big, 40u << 20, 0, abc, ZX_E_MEMORY);
}

/* Issue #12, defect 2: recursion through parallel_map stops at the same call in every mode and
 * tier, at the default limit and at the largest; the bound itself is checked. */
static void test_depth(void)
{
    static const char src[] =
        "action down(n) {\n"
        "    let r = parallel_map((x) => down(x), [n + 1])\n"
        "    return r[0]\n"
        "}\n"
        "down(0)\n";
    same_everywhere("recursion through parallel_map", "deep.zx", src, 0, 0, NULL, ZX_E_RUNTIME);
    same_everywhere("the same at ZX_MAX_DEPTH", "deep.zx", src, 0, ZX_MAX_DEPTH, NULL, ZX_E_RUNTIME);
    static const char ok[] =
        "action down(n) {\n"
        "    if n == 0 { return 0 }\n"
        "    let r = parallel_map((x) => down(x), [n - 1])\n"
        "    return r[0] + 1\n"
        "}\n"
        "print(down(4900))\n";
    same_everywhere("4,900 levels of parallel_map", "pmap_4900.zx", ok, 0, 0, NULL, ZX_OK);
    static const int bad[] = { 0, -1, ZX_MAX_DEPTH + 1, INT_MAX };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        zx_options o;
        zx_options_init(&o);
        o.max_depth = bad[i];
        zx_vm *vm = NULL;
        CHECK_ST(NULL, zx_vm_create(&o, &vm), ZX_E_ARGUMENT);
        CHECK(vm == NULL);
    }
}

int main(void)
{
    alarm(600);
    test_globals_after_failure();
    test_memory_limit();
    test_depth();
    return api_report("test_api_limits");
}
