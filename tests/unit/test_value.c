/* test_value.c — unit tests of value.c and builtins.c: printing, strings, maps, equality, heap, builtins. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "runtime/builtins.h"
#include "bytecode/bytecode.h"
#include "check.h"
#include "runtime/topology.h"
#include "runtime/value.h"

/* Compare how print shows v with want. */
static void check_fmt(const char *file, int line, zx_value v, const char *want)
{
    zx_buf b;
    zx_buf_init(&b);
    zx_format_value(&b, v);
    const char *got = b.data ? b.data : "";
    check_count++;
    if (strcmp(got, want) != 0) {
        check_failures++;
        fprintf(stderr, "%s:%d: printed \"%.200s\", want \"%.200s\"\n", file, line, got, want);
    }
    zx_buf_free(&b);
}
#define CHECK_FMT(v, want) check_fmt(__FILE__, __LINE__, (v), (want))

static zx_value str(zx_heap *h, const char *s) { return zx_objval(zx_string_new(h, s, strlen(s))); }

static zx_value list_of(zx_heap *h, int n, const zx_value *items)
{
    zx_list *l = zx_list_new(h, 0);
    for (int i = 0; i < n; i++) zx_list_push(h, l, items[i]);
    return zx_objval(l);
}

/* ---- How print formats values ---- */

static void test_print_scalars(void)
{
    CHECK_FMT(zx_int(3), "3");
    CHECK_FMT(zx_int(-42), "-42");
    CHECK_FMT(zx_int(9223372030926249001), "9223372030926249001");
    CHECK_FMT(zx_int(INT64_MIN), "-9223372036854775808");
    CHECK_FMT(zx_int(0), "0");
    CHECK_FMT(zx_bool(true), "true");
    CHECK_FMT(zx_bool(false), "false");
    CHECK_FMT(zx_null(), "null");
}

static void test_print_floats(void)
{
    CHECK_FMT(zx_float(3.0), "3.0");
    CHECK_FMT(zx_float(3.75), "3.75");
    CHECK_FMT(zx_float(0.1 + 0.2), "0.30000000000000004");
    CHECK_FMT(zx_float(0.00001), "1e-05");
    CHECK_FMT(zx_float(0.0001), "0.0001");
    CHECK_FMT(zx_float(1000000000000000.0), "1000000000000000.0");
    CHECK_FMT(zx_float(1e16), "1e+16");
    CHECK_FMT(zx_float(1234567.0 * 1000000000000.0), "1.234567e+18");
    CHECK_FMT(zx_float(100000000000000000000.0), "1e+20");
    CHECK_FMT(zx_float(-0.0), "-0.0");
    CHECK_FMT(zx_float(0.0), "0.0");
    CHECK_FMT(zx_float(INFINITY), "inf");
    CHECK_FMT(zx_float(-INFINITY), "-inf");
    CHECK_FMT(zx_float(NAN), "nan");
    CHECK_FMT(zx_float(1.0 / 3.0), "0.3333333333333333");
    CHECK_FMT(zx_float(2.0 / 3.0), "0.6666666666666666");
    CHECK_FMT(zx_float(100.0), "100.0");
    CHECK_FMT(zx_float(-2.5), "-2.5");
    CHECK_FMT(zx_float(123456789.125), "123456789.125");
    CHECK_FMT(zx_float(1e100), "1e+100");
    CHECK_FMT(zx_float(1.5e-7), "1.5e-07");
    CHECK_FMT(zx_float(5e-324), "5e-324");
    CHECK_FMT(zx_float(1.7976931348623157e308), "1.7976931348623157e+308");
    CHECK_FMT(zx_float(2.2250738585072014e-308), "2.2250738585072014e-308");
    CHECK_FMT(zx_float(9007199254740993.0), "9007199254740992.0");
    CHECK_FMT(zx_float(1e22), "1e+22");
    CHECK_FMT(zx_float(9999999999999998.0), "9999999999999998.0");
    CHECK_FMT(zx_float(9.999999999999999e15), "1e+16");
    /* Powers of two whose rounding interval is lopsided: Python prints these digits. */
    CHECK_FMT(zx_float(ldexp(1.0, 100)), "1.2676506002282294e+30");
    CHECK_FMT(zx_float(ldexp(1.0, -1022)), "2.2250738585072014e-308");
    CHECK_FMT(zx_float(ldexp(1.0, 1023)), "8.98846567431158e+307");
    CHECK_FMT(zx_float(ldexp(1.0, 60)), "1.152921504606847e+18");
    CHECK_FMT(zx_float(ldexp(1.0, -24)), "5.960464477539063e-08");
    CHECK_FMT(zx_float(ldexp(1.0, -44)), "5.684341886080802e-14");
    CHECK_FMT(zx_float(ldexp(1.0, 89)), "6.189700196426902e+26");
}

static void test_print_objects(zx_heap *h)
{
    zx_value s = str(h, "h\xc3\xa9llo \"q\"");
    CHECK_FMT(s, "h\xc3\xa9llo \"q\"");          /* raw, no quotes */

    zx_value a = str(h, "a");
    zx_value items[] = { zx_int(1), a, zx_bool(true), zx_null() };
    zx_value l = list_of(h, 4, items);
    CHECK_FMT(l, "[1, a, true, null]");
    zx_value empty = list_of(h, 0, NULL);
    CHECK_FMT(empty, "[]");
    zx_value nested_items[] = { l, empty, zx_float(1.5) };
    zx_value nested = list_of(h, 3, nested_items);
    CHECK_FMT(nested, "[[1, a, true, null], [], 1.5]");

    zx_map *m = zx_map_new(h, 0);
    zx_value ka = str(h, "a"), kb = str(h, "b"), x = str(h, "x");
    zx_map_set(h, m, ka, zx_int(1));
    zx_map_set(h, m, kb, x);
    CHECK_FMT(zx_objval(m), "{a: 1, b: x}");
    zx_map *em = zx_map_new(h, 4);
    CHECK_FMT(zx_objval(em), "{}");
    zx_map_set(h, em, zx_int(2), zx_objval(m));
    zx_map_set(h, em, zx_float(2.5), l);
    zx_map_set(h, em, zx_bool(false), zx_null());
    CHECK_FMT(zx_objval(em), "{2: {a: 1, b: x}, 2.5: [1, a, true, null], false: null}");

    /* Actions, lambdas and builtins as values. */
    zx_code action = { .kind = ZX_CODE_ACTION, .name = "square" };
    zx_code lambda = { .kind = ZX_CODE_LAMBDA, .name = "<lambda>" };
    zx_func *fa = zx_func_new(h, &action, NULL, "square", false, 0);
    zx_func *fl = zx_func_new(h, &lambda, NULL, "<lambda>", true, 2);
    CHECK(fl->free[0] == NULL && fl->free[1] == NULL);
    fl->free[0] = zx_cell_new(h, zx_int(7));
    zx_builtin_obj *bi = zx_heap_alloc_obj(h, ZX_O_BUILTIN, sizeof(zx_builtin_obj));
    bi->id = ZX_BI_len;
    CHECK_FMT(zx_objval(fa), "<action square>");
    CHECK_FMT(zx_objval(fl), "<lambda>");
    CHECK_FMT(zx_objval(bi), "<action len>");
    zx_value fitems[] = { zx_objval(fa), zx_objval(fl), zx_objval(bi) };
    zx_value fl_list = list_of(h, 3, fitems);
    CHECK_FMT(fl_list, "[<action square>, <lambda>, <action len>]");

    /* type() names. */
    CHECK_STR(zx_type_name(zx_int(1)), "Integer");
    CHECK_STR(zx_type_name(zx_float(1)), "Float");
    CHECK_STR(zx_type_name(s), "String");
    CHECK_STR(zx_type_name(zx_bool(true)), "Boolean");
    CHECK_STR(zx_type_name(zx_null()), "Null");
    CHECK_STR(zx_type_name(l), "List");
    CHECK_STR(zx_type_name(zx_objval(m)), "Map");
    CHECK_STR(zx_type_name(zx_objval(fa)), "Action");
    CHECK_STR(zx_type_name(zx_objval(fl)), "Lambda");
    CHECK_STR(zx_type_name(zx_objval(bi)), "Action");

    zx_decref(fl_list);
    zx_obj_decref(fa);
    zx_obj_decref(fl);
    zx_obj_decref(bi);
    zx_decref(s);
    zx_decref(a);
    zx_decref(l);
    zx_decref(empty);
    zx_decref(nested);
    zx_decref(ka);
    zx_decref(kb);
    zx_decref(x);
    zx_obj_decref(m);
    zx_obj_decref(em);
}

