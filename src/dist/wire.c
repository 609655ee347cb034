/* wire.c — Zexus values as bytes for other ranks, keeping sharing and cycles (wire.h). */
#include "dist/wire.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/builtins.h"

enum {
    W_UNDEF = 0, W_NULL, W_FALSE, W_TRUE, W_INT, W_FLOAT,
    W_STR, W_LIST, W_MAP, W_FUNC, W_BUILTIN, W_CELL,
    W_REF,                        /* an object met before: its number */
    W_UNSENT,                     /* an input element that was not sent */
};

/* ---------- pointer maps (open addressing, pointer -> number) ---------- */

static uint32_t ptr_hash(uintptr_t p) { return (uint32_t)((p >> 4) * 0x9E3779B97F4A7C15ull >> 32); }

static bool pmap_grow(uintptr_t **keys, uint32_t **vals, uint32_t *cap)
{
    uint32_t ncap = *cap ? *cap * 2 : 64;
    uintptr_t *nk = calloc(ncap, sizeof *nk);
    uint32_t *nv = calloc(ncap, sizeof *nv);
    if (!nk || !nv) {
        free(nk);
        free(nv);
        return false;
    }
    for (uint32_t i = 0; i < *cap; i++) {
        if (!(*keys)[i]) continue;
        uint32_t j = ptr_hash((*keys)[i]) & (ncap - 1);
        while (nk[j]) j = (j + 1) & (ncap - 1);
        nk[j] = (*keys)[i];
        nv[j] = (*vals)[i];
    }
    free(*keys);
    free(*vals);
    *keys = nk;
    *vals = nv;
    *cap = ncap;
    return true;
}

/* The number of p, or UINT32_MAX. */
static uint32_t pmap_find(uintptr_t *keys, uint32_t *vals, uint32_t cap, uintptr_t p)
{
    if (!cap) return UINT32_MAX;
    for (uint32_t j = ptr_hash(p) & (cap - 1); keys[j]; j = (j + 1) & (cap - 1))
        if (keys[j] == p) return vals[j];
    return UINT32_MAX;
}

/* Insert p (absent) with number v; n is the count before.  False when out of memory. */
static bool pmap_add(uintptr_t **keys, uint32_t **vals, uint32_t *cap, uint32_t n, uintptr_t p, uint32_t v)
{
    if ((n + 1) * 2 > *cap && !pmap_grow(keys, vals, cap)) return false;
    uint32_t j = ptr_hash(p) & (*cap - 1);
    while ((*keys)[j]) j = (j + 1) & (*cap - 1);
    (*keys)[j] = p;
    (*vals)[j] = v;
    return true;
}

/* ---------- code objects ---------- */

static bool codes_add(wire_codes *wc, zx_code *c, uint32_t *capn)
{
    if (wc->n == *capn) {
        uint32_t nc = *capn ? *capn * 2 : 16;
        zx_code **a = realloc(wc->code, nc * sizeof *a);
        if (!a) return false;
        wc->code = a;
        *capn = nc;
    }
    if (!pmap_add(&wc->keys, &wc->vals, &wc->cap, wc->n, (uintptr_t)c, wc->n)) return false;
    wc->code[wc->n++] = c;
    for (uint32_t i = 0; i < c->nchildren; i++)
        if (!codes_add(wc, c->children[i], capn)) return false;
    return true;
}

bool wire_codes_init(wire_codes *wc, zx_program *p)
{
    memset(wc, 0, sizeof *wc);
    uint32_t capn = 0;
    if (codes_add(wc, p->main, &capn)) return true;
    wire_codes_free(wc);
    return false;
}

void wire_codes_free(wire_codes *wc)
{
    free(wc->code);
    free(wc->keys);
    free(wc->vals);
    memset(wc, 0, sizeof *wc);
}

/* ---------- bytes ---------- */

void wire_put(wire_buf *b, const void *p, size_t n)
{
    if (b->oom) return;
    if (b->len + n > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->len + n) nc *= 2;
        uint8_t *d = realloc(b->data, nc);
        if (!d) {
            b->oom = true;
            return;
        }
        b->data = d;
        b->cap = nc;
    }
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
}
void wire_u8(wire_buf *b, uint8_t v) { wire_put(b, &v, 1); }
void wire_u32(wire_buf *b, uint32_t v) { wire_put(b, &v, 4); }
void wire_u64(wire_buf *b, uint64_t v) { wire_put(b, &v, 8); }

