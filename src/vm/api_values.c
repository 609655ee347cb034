/* api_values.c — zexus.h's value handles (zx_val): constructors, accessors, lists, maps, printing. */
#include <stdlib.h>
#include <string.h>

#include "vm/api.h"

zx_val *zx_val_wrap(zx_vm *vm, zx_value v)
{
    zx_val *h = malloc(sizeof *h);
    if (!h) {
        zx_decref(v);
        return NULL;
    }
    h->v = v;
    h->vm = vm;
    h->borrowed = 0;
    /* a handle may go to another thread: while one holds an object, every count changes
     * atomically (value.h, zx_rc_concurrent) */
    if (v.tag == ZX_T_OBJ) zx_rc_concurrent_begin();
    return h;
}

zx_value zx_val_unwrap(zx_val *h)
{
    zx_value v = h->v;
    if (v.tag == ZX_T_OBJ) zx_rc_concurrent_end();
    free(h);
    return v;
}

static zx_status make(zx_vm *vm, zx_value v, zx_val **out)
{
    zx_val *h = zx_val_wrap(vm, v);
    if (!h) return ZX_E_MEMORY;
    *out = h;
    return ZX_OK;
}

zx_status zx_val_null(zx_vm *vm, zx_val **out)
{
    if (!vm || !out) return ZX_E_ARGUMENT;
    return make(vm, zx_null(), out);
}

zx_status zx_val_bool(zx_vm *vm, int b, zx_val **out)
{
    if (!vm || !out) return ZX_E_ARGUMENT;
    return make(vm, zx_bool(b != 0), out);
}

zx_status zx_val_int(zx_vm *vm, int64_t i, zx_val **out)
{
    if (!vm || !out) return ZX_E_ARGUMENT;
    return make(vm, zx_int(i), out);
}

zx_status zx_val_float(zx_vm *vm, double d, zx_val **out)
{
    if (!vm || !out) return ZX_E_ARGUMENT;
    return make(vm, zx_float(d), out);
}

zx_status zx_val_string(zx_vm *vm, const char *bytes, size_t len, zx_val **out)
{
    if (!vm || !out || (!bytes && len) || len > UINT32_MAX - 1) return ZX_E_ARGUMENT;
    if (!bytes) bytes = "";
    if (!zx_utf8_valid(bytes, len)) return ZX_E_ARGUMENT;
    zx_string *s = zx_string_new(vm->heap, bytes, len);
    if (!s) return ZX_E_MEMORY;
    return make(vm, zx_objval(s), out);
}

zx_status zx_val_list_new(zx_vm *vm, zx_val **out)
{
    if (!vm || !out) return ZX_E_ARGUMENT;
    zx_list *l = zx_list_new(vm->heap, 0);
    if (!l) return ZX_E_MEMORY;
    return make(vm, zx_objval(l), out);
}

zx_status zx_val_map_new(zx_vm *vm, zx_val **out)
{
    if (!vm || !out) return ZX_E_ARGUMENT;
    zx_map *m = zx_map_new(vm->heap, 0);
    if (!m) return ZX_E_MEMORY;
    return make(vm, zx_objval(m), out);
}

zx_status zx_val_copy(const zx_val *v, zx_val **out)
{
    if (!v || !out) return ZX_E_ARGUMENT;
    zx_incref(v->v);
    return make(v->vm, v->v, out);
}

void zx_val_free(zx_val *v)
{
    if (!v || v->borrowed) return;
    zx_value x = v->v;
    free(v);
    zx_decref(x);
    if (x.tag == ZX_T_OBJ) zx_rc_concurrent_end();   /* after the count is dropped */
}

zx_type zx_val_type(const zx_val *v)
{
    if (!v) return ZX_TYPE_NULL;
    switch ((zx_tag)v->v.tag) {
    case ZX_T_UNDEF: case ZX_T_NULL: return ZX_TYPE_NULL;
    case ZX_T_BOOL: return ZX_TYPE_BOOL;
    case ZX_T_INT: return ZX_TYPE_INT;
    case ZX_T_FLOAT: return ZX_TYPE_FLOAT;
    case ZX_T_OBJ: break;
    }
    switch ((zx_objtype)v->v.u.o->type) {
    case ZX_O_STRING: return ZX_TYPE_STRING;
    case ZX_O_LIST: return ZX_TYPE_LIST;
    case ZX_O_MAP: case ZX_O_INST: return ZX_TYPE_MAP;     /* an instance reads as a record */
    case ZX_O_FUNC: case ZX_O_BUILTIN: case ZX_O_CLASS: return ZX_TYPE_ACTION;
    case ZX_O_CELL: break;            /* never a value a handle can hold */
    }
    return ZX_TYPE_NULL;
}

const char *zx_val_type_name(const zx_val *v)
{
    return zx_type_name(v ? v->v : zx_null());
}

zx_status zx_val_as_bool(const zx_val *v, int *out)
{
    if (!v || !out || v->v.tag != ZX_T_BOOL) return ZX_E_ARGUMENT;
    *out = v->v.u.b;
    return ZX_OK;
}

