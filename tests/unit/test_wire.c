/* test_wire.c — values on the wire (src/dist/wire.c): round trips keep sharing, cycles and bits; what cannot be sent says why. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dist/wire.h"

static zx_value str(zx_heap *h, const char *s) { return zx_objval(zx_string_new(h, s, strlen(s))); }

/* Encode v alone and decode it again (a new reference, or undefined on failure). */
static zx_value round_trip(zx_heap *h, zx_value v, const char **why)
{
    wire_buf b = { 0 };
    wire_enc e;
    wire_enc_init(&e, &b, NULL);
    bool ok = wire_put_value(&e, v);
    *why = e.why;
    wire_enc_free(&e);
    zx_value out = zx_undef();
    if (ok) {
        wire_reader r = { b.data, b.data + b.len, false };
        wire_dec d;
        wire_dec_init(&d, &r, h, NULL, NULL);
        if (!wire_get_value(&d, &out, NULL)) out = zx_undef();
        CHECK(r.p == r.end);
        wire_dec_free(&d);
    }
    free(b.data);
    return out;
}

int main(void)
{
    zx_heap *h = zx_heap_create(0);
    const char *why;

    /* sharing and a cycle: l = [s, s, l, {"k": s, 2: -0.0}] */
    zx_list *l = zx_list_new(h, 4);
    zx_value s = str(h, "shared");
    zx_list_push(h, l, s);
    zx_list_push(h, l, s);
    zx_list_push(h, l, zx_objval(l));
    zx_map *m = zx_map_new(h, 2);
    zx_value k = str(h, "k");
    zx_map_set(h, m, k, s);
    zx_map_set(h, m, zx_int(2), zx_float(-0.0));
    zx_list_push(h, l, zx_objval(m));
    zx_value got = round_trip(h, zx_objval(l), &why);
    CHECK(zx_is_type(got, ZX_O_LIST));
    if (zx_is_type(got, ZX_O_LIST)) {
        zx_list *g = ZX_AS_LIST(got);
        CHECK(g != l && g->len == 4);
        CHECK(g->items[0].u.o == g->items[1].u.o);            /* one string, twice */
        CHECK(zx_string_eq(ZX_AS_STRING(g->items[0]), ZX_AS_STRING(s)));
        CHECK(g->items[2].u.o == &g->hdr);                     /* holds itself */
        zx_map *gm = ZX_AS_MAP(g->items[3]);
        CHECK(gm->len == 2);
        zx_value *kv = zx_map_get(gm, k);
        CHECK(kv && kv->u.o == g->items[0].u.o);               /* the same string again */
        zx_value *zv = zx_map_get(gm, zx_int(2));
        CHECK(zv && zv->tag == ZX_T_FLOAT && zv->u.f == 0.0 && signbit(zv->u.f));
        zx_value self = g->items[2];                           /* break the cycle to free it */
        g->items[2] = zx_null();
        zx_decref(self);
        zx_obj_decref(g);
    }

    /* immediates keep their bits */
    zx_value nan = round_trip(h, zx_float(NAN), &why);
    CHECK(nan.tag == ZX_T_FLOAT && isnan(nan.u.f));
    zx_value big = round_trip(h, zx_int(INT64_MIN), &why);
    CHECK(big.tag == ZX_T_INT && big.u.i == INT64_MIN);
    CHECK(round_trip(h, zx_bool(true), &why).tag == ZX_T_BOOL);
    CHECK(round_trip(h, zx_null(), &why).tag == ZX_T_NULL);

    /* too deep to send: a reason, and a rolled-back encoder goes on consistently */
    zx_value deep = zx_objval(zx_list_new(h, 1));
    for (int i = 0; i < WIRE_MAX_DEPTH + 10; i++) {
        zx_list *outer = zx_list_new(h, 1);
        zx_list_push(h, outer, deep);
        zx_decref(deep);
        deep = zx_objval(outer);
    }
    zx_value none = round_trip(h, deep, &why);
    CHECK(none.tag == ZX_T_UNDEF && why && strstr(why, "too deep"));
    {
        /* [s], then deep fails (its objects are forgotten), then [s] again as a reference */
        wire_buf b = { 0 };
        wire_enc e;
        wire_enc_init(&e, &b, NULL);
        zx_list *one = zx_list_new(h, 1);
        zx_list_push(h, one, s);
        CHECK(wire_put_value(&e, zx_objval(one)));
        size_t mark = b.len;
        uint32_t nobj = e.nobj;
        CHECK(!wire_put_value(&e, deep));
        b.len = mark;
        e.why = NULL;
        wire_enc_rollback(&e, nobj);
        wire_put_unsent(&e);
        CHECK(wire_put_value(&e, zx_objval(one)));
        wire_enc_free(&e);
        wire_reader r = { b.data, b.data + b.len, false };
        wire_dec d;
        wire_dec_init(&d, &r, h, NULL, NULL);
        zx_value a, u, c;
        bool unsent = false;
        CHECK(wire_get_value(&d, &a, NULL));
        CHECK(wire_get_value(&d, &u, &unsent) && unsent);
        CHECK(wire_get_value(&d, &c, NULL) && c.tag == ZX_T_OBJ && c.u.o == a.u.o);
        CHECK(!r.bad && r.p == r.end);
        zx_decref(a);
        zx_decref(c);
        wire_dec_free(&d);
        free(b.data);
        zx_obj_decref(one);
    }

    /* a damaged message is refused, never read past its end */
    {
        wire_buf b = { 0 };
        wire_enc e;
        wire_enc_init(&e, &b, NULL);
        CHECK(wire_put_value(&e, zx_objval(l)));
        wire_enc_free(&e);
        for (size_t cut = 0; cut < b.len; cut++) {
            wire_reader r = { b.data, b.data + cut, false };
            wire_dec d;
            wire_dec_init(&d, &r, h, NULL, NULL);
            zx_value v;
            CHECK(!wire_get_value(&d, &v, NULL));
            wire_dec_free(&d);
        }
        free(b.data);
    }

    zx_decref(deep);
    zx_value self = l->items[2];
    l->items[2] = zx_null();
    zx_decref(self);
    zx_obj_decref(l);
    zx_obj_decref(m);
    zx_decref(s);
    zx_decref(k);
    zx_heap_destroy(h);
    return CHECK_DONE();
}
