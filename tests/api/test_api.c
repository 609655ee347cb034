/* test_api.c — every function of zexus.h and the status of every error path, against the installed library. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <unistd.h>

#include "api_check.h"

static zx_vm *new_vm(api_capture *cap, zx_mode mode, zx_jit jit)
{
    zx_options o;
    zx_options_init(&o);
    o.mode = mode;
    o.jit = jit;
    o.workers = 2;
    if (cap) {
        o.output = api_capture_output;
        o.output_userdata = cap;
    }
    zx_vm *vm = NULL;
    CHECK_ST(NULL, zx_vm_create(&o, &vm), ZX_OK);
    return vm;
}

static zx_program *load(zx_vm *vm, const char *src)
{
    zx_program *p = NULL;
    CHECK_ST(vm, zx_program_load_source(vm, "t.zx", src, strlen(src), &p), ZX_OK);
    return p;
}

static void test_version_and_status(void)
{
    CHECK_STR(zx_version(), ZEXUS_VERSION_STRING);
    CHECK(ZX_CHECK_VERSION() == ZX_OK);
    CHECK(zx_check_version(ZEXUS_VERSION_MAJOR, 0) == ZX_OK);
    CHECK(zx_check_version(ZEXUS_VERSION_MAJOR + 1, 0) == ZX_E_VERSION);
    CHECK(zx_check_version(ZEXUS_VERSION_MAJOR, ZEXUS_VERSION_MINOR + 1) == ZX_E_VERSION);
    for (int s = ZX_OK; s <= ZX_E_UNSUPPORTED; s++) {
        const char *a = zx_status_str((zx_status)s);
        CHECK(a && a[0]);
        for (int t = ZX_OK; t < s; t++) CHECK(strcmp(a, zx_status_str((zx_status)t)) != 0);
    }
    CHECK(zx_status_str((zx_status)999) != NULL);
}

static void test_vm_create(void)
{
    zx_vm *vm = NULL;
    CHECK_ST(NULL, zx_vm_create(NULL, NULL), ZX_E_ARGUMENT);
    zx_options o;
    zx_options_init(&o);
    CHECK(o.struct_size == sizeof o && o.opt_level == 2 && o.chunk_size == 50 && o.pin == 1);
    o.struct_size = sizeof o - 4;
    CHECK_ST(NULL, zx_vm_create(&o, &vm), ZX_E_VERSION);
    zx_options_init(&o);
    o.workers = -1;
    CHECK_ST(NULL, zx_vm_create(&o, &vm), ZX_E_ARGUMENT);
    zx_options_init(&o);
    o.opt_level = 4;
    CHECK_ST(NULL, zx_vm_create(&o, &vm), ZX_E_ARGUMENT);
    zx_options_init(&o);
    o.jit = (zx_jit)7;
    CHECK_ST(NULL, zx_vm_create(&o, &vm), ZX_E_ARGUMENT);
    CHECK(vm == NULL);                          /* out-parameters untouched on failure */
    CHECK_ST(NULL, zx_vm_create(NULL, &vm), ZX_OK);
    CHECK_STR(zx_vm_last_error(vm), "");
    CHECK_STR(zx_vm_last_error(NULL), "");
    zx_vm_destroy(vm);
    zx_vm_destroy(NULL);
    zx_vm_interrupt(NULL);
    zx_program_destroy(NULL);
    zx_val_free(NULL);
}