bool wire_get(wire_reader *r, void *out, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        memset(out, 0, n);
        return false;
    }
    memcpy(out, r->p, n);
    r->p += n;
    return true;
}
uint8_t wire_get_u8(wire_reader *r) { uint8_t v; wire_get(r, &v, 1); return v; }
uint32_t wire_get_u32(wire_reader *r) { uint32_t v; wire_get(r, &v, 4); return v; }
uint64_t wire_get_u64(wire_reader *r) { uint64_t v; wire_get(r, &v, 8); return v; }

/* ---------- encoding ---------- */

void wire_enc_init(wire_enc *e, wire_buf *b, const wire_codes *codes)
{
    memset(e, 0, sizeof *e);
    e->b = b;
    e->codes = codes;
}

void wire_enc_free(wire_enc *e)
{
    free(e->keys);
    free(e->vals);
    e->keys = NULL;
    e->vals = NULL;
    e->cap = e->nobj = 0;
}

void wire_enc_rollback(wire_enc *e, uint32_t nobj)
{
    for (uint32_t i = 0; i < e->cap; i++)
        if (e->keys[i] && e->vals[i] >= nobj) e->keys[i] = 0;
    /* re-place the survivors: open addressing may not keep holes */
    uintptr_t *keys = e->keys;
    uint32_t *vals = e->vals, cap = e->cap;
    e->keys = calloc(cap, sizeof *e->keys);
    e->vals = calloc(cap, sizeof *e->vals);
    if (!e->keys || !e->vals) {           /* out of memory: keep the table, holes and all */
        free(e->keys);
        free(e->vals);
        e->keys = keys;
        e->vals = vals;
        e->why = "out of memory";
        return;
    }
    for (uint32_t i = 0; i < cap; i++) {
        if (!keys[i]) continue;
        uint32_t j = ptr_hash(keys[i]) & (cap - 1);
        while (e->keys[j]) j = (j + 1) & (cap - 1);
        e->keys[j] = keys[i];
        e->vals[j] = vals[i];
    }
    free(keys);
    free(vals);
    e->nobj = nobj;
}

void wire_put_unsent(wire_enc *e) { wire_u8(e->b, W_UNSENT); }

static bool put(wire_enc *e, zx_value v, int depth)
{
    wire_buf *b = e->b;
    switch ((zx_tag)v.tag) {
    case ZX_T_UNDEF: wire_u8(b, W_UNDEF); return true;
    case ZX_T_NULL: wire_u8(b, W_NULL); return true;
    case ZX_T_BOOL: wire_u8(b, v.u.b ? W_TRUE : W_FALSE); return true;
    case ZX_T_INT: wire_u8(b, W_INT); wire_u64(b, (uint64_t)v.u.i); return true;
    case ZX_T_FLOAT: {
        uint64_t bits;
        memcpy(&bits, &v.u.f, 8);
        wire_u8(b, W_FLOAT);
        wire_u64(b, bits);
        return true;
    }
    case ZX_T_OBJ: break;
    }
    if (v.tag != ZX_T_OBJ) {
        e->why = "a value of an unknown kind";
        return false;
    }
    zx_obj *o = v.u.o;
    uint32_t num = pmap_find(e->keys, e->vals, e->cap, (uintptr_t)o);
    if (num != UINT32_MAX) {
        wire_u8(b, W_REF);
        wire_u32(b, num);
        return true;
    }
    if (depth > WIRE_MAX_DEPTH) {
        e->why = "a value nested too deep to send";
        return false;
    }
    /* the object's number is taken before its parts are written, so a part that refers
     * back to it (a cycle) is a W_REF */
    switch (o->type) {
    case ZX_O_STRING: case ZX_O_LIST: case ZX_O_MAP: case ZX_O_FUNC: case ZX_O_CELL: break;
    case ZX_O_BUILTIN:
        if (((zx_builtin_obj *)o)->id >= ZX_BI_COUNT) {
            e->why = "a host function (host functions are not sent to other ranks)";
            return false;
        }
        break;
    default:
        e->why = "a kind of object that cannot be sent to other ranks";
        return false;
    }
    if (!pmap_add(&e->keys, &e->vals, &e->cap, e->nobj, (uintptr_t)o, e->nobj)) {
        e->why = "out of memory";
        return false;
    }
    e->nobj++;
    switch (o->type) {
    case ZX_O_STRING: {
        zx_string *s = (zx_string *)o;
        wire_u8(b, W_STR);
        wire_u32(b, s->nbytes);
        wire_put(b, s->data, s->nbytes);
        return true;
    }
    case ZX_O_LIST: {
        zx_list *l = (zx_list *)o;
        uint32_t n = l->len;
        wire_u8(b, W_LIST);
        wire_u32(b, n);
        for (uint32_t i = 0; i < n; i++)
            if (!put(e, zx_list_get(l, i), depth + 1)) return false;
        return true;
    }
    case ZX_O_MAP: {
        zx_map *m = (zx_map *)o;
        uint32_t live = 0;
        for (uint32_t i = 0; i < m->len; i++) live += m->entries[i].key.tag != ZX_T_UNDEF;
        wire_u8(b, W_MAP);
        wire_u32(b, live);
        for (uint32_t i = 0; i < m->len; i++) {
            if (m->entries[i].key.tag == ZX_T_UNDEF) continue;   /* a deleted entry */
            if (!put(e, m->entries[i].key, depth + 1) || !put(e, m->entries[i].value, depth + 1)) return false;
        }
        return true;
    }
    case ZX_O_FUNC: {
        zx_func *f = (zx_func *)o;
        uint32_t id = e->codes ? pmap_find(e->codes->keys, e->codes->vals, e->codes->cap, (uintptr_t)f->code)
                               : UINT32_MAX;
        if (id == UINT32_MAX) {
            e->why = "a function of another program";
            return false;
        }
        wire_u8(b, W_FUNC);
        wire_u32(b, id);
        wire_u8(b, f->is_lambda);
        wire_u32(b, f->nfree);
        for (uint32_t i = 0; i < f->nfree; i++)
            if (!put(e, zx_objval(f->free[i]), depth + 1)) return false;
        return true;
    }
    case ZX_O_BUILTIN:
        wire_u8(b, W_BUILTIN);
        wire_u32(b, (uint32_t)((zx_builtin_obj *)o)->id);
        return true;
    case ZX_O_CELL:
        wire_u8(b, W_CELL);
        return put(e, ((zx_cell *)o)->v, depth + 1);
    default:
        return false;
    }
}