/* ---- Cyclic values ---- */

static void test_cycles(zx_heap *h)
{
    /* xs.push(xs); print(xs) prints [1, [...]] */
    zx_list *xs = zx_list_new(h, 0);
    zx_list_push(h, xs, zx_int(1));
    zx_list_push(h, xs, zx_objval(xs));
    CHECK(atomic_load(&xs->hdr.flags) & ZX_OF_CYCLE_CANDIDATE);
    CHECK_FMT(zx_objval(xs), "[1, [...]]");

    zx_map *m = zx_map_new(h, 0);
    zx_value self = str(h, "self"), other = str(h, "xs");
    zx_map_set(h, m, self, zx_objval(m));
    zx_map_set(h, m, other, zx_objval(xs));
    CHECK_FMT(zx_objval(m), "{self: {...}, xs: [1, [...]]}");
    zx_list_push(h, xs, zx_objval(m));
    CHECK_FMT(zx_objval(xs), "[1, [...], {self: {...}, xs: [...]}]");

    /* The same object twice is not a cycle. */
    zx_value one[] = { zx_int(1) };
    zx_value inner = list_of(h, 1, one);
    zx_value twice_items[] = { inner, inner };
    zx_value twice = list_of(h, 2, twice_items);
    CHECK_FMT(twice, "[[1], [1]]");

    /* string() of a cyclic value. */
    zx_value r;
    zx_callres cr = zx_builtin_call(h, ZX_BI_string, (zx_value[]){ zx_objval(xs) }, 1, &r);
    CHECK(cr.ok);
    CHECK_FMT(r, "[1, [...], {self: {...}, xs: [...]}]");
    zx_decref(r);

    /* Equality on cyclic structures ends. */
    zx_list *a = zx_list_new(h, 0), *b = zx_list_new(h, 0);
    zx_list_push(h, a, zx_objval(a));
    zx_list_push(h, b, zx_objval(b));
    CHECK(zx_value_equal(zx_objval(a), zx_objval(b)));
    CHECK(zx_value_equal(zx_objval(xs), zx_objval(xs)));
    zx_list *c = zx_list_new(h, 0), *d = zx_list_new(h, 0);
    zx_list_push(h, c, zx_int(1));
    zx_list_push(h, c, zx_objval(c));
    zx_list_push(h, d, zx_int(2));
    zx_list_push(h, d, zx_objval(d));
    CHECK(!zx_value_equal(zx_objval(c), zx_objval(d)));

    /* A recursive closure: the cell holding f is captured by f. */
    zx_code action = { .kind = ZX_CODE_ACTION, .name = "rec" };
    zx_func *f = zx_func_new(h, &action, NULL, "rec", false, 1);
    zx_cell *cell = zx_cell_new(h, zx_null());
    f->free[0] = cell;                       /* f owns the cell */
    cell->v = zx_objval(f);
    zx_obj_incref(f);
    zx_heap_note_cycle_candidate(h, &cell->hdr);
    zx_obj_decref(f);

    /* Drop every outside reference; the cycles stay until zx_heap_destroy clears them. */
    size_t before = zx_heap_bytes(h);
    zx_obj_decref(xs);
    zx_obj_decref(m);
    zx_obj_decref(a);
    zx_obj_decref(b);
    zx_obj_decref(c);
    zx_obj_decref(d);
    CHECK(zx_heap_bytes(h) == before);
    zx_decref(self);
    zx_decref(other);
    zx_decref(inner);
    zx_decref(twice);
}

/* Many threads print the same cyclic structure at once: the path is per call. */
typedef struct print_job {
    zx_value v;
    int bad;
} print_job;

static void *print_many(void *arg)
{
    print_job *job = arg;
    for (int i = 0; i < 2000; i++) {
        zx_buf b;
        zx_buf_init(&b);
        zx_format_value(&b, job->v);
        if (!b.data || strcmp(b.data, "[1, [...], [2, [...]]]") != 0) job->bad++;
        zx_buf_free(&b);
        zx_incref(job->v);
        zx_decref(job->v);
    }
    return NULL;
}

static void test_concurrent_printing(zx_heap *h)
{
    zx_list *xs = zx_list_new(h, 0), *ys = zx_list_new(h, 0);
    zx_list_push(h, xs, zx_int(1));
    zx_list_push(h, xs, zx_objval(xs));
    zx_list_push(h, ys, zx_int(2));
    zx_list_push(h, ys, zx_objval(xs));
    zx_list_push(h, xs, zx_objval(ys));
    print_job jobs[4];
    pthread_t t[4];
    zx_rc_concurrent_begin();     /* threads share objects: atomic counts (value.h) */
    for (int i = 0; i < 4; i++) {
        jobs[i].v = zx_objval(xs);
        jobs[i].bad = 0;
        pthread_create(&t[i], NULL, print_many, &jobs[i]);
    }
    int bad = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        bad += jobs[i].bad;
    }
    zx_rc_concurrent_end();
    CHECK(bad == 0);
    zx_obj_decref(xs);
    zx_obj_decref(ys);
}

/* ---- Deep nesting: no C recursion in freeing, printing or comparing ---- */

enum { DEEP = 1000000 };

/* A chain of DEEP lists built without registering cycle candidates, so that dropping the
 * outermost reference frees the whole chain through zx_obj_free. */
static zx_value deep_chain(zx_heap *h, int depth)
{
    zx_list *inner = zx_list_new(h, 1);
    inner->items[0] = zx_int(7);
    inner->len = 1;
    for (int i = 1; i < depth; i++) {
        zx_list *outer = zx_list_new(h, 1);
        outer->items[0] = zx_objval(inner);    /* takes over the reference */
        outer->len = 1;
        inner = outer;
    }
    return zx_objval(inner);
}

static void test_deep(void)
{
    zx_heap *h = zx_heap_create(0);
    zx_value a = deep_chain(h, DEEP);
    CHECK(zx_heap_bytes(h) > (size_t)DEEP * sizeof(zx_list));

    zx_value b = deep_chain(h, DEEP);
    CHECK(zx_value_equal(a, b));
    zx_value c = deep_chain(h, DEEP - 1);
    CHECK(!zx_value_equal(a, c));
    zx_decref(c);

    zx_buf buf;
    zx_buf_init(&buf);
    zx_format_value(&buf, a);
    CHECK(buf.len == 2 * (size_t)DEEP + 1);
    CHECK(buf.data && buf.data[DEEP - 1] == '[' && buf.data[DEEP] == '7' && buf.data[DEEP + 1] == ']');
    zx_buf_free(&buf);

    zx_decref(a);
    zx_decref(b);
    CHECK(zx_heap_bytes(h) == 0);

    /* A long list of lists, and a deep map chain, freed the same way. */
    zx_list *wide = zx_list_new(h, 0);
    for (int i = 0; i < 100000; i++) {
        zx_list *x = zx_list_new(h, 0);
        zx_list_push(h, wide, zx_objval(x));
        zx_obj_decref(x);
    }
    zx_map *mi = zx_map_new(h, 0);
    zx_value k = str(h, "k");
    for (int i = 0; i < 200000; i++) {
        zx_map *mo = zx_map_new(h, 0);
        zx_map_set(h, mo, k, zx_objval(mi));
        zx_obj_decref(mi);
        mi = mo;
    }
    zx_decref(k);
    zx_obj_decref(wide);
    zx_obj_decref(mi);
    /* Both registered as cycle candidates (a container was stored in them); destroy frees
     * them — and the sanitizer's leak check holds us to it. */
    zx_heap_destroy(h);
}

/* ---- Strings ---- */