static void test_load_and_errors(void)
{
    api_capture cap = { .len = 0 };
    zx_vm *vm = new_vm(&cap, ZX_MODE_SEQ, ZX_JIT_OFF);
    zx_program *p = NULL;
    const char *file;
    uint32_t line, col;

    CHECK_ST(vm, zx_program_load_source(NULL, "x", "", 0, &p), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_program_load_source(vm, "x", NULL, 3, &p), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_program_load_source(vm, "x", "", 0, NULL), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_program_load_source(vm, "bad.zx", "let = 1", 7, &p), ZX_E_SYNTAX);
    CHECK(p == NULL);
    CHECK_CONTAINS(zx_vm_last_error(vm), "bad.zx:1:");
    CHECK_CONTAINS(zx_vm_last_error(vm), "error:");
    CHECK_ST(vm, zx_vm_last_error_place(vm, &file, &line, &col), ZX_OK);
    CHECK_STR(file, "bad.zx");
    CHECK(line == 1 && col >= 1);
    CHECK_ST(vm, zx_vm_last_error_place(NULL, &file, &line, &col), ZX_E_ARGUMENT);
    const char *src2 = "const k = 1\nk = 2\n";
    CHECK_ST(vm, zx_program_load_source(vm, "c.zx", src2, strlen(src2), &p), ZX_E_SYNTAX);
    CHECK_ST(vm, zx_vm_last_error_place(vm, &file, &line, &col), ZX_OK);
    CHECK(line == 2);

    CHECK_ST(vm, zx_program_load_assembly(NULL, "a", "", 0, &p), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_program_load_assembly(vm, "a.zxa", "NOT ASSEMBLY", 12, &p), ZX_E_BYTECODE);
    CHECK_ST(vm, zx_program_load_bytecode(vm, "ZXBC", 4, &p), ZX_E_BYTECODE);
    CHECK_ST(vm, zx_program_load_bytecode(NULL, "ZXBC", 4, &p), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_program_load_file(vm, "/nonexistent/dir/x.zx", &p), ZX_E_IO);
    CHECK_CONTAINS(zx_vm_last_error(vm), "/nonexistent/dir/x.zx");
    CHECK_ST(vm, zx_program_load_file(vm, NULL, &p), ZX_E_ARGUMENT);

    /* round trips: source -> bytecode -> program, source -> assembly -> program */
    p = load(vm, "let x = 6 * 7\nprint(\"x is\", x)\n");
    void *bc = NULL;
    size_t bclen = 0;
    char *zxa = NULL;
    CHECK_ST(vm, zx_program_to_bytecode(p, &bc, &bclen), ZX_OK);
    CHECK_ST(vm, zx_program_to_bytecode(NULL, &bc, &bclen), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_program_disassemble(p, &zxa), ZX_OK);
    CHECK_ST(vm, zx_program_disassemble(NULL, &zxa), ZX_E_ARGUMENT);
    CHECK_CONTAINS(zxa, "PRINT");
    zx_program *pb = NULL, *pa = NULL;
    CHECK_ST(vm, zx_program_load_bytecode(vm, bc, bclen, &pb), ZX_OK);
    CHECK_ST(vm, zx_program_load_assembly(vm, "t.zxa", zxa, strlen(zxa), &pa), ZX_OK);
    cap.len = 0;
    CHECK_ST(vm, zx_program_run(pb), ZX_OK);
    CHECK_ST(vm, zx_program_run(pa), ZX_OK);
    CHECK_STR(cap.buf, "x is 42\nx is 42\n");
    /* damaged bytecode, and bytecode of another format version */
    if (bc && bclen > 20) {
        unsigned char *d = malloc(bclen);
        memcpy(d, bc, bclen);
        d[bclen - 3] ^= 0x5a;
        CHECK_ST(vm, zx_program_load_bytecode(vm, d, bclen, &pb), ZX_E_BYTECODE);
        memcpy(d, bc, bclen);
        d[4] = (unsigned char)(ZEXUS_BYTECODE_VERSION + 1);
        CHECK_ST(vm, zx_program_load_bytecode(vm, d, bclen, &pb), ZX_E_VERSION);
        CHECK_CONTAINS(zx_vm_last_error(vm), "version");
        free(d);
    }
    /* files, by extension */
    char path[] = "/tmp/zx_api_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) {
        close(fd);
        char zxbc[64], zx[64];
        snprintf(zxbc, sizeof zxbc, "%s.zxbc", path);
        snprintf(zx, sizeof zx, "%s.zx", path);
        FILE *f = fopen(zxbc, "wb");
        fwrite(bc, 1, bclen, f);
        fclose(f);
        f = fopen(zx, "w");
        fputs("print(\"from a file\")\n", f);
        fclose(f);
        zx_program *pf = NULL;
        CHECK_ST(vm, zx_program_load_file(vm, zxbc, &pf), ZX_OK);
        zx_program_destroy(pf);
        pf = NULL;
        CHECK_ST(vm, zx_program_load_file(vm, zx, &pf), ZX_OK);
        cap.len = 0;
        CHECK_ST(vm, zx_program_run(pf), ZX_OK);
        CHECK_STR(cap.buf, "from a file\n");
        unlink(zxbc);
        unlink(zx);
        unlink(path);
    }
    free(bc);
    free(zxa);

    /* runtime errors: status, message with place and stack */
    zx_program *pe = load(vm, "action inner(d) { return 10 / d }\naction outer() { return inner(0) }\n"
                              "print(\"before\")\nouter()\n");
    cap.len = 0;
    CHECK_ST(vm, zx_program_run(pe), ZX_E_RUNTIME);
    CHECK_STR(cap.buf, "before\n");              /* output before the error is delivered */
    CHECK_CONTAINS(zx_vm_last_error(vm), "t.zx:1:");
    CHECK_CONTAINS(zx_vm_last_error(vm), "runtime error: division by zero");
    CHECK_CONTAINS(zx_vm_last_error(vm), "  at inner (t.zx:1:");
    CHECK_CONTAINS(zx_vm_last_error(vm), "  at outer (t.zx:2:");
    CHECK_ST(vm, zx_vm_last_error_place(vm, &file, &line, &col), ZX_OK);
    CHECK_STR(file, "t.zx");
    CHECK(line == 1 && col > 1);
    const char *action;
    CHECK_ST(vm, zx_vm_last_error_frame(vm, 0, &action, &file, &line, &col), ZX_OK);
    CHECK_STR(action, "inner");
    CHECK(line == 1);
    CHECK_ST(vm, zx_vm_last_error_frame(vm, 1, &action, &file, &line, &col), ZX_OK);
    CHECK_STR(action, "outer");
    CHECK(line == 2);
    CHECK_ST(vm, zx_vm_last_error_frame(vm, 2, &action, &file, &line, &col), ZX_E_NOT_FOUND);
    CHECK_ST(vm, zx_vm_last_error_frame(vm, -1, &action, &file, &line, &col), ZX_E_ARGUMENT);
    /* a success clears the last error */
    CHECK_ST(vm, zx_program_run(pa), ZX_OK);
    CHECK_STR(zx_vm_last_error(vm), "");
    CHECK_ST(vm, zx_vm_last_error_place(vm, &file, &line, &col), ZX_E_NOT_FOUND);
    CHECK_ST(vm, zx_program_run(NULL), ZX_E_ARGUMENT);

    /* the output callback's failure stops the program */
    cap.fail = 1;
    CHECK_ST(vm, zx_program_run(pa), ZX_E_OUTPUT);
    cap.fail = 0;

    /* args */
    const char *argv[] = { "a", "b" };
    CHECK_ST(vm, zx_vm_set_args(NULL, 0, NULL), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_vm_set_args(vm, -1, NULL), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_vm_set_args(vm, 2, NULL), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_vm_set_args(vm, 2, argv), ZX_OK);
    zx_program *pg = load(vm, "print(args, len(args))\n");
    cap.len = 0;
    CHECK_ST(vm, zx_program_run(pg), ZX_OK);
    CHECK_STR(cap.buf, "[a, b] 2\n");

    /* statistics, chunks, info */
    char *text = NULL;
    CHECK_ST(vm, zx_vm_stats(vm, 0, &text), ZX_OK);
    CHECK(text && text[0]);
    free(text);
    text = NULL;
    CHECK_ST(vm, zx_vm_stats(vm, 1, &text), ZX_OK);
    CHECK(text && text[0] == '{');
    free(text);
    CHECK_ST(vm, zx_vm_stats(NULL, 0, &text), ZX_E_ARGUMENT);
    text = NULL;
    CHECK_ST(vm, zx_program_chunks(pe, 0, 0, &text), ZX_OK);
    CHECK_CONTAINS(text, "chunk");
    free(text);
    text = NULL;
    CHECK_ST(vm, zx_program_chunks(pe, 0, 1, &text), ZX_OK);
    CHECK_CONTAINS(text, "digraph");
    free(text);
    CHECK_ST(vm, zx_program_chunks(NULL, 0, 0, &text), ZX_E_ARGUMENT);
    text = NULL;
    CHECK_ST(NULL, zx_info(NULL, &text), ZX_OK);
    CHECK_CONTAINS(text, ZEXUS_VERSION_STRING);
    free(text);
    CHECK_ST(NULL, zx_info(NULL, NULL), ZX_E_ARGUMENT);

    zx_program_destroy(p);
    zx_program_destroy(pa);     /* pb, pe, pg go with the VM */
    zx_vm_destroy(vm);
}

