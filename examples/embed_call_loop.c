/* embed_call_loop.c — call a Zexus action from C in a loop, keeping state in the program's globals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zexus.h>

static const char script[] =
    "let history = []\n"
    "let total = 0\n"
    "action record(x) {\n"
    "    history.push(x)\n"
    "    total = total + x\n"
    "    return total / len(history)\n"    /* the running mean (floor division on Integers) */
    "}\n"
    "action describe(m) { return \"mean \" + string(m[\"mean\"]) + \" of \" + string(m[\"n\"]) }\n";

int main(void)
{
    zx_vm *vm = NULL;
    zx_program *prog = NULL;
    zx_val *arg = NULL, *mean = NULL;
    zx_status st = zx_vm_create(NULL, &vm);
    if (st == ZX_OK) st = zx_program_load_source(vm, "stats.zx", script, strlen(script), &prog);
    /* the top level runs first: it defines the actions and the globals they use */
    if (st == ZX_OK) st = zx_program_run(prog);
    for (int64_t i = 1; st == ZX_OK && i <= 10; i++) {
        st = zx_val_int(vm, i * i, &arg);
        if (st != ZX_OK) break;
        const zx_val *argv[] = { arg };
        st = zx_program_call(prog, "record", argv, 1, &mean);
        int64_t m = 0;
        if (st == ZX_OK && zx_val_as_int(mean, &m) == ZX_OK) printf("after %2lld: mean %lld\n", (long long)i, (long long)m);
        zx_val_free(arg);
        zx_val_free(mean);
        arg = mean = NULL;
    }
    /* globals written by the calls are there to read */
    zx_val *history = NULL;
    if (st == ZX_OK) st = zx_program_get_global(prog, "history", &history);
    if (st == ZX_OK) {
        char *text = NULL;
        size_t n = 0;
        zx_val_list_len(history, &n);
        if (zx_val_to_string(history, &text) == ZX_OK) printf("history (%zu): %s\n", n, text);
        free(text);
    }
    /* a map built in C, passed to Zexus */
    zx_val *m = NULL, *k = NULL, *v = NULL, *desc = NULL;
    if (st == ZX_OK) st = zx_val_map_new(vm, &m);
    if (st == ZX_OK) st = zx_val_string(vm, "mean", 4, &k);
    if (st == ZX_OK) st = zx_val_float(vm, 38.5, &v);
    if (st == ZX_OK) st = zx_val_map_set(m, k, v);
    zx_val_free(k);
    zx_val_free(v);
    k = v = NULL;
    if (st == ZX_OK) st = zx_val_string(vm, "n", 1, &k);
    if (st == ZX_OK) st = zx_val_int(vm, 10, &v);
    if (st == ZX_OK) st = zx_val_map_set(m, k, v);
    if (st == ZX_OK) {
        const zx_val *argv[] = { m };
        st = zx_program_call(prog, "describe", argv, 1, &desc);
    }
    const char *s;
    size_t len;
    if (st == ZX_OK && zx_val_as_string(desc, &s, &len) == ZX_OK) printf("%.*s\n", (int)len, s);
    if (st != ZX_OK) fprintf(stderr, "error (%s): %s\n", zx_status_str(st), vm ? zx_vm_last_error(vm) : "");
    zx_val_free(k);
    zx_val_free(v);
    zx_val_free(m);
    zx_val_free(desc);
    zx_val_free(history);
    zx_program_destroy(prog);
    zx_vm_destroy(vm);
    return st == ZX_OK ? 0 : 1;
}