static void test_strings(zx_heap *h)
{
    zx_string *s = zx_string_new(h, "h\xc3\xa9llo", 6);
    CHECK(s->nbytes == 6 && s->ncodepoints == 5);
    zx_value r;
    zx_callres cr = zx_builtin_call(h, ZX_BI_len, (zx_value[]){ zx_objval(s) }, 1, &r);
    CHECK(cr.ok && r.tag == ZX_T_INT && r.u.i == 5);
    zx_string *c1 = zx_string_at(h, s, 1), *c4 = zx_string_at(h, s, 4);
    CHECK_STR(c1->data, "\xc3\xa9");
    CHECK(c1->ncodepoints == 1);
    CHECK_STR(c4->data, "o");
    CHECK(zx_string_at(h, s, 5) == NULL);
    CHECK(zx_string_at(h, s, -1) == NULL);
    zx_string *ascii = zx_string_new(h, "hello", 5);
    zx_string *e = zx_string_at(h, ascii, 1);
    CHECK_STR(e->data, "e");

    zx_string *s2 = zx_string_new(h, "h\xc3\xa9llo", 6);
    CHECK(zx_string_eq(s, s2));
    CHECK(zx_string_hash(s) == zx_string_hash(s2));
    CHECK(zx_string_cmp(s, s2) == 0);
    CHECK(!zx_string_eq(s, ascii));
    CHECK(zx_string_cmp(ascii, s) < 0);      /* 'e' < U+00E9 */
    CHECK(atomic_load(&s->method) == -2);

    zx_string *cat = zx_string_concat(h, s, ascii);
    CHECK_STR(cat->data, "h\xc3\xa9llohello");
    CHECK(cat->ncodepoints == 10);
    zx_string *rep = zx_string_repeat(h, s, 3);
    CHECK(rep->nbytes == 18 && rep->ncodepoints == 15);
    zx_string *none = zx_string_repeat(h, s, -4);
    CHECK(none->nbytes == 0 && none->data[0] == '\0');

    CHECK(zx_utf8_valid("h\xc3\xa9llo", 6));
    CHECK(zx_utf8_valid("\xf0\x9f\x98\x80", 4));
    CHECK(!zx_utf8_valid("\xc3", 1));
    CHECK(!zx_utf8_valid("\xc0\xaf", 2));      /* overlong */
    CHECK(!zx_utf8_valid("\xed\xa0\x80", 3));  /* surrogate */
    CHECK(!zx_utf8_valid("\xff", 1));

    zx_string *push = zx_string_new(h, "push", 4), *nope = zx_string_new(h, "pus", 3);
    CHECK(zx_string_method_id(push) == ZX_M_push);
    CHECK(atomic_load(&push->method) == ZX_M_push);
    CHECK(zx_string_method_id(push) == ZX_M_push);
    CHECK(zx_string_method_id(nope) == -1);
    CHECK(atomic_load(&nope->method) == -1);

    zx_obj *all[] = { &s->hdr, &c1->hdr, &c4->hdr, &ascii->hdr, &e->hdr, &s2->hdr, &cat->hdr,
                      &rep->hdr, &none->hdr, &push->hdr, &nope->hdr };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) zx_obj_decref(all[i]);
}

/* ---- Maps ---- */

static void test_map_keys(zx_heap *h)
{
    zx_map *m = zx_map_new(h, 0);
    zx_value a = str(h, "a"), b = str(h, "b"), a2 = str(h, "a");
    CHECK(zx_map_get(m, zx_int(1)) == NULL);
    zx_map_set(h, m, zx_int(1), a);
    zx_value *got = zx_map_get(m, zx_float(1.0));
    CHECK(got && zx_value_equal(*got, a));
    zx_map_set(h, m, zx_float(1.0), b);       /* the same key: replaces, keeps the int key */
    CHECK(m->len == 1);
    CHECK(m->entries[0].key.tag == ZX_T_INT);
    CHECK_FMT(zx_objval(m), "{1: b}");
    zx_map_set(h, m, zx_bool(true), a);       /* 1 == true is false: another key */
    zx_map_set(h, m, zx_float(1.5), a);
    zx_map_set(h, m, a, zx_int(10));
    CHECK(m->len == 4);
    got = zx_map_get(m, a2);                 /* equal strings are the same key */
    CHECK(got && got->tag == ZX_T_INT && got->u.i == 10);
    CHECK(zx_map_get(m, zx_float(-0.0)) == NULL);
    zx_map_set(h, m, zx_int(0), zx_int(100));
    got = zx_map_get(m, zx_float(-0.0));
    CHECK(got && got->u.i == 100);
    got = zx_map_get(m, zx_float(1.5));
    CHECK(got && zx_value_equal(*got, a));
    CHECK(zx_map_get(m, zx_float(1.25)) == NULL);
    CHECK(zx_map_get(m, zx_null()) == NULL);
    CHECK(zx_map_get(m, zx_float(NAN)) == NULL);
    CHECK_FMT(zx_objval(m), "{1: b, true: a, 1.5: a, a: 10, 0: 100}");
    CHECK(zx_map_get(m, zx_int(INT64_MIN)) == NULL);
    zx_map_set(h, m, zx_float(-9223372036854775808.0), zx_int(5));
    got = zx_map_get(m, zx_int(INT64_MIN));
    CHECK(got && got->u.i == 5);
    CHECK(zx_value_hashable(zx_int(1)) && zx_value_hashable(a) && zx_value_hashable(zx_bool(false)) &&
          zx_value_hashable(zx_float(2.5)));
    CHECK(!zx_value_hashable(zx_null()) && !zx_value_hashable(zx_objval(m)));

    /* Growth keeps insertion order and every key. */
    zx_map *big = zx_map_new(h, 0);
    for (int i = 0; i < 20000; i++) zx_map_set(h, big, zx_int(i * 7), zx_int(i));
    int ok = 1;
    for (int i = 0; i < 20000; i++) {
        zx_value *v = zx_map_get(big, zx_float((double)(i * 7)));
        if (!v || v->u.i != i || big->entries[i].key.u.i != i * 7) ok = 0;
    }
    CHECK(ok && big->len == 20000);
    CHECK(zx_map_get(big, zx_int(3)) == NULL);

    /* Maps compare by value, in any order. */
    zx_map *p = zx_map_new(h, 0), *q = zx_map_new(h, 0);
    zx_map_set(h, p, a, zx_int(1));
    zx_map_set(h, p, b, zx_float(2.0));
    zx_map_set(h, q, b, zx_int(2));
    zx_map_set(h, q, a, zx_int(1));
    CHECK(zx_value_equal(zx_objval(p), zx_objval(q)));
    zx_map_set(h, q, a, zx_int(3));
    CHECK(!zx_value_equal(zx_objval(p), zx_objval(q)));
    zx_map_set(h, q, a, zx_int(1));
    zx_map_set(h, q, zx_int(9), zx_int(1));
    CHECK(!zx_value_equal(zx_objval(p), zx_objval(q)));

    zx_obj_decref(m);
    zx_obj_decref(big);
    zx_obj_decref(p);
    zx_obj_decref(q);
    zx_decref(a);
    zx_decref(b);
    zx_decref(a2);
}

/* ---- Equality edge cases ---- */

