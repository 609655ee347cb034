/* parallel.h — the parallel constructs as the interpreter and JIT helpers execute them. */
#ifndef ZX_PARALLEL_H
#define ZX_PARALLEL_H

#include "exec/interp.h"

/* parallel_map(fn, xs): borrowed fn and xs; *out is a new list in input order. */
zx_status zx_parallel_map(zx_task *t, zx_frame *f, zx_value fn, zx_value xs, zx_value *out);
/* Run fork blocks children[first .. first+n-1] of f's code, as closures over f. */
zx_status zx_fork_run(zx_task *t, zx_frame *f, uint32_t first, uint32_t n);
/* `global op= rhs` on a shared variable (consumes rhs). */
zx_status zx_shared_update(zx_task *t, zx_frame *f, uint32_t global, int op, zx_value rhs);

/* Run the top level of a program: as a DAG of chunks on the scheduler when the mode and the
 * analysis say so, else in the interpreter.  Output is committed in program order. */
zx_status zx_parallel_run_main(zx_task *root, zx_frame *f);

uint64_t zx_parallel_now_ns(void);

#endif