bool wire_put_value(wire_enc *e, zx_value v)
{
    bool ok = put(e, v, 0);
    if (ok && e->b->oom) {
        e->why = "out of memory";
        ok = false;
    }
    return ok;
}

/* ---------- decoding ---------- */

void wire_dec_init(wire_dec *d, wire_reader *r, zx_heap *heap, zx_program *prog, const wire_codes *codes)
{
    memset(d, 0, sizeof *d);
    d->r = r;
    d->heap = heap;
    d->prog = prog;
    d->codes = codes;
}

void wire_dec_free(wire_dec *d)
{
    for (uint32_t i = 0; i < d->nobj; i++) zx_decref(d->objs[i]);
    free(d->objs);
    d->objs = NULL;
    d->nobj = d->cap = 0;
}

/* Number a new object (the table keeps a reference). */
static bool add_obj(wire_dec *d, zx_value v)
{
    if (d->nobj == d->cap) {
        uint32_t nc = d->cap ? d->cap * 2 : 64;
        zx_value *a = realloc(d->objs, nc * sizeof *a);
        if (!a) return false;
        d->objs = a;
        d->cap = nc;
    }
    zx_incref(v);
    d->objs[d->nobj++] = v;
    return true;
}

static bool is_container(zx_value v)
{
    return v.tag == ZX_T_OBJ && (v.u.o->type == ZX_O_LIST || v.u.o->type == ZX_O_MAP ||
                                 v.u.o->type == ZX_O_CELL || v.u.o->type == ZX_O_FUNC);
}

