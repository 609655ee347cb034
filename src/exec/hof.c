/* hof.c — the builtins that call Zexus functions: map, filter, reduce and sort with a comparator.
 * They live here, not in runtime/builtins.c, because calling a function needs a task. */
#include "exec/hof.h"

#include <stdlib.h>

#include "exec/interp_ops.h"
#include "runtime/arith.h"
#include "runtime/builtins.h"

static bool callable(zx_value v) { return zx_is_type(v, ZX_O_FUNC) || zx_is_type(v, ZX_O_BUILTIN); }

static zx_status arg_type(zx_task *t, zx_frame *f, int id, const char *what, int pos, zx_value v)
{
    return zx_task_raise_err(t, f, ZX_ERR_ARG_TYPE, zx_builtin_name(id), what, pos, zx_type_name(v));
}

/* The list and function arguments of map, filter and reduce. */
static zx_status list_and_fn(zx_task *t, zx_frame *f, int id, const zx_value *argv)
{
    if (!zx_is_type(argv[0], ZX_O_LIST)) return arg_type(t, f, id, "a List", 1, argv[0]);
    if (!callable(argv[1])) return arg_type(t, f, id, "a function", 2, argv[1]);
    return ZX_OK;
}

/* map(xs, fn) / filter(xs, fn): over the live list (an element the function appends is seen). */
static zx_status map_filter(zx_task *t, zx_frame *f, int id, const zx_value *argv, zx_value *out)
{
    zx_status st = list_and_fn(t, f, id, argv);
    if (st != ZX_OK) return st;
    zx_list *l = ZX_AS_LIST(argv[0]);
    zx_list *res = zx_list_new(t->run->heap, l->len);
    if (!res) return zx_task_raise_err(t, f, ZX_ERR_MEMORY);
    for (uint32_t i = 0; i < l->len; i++) {
        if (zx_task_should_stop(t)) {
            st = zx_interp_stop_status(t, f);
            break;
        }
        zx_value elem = zx_list_get(l, i), r;
        zx_incref(elem);                      /* the function may remove it from the list */
        st = zx_interp_call(t, f, argv[1], &elem, 1, &r);
        if (st == ZX_OK) {
            bool ok = true;
            if (id == ZX_BI_filter) {
                if (zx_truthy(r)) ok = zx_list_push_fresh(t->run->heap, res, elem);
            } else {
                ok = zx_list_push_fresh(t->run->heap, res, r);
            }
            zx_decref(r);
            if (!ok) st = zx_task_raise_err(t, f, ZX_ERR_MEMORY);
        }
        zx_decref(elem);
        if (st != ZX_OK) break;
    }
    if (st != ZX_OK) {
        zx_obj_decref(res);
        return st;
    }
    *out = zx_objval(res);
    return ZX_OK;
}

/* reduce(xs, fn[, init]): fn(acc, x) left to right; without init acc starts as the first
 * element (null for an empty list). */
static zx_status reduce(zx_task *t, zx_frame *f, const zx_value *argv, uint32_t argc, zx_value *out)
{
    zx_status st = list_and_fn(t, f, ZX_BI_reduce, argv);
    if (st != ZX_OK) return st;
    zx_list *l = ZX_AS_LIST(argv[0]);
    uint32_t i = 0;
    zx_value acc = argc == 3 ? argv[2] : l->len ? zx_list_get(l, i++) : zx_null();
    zx_incref(acc);
    for (; i < l->len; i++) {
        if (zx_task_should_stop(t)) {
            st = zx_interp_stop_status(t, f);
            break;
        }
        zx_value args[2] = { acc, zx_list_get(l, i) }, r;
        zx_incref(args[1]);
        st = zx_interp_call(t, f, argv[1], args, 2, &r);
        zx_decref(args[1]);
        if (st != ZX_OK) break;
        zx_decref(acc);
        acc = r;
    }
    if (st != ZX_OK) {
        zx_decref(acc);
        return st;
    }
    *out = acc;
    return ZX_OK;
}

/* ---------- sort ---------- */

typedef struct sorter {
    zx_task *t;
    zx_frame *f;
    const zx_value *vals;        /* the elements (held by the new list) */
    const zx_value *keys;        /* what is compared: the elements, or their field `key` */
    zx_value cmp;                /* a comparator, or undef */
} sorter;

/* *less = element a sorts before element b.  A comparator returns a number (negative: a
 * first) or a boolean (true: a first). */
static zx_status sort_less(sorter *s, uint32_t a, uint32_t b, bool *less)
{
    if (s->cmp.tag == ZX_T_UNDEF) {
        zx_value r;
        zx_error err;
        if (!zx_binop(s->t->run->heap, ZX_ARITH_LT, s->keys[a], s->keys[b], &r, &err))
            return zx_task_raise_error(s->t, s->f, &err);
        *less = r.u.b;
        return ZX_OK;
    }
    if (zx_task_should_stop(s->t)) return zx_interp_stop_status(s->t, s->f);
    zx_value args[2] = { s->vals[a], s->vals[b] }, r;
    zx_status st = zx_interp_call(s->t, s->f, s->cmp, args, 2, &r);
    if (st != ZX_OK) return st;
    if (r.tag == ZX_T_INT) *less = r.u.i < 0;
    else if (r.tag == ZX_T_FLOAT) *less = r.u.f < 0;
    else if (r.tag == ZX_T_BOOL) *less = r.u.b;
    else {
        st = zx_task_raise_err(s->t, s->f, ZX_ERR_SORT_RESULT, zx_type_name(r));
        zx_decref(r);
        return st;
    }
    return ZX_OK;
}

