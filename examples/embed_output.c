/* embed_output.c — run a Zexus script and capture its output through the output callback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zexus.h>

/* The output callback: calls are serialised and in program order, so appending is enough. */
typedef struct capture {
    char *data;
    size_t len;
} capture;

static int capture_output(void *userdata, const char *data, size_t len)
{
    capture *c = userdata;
    char *grown = realloc(c->data, c->len + len + 1);
    if (!grown) return 1;              /* non-zero: the run stops with ZX_E_OUTPUT */
    memcpy(grown + c->len, data, len);
    c->len += len;
    grown[c->len] = '\0';
    c->data = grown;
    return 0;
}

static const char script[] =
    "action fib(n) { if (n < 2) { return n } return fib(n - 1) + fib(n - 2) }\n"
    "let squares = parallel_map((x) => x * x, range(1, 6))\n"
    "print(\"fib(20) =\", fib(20))\n"
    "print(\"squares:\", squares)\n"
    "print(\"args:\", args)\n";

int main(void)
{
    if (ZX_CHECK_VERSION() != ZX_OK) {
        fprintf(stderr, "libzexus %s does not match zexus.h %s\n", zx_version(), ZEXUS_VERSION_STRING);
        return 1;
    }
    capture out = { NULL, 0 };
    zx_options opts;
    zx_options_init(&opts);
    opts.output = capture_output;
    opts.output_userdata = &out;

    zx_vm *vm = NULL;
    zx_program *prog = NULL;
    zx_status st = zx_vm_create(&opts, &vm);
    if (st != ZX_OK) {
        fprintf(stderr, "zx_vm_create: %s\n", zx_status_str(st));
        return 1;
    }
    const char *argv[] = { "one", "two" };
    st = zx_vm_set_args(vm, 2, argv);
    if (st == ZX_OK) st = zx_program_load_source(vm, "script.zx", script, strlen(script), &prog);
    if (st == ZX_OK) st = zx_program_run(prog);
    if (st != ZX_OK) fprintf(stderr, "%s\n", zx_vm_last_error(vm));
    else printf("captured %zu bytes:\n%s", out.len, out.data);

    zx_program_destroy(prog);
    zx_vm_destroy(vm);
    free(out.data);
    return st == ZX_OK ? 0 : 1;
}