static void test_equality(zx_heap *h)
{
    CHECK(!zx_value_equal(zx_int(9007199254740993), zx_float(9007199254740992.0)));
    CHECK(zx_value_equal(zx_int(9007199254740992), zx_float(9007199254740992.0)));
    CHECK(!zx_value_equal(zx_float(9223372036854775808.0), zx_int(INT64_MAX)));
    CHECK(zx_value_equal(zx_int(1), zx_float(1.0)));
    CHECK(!zx_value_equal(zx_int(1), zx_float(1.5)));
    CHECK(!zx_value_equal(zx_int(1), zx_bool(true)));
    CHECK(!zx_value_equal(zx_bool(false), zx_null()));
    CHECK(zx_value_equal(zx_null(), zx_null()));
    CHECK(!zx_value_equal(zx_float(NAN), zx_float(NAN)));
    zx_value one = str(h, "1");
    CHECK(!zx_value_equal(zx_int(1), one));

    zx_value x1[] = { zx_int(1), zx_int(2) }, x2[] = { zx_float(1.0), zx_float(2.0) };
    zx_value l1 = list_of(h, 2, x1), l2 = list_of(h, 2, x2);
    CHECK(zx_value_equal(l1, l2));
    zx_value n1[] = { l1, one }, n2[] = { l2, one };
    zx_value m1 = list_of(h, 2, n1), m2 = list_of(h, 2, n2);
    CHECK(zx_value_equal(m1, m2));
    zx_value e = list_of(h, 0, NULL);
    zx_map *em = zx_map_new(h, 0);
    CHECK(!zx_value_equal(e, zx_objval(em)));   /* [] != {} */
    CHECK(!zx_value_equal(e, l1));

    /* Functions compare by identity, builtins by which builtin. */
    zx_code code = { .kind = ZX_CODE_LAMBDA, .name = "<lambda>" };
    zx_func *f1 = zx_func_new(h, &code, NULL, "<lambda>", true, 0);
    zx_func *f2 = zx_func_new(h, &code, NULL, "<lambda>", true, 0);
    CHECK(zx_value_equal(zx_objval(f1), zx_objval(f1)));
    CHECK(!zx_value_equal(zx_objval(f1), zx_objval(f2)));
    zx_builtin_obj *b1 = zx_heap_alloc_obj(h, ZX_O_BUILTIN, sizeof *b1);
    zx_builtin_obj *b2 = zx_heap_alloc_obj(h, ZX_O_BUILTIN, sizeof *b2);
    b1->id = b2->id = ZX_BI_len;
    CHECK(zx_value_equal(zx_objval(b1), zx_objval(b2)));

    zx_obj_decref(f1);
    zx_obj_decref(f2);
    zx_obj_decref(b1);
    zx_obj_decref(b2);
    zx_decref(one);
    zx_decref(l1);
    zx_decref(l2);
    zx_decref(m1);
    zx_decref(m2);
    zx_decref(e);
    zx_obj_decref(em);
}

/* ---- The heap: accounting, memory limit, candidates ---- */

static void test_memory_limit(void)
{
    zx_heap *h = zx_heap_create(10000);
    CHECK(zx_heap_bytes(h) == 0);
    zx_string *s = zx_string_new(h, "abc", 3);
    size_t one = zx_heap_bytes(h);
    CHECK(one > 0);
    zx_obj_decref(s);
    CHECK(zx_heap_bytes(h) == 0);
    CHECK(zx_heap_peak(h) == one);

    /* Allocate until refused: the limit is never passed, and refusal is a NULL. */
    zx_list *l = zx_list_new(h, 0);
    int pushed = 0;
    for (int i = 0; i < 100000; i++) {
        zx_string *t = zx_string_new(h, "0123456789abcdef", 16);
        if (!t) break;
        if (!zx_list_push(h, l, zx_objval(t))) {
            zx_obj_decref(t);
            break;
        }
        zx_obj_decref(t);
        pushed++;
    }
    CHECK(pushed > 10 && pushed < 1000);
    CHECK(zx_heap_bytes(h) <= 10000);
    CHECK(zx_heap_peak(h) <= 10000);
    CHECK(zx_heap_alloc_obj(h, ZX_O_STRING, 20000) == NULL);
    CHECK(zx_list_new(h, 100000) == NULL);
    CHECK(zx_map_new(h, 100000) == NULL);
    CHECK(!zx_heap_account(h, 20000));
    zx_value r;
    zx_callres cr = zx_builtin_call(h, ZX_BI_range, (zx_value[]){ zx_int(100000) }, 1, &r);
    CHECK(!cr.ok && cr.err.id == ZX_ERR_MEMORY);
    CHECK_STR(cr.err.msg, "memory limit exceeded");
    zx_obj_decref(l);
    CHECK(zx_heap_bytes(h) == 0);
    CHECK(zx_heap_account(h, 500));
    CHECK(zx_heap_bytes(h) == 500);
    CHECK(zx_heap_account(h, -500));
    zx_heap_destroy(h);

    zx_heap *u = zx_heap_create(0);
    void *big = zx_heap_alloc_obj(u, ZX_O_STRING, 1 << 20);
    CHECK(big != NULL && zx_heap_bytes(u) >= (1u << 20));
    zx_obj_free(big);
    CHECK(zx_heap_bytes(u) == 0);
    zx_heap_destroy(u);
}

static void test_candidates(void)
{
    zx_heap *h = zx_heap_create(0);
    /* Short-lived containers of containers: registered, then released by later sweeps
     * once only the registry holds them, so the heap does not grow without bound. */
    zx_list *keep = zx_list_new(h, 0);
    for (int i = 0; i < 100000; i++) {
        zx_list *outer = zx_list_new(h, 0), *inner = zx_list_new(h, 0);
        zx_list_push(h, outer, zx_objval(inner));
        zx_obj_decref(inner);
        zx_obj_decref(outer);
        if (i == 0) zx_list_push(h, keep, zx_objval(keep));    /* one real cycle */
    }
    CHECK(zx_heap_bytes(h) < 1000000);   /* 100000 pairs kept would take over 10 MB */
    zx_obj_decref(keep);
    CHECK(zx_heap_bytes(h) > 0);
    zx_heap_destroy(h);    /* the sanitizer checks that nothing leaks */
}

/* Workers share one heap: registration, sweeps and frees from several threads at once. */
typedef struct cand_job {
    zx_heap *h;
    zx_list *shared;
} cand_job;

static void *make_candidates(void *arg)
{
    cand_job *job = arg;
    for (int i = 0; i < 20000; i++) {
        zx_list *outer = zx_list_new(job->h, 0), *inner = zx_list_new(job->h, 0);
        zx_list_push(job->h, outer, zx_objval(inner));
        zx_list_push(job->h, inner, zx_objval(outer));     /* a cycle every time */
        if (i % 7 == 0) zx_heap_note_cycle_candidate(job->h, &job->shared->hdr);
        zx_obj_decref(inner);
        zx_obj_decref(outer);
        zx_list *tmp = zx_list_new(job->h, 0), *x = zx_list_new(job->h, 0);
        zx_list_push(job->h, tmp, zx_objval(x));
        zx_obj_decref(x);
        zx_obj_decref(tmp);
    }
    return NULL;
}

static void test_concurrent_candidates(void)
{
    zx_heap *h = zx_heap_create(0);
    cand_job job = { h, zx_list_new(h, 0) };
    pthread_t t[4];
    zx_rc_concurrent_begin();     /* threads share objects: atomic counts (value.h) */
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, make_candidates, &job);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    zx_rc_concurrent_end();
    CHECK(job.shared->hdr.rc == 1);      /* ours: the registry's reference is weak */
    zx_obj_decref(job.shared);
    zx_heap_destroy(h);
}

/* The cycle collector: unreachable cycles (self-holding list, list <-> map, closure <-> cell)
 * are freed while live ones and everything they reach survive; nothing is collected on a
 * thread that is not the only mutator; and mutators on several threads that each want
 * collections park at their safe points (zx_heap_safepoint) and collect there. */
static void test_collector(void)
{
    zx_heap *h = zx_heap_create(0);
    size_t base = zx_heap_bytes(h);
    CHECK(!zx_heap_collect(h));                       /* no mutator entered on this thread */
    zx_heap_mutator_enter(h);
    zx_list *live = zx_list_new(h, 0);
    CHECK(zx_list_push(h, live, zx_objval(live)));    /* a live cycle, held by this local */
    zx_string *s = zx_string_new(h, "kept", 4);
    CHECK(zx_list_push(h, live, zx_objval(s)));
    zx_obj_decref(s);
    size_t with_live = zx_heap_bytes(h);
    for (int i = 0; i < 100; i++) {
        zx_list *a = zx_list_new(h, 0);
        zx_map *m = zx_map_new(h, 0);
        CHECK(zx_list_push(h, a, zx_objval(m)));
        zx_string *k = zx_string_new(h, "a", 1);
        CHECK(zx_map_set(h, m, zx_objval(k), zx_objval(a)));   /* a -> m -> a */
        zx_obj_decref(k);
        zx_func *f = zx_func_new(h, NULL, NULL, "f", false, 1);
        zx_cell *c = zx_cell_new(h, zx_objval(f));
        f->free[0] = c;                               /* f -> c -> f */
        zx_obj_incref(c);
        zx_heap_note_cycle_candidate(h, &c->hdr);
        zx_obj_decref(c);
        zx_obj_decref(f);
        zx_obj_decref(m);
        zx_obj_decref(a);
    }
    CHECK(zx_heap_bytes(h) > with_live);
    CHECK(zx_heap_collect(h));
    CHECK(zx_heap_cycles_freed(h) >= 100 * 3);
    CHECK(zx_heap_bytes(h) == with_live);             /* every garbage byte came back */
    CHECK(live->hdr.rc == 2);           /* the live cycle untouched */
    CHECK(live->len == 2 && live->items[0].u.o == &live->hdr);
    CHECK(strcmp(ZX_AS_STRING(live->items[1])->data, "kept") == 0);
    zx_obj_decref(live);
    CHECK(zx_heap_collect(h));
    CHECK(zx_heap_bytes(h) == base);
    zx_heap_mutator_leave(h);
    zx_heap_destroy(h);
}

