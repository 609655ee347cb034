/* parallel.c — parallel_map, fork/join and shared updates, with sequential semantics as the reference. */
#include "parallel.h"

#include <stdio.h>
#include <string.h>

#include "arith.h"

zx_status zx_parallel_map(zx_task *t, zx_frame *f, zx_value fn, zx_value xs, zx_value *out)
{
    char msg[160];
    if (!zx_is_type(xs, ZX_O_LIST)) {
        snprintf(msg, sizeof msg, "type mismatch: parallel_map expects a List, got %s", zx_type_name(xs));
        return zx_task_raise(t, f, ZX_E_RUNTIME, msg);
    }
    if (!zx_is_type(fn, ZX_O_FUNC) && !zx_is_type(fn, ZX_O_BUILTIN)) {
        snprintf(msg, sizeof msg, "type mismatch: %s is not callable", zx_type_name(fn));
        return zx_task_raise(t, f, ZX_E_RUNTIME, msg);
    }
    zx_list *in = ZX_AS_LIST(xs);
    uint32_t n = in->len;
    zx_list *res = zx_list_new(t->run->heap, n);
    if (!res) return zx_task_raise(t, f, ZX_E_MEMORY, "memory limit exceeded");
    long saved = t->pmap_element;
    zx_status st = ZX_OK;
    for (uint32_t i = 0; i < n && i < in->len; i++) {
        zx_value elem = in->items[i], r;
        zx_incref(elem);
        t->pmap_element = (long)i;
        st = zx_interp_call(t, f, fn, &elem, 1, &r);
        zx_decref(elem);
        if (st != ZX_OK) break;
        bool ok = zx_list_push(t->run->heap, res, r);
        zx_decref(r);
        if (!ok) {
            st = zx_task_raise(t, f, ZX_E_MEMORY, "memory limit exceeded");
            break;
        }
    }
    t->pmap_element = saved;
    if (st != ZX_OK) {
        zx_obj_decref(res);
        return st;
    }
    *out = zx_objval(res);
    return ZX_OK;
}

zx_status zx_fork_run(zx_task *t, zx_frame *f, uint32_t first, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        zx_code *block = f->code->children[first + i];
        zx_func *fn = zx_func_new(t->run->heap, block, t->run->prog, block->nfree);
        if (!fn) return zx_task_raise(t, f, ZX_E_MEMORY, "memory limit exceeded");
        for (uint32_t k = 0; k < block->nfree; k++) {
            const zx_freevar *fv = &block->free[k];
            zx_cell *c = fv->from_parent_local ? (zx_cell *)f->locals[fv->index].u.o : f->func->free[fv->index];
            zx_obj_incref(c);
            fn->free[k] = c;
        }
        zx_value r;
        zx_status st = zx_interp_call(t, f, zx_objval(fn), NULL, 0, &r);
        zx_obj_decref(fn);
        if (st != ZX_OK) return st;
        zx_decref(r);
    }
    return ZX_OK;
}

zx_status zx_shared_update(zx_task *t, zx_frame *f, uint32_t global, int op, zx_value rhs)
{
    char msg[160];
    zx_value *slot = &t->run->globals[global];
    if (slot->tag == ZX_T_UNDEF) {
        zx_decref(rhs);
        snprintf(msg, sizeof msg, "undefined variable '%s'", t->run->prog->globals[global].name);
        return zx_task_raise(t, f, ZX_E_RUNTIME, msg);
    }
    zx_value r;
    bool ok = zx_binop(t->run->heap, op, *slot, rhs, &r, msg, sizeof msg);
    zx_decref(rhs);
    if (!ok) return zx_task_raise(t, f, ZX_E_RUNTIME, msg);
    zx_value old = *slot;
    *slot = r;
    zx_decref(old);
    return ZX_OK;
}
