/* host.c — host C functions: the per-VM table (zx_vm_register), their resolution and their calls from Zexus. */
#include "exec/host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/api.h"
#include "runtime/builtins.h"

/*
 * A host function is registered in its VM's table before the programs that call it load.
 * The compiler turns a name no scope declares into LOAD_HOST "name" (the name, not an index,
 * is in the bytecode, so .zxa and .zxbc stay independent of a VM's table); loading checks
 * that every such name is registered.  At run time LOAD_HOST pushes the function's value, a
 * builtin object with id ZX_BI_COUNT + index that the VM holds for its lifetime, and calls
 * go the way of every builtin value (CALL_TOP, parallel_map).  The table only grows, and only
 * while nothing runs, so workers read it without a lock.
 */

#define HOST_MAX_ARGS_ON_STACK 8

static bool valid_name(const char *s)
{
    if (!s || !(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return false;
    for (const char *p = s; *p; p++)
        if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
            return false;
    return strlen(s) <= 255;
}

/* Index of the host function called name[0..len) in vm, or -1. */
static int host_find(const zx_vm *vm, const char *name, size_t len)
{
    for (uint32_t i = 0; vm && i < vm->nhosts; i++)
        if (vm->hosts[i].len == len && memcmp(vm->hosts[i].name, name, len) == 0) return (int)i;
    return -1;
}

static int host_find_value(const zx_vm *vm, zx_value name)
{
    if (!zx_is_type(name, ZX_O_STRING)) return -1;
    const zx_string *s = ZX_AS_STRING(name);
    return host_find(vm, s->data, s->nbytes);
}

zx_status zx_vm_register(zx_vm *vm, const char *name, zx_host_fn fn, void *userdata, unsigned flags)
{
    if (!vm || !fn || !valid_name(name) || (flags & ~(unsigned)ZX_HOST_PURE)) return ZX_E_ARGUMENT;
    if (zx_vm_check_idle(vm) != ZX_OK) return ZX_E_ARGUMENT;
    if (zx_builtin_lookup(name) >= 0) {
        zx_vm_set_error(vm, "error: '%s' is a builtin and cannot be a host function", name);
        return ZX_E_ARGUMENT;
    }
    if (host_find(vm, name, strlen(name)) >= 0) {
        zx_vm_set_error(vm, "error: host function '%s' is already registered", name);
        return ZX_E_ARGUMENT;
    }
    if (vm->nhosts == vm->caphosts) {
        uint32_t cap = vm->caphosts ? vm->caphosts * 2 : 8;
        zx_host *h = realloc(vm->hosts, cap * sizeof *h);
        if (!h) return ZX_E_MEMORY;
        vm->hosts = h;
        vm->caphosts = cap;
    }
    zx_host *h = &vm->hosts[vm->nhosts];
    h->name = strdup(name);
    h->obj = zx_heap_alloc_obj(vm->heap, ZX_O_BUILTIN, sizeof *h->obj);
    if (!h->name || !h->obj) {
        free(h->name);
        if (h->obj) zx_obj_decref(h->obj);
        return ZX_E_MEMORY;
    }
    h->len = strlen(name);
    h->fn = fn;
    h->userdata = userdata;
    h->flags = flags;
    h->obj->id = ZX_BI_COUNT + (int)vm->nhosts;
    h->obj->name = h->name;
    vm->nhosts++;
    return ZX_OK;
}

void zx_host_table_free(zx_vm *vm)
{
    for (uint32_t i = 0; i < vm->nhosts; i++) {
        zx_obj_decref(vm->hosts[i].obj);
        free(vm->hosts[i].name);
    }
    free(vm->hosts);
    vm->hosts = NULL;
    vm->nhosts = vm->caphosts = 0;
}

bool zx_host_has_name(void *vm, const char *name)
{
    return host_find(vm, name, strlen(name)) >= 0;
}

static bool check_code(const zx_vm *vm, const zx_code *c, char *err, size_t errsz)
{
    for (uint32_t pc = 0; pc < c->ncode; pc++) {
        if (c->code[pc].op != OP_LOAD_HOST) continue;
        zx_value name = c->consts[c->code[pc].a];     /* a string: the verifier checked */
        if (host_find_value(vm, name) < 0) {
            snprintf(err, errsz, "the program calls host function '%s', which this VM has not registered",
                     ZX_AS_STRING(name)->data);
            return false;
        }
    }
    for (uint32_t i = 0; i < c->nchildren; i++)
        if (!check_code(vm, c->children[i], err, errsz)) return false;
    return true;
}

bool zx_host_check_program(const zx_vm *vm, const zx_program *p, char *err, size_t errsz)
{
    return check_code(vm, p->main, err, errsz);
}

/* ---------- from Zexus ---------- */

zx_status zx_host_load(zx_task *t, zx_frame *f, zx_value name, zx_value *out)
{
    const zx_vm *vm = t->run->prog->vm;
    int i = host_find_value(vm, name);
    if (i < 0) return zx_task_raise_err(t, f, ZX_ERR_HOST_UNKNOWN);
    zx_obj_incref(vm->hosts[i].obj);
    *out = zx_objval(vm->hosts[i].obj);
    return ZX_OK;
}

zx_status zx_host_call(zx_task *t, zx_frame *f, int id, const zx_value *argv, uint32_t argc, zx_value *out)
{
    zx_vm *vm = t->run->prog->vm;
    uint32_t k = (uint32_t)(id - ZX_BI_COUNT);
    if (!vm || k >= vm->nhosts) return zx_task_raise_err(t, f, ZX_ERR_HOST_UNKNOWN);
    const zx_host *h = &vm->hosts[k];
    struct zx_val small[HOST_MAX_ARGS_ON_STACK];
    const zx_val *small_ptrs[HOST_MAX_ARGS_ON_STACK];
    struct zx_val *vals = small;
    const zx_val **ptrs = small_ptrs;
    if (argc > HOST_MAX_ARGS_ON_STACK) {
        vals = malloc(argc * sizeof *vals);
        ptrs = malloc(argc * sizeof *ptrs);
        if (!vals || !ptrs) {
            if (vals != small) free(vals);
            if (ptrs != small_ptrs) free(ptrs);
            return zx_task_raise_err(t, f, ZX_ERR_MEMORY);
        }
    }
    for (uint32_t i = 0; i < argc; i++) {
        vals[i] = (struct zx_val){ .v = argv[i], .vm = vm, .borrowed = 1 };
        ptrs[i] = &vals[i];
    }
    zx_val *res = NULL;
    zx_status st = h->fn(h->userdata, vm, ptrs, (int)argc, &res);
    zx_value r = zx_null();
    bool res_ok = !res || res->vm == vm;
    if (res && res_ok) {
        if (res->borrowed) {          /* one of its own arguments, handed back as is */
            r = res->v;
            zx_incref(r);
        } else {
            r = zx_val_unwrap(res);
        }
    } else if (res) {
        zx_val_free(res);
    }
    if (vals != small) free(vals);
    if (ptrs != small_ptrs) free(ptrs);

    /* 400 bytes: room for a host's own message and a long host name */
    char msg[400];
    if (st == ZX_OK && !res_ok) {
        zx_err_printf(msg, sizeof msg, ZX_ERR_HOST_FOREIGN, h->name);
        return zx_task_raise(t, f, zx_err_status(ZX_ERR_HOST_FOREIGN), msg);
    }
    if (st == ZX_OK) {
        *out = r;
        return ZX_OK;
    }
    /* the host's own message, else the table's: its status stays the host's */
    if (zx_is_type(r, ZX_O_STRING)) snprintf(msg, sizeof msg, "%s", ZX_AS_STRING(r)->data);
    else if (st == ZX_E_MEMORY) zx_err_printf(msg, sizeof msg, ZX_ERR_MEMORY);
    else if (st == ZX_E_INTERRUPTED) zx_err_printf(msg, sizeof msg, ZX_ERR_INTERRUPTED);
    else zx_err_printf(msg, sizeof msg, ZX_ERR_HOST_FAILED, h->name, zx_status_str(st));
    zx_decref(r);
    if (st != ZX_E_MEMORY && st != ZX_E_INTERRUPTED) st = ZX_E_RUNTIME;
    return zx_task_raise(t, f, st, msg);
}

/* ---------- for the analysis and the parallel runtime ---------- */

bool zx_host_is_pure(const zx_program *p, zx_value name)
{
    const zx_vm *vm = p ? p->vm : NULL;
    int i = host_find_value(vm, name);
    return i >= 0 && (vm->hosts[i].flags & ZX_HOST_PURE);
}

const char *zx_host_pmap_blocker(const zx_program *p, zx_value fn)
{
    if (!zx_is_type(fn, ZX_O_BUILTIN)) return NULL;
    int id = ((const zx_builtin_obj *)fn.u.o)->id;
    if (id < ZX_BI_COUNT) return NULL;
    const zx_vm *vm = p ? p->vm : NULL;
    uint32_t k = (uint32_t)(id - ZX_BI_COUNT);
    if (vm && k < vm->nhosts && (vm->hosts[k].flags & ZX_HOST_PURE)) return NULL;
    return "it is a host function not registered as pure (ZX_HOST_PURE)";
}
