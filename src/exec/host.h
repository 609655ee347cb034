/* host.h — host C functions (zx_vm_register) as the interpreter calls them: the table and its calls. */
#ifndef ZX_EXEC_HOST_H
#define ZX_EXEC_HOST_H

#include <stdbool.h>

#include "exec/interp.h"

/* One registered host function. */
typedef struct zx_host {
    char *name;
    size_t len;
    zx_host_fn fn;
    void *userdata;
    unsigned flags;               /* ZX_HOST_* */
    zx_builtin_obj *obj;          /* the function as a Zexus value (id ZX_BI_COUNT + index) */
} zx_host;

/* Call host function h with borrowed arguments as the embedder's API sees them (public value
 * handles of the VM): ZX_OK and the new reference it returned in *out (null when none), or the
 * status to raise (ZX_E_RUNTIME, ZX_E_MEMORY, ZX_E_INTERRUPTED) and its message in msg. */
typedef zx_status (*zx_host_invoke_fn)(void *vm, const zx_host *h, const zx_value *argv, uint32_t argc,
                                       zx_value *out, char *msg, size_t msgsz);

/* A VM's host functions (registered by src/vm/host.c).  The table only grows, and only while
 * nothing runs, so tasks read it without a lock. */
typedef struct zx_host_table {
    zx_host *v;
    uint32_t n, cap;
    void *vm;                     /* the VM, as host functions receive it */
    zx_host_invoke_fn invoke;
} zx_host_table;

/* Index of the host function called name[0..len), or -1. */
int zx_host_find(const zx_host_table *hosts, const char *name, size_t len);
/* LOAD_HOST: the host function named by the string `name` as a Zexus value (a builtin
 * object with id ZX_BI_COUNT + its index), a new reference in *out. */
zx_status zx_host_load(zx_task *t, zx_frame *f, zx_value name, zx_value *out);
/* Call host function `id` (>= ZX_BI_COUNT) with borrowed arguments; *out is a new reference.
 * A failure is raised on the task at frame f. */
zx_status zx_host_call(zx_task *t, zx_frame *f, int id, const zx_value *argv, uint32_t argc, zx_value *out);

#endif