typedef struct park_job {
    zx_heap *h;
    _Atomic int *done;
} park_job;

static void *park_worker(void *arg)
{
    park_job *job = arg;
    zx_heap_mutator_enter(job->h);
    for (int i = 0; i < 30000; i++) {
        zx_list *a = zx_list_new(job->h, 0);
        zx_list_push(job->h, a, zx_objval(a));
        zx_obj_decref(a);
        zx_heap_safepoint(job->h);                    /* a back-edge */
    }
    zx_heap_mutator_leave(job->h);
    atomic_fetch_add(job->done, 1);
    return NULL;
}

static void test_collector_threads(void)
{
    zx_heap *h = zx_heap_create(0);
    _Atomic int done = 0;
    park_job job = { h, &done };
    pthread_t t[3];
    zx_rc_concurrent_begin();     /* threads share objects: atomic counts (value.h) */
    for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, park_worker, &job);
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    zx_rc_concurrent_end();
    CHECK(atomic_load(&done) == 3);
    CHECK(zx_heap_collections(h) > 0);
    CHECK(zx_heap_cycles_freed(h) > 0);
    zx_heap_destroy(h);
}

/* ---- Builtins and methods ---- */

static zx_callres call1(zx_heap *h, int id, zx_value a, zx_value *out)
{
    return zx_builtin_call(h, id, &a, 1, out);
}

#define CHECK_ERR(res, want) do { zx_callres r_ = (res); CHECK(!r_.ok); CHECK_STR(r_.err.msg, want); } while (0)

static void test_builtins(zx_heap *h)
{
    zx_value r;
    CHECK(zx_builtin_lookup("len") == ZX_BI_len && zx_builtin_lookup("parallel_map") == ZX_BI_parallel_map);
    CHECK(zx_builtin_lookup("nope") == -1);
    CHECK_STR(zx_builtin_name(ZX_BI_range), "range");
    CHECK(zx_builtin_name(99) == NULL);
    int lo, hi;
    zx_builtin_arity(ZX_BI_range, &lo, &hi);
    CHECK(lo == 1 && hi == 3);
    CHECK(zx_method_lookup("values") == ZX_M_values && zx_method_lookup("len") == -1);
    CHECK_STR(zx_method_name(ZX_M_is_empty), "is_empty");
    /* the effect and result columns, and what an id in neither table gets */
    CHECK(zx_builtin_effects(ZX_BI_print) == (ZX_FX_PRINTS | ZX_FX_READS_HEAP));
    CHECK(zx_builtin_effects(ZX_BI_parallel_map) & ZX_FX_CALLS);
    CHECK(zx_builtin_effects(ZX_BI_args) == ZX_FX_PURE && zx_builtin_effects(ZX_BI_len) == ZX_FX_READS_HEAP);
    CHECK(zx_builtin_effects(ZX_BI_COUNT) == ZX_FX_UNKNOWN && zx_builtin_effects(-1) == ZX_FX_UNKNOWN);
    CHECK((zx_builtin_effects(ZX_BI_COUNT) & ZX_FX_WRITES_HEAP) && (zx_method_effects(-1) & ZX_FX_WRITES_HEAP));
    CHECK((zx_method_effects(ZX_M_pop) & ZX_FX_WRITES_HEAP) && zx_method_effects(ZX_M_keys) == ZX_FX_READS_HEAP);
    CHECK(zx_builtin_result(ZX_BI_print) == ZX_RES_NULL && zx_builtin_result(99) == ZX_RES_ANY);
    CHECK(zx_method_result(ZX_M_has) == ZX_RES_BOOL && zx_method_result(ZX_M_COUNT) == ZX_RES_ANY);
    {   /* a builtin's result lies in its result column */
        zx_value x;
        CHECK(call1(h, ZX_BI_int, zx_float(2.5), &x).ok && ((zx_builtin_result(ZX_BI_int) >> x.tag) & 1));
        CHECK(call1(h, ZX_BI_float, zx_int(2), &x).ok && ((zx_builtin_result(ZX_BI_float) >> x.tag) & 1));
        CHECK(call1(h, ZX_BI_string, zx_int(2), &x).ok && ((zx_builtin_result(ZX_BI_string) >> x.tag) & 1));
        zx_decref(x);
        CHECK(call1(h, ZX_BI_type, zx_int(2), &x).ok && ((zx_builtin_result(ZX_BI_type) >> x.tag) & 1));
        zx_decref(x);
    }

    /* int */
    zx_value s42 = str(h, "42"), sm5 = str(h, "-5"), s45 = str(h, "4.5"), sabc = str(h, "abc");
    zx_value sbig = str(h, "9223372036854775808"), smin = str(h, "-9223372036854775808"), sempty = str(h, "");
    CHECK(call1(h, ZX_BI_int, s42, &r).ok && r.tag == ZX_T_INT && r.u.i == 42);
    CHECK(call1(h, ZX_BI_int, sm5, &r).ok && r.u.i == -5);
    CHECK(call1(h, ZX_BI_int, smin, &r).ok && r.u.i == INT64_MIN);
    CHECK(call1(h, ZX_BI_int, zx_float(3.9), &r).ok && r.u.i == 3);
    CHECK(call1(h, ZX_BI_int, zx_float(-3.9), &r).ok && r.u.i == -3);
    CHECK(call1(h, ZX_BI_int, zx_int(7), &r).ok && r.u.i == 7);
    CHECK(call1(h, ZX_BI_int, zx_float(-9223372036854775808.0), &r).ok && r.u.i == INT64_MIN);
    CHECK_ERR(call1(h, ZX_BI_int, s45, &r), "invalid value for int(): \"4.5\"");
    CHECK_ERR(call1(h, ZX_BI_int, sabc, &r), "invalid value for int(): \"abc\"");
    CHECK_ERR(call1(h, ZX_BI_int, sempty, &r), "invalid value for int(): \"\"");
    CHECK_ERR(call1(h, ZX_BI_int, sbig, &r), "integer overflow");
    CHECK_ERR(call1(h, ZX_BI_int, zx_float(NAN), &r), "invalid value for int(): nan");
    CHECK_ERR(call1(h, ZX_BI_int, zx_float(INFINITY), &r), "integer overflow");
    CHECK_ERR(call1(h, ZX_BI_int, zx_float(1e19), &r), "integer overflow");
    CHECK_ERR(call1(h, ZX_BI_int, zx_bool(true), &r), "type mismatch: int() of Boolean");
    CHECK_ERR(call1(h, ZX_BI_int, zx_null(), &r), "type mismatch: int() of Null");

    /* float */
    zx_value s25 = str(h, "2.5"), sexp = str(h, "-1e3"), sinf = str(h, "inf"), shex = str(h, "0x10");
    CHECK(call1(h, ZX_BI_float, zx_int(2), &r).ok && r.tag == ZX_T_FLOAT && r.u.f == 2.0);
    CHECK_FMT(r, "2.0");
    CHECK(call1(h, ZX_BI_float, s25, &r).ok && r.u.f == 2.5);
    CHECK(call1(h, ZX_BI_float, s42, &r).ok && r.u.f == 42.0);
    CHECK(call1(h, ZX_BI_float, sexp, &r).ok && r.u.f == -1000.0);
    CHECK(call1(h, ZX_BI_float, sinf, &r).ok && isinf(r.u.f));
    CHECK(call1(h, ZX_BI_float, zx_float(1.5), &r).ok && r.u.f == 1.5);
    CHECK_ERR(call1(h, ZX_BI_float, sabc, &r), "invalid value for float(): \"abc\"");
    CHECK_ERR(call1(h, ZX_BI_float, shex, &r), "invalid value for float(): \"0x10\"");
    CHECK_ERR(call1(h, ZX_BI_float, zx_null(), &r), "type mismatch: float() of Null");

    /* string, type, len */
    CHECK(call1(h, ZX_BI_string, zx_int(42), &r).ok);
    CHECK_FMT(r, "42");
    CHECK_STR(zx_type_name(r), "String");
    zx_decref(r);
    CHECK(call1(h, ZX_BI_string, zx_float(3.0), &r).ok);
    CHECK_FMT(r, "3.0");
    zx_decref(r);
    CHECK(call1(h, ZX_BI_string, s42, &r).ok && r.u.o == s42.u.o);
    zx_decref(r);
    CHECK(call1(h, ZX_BI_type, zx_float(1.0), &r).ok);
    CHECK_FMT(r, "Float");
    zx_decref(r);
    CHECK(call1(h, ZX_BI_type, zx_null(), &r).ok);
    CHECK_FMT(r, "Null");
    zx_decref(r);
    CHECK_ERR(call1(h, ZX_BI_len, zx_int(5), &r), "type mismatch: len() of Integer");
    CHECK_ERR(zx_builtin_call(h, ZX_BI_len, (zx_value[]){ s42, s42 }, 2, &r), "expected 1 arguments, got 2");
    CHECK_ERR(zx_builtin_call(h, ZX_BI_string, NULL, 0, &r), "expected 1 arguments, got 0");

    /* range */
    CHECK(call1(h, ZX_BI_range, zx_int(6), &r).ok);
    CHECK_FMT(r, "[0, 1, 2, 3, 4, 5]");
    zx_decref(r);
    CHECK(zx_builtin_call(h, ZX_BI_range, (zx_value[]){ zx_int(2), zx_int(5) }, 2, &r).ok);
    CHECK_FMT(r, "[2, 3, 4]");
    zx_decref(r);
    CHECK(zx_builtin_call(h, ZX_BI_range, (zx_value[]){ zx_int(10), zx_int(0), zx_int(-3) }, 3, &r).ok);
    CHECK_FMT(r, "[10, 7, 4, 1]");
    zx_decref(r);
    CHECK(zx_builtin_call(h, ZX_BI_range, (zx_value[]){ zx_int(0), zx_int(10), zx_int(4) }, 3, &r).ok);
    CHECK_FMT(r, "[0, 4, 8]");
    zx_decref(r);
    CHECK(zx_builtin_call(h, ZX_BI_range, (zx_value[]){ zx_int(5), zx_int(0) }, 2, &r).ok);
    CHECK_FMT(r, "[]");
    zx_decref(r);
    CHECK(call1(h, ZX_BI_range, zx_int(-3), &r).ok);
    CHECK_FMT(r, "[]");
    zx_decref(r);
    CHECK(zx_builtin_call(h, ZX_BI_range, (zx_value[]){ zx_int(INT64_MAX - 2), zx_int(INT64_MAX), zx_int(INT64_MAX) }, 3, &r).ok);
    CHECK_FMT(r, "[9223372036854775805]");
    zx_decref(r);
    CHECK(zx_builtin_call(h, ZX_BI_range, (zx_value[]){ zx_int(INT64_MIN + 1), zx_int(INT64_MIN), zx_int(INT64_MIN) }, 3, &r).ok);
    CHECK_FMT(r, "[-9223372036854775807]");
    zx_decref(r);
    CHECK_ERR(zx_builtin_call(h, ZX_BI_range, (zx_value[]){ zx_int(0), zx_int(10), zx_int(0) }, 3, &r),
              "range step must not be zero");
    CHECK_ERR(call1(h, ZX_BI_range, zx_float(1.5), &r), "type mismatch: range() of Float");
    CHECK_ERR(zx_builtin_call(h, ZX_BI_range, NULL, 0, &r), "expected 1 to 3 arguments, got 0");
    CHECK_ERR(call1(h, ZX_BI_range, zx_int(INT64_MAX), &r), "memory limit exceeded");

    zx_value all[] = { s42, sm5, s45, sabc, sbig, smin, sempty, s25, sexp, sinf, shex };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) zx_decref(all[i]);
}

