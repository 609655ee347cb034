/* builtins.c — the builtin functions and list/map methods, generated from the tables of builtins.h. */
#include "builtins.h"
#include "object.h"

#include "arith.h"

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
    unsigned receivers;          /* ZX_RECV_* */
    int builtin;                 /* the builtin it runs, the receiver first */
} method_row;

static const method_row method_table[ZX_M_COUNT] = {
#define ZX_M_ROW(name, id, recv, bi) [id] = { #name, recv, ZX_BI_##bi },
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
    return id >= 0 && id < ZX_M_COUNT ? zx_builtin_effects(method_table[id].builtin) : ZX_FX_READS_HEAP | ZX_FX_WRITES_HEAP;
}
unsigned zx_method_result(int id) { return id >= 0 && id < ZX_M_COUNT ? zx_builtin_result(method_table[id].builtin) : ZX_RES_ANY; }
int zx_method_builtin(int id) { return id >= 0 && id < ZX_M_COUNT ? method_table[id].builtin : -1; }
unsigned zx_method_receivers(int id) { return id >= 0 && id < ZX_M_COUNT ? method_table[id].receivers : 0; }

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

zx_callres zx_callres_ok(void)
{
    zx_callres r;
    r.ok = true;
    r.err.id = ZX_ERR_NONE;
    r.err.msg[0] = '\0';
    return r;
}

zx_callres zx_callres_err(zx_err id, ...)
{
    zx_callres r;
    r.ok = false;
    va_list ap;
    va_start(ap, id);
    zx_error_vset(&r.err, id, ap);
    va_end(ap);
    return r;
}

#define ok_result zx_callres_ok
#define err_result zx_callres_err

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
    zx_list *l = zx_list_new_kind(h, ZX_LIST_INT, (uint32_t)n);
    if (!l) return memory_error();
    for (uint64_t i = 0; i < n; i++)
        l->ints[i] = (int64_t)((uint64_t)start + i * (uint64_t)step);
    l->len = (uint32_t)n;
    *out = zx_objval(l);
    return ok_result();
}

/* A new list of the keys (or values) of m.  Built in place rather than pushed: a new list
 * can close no cycle, so it is no cycle candidate. */
static zx_callres map_items(zx_heap *h, const zx_map *m, bool keys, zx_value *out)
{
    zx_list *l = zx_list_new(h, m->len);
    if (!l) return memory_error();
    for (uint32_t i = 0; i < m->len; i++) {
        zx_value v = keys ? m->entries[i].key : m->entries[i].value;
        zx_incref(v);
        l->items[i] = v;
    }
    l->len = m->len;
    zx_list_narrow(l);
    *out = zx_objval(l);
    return ok_result();
}

/* ---------- the standard library: strings ---------- */

static bool is_str(zx_value v) { return zx_is_type(v, ZX_O_STRING); }
static bool is_list(zx_value v) { return zx_is_type(v, ZX_O_LIST); }
static bool is_map(zx_value v) { return zx_is_type(v, ZX_O_MAP); }

/* Argument `pos` (1-based) of builtin `fn` is not `what` ("a String"). */
static zx_callres arg_type(int fn, const char *what, int pos, zx_value v)
{
    return err_result(ZX_ERR_ARG_TYPE, zx_builtin_name(fn), what, pos, zx_type_name(v));
}

static zx_callres type_error(int fn, zx_value v)
{
    return err_result(ZX_ERR_BUILTIN_TYPE, zx_builtin_name(fn), zx_type_name(v));
}

/* Byte offset of code point i (0 <= i <= ncodepoints) of s. */
static uint32_t cp_offset(const zx_string *s, int64_t i)
{
    if (s->nbytes == s->ncodepoints) return (uint32_t)i;
    uint32_t b = 0;
    for (int64_t k = 0; k < i && b < s->nbytes; k++) {
        b++;
        while (b < s->nbytes && ((unsigned char)s->data[b] & 0xC0) == 0x80) b++;
    }
    return b;
}

/* Code points in the first n bytes of p. */
static int64_t cp_count(const char *p, size_t n)
{
    int64_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)p[i] & 0xC0) != 0x80;
    return c;
}

/* First byte offset >= from where needle occurs in hay, or -1. */
static int64_t find_bytes(const zx_string *hay, const zx_string *needle, uint32_t from)
{
    if (needle->nbytes == 0) return from <= hay->nbytes ? (int64_t)from : -1;
    if (from > hay->nbytes || needle->nbytes > hay->nbytes - from) return -1;
    const char *p = memmem(hay->data + from, hay->nbytes - from, needle->data, needle->nbytes);
    return p ? p - hay->data : -1;
}

/* Python's slice bounds: negative counts from the end, then clamped to [0, n]. */
static int64_t slice_bound(int64_t i, int64_t n)
{
    if (i < 0) i = i + n < 0 ? 0 : i + n;
    return i > n ? n : i;
}

/* The case mapping of code point c for the letters whose pairs have the same UTF-8 length:
 * ASCII, Latin-1, Greek, Cyrillic.  Anything else is unchanged. */