/* On failure *out may still hold the object being made (the caller releases it). */
static bool get(wire_dec *d, zx_value *out, bool *unsent, int depth)
{
    wire_reader *r = d->r;
    *out = zx_undef();
    if (depth > WIRE_MAX_DEPTH + 1) return !(r->bad = true);
    uint8_t tag = wire_get_u8(r);
    if (r->bad) return false;
    switch (tag) {
    case W_UNDEF: return true;
    case W_NULL: *out = zx_null(); return true;
    case W_FALSE: *out = zx_bool(false); return true;
    case W_TRUE: *out = zx_bool(true); return true;
    case W_INT: *out = zx_int((int64_t)wire_get_u64(r)); return !r->bad;
    case W_FLOAT: {
        uint64_t bits = wire_get_u64(r);
        double f;
        memcpy(&f, &bits, 8);
        *out = zx_float(f);
        return !r->bad;
    }
    case W_UNSENT:
        if (!unsent) return !(r->bad = true);
        *unsent = true;
        return true;
    case W_REF: {
        uint32_t k = wire_get_u32(r);
        if (r->bad || k >= d->nobj) return !(r->bad = true);
        *out = d->objs[k];
        zx_incref(*out);
        return true;
    }
    case W_STR: {
        uint32_t n = wire_get_u32(r);
        if (r->bad || (size_t)(r->end - r->p) < n) return !(r->bad = true);
        zx_string *s = zx_string_new(d->heap, (const char *)r->p, n);
        if (!s) return !(d->oom = true);
        r->p += n;
        *out = zx_objval(s);
        if (!add_obj(d, *out)) return !(d->oom = true);
        return true;
    }
    case W_LIST: {
        uint32_t n = wire_get_u32(r);
        if (r->bad || (size_t)(r->end - r->p) < n) return !(r->bad = true);
        zx_list *l = zx_list_new(d->heap, n);
        if (!l) return !(d->oom = true);
        *out = zx_objval(l);
        if (!add_obj(d, *out)) return !(d->oom = true);
        for (uint32_t i = 0; i < n; i++) {
            zx_value item;
            if (!get(d, &item, NULL, depth + 1)) {
                zx_decref(item);
                return false;
            }
            bool ok = zx_list_push(d->heap, l, item);
            zx_decref(item);
            if (!ok) return !(d->oom = true);
        }
        return true;
    }
    case W_MAP: {
        uint32_t n = wire_get_u32(r);
        if (r->bad || (size_t)(r->end - r->p) < n) return !(r->bad = true);
        zx_map *m = zx_map_new(d->heap, n);
        if (!m) return !(d->oom = true);
        *out = zx_objval(m);
        if (!add_obj(d, *out)) return !(d->oom = true);
        for (uint32_t i = 0; i < n; i++) {
            zx_value k, v;
            if (!get(d, &k, NULL, depth + 1)) {
                zx_decref(k);
                return false;
            }
            if (!get(d, &v, NULL, depth + 1)) {
                zx_decref(k);
                zx_decref(v);
                return false;
            }
            bool ok = zx_value_hashable(k) && zx_map_set(d->heap, m, k, v);
            bool hashable = zx_value_hashable(k);
            zx_decref(k);
            zx_decref(v);
            if (!hashable) return !(r->bad = true);
            if (!ok) return !(d->oom = true);
        }
        return true;
    }
    case W_FUNC: {
        uint32_t id = wire_get_u32(r);
        uint8_t lambda = wire_get_u8(r);
        uint32_t nfree = wire_get_u32(r);
        if (r->bad || !d->codes || id >= d->codes->n || d->codes->code[id]->nfree != nfree)
            return !(r->bad = true);
        zx_code *c = d->codes->code[id];
        zx_func *f = zx_func_new(d->heap, c, d->prog, c->name, lambda != 0, nfree);
        if (!f) return !(d->oom = true);
        *out = zx_objval(f);
        if (!add_obj(d, *out)) return !(d->oom = true);
        for (uint32_t i = 0; i < nfree; i++) {
            zx_value cell;
            if (!get(d, &cell, NULL, depth + 1)) {
                zx_decref(cell);
                return false;
            }
            if (!zx_is_type(cell, ZX_O_CELL)) {
                zx_decref(cell);
                return !(r->bad = true);
            }
            f->free[i] = ZX_AS_CELL(cell);   /* the reference passes to the closure */
            zx_heap_note_cycle_candidate(d->heap, &f->hdr);
        }
        return true;
    }
    case W_BUILTIN: {
        uint32_t id = wire_get_u32(r);
        if (r->bad || id >= ZX_BI_COUNT) return !(r->bad = true);
        zx_builtin_obj *b = zx_heap_alloc_obj(d->heap, ZX_O_BUILTIN, sizeof *b);
        if (!b) return !(d->oom = true);
        b->id = (int)id;
        b->name = NULL;
        *out = zx_objval(b);
        if (!add_obj(d, *out)) return !(d->oom = true);
        return true;
    }
    case W_CELL: {
        zx_cell *c = zx_cell_new(d->heap, zx_undef());
        if (!c) return !(d->oom = true);
        *out = zx_objval(c);
        if (!add_obj(d, *out)) return !(d->oom = true);
        zx_value v;
        if (!get(d, &v, NULL, depth + 1)) {
            zx_decref(v);
            return false;
        }
        c->v = v;                            /* the reference passes to the cell */
        if (is_container(v)) zx_heap_note_cycle_candidate(d->heap, &c->hdr);
        return true;
    }
    default:
        return !(r->bad = true);
    }
}

bool wire_get_value(wire_dec *d, zx_value *out, bool *unsent)
{
    if (unsent) *unsent = false;
    zx_value v;
    if (!get(d, &v, unsent, 0)) {
        zx_decref(v);
        *out = zx_undef();
        return false;
    }
    *out = v;
    return true;
}
