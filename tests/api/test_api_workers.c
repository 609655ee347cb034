/* test_api_workers.c — zx_options.workers is bounded by ZX_MAX_WORKERS at zx_vm_create, and a VM of that many workers runs and is destroyed. */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <unistd.h>

#include "api_check.h"

/* A count far past ZX_MAX_WORKERS used to be accepted: the run printed its result, then the
 * process died in oneTBB's allocator on a worker thread or hung in zx_vm_destroy. */

static const char script[] =
    "action sq(x) { return x * x }\n"
    "let xs = parallel_map(sq, range(2000))\n"
    "let s = 0\n"
    "for each v in xs { s = s + v }\n"
    "print(s)\n";

static void test_out_of_range(void)
{
    static const int bad[] = { -1, ZX_MAX_WORKERS + 1, 200000, INT_MAX };
    CHECK(ZX_MAX_WORKERS == 1024);     /* the CLI's --workers bound is the same constant */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        zx_options o;
        zx_options_init(&o);
        o.workers = bad[i];
        zx_vm *vm = NULL;
        CHECK_ST(NULL, zx_vm_create(&o, &vm), ZX_E_ARGUMENT);
        CHECK(vm == NULL);
    }
}

/* The largest count allowed, in parallel mode with both tiers: right output, clean destroy. */
static void test_max_workers(zx_jit jit)
{
    zx_options o;
    zx_options_init(&o);
    o.workers = ZX_MAX_WORKERS;
    o.mode = ZX_MODE_PAR;
    o.jit = jit;
    o.use_cache = 0;
    api_capture out = { .len = 0 };
    o.output = api_capture_output;
    o.output_userdata = &out;
    zx_vm *vm = NULL;
    zx_program *p = NULL;
    CHECK_ST(NULL, zx_vm_create(&o, &vm), ZX_OK);
    if (!vm) return;
    CHECK_ST(vm, zx_program_load_source(vm, "workers.zx", script, strlen(script), &p), ZX_OK);
    if (p) CHECK_ST(vm, zx_program_run(p), ZX_OK);
    CHECK_STR(out.buf, "2664667000\n");
    zx_vm_destroy(vm);
}

int main(void)
{
    alarm(300);                        /* a hang in zx_vm_destroy fails the test (SIGALRM) */
    test_out_of_range();
    test_max_workers(ZX_JIT_OFF);
    test_max_workers(ZX_JIT_ALWAYS);
    /* two VMs in turn: the second finds oneTBB's state as the first left it */
    test_max_workers(ZX_JIT_OFF);
    return api_report("test_api_workers");
}