static void test_memory_limit(void)
{
    zx_options o;
    zx_options_init(&o);
    o.max_memory = 1 << 20;
    o.jit = ZX_JIT_OFF;
    api_capture cap = { .len = 0 };
    o.output = api_capture_output;
    o.output_userdata = &cap;
    zx_vm *vm = NULL;
    CHECK_ST(NULL, zx_vm_create(&o, &vm), ZX_OK);
    zx_program *p = load(vm, "let xs = []\nwhile (true) { xs.push(\"0123456789abcdef\" * 10) }\n");
    CHECK_ST(vm, zx_program_run(p), ZX_E_MEMORY);
    CHECK_CONTAINS(zx_vm_last_error(vm), "memory limit exceeded");
    zx_vm_destroy(vm);
}

static void test_values(void)
{
    zx_vm *vm = new_vm(NULL, ZX_MODE_SEQ, ZX_JIT_OFF);
    zx_vm *other = new_vm(NULL, ZX_MODE_SEQ, ZX_JIT_OFF);
    zx_val *n = NULL, *b = NULL, *i = NULL, *f = NULL, *s = NULL, *l = NULL, *m = NULL, *c = NULL, *x = NULL;
    int64_t iv;
    double dv;
    int bv;
    const char *sv;
    size_t len;
    char *text;

    CHECK_ST(vm, zx_val_null(NULL, &n), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_val_int(vm, 1, NULL), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_val_null(vm, &n), ZX_OK);
    CHECK_ST(vm, zx_val_bool(vm, 7, &b), ZX_OK);
    CHECK_ST(vm, zx_val_int(vm, -42, &i), ZX_OK);
    CHECK_ST(vm, zx_val_float(vm, 2.5, &f), ZX_OK);
    CHECK_ST(vm, zx_val_string(vm, "h\xc3\xa9llo", 6, &s), ZX_OK);
    CHECK_ST(vm, zx_val_string(vm, "\xff\xfe", 2, &x), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_val_string(vm, NULL, 2, &x), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_val_list_new(vm, &l), ZX_OK);
    CHECK_ST(vm, zx_val_map_new(vm, &m), ZX_OK);

    CHECK(zx_val_type(n) == ZX_TYPE_NULL && zx_val_type(b) == ZX_TYPE_BOOL && zx_val_type(i) == ZX_TYPE_INT);
    CHECK(zx_val_type(f) == ZX_TYPE_FLOAT && zx_val_type(s) == ZX_TYPE_STRING && zx_val_type(l) == ZX_TYPE_LIST);
    CHECK(zx_val_type(m) == ZX_TYPE_MAP && zx_val_type(NULL) == ZX_TYPE_NULL);
    CHECK_STR(zx_val_type_name(i), "Integer");
    CHECK_STR(zx_val_type_name(s), "String");

    CHECK_ST(vm, zx_val_as_int(i, &iv), ZX_OK);
    CHECK(iv == -42);
    CHECK_ST(vm, zx_val_as_int(f, &iv), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_val_as_int(NULL, &iv), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_val_as_float(f, &dv), ZX_OK);
    CHECK(dv == 2.5);
    CHECK_ST(vm, zx_val_as_float(i, &dv), ZX_OK);
    CHECK(dv == -42.0);
    CHECK_ST(vm, zx_val_as_float(s, &dv), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_val_as_bool(b, &bv), ZX_OK);
    CHECK(bv == 1);
    CHECK_ST(vm, zx_val_as_bool(n, &bv), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_val_as_string(s, &sv, &len), ZX_OK);
    CHECK(len == 6 && memcmp(sv, "h\xc3\xa9llo", 6) == 0 && sv[6] == '\0');
    CHECK_ST(vm, zx_val_as_string(i, &sv, &len), ZX_E_ARGUMENT);

    /* lists */
    size_t count = 99;
    CHECK_ST(vm, zx_val_list_len(l, &count), ZX_OK);
    CHECK(count == 0);
    CHECK_ST(vm, zx_val_list_push(l, i), ZX_OK);
    CHECK_ST(vm, zx_val_list_push(l, s), ZX_OK);
    CHECK_ST(vm, zx_val_list_push(l, n), ZX_OK);
    CHECK_ST(vm, zx_val_list_push(i, n), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_val_list_push(l, NULL), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_val_list_len(l, &count), ZX_OK);
    CHECK(count == 3);
    CHECK_ST(vm, zx_val_list_len(m, &count), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_val_list_get(l, 1, &x), ZX_OK);
    CHECK(zx_val_type(x) == ZX_TYPE_STRING);
    zx_val_free(x);
    CHECK_ST(vm, zx_val_list_get(l, 3, &x), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_val_list_set(l, 2, f), ZX_OK);
    CHECK_ST(vm, zx_val_list_set(l, 3, f), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_val_to_string(l, &text), ZX_OK);
    CHECK_STR(text, "[-42, h\xc3\xa9llo, 2.5]");
    free(text);
    /* ints (kept unboxed inside) and then a float and a string: each item keeps its type */
    zx_val *nums = NULL;
    CHECK_ST(vm, zx_val_list_new(vm, &nums), ZX_OK);
    for (int k = 0; k < 3; k++) CHECK_ST(vm, zx_val_list_push(nums, i), ZX_OK);
    CHECK_ST(vm, zx_val_list_set(nums, 1, f), ZX_OK);
    CHECK_ST(vm, zx_val_list_get(nums, 0, &x), ZX_OK);
    CHECK(zx_val_type(x) == ZX_TYPE_INT);
    zx_val_free(x);
    CHECK_ST(vm, zx_val_list_push(nums, s), ZX_OK);
    CHECK_ST(vm, zx_val_list_get(nums, 1, &x), ZX_OK);
    CHECK(zx_val_type(x) == ZX_TYPE_FLOAT);
    zx_val_free(x);
    CHECK_ST(vm, zx_val_to_string(nums, &text), ZX_OK);
    CHECK_STR(text, "[-42, 2.5, -42, h\xc3\xa9llo]");
    free(text);
    zx_val_free(nums);

    /* maps */
    CHECK_ST(vm, zx_val_map_set(m, s, i), ZX_OK);
    CHECK_ST(vm, zx_val_map_set(m, i, b), ZX_OK);
    CHECK_ST(vm, zx_val_map_set(m, l, b), ZX_E_ARGUMENT);       /* a list is no key */
    CHECK_ST(vm, zx_val_map_set(l, s, b), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_val_map_len(m, &count), ZX_OK);
    CHECK(count == 2);
    CHECK_ST(vm, zx_val_map_get(m, s, &x), ZX_OK);
    CHECK_ST(vm, zx_val_as_int(x, &iv), ZX_OK);
    CHECK(iv == -42);
    zx_val_free(x);
    CHECK_ST(vm, zx_val_map_get(m, f, &x), ZX_E_NOT_FOUND);
    CHECK_ST(vm, zx_val_map_keys(m, &x), ZX_OK);
    CHECK_ST(vm, zx_val_to_string(x, &text), ZX_OK);
    CHECK_STR(text, "[h\xc3\xa9llo, -42]");
    free(text);
    zx_val_free(x);
    CHECK_ST(vm, zx_val_map_keys(l, &x), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_val_to_string(m, &text), ZX_OK);
    CHECK_STR(text, "{h\xc3\xa9llo: -42, -42: true}");
    free(text);
    CHECK_ST(vm, zx_val_to_string(NULL, &text), ZX_E_ARGUMENT);

    /* copies share the value; a list may contain itself and still be freed with the VM */
    CHECK_ST(vm, zx_val_copy(l, &c), ZX_OK);
    CHECK_ST(vm, zx_val_list_push(c, l), ZX_OK);
    CHECK_ST(vm, zx_val_list_len(l, &count), ZX_OK);
    CHECK(count == 4);
    CHECK_ST(vm, zx_val_copy(NULL, &x), ZX_E_ARGUMENT);

    /* values of another VM are refused */
    zx_val *foreign = NULL;
    CHECK_ST(other, zx_val_int(other, 1, &foreign), ZX_OK);
    CHECK_ST(vm, zx_val_list_push(l, foreign), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_val_map_set(m, s, foreign), ZX_E_ARGUMENT);
    zx_val_free(foreign);

    zx_val *all[] = { n, b, i, f, s, l, m, c };
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) zx_val_free(all[k]);
    zx_vm_destroy(other);
    zx_vm_destroy(vm);
}

