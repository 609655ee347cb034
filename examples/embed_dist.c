/* embed_dist.c — an embedder's MPI job: every rank registers the same host function, rank 0 runs the program, the others serve its parallel_map. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zexus.h>

/* Run under mpirun (mpirun -n 4 ./embed_dist); alone it is a job of one rank.  Host functions
 * must be registered alike on every rank: the program's bytecode names them, and each rank
 * resolves the names when it loads the bytecode rank 0 sends. */
static zx_status collatz(void *userdata, zx_vm *vm, const zx_val *const *argv, int argc, zx_val **result)
{
    (void)userdata;
    int64_t n;
    if (argc != 1 || zx_val_as_int(argv[0], &n) != ZX_OK || n < 1) return ZX_E_ARGUMENT;
    int64_t steps = 0;
    while (n != 1) {
        n = n % 2 ? 3 * n + 1 : n / 2;
        steps++;
    }
    return zx_val_int(vm, steps, result);
}

static const char script[] =
    "action body() {\n"
    "    let steps = parallel_map((n) => collatz(n), range(1, 20001))\n"
    "    let longest = 0\n"
    "    let at = 0\n"
    "    for each i, s in steps { if (s > longest) { longest = s\n at = i + 1 } }\n"
    "    print(\"longest chain below 20001 starts at\", at, \"with\", longest, \"steps\")\n"
    "}\n"
    "body()\n";

int main(void)
{
    zx_options opts;
    zx_options_init(&opts);
    opts.mode = ZX_MODE_PAR;
    zx_vm *vm = NULL;
    zx_program *prog = NULL;
    int rank = 0, size = 1;
    zx_status st = zx_vm_create(&opts, &vm);
    if (st == ZX_OK) st = zx_vm_register(vm, "collatz", collatz, NULL, ZX_HOST_PURE);
    /* NULL: MPI_COMM_WORLD; an embedder that runs MPI itself passes &its_comm */
    if (st == ZX_OK) st = zx_dist_start(vm, NULL, &rank, &size);
    if (st == ZX_OK && rank != 0) {
        st = zx_dist_serve(vm);                /* until rank 0 ends the session */
    } else if (st == ZX_OK) {
        st = zx_program_load_source(vm, "collatz.zx", script, strlen(script), &prog);
        if (st == ZX_OK) st = zx_dist_publish(prog);
        if (st == ZX_OK) st = zx_program_run(prog);
        if (st == ZX_OK && getenv("EMBED_DIST_STATS")) {
            char *stats = NULL;
            if (zx_vm_stats(vm, 0, &stats) == ZX_OK) {
                fputs(stats, stderr);
                free(stats);
            }
        }
        zx_dist_end(vm);                       /* the other ranks stop serving */
    }
    if (st != ZX_OK) fprintf(stderr, "rank %d of %d: error (%s): %s\n", rank, size, zx_status_str(st),
                             vm ? zx_vm_last_error(vm) : "");
    zx_program_destroy(prog);
    zx_vm_destroy(vm);
    return st == ZX_OK ? 0 : 1;
}
