/* hof.h — the builtins that call functions they are given (map, filter, reduce, sort). */
#ifndef ZX_HOF_H
#define ZX_HOF_H

#include "exec/frame.h"

/* Run builtin `id` — one whose effect column has ZX_FX_CALLS, other than parallel_map — on
 * the borrowed arguments (arity already checked), calling functions on task t from frame f:
 * their errors carry their own place and the trace through f; a stop (interrupt, cancel) ends
 * the loop.  *out is a new reference on success. */
zx_status zx_hof_call(zx_task *t, zx_frame *f, int id, const zx_value *argv, uint32_t argc, zx_value *out);

#endif
