/* builtins.c — the builtin functions and list/map methods, generated from the tables of builtins.h. */
#include "builtins.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct builtin_row {
    const char *name;
    int min, max;
    unsigned effects, result;
} builtin_row;

static const builtin_row builtin_table[ZX_BI_COUNT] = {
#define ZX_BI_ROW(name, id, lo, hi, fx, res) [id] = { #name, lo, hi, fx, res },
    ZX_BUILTINS(ZX_BI_ROW)
#undef ZX_BI_ROW
};

typedef struct method_row {
    const char *name;
    zx_objtype receiver;
    int nargs;
    unsigned effects, result;
} method_row;

static const method_row method_table[ZX_M_COUNT] = {
#define ZX_M_ROW(name, id, recv, n, fx, res) [id] = { #name, recv, n, fx, res },
    ZX_METHODS(ZX_M_ROW)
#undef ZX_M_ROW
};

const char *zx_builtin_name(int id)
{
    return id >= 0 && id < ZX_BI_COUNT ? builtin_table[id].name : NULL;
}

bool zx_builtin_is_value(int id)
{
    return id == ZX_BI_args || id == ZX_BI___ARGS__ || id == ZX_BI___MODULE__;
}

int zx_builtin_lookup(const char *name)
{
    for (int i = 0; i < ZX_BI_COUNT; i++)
        if (strcmp(builtin_table[i].name, name) == 0) return i;
    return -1;
}

void zx_builtin_arity(int id, int *min, int *max)
{
    bool ok = id >= 0 && id < ZX_BI_COUNT;
    if (min) *min = ok ? builtin_table[id].min : -1;
    if (max) *max = ok ? builtin_table[id].max : -1;
}

int zx_method_lookup(const char *name)
{
    for (int i = 0; i < ZX_M_COUNT; i++)
        if (strcmp(method_table[i].name, name) == 0) return i;
    return -1;
}

const char *zx_method_name(int id)
{
    return id >= 0 && id < ZX_M_COUNT ? method_table[id].name : NULL;
}

unsigned zx_builtin_effects(int id) { return id >= 0 && id < ZX_BI_COUNT ? builtin_table[id].effects : ZX_FX_UNKNOWN; }
unsigned zx_builtin_result(int id) { return id >= 0 && id < ZX_BI_COUNT ? builtin_table[id].result : ZX_RES_ANY; }
unsigned zx_method_effects(int id)
{
    return id >= 0 && id < ZX_M_COUNT ? method_table[id].effects : ZX_FX_READS_HEAP | ZX_FX_WRITES_HEAP;
}
unsigned zx_method_result(int id) { return id >= 0 && id < ZX_M_COUNT ? method_table[id].result : ZX_RES_ANY; }

int zx_string_method_id(zx_string *s)
{
    int8_t m = atomic_load_explicit(&s->method, memory_order_relaxed);
    if (m != -2) return m;
    m = -1;
    for (int i = 0; i < ZX_M_COUNT; i++) {
        if (strlen(method_table[i].name) == s->nbytes &&
            memcmp(method_table[i].name, s->data, s->nbytes) == 0) {
            m = (int8_t)i;
            break;
        }
    }
    atomic_store_explicit(&s->method, m, memory_order_relaxed);
    return m;
}

/* ------------------------------------------------------------------------------------------ */

static zx_callres ok_result(void)
{
    zx_callres r;
    r.ok = true;
    r.err.id = ZX_ERR_NONE;
    r.err.msg[0] = '\0';
    return r;
}

/* A failure: row `id` of runtime/errors.h, formatted from the arguments its format takes. */
static zx_callres err_result(zx_err id, ...)
{
    zx_callres r;
    r.ok = false;
    va_list ap;
    va_start(ap, id);
    zx_error_vset(&r.err, id, ap);
    va_end(ap);
    return r;
}

static zx_callres memory_error(void) { return err_result(ZX_ERR_MEMORY); }

/* At most `max` bytes of s, cut at a code point boundary, for quoting in a message. */
static int quote_len(const zx_string *s, int max, bool *cut)
{
    *cut = s->nbytes > (uint32_t)max;
    if (!*cut) return (int)s->nbytes;
    int n = max;
    while (n > 0 && ((unsigned char)s->data[n] & 0xC0) == 0x80) n--;
    return n;
}

static zx_callres invalid_value(const char *fn, const zx_string *s)
{
    bool cut;
    int n = quote_len(s, 96, &cut);
    return err_result(ZX_ERR_INVALID_STRING, fn, n, s->data, cut ? "..." : "");
}

static zx_callres new_string_result(zx_heap *h, const char *bytes, size_t n, zx_value *out)
{
    zx_string *s = zx_string_new(h, bytes, n);
    if (!s) return memory_error();
    *out = zx_objval(s);
    return ok_result();
}

