/* embed_host_pure.c — expose a C function to Zexus as a pure host function and call it inside parallel_map. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zexus.h>

/* collatz(n): the number of Collatz steps from n to 1.  It depends on its argument alone and
 * touches no shared state, so it is registered ZX_HOST_PURE: parallel_map may run its calls
 * on several worker threads at once. */
static zx_status collatz(void *userdata, zx_vm *vm, const zx_val *const *argv, int argc, zx_val **result)
{
    (void)userdata;
    int64_t n;
    if (argc != 1 || zx_val_as_int(argv[0], &n) != ZX_OK || n < 1) {
        static const char msg[] = "collatz expects one positive Integer";
        zx_val_string(vm, msg, strlen(msg), result);     /* becomes the error message */
        return ZX_E_RUNTIME;
    }
    int64_t steps = 0;
    while (n != 1) {
        n = n % 2 ? 3 * n + 1 : n / 2;
        steps++;
    }
    return zx_val_int(vm, steps, result);
}

/* hypot2(x, y): floats in, a float out. */
static zx_status hypot2(void *userdata, zx_vm *vm, const zx_val *const *argv, int argc, zx_val **result)
{
    (void)userdata;
    double x, y;
    if (argc != 2 || zx_val_as_float(argv[0], &x) != ZX_OK || zx_val_as_float(argv[1], &y) != ZX_OK)
        return ZX_E_ARGUMENT;                            /* "host function 'hypot2' failed: ..." */
    return zx_val_float(vm, sqrt(x * x + y * y), result);
}

static const char script[] =
    "let steps = parallel_map(collatz, range(1, 10001))\n"
    "let longest = 0\n"
    "let at = 0\n"
    "for each i, s in steps { if (s > longest) { longest = s\n at = i + 1 } }\n"
    "print(\"longest chain below 10001 starts at\", at, \"with\", longest, \"steps\")\n"
    "print(parallel_map((p) => hypot2(p[0], p[1]), [[3, 4], [5, 12], [8.0, 15]]))\n";

int main(void)
{
    zx_options opts;
    zx_options_init(&opts);
    opts.mode = ZX_MODE_PAR;           /* parallel wherever the analysis allows it */
    opts.workers = 4;
    zx_vm *vm = NULL;
    zx_program *prog = NULL;
    zx_status st = zx_vm_create(&opts, &vm);
    /* host functions first: the compiler resolves them when the program loads */
    if (st == ZX_OK) st = zx_vm_register(vm, "collatz", collatz, NULL, ZX_HOST_PURE);
    if (st == ZX_OK) st = zx_vm_register(vm, "hypot2", hypot2, NULL, ZX_HOST_PURE);
    if (st == ZX_OK) st = zx_program_load_source(vm, "collatz.zx", script, strlen(script), &prog);
    if (st == ZX_OK) st = zx_program_run(prog);
    if (st != ZX_OK) {
        fprintf(stderr, "error (%s): %s\n", zx_status_str(st), vm ? zx_vm_last_error(vm) : "");
    } else {
        char *stats = NULL;
        if (zx_vm_stats(vm, 1, &stats) == ZX_OK) {
            /* the statistics say how many parallel_maps ran in parallel */
            static const char key[] = "\"parallel_map\":{\"parallel\":";
            const char *p = strstr(stats, key);
            printf("parallel_maps that ran in parallel: %ld\n", p ? strtol(p + strlen(key), NULL, 10) : -1L);
            free(stats);
        }
    }
    zx_program_destroy(prog);
    zx_vm_destroy(vm);
    return st == ZX_OK ? 0 : 1;
}
