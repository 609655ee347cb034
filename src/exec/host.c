/* host.c — host C functions at run time: LOAD_HOST and calls from Zexus, through the run's host table. */
#include "exec/host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/builtins.h"

/*
 * A host function is registered in its VM's table (src/vm/host.c) before the programs that
 * call it load.  The compiler turns a name no scope declares into LOAD_HOST "name" (the name,
 * not an index, is in the bytecode, so .zxa and .zxbc stay independent of a VM's table);
 * loading checks that every such name is registered.  At run time LOAD_HOST pushes the
 * function's value, a builtin object with id ZX_BI_COUNT + index that the VM holds for its
 * lifetime, and calls go the way of every builtin value (CALL_TOP, parallel_map).  The VM
 * wraps the arguments in public value handles (zx_host_table.invoke).
 */

int zx_host_find(const zx_host_table *hosts, const char *name, size_t len)
{
    for (uint32_t i = 0; hosts && i < hosts->n; i++)
        if (hosts->v[i].len == len && memcmp(hosts->v[i].name, name, len) == 0) return (int)i;
    return -1;
}

/* ---------- from Zexus ---------- */

zx_status zx_host_load(zx_task *t, zx_frame *f, zx_value name, zx_value *out)
{
    const zx_host_table *hosts = t->run->hosts;
    int i = zx_is_type(name, ZX_O_STRING)
                ? zx_host_find(hosts, ZX_AS_STRING(name)->data, ZX_AS_STRING(name)->nbytes)
                : -1;
    if (i < 0) return zx_task_raise_err(t, f, ZX_ERR_HOST_UNKNOWN);
    zx_obj_incref(hosts->v[i].obj);
    *out = zx_objval(hosts->v[i].obj);
    return ZX_OK;
}

zx_status zx_host_call(zx_task *t, zx_frame *f, int id, const zx_value *argv, uint32_t argc, zx_value *out)
{
    const zx_host_table *hosts = t->run->hosts;
    uint32_t k = (uint32_t)(id - ZX_BI_COUNT);
    if (!hosts || k >= hosts->n) return zx_task_raise_err(t, f, ZX_ERR_HOST_UNKNOWN);
    const zx_host *h = &hosts->v[k];
    char msg[400];
    zx_status st = hosts->invoke(hosts->vm, h, argv, argc, out, msg, sizeof msg);
    if (st == ZX_OK) return ZX_OK;
    return zx_task_raise(t, f, st, msg);
}
