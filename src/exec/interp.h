/* interp.h — the interpreter (tier 0): execution of bytecode ranges and calls on frames. */
#ifndef ZX_INTERP_H
#define ZX_INTERP_H

#include "exec/frame.h"

/* Run frame f (a base frame) from f->pc until its pc reaches end_pc or it returns; the
 * returned value, if any, goes to *result (a new reference; null if it stopped at end_pc). */
zx_status zx_interp_exec(zx_task *t, zx_frame *f, uint32_t end_pc, zx_value *result);

/* Call a callable value with borrowed arguments; *result is a new reference. */
zx_status zx_interp_call(zx_task *t, zx_frame *caller, zx_value fn, const zx_value *argv, uint32_t argc,
                         zx_value *result);

/* A closure of child (a code object nested in f's) capturing its free variables from frame
 * f; MAKE_CLOSURE and fork blocks both make theirs here.  Undef when out of memory. */
zx_value zx_closure_new(zx_task *t, zx_frame *f, zx_code *child);

#endif