static void test_methods(zx_heap *h)
{
    zx_value r;
    zx_list *l = zx_list_new(h, 0);
    zx_value lv = zx_objval(l);
    CHECK(zx_method_call(h, ZX_M_is_empty, lv, NULL, 0, &r).ok && r.tag == ZX_T_BOOL && r.u.b);
    CHECK(zx_method_call(h, ZX_M_push, lv, (zx_value[]){ zx_int(4) }, 1, &r).ok && r.u.o == lv.u.o);
    CHECK(l->hdr.rc == 2);        /* push returns a new reference to the list */
    zx_decref(r);
    CHECK(zx_method_call(h, ZX_M_push, lv, (zx_value[]){ zx_int(5) }, 1, &r).ok);
    zx_decref(r);
    CHECK_FMT(lv, "[4, 5]");
    CHECK(!(atomic_load(&l->hdr.flags) & ZX_OF_CYCLE_CANDIDATE));   /* ints close no cycle */
    CHECK(zx_method_call(h, ZX_M_is_empty, lv, NULL, 0, &r).ok && !r.u.b);
    CHECK(zx_method_call(h, ZX_M_pop, lv, NULL, 0, &r).ok && r.u.i == 5);
    CHECK(zx_method_call(h, ZX_M_pop, lv, NULL, 0, &r).ok && r.u.i == 4);
    CHECK_ERR(zx_method_call(h, ZX_M_pop, lv, NULL, 0, &r), "pop from empty list");
    CHECK_ERR(zx_method_call(h, ZX_M_push, lv, NULL, 0, &r), "expected 1 arguments, got 0");
    CHECK_ERR(zx_method_call(h, ZX_M_pop, lv, (zx_value[]){ zx_int(1) }, 1, &r), "expected 0 arguments, got 1");
    CHECK_ERR(zx_method_call(h, ZX_M_push, zx_int(3), (zx_value[]){ zx_int(1) }, 1, &r),
              "type mismatch: Integer has no method 'push'");
    CHECK_ERR(zx_method_call(h, ZX_M_has, lv, (zx_value[]){ zx_int(1) }, 1, &r),
              "type mismatch: List has no method 'has'");

    /* Pushing a container registers the destination; the pushed list prints in place. */
    zx_list *inner = zx_list_new(h, 0);
    CHECK(zx_method_call(h, ZX_M_push, lv, (zx_value[]){ zx_objval(inner) }, 1, &r).ok);
    zx_decref(r);
    CHECK(atomic_load(&l->hdr.flags) & ZX_OF_CYCLE_CANDIDATE);
    CHECK(zx_method_call(h, ZX_M_pop, lv, NULL, 0, &r).ok && r.u.o == &inner->hdr);
    zx_decref(r);

    zx_map *m = zx_map_new(h, 0);
    zx_value mv = zx_objval(m), a = str(h, "a"), b = str(h, "b");
    zx_map_set(h, m, a, zx_int(1));
    zx_map_set(h, m, b, lv);
    CHECK(atomic_load(&m->hdr.flags) & ZX_OF_CYCLE_CANDIDATE);
    CHECK(zx_method_call(h, ZX_M_has, mv, &a, 1, &r).ok && r.u.b);
    CHECK(zx_method_call(h, ZX_M_has, mv, (zx_value[]){ zx_int(1) }, 1, &r).ok && !r.u.b);
    CHECK(zx_method_call(h, ZX_M_has, mv, (zx_value[]){ lv }, 1, &r).ok && !r.u.b);
    CHECK(zx_method_call(h, ZX_M_keys, mv, NULL, 0, &r).ok);
    CHECK_FMT(r, "[a, b]");
    zx_decref(r);
    CHECK(zx_method_call(h, ZX_M_values, mv, NULL, 0, &r).ok);
    CHECK_FMT(r, "[1, []]");
    zx_decref(r);
    CHECK_ERR(zx_method_call(h, ZX_M_keys, lv, NULL, 0, &r), "type mismatch: List has no method 'keys'");
    CHECK_ERR(zx_method_call(h, ZX_M_pop, a, NULL, 0, &r), "type mismatch: String has no method 'pop'");

    /* Every method runs a builtin that takes the receiver, has one row per name, and takes
     * its facts from that builtin. */
    for (int id = 0; id < ZX_M_COUNT; id++) {
        int bi = zx_method_builtin(id), lo, hi;
        zx_builtin_arity(bi, &lo, &hi);
        CHECK(bi >= 0 && lo >= 1 && zx_method_receivers(id) != 0);
        CHECK(zx_method_lookup(zx_method_name(id)) == id);
        CHECK(zx_method_effects(id) == zx_builtin_effects(bi) && zx_method_result(id) == zx_builtin_result(bi));
    }
    CHECK(zx_method_effects(ZX_M_push) & ZX_FX_WRITES_HEAP);
    CHECK(zx_method_effects(ZX_M_map) & ZX_FX_CALLS);
    CHECK(zx_builtin_effects(ZX_BI_split) == ZX_FX_READS_HEAP);
    CHECK_ERR(zx_method_call(h, ZX_M_get, mv, NULL, 0, &r), "expected 1 to 2 arguments, got 0");
    CHECK(zx_method_call(h, ZX_M_get, mv, (zx_value[]){ zx_int(7), zx_int(8) }, 2, &r).ok && r.u.i == 8);
    CHECK(zx_method_call(h, ZX_M_upper, a, NULL, 0, &r).ok);
    CHECK_FMT(r, "A");
    zx_decref(r);
    CHECK(zx_method_call(h, ZX_M_delete, mv, &a, 1, &r).ok && r.u.b && m->len == 1 && zx_map_get(m, a) == NULL);
    CHECK(zx_map_get(m, b) != NULL);

    zx_decref(lv);
    zx_decref(mv);
    zx_decref(a);
    zx_decref(b);
    zx_obj_decref(inner);
}

