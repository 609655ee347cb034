/* test_api_memory.c — creating, JIT-compiling, running and destroying 1,000 programs does not grow memory. */
#define _POSIX_C_SOURCE 200809L
#include <unistd.h>

#include "api_check.h"

/* Resident set size in KiB (from /proc/self/statm). */
static long rss_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static const char script[] =
    "action poly(x) { return x * x * 3 + x * 2 + 1 }\n"
    "let acc = 0\n"
    "for each i in range(50) { acc = acc + poly(i) }\n"
    "let words = [\"a\", \"b\"]\n"
    "words.push(string(acc))\n";

static void cycle(zx_vm *vm, int n)
{
    for (int i = 0; i < n; i++) {
        zx_program *p = NULL;
        CHECK_ST(vm, zx_program_load_source(vm, "m.zx", script, strlen(script), &p), ZX_OK);
        CHECK_ST(vm, zx_program_run(p), ZX_OK);
        zx_val *r = NULL, *a = NULL;
        CHECK_ST(vm, zx_val_int(vm, i, &a), ZX_OK);
        const zx_val *argv[] = { a };
        CHECK_ST(vm, zx_program_call(p, "poly", argv, 1, &r), ZX_OK);
        zx_val_free(r);
        zx_val_free(a);
        zx_program_destroy(p);
    }
}

int main(int argc, char **argv)
{
    /* under a sanitizer RSS means little (quarantine): fewer rounds, the leak checker judges */
    int sanitized = argc > 1 && strcmp(argv[1], "--sanitized") == 0;
    int rounds = sanitized ? 50 : 1000;
    zx_options o;
    zx_options_init(&o);
    o.jit = ZX_JIT_STRICT;       /* every code object compiled when its program loads */
    o.opt_level = 0;
    zx_vm *vm = NULL;
    CHECK_ST(NULL, zx_vm_create(&o, &vm), ZX_OK);
    cycle(vm, sanitized ? 10 : 100);          /* warm-up: LLVM's own caches and pools settle */
    long before = rss_kib();
    cycle(vm, rounds);
    long after = rss_kib();
    printf("RSS before %ld KiB, after %d more programs %ld KiB (%+ld KiB)\n", before, rounds, after, after - before);
    /* 1,000 leaked programs with their machine code would be megabytes; allow 4 MiB of noise */
    if (!sanitized) CHECK(before > 0 && after - before < 4096);
    zx_vm_destroy(vm);
    return api_report("test_api_memory");
}
