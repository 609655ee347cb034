/* host.c — the VM's host functions: registration (zx_vm_register), the load-time check and purity, and calls with public value handles. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "runtime/builtins.h"
#include "vm/api.h"

/*
 * The table (exec/host.h) is registered here and read by the run's tasks through zx_run.hosts;
 * it only grows, and only while nothing runs.  A program loads only when every LOAD_HOST name
 * is registered, and a host function's flags never change, so the purity of the functions a
 * program can name is fixed when it loads: the analysis gets it as a bitmap (analysis_hosts).
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

static int host_find_value(const zx_host_table *hosts, zx_value name)
{
    if (!zx_is_type(name, ZX_O_STRING)) return -1;
    const zx_string *s = ZX_AS_STRING(name);
    return zx_host_find(hosts, s->data, s->nbytes);
}

zx_status zx_vm_register(zx_vm *vm, const char *name, zx_host_fn fn, void *userdata, unsigned flags)
{
    if (!vm || !fn || !valid_name(name) || (flags & ~(unsigned)ZX_HOST_PURE)) return ZX_E_ARGUMENT;
    if (zx_vm_check_idle(vm) != ZX_OK) return ZX_E_ARGUMENT;
    if (zx_builtin_lookup(name) >= 0) {
        zx_vm_set_error(vm, "error: '%s' is a builtin and cannot be a host function", name);
        return ZX_E_ARGUMENT;
    }
    zx_host_table *t = &vm->hosts;
    if (zx_host_find(t, name, strlen(name)) >= 0) {
        zx_vm_set_error(vm, "error: host function '%s' is already registered", name);
        return ZX_E_ARGUMENT;
    }
    if (t->n == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 8;
        zx_host *h = realloc(t->v, cap * sizeof *h);
        if (!h) return ZX_E_MEMORY;
        t->v = h;
        t->cap = cap;
    }
    zx_host *h = &t->v[t->n];
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
    h->obj->id = ZX_BI_COUNT + (int)t->n;
    h->obj->name = h->name;
    t->n++;
    return ZX_OK;
}

void zx_host_table_free(zx_vm *vm)
{
    zx_host_table *t = &vm->hosts;
    for (uint32_t i = 0; i < t->n; i++) {
        zx_obj_decref(t->v[i].obj);
        free(t->v[i].name);
    }
    free(t->v);
    t->v = NULL;
    t->n = t->cap = 0;
}

bool zx_host_has_name(void *vm, const char *name)
{
    return zx_host_find(&((zx_vm *)vm)->hosts, name, strlen(name)) >= 0;
}

static bool check_code(const zx_vm *vm, const zx_code *c, char *err, size_t errsz)
{
    for (uint32_t pc = 0; pc < c->ncode; pc++) {
        if (c->code[pc].op != OP_LOAD_HOST) continue;
        zx_value name = c->consts[c->code[pc].a];     /* a string: the verifier checked */
        if (host_find_value(&vm->hosts, name) < 0) {
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

/* ---------- purity, for the analysis ---------- */

typedef struct host_purity {
    analysis_hosts h;             /* first: p->hosts points at both */
    const char **names;
    uint8_t *pure;
} host_purity;

bool zx_host_purity_refresh(zx_vm *vm, zx_program *p)
{
    const zx_host_table *t = &vm->hosts;
    host_purity *hp = p->hosts;
    if (hp && hp->h.n == t->n) return true;
    if (!hp) {
        hp = calloc(1, sizeof *hp);
        if (!hp) return false;
        p->hosts = hp;
    }
    const char **names = realloc(hp->names, (t->n ? t->n : 1) * sizeof *names);
    if (names) {
        hp->names = names;
        hp->h.names = names;                         /* its old n entries stay valid */
    }
    uint8_t *pure = names ? realloc(hp->pure, t->n / 8 + 1) : NULL;
    if (pure) hp->pure = pure;
    if (!names || !pure) return false;
    hp->h.pure = pure;
    memset(pure, 0, t->n / 8 + 1);
    for (uint32_t k = 0; k < t->n; k++) {
        names[k] = t->v[k].name;
        if (t->v[k].flags & ZX_HOST_PURE) pure[k / 8] |= (uint8_t)(1u << (k % 8));
    }
    hp->h.n = t->n;
    hp->h.names = names;
    hp->h.pure = pure;
    return true;
}

void zx_host_purity_free(zx_program *p)
{
    host_purity *hp = p->hosts;
    if (!hp) return;
    free(hp->names);
    free(hp->pure);
    free(hp);
    p->hosts = NULL;
}

/* ---------- calls (zx_host_table.invoke) ---------- */

zx_status zx_host_invoke(void *vmp, const zx_host *h, const zx_value *argv, uint32_t argc, zx_value *out,
                         char *msg, size_t msgsz)
{
    zx_vm *vm = vmp;
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
            zx_err_printf(msg, msgsz, ZX_ERR_MEMORY);
            return ZX_E_MEMORY;
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

    if (st == ZX_OK && !res_ok) {
        zx_err_printf(msg, msgsz, ZX_ERR_HOST_FOREIGN, h->name);
        return zx_err_status(ZX_ERR_HOST_FOREIGN);
    }
    if (st == ZX_OK) {
        *out = r;
        return ZX_OK;
    }
    if (zx_is_type(r, ZX_O_STRING)) snprintf(msg, msgsz, "%s", ZX_AS_STRING(r)->data);
    /* the host's own message, else the table's: its status stays the host's */
    else if (st == ZX_E_MEMORY) zx_err_printf(msg, msgsz, ZX_ERR_MEMORY);
    else if (st == ZX_E_INTERRUPTED) zx_err_printf(msg, msgsz, ZX_ERR_INTERRUPTED);
    else zx_err_printf(msg, msgsz, ZX_ERR_HOST_FAILED, h->name, zx_status_str(st));
    zx_decref(r);
    if (st != ZX_E_MEMORY && st != ZX_E_INTERRUPTED) st = ZX_E_RUNTIME;
    return st;
}
