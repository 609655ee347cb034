/* test_api_output.c — the default output (no callback) on a full device, a closed pipe and a stalled pipe. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "api_check.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *stop_later(void *arg)
{
    struct timespec ts = { 0, 300 * 1000000L };
    nanosleep(&ts, NULL);
    zx_vm_interrupt(arg);
    return NULL;
}

/* Run `src` with standard output on fd; the VM is made after the switch, as an embedder's
 * would be.  Returns the status, the message in msg. */
static zx_status run_on(int fd, const char *src, bool interrupt, char *msg, size_t msg_len)
{
    int saved = dup(STDOUT_FILENO);
    dup2(fd, STDOUT_FILENO);
    zx_vm *vm = NULL;
    zx_program *prog = NULL;
    zx_status st = zx_vm_create(NULL, &vm);
    if (st == ZX_OK) st = zx_program_load_source(vm, "out.zx", src, strlen(src), &prog);
    pthread_t th;
    if (st == ZX_OK && interrupt) pthread_create(&th, NULL, stop_later, vm);
    if (st == ZX_OK) st = zx_program_run(prog);
    if (prog && interrupt) pthread_join(th, NULL);
    snprintf(msg, msg_len, "%s", vm ? zx_vm_last_error(vm) : "");
    zx_vm_destroy(vm);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    return st;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    alarm(60);                /* a write that never yields ends the test, not the suite */
    char msg[1024];
    int full = open("/dev/full", O_WRONLY);
    if (full >= 0) {
        /* written only by the final flush */
        CHECK(run_on(full, "print(\"hi\")\n", false, msg, sizeof msg) == ZX_E_IO);
        CHECK_CONTAINS(msg, "out.zx: error writing standard output: No space left on device");
        /* a runtime error before that flush keeps its status; both are reported */
        CHECK(run_on(full, "print(\"hi\")\nlet z = 0\nprint(1 / z)\n", false, msg, sizeof msg) == ZX_E_RUNTIME);
        CHECK_CONTAINS(msg, "No space left on device");
        CHECK_CONTAINS(msg, "runtime error: division by zero");
        close(full);
    }

    static const char forever[] = "while (true) { print(\"a line of output that fills the pipe\") }\n";
    int p[2];
    CHECK(pipe(p) == 0);
    close(p[0]);              /* a closed pipe: quiet ZX_E_OUTPUT, as before */
    CHECK(run_on(p[1], forever, false, msg, sizeof msg) == ZX_E_OUTPUT);
    CHECK_CONTAINS(msg, "output closed");
    close(p[1]);

    CHECK(pipe(p) == 0);      /* nobody reads: the pipe fills, zx_vm_interrupt still ends the run */
    double t0 = now_s();
    CHECK(run_on(p[1], forever, true, msg, sizeof msg) == ZX_E_INTERRUPTED);
    CHECK_CONTAINS(msg, "interrupted");
    CHECK(now_s() - t0 < 5.0);
    close(p[0]);
    close(p[1]);

    if (api_failures) fprintf(stderr, "test_api_output: %d failure(s)\n", api_failures);
    return api_failures != 0;
}