/* A stable bottom-up merge sort of the positions idx[0..n) (tmp: scratch of n). */
static zx_status merge_sort(sorter *s, bool desc, uint32_t *idx, uint32_t *tmp, uint32_t n)
{
    for (uint32_t w = 1; w < n; w *= 2) {
        for (uint32_t lo = 0; lo < n; lo += 2 * w) {
            uint32_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            uint32_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                bool take_right;
                /* ascending: the right one first only if it is less; descending: only if
                 * the left one is less — equal elements keep their order either way */
                zx_status st = desc ? sort_less(s, idx[i], idx[j], &take_right)
                                    : sort_less(s, idx[j], idx[i], &take_right);
                if (st != ZX_OK) return st;
                tmp[k++] = take_right ? idx[j++] : idx[i++];
            }
            while (i < mid) tmp[k++] = idx[i++];
            while (j < hi) tmp[k++] = idx[j++];
        }
        for (uint32_t k = 0; k < n; k++) idx[k] = tmp[k];
    }
    return ZX_OK;
}

/* sort(xs[, by][, descending]): a new sorted list.  `by` is a field name (the elements are
 * maps, compared by that field), a comparator function, or the boolean `descending`. */
static zx_status sort(zx_task *t, zx_frame *f, const zx_value *argv, uint32_t argc, zx_value *out)
{
    if (!zx_is_type(argv[0], ZX_O_LIST)) return arg_type(t, f, ZX_BI_sort, "a List", 1, argv[0]);
    sorter s = { t, f, NULL, NULL, zx_undef() };
    const zx_string *field = NULL;
    bool desc = false;
    if (argc >= 2) {
        zx_value by = argv[1];
        if (zx_is_type(by, ZX_O_STRING)) field = ZX_AS_STRING(by);
        else if (callable(by)) s.cmp = by;
        else if (by.tag == ZX_T_BOOL && argc == 2) desc = by.u.b;
        else return arg_type(t, f, ZX_BI_sort, "a field name or a function", 2, by);
    }
    if (argc == 3) {
        if (argv[2].tag != ZX_T_BOOL) return arg_type(t, f, ZX_BI_sort, "a Boolean", 3, argv[2]);
        desc = argv[2].u.b;
    }
    zx_list *l = ZX_AS_LIST(argv[0]);
    uint32_t n = l->len;
    zx_list *res = zx_list_new(t->run->heap, n);
    if (!res) return zx_task_raise_err(t, f, ZX_ERR_MEMORY);
    for (uint32_t i = 0; i < n; i++) {        /* sorted as values; narrowed again at the end */
        res->items[i] = zx_list_get(l, i);
        zx_incref(res->items[i]);
    }
    res->len = n;
    uint32_t *idx = malloc(2 * (size_t)n * sizeof *idx + 1);
    zx_value *keys = field ? malloc((size_t)n * sizeof *keys + 1) : NULL;
    zx_status st = ZX_OK;
    if (!idx || (field && !keys)) {
        st = zx_task_raise_err(t, f, ZX_ERR_MEMORY);
        goto done;
    }
    for (uint32_t i = 0; i < n; i++) idx[i] = i;
    s.vals = res->items;
    s.keys = res->items;
    if (field) {
        /* nothing runs code while these borrowed fields are compared */
        for (uint32_t i = 0; i < n; i++) {
            zx_value e = res->items[i];
            if (!zx_is_type(e, ZX_O_MAP)) {
                st = zx_task_raise_err(t, f, ZX_ERR_BUILTIN_TYPE, "sort", zx_type_name(e));
                goto done;
            }
            zx_value *v = zx_map_get(ZX_AS_MAP(e), zx_objval((void *)field));
            keys[i] = v ? *v : zx_null();
        }
        s.keys = keys;
    }
    st = merge_sort(&s, desc, idx, idx + n, n);
    if (st == ZX_OK) {
        zx_value *sorted = malloc((size_t)n * sizeof *sorted + 1);
        if (!sorted) {
            st = zx_task_raise_err(t, f, ZX_ERR_MEMORY);
            goto done;
        }
        for (uint32_t i = 0; i < n; i++) sorted[i] = res->items[idx[i]];
        for (uint32_t i = 0; i < n; i++) res->items[i] = sorted[i];
        free(sorted);
    }
done:
    free(idx);
    free(keys);
    if (st != ZX_OK) {
        zx_obj_decref(res);
        return st;
    }
    zx_list_narrow(res);
    *out = zx_objval(res);
    return ZX_OK;
}

zx_status zx_hof_call(zx_task *t, zx_frame *f, int id, const zx_value *argv, uint32_t argc, zx_value *out)
{
    switch (id) {
    case ZX_BI_map: case ZX_BI_filter: return map_filter(t, f, id, argv, out);
    case ZX_BI_reduce: return reduce(t, f, argv, argc, out);
    case ZX_BI_sort: return sort(t, f, argv, argc, out);
    default: break;
    }
    return zx_task_raise_err(t, f, ZX_ERR_BUILTIN_IN_LOOP, zx_builtin_name(id));
}
