/* object.c — classes and instances: construction, field slots, methods, printing (object.h). */
#include "object.h"

#include <string.h>

/* Class ids: a process-wide count, the one piece of state shared by every VM, because a
 * compiled function (which several VMs may share through the code cache's objects) keeps
 * (id, slot) pairs in its own data. */
static _Atomic uint64_t next_class_id = 1;

zx_class *zx_class_new(zx_heap *h, zx_class_kind kind, const zx_value part[ZX_CLS_NPARTS])
{
    zx_class *c = zx_heap_alloc_obj(h, ZX_O_CLASS, sizeof(zx_class));
    if (!c) return NULL;
    c->kind = (uint8_t)kind;
    c->id = atomic_fetch_add_explicit(&next_class_id, 1, memory_order_relaxed) & ((UINT64_C(1) << 48) - 1);
    for (int i = 0; i < ZX_CLS_NPARTS; i++) {
        c->part[i] = part[i];
        zx_incref(part[i]);
    }
    c->nfields = zx_is_type(part[ZX_CLS_FIELDS], ZX_O_LIST) ? ZX_AS_LIST(part[ZX_CLS_FIELDS])->len : 0;
    return c;
}

zx_inst *zx_inst_new(zx_heap *h, zx_class *cls)
{
    uint32_t n = cls->nfields + 1;
    zx_inst *o = zx_heap_alloc_obj(h, ZX_O_INST, zx_inst_size(n));
    if (!o) return NULL;
    zx_obj_incref(cls);
    o->cls = cls;
    o->nslots = n;
    for (uint32_t i = 0; i < n; i++) o->slot[i] = zx_null();
    return o;
}

int zx_class_field(const zx_class *cls, const zx_string *name)
{
    if (!zx_is_type(cls->part[ZX_CLS_FIELDS], ZX_O_LIST)) return -1;
    const zx_list *f = ZX_AS_LIST(cls->part[ZX_CLS_FIELDS]);
    for (uint32_t i = 0; i < f->len && i < cls->nfields; i++) {   /* a few fields: pointers first */
        const zx_string *s = ZX_AS_STRING(zx_list_get(f, i));
        if (s == name) return (int)i;
    }
    for (uint32_t i = 0; i < f->len && i < cls->nfields; i++)
        if (zx_string_eq(ZX_AS_STRING(zx_list_get(f, i)), name)) return (int)i;
    return -1;
}

zx_func *zx_class_method(const zx_class *cls, const zx_string *name)
{
    if (!zx_is_type(cls->part[ZX_CLS_METHODS], ZX_O_MAP)) return NULL;
    zx_value *m = zx_map_get(ZX_AS_MAP(cls->part[ZX_CLS_METHODS]), zx_objval((void *)name));
    return m && zx_is_type(*m, ZX_O_FUNC) ? ZX_AS_FUNC(*m) : NULL;
}

const char *zx_class_name(const zx_class *cls)
{
    return zx_is_type(cls->part[ZX_CLS_NAME], ZX_O_STRING) ? ZX_AS_STRING(cls->part[ZX_CLS_NAME])->data : "?";
}

zx_value *zx_inst_field(zx_inst *o, const zx_string *name)
{
    int k = zx_class_field(o->cls, name);
    if (k >= 0) return &o->slot[k];
    zx_value extra = o->slot[o->nslots - 1];
    if (!zx_is_type(extra, ZX_O_MAP)) return NULL;
    return zx_map_get(ZX_AS_MAP(extra), zx_objval((void *)name));
}

bool zx_inst_set(zx_heap *h, zx_inst *o, zx_string *name, zx_value v)
{
    int k = zx_class_field(o->cls, name);
    if (k >= 0) {
        zx_incref(v);
        zx_value old = o->slot[k];
        o->slot[k] = v;
        zx_decref(old);
        if (zx_is_obj(v) && v.u.o->type != ZX_O_STRING && v.u.o->type != ZX_O_BUILTIN)
            zx_heap_note_cycle_candidate(h, &o->hdr);
        return true;
    }
    zx_value *extra = &o->slot[o->nslots - 1];
    if (!zx_is_type(*extra, ZX_O_MAP)) {
        zx_map *m = zx_map_new(h, 4);
        if (!m) return false;
        *extra = zx_objval(m);
        zx_heap_note_cycle_candidate(h, &o->hdr);
    }
    return zx_map_set(h, ZX_AS_MAP(*extra), zx_objval(name), v);
}

zx_inst *zx_inst_clone(zx_heap *h, const zx_inst *o)
{
    zx_inst *c = zx_inst_new(h, o->cls);
    if (!c) return NULL;
    for (uint32_t i = 0; i + 1 < o->nslots; i++) {
        c->slot[i] = o->slot[i];
        zx_incref(c->slot[i]);
    }
    zx_heap_note_cycle_candidate(h, &c->hdr);
    return c;
}

bool zx_inst_equal_fields(const zx_inst *a, const zx_inst *b)
{
    if (a->cls != b->cls) return false;
    for (uint32_t i = 0; i + 1 < a->nslots; i++)
        if (!zx_value_equal(a->slot[i], b->slot[i])) return false;
    return true;
}

/* ---------- printing and type names ---------- */

/* Instances may reach themselves through their fields; past this depth a nested object
 * prints as "..." instead of recursing for ever. */
