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

/* ---------- parallel_map across MPI ranks (src/dist/, docs/distributed.md) ---------- */

/* `shared` updates of a piece of parallel work, applied in element order at the join. */
typedef struct zx_shared_entry {
    uint32_t global;
    int op;
    zx_value rhs;
} zx_shared_entry;

typedef struct zx_shared_log {
    zx_shared_entry *e;
    size_t n, cap;
} zx_shared_log;
void zx_shared_log_free(zx_shared_log *log);

/* A parallel_map the plan runs in parallel, cut into nblocks blocks of per_block elements
 * (block b: [b * per_block, min(n, (b + 1) * per_block))), as the distributed layer sees it.
 * Every block must end in exactly one of: run here, done elsewhere, redo, skipped; then the
 * map joins exactly as a local one (parallel.c, join_pieces). */
typedef struct zx_pmap_job {
    zx_task *t;
    zx_frame *f;
    zx_value fn;
    zx_list *in;
    uint32_t n, nblocks, per_block;
    struct tbbshim_executor *ex;   /* this rank's workers */
    void *impl;                    /* parallel.c's */
    _Atomic uint32_t *first_failed;  /* the first block that failed here (UINT32_MAX: none):
                                      blocks after it need not run */
} zx_pmap_job;
/* Run block b on the calling worker (it becomes a heap mutator for the time). */
void zx_pmap_job_run_block(zx_pmap_job *j, uint32_t b);
/* Block b ran on another rank without error: its results (moved from results[0 .. size of
 * the block)), its output and its shared-update log (moved). */
void zx_pmap_job_block_done(zx_pmap_job *j, uint32_t b, zx_value *results, const char *out, size_t outlen,
                            zx_shared_log *log);
/* Block b runs again here, in order, at the join: it failed elsewhere (the error and its
 * trace are this rank's), or could not be sent or sent back. */
void zx_pmap_job_block_redo(zx_pmap_job *j, uint32_t b);
/* Block b did not run: an earlier block failed (*first_failed < b). */
void zx_pmap_job_block_skipped(zx_pmap_job *j, uint32_t b);

/* Set in zx_run.dist on rank 0 of a --dist run. */
typedef struct zx_dist_hook {
    void *ctx;
    int (*workers)(void *ctx);     /* the workers of every rank together: blocks are cut for them */
    /* --mode=auto: whether estimated work pays for other ranks (when it does not pay locally) */
    bool (*pays)(void *ctx, uint64_t work);
    /* Run j across the ranks: ZX_OK when every block has ended (see zx_pmap_job); any other
     * status when this map stays on this rank (nothing was done; the reason is in --stats). */
    zx_status (*pmap)(void *ctx, zx_pmap_job *j);
} zx_dist_hook;

#endif