/* Strict decimal integer: optional sign, then digits, nothing else. */
static zx_callres parse_int(const zx_string *s, zx_value *out)
{
    const char *p = s->data, *end = s->data + s->nbytes;
    bool neg = false;
    if (p < end && (*p == '+' || *p == '-')) neg = *p++ == '-';
    if (p == end) return invalid_value("int", s);
    int64_t v = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9') return invalid_value("int", s);
        int d = *p - '0';
        /* Accumulate towards the sign so that INT64_MIN parses. */
        if (__builtin_mul_overflow(v, 10, &v) ||
            (neg ? __builtin_sub_overflow(v, d, &v) : __builtin_add_overflow(v, d, &v)))
            return err_result(ZX_ERR_INT_OVERFLOW);
    }
    *out = zx_int(v);
    return ok_result();
}

static bool ascii_ieq(const char *p, size_t n, const char *word)
{
    if (strlen(word) != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != word[i]) return false;
    }
    return true;
}

/* Python's float() spellings without whitespace or underscores: [sign] digits [. digits]
 * [e [sign] digits], or inf, infinity, nan.  Checked here because strtod also takes hex. */
static zx_callres parse_float(const zx_string *s, zx_value *out)
{
    const char *p = s->data, *end = s->data + s->nbytes;
    if (p < end && (*p == '+' || *p == '-')) p++;
    size_t rest = (size_t)(end - p);
    bool ok;
    if (ascii_ieq(p, rest, "inf") || ascii_ieq(p, rest, "infinity") || ascii_ieq(p, rest, "nan")) {
        ok = true;
    } else {
        size_t digits = 0;
        while (p < end && *p >= '0' && *p <= '9') { p++; digits++; }
        if (p < end && *p == '.') {
            p++;
            while (p < end && *p >= '0' && *p <= '9') { p++; digits++; }
        }
        ok = digits > 0;
        if (ok && p < end && (*p == 'e' || *p == 'E')) {
            p++;
            if (p < end && (*p == '+' || *p == '-')) p++;
            size_t ed = 0;
            while (p < end && *p >= '0' && *p <= '9') { p++; ed++; }
            ok = ed > 0;
        }
        ok = ok && p == end;
    }
    if (!ok) return invalid_value("float", s);
    *out = zx_float(strtod(s->data, NULL));
    return ok_result();
}

static zx_callres builtin_int(const zx_value *arg, zx_value *out)
{
    zx_value v = *arg;
    if (v.tag == ZX_T_INT) {
        *out = v;
        return ok_result();
    }
    if (v.tag == ZX_T_FLOAT) {
        double f = v.u.f;
        if (isnan(f)) return err_result(ZX_ERR_INVALID_NUMBER, "int", "nan");
        double t = trunc(f);
        if (!(t >= -9223372036854775808.0 && t < 9223372036854775808.0))
            return err_result(ZX_ERR_INT_OVERFLOW);
        *out = zx_int((int64_t)t);
        return ok_result();
    }
    if (zx_is_type(v, ZX_O_STRING)) return parse_int(ZX_AS_STRING(v), out);
    return err_result(ZX_ERR_BUILTIN_TYPE, "int", zx_type_name(v));
}

static zx_callres builtin_float(const zx_value *arg, zx_value *out)
{
    zx_value v = *arg;
    if (v.tag == ZX_T_INT) {
        *out = zx_float((double)v.u.i);
        return ok_result();
    }
    if (v.tag == ZX_T_FLOAT) {
        *out = v;
        return ok_result();
    }
    if (zx_is_type(v, ZX_O_STRING)) return parse_float(ZX_AS_STRING(v), out);
    return err_result(ZX_ERR_BUILTIN_TYPE, "float", zx_type_name(v));
}

static zx_callres builtin_range(zx_heap *h, const zx_value *argv, int argc, zx_value *out)
{
    for (int i = 0; i < argc; i++)
        if (argv[i].tag != ZX_T_INT) return err_result(ZX_ERR_BUILTIN_TYPE, "range", zx_type_name(argv[i]));
    int64_t start = 0, stop, step = 1;
    if (argc == 1) {
        stop = argv[0].u.i;
    } else {
        start = argv[0].u.i;
        stop = argv[1].u.i;
        if (argc == 3) step = argv[2].u.i;
    }
    if (step == 0) return err_result(ZX_ERR_RANGE_STEP);
    /* The count in unsigned arithmetic: stop - start may exceed INT64_MAX. */
    uint64_t n = 0;
    if (step > 0 && start < stop)
        n = ((uint64_t)stop - (uint64_t)start - 1) / (uint64_t)step + 1;
    else if (step < 0 && start > stop)
        n = ((uint64_t)start - (uint64_t)stop - 1) / ((uint64_t)0 - (uint64_t)step) + 1;
    if (n > UINT32_MAX) return memory_error();
    zx_list *l = zx_list_new(h, (uint32_t)n);
    if (!l) return memory_error();
    for (uint64_t i = 0; i < n; i++)
        l->items[i] = zx_int((int64_t)((uint64_t)start + i * (uint64_t)step));
    l->len = (uint32_t)n;
    *out = zx_objval(l);
    return ok_result();
}

