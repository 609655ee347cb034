/* embed_interrupt.c — stop a long run from another thread with zx_vm_interrupt. */
#define _POSIX_C_SOURCE 200809L   /* nanosleep */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <zexus.h>

static void *watchdog(void *arg)
{
    struct timespec ts = { 0, 200 * 1000 * 1000 };   /* 200 ms */
    nanosleep(&ts, NULL);
    zx_vm_interrupt(arg);              /* the one call that is safe from any thread */
    return NULL;
}

static const char script[] =
    "let n = 0\n"
    "while (true) { n = n + 1 }\n";    /* never ends by itself */

int main(void)
{
    zx_options opts;
    zx_options_init(&opts);
    opts.jit = ZX_JIT_ALWAYS;          /* compiled loops poll for interrupts too */
    zx_vm *vm = NULL;
    zx_program *prog = NULL;
    zx_status st = zx_vm_create(&opts, &vm);
    if (st == ZX_OK) st = zx_program_load_source(vm, "forever.zx", script, strlen(script), &prog);
    if (st != ZX_OK) {
        fprintf(stderr, "error (%s): %s\n", zx_status_str(st), vm ? zx_vm_last_error(vm) : "");
        zx_vm_destroy(vm);
        return 1;
    }
    pthread_t t;
    pthread_create(&t, NULL, watchdog, vm);
    st = zx_program_run(prog);
    pthread_join(t, NULL);
    printf("run: %s\n", zx_status_str(st));
    printf("message: %s\n", zx_vm_last_error(vm));
    /* the globals of the interrupted run are kept: n is however far the loop got */
    zx_val *n = NULL;
    int64_t count = 0;
    if (zx_program_get_global(prog, "n", &n) == ZX_OK && zx_val_as_int(n, &count) == ZX_OK)
        printf("the loop ran %s\n", count > 0 ? "a while" : "not at all");
    zx_val_free(n);
    zx_program_destroy(prog);
    zx_vm_destroy(vm);
    return st == ZX_E_INTERRUPTED ? 0 : 1;
}