static void test_call_and_globals(zx_jit jit)
{
    api_capture cap = { .len = 0 };
    zx_vm *vm = new_vm(&cap, ZX_MODE_AUTO, jit);
    zx_program *p = load(vm,
        "let counter = 0\n"
        "const limit = 3\n"
        "let unset_yet = null\n"
        "action add(a, b) { return a + b }\n"
        "action bump() { counter = counter + 1\n print(\"bump\", counter)\n return counter }\n"
        "action fail(x) { return x / 0 }\n"
        "let square = (x) => x * x\n"
        "let seven = 7\n"
        "let length = len\n");
    zx_val *a = NULL, *b = NULL, *r = NULL;
    CHECK_ST(vm, zx_val_int(vm, 2, &a), ZX_OK);
    CHECK_ST(vm, zx_val_int(vm, 40, &b), ZX_OK);
    const zx_val *args[] = { a, b };

    /* before the first run there is nothing to call */
    CHECK_ST(vm, zx_program_call(p, "add", args, 2, &r), ZX_E_NOT_FOUND);
    CHECK_ST(vm, zx_program_get_global(p, "counter", &r), ZX_E_NOT_FOUND);
    CHECK_ST(vm, zx_program_set_global(p, "counter", a), ZX_E_NOT_FOUND);
    CHECK_ST(vm, zx_program_run(p), ZX_OK);

    CHECK_ST(vm, zx_program_call(p, "add", args, 2, &r), ZX_OK);
    int64_t v = 0;
    CHECK_ST(vm, zx_val_as_int(r, &v), ZX_OK);
    CHECK(v == 42);
    zx_val_free(r);
    CHECK_ST(vm, zx_program_call(p, "square", args + 1, 1, &r), ZX_OK);
    CHECK_ST(vm, zx_val_as_int(r, &v), ZX_OK);
    CHECK(v == 1600);
    zx_val_free(r);
    CHECK_ST(vm, zx_program_call(p, "length", args, 0, &r), ZX_E_RUNTIME);  /* a builtin: len() needs 1 */
    cap.len = 0;
    for (int k = 0; k < 3; k++) CHECK_ST(vm, zx_program_call(p, "bump", NULL, 0, NULL), ZX_OK);
    CHECK_STR(cap.buf, "bump 1\nbump 2\nbump 3\n");
    CHECK_ST(vm, zx_program_get_global(p, "counter", &r), ZX_OK);
    CHECK_ST(vm, zx_val_as_int(r, &v), ZX_OK);
    CHECK(v == 3);
    zx_val_free(r);

    /* set a global, and the next call sees it */
    CHECK_ST(vm, zx_program_set_global(p, "counter", b), ZX_OK);
    CHECK_ST(vm, zx_program_call(p, "bump", NULL, 0, &r), ZX_OK);
    CHECK_ST(vm, zx_val_as_int(r, &v), ZX_OK);
    CHECK(v == 41);
    zx_val_free(r);

    /* error paths */
    CHECK_ST(vm, zx_program_call(NULL, "add", args, 2, &r), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_program_call(p, NULL, args, 2, &r), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_program_call(p, "add", NULL, 2, &r), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_program_call(p, "add", args, -1, &r), ZX_E_ARGUMENT);
    const zx_val *with_null[] = { a, NULL };
    CHECK_ST(vm, zx_program_call(p, "add", with_null, 2, &r), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_program_call(p, "nothing", args, 2, &r), ZX_E_NOT_FOUND);
    CHECK_CONTAINS(zx_vm_last_error(vm), "nothing");
    CHECK_ST(vm, zx_program_call(p, "seven", args, 2, &r), ZX_E_NOT_FOUND);
    CHECK_CONTAINS(zx_vm_last_error(vm), "not an action");
    CHECK_ST(vm, zx_program_call(p, "add", args, 1, &r), ZX_E_RUNTIME);
    CHECK_CONTAINS(zx_vm_last_error(vm), "t.zx:4:");
    CHECK_CONTAINS(zx_vm_last_error(vm), "expected 2 arguments, got 1");
    CHECK_ST(vm, zx_program_call(p, "fail", args, 1, &r), ZX_E_RUNTIME);
    CHECK_CONTAINS(zx_vm_last_error(vm), "t.zx:8:");
    CHECK_CONTAINS(zx_vm_last_error(vm), "runtime error: division by zero\n  at fail (t.zx:8:");
    const char *action, *file;
    uint32_t line, col;
    CHECK_ST(vm, zx_vm_last_error_frame(vm, 0, &action, &file, &line, &col), ZX_OK);
    CHECK_STR(action, "fail");
    CHECK(line == 8);
    CHECK_ST(vm, zx_program_get_global(p, "nope", &r), ZX_E_NOT_FOUND);
    CHECK_ST(vm, zx_program_get_global(p, "counter", NULL), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_program_set_global(p, "limit", a), ZX_E_ARGUMENT);
    CHECK_CONTAINS(zx_vm_last_error(vm), "constant");
    CHECK_ST(vm, zx_program_set_global(p, "nope", a), ZX_E_NOT_FOUND);
    CHECK_ST(vm, zx_program_set_global(p, "counter", NULL), ZX_E_ARGUMENT);
    zx_vm *other = new_vm(NULL, ZX_MODE_SEQ, ZX_JIT_OFF);
    zx_val *foreign = NULL;
    CHECK_ST(other, zx_val_int(other, 1, &foreign), ZX_OK);
    const zx_val *fargs[] = { foreign, foreign };
    CHECK_ST(vm, zx_program_call(p, "add", fargs, 2, &r), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_program_set_global(p, "counter", foreign), ZX_E_ARGUMENT);
    zx_val_free(foreign);
    zx_vm_destroy(other);

    /* an action value read from a global prints like one */
    CHECK_ST(vm, zx_program_get_global(p, "add", &r), ZX_OK);
    CHECK(zx_val_type(r) == ZX_TYPE_ACTION);
    char *text = NULL;
    CHECK_ST(vm, zx_val_to_string(r, &text), ZX_OK);
    CHECK_STR(text, "<action add>");
    free(text);
    zx_val_free(r);

    /* a run resets the globals */
    CHECK_ST(vm, zx_program_run(p), ZX_OK);
    CHECK_ST(vm, zx_program_get_global(p, "counter", &r), ZX_OK);
    CHECK_ST(vm, zx_val_as_int(r, &v), ZX_OK);
    CHECK(v == 0);
    zx_val_free(r);

    zx_val_free(a);
    zx_val_free(b);
    zx_vm_destroy(vm);
}