/* Lists and maps made and grown large on a thread that the scheduler marked as a worker of node
 * 2: their storage is node-bound (ordinary memory behind the same header on a synthetic
 * topology), keeps its contents and its node as it grows on another thread, and is freed by
 * whoever drops it; a list made off the workers stays in ordinary memory. */
static void *grow_elsewhere(void *arg)
{
    zx_list *l = arg;
    for (int i = 0; i < 40000; i++) zx_list_push(NULL, l, zx_int(i));
    return NULL;
}

static void test_numa_storage(void)
{
    char err[256];
    topo *t = NULL;
    CHECK(topo_create("numa:4 core:1 pu:1", &t, err, sizeof err) == 0);
    if (!t) return;
    zx_heap *h = zx_heap_create(0);
    zx_heap_thread_node(t, 2);
    zx_list *small = zx_list_new(h, 4), *big = zx_list_new(h, 0);
    zx_map *m = zx_map_new(h, 0);
    if (big)
        for (int i = 0; i < 40000; i++) zx_list_push(h, big, zx_int(i));
    zx_heap_thread_node(NULL, -1);
    zx_list *plain = zx_list_new(h, 0);
    CHECK(small && big && m && plain);
    if (small && big && m && plain) {
        CHECK(big->hdr.node == 2 && m->hdr.node == 2 && plain->hdr.node == ZX_NODE_NONE);
        zx_list_push(h, small, zx_int(1));
        CHECK(!(atomic_load(&small->hdr.flags) & ZX_OF_NUMA_STORE));   /* below ZX_NUMA_STORE_MIN */
        CHECK(atomic_load(&big->hdr.flags) & ZX_OF_NUMA_STORE);
        CHECK((uintptr_t)big->items % 16 == 0);
        pthread_t th;
        CHECK(pthread_create(&th, NULL, grow_elsewhere, big) == 0);   /* a thread with no node */
        pthread_join(th, NULL);
        bool intact = big->len == 80000;
        for (uint32_t i = 0; i < big->len && intact; i++) intact = zx_list_get(big, i).u.i == (int64_t)(i % 40000);
        CHECK(intact);
        CHECK(atomic_load(&big->hdr.flags) & ZX_OF_NUMA_STORE);
        zx_heap_thread_node(t, 2);           /* a worker of node 2 again */
        for (int i = 0; i < 20000; i++) zx_map_set(h, m, zx_int(i), zx_int(i * 2));
        zx_heap_thread_node(NULL, -1);
        CHECK(atomic_load(&m->hdr.flags) & ZX_OF_NUMA_STORE);
        CHECK(atomic_load(&m->hdr.flags) & ZX_OF_NUMA_INDEX);
        zx_value *v = zx_map_get(m, zx_int(19999));
        CHECK(v && v->u.i == 39998);
        for (int i = 0; i < 40000; i++) zx_list_push(h, plain, zx_int(i));
        CHECK(!(atomic_load(&plain->hdr.flags) & ZX_OF_NUMA_STORE));
    }
    if (small) zx_obj_decref(small);
    if (big) zx_obj_decref(big);
    if (m) zx_obj_decref(m);
    if (plain) zx_obj_decref(plain);
    CHECK(zx_heap_bytes(h) == 0);
    zx_heap_destroy(h);
    topo_destroy(t);
}

/* Small objects that one thread makes and others free (the heap's small-block pool): every
 * thread sees its own contents intact (no block is handed to two threads at once), blocks
 * freed on one thread are reused by the others, and every byte comes back. */
enum { POOL_THREADS = 4, POOL_OBJS = 20000 };

typedef struct pool_job {
    zx_heap *h;
    int id;
    pthread_barrier_t *bar;
    zx_value (*made)[POOL_OBJS];         /* made[t][k]: thread t's objects */
    int bad;
} pool_job;

/* Object k of thread t: a string "t:k", or a list holding one, or a map to one. */
static zx_value pool_obj(zx_heap *h, int t, int k)
{
    char text[32];
    snprintf(text, sizeof text, "%d:%d", t, k);
    zx_value s = str(h, text);
    if (k % 3 == 0) return s;
    if (k % 3 == 1) {
        zx_list *l = zx_list_new(h, 1);
        zx_list_push(h, l, s);
        zx_decref(s);
        return zx_objval(l);
    }
    zx_map *m = zx_map_new(h, 0);
    zx_map_set(h, m, zx_int(k), s);
    zx_decref(s);
    return zx_objval(m);
}

static bool pool_obj_ok(zx_value v, int t, int k)
{
    char text[32];
    snprintf(text, sizeof text, "%d:%d", t, k);
    zx_value s = v;
    if (k % 3 == 1) s = zx_list_get(ZX_AS_LIST(v), 0);
    if (k % 3 == 2) {
        zx_value *p = zx_map_get(ZX_AS_MAP(v), zx_int(k));
        if (!p) return false;
        s = *p;
    }
    return zx_is_type(s, ZX_O_STRING) && strcmp(ZX_AS_STRING(s)->data, text) == 0;
}

static void *pool_worker(void *arg)
{
    pool_job *j = arg;
    int t = j->id, next = (j->id + 1) % POOL_THREADS;
    zx_heap_mutator_enter(j->h);
    for (int k = 0; k < POOL_OBJS; k++) j->made[t][k] = pool_obj(j->h, t, k);
    pthread_barrier_wait(j->bar);
    for (int k = 0; k < POOL_OBJS; k++) j->bad += !pool_obj_ok(j->made[t][k], t, k);
    pthread_barrier_wait(j->bar);
    /* free the next thread's objects here, then make as many again from the freed blocks */
    for (int k = 0; k < POOL_OBJS; k++) {
        j->bad += !pool_obj_ok(j->made[next][k], next, k);
        zx_decref(j->made[next][k]);
    }
    pthread_barrier_wait(j->bar);
    for (int k = 0; k < POOL_OBJS; k++) j->made[next][k] = pool_obj(j->h, next, k);
    zx_heap_mutator_leave(j->h);
    return NULL;
}