static uint32_t case_map(uint32_t c, bool upper)
{
    if (upper) {
        if ((c >= 'a' && c <= 'z') || (c >= 0xE0 && c <= 0xFE && c != 0xF7) ||
            (c >= 0x3B1 && c <= 0x3CB && c != 0x3C2) || (c >= 0x430 && c <= 0x44F))
            return c - 0x20;
        if (c == 0x3C2) return 0x3A3;                           /* final sigma */
        if (c >= 0x450 && c <= 0x45F) return c - 0x50;
        return c;
    }
    if ((c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7) ||
        (c >= 0x391 && c <= 0x3AB && c != 0x3A2) || (c >= 0x410 && c <= 0x42F))
        return c + 0x20;
    if (c >= 0x400 && c <= 0x40F) return c + 0x50;
    return c;
}

static zx_callres change_case(zx_heap *h, const zx_string *s, bool upper, zx_value *out)
{
    zx_string *r = zx_string_new(h, s->data, s->nbytes);
    if (!r) return memory_error();
    unsigned char *p = (unsigned char *)r->data;
    for (uint32_t i = 0; i < r->nbytes; i++) {
        if (p[i] < 0x80) {
            p[i] = (unsigned char)case_map(p[i], upper);
        } else if ((p[i] & 0xE0) == 0xC0 && i + 1 < r->nbytes) {
            uint32_t c = case_map(((uint32_t)(p[i] & 0x1F) << 6) | (p[i + 1] & 0x3F), upper);
            p[i] = (unsigned char)(0xC0 | (c >> 6));        /* a two-byte code point maps to one */
            p[i + 1] = (unsigned char)(0x80 | (c & 0x3F));
            i++;
        }
    }
    *out = zx_objval(r);
    return ok_result();
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* Append a new string of bytes [p, p+n) to list l (a list being built: no cycle candidate). */
static bool push_piece(zx_heap *h, zx_list *l, const char *p, size_t n)
{
    zx_string *piece = zx_string_new(h, p, n);
    if (!piece) return false;
    bool ok = zx_list_push(h, l, zx_objval(piece));
    zx_obj_decref(piece);
    return ok;
}

/* split(s, sep): Python's str.split(sep); split(s): on runs of whitespace, no empty pieces. */
static zx_callres builtin_split(zx_heap *h, const zx_value *argv, int argc, zx_value *out)
{
    if (!is_str(argv[0])) return arg_type(ZX_BI_split, "a String", 1, argv[0]);
    if (argc == 2 && !is_str(argv[1])) return arg_type(ZX_BI_split, "a String", 2, argv[1]);
    const zx_string *s = ZX_AS_STRING(argv[0]);
    zx_list *l = zx_list_new(h, 4);
    if (!l) return memory_error();
    bool ok = true;
    if (argc == 1) {
        uint32_t i = 0;
        while (ok && i < s->nbytes) {
            while (i < s->nbytes && is_space(s->data[i])) i++;
            uint32_t st = i;
            while (i < s->nbytes && !is_space(s->data[i])) i++;
            if (i > st) ok = push_piece(h, l, s->data + st, i - st);
        }
    } else {
        const zx_string *sep = ZX_AS_STRING(argv[1]);
        if (sep->nbytes == 0) {
            zx_obj_decref(l);
            return invalid_value("split", sep);
        }
        uint32_t st = 0;
        for (;;) {
            int64_t at = find_bytes(s, sep, st);
            uint32_t end = at < 0 ? s->nbytes : (uint32_t)at;
            if (!(ok = push_piece(h, l, s->data + st, end - st)) || at < 0) break;
            st = end + sep->nbytes;
        }
    }
    if (!ok) {
        zx_obj_decref(l);
        return memory_error();
    }
    *out = zx_objval(l);
    return ok_result();
}

/* join(xs[, sep]): the elements as print formats them, sep (default "") between. */
static zx_callres builtin_join(zx_heap *h, const zx_value *argv, int argc, zx_value *out)
{
    if (!is_list(argv[0])) return arg_type(ZX_BI_join, "a List", 1, argv[0]);
    if (argc == 2 && !is_str(argv[1])) return arg_type(ZX_BI_join, "a String", 2, argv[1]);
    const zx_list *l = ZX_AS_LIST(argv[0]);
    zx_buf b;
    zx_buf_init(&b);
    for (uint32_t i = 0; i < l->len; i++) {
        if (i && argc == 2) zx_buf_put(&b, ZX_AS_STRING(argv[1])->data, ZX_AS_STRING(argv[1])->nbytes);
        zx_format_value(&b, zx_list_get(l, i));
    }
    zx_callres r = new_string_result(h, b.data ? b.data : "", b.len, out);
    zx_buf_free(&b);
    return r;
}

/* replace(s, old, new): every occurrence, left to right (an empty `old` matches between
 * every two code points and at both ends, as Python's). */
static zx_callres builtin_replace(zx_heap *h, const zx_value *argv, zx_value *out)
{
    for (int i = 0; i < 3; i++)
        if (!is_str(argv[i])) return arg_type(ZX_BI_replace, "a String", i + 1, argv[i]);
    const zx_string *s = ZX_AS_STRING(argv[0]), *from = ZX_AS_STRING(argv[1]), *to = ZX_AS_STRING(argv[2]);
    zx_buf b;
    zx_buf_init(&b);
    if (from->nbytes == 0) {
        zx_buf_put(&b, to->data, to->nbytes);
        for (uint32_t i = 0; i < s->nbytes;) {
            uint32_t n = 1;
            while (i + n < s->nbytes && ((unsigned char)s->data[i + n] & 0xC0) == 0x80) n++;
            zx_buf_put(&b, s->data + i, n);
            zx_buf_put(&b, to->data, to->nbytes);
            i += n;
        }
    } else {
        uint32_t st = 0;
        for (;;) {
            int64_t at = find_bytes(s, from, st);
            uint32_t end = at < 0 ? s->nbytes : (uint32_t)at;
            zx_buf_put(&b, s->data + st, end - st);
            if (at < 0) break;
            zx_buf_put(&b, to->data, to->nbytes);
            st = end + from->nbytes;
        }
    }
    zx_callres r = new_string_result(h, b.data ? b.data : "", b.len, out);
    zx_buf_free(&b);
    return r;
}

static zx_callres builtin_trim(zx_heap *h, zx_value v, zx_value *out)
{
    if (!is_str(v)) return type_error(ZX_BI_trim, v);
    const zx_string *s = ZX_AS_STRING(v);
    uint32_t a = 0, b = s->nbytes;
    while (a < b && is_space(s->data[a])) a++;
    while (b > a && is_space(s->data[b - 1])) b--;
    return new_string_result(h, s->data + a, b - a, out);
}

/* starts_with / ends_with */
static zx_callres builtin_affix(int id, const zx_value *argv, zx_value *out)
{
    for (int i = 0; i < 2; i++)
        if (!is_str(argv[i])) return arg_type(id, "a String", i + 1, argv[i]);
    const zx_string *s = ZX_AS_STRING(argv[0]), *p = ZX_AS_STRING(argv[1]);
    bool r = p->nbytes <= s->nbytes &&
             memcmp(id == ZX_BI_starts_with ? s->data : s->data + s->nbytes - p->nbytes, p->data, p->nbytes) == 0;
    *out = zx_bool(r);
    return ok_result();
}

static zx_callres builtin_substring(zx_heap *h, const zx_value *argv, int argc, zx_value *out)
{
    if (!is_str(argv[0])) return arg_type(ZX_BI_substring, "a String", 1, argv[0]);
    for (int i = 1; i < argc; i++)
        if (argv[i].tag != ZX_T_INT) return arg_type(ZX_BI_substring, "an Integer", i + 1, argv[i]);
    const zx_string *s = ZX_AS_STRING(argv[0]);
    int64_t n = s->ncodepoints;
    int64_t a = slice_bound(argv[1].u.i, n), b = argc == 3 ? slice_bound(argv[2].u.i, n) : n;
    if (b < a) b = a;
    uint32_t ba = cp_offset(s, a), bb = cp_offset(s, b);
    return new_string_result(h, s->data + ba, bb - ba, out);
}

/* ---------- lists and maps ---------- */

/* A new list of the n values at items, each with a new reference.  Built in place: a new list
 * can close no cycle, so it is no cycle candidate. */
static zx_list *list_of(zx_heap *h, const zx_value *items, uint32_t n, uint32_t extra)
{
    zx_list *l = zx_list_new(h, n + extra);
    if (!l) return NULL;
    for (uint32_t i = 0; i < n; i++) {
        zx_incref(items[i]);
        l->items[i] = items[i];
    }
    l->len = n;
    return l;
}

static zx_callres list_result(zx_list *l, zx_value *out)
{
    if (!l) return memory_error();
    *out = zx_objval(l);
    return ok_result();
}

/* A bound of xs[a:b]: null is the default, an int is a Python bound (slice_bound). */
static bool slice_arg(zx_value b, int64_t n, int64_t dflt, int64_t *out)
{
    if (b.tag == ZX_T_NULL) {
        *out = dflt;
        return true;
    }
    if (b.tag != ZX_T_INT) return false;
    *out = slice_bound(b.u.i, n);
    return true;
}

zx_callres zx_slice(zx_heap *h, zx_value v, zx_value lo, zx_value hi, zx_value *out)
{
    bool list = zx_is_type(v, ZX_O_LIST);
    if (!list && !is_str(v)) return err_result(ZX_ERR_BUILTIN_TYPE, "slice", zx_type_name(v));
    int64_t n = list ? ZX_AS_LIST(v)->len : ZX_AS_STRING(v)->ncodepoints, a, b;
    if (!slice_arg(lo, n, 0, &a)) return err_result(ZX_ERR_INDEX_TYPE, zx_type_name(v), zx_type_name(lo));
    if (!slice_arg(hi, n, n, &b)) return err_result(ZX_ERR_INDEX_TYPE, zx_type_name(v), zx_type_name(hi));
    if (b < a) b = a;
    if (list) return list_result(zx_list_slice(h, ZX_AS_LIST(v), (uint32_t)a, (uint32_t)(b - a), 0), out);
    const zx_string *s = ZX_AS_STRING(v);
    uint32_t ba = cp_offset(s, a), bb = cp_offset(s, b);
    return new_string_result(h, s->data + ba, bb - ba, out);
}

static int64_t list_find(const zx_list *l, zx_value v)
{
    for (uint32_t i = 0; i < l->len; i++)
        if (zx_value_equal(zx_list_get(l, i), v)) return i;
    return -1;
}

static zx_callres builtin_contains(const zx_value *argv, zx_value *out)
{
    zx_value c = argv[0], x = argv[1];
    if (is_str(c)) {
        if (!is_str(x)) return arg_type(ZX_BI_contains, "a String", 2, x);
        *out = zx_bool(find_bytes(ZX_AS_STRING(c), ZX_AS_STRING(x), 0) >= 0);
    } else if (is_list(c)) {
        *out = zx_bool(list_find(ZX_AS_LIST(c), x) >= 0);
    } else if (is_map(c)) {
        *out = zx_bool(zx_map_get(ZX_AS_MAP(c), x) != NULL);
    } else {
        return type_error(ZX_BI_contains, c);
    }
    return ok_result();
}

static zx_callres builtin_index_of(const zx_value *argv, zx_value *out)
{
    zx_value c = argv[0], x = argv[1];
    if (is_str(c)) {
        if (!is_str(x)) return arg_type(ZX_BI_index_of, "a String", 2, x);
        const zx_string *s = ZX_AS_STRING(c);
        int64_t at = find_bytes(s, ZX_AS_STRING(x), 0);
        *out = zx_int(at < 0 ? -1 : cp_count(s->data, (size_t)at));
    } else if (is_list(c)) {
        *out = zx_int(list_find(ZX_AS_LIST(c), x));
    } else {
        return type_error(ZX_BI_index_of, c);
    }
    return ok_result();
}

/* count(c): its size; count(list, v): elements equal to v; count(s, sub): non-overlapping
 * occurrences of sub (Python's str.count); count(map, v): values equal to v. */
static zx_callres builtin_count(const zx_value *argv, int argc, zx_value *out)
{
    zx_value c = argv[0];
    int64_t n = 0;
    if (is_str(c)) {
        const zx_string *s = ZX_AS_STRING(c);
        if (argc == 1) {
            n = s->ncodepoints;
        } else {
            if (!is_str(argv[1])) return arg_type(ZX_BI_count, "a String", 2, argv[1]);
            const zx_string *sub = ZX_AS_STRING(argv[1]);
            if (sub->nbytes == 0) {
                n = (int64_t)s->ncodepoints + 1;
            } else {
                for (int64_t at = find_bytes(s, sub, 0); at >= 0; at = find_bytes(s, sub, (uint32_t)at + sub->nbytes)) n++;
            }
        }
    } else if (is_list(c)) {
        const zx_list *l = ZX_AS_LIST(c);
        if (argc == 1) n = l->len;
        else
            for (uint32_t i = 0; i < l->len; i++) n += zx_value_equal(zx_list_get(l, i), argv[1]);
    } else if (is_map(c)) {
        const zx_map *m = ZX_AS_MAP(c);
        if (argc == 1) n = m->len;
        else
            for (uint32_t i = 0; i < m->len; i++) n += zx_value_equal(m->entries[i].value, argv[1]);
    } else {
        return type_error(ZX_BI_count, c);
    }
    *out = zx_int(n);
    return ok_result();
}

/* The size of a string (code points), list or map; -1 for anything else. */
static int64_t size_of(zx_value v)
{
    if (is_str(v)) return ZX_AS_STRING(v)->ncodepoints;
    if (is_list(v)) return ZX_AS_LIST(v)->len;
    if (is_map(v)) return ZX_AS_MAP(v)->len;
    return -1;
}

/* insert(xs, i, v): before position i, Python's list.insert (negative from the end, clamped). */
static zx_callres builtin_insert(zx_heap *h, const zx_value *argv, zx_value *out)
{
    if (!is_list(argv[0])) return arg_type(ZX_BI_insert, "a List", 1, argv[0]);
    if (argv[1].tag != ZX_T_INT) return arg_type(ZX_BI_insert, "an Integer", 2, argv[1]);
    zx_list *l = ZX_AS_LIST(argv[0]);
    int64_t at = slice_bound(argv[1].u.i, l->len);
    if (!zx_list_push(h, l, argv[2])) return memory_error();
    /* the push settled the kind; the item (and a generic list's reference) moves to at */
    size_t sz = zx_list_item_size(l->kind);
    zx_value v = zx_list_get(l, l->len - 1);
    char *p = (char *)l->items;
    memmove(p + (size_t)(at + 1) * sz, p + (size_t)at * sz, (size_t)(l->len - 1 - at) * sz);
    if (l->kind == ZX_LIST_GENERIC) l->items[at] = v;
    else zx_list_set(h, l, (uint32_t)at, v);
    zx_incref(argv[0]);
    *out = argv[0];
    return ok_result();
}

/* remove(xs, v): the first element equal to v; remove(m, k) = delete(m, k).  True if found. */
static zx_callres builtin_remove(const zx_value *argv, zx_value *out)
{
    zx_value c = argv[0];
    if (is_map(c)) {
        zx_value k, v;
        bool found = zx_map_delete(ZX_AS_MAP(c), argv[1], &k, &v);
        if (found) {
            zx_decref(k);
            zx_decref(v);
        }
        *out = zx_bool(found);
        return ok_result();
    }
    if (!is_list(c)) return type_error(ZX_BI_remove, c);
    zx_list *l = ZX_AS_LIST(c);
    int64_t at = list_find(l, argv[1]);
    if (at >= 0) {
        zx_value old = zx_list_get(l, (uint32_t)at);
        size_t sz = zx_list_item_size(l->kind);
        char *p = (char *)l->items;
        memmove(p + (size_t)at * sz, p + (size_t)(at + 1) * sz, (size_t)(l->len - 1 - at) * sz);
        l->len--;
        zx_decref(old);
    }
    *out = zx_bool(at >= 0);
    return ok_result();
}

/* min/max of two values or of a list's elements: the first of the smallest (largest). */
static zx_callres builtin_extreme(zx_heap *h, int id, const zx_value *argv, int argc, zx_value *out)
{
    const zx_list *l = NULL;
    uint32_t n = 2;
    if (argc == 1) {
        if (!is_list(argv[0])) return type_error(id, argv[0]);
        l = ZX_AS_LIST(argv[0]);
        n = l->len;
        if (n == 0) return err_result(ZX_ERR_EMPTY_LIST, zx_builtin_name(id));
    }
    zx_value best = l ? zx_list_get(l, 0) : argv[0];
    for (uint32_t i = 1; i < n; i++) {
        zx_value better, x = l ? zx_list_get(l, i) : argv[i];
        zx_callres r;
        r.ok = zx_binop(h, id == ZX_BI_min ? ZX_ARITH_LT : ZX_ARITH_GT, x, best, &better, &r.err);
        if (!r.ok) return r;
        if (better.u.b) best = x;
    }
    zx_incref(best);
    *out = best;
    return ok_result();
}

static zx_callres builtin_sum(zx_heap *h, zx_value v, zx_value *out)
{
    if (!is_list(v)) return type_error(ZX_BI_sum, v);
    const zx_list *l = ZX_AS_LIST(v);
    zx_value acc = zx_int(0);
    for (uint32_t i = 0; i < l->len; i++) {
        zx_value next;
        zx_callres r;
        r.ok = zx_binop(h, ZX_ARITH_ADD, acc, zx_list_get(l, i), &next, &r.err);
        zx_decref(acc);
        if (!r.ok) return r;
        acc = next;
    }
    *out = acc;
    return ok_result();
}

static zx_callres builtin_get(const zx_value *argv, int argc, zx_value *out)
{
    zx_value c = argv[0], k = argv[1];
    const zx_value *found = NULL;
    zx_value item;
    if (is_map(c)) found = zx_map_get(ZX_AS_MAP(c), k);
    else if (is_list(c)) {
        const zx_list *l = ZX_AS_LIST(c);
        if (k.tag != ZX_T_INT) return arg_type(ZX_BI_get, "an Integer", 2, k);
        if (k.u.i >= 0 && k.u.i < (int64_t)l->len) {
            item = zx_list_get(l, (uint32_t)k.u.i);
            found = &item;
        }
    } else {
        return type_error(ZX_BI_get, c);
    }
    zx_value r = found ? *found : argc == 3 ? argv[2] : zx_null();
    zx_incref(r);
    *out = r;
    return ok_result();
}

/* set(m, k, v) is m[k] = v; set(xs, i, v) is xs[i] = v.  Returns v. */
static zx_callres builtin_set(zx_heap *h, const zx_value *argv, zx_value *out)
{
    zx_value c = argv[0], k = argv[1], v = argv[2];
    if (is_map(c)) {
        if (!zx_value_hashable(k)) return err_result(ZX_ERR_MAP_KEY_TYPE, zx_type_name(k));
        if (!zx_map_set(h, ZX_AS_MAP(c), k, v)) return memory_error();
    } else if (is_list(c)) {
        zx_list *l = ZX_AS_LIST(c);
        if (k.tag != ZX_T_INT) return arg_type(ZX_BI_set, "an Integer", 2, k);
        if (k.u.i < 0 || k.u.i >= (int64_t)l->len) return err_result(ZX_ERR_INDEX_RANGE);
        if (!zx_list_set(h, l, (uint32_t)k.u.i, v)) return memory_error();
    } else {
        return type_error(ZX_BI_set, c);
    }
    zx_incref(v);
    *out = v;
    return ok_result();
}

/* A new list of [key, value] lists. */
static zx_callres map_entries(zx_heap *h, const zx_map *m, zx_value *out)
{
    zx_list *l = zx_list_new(h, m->len);
    if (!l) return memory_error();
    for (uint32_t i = 0; i < m->len; i++) {
        zx_list *pair = list_of(h, &m->entries[i].key, 1, 1);
        if (!pair) {
            zx_obj_decref(l);
            return memory_error();
        }
        zx_incref(m->entries[i].value);
        pair->items[pair->len++] = m->entries[i].value;
        l->items[l->len++] = zx_objval(pair);
    }
    *out = zx_objval(l);
    return ok_result();
}

/* ---------- math ---------- */

/* "invalid value for NAME(): NUMBER" */
static zx_callres invalid_number(int id, zx_value v)
{
    zx_buf b;
    zx_buf_init(&b);
    zx_format_value(&b, v);
    zx_buf_put(&b, "", 1);
    zx_callres r = err_result(ZX_ERR_INVALID_NUMBER, zx_builtin_name(id), b.data);
    zx_buf_free(&b);
    return r;
}

/* A float that must become an int (floor, ceil, round): nan and inf are invalid, beyond 64
 * bits an overflow. */
static zx_callres float_to_int(int id, double d, zx_value *out)
{
    if (isnan(d) || isinf(d)) return invalid_number(id, zx_float(d));
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return err_result(ZX_ERR_INT_OVERFLOW);
    *out = zx_int((int64_t)d);
    return ok_result();
}

static bool is_num(zx_value v) { return v.tag == ZX_T_INT || v.tag == ZX_T_FLOAT; }
static double num(zx_value v) { return v.tag == ZX_T_INT ? (double)v.u.i : v.u.f; }

/* round(x): the nearest int, ties to even (Python's); round(x, n): x rounded to n decimals,
 * a float for a float x (Python's correctly rounded result, which glibc's printf gives), an
 * int for an int x. */
static zx_callres builtin_round(const zx_value *argv, int argc, zx_value *out)
{
    zx_value x = argv[0];
    if (!is_num(x)) return type_error(ZX_BI_round, x);
    if (argc == 2 && argv[1].tag != ZX_T_INT) return arg_type(ZX_BI_round, "an Integer", 2, argv[1]);
    if (argc == 1) {
        if (x.tag == ZX_T_INT) {
            *out = x;
            return ok_result();
        }
        return float_to_int(ZX_BI_round, nearbyint(x.u.f), out);
    }
    int64_t nd = argv[1].u.i;
    if (x.tag == ZX_T_INT) {
        if (nd >= 0 || nd < -18) {
            *out = nd >= 0 ? x : zx_int(0);
            return ok_result();
        }
        int64_t p = 1;
        for (int64_t i = 0; i < -nd; i++) p *= 10;
        int64_t q = x.u.i / p, r = x.u.i % p;
        if (r < 0) { q--; r += p; }                          /* floor division */
        if (r * 2 > p || (r * 2 == p && (q & 1))) q++;       /* ties to even */
        int64_t res;
        if (__builtin_mul_overflow(q, p, &res)) return err_result(ZX_ERR_INT_OVERFLOW);
        *out = zx_int(res);
        return ok_result();
    }
    double d = x.u.f;
    if (isnan(d) || isinf(d)) {
        *out = x;
        return ok_result();
    }
    if (nd > 300) {
        *out = x;
        return ok_result();
    }
    if (nd >= 0) {
        char buf[400];
        snprintf(buf, sizeof buf, "%.*f", (int)nd, d);
        *out = zx_float(strtod(buf, NULL));
        return ok_result();
    }
    double p = pow(10.0, (double)-nd);
    *out = zx_float(isinf(p) ? 0.0 * d : nearbyint(d / p) * p);
    return ok_result();
}

static zx_callres builtin_math(zx_heap *h, int id, const zx_value *argv, zx_value *out)
{
    zx_value x = argv[0];
    if (!is_num(x)) return type_error(id, x);
    switch (id) {
    case ZX_BI_abs:
        if (x.tag == ZX_T_FLOAT) *out = zx_float(fabs(x.u.f));
        else if (x.u.i == INT64_MIN) return err_result(ZX_ERR_INT_OVERFLOW);
        else *out = zx_int(x.u.i < 0 ? -x.u.i : x.u.i);
        return ok_result();
    case ZX_BI_sqrt:
        if (num(x) < 0) return invalid_number(id, x);
        *out = zx_float(sqrt(num(x)));
        return ok_result();
    case ZX_BI_floor: case ZX_BI_ceil:
        if (x.tag == ZX_T_INT) {
            *out = x;
            return ok_result();
        }
        return float_to_int(id, id == ZX_BI_floor ? floor(x.u.f) : ceil(x.u.f), out);
    case ZX_BI_pow: {
        if (!is_num(argv[1])) return arg_type(id, "a number", 2, argv[1]);
        zx_callres r;
        r.ok = zx_binop(h, ZX_ARITH_POW, x, argv[1], out, &r.err);
        return r;
    }
    default: break;
    }
    return err_result(ZX_ERR_UNKNOWN_BUILTIN, id);
}

static const char *typeof_name(zx_value v)
{
    switch ((zx_tag)v.tag) {
    case ZX_T_NULL: case ZX_T_UNDEF: return "null";
    case ZX_T_BOOL: return "boolean";
    case ZX_T_INT: return "integer";
    case ZX_T_FLOAT: return "float";
    case ZX_T_OBJ: break;
    }
    switch ((zx_objtype)v.u.o->type) {
    case ZX_O_STRING: return "string";
    case ZX_O_LIST: return "list";
    case ZX_O_MAP: return "map";
    case ZX_O_FUNC: return "function";
    case ZX_O_BUILTIN: return "builtin";
    case ZX_O_CLASS: case ZX_O_INST: return zx_object_typeof(v);
    case ZX_O_CELL: break;
    }
    return "null";
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
    case ZX_BI_len: case ZX_BI_length: case ZX_BI_size: {
        int64_t n = size_of(argv[0]);
        if (n < 0) return type_error(id, argv[0]);
        *out = zx_int(n);
        return ok_result();
    }
    case ZX_BI_string: case ZX_BI_str: {
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
    case ZX_BI_typeof: {
        const char *name = typeof_name(argv[0]);
        return new_string_result(h, name, strlen(name), out);
    }
    case ZX_BI_uppercase: case ZX_BI_lowercase:
        if (!is_str(argv[0])) return type_error(id, argv[0]);
        return change_case(h, ZX_AS_STRING(argv[0]), id == ZX_BI_uppercase, out);
    case ZX_BI_split: return builtin_split(h, argv, argc, out);
    case ZX_BI_join: return builtin_join(h, argv, argc, out);
    case ZX_BI_contains: return builtin_contains(argv, out);
    case ZX_BI_replace: return builtin_replace(h, argv, out);
    case ZX_BI_trim: return builtin_trim(h, argv[0], out);
    case ZX_BI_starts_with: case ZX_BI_ends_with: return builtin_affix(id, argv, out);
    case ZX_BI_index_of: return builtin_index_of(argv, out);
    case ZX_BI_substring: return builtin_substring(h, argv, argc, out);
    case ZX_BI_append:
        if (!is_list(argv[0])) return arg_type(id, "a List", 1, argv[0]);
        if (!zx_list_push(h, ZX_AS_LIST(argv[0]), argv[1])) return memory_error();
        zx_incref(argv[0]);
        *out = argv[0];
        return ok_result();
    case ZX_BI_push: {
        if (!is_list(argv[0])) return arg_type(id, "a List", 1, argv[0]);
        const zx_list *l = ZX_AS_LIST(argv[0]);
        zx_list *n = zx_list_slice(h, l, 0, l->len, 1);
        if (n && !zx_list_push_fresh(h, n, argv[1])) {
            zx_obj_decref(n);
            n = NULL;
        }
        return list_result(n, out);
    }
    case ZX_BI_count: return builtin_count(argv, argc, out);
    case ZX_BI_reverse: {
        if (!is_list(argv[0])) return type_error(id, argv[0]);
        const zx_list *l = ZX_AS_LIST(argv[0]);
        zx_list *n = zx_list_slice(h, l, 0, l->len, 0);
        size_t sz = zx_list_item_size(l->kind);
        for (uint32_t i = 0; n && i < n->len / 2; i++) {   /* swap items of any kind as bytes */
            char t[sizeof(zx_value)], *a = (char *)n->items + (size_t)i * sz, *b = (char *)n->items + (size_t)(n->len - 1 - i) * sz;
            memcpy(t, a, sz);
            memcpy(a, b, sz);
            memcpy(b, t, sz);
        }
        return list_result(n, out);
    }
    case ZX_BI_insert: return builtin_insert(h, argv, out);
    case ZX_BI_remove: return builtin_remove(argv, out);
    case ZX_BI_first: case ZX_BI_last: {
        if (!is_list(argv[0])) return type_error(id, argv[0]);
        const zx_list *l = ZX_AS_LIST(argv[0]);
        zx_value v = l->len == 0 ? zx_null() : zx_list_get(l, id == ZX_BI_first ? 0 : l->len - 1);
        zx_incref(v);
        *out = v;
        return ok_result();
    }
    case ZX_BI_rest: {
        if (!is_list(argv[0])) return type_error(id, argv[0]);
        const zx_list *l = ZX_AS_LIST(argv[0]);
        return list_result(zx_list_slice(h, l, l->len ? 1 : 0, l->len ? l->len - 1 : 0, 0), out);
    }
    case ZX_BI_sum: return builtin_sum(h, argv[0], out);
    case ZX_BI_min: case ZX_BI_max: return builtin_extreme(h, id, argv, argc, out);
    case ZX_BI_is_empty: {
        int64_t n = size_of(argv[0]);
        if (n < 0) return type_error(id, argv[0]);
        *out = zx_bool(n == 0);
        return ok_result();
    }
    case ZX_BI_pop: {
        if (!is_list(argv[0])) return type_error(id, argv[0]);
        zx_list *l = ZX_AS_LIST(argv[0]);
        if (l->len == 0) return err_result(ZX_ERR_POP_EMPTY);
        l->len--;
        *out = zx_list_get(l, l->len);     /* a generic list's reference passes to the caller */
        return ok_result();
    }
    case ZX_BI_get: return builtin_get(argv, argc, out);
    case ZX_BI_set: return builtin_set(h, argv, out);
    case ZX_BI_delete: case ZX_BI_has:
        if (!is_map(argv[0])) return type_error(id, argv[0]);
        if (id == ZX_BI_has) {
            *out = zx_bool(zx_map_get(ZX_AS_MAP(argv[0]), argv[1]) != NULL);
            return ok_result();
        }
        return builtin_remove(argv, out);
    case ZX_BI_keys: case ZX_BI_values: case ZX_BI_entries:
        if (!is_map(argv[0])) return type_error(id, argv[0]);
        if (id == ZX_BI_entries) return map_entries(h, ZX_AS_MAP(argv[0]), out);
        return map_items(h, ZX_AS_MAP(argv[0]), id == ZX_BI_keys, out);
    case ZX_BI_abs: case ZX_BI_sqrt: case ZX_BI_pow: case ZX_BI_floor: case ZX_BI_ceil:
        return builtin_math(h, id, argv, out);
    case ZX_BI_round: return builtin_round(argv, argc, out);
    case ZX_BI_slice: return zx_slice(h, argv[0], argv[1], argc == 3 ? argv[2] : zx_null(), out);
    case ZX_BI___match_eq: {   /* a match pattern: same type (2 never matches 2.0) and == */
        zx_value a = argv[0], b = argv[1];
        bool same = a.tag == b.tag && (a.tag != ZX_T_OBJ || a.u.o->type == b.u.o->type);
        *out = zx_bool(same && zx_value_equal(a, b));
        return ok_result();
    }
    case ZX_BI___match_fail: {   /* no arm of a match matched argv[0] */
        zx_buf b;
        zx_buf_init(&b);
        zx_format_value(&b, argv[0]);
        size_t n = b.len > 60 ? 60 : b.len;
        while (n < b.len && n > 0 && ((unsigned char)b.data[n] & 0xC0) == 0x80) n--;   /* whole code points */
        zx_callres r = err_result(ZX_ERR_NO_MATCH, (int)n, b.data ? b.data : "", n < b.len ? "..." : "");
        zx_buf_free(&b);
        return r;
    }
    case ZX_BI_print: case ZX_BI_parallel_map: case ZX_BI_args: case ZX_BI_map: case ZX_BI_filter:
    case ZX_BI_reduce: case ZX_BI_sort: case ZX_BI_COUNT: break;
    /* runtime/stdlib_sys.c (zx_sys_call, with the run's context) */
    case ZX_BI_time: case ZX_BI_timestamp: case ZX_BI_sleep: case ZX_BI_random: case ZX_BI_random_seed:
    case ZX_BI_json_parse: case ZX_BI_json_stringify: case ZX_BI_file_read_text: case ZX_BI_read_file:
    case ZX_BI_file_write_text: case ZX_BI_file_append: case ZX_BI_file_exists: case ZX_BI_file_read_json:
    case ZX_BI_file_write_json: case ZX_BI_file_list_dir: case ZX_BI_hash: case ZX_BI_to_hex:
    case ZX_BI_from_hex: case ZX_BI_is_main: case ZX_BI___ARGS__: case ZX_BI___MODULE__: break;
    }
    return err_result(ZX_ERR_BUILTIN_IN_LOOP, row->name);
}

int zx_method_resolve(int id, zx_value recv, int argc, zx_callres *r)
{
    if (id < 0 || id >= ZX_M_COUNT) {
        *r = err_result(ZX_ERR_UNKNOWN_METHOD, id);
        return -1;
    }
    const method_row *row = &method_table[id];
    if (!zx_is_obj(recv) || !(row->receivers & (1u << recv.u.o->type))) {
        *r = err_result(ZX_ERR_NO_METHOD, zx_type_name(recv), row->name);
        return -1;
    }
    const builtin_row *b = &builtin_table[row->builtin];
    if (argc < b->min - 1 || argc > b->max - 1) {
        *r = b->min == b->max ? err_result(ZX_ERR_ARITY, b->min - 1, argc)
                              : err_result(ZX_ERR_ARITY_RANGE, b->min - 1, b->max - 1, argc);
        return -1;
    }
    *r = ok_result();
    return row->builtin;
}

int zx_method_target(int id, zx_value recv, int argc)
{
    if (id < 0 || id >= ZX_M_COUNT) return -1;
    const method_row *row = &method_table[id];
    if (!zx_is_obj(recv) || !(row->receivers & (1u << recv.u.o->type))) return -1;
    const builtin_row *b = &builtin_table[row->builtin];
    return argc < b->min - 1 || argc > b->max - 1 ? -1 : row->builtin;
}

zx_callres zx_method_call(zx_heap *h, int id, zx_value recv, const zx_value *argv, int argc,
                          zx_value *out)
{
    zx_callres r;
    int bi = zx_method_resolve(id, recv, argc, &r);
    if (bi < 0) return r;
    zx_value args[4];              /* no builtin a method runs takes more than 3 */
    if (argc + 1 > (int)(sizeof args / sizeof args[0])) return err_result(ZX_ERR_UNKNOWN_METHOD, id);
    args[0] = recv;
    for (int i = 0; i < argc; i++) args[i + 1] = argv[i];
    return zx_builtin_call(h, bi, args, argc + 1, out);
}