/* ---------- host functions ---------- */

typedef struct host_log {
    int calls;
    zx_status reentry;            /* what a call back into the running VM returned */
    zx_program *prog;
} host_log;

static zx_status host_add(void *ud, zx_vm *vm, const zx_val *const *argv, int argc, zx_val **result)
{
    (void)ud;
    int64_t x, y;
    if (argc != 2 || zx_val_as_int(argv[0], &x) != ZX_OK || zx_val_as_int(argv[1], &y) != ZX_OK) {
        zx_val_string(vm, "add2 wants two Integers", 23, result);
        return ZX_E_RUNTIME;
    }
    return zx_val_int(vm, x + y, result);
}

static zx_status host_impure(void *ud, zx_vm *vm, const zx_val *const *argv, int argc, zx_val **result)
{
    host_log *log = ud;
    log->calls++;
    if (log->prog) log->reentry = zx_program_run(log->prog);
    if (argc == 1) return zx_val_copy(argv[0], result);     /* hands its argument back */
    return zx_val_int(vm, log->calls, result);
}

static zx_status host_fails(void *ud, zx_vm *vm, const zx_val *const *argv, int argc, zx_val **result)
{
    (void)ud, (void)vm, (void)argv, (void)argc, (void)result;
    return ZX_E_UNSUPPORTED;
}

