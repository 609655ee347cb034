/* test_api_session.c — interactive sessions (zx_session_*): globals and actions kept from piece
 * to piece, values of expression statements printed, errors that change nothing or keep what
 * ran, the accessors on the session's program; in every tier and mode. */
#include "api_check.h"

static api_capture out;

/* Evaluate src in s, expecting status want and exactly the output `printed`. */
#define EVAL(vm, s, src, want, printed) do { \
        out.len = 0; \
        out.buf[0] = '\0'; \
        CHECK_ST(vm, zx_session_eval(s, src, strlen(src)), want); \
        CHECK_STR(out.buf, printed); \
    } while (0)

static void session_in(zx_mode mode, zx_jit jit, int opt, int workers)
{
    zx_options o;
    zx_options_init(&o);
    o.mode = mode;
    o.jit = jit;
    o.opt_level = opt;
    o.workers = workers;
    o.use_cache = 0;
    o.output = api_capture_output;
    o.output_userdata = &out;
    zx_vm *vm = NULL;
    CHECK_ST(vm, zx_vm_create(&o, &vm), ZX_OK);
    if (!vm) return;
    zx_session *s = NULL;
    CHECK_ST(vm, zx_session_create(vm, "<piece>", &s), ZX_OK);
    if (!s) {
        zx_vm_destroy(vm);
        return;
    }
    zx_program *p = NULL;
    CHECK(zx_session_program(s, &p) == ZX_E_NOT_FOUND);

    EVAL(vm, s, "let x = 1", ZX_OK, "");
    EVAL(vm, s, "x + 1", ZX_OK, "2\n");
    EVAL(vm, s, "action f(a) {\n  return a * 2\n}", ZX_OK, "");
    EVAL(vm, s, "f(3)", ZX_OK, "6\n");
    EVAL(vm, s, "null", ZX_OK, "");                        /* nothing for null */
    EVAL(vm, s, "print(\"p\")", ZX_OK, "p\n");             /* print's own output only */
    EVAL(vm, s, "\"s\"; [1, \"a\"]; f(x)", ZX_OK, "s\n[1, a]\n2\n");
    /* a piece that does not compile changes nothing */
    EVAL(vm, s, "x = 100\nlet y = (", ZX_E_SYNTAX, "");
    CHECK_CONTAINS(zx_vm_last_error(vm), "<piece>:2:10: error: ");
    EVAL(vm, s, "x", ZX_OK, "1\n");
    /* a runtime error keeps the assignments made before it */
    EVAL(vm, s, "x = 5\nlet z = 1 / 0\nx = 7", ZX_E_RUNTIME, "");
    CHECK_CONTAINS(zx_vm_last_error(vm), "<piece>:2:11: runtime error: division by zero");
    EVAL(vm, s, "x", ZX_OK, "5\n");
    /* an action defined earlier reads the global as it is now, whatever its type */
    EVAL(vm, s, "action g() { return x * 10 }", ZX_OK, "");
    EVAL(vm, s, "g()", ZX_OK, "50\n");
    EVAL(vm, s, "x = 2.5", ZX_OK, "");
    EVAL(vm, s, "g()", ZX_OK, "25.0\n");
    /* redefinitions: a let again, an action again; a const cannot be */
    EVAL(vm, s, "let x = 3", ZX_OK, "");
    EVAL(vm, s, "action f(a) { return a + 1000 }", ZX_OK, "");
    EVAL(vm, s, "f(x); g()", ZX_OK, "1003\n30\n");
    EVAL(vm, s, "const c = 4", ZX_OK, "");
    EVAL(vm, s, "c = 5", ZX_E_SYNTAX, "");
    CHECK_CONTAINS(zx_vm_last_error(vm), "cannot assign to constant 'c'");
    EVAL(vm, s, "let c = 5", ZX_E_SYNTAX, "");
    EVAL(vm, s, "c", ZX_OK, "4\n");
    /* hot loops over earlier actions (the JIT compiles them under auto), parallel_map over one */
    EVAL(vm, s, "let t = 0\nfor each i in range(3000) { t += f(i) }\nt", ZX_OK, "7498500\n");
    EVAL(vm, s, "parallel_map(f, [1, 2, 3])", ZX_OK, "[1001, 1002, 1003]\n");
    EVAL(vm, s, "shared let n = 0", ZX_OK, "");
    EVAL(vm, s, "n += 2\nn", ZX_OK, "2\n");
    /* the accessors on the session's program */
    CHECK_ST(vm, zx_session_program(s, &p), ZX_OK);
    zx_val *v = NULL;
    CHECK_ST(vm, zx_program_get_global(p, "x", &v), ZX_OK);
    int64_t i = 0;
    if (v) CHECK(zx_val_as_int(v, &i) == ZX_OK && i == 3);
    zx_val_free(v);
    zx_val *arg = NULL, *res = NULL;
    CHECK_ST(vm, zx_val_int(vm, 4, &arg), ZX_OK);
    CHECK_ST(vm, zx_program_call(p, "f", (const zx_val *const *)&arg, 1, &res), ZX_OK);
    if (res) CHECK(zx_val_as_int(res, &i) == ZX_OK && i == 1004);
    zx_val_free(res);
    zx_val_free(arg);
    CHECK_ST(vm, zx_val_int(vm, 9, &arg), ZX_OK);
    CHECK_ST(vm, zx_program_set_global(p, "x", arg), ZX_OK);   /* seen by the next piece */
    zx_val_free(arg);
    EVAL(vm, s, "x + 1", ZX_OK, "10\n");
    /* an interrupt requested before a piece stops it; the session goes on */
    zx_vm_interrupt(vm);
    EVAL(vm, s, "while (true) { x += 1 }", ZX_E_INTERRUPTED, "");
    EVAL(vm, s, "x > 9", ZX_OK, "true\n");
    CHECK(zx_session_eval(NULL, "x", 1) == ZX_E_ARGUMENT);
    CHECK(zx_session_create(NULL, "n", &s) == ZX_E_ARGUMENT);
    zx_session_destroy(s);
    zx_session_destroy(NULL);
    zx_vm_destroy(vm);
}

int main(void)
{
    session_in(ZX_MODE_AUTO, ZX_JIT_AUTO, 2, 0);
    session_in(ZX_MODE_SEQ, ZX_JIT_OFF, 2, 1);
    session_in(ZX_MODE_SEQ, ZX_JIT_STRICT, 0, 1);
    session_in(ZX_MODE_PAR, ZX_JIT_STRICT, 2, 2);
    session_in(ZX_MODE_PAR, ZX_JIT_OFF, 2, 3);
    return api_report("test_api_session");
}