static void test_pool_threads(void)
{
    zx_heap *h = zx_heap_create(0);
    size_t base = zx_heap_bytes(h);
    zx_value (*made)[POOL_OBJS] = calloc(POOL_THREADS, sizeof *made);
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, POOL_THREADS);
    pool_job jobs[POOL_THREADS];
    pthread_t th[POOL_THREADS];
    zx_rc_concurrent_begin();
    for (int i = 0; i < POOL_THREADS; i++) {
        jobs[i] = (pool_job){ h, i, &bar, made, 0 };
        pthread_create(&th[i], NULL, pool_worker, &jobs[i]);
    }
    for (int i = 0; i < POOL_THREADS; i++) pthread_join(th[i], NULL);
    zx_rc_concurrent_end();
    for (int i = 0; i < POOL_THREADS; i++) CHECK(jobs[i].bad == 0);
    size_t live = zx_heap_bytes(h);
    CHECK(live > base);
    /* this thread, a mutator of its own now, checks and frees what the workers made last */
    zx_heap_mutator_enter(h);
    int bad = 0;
    for (int t = 0; t < POOL_THREADS; t++)
        for (int k = 0; k < POOL_OBJS; k++) {
            bad += !pool_obj_ok(made[t][k], t, k);
            zx_decref(made[t][k]);
        }
    CHECK(bad == 0);
    /* made again from the freed blocks: the same objects account the same bytes */
    for (int t = 0; t < POOL_THREADS; t++)
        for (int k = 0; k < POOL_OBJS; k++) made[t][k] = pool_obj(h, t, k);
    CHECK(zx_heap_bytes(h) == live);
    for (int t = 0; t < POOL_THREADS; t++)
        for (int k = 0; k < POOL_OBJS; k++) {
            bad += !pool_obj_ok(made[t][k], t, k);
            zx_decref(made[t][k]);
        }
    CHECK(bad == 0);
    zx_heap_mutator_leave(h);
    CHECK(zx_heap_bytes(h) == base);
    pthread_barrier_destroy(&bar);
    free(made);
    zx_heap_destroy(h);     /* the sanitizers check that nothing leaks and nothing races */
}

/* ---- Element kinds: unboxed while every item has one type, generic once, values kept ---- */

static void test_list_kinds(void)
{
    zx_heap *h = zx_heap_create(0);
    zx_list *l = zx_list_new(h, 0);
    CHECK(l->kind == ZX_LIST_GENERIC);
    for (int i = 0; i < 10; i++) CHECK(zx_list_push(h, l, zx_int(i * 7)));
    CHECK(l->kind == ZX_LIST_INT && l->len == 10 && l->ints[3] == 21);
    size_t unboxed = zx_heap_bytes(h);
    CHECK(zx_list_set(h, l, 3, zx_int(-1)) && l->kind == ZX_LIST_INT && l->ints[3] == -1);
    CHECK_FMT(zx_objval(l), "[0, 7, 14, -1, 28, 35, 42, 49, 56, 63]");
    /* a float into an int list: generic, and every item keeps its type (1 stays 1, not 1.0) */
    CHECK(zx_list_set(h, l, 0, zx_float(1.0)));
    CHECK(l->kind == ZX_LIST_GENERIC && l->items[0].tag == ZX_T_FLOAT && l->items[1].tag == ZX_T_INT);
    CHECK(zx_heap_bytes(h) == unboxed + (size_t)l->cap * 8);         /* 16 bytes an item now */
    CHECK_FMT(zx_objval(l), "[1.0, 7, 14, -1, 28, 35, 42, 49, 56, 63]");
    CHECK(zx_list_push(h, l, zx_int(70)) && l->kind == ZX_LIST_GENERIC);   /* never back */
    CHECK(zx_value_equal(zx_list_get(l, 10), zx_int(70)));

    /* bools: one byte each; get gives the value, equality holds across kinds */
    zx_list *b = zx_list_new(h, 0), *g = zx_list_new(h, 0);
    zx_value s = str(h, "x");
    CHECK(zx_list_push(h, g, s));                  /* g: generic, then emptied */
    zx_value popped = zx_list_get(g, 0);
    g->len--;
    zx_decref(popped);
    zx_decref(s);
    for (int i = 0; i < 5; i++) {
        CHECK(zx_list_push(h, b, zx_bool(i % 2)));
        CHECK(zx_list_push(h, g, zx_bool(i % 2)));   /* an empty list takes the new item's kind */
    }
    CHECK(b->kind == ZX_LIST_BOOL && g->kind == ZX_LIST_BOOL && b->bools[1] == 1);
    CHECK(zx_list_get(b, 2).tag == ZX_T_BOOL && !zx_list_get(b, 2).u.b);
    CHECK(zx_value_equal(zx_objval(b), zx_objval(g)));
    CHECK(zx_list_set(h, g, 4, zx_null()) && g->kind == ZX_LIST_GENERIC);
    CHECK(!zx_value_equal(zx_objval(b), zx_objval(g)));
    CHECK_FMT(zx_objval(g), "[false, true, false, true, null]");

    /* floats; a slice keeps the kind; narrowing a generic list of one type unboxes it */
    zx_list *f = zx_list_new(h, 0);
    for (int i = 0; i < 6; i++) CHECK(zx_list_push(h, f, zx_float(i / 4.0)));
    CHECK(f->kind == ZX_LIST_FLOAT && f->floats[2] == 0.5);
    zx_list *sl = zx_list_slice(h, f, 2, 3, 1);
    CHECK(sl && sl->kind == ZX_LIST_FLOAT && sl->len == 3 && sl->cap >= 4 && sl->floats[0] == 0.5);
    CHECK_FMT(zx_objval(sl), "[0.5, 0.75, 1.0]");
    zx_list *n = zx_list_new(h, 3);
    for (int i = 0; i < 3; i++) n->items[i] = zx_int(i);
    n->len = 3;
    zx_list_narrow(n);
    CHECK(n->kind == ZX_LIST_INT && n->ints[2] == 2);
    zx_list *m = zx_list_new(h, 2);
    m->items[0] = zx_int(1);
    m->items[1] = zx_float(1.0);
    m->len = 2;
    zx_list_narrow(m);                              /* two types: stays generic */
    CHECK(m->kind == ZX_LIST_GENERIC);

    zx_obj_decref(l);
    zx_obj_decref(b);
    zx_obj_decref(g);
    zx_obj_decref(f);
    zx_obj_decref(sl);
    zx_obj_decref(n);
    zx_obj_decref(m);
    CHECK(zx_heap_bytes(h) == 0);
    zx_heap_destroy(h);

    /* making a list generic needs twice the bytes: over the limit it fails, the list intact */
    zx_heap *lim = zx_heap_create(6000);
    zx_list *big = zx_list_new(lim, 0);
    for (int i = 0; i < 400; i++) CHECK(zx_list_push(lim, big, zx_int(i)));
    CHECK(big->kind == ZX_LIST_INT);
    CHECK(!zx_list_set(lim, big, 0, zx_null()));
    CHECK(big->kind == ZX_LIST_INT && big->len == 400 && big->ints[0] == 0 && big->ints[399] == 399);
    CHECK(zx_heap_bytes(lim) <= 6000);
    zx_obj_decref(big);
    CHECK(zx_heap_bytes(lim) == 0);
    zx_heap_destroy(lim);
}

int main(void)
{
    zx_heap *h = zx_heap_create(0);
    test_print_scalars();
    test_print_floats();
    test_print_objects(h);
    /* These register no cycle candidate, so every byte they allocate comes back. */
    size_t base = zx_heap_bytes(h);
    test_strings(h);
    test_map_keys(h);
    test_builtins(h);
    CHECK(zx_heap_bytes(h) == base);
    test_equality(h);
    test_methods(h);
    test_cycles(h);
    test_concurrent_printing(h);
    zx_heap_destroy(h);
    test_deep();
    test_memory_limit();
    test_candidates();
    test_concurrent_candidates();
    test_collector();
    test_collector_threads();
    test_numa_storage();
    test_pool_threads();
    test_list_kinds();
    return CHECK_DONE();
}