static zx_status host_identity(void *ud, zx_vm *vm, const zx_val *const *argv, int argc, zx_val **result)
{
    (void)ud, (void)vm;
    if (argc != 1) return ZX_E_ARGUMENT;
    *result = (zx_val *)argv[0];     /* its argument itself: the VM takes a reference */
    return ZX_OK;
}

static zx_status host_sum_list(void *ud, zx_vm *vm, const zx_val *const *argv, int argc, zx_val **result)
{
    (void)ud;
    size_t n;
    if (argc != 1 || zx_val_list_len(argv[0], &n) != ZX_OK) return ZX_E_ARGUMENT;
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        zx_val *e = NULL;
        int64_t x = 0;
        if (zx_val_list_get(argv[0], i, &e) != ZX_OK) return ZX_E_ARGUMENT;
        zx_val_as_int(e, &x);
        zx_val_free(e);
        sum += x;
    }
    return zx_val_int(vm, sum, result);
}

static long stats_number(zx_vm *vm, const char *key)
{
    char *json = NULL;
    long n = -1;
    if (zx_vm_stats(vm, 1, &json) == ZX_OK) {
        const char *p = strstr(json, key);
        if (p) n = strtol(p + strlen(key), NULL, 10);
    }
    free(json);
    return n;
}

static void test_host_functions(zx_jit jit)
{
    api_capture cap = { .len = 0 };
    zx_vm *vm = new_vm(&cap, ZX_MODE_PAR, jit);
    host_log log = { 0, ZX_OK, NULL };
    CHECK_ST(vm, zx_vm_register(NULL, "x", host_add, NULL, 0), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_vm_register(vm, "x", NULL, NULL, 0), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_vm_register(vm, NULL, host_add, NULL, 0), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_vm_register(vm, "1x", host_add, NULL, 0), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_vm_register(vm, "a-b", host_add, NULL, 0), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_vm_register(vm, "", host_add, NULL, 0), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_vm_register(vm, "len", host_add, NULL, 0), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_vm_register(vm, "add2", host_add, NULL, 0x100), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_vm_register(vm, "add2", host_add, NULL, ZX_HOST_PURE), ZX_OK);
    CHECK_ST(vm, zx_vm_register(vm, "add2", host_add, NULL, ZX_HOST_PURE), ZX_E_ARGUMENT);
    CHECK_ST(vm, zx_vm_register(vm, "tick", host_impure, &log, 0), ZX_OK);
    CHECK_ST(vm, zx_vm_register(vm, "broken", host_fails, NULL, 0), ZX_OK);
    CHECK_ST(vm, zx_vm_register(vm, "same", host_identity, NULL, ZX_HOST_PURE), ZX_OK);
    CHECK_ST(vm, zx_vm_register(vm, "sum_list", host_sum_list, NULL, ZX_HOST_PURE), ZX_OK);

    zx_program *p0 = load(vm, "print(add2(40, 2), same(\"s\"), sum_list([1, 2, 3]))\n");
    cap.len = 0;
    CHECK_ST(vm, zx_program_run(p0), ZX_OK);
    CHECK_STR(cap.buf, "42 s 6\n");
    zx_program *pp = load(vm,
        "let xs = range(0, 200)\n"
        "let ys = parallel_map((x) => add2(x, x), xs)\n"
        "print(ys[199])\n"
        "let f = add2\n"
        "print(f(1, 2), add2, type(add2))\n");
    cap.len = 0;
    CHECK_ST(vm, zx_program_run(pp), ZX_OK);
    CHECK_STR(cap.buf, "398\n3 <action add2> Action\n");
    CHECK(stats_number(vm, "\"parallel_map\":{\"parallel\":") == 1);

    zx_program *pd = load(vm, "print(len(parallel_map(same, range(0, 300))))\n");
    cap.len = 0;
    CHECK_ST(vm, zx_program_run(pd), ZX_OK);
    CHECK_STR(cap.buf, "300\n");
    CHECK(stats_number(vm, "\"parallel_map\":{\"parallel\":") == 1);    /* a pure host function itself */

    /* not pure: parallel_map runs sequentially, in order, and says why */
    zx_program *pi = load(vm, "print(parallel_map((x) => tick(), range(0, 5)))\nprint(parallel_map(tick, [7, 8]))\n");
    cap.len = 0;
    CHECK_ST(vm, zx_program_run(pi), ZX_OK);
    CHECK_STR(cap.buf, "[1, 2, 3, 4, 5]\n[7, 8]\n");
    CHECK(stats_number(vm, "\"parallel_map\":{\"parallel\":") == 0);
    char *stats = NULL;
    CHECK_ST(vm, zx_vm_stats(vm, 0, &stats), ZX_OK);
    CHECK_CONTAINS(stats, "not registered as pure");
    free(stats);

    /* the analysis: two statements calling a pure function are independent, with an impure
     * one they are ordered by an unknown call */
    zx_program *pa = load(vm, "let a = add2(1, 2)\nlet b = add2(3, 4)\n");
    zx_program *pb = load(vm, "let a = tick()\nlet b = tick()\n");
    char *ca = NULL, *cb = NULL;
    CHECK_ST(vm, zx_program_chunks(pa, 1, 0, &ca), ZX_OK);
    CHECK_ST(vm, zx_program_chunks(pb, 1, 0, &cb), ZX_OK);
    CHECK(ca && !strstr(ca, "call"));
    CHECK_CONTAINS(cb, "call");
    free(ca);
    free(cb);

    /* errors raised by host functions */
    zx_program *pe = load(vm, "action go() { return add2(1, \"x\") }\ngo()\n");
    CHECK_ST(vm, zx_program_run(pe), ZX_E_RUNTIME);
    CHECK_CONTAINS(zx_vm_last_error(vm), "t.zx:1:");
    CHECK_CONTAINS(zx_vm_last_error(vm), "runtime error: add2 wants two Integers\n  at go (t.zx:1:");
    zx_program *pf = load(vm, "broken()\n");
    CHECK_ST(vm, zx_program_run(pf), ZX_E_RUNTIME);
    CHECK_CONTAINS(zx_vm_last_error(vm), "host function 'broken' failed: unsupported");

    /* a program variable hides a host function of the same name */
    zx_program *ph = load(vm, "action add2(a, b) { return a * b }\nprint(add2(3, 4))\n");
    cap.len = 0;
    CHECK_ST(vm, zx_program_run(ph), ZX_OK);
    CHECK_STR(cap.buf, "12\n");

    /* calling back into the running VM is refused */
    zx_program *pr = load(vm, "tick()\n");
    log.prog = pr;
    CHECK_ST(vm, zx_program_run(pr), ZX_OK);
    CHECK(log.reentry == ZX_E_ARGUMENT);
    log.prog = NULL;
    CHECK_ST(vm, zx_vm_register(vm, "late", host_add, NULL, 0), ZX_OK);    /* idle again */

    /* a host function called through zx_program_call, via a global */
    zx_program *pc = load(vm, "let plus = add2\n");
    CHECK_ST(vm, zx_program_run(pc), ZX_OK);
    zx_val *a = NULL, *r = NULL;
    CHECK_ST(vm, zx_val_int(vm, 5, &a), ZX_OK);
    const zx_val *args[] = { a, a };
    CHECK_ST(vm, zx_program_call(pc, "plus", args, 2, &r), ZX_OK);
    int64_t v = 0;
    CHECK_ST(vm, zx_val_as_int(r, &v), ZX_OK);
    CHECK(v == 10);
    zx_val_free(r);
    zx_val_free(a);

    /* bytecode that uses a host function loads only where it is registered */
    void *bc = NULL;
    size_t len = 0;
    char *zxa = NULL;
    CHECK_ST(vm, zx_program_to_bytecode(pp, &bc, &len), ZX_OK);
    CHECK_ST(vm, zx_program_disassemble(pp, &zxa), ZX_OK);
    CHECK_CONTAINS(zxa, "LOAD_HOST");
    zx_vm *bare = new_vm(NULL, ZX_MODE_SEQ, ZX_JIT_OFF);
    zx_program *q = NULL;
    CHECK_ST(bare, zx_program_load_bytecode(bare, bc, len, &q), ZX_E_NOT_FOUND);
    CHECK_CONTAINS(zx_vm_last_error(bare), "add2");
    CHECK_ST(bare, zx_program_load_assembly(bare, "t.zxa", zxa, strlen(zxa), &q), ZX_E_NOT_FOUND);
    /* in a bare VM the name is an ordinary (undefined) variable */
    q = load(bare, "add2(1, 2)\n");
    CHECK_ST(bare, zx_program_run(q), ZX_E_RUNTIME);
    CHECK_CONTAINS(zx_vm_last_error(bare), "undefined variable 'add2'");
    zx_vm_destroy(bare);
    zx_vm *again = new_vm(&cap, ZX_MODE_SEQ, jit);
    CHECK_ST(again, zx_vm_register(again, "add2", host_add, NULL, 0), ZX_OK);    /* impure here */
    CHECK_ST(again, zx_program_load_bytecode(again, bc, len, &q), ZX_OK);
    cap.len = 0;
    CHECK_ST(again, zx_program_run(q), ZX_OK);
    CHECK_STR(cap.buf, "398\n3 <action add2> Action\n");
    zx_vm_destroy(again);
    free(bc);
    free(zxa);
    zx_vm_destroy(vm);
}

int main(void)
{
    test_version_and_status();
    test_vm_create();
    test_load_and_errors();
    test_memory_limit();
    test_values();
    test_call_and_globals(ZX_JIT_OFF);
    test_call_and_globals(ZX_JIT_ALWAYS);
    test_host_functions(ZX_JIT_OFF);
    test_host_functions(ZX_JIT_STRICT);
    return api_report("test_api");
}