#define FORMAT_MAX_DEPTH 32
static _Thread_local int format_depth;

static zx_string *field_name(const zx_class *c, uint32_t i)
{
    return ZX_AS_STRING(zx_list_get(ZX_AS_LIST(c->part[ZX_CLS_FIELDS]), i));
}

static void format_inst(zx_buf *b, const zx_inst *o)
{
    const zx_class *c = o->cls;
    const char *name = zx_class_name(c);
    if (c->kind == ZX_CLASS_CONTRACT || c->kind == ZX_CLASS_INTERFACE) {
        zx_buf_printf(b, "<contract %s>", name);
        return;
    }
    bool data = c->kind == ZX_CLASS_DATA;
    zx_buf_puts(b, name);
    zx_buf_puts(b, data ? "(" : " { ");
    bool first = true;
    for (uint32_t i = 0; i < c->nfields; i++) {
        if (!first) zx_buf_puts(b, ", ");
        first = false;
        zx_string *f = field_name(c, i);
        zx_buf_put(b, f->data, f->nbytes);
        zx_buf_puts(b, data ? "=" : ": ");
        zx_format_value(b, o->slot[i]);
    }
    zx_value extra = o->slot[o->nslots - 1];
    if (!data && zx_is_type(extra, ZX_O_MAP)) {
        const zx_map *m = ZX_AS_MAP(extra);
        for (uint32_t i = 0; i < m->len; i++) {
            if (!first) zx_buf_puts(b, ", ");
            first = false;
            zx_format_value(b, m->entries[i].key);
            zx_buf_puts(b, ": ");
            zx_format_value(b, m->entries[i].value);
        }
    }
    zx_buf_puts(b, data ? ")" : (first ? "}" : " }"));
}

static const char *const kind_word[ZX_CLASS_KINDS] = { "entity", "data", "contract", "interface" };

static void format_class(zx_buf *b, const zx_class *c)
{
    zx_buf_printf(b, "%s %s", kind_word[c->kind < ZX_CLASS_KINDS ? c->kind : 0], zx_class_name(c));
    if (c->kind != ZX_CLASS_ENTITY && c->kind != ZX_CLASS_DATA) return;
    zx_buf_puts(b, " { ");
    const zx_list *types = zx_is_type(c->part[ZX_CLS_TYPES], ZX_O_LIST) ? ZX_AS_LIST(c->part[ZX_CLS_TYPES]) : NULL;
    for (uint32_t i = 0; i < c->nfields; i++) {
        if (i) zx_buf_puts(b, ", ");
        zx_string *f = field_name(c, i);
        zx_buf_put(b, f->data, f->nbytes);
        zx_value ty = types && i < types->len ? zx_list_get(types, i) : zx_null();
        if (zx_is_type(ty, ZX_O_STRING) && ZX_AS_STRING(ty)->nbytes) {
            zx_buf_puts(b, ": ");
            zx_format_value(b, ty);
        }
    }
    zx_buf_puts(b, c->nfields ? " }" : "}");
}

void zx_object_format(zx_buf *b, zx_value v)
{
    if (format_depth >= FORMAT_MAX_DEPTH) {
        zx_buf_puts(b, "...");
        return;
    }
    format_depth++;
    if (zx_is_type(v, ZX_O_INST)) format_inst(b, ZX_AS_INST(v));
    else if (zx_is_type(v, ZX_O_CLASS)) format_class(b, ZX_AS_CLASS(v));
    format_depth--;
}

/* typeof(): the reference's words (REFERENCE-NOTES S12). */
const char *zx_object_typeof(zx_value v)
{
    if (zx_is_type(v, ZX_O_CLASS)) {
        switch ((zx_class_kind)ZX_AS_CLASS(v)->kind) {
        case ZX_CLASS_ENTITY: return "entitydefinition";
        case ZX_CLASS_DATA: return "builtin";
        case ZX_CLASS_CONTRACT: return "contract";
        case ZX_CLASS_INTERFACE: case ZX_CLASS_KINDS: break;
        }
        return "interface";
    }
    switch ((zx_class_kind)ZX_AS_INST(v)->cls->kind) {
    case ZX_CLASS_ENTITY: return "entityinstance";
    case ZX_CLASS_DATA: return "map";
    case ZX_CLASS_CONTRACT: case ZX_CLASS_INTERFACE: case ZX_CLASS_KINDS: break;
    }
    return "contract";
}

/* type(): the reference's class names. */
const char *zx_object_type_name(zx_value v)
{
    if (zx_is_type(v, ZX_O_CLASS)) {
        switch ((zx_class_kind)ZX_AS_CLASS(v)->kind) {
        case ZX_CLASS_ENTITY: return "EntityDefinition";
        case ZX_CLASS_DATA: return "Builtin";
        case ZX_CLASS_CONTRACT: return "SmartContract";
        case ZX_CLASS_INTERFACE: case ZX_CLASS_KINDS: break;
        }
        return "Interface";
    }
    switch ((zx_class_kind)ZX_AS_INST(v)->cls->kind) {
    case ZX_CLASS_ENTITY: return "EntityInstance";
    case ZX_CLASS_DATA: return "Map";
    case ZX_CLASS_CONTRACT: case ZX_CLASS_INTERFACE: case ZX_CLASS_KINDS: break;
    }
    return "SmartContract";
}