zx_status zx_val_as_int(const zx_val *v, int64_t *out)
{
    if (!v || !out || v->v.tag != ZX_T_INT) return ZX_E_ARGUMENT;
    *out = v->v.u.i;
    return ZX_OK;
}

zx_status zx_val_as_float(const zx_val *v, double *out)
{
    if (!v || !out) return ZX_E_ARGUMENT;
    if (v->v.tag == ZX_T_FLOAT) *out = v->v.u.f;
    else if (v->v.tag == ZX_T_INT) *out = (double)v->v.u.i;
    else return ZX_E_ARGUMENT;
    return ZX_OK;
}

zx_status zx_val_as_string(const zx_val *v, const char **bytes, size_t *len)
{
    if (!v || !bytes || !len || !zx_is_type(v->v, ZX_O_STRING)) return ZX_E_ARGUMENT;
    *bytes = ZX_AS_STRING(v->v)->data;
    *len = ZX_AS_STRING(v->v)->nbytes;
    return ZX_OK;
}

/* ---------- lists ---------- */

static bool same_vm(const zx_val *a, const zx_val *b) { return a && b && a->vm == b->vm; }

zx_status zx_val_list_len(const zx_val *list, size_t *out)
{
    if (!list || !out || !zx_is_type(list->v, ZX_O_LIST)) return ZX_E_ARGUMENT;
    *out = ZX_AS_LIST(list->v)->len;
    return ZX_OK;
}

zx_status zx_val_list_get(const zx_val *list, size_t i, zx_val **out)
{
    if (!list || !out || !zx_is_type(list->v, ZX_O_LIST)) return ZX_E_ARGUMENT;
    zx_list *l = ZX_AS_LIST(list->v);
    if (i >= l->len) return ZX_E_ARGUMENT;
    zx_value v = zx_list_get(l, (uint32_t)i);
    zx_incref(v);
    return make(list->vm, v, out);
}

zx_status zx_val_list_push(zx_val *list, const zx_val *item)
{
    if (!same_vm(list, item) || !zx_is_type(list->v, ZX_O_LIST)) return ZX_E_ARGUMENT;
    if (!zx_list_push(list->vm->heap, ZX_AS_LIST(list->v), item->v)) return ZX_E_MEMORY;
    return ZX_OK;     /* zx_list_push notes a possible cycle itself */
}

zx_status zx_val_list_set(zx_val *list, size_t i, const zx_val *item)
{
    if (!same_vm(list, item) || !zx_is_type(list->v, ZX_O_LIST)) return ZX_E_ARGUMENT;
    zx_list *l = ZX_AS_LIST(list->v);
    if (i >= l->len) return ZX_E_ARGUMENT;
    if (!zx_list_set(list->vm->heap, l, (uint32_t)i, item->v)) return ZX_E_MEMORY;
    return ZX_OK;     /* zx_list_store notes a possible cycle itself */
}

/* ---------- maps ---------- */

zx_status zx_val_map_len(const zx_val *map, size_t *out)
{
    if (!map || !out || !zx_is_type(map->v, ZX_O_MAP)) return ZX_E_ARGUMENT;
    *out = ZX_AS_MAP(map->v)->len;
    return ZX_OK;
}

zx_status zx_val_map_get(const zx_val *map, const zx_val *key, zx_val **out)
{
    if (!same_vm(map, key) || !out || !zx_is_type(map->v, ZX_O_MAP) || !zx_value_hashable(key->v))
        return ZX_E_ARGUMENT;
    zx_value *v = zx_map_get(ZX_AS_MAP(map->v), key->v);
    if (!v) return ZX_E_NOT_FOUND;
    zx_incref(*v);
    return make(map->vm, *v, out);
}

zx_status zx_val_map_set(zx_val *map, const zx_val *key, const zx_val *value)
{
    if (!same_vm(map, key) || !same_vm(map, value) || !zx_is_type(map->v, ZX_O_MAP) ||
        !zx_value_hashable(key->v))
        return ZX_E_ARGUMENT;
    if (!zx_map_set(map->vm->heap, ZX_AS_MAP(map->v), key->v, value->v)) return ZX_E_MEMORY;
    return ZX_OK;     /* zx_map_set notes a possible cycle itself */
}

zx_status zx_val_map_keys(const zx_val *map, zx_val **out)
{
    if (!map || !out || !zx_is_type(map->v, ZX_O_MAP)) return ZX_E_ARGUMENT;
    zx_map *m = ZX_AS_MAP(map->v);
    zx_list *l = zx_list_new(map->vm->heap, m->len);
    if (!l) return ZX_E_MEMORY;
    for (uint32_t i = 0; i < m->len; i++) {
        if (!zx_list_push(map->vm->heap, l, m->entries[i].key)) {
            zx_obj_decref(l);
            return ZX_E_MEMORY;
        }
    }
    return make(map->vm, zx_objval(l), out);
}

/* ---------- printing ---------- */

zx_status zx_val_to_string(const zx_val *v, char **out)
{
    if (!v || !out) return ZX_E_ARGUMENT;
    zx_buf b;
    zx_buf_init(&b);
    zx_format_value(&b, v->v);
    zx_buf_put(&b, "", 1);
    if (!b.data) return ZX_E_MEMORY;
    *out = b.data;
    return ZX_OK;
}
