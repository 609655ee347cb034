/* vm.h — the VM object behind zexus.h's opaque zx_vm, shared by the library's layers. */
#ifndef ZX_VM_H
#define ZX_VM_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "interp.h"
#include "zexus.h"

struct zx_vm {
    zx_options opts;              /* with defaults filled in; topology points at our copy */
    char *topology;
    zx_heap *heap;                /* shared by every program of the VM */
    atomic_int interrupt;
    zx_buf last_error;
    int argc;
    char **argv;
    bool line_buffered;           /* default sink on a terminal: deliver output per print */
    zx_program *programs;         /* loaded programs, destroyed with the VM */
    struct zx_jit_host *jit;      /* JIT state (src/jit_loader.c); NULL until a program loads */
};

void zx_vm_set_error(zx_vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
zx_status zx_vm_load_bytecode_named(zx_vm *vm, const char *name, const void *data, size_t len,
                                    zx_program **out);
zx_status zx_run_init(zx_run *run, zx_program *p);
void zx_run_fini(zx_run *run);
/* Execute the top level of a run with the VM's mode (sequential, DAG, JIT). */
zx_status zx_vm_exec_main(zx_vm *vm, zx_task *root, zx_frame *f);

#endif
