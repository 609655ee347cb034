/* host.h — host C functions (zx_vm_register) as the interpreter and the analysis see them. */
#ifndef ZX_EXEC_HOST_H
#define ZX_EXEC_HOST_H

#include <stdbool.h>

#include "exec/interp.h"

/* LOAD_HOST: the host function named by the string `name` as a Zexus value (a builtin
 * object with id ZX_BI_COUNT + its index), a new reference in *out. */
zx_status zx_host_load(zx_task *t, zx_frame *f, zx_value name, zx_value *out);
/* Call host function `id` (>= ZX_BI_COUNT) with borrowed arguments; *out is a new reference.
 * A failure is raised on the task at frame f. */
zx_status zx_host_call(zx_task *t, zx_frame *f, int id, const zx_value *argv, uint32_t argc, zx_value *out);
/* True when `name` (a string constant) names a host function registered ZX_HOST_PURE with
 * the VM that loaded p.  Safe from any thread while nothing registers. */
bool zx_host_is_pure(const zx_program *p, zx_value name);
/* Why the builtin value fn may not be a parallel_map function run in parallel: NULL for a
 * builtin or a pure host function, else the reason (a constant string). */
const char *zx_host_pmap_blocker(const zx_program *p, zx_value fn);

#endif