zx_callres zx_builtin_call(zx_heap *h, int id, const zx_value *argv, int argc, zx_value *out)
{
    if (id < 0 || id >= ZX_BI_COUNT) return err_result(ZX_ERR_UNKNOWN_BUILTIN, id);
    const builtin_row *row = &builtin_table[id];
    if (argc < row->min || argc > row->max) {
        if (row->min == row->max) return err_result(ZX_ERR_ARITY, row->min, argc);
        return err_result(ZX_ERR_ARITY_RANGE, row->min, row->max, argc);
    }
    switch ((zx_builtin_id)id) {
    case ZX_BI_len: {
        zx_value v = argv[0];
        if (zx_is_type(v, ZX_O_STRING)) *out = zx_int(ZX_AS_STRING(v)->ncodepoints);
        else if (zx_is_type(v, ZX_O_LIST)) *out = zx_int(ZX_AS_LIST(v)->len);
        else if (zx_is_type(v, ZX_O_MAP)) *out = zx_int(ZX_AS_MAP(v)->len);
        else return err_result(ZX_ERR_BUILTIN_TYPE, "len", zx_type_name(v));
        return ok_result();
    }
    case ZX_BI_string: {
        if (zx_is_type(argv[0], ZX_O_STRING)) {
            zx_incref(argv[0]);
            *out = argv[0];
            return ok_result();
        }
        zx_buf b;
        zx_buf_init(&b);
        zx_format_value(&b, argv[0]);
        zx_callres r = new_string_result(h, b.data ? b.data : "", b.len, out);
        zx_buf_free(&b);
        return r;
    }
    case ZX_BI_int: return builtin_int(&argv[0], out);
    case ZX_BI_float: return builtin_float(&argv[0], out);
    case ZX_BI_type: {
        const char *name = zx_type_name(argv[0]);
        return new_string_result(h, name, strlen(name), out);
    }
    case ZX_BI_range: return builtin_range(h, argv, argc, out);
    case ZX_BI_print: case ZX_BI_parallel_map: case ZX_BI_args: case ZX_BI_COUNT: break;
    /* runtime/stdlib_sys.c (zx_sys_call, with the run's context) */
    case ZX_BI_time: case ZX_BI_timestamp: case ZX_BI_sleep: case ZX_BI_random: case ZX_BI_random_seed:
    case ZX_BI_json_parse: case ZX_BI_json_stringify: case ZX_BI_file_read_text: case ZX_BI_read_file:
    case ZX_BI_file_write_text: case ZX_BI_file_append: case ZX_BI_file_exists: case ZX_BI_file_read_json:
    case ZX_BI_file_write_json: case ZX_BI_file_list_dir: case ZX_BI_hash: case ZX_BI_to_hex:
    case ZX_BI_from_hex: case ZX_BI_is_main: case ZX_BI___ARGS__: case ZX_BI___MODULE__: break;
    }
    return err_result(ZX_ERR_BUILTIN_IN_LOOP, row->name);
}

/* A new list of the keys (or values) of m.  Built in place rather than pushed: a new list
 * can close no cycle, so it is no cycle candidate. */
static zx_callres map_items(zx_heap *h, zx_map *m, bool keys, zx_value *out)
{
    zx_list *l = zx_list_new(h, m->len);
    if (!l) return memory_error();
    for (uint32_t i = 0; i < m->len; i++) {
        zx_value v = keys ? m->entries[i].key : m->entries[i].value;
        zx_incref(v);
        l->items[i] = v;
    }
    l->len = m->len;
    *out = zx_objval(l);
    return ok_result();
}

zx_callres zx_method_call(zx_heap *h, int id, zx_value recv, const zx_value *argv, int argc,
                          zx_value *out)
{
    if (id < 0 || id >= ZX_M_COUNT) return err_result(ZX_ERR_UNKNOWN_METHOD, id);
    const method_row *row = &method_table[id];
    if (!zx_is_type(recv, row->receiver))
        return err_result(ZX_ERR_NO_METHOD, zx_type_name(recv), row->name);
    if (argc != row->nargs) return err_result(ZX_ERR_ARITY, row->nargs, argc);
    switch ((zx_method_id)id) {
    case ZX_M_push:
        if (!zx_list_push(h, ZX_AS_LIST(recv), argv[0])) return memory_error();
        zx_incref(recv);
        *out = recv;
        return ok_result();
    case ZX_M_pop: {
        zx_list *l = ZX_AS_LIST(recv);
        if (l->len == 0) return err_result(ZX_ERR_POP_EMPTY);
        *out = l->items[--l->len];     /* the list's reference passes to the caller */
        return ok_result();
    }
    case ZX_M_is_empty:
        *out = zx_bool(ZX_AS_LIST(recv)->len == 0);
        return ok_result();
    case ZX_M_has:
        *out = zx_bool(zx_map_get(ZX_AS_MAP(recv), argv[0]) != NULL);
        return ok_result();
    case ZX_M_keys: return map_items(h, ZX_AS_MAP(recv), true, out);
    case ZX_M_values: return map_items(h, ZX_AS_MAP(recv), false, out);
    case ZX_M_COUNT: break;
    }
    return err_result(ZX_ERR_UNKNOWN_METHOD, id);
}
