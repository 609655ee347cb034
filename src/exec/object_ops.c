/* object_ops.c — classes and instances in the interpreter: making classes, constructing, data methods, require. */
#include "exec/object_ops.h"

#include <string.h>

#include "exec/interp.h"
#include "runtime/errors.h"

static const char *const kind_word[ZX_CLASS_KINDS] = { "entity", "data", "contract", "interface" };

static zx_string *list_str(zx_value list, uint32_t i)
{
    return ZX_AS_STRING(zx_list_get(ZX_AS_LIST(list), i));
}

zx_status zx_objop_make_class(zx_task *t, zx_frame *f, uint32_t kind, const zx_value part[ZX_CLS_NPARTS],
                              zx_value *out)
{
    zx_heap *h = t->run->heap;
    /* the compiler lays these out; a hand-written .zxa may not */
    bool ok = kind < ZX_CLASS_KINDS && zx_is_type(part[ZX_CLS_NAME], ZX_O_STRING) &&
              zx_is_type(part[ZX_CLS_FIELDS], ZX_O_LIST) && zx_is_type(part[ZX_CLS_TYPES], ZX_O_LIST) &&
              zx_is_type(part[ZX_CLS_DEFAULTS], ZX_O_LIST) && zx_is_type(part[ZX_CLS_METHODS], ZX_O_MAP) &&
              (part[ZX_CLS_IFACE].tag == ZX_T_NULL || zx_is_obj(part[ZX_CLS_IFACE]));
    if (ok) {
        const zx_list *fl = ZX_AS_LIST(part[ZX_CLS_FIELDS]);
        for (uint32_t i = 0; i < fl->len; i++)
            if (!zx_is_type(zx_list_get(fl, i), ZX_O_STRING)) ok = false;
        if (ZX_AS_LIST(part[ZX_CLS_TYPES])->len != fl->len || ZX_AS_LIST(part[ZX_CLS_DEFAULTS])->len != fl->len)
            ok = false;
    }
    if (!ok) return zx_task_raise_err(t, f, ZX_ERR_NOT_CALLABLE, "a malformed class");
    const char *name = ZX_AS_STRING(part[ZX_CLS_NAME])->data;
    zx_value iv = part[ZX_CLS_IFACE];
    if (iv.tag != ZX_T_NULL) {
        if (!zx_is_type(iv, ZX_O_CLASS) || ZX_AS_CLASS(iv)->kind != ZX_CLASS_INTERFACE)
            return zx_task_raise_err(t, f, ZX_ERR_NOT_INTERFACE, kind_word[kind], name, zx_type_name(iv));
        zx_class *ic = ZX_AS_CLASS(iv);
        for (uint32_t i = 0; i < ic->nfields; i++) {
            zx_string *m = list_str(ic->part[ZX_CLS_FIELDS], i);
            if (!zx_map_get(ZX_AS_MAP(part[ZX_CLS_METHODS]), zx_objval(m)))
                return zx_task_raise_err(t, f, ZX_ERR_NOT_IMPLEMENTED, kind_word[kind], name, m->data,
                                         zx_class_name(ic));
        }
    }
    zx_class *c = zx_class_new(h, (zx_class_kind)kind, part);
    if (!c) return zx_task_raise_err(t, f, ZX_ERR_MEMORY);
    *out = zx_objval(c);
    return ZX_OK;
}

static zx_status call_method(zx_task *t, zx_frame *f, zx_func *fn, zx_inst *o, const zx_value *argv,
                             uint32_t argc)
{
    if (zx_stack_exhausted()) return zx_task_raise_err(t, f, ZX_ERR_CALL_DEPTH);
    if (argc + 1 != fn->code->nparams)   /* counted as written: without `this` */
        return zx_task_raise_err(t, f, ZX_ERR_ARITY, (int)fn->code->nparams - 1, (int)argc);
    zx_value args[256];
    if (argc > 255) argc = 255;
    args[0] = zx_objval(o);
    if (argc) memcpy(args + 1, argv, argc * sizeof *argv);
    zx_value r;
    zx_status st = zx_interp_call(t, f, zx_objval(fn), args, argc + 1, &r);
    if (st == ZX_OK) zx_decref(r);
    return st;
}

