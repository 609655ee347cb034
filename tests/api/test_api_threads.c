/* test_api_threads.c — two VMs in two host threads run at the same time: their host functions meet at a rendezvous. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "api_check.h"

/*
 * Each VM's program calls meet(i) for i = 0..ROUNDS-1; meet(i) returns only once the other
 * VM has reached meet(i) too.  If the library serialised runs (a global lock around them, or
 * one shared interpreter), one thread would wait in meet() while holding it and the other
 * could never arrive: the wait times out and the test fails instead of hanging.
 */
#define ROUNDS 20
#define TIMEOUT_S 20

typedef struct rendezvous {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int arrived[2];               /* rounds each side has reached */
    int timed_out;
} rendezvous;

static rendezvous rv = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, { 0, 0 }, 0 };

typedef struct side {
    int id;
    zx_jit jit;
    zx_status st;
    char error[512];
    api_capture out;
} side;

static zx_status meet(void *ud, zx_vm *vm, const zx_val *const *argv, int argc, zx_val **result)
{
    side *s = ud;
    int64_t round;
    if (argc != 1 || zx_val_as_int(argv[0], &round) != ZX_OK) return ZX_E_ARGUMENT;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += TIMEOUT_S;
    pthread_mutex_lock(&rv.lock);
    rv.arrived[s->id] = (int)round + 1;
    pthread_cond_broadcast(&rv.cond);
    int rc = 0;
    while (rv.arrived[1 - s->id] < round + 1 && rc != ETIMEDOUT && !rv.timed_out)
        rc = pthread_cond_timedwait(&rv.cond, &rv.lock, &deadline);
    int ok = rv.arrived[1 - s->id] >= round + 1;
    if (!ok) rv.timed_out = 1;
    pthread_cond_broadcast(&rv.cond);
    pthread_mutex_unlock(&rv.lock);
    if (!ok) {
        zx_val_string(vm, "rendezvous timed out: the other VM is not running", 50, result);
        return ZX_E_RUNTIME;
    }
    return zx_val_int(vm, round, result);
}

static const char script[] =
    "action work(n) { let s = 0\n for each i in range(n) { s = s + i * i }\n return s }\n"
    "let total = 0\n"
    "for each r in range(20) { total = total + work(2000) + meet(r) }\n"
    "print(total)\n";

static void *run_side(void *arg)
{
    side *s = arg;
    zx_options o;
    zx_options_init(&o);
    o.jit = s->jit;
    o.workers = 2;
    o.output = api_capture_output;
    o.output_userdata = &s->out;
    zx_vm *vm = NULL;
    zx_program *p = NULL;
    s->st = zx_vm_create(&o, &vm);
    if (s->st == ZX_OK) s->st = zx_vm_register(vm, "meet", meet, s, 0);
    if (s->st == ZX_OK) s->st = zx_program_load_source(vm, "meet.zx", script, strlen(script), &p);
    if (s->st == ZX_OK) s->st = zx_program_run(p);
    if (vm) snprintf(s->error, sizeof s->error, "%s", zx_vm_last_error(vm));
    zx_vm_destroy(vm);
    return NULL;
}

static void both(zx_jit jit)
{
    side s[2];
    memset(s, 0, sizeof s);
    rv.arrived[0] = rv.arrived[1] = 0;
    rv.timed_out = 0;
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        s[i].id = i;
        s[i].jit = jit;
        CHECK(pthread_create(&t[i], NULL, run_side, &s[i]) == 0);
    }
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 2; i++) {
        if (s[i].st != ZX_OK) fprintf(stderr, "side %d: %s: %s\n", i, zx_status_str(s[i].st), s[i].error);
        CHECK(s[i].st == ZX_OK);
        /* 20 rounds of (the sum of i*i for i < 2000), plus 0 + 1 + ... + 19 */
        CHECK_STR(s[i].out.buf, "53293340190\n");
    }
    CHECK(!rv.timed_out);
}

int main(void)
{
    both(ZX_JIT_OFF);
    both(ZX_JIT_ALWAYS);
    return api_report("test_api_threads");
}
