/* test_api_interrupt.c — zx_vm_interrupt from another thread stops an endless loop in each tier and mode. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "api_check.h"

typedef struct stopper {
    zx_vm *vm;
    long delay_ms;
} stopper;

static void *stop_later(void *arg)
{
    stopper *s = arg;
    struct timespec ts = { s->delay_ms / 1000, (s->delay_ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
    zx_vm_interrupt(s->vm);
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The program's top level never ends; neither does the action called from C. */
static const char script[] =
    "action spin() { let k = 0\n while (true) { k = k + 1 } }\n"
    "action spin_pmap() { return parallel_map((x) => spin(), [1, 2, 3, 4]) }\n"
    "let n = 0\n"
    "while (n >= 0) { n = n + 1\n if (n > 1000000000) { n = 0 } }\n";

static void one(zx_jit jit, zx_mode mode)
{
    zx_options o;
    zx_options_init(&o);
    o.jit = jit;
    o.mode = mode;
    o.workers = 2;
    zx_vm *vm = NULL;
    zx_program *p = NULL;
    CHECK_ST(NULL, zx_vm_create(&o, &vm), ZX_OK);
    CHECK_ST(vm, zx_program_load_source(vm, "spin.zx", script, strlen(script), &p), ZX_OK);
    if (!p) {
        zx_vm_destroy(vm);
        return;
    }
    stopper s = { vm, 150 };
    const char *what[] = { "the top level", "an action called from C", "parallel_map elements" };
    for (int k = 0; k < 3; k++) {
        pthread_t t;
        pthread_create(&t, NULL, stop_later, &s);
        double t0 = now_s();
        zx_status st = k == 0 ? zx_program_run(p) : zx_program_call(p, k == 1 ? "spin" : "spin_pmap", NULL, 0, NULL);
        double dt = now_s() - t0;
        pthread_join(t, NULL);
        if (st != ZX_E_INTERRUPTED)
            fprintf(stderr, "jit %d mode %d, %s: %s (%s)\n", (int)jit, (int)mode, what[k], zx_status_str(st),
                    zx_vm_last_error(vm));
        CHECK(st == ZX_E_INTERRUPTED);
        CHECK_CONTAINS(zx_vm_last_error(vm), "interrupted");
        CHECK(dt >= 0.1 && dt < 10);
    }
    /* an interrupt before a run stops that run at once; the request is then consumed */
    zx_program *q = NULL;
    const char *quick = "let x = 0\nwhile (x < 100000) { x = x + 1 }\n";
    CHECK_ST(vm, zx_program_load_source(vm, "quick.zx", quick, strlen(quick), &q), ZX_OK);
    zx_vm_interrupt(vm);
    CHECK_ST(vm, zx_program_run(q), ZX_E_INTERRUPTED);
    CHECK_ST(vm, zx_program_run(q), ZX_OK);
    zx_vm_destroy(vm);
}

int main(void)
{
    alarm(300);   /* a hang is a failure: SIGALRM ends the process */
    zx_jit tiers[] = { ZX_JIT_OFF, ZX_JIT_ALWAYS };
    zx_mode modes[] = { ZX_MODE_SEQ, ZX_MODE_PAR };
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) one(tiers[i], modes[j]);
    return api_report("test_api_interrupt");
}