zx_status zx_objop_construct(zx_task *t, zx_frame *f, zx_class *cls, const zx_value *argv, uint32_t argc,
                             zx_value *out)
{
    zx_heap *h = t->run->heap;
    if (cls->kind == ZX_CLASS_INTERFACE) return zx_task_raise_err(t, f, ZX_ERR_CLASS_CALL, zx_class_name(cls));
    zx_inst *o = zx_inst_new(h, cls);
    if (!o) return zx_task_raise_err(t, f, ZX_ERR_MEMORY);
    zx_status st = ZX_OK;
    if (cls->kind == ZX_CLASS_CONTRACT) {
        zx_string *nm = zx_string_new(h, "__state__", 9);
        zx_func *init = NULL;
        if (!nm) goto oom;
        zx_func *state = zx_class_method(cls, nm);
        zx_obj_decref(nm);
        if (state && (st = call_method(t, f, state, o, NULL, 0)) != ZX_OK) goto fail;
        static const char *const ctor[] = { "init", "constructor" };
        for (int k = 0; k < 2 && !init; k++) {
            if (!(nm = zx_string_new(h, ctor[k], strlen(ctor[k])))) goto oom;
            init = zx_class_method(cls, nm);
            zx_obj_decref(nm);
        }
        if (init && (st = call_method(t, f, init, o, argv, argc)) != ZX_OK) goto fail;
        *out = zx_objval(o);
        return ZX_OK;
    }
    if (argc > cls->nfields) {
        st = zx_task_raise_err(t, f, ZX_ERR_CTOR_ARITY, zx_class_name(cls), (int)cls->nfields, (int)argc);
        goto fail;
    }
    const zx_list *defaults = ZX_AS_LIST(cls->part[ZX_CLS_DEFAULTS]);
    for (uint32_t i = 0; i < cls->nfields; i++) {
        zx_value v = i < argc ? argv[i] : zx_list_get(defaults, i);
        zx_incref(v);
        o->slot[i] = v;
    }
    zx_heap_note_cycle_candidate(h, &o->hdr);
    *out = zx_objval(o);
    return ZX_OK;
oom:
    st = zx_task_raise_err(t, f, ZX_ERR_MEMORY);
fail:
    zx_obj_decref(o);
    return st;
}

zx_status zx_objop_new_named(zx_task *t, zx_frame *f, zx_value cv, zx_value fields, zx_value *out)
{
    if (!zx_is_type(cv, ZX_O_CLASS) || ZX_AS_CLASS(cv)->kind == ZX_CLASS_CONTRACT ||
        ZX_AS_CLASS(cv)->kind == ZX_CLASS_INTERFACE)
        return zx_task_raise_err(t, f, ZX_ERR_NOT_CALLABLE, zx_type_name(cv));
    zx_class *cls = ZX_AS_CLASS(cv);
    zx_status st = zx_objop_construct(t, f, cls, NULL, 0, out);
    if (st != ZX_OK || !zx_is_type(fields, ZX_O_MAP)) return st;
    zx_inst *o = ZX_AS_INST(*out);
    const zx_map *m = ZX_AS_MAP(fields);
    for (uint32_t i = 0; i < m->len; i++) {
        zx_value k = m->entries[i].key;
        if (!zx_is_type(k, ZX_O_STRING)) continue;
        if (!zx_inst_set(t->run->heap, o, ZX_AS_STRING(k), m->entries[i].value)) {
            zx_decref(*out);
            return zx_task_raise_err(t, f, ZX_ERR_MEMORY);
        }
    }
    return ZX_OK;
}

static bool name_is(const zx_string *s, const char *w)
{
    return s->nbytes == strlen(w) && memcmp(s->data, w, s->nbytes) == 0;
}

zx_status zx_objop_data_method(zx_task *t, zx_frame *f, zx_inst *o, const zx_string *name, const zx_value *argv,
                               uint32_t argc, zx_value *out, bool *handled)
{
    zx_heap *h = t->run->heap;
    *handled = false;
    if (o->cls->kind != ZX_CLASS_DATA) return ZX_OK;
    int want;
    if (name_is(name, "toString")) want = 0;
    else if (name_is(name, "equals")) want = 1;
    else if (name_is(name, "clone")) want = 0;
    else return ZX_OK;
    *handled = true;
    if ((int)argc != want) return zx_task_raise_err(t, f, ZX_ERR_ARITY, want, (int)argc);
    if (name_is(name, "equals")) {
        *out = zx_bool(zx_is_type(argv[0], ZX_O_INST) && zx_inst_equal_fields(o, ZX_AS_INST(argv[0])));
        return ZX_OK;
    }
    if (name_is(name, "clone")) {
        zx_inst *c = zx_inst_clone(h, o);
        if (!c) return zx_task_raise_err(t, f, ZX_ERR_MEMORY);
        *out = zx_objval(c);
        return ZX_OK;
    }
    zx_buf b;
    zx_buf_init(&b);
    zx_object_format(&b, zx_objval(o));
    zx_string *s = b.truncated ? NULL : zx_string_new(h, b.data ? b.data : "", b.len);
    zx_buf_free(&b);
    if (!s) return zx_task_raise_err(t, f, ZX_ERR_MEMORY);
    *out = zx_objval(s);
    return ZX_OK;
}
