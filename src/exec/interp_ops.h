/* interp_ops.h — pieces of the interpreter that the JIT's runtime helpers reuse (jit/host/jit_helpers.c). */
#ifndef ZX_INTERP_OPS_H
#define ZX_INTERP_OPS_H

#include "exec/interp.h"

/* zx_frame.is_base of a frame that native code left through a side exit: the interpreter
 * finishes it and never re-enters native code for it at a back-edge (no ping-pong). */
#define ZX_FRAME_NO_OSR 2

/* The interpreter loop itself: zx_interp_exec without the switch to native code.  Side exits
 * of native code and the single-instruction step helper resume here. */
zx_status zx_interp_run(zx_task *t, zx_frame *f, uint32_t end_pc, zx_value *result);
/* zx_interp_run from f->pc to end_pc for native code that runs a few instructions here (the
 * step helper, literals as data): an error is left to native code's own handler dispatch
 * rather than caught in f. */
zx_status zx_interp_step(zx_task *t, zx_frame *f, uint32_t end_pc);
/* CALL_BUILTIN, or CALL_METHOD on anything but an instance, at f->pc without entering the
 * loop; false (nothing done) for a method call on an instance. */
bool zx_interp_builtin_op(zx_task *t, zx_frame *f, zx_status *st);

/* The status after poll_stop found the run interrupted or cancelled (raises "interrupted"). */
zx_status zx_interp_stop_status(zx_task *t, zx_frame *f);
/* Raise "undefined variable 'NAME'" for the load instruction at f->pc. */
zx_status zx_interp_raise_undefined(zx_task *t, zx_frame *f);
/* obj[key] with borrowed operands; *out is a new reference. */
zx_status zx_interp_index_get(zx_task *t, zx_frame *f, zx_value obj, zx_value key, zx_value *out);
/* obj[key] = v with borrowed operands (STORE_INDEX without its pops). */
zx_status zx_interp_index_set(zx_task *t, zx_frame *f, zx_value obj, zx_value key, zx_value v);

#endif
