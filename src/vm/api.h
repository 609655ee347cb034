/* api.h — what the files behind zexus.h's values, calls and host functions share (api_*.c, host.c). */
#ifndef ZX_VM_API_H
#define ZX_VM_API_H

#include "vm/vm.h"

/* A public value handle: one reference to a value of one VM's heap.  A borrowed handle wraps
 * a host function's argument on the C stack; zx_val_free ignores it. */
struct zx_val {
    zx_value v;
    zx_vm *vm;
    uint8_t borrowed;
};

/* A new handle owning one reference to v (taken over from the caller).  NULL when out of
 * memory: the reference is then dropped. */
zx_val *zx_val_wrap(zx_vm *vm, zx_value v);
/* Unwrap a handle the caller owns: its reference passes to the returned value. */
zx_value zx_val_unwrap(zx_val *h);

/* One registered host function. */
typedef struct zx_host {
    char *name;
    size_t len;
    zx_host_fn fn;
    void *userdata;
    unsigned flags;               /* ZX_HOST_* */
    zx_builtin_obj *obj;          /* the function as a Zexus value (id ZX_BI_COUNT + index) */
} zx_host;

/* Free the VM's host table (zx_vm_destroy, before the heap goes). */
void zx_host_table_free(zx_vm *vm);
/* The compiler's view of the VM's host functions (ast.h zx_host_names.has, ud = the VM). */
bool zx_host_has_name(void *vm, const char *name);
/* Check that every LOAD_HOST of p names a host function of vm; else false with a message. */
bool zx_host_check_program(const zx_vm *vm, const zx_program *p, char *err, size_t errsz);

/* Refuse a call made while the VM runs (from a host function or the output callback). */
zx_status zx_vm_check_idle(zx_vm *vm);

#endif
