/* parallel.c — the chunk DAG, parallel_map, fork/join and shared updates, with sequential results. */
#include "exec/parallel.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis/plan.h"
#include "runtime/arith.h"
#include "exec/executor.h"
#include "exec/interp_ops.h"
#include "exec/run_stats.h"

/*
 * Every piece of parallel work (a chunk of the top level, a block of parallel_map elements, a
 * fork block) runs as its own task: its own output buffer, its own value stack.  When the work
 * joins, the pieces' buffers are spliced into the parent in program order, so output is
 * exactly that of the sequential run.  The first failure in program order wins: later pieces
 * are cancelled (zx_cancel_scope), earlier ones still finish because one may fail first.
 *
 * `shared` updates: the elements of a parallel_map are not ordered among themselves, so each
 * block logs its updates and the logs are applied in program order at the join.  Top-level
 * chunks and fork blocks are ordered by the analysis against every other piece that reads,
 * writes or updates the same variable (docs/analysis.md §4), so they apply their updates
 * directly, like a sequential run, and a later block that reads the variable sees them; they
 * log only when they run inside logged work (a fork inside a parallel_map element).  A log
 * that cannot be applied (an integer overflow) makes its block run again sequentially on the
 * parent, updates applied directly, so the error is raised at the update with its trace.
 *
 * Whether something runs in parallel the plan decides (analysis/plan.h), before the run:
 * --mode=seq never; --mode=par whenever the analysis allows it; --mode=auto when the analysis
 * allows it and the estimated work is worth more than going parallel costs.  What only the run
 * knows (which function reaches a parallel_map, its element count, how long the top level's
 * first chunks take) is applied here to the plan's facts.
 */
/* --mode=auto runs the top level's chunks in order on the calling thread until this much time
 * has passed, and only the chunks left then go parallel: starting the scheduler and reading
 * the topology cost several milliseconds, more than a short program runs. */
#define AUTO_PREFIX_NS 1000000u
#define PMAP_BLOCKS_PER_WORKER 4

void zx_stats_note(zx_run_stats *stats, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&stats->lock);
    zx_buf *b = &stats->notes;
    size_t n = strlen(line);
    bool seen = false;
    for (size_t i = 0; i + n <= b->len && !seen; i++)
        seen = (i == 0 || b->data[i - 1] == '\n') && memcmp(b->data + i, line, n) == 0 &&
               (i + n == b->len || b->data[i + n] == '\n');
    if (!seen) {
        zx_buf_put(b, line, n);
        zx_buf_put(b, "\n", 1);
    }
    pthread_mutex_unlock(&stats->lock);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---------- shared updates ---------- */

static void log_free(zx_shared_log *log)
{
    for (size_t i = 0; i < log->n; i++) zx_decref(log->e[i].rhs);
    free(log->e);
    memset(log, 0, sizeof *log);
}

static bool log_append(zx_shared_log *log, uint32_t global, int op, zx_value rhs)
{
    if (log->n == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 16;
        zx_shared_entry *e = realloc(log->e, cap * sizeof *e);
        if (!e) return false;
        log->e = e;
        log->cap = cap;
    }
    log->e[log->n++] = (zx_shared_entry){ global, op, rhs };
    return true;
}

static zx_status apply_update(zx_task *t, zx_frame *f, uint32_t global, int op, zx_value rhs)
{
    zx_value *slot = t->run->gvar[global];
    if (slot->tag == ZX_T_UNDEF) {
        zx_decref(rhs);
        return zx_task_raise_err(t, f, ZX_ERR_UNDEFINED, t->run->prog->globals[global].name);
    }
    zx_value r;
    zx_error err;
    bool ok = zx_binop(t->run->heap, (zx_arith_op)op, *slot, rhs, &r, &err);
    zx_decref(rhs);
    if (!ok) return zx_task_raise_error(t, f, &err);
    partitions_store(t->run->parts, global, r);     /* under the shared globals' lock */
    return ZX_OK;
}

zx_status zx_shared_update(zx_task *t, zx_frame *f, uint32_t global, int op, zx_value rhs)
{
    if (t->shared_log) {
        /* inside parallel work: applied at the join, in element order */
        if (!log_append(t->shared_log, global, op, rhs)) {
            zx_decref(rhs);
            return zx_task_raise_err(t, f, ZX_ERR_MEMORY);
        }
        return ZX_OK;
    }
    return apply_update(t, f, global, op, rhs);
}

/* Move a finished piece's log into the parent: its own log when the parent is itself parallel
 * work, else the globals (failures raised on the parent).  Consumes the log. */
static zx_status join_log(zx_task *t, zx_frame *f, zx_shared_log *log)
{
    zx_status st = ZX_OK;
    size_t i = 0;
    for (; i < log->n && st == ZX_OK; i++) st = zx_shared_update(t, f, log->e[i].global, log->e[i].op, log->e[i].rhs);
    for (; i < log->n; i++) zx_decref(log->e[i].rhs);
    free(log->e);
    memset(log, 0, sizeof *log);
    return st;
}

typedef struct undo_entry {
    uint32_t global;
    zx_value old;
} undo_entry;

/* Apply a finished piece's log to the globals, in order, without consuming it.  When an update
 * fails (an integer overflow, an undefined variable, no memory) every update of the log that
 * was applied is undone and the answer is false: the caller runs the piece again. */
static bool apply_log(zx_run *run, const zx_shared_log *log)
{
    undo_entry *undo = NULL;
    size_t nundo = 0, cap = 0;
    bool ok = true;
    partitions_write_lock(run->parts);   /* an observer sees the piece's updates all at once */
    for (size_t i = 0; i < log->n && ok; i++) {
        const zx_shared_entry *e = &log->e[i];
        zx_value *slot = run->gvar[e->global];
        size_t k = 0;
        while (k < nundo && undo[k].global != e->global) k++;
        if (k == nundo) {            /* first update of this variable: keep its value */
            if (nundo == cap) {
                size_t ncap = cap ? cap * 2 : 4;
                undo_entry *u = realloc(undo, ncap * sizeof *u);
                if (!u) {
                    ok = false;
                    break;
                }
                undo = u;
                cap = ncap;
            }
            zx_incref(*slot);
            undo[nundo++] = (undo_entry){ e->global, *slot };
        }
        zx_error err;      /* not raised: the block runs again sequentially and raises it there */
        zx_value r;
        if (slot->tag == ZX_T_UNDEF || !zx_binop(run->heap, (zx_arith_op)e->op, *slot, e->rhs, &r, &err)) {
            ok = false;
            break;
        }
        zx_decref(*slot);
        *slot = r;
    }
    for (size_t k = 0; k < nundo && !ok; k++) {
        zx_value *slot = run->gvar[undo[k].global], cur = *slot;
        *slot = undo[k].old;
        undo[k].old = cur;           /* released below */
    }
    partitions_write_unlock(run->parts);
    for (size_t k = 0; k < nundo; k++) zx_decref(undo[k].old);
    free(undo);
    return ok;
}

/* ---------- pieces of parallel work ---------- */

typedef struct piece {
    zx_task task;
    zx_cancel_link link;
    zx_shared_log log;
    undo_entry *snap;             /* a top-level chunk: the globals it may write, as they were
                                     when it started (owned references) */
    uint32_t nsnap;
    struct fork_undo *fsnap;      /* a fork block: the variables it may write, as they were when
                                     it started (owned references); see fork_snapshot */
    uint32_t nfsnap;
    uint8_t undoable;             /* a fork block whose effects fsnap undoes */
    uint8_t ran;
    uint8_t failed;
    uint8_t redo;                 /* run again in order at the join (after a memory limit) */
} piece;

/* A limit hit by work that ran ahead is not final (DESIGN.md §5): the memory other pieces
 * held at the time may not exist yet in a sequential run.  A piece that failed this way runs
 * again, in order, once everything before it is done and what ran after it is undone. */
static bool failed_on_memory(const piece *p)
{
    return p->failed && p->task.status == ZX_E_MEMORY;
}

static void piece_init(piece *p, zx_task *parent, zx_frame *caller, zx_cancel_scope *scope, uint32_t index)
{
    zx_task_init(&p->task, parent->run, caller);
    p->link.scope = scope;
    p->link.index = index;
    p->link.outer = parent->cancel;
    p->task.cancel = &p->link;
    p->task.shared_log = &p->log;
    p->task.pmap_element = parent->pmap_element;
}

static void piece_fail(piece *p, zx_cancel_scope *scope)
{
    p->failed = 1;
    uint32_t cur = atomic_load(&scope->first_failed);
    while (p->link.index < cur && !atomic_compare_exchange_weak(&scope->first_failed, &cur, p->link.index)) {
    }
    atomic_store_explicit(&p->task.run->cancel, 1, memory_order_relaxed);
}

/* A piece that stops before its end (cancelled, interrupted) is failed, so that no join ever
 * takes its partial work for finished work. */
static void piece_stop(piece *p, zx_frame *f, zx_cancel_scope *scope)
{
    zx_interp_stop_status(&p->task, f);
    piece_fail(p, scope);
}

/* Run piece i again on the parent task, sequentially, its shared updates applied directly. */
typedef zx_status (*rerun_fn)(void *ctx, zx_task *t, uint32_t i);

/* Splice the pieces' shared logs and output into the parent in order, up to and including the
 * first failed piece, whose error becomes the parent's.  A piece whose log cannot be applied to
 * the globals is run again with rerun (its output discarded): the sequential run's error, at
 * the update, after exactly the output before it. */
static zx_status join_pieces(zx_task *t, zx_frame *f, piece *ps, uint32_t n, rerun_fn rerun, void *ctx)
{
    zx_status st = ZX_OK;
    for (uint32_t i = 0; i < n; i++) {
        piece *p = &ps[i];
        if (st == ZX_OK && p->redo) {
            st = rerun(ctx, t, i);          /* after a memory limit: the sequential run's result */
        } else if (st == ZX_OK) {
            bool again = false;
            if (t->shared_log || !rerun) st = join_log(t, f, &p->log);
            else again = p->log.n && !apply_log(t->run, &p->log);
            if (again) {
                st = rerun(ctx, t, i);      /* replaces the piece: its output and error are dropped */
            } else {
                if (st == ZX_OK && p->task.out.len) st = zx_task_write(t, p->task.out.data, p->task.out.len);
                if (st == ZX_OK && p->failed) {
                    st = p->task.status;
                    zx_task_move_error(t, &p->task);
                }
            }
        }
        log_free(&p->log);
        zx_task_fini(&p->task);
    }
    return st;
}

/* The run's scheduler with its executor started (the first parallel work starts it).  Asked
 * only once the plan's decision is made: starting oneTBB costs milliseconds that a sequential
 * run must not pay. */
static zx_sched *sched_for(zx_task *t)
{
    zx_run *run = t->run;
    if (run->plan->mode == ZX_MODE_SEQ) return NULL;
    char err[256];
    if (!run->sched) {
        zx_stats_note(run->stats, "no parallel scheduler: %s", run->sched_error ? run->sched_error : "none made");
        return NULL;
    }
    if (!zx_sched_executor(run->sched, err, sizeof err)) {
        zx_stats_note(run->stats, "no parallel scheduler: %s", err);
        return NULL;
    }
    return run->sched;
}

/* The source file of frame f's code (a module's own file for code in a used file). */
static const char *file_of(zx_task *t, const zx_frame *f) { return zx_code_file(t->run->prog, f->code); }

/* ---------- parallel_map ---------- */

typedef struct pmap_ctx {
    zx_task *parent;
    zx_frame *f;
    zx_value fn;
    zx_list *in;
    zx_value *results;
    piece *pieces;
    uint32_t nblocks, per_block, n;
    zx_cancel_scope scope;
} pmap_ctx;

static void pmap_block(pmap_ctx *c, uint32_t b)
{
    piece *p = &c->pieces[b];
    p->ran = 1;
    uint32_t lo = b * c->per_block, hi = lo + c->per_block;
    if (hi > c->n) hi = c->n;
    for (uint32_t i = lo; i < hi; i++) {
        if (zx_task_should_stop(&p->task)) {
            piece_stop(p, c->f, &c->scope);
            return;
        }
        zx_value elem = zx_list_get(c->in, i);
        p->task.pmap_element = (long)i;
        if (zx_interp_call(&p->task, c->f, c->fn, &elem, 1, &c->results[i]) != ZX_OK) {
            piece_fail(p, &c->scope);
            return;
        }
    }
}

/* Block b's elements again, on the parent task, in order (join_pieces' rerun). */
static zx_status pmap_rerun(void *ctx, zx_task *t, uint32_t b)
{
    pmap_ctx *c = ctx;
    uint32_t lo = b * c->per_block, hi = lo + c->per_block;
    if (hi > c->n) hi = c->n;
    long saved = t->pmap_element;
    zx_status st = ZX_OK;
    for (uint32_t i = lo; i < hi && st == ZX_OK; i++) {
        zx_value elem = zx_list_get(c->in, i);
        zx_decref(c->results[i]);
        c->results[i] = zx_undef();
        t->pmap_element = (long)i;
        st = zx_interp_call(t, c->f, c->fn, &elem, 1, &c->results[i]);
    }
    t->pmap_element = saved;
    return st;
}

static void pmap_body(void *ctx, size_t begin, size_t end, int slot)
{
    (void)slot;
    pmap_ctx *c = ctx;
    zx_heap *h = c->parent->run->heap;
    for (size_t b = begin; b < end; b++) {
        zx_heap_mutator_enter(h);                /* the cycle collector's gate (value.h) */
        pmap_block(c, (uint32_t)b);
        zx_heap_mutator_leave(h);
    }
}

/* ---------- the distributed side's view of a parallel_map (parallel.h, src/dist/) ---------- */

void zx_pmap_job_run_block(zx_pmap_job *j, uint32_t b) { pmap_body(j->impl, b, b + 1, 0); }

void zx_pmap_job_block_done(zx_pmap_job *j, uint32_t b, zx_value *results, const char *out, size_t outlen,
                            zx_shared_log *log)
{
    pmap_ctx *c = j->impl;
    piece *p = &c->pieces[b];
    p->ran = 1;
    uint32_t lo = b * c->per_block, hi = lo + c->per_block;
    if (hi > c->n) hi = c->n;
    for (uint32_t i = lo; i < hi; i++) c->results[i] = results[i - lo];
    if (outlen) zx_buf_put(&p->task.out, out, outlen);
    p->log = *log;
    memset(log, 0, sizeof *log);
}

void zx_pmap_job_block_redo(zx_pmap_job *j, uint32_t b)
{
    pmap_ctx *c = j->impl;
    c->pieces[b].ran = 1;
    c->pieces[b].redo = 1;
}

void zx_pmap_job_block_skipped(zx_pmap_job *j, uint32_t b)
{
    pmap_ctx *c = j->impl;
    piece *p = &c->pieces[b];
    p->ran = 1;
    p->failed = 1;
    p->task.status = ZX_E_INTERRUPTED;
}

void zx_shared_log_free(zx_shared_log *log) { log_free(log); }

static zx_status pmap_sequential(zx_task *t, zx_frame *f, zx_value fn, zx_list *in, zx_value *out)
{
    zx_list *res = zx_list_new(t->run->heap, in->len);
    if (!res) return zx_task_raise_err(t, f, ZX_ERR_MEMORY);
    long saved = t->pmap_element;
    zx_status st = ZX_OK;
    for (uint32_t i = 0; i < in->len; i++) {
        zx_value elem = zx_list_get(in, i), r;
        zx_incref(elem);
        t->pmap_element = (long)i;
        st = zx_interp_call(t, f, fn, &elem, 1, &r);
        zx_decref(elem);
        if (st != ZX_OK) break;
        bool ok = zx_list_push_fresh(t->run->heap, res, r);
        zx_decref(r);
        if (!ok) {
            st = zx_task_raise_err(t, f, ZX_ERR_MEMORY);
            break;
        }
    }
    t->pmap_element = saved;
    if (st != ZX_OK) {
        zx_obj_decref(res);
        return st;
    }
    *out = zx_objval(res);
    return ZX_OK;
}

zx_status zx_parallel_map(zx_task *t, zx_frame *f, zx_value fn, zx_value xs, zx_value *out)
{
    if (!zx_is_type(xs, ZX_O_LIST)) return zx_task_raise_err(t, f, ZX_ERR_PMAP_TYPE, zx_type_name(xs));
    if (!zx_is_type(fn, ZX_O_FUNC) && !zx_is_type(fn, ZX_O_BUILTIN))
        return zx_task_raise_err(t, f, ZX_ERR_NOT_CALLABLE, zx_type_name(fn));
    const zx_plan *pl = t->run->plan;
    zx_run_stats *stats = t->run->stats;
    zx_list *in = ZX_AS_LIST(xs);
    uint32_t n = in->len;
    zx_pos pos = f->code->positions[f->pc];
    bool par_mode = n >= 2 && pl->mode != ZX_MODE_SEQ;
    uint64_t cost = 0;
    const char *why = par_mode ? plan_pmap_blocker(pl, fn, &cost) : NULL;
    const zx_dist_hook *dist = t->run->dist;   /* other MPI ranks may take it (src/dist/) */
    if (par_mode && !why && !plan_worth_it(pl, cost * n, (double)n) && !(dist && dist->pays(dist->ctx, cost * n)))
        why = "too little work to pay for going parallel (--mode=auto)";
    zx_sched *s = par_mode && !why ? sched_for(t) : NULL;
    if (!s || why) {
        if (why)
            zx_stats_note(stats, "parallel_map at %s:%u:%u ran sequentially: %s", file_of(t, f), pos.line, pos.col, why);
        atomic_fetch_add(&stats->pmaps_sequential, 1);
        return pmap_sequential(t, f, fn, in, out);
    }
    atomic_fetch_add(&stats->pmaps_parallel, 1);
    atomic_fetch_add(&stats->pmap_elements, n);

    pmap_ctx c;
    memset(&c, 0, sizeof c);
    c.parent = t;
    c.f = f;
    c.fn = fn;
    c.in = in;
    c.n = n;
    uint32_t want = (uint32_t)(dist ? dist->workers(dist->ctx) : s->workers) * PMAP_BLOCKS_PER_WORKER;
    c.nblocks = n < want ? n : want;
    c.per_block = (n + c.nblocks - 1) / c.nblocks;
    c.nblocks = (n + c.per_block - 1) / c.per_block;
    atomic_init(&c.scope.first_failed, UINT32_MAX);
    c.results = calloc(n, sizeof *c.results);
    c.pieces = calloc(c.nblocks, sizeof *c.pieces);
    if (!c.results || !c.pieces) {
        free(c.results);
        free(c.pieces);
        return zx_task_raise_err(t, f, ZX_ERR_MEMORY);
    }
    for (uint32_t b = 0; b < c.nblocks; b++) piece_init(&c.pieces[b], t, f, &c.scope, b);
    zx_rc_concurrent_begin();                 /* other threads reach objects (value.h) */
    int gate = zx_heap_mutator_suspend(t->run->heap);   /* waiting: no mutator */
    zx_pmap_job job = { t, f, fn, in, n, c.nblocks, c.per_block, s->ex, &c, &c.scope.first_failed };
    tbbshim_status ts = dist && dist->pmap(dist->ctx, &job) == ZX_OK
                            ? TBBSHIM_OK    /* across the ranks (src/dist/): every block ran, came back or is redone */
                            : tbbshim_parallel_for(s->ex, c.nblocks, 1, pmap_body, &c, NULL);
    zx_heap_mutator_resume(t->run->heap, gate);
    zx_rc_concurrent_end();
    zx_status st = ZX_OK;
    if (ts == TBBSHIM_ERROR) {
        /* the shim itself failed: finish the blocks that did not run, in order, here */
        for (uint32_t b = 0; b < c.nblocks; b++)
            if (!c.pieces[b].ran) pmap_block(&c, b);
    }
    /* the first failed block, if the memory limit stopped it, and every block after it run
     * again in order on this task; what those later blocks made is dropped first, as a
     * sequential run would not have made it yet */
    for (uint32_t b = 0; b < c.nblocks; b++) {
        if (!c.pieces[b].failed) continue;
        if (failed_on_memory(&c.pieces[b])) {
            zx_stats_note(stats, "parallel_map at %s:%u:%u: the memory limit stopped an element that ran in "
                          "parallel; elements from %u on ran again in order", file_of(t, f), pos.line, pos.col,
                          b * c.per_block);
            for (uint32_t r = b; r < c.nblocks; r++) {
                piece *p = &c.pieces[r];
                p->redo = 1;
                p->failed = 0;
                log_free(&p->log);
                p->task.out.len = 0;
                uint32_t lo = r * c.per_block, hi = lo + c.per_block;
                for (uint32_t i = lo; i < hi && i < n; i++) {
                    zx_decref(c.results[i]);
                    c.results[i] = zx_undef();
                }
            }
        }
        break;
    }
    st = join_pieces(t, f, c.pieces, c.nblocks, pmap_rerun, &c);
    if (st == ZX_OK) {
        zx_list *res = zx_list_new(t->run->heap, n);
        if (!res) {
            st = zx_task_raise_err(t, f, ZX_ERR_MEMORY);
        } else {
            for (uint32_t i = 0; i < n && st == ZX_OK; i++)
                if (!zx_list_push_fresh(t->run->heap, res, c.results[i]))
                    st = zx_task_raise_err(t, f, ZX_ERR_MEMORY);
            if (st == ZX_OK) *out = zx_objval(res);
            else zx_obj_decref(res);
        }
    }
    for (uint32_t i = 0; i < n; i++) zx_decref(c.results[i]);
    free(c.results);
    free(c.pieces);
    return st;
}

/* ---------- fork / join ---------- */

typedef struct fork_ctx {
    zx_frame *f;
    zx_value *closures;
    piece *pieces;
    const analysis *a;
    const analysis_code *holder;  /* the code object running the fork (f->code) */
    const analysis_fork *af;
    zx_cancel_scope scope;
} fork_ctx;

/* A variable a fork block may write: a global's slot or a cell of the frame running the fork. */
typedef struct fork_undo {
    zx_value *slot;
    zx_value old;
} fork_undo;

/* The slot through which the block writes location loc that must be put back to undo it, or
 * NULL when none needs to be (a local of an activation the block itself started).  *ok turns
 * false when the location cannot be undone: a variable some other closure may write (another
 * activation's, loc_escapes), or a cell missing from the frame. */
static zx_value *fork_loc_slot(const fork_ctx *c, zx_run *run, uint32_t loc, bool *ok)
{
    if (loc < run->prog->nglobals) return run->gvar[loc];
    if (loc >= c->a->nlocs || c->a->loc_escapes[loc]) {
        *ok = false;
        return NULL;
    }
    if (c->a->loc_code[loc] != c->holder->id) return NULL;   /* written only by fresh activations */
    uint32_t s = loc - c->holder->loc_base;
    if (s >= c->f->code->nlocals || !zx_is_type(c->f->locals[s], ZX_O_CELL)) {
        *ok = false;
        return NULL;
    }
    return &((zx_cell *)c->f->locals[s].u.o)->v;
}

/* Keep what block i may change, as it is when the block starts, so that the block can be
 * undone and run again in order after a memory limit (DESIGN.md §5).  Only a block that
 * changes nothing but variables can be: no heap writes, no unresolved calls, no files, clock
 * or random state.  Blocks that touch the same variable are ordered by the fork's DAG, so
 * nothing else changes these while the block runs. */
static void fork_snapshot(fork_ctx *c, piece *p, uint32_t i)
{
    zx_run *run = p->task.run;
    const analysis_code *bc = c->af && i < c->af->nblocks ? &c->a->codes[c->af->blocks[i]] : NULL;
    if (!bc || !c->holder || c->holder->code != c->f->code) return;
    const analysis_summary *e = &bc->summary;
    if (e->writes_heap || e->calls_unknown || e->ordered_fx) return;
    uint32_t n = e->writes.n + e->updates.n;
    p->fsnap = n ? malloc(n * sizeof *p->fsnap) : NULL;
    if (n && !p->fsnap) return;
    bool ok = true;
    analysis_locset_iter it;
    analysis_locset_iter_init(&it, &e->writes);
    for (uint32_t k = 0, loc; k < n && ok; k++) {
        if (k == e->writes.n) analysis_locset_iter_init(&it, &e->updates);
        if (!analysis_locset_next(&it, &loc)) break;
        zx_value *slot = fork_loc_slot(c, run, loc, &ok);
        if (!slot) continue;
        zx_incref(*slot);
        p->fsnap[p->nfsnap++] = (fork_undo){ slot, *slot };
    }
    p->undoable = ok;
}

/* Put back what fork_snapshot kept, last kept first (a variable both written and updated is
 * kept twice with the same value). */
static void fork_restore(piece *p)
{
    for (uint32_t k = p->nfsnap; k-- > 0;) {
        zx_value old = *p->fsnap[k].slot;
        zx_incref(p->fsnap[k].old);
        *p->fsnap[k].slot = p->fsnap[k].old;
        zx_decref(old);
    }
}

static void fork_snapshot_free(piece *p)
{
    for (uint32_t k = 0; k < p->nfsnap; k++) zx_decref(p->fsnap[k].old);
    free(p->fsnap);
    p->fsnap = NULL;
    p->nfsnap = 0;
    p->undoable = 0;
}

static int fork_node(void *ctx, uint32_t i)
{
    fork_ctx *c = ctx;
    piece *p = &c->pieces[i];
    if (i > atomic_load(&c->scope.first_failed)) return 0;   /* cancelled by an earlier block */
    p->ran = 1;
    zx_value r;
    zx_heap_mutator_enter(p->task.run->heap);   /* the cycle collector's gate (value.h) */
    fork_snapshot(c, p, i);
    if (zx_interp_call(&p->task, c->f, c->closures[i], NULL, 0, &r) != ZX_OK) piece_fail(p, &c->scope);
    else zx_decref(r);
    zx_heap_mutator_leave(p->task.run->heap);
    return 0;
}

/* Block i again on the parent task, in order (join_pieces' rerun). */
static zx_status fork_rerun(void *ctx, zx_task *t, uint32_t i)
{
    fork_ctx *c = ctx;
    zx_value r;
    zx_status st = zx_interp_call(t, c->f, c->closures[i], NULL, 0, &r);
    if (st == ZX_OK) zx_decref(r);
    return st;
}

/* When the memory limit stopped a block while others ran (DESIGN.md §5), and that block and
 * every later one that ran can be undone: undo them, last first, and mark the block and every
 * later one to run again in order at the join.  Otherwise the failure stands. */
static void fork_redo_after_memory(fork_ctx *c, zx_task *t, uint32_t n)
{
    uint32_t b = 0;
    while (b < n && !c->pieces[b].failed) b++;
    if (b == n || !failed_on_memory(&c->pieces[b])) return;
    for (uint32_t i = b; i < n; i++)
        if (c->pieces[i].ran && !c->pieces[i].undoable) return;
    for (uint32_t i = n; i-- > b;)
        if (c->pieces[i].ran) fork_restore(&c->pieces[i]);
    for (uint32_t i = b; i < n; i++) {
        piece *p = &c->pieces[i];
        p->redo = 1;
        p->failed = 0;
        log_free(&p->log);
        p->task.out.len = 0;
    }
    zx_pos pos = c->f->code->positions[c->f->pc];
    zx_stats_note(t->run->stats, "fork at %s:%u:%u: the memory limit stopped block %u while other blocks ran; "
                  "blocks from %u on ran again in order", file_of(t, c->f), pos.line, pos.col, b + 1, b + 1);
}

zx_status zx_fork_run(zx_task *t, zx_frame *f, uint32_t first, uint32_t n)
{
    const zx_plan *pl = t->run->plan;
    zx_run_stats *stats = t->run->stats;
    zx_value *closures = calloc(n, sizeof *closures);
    if (!closures) return zx_task_raise_err(t, f, ZX_ERR_MEMORY);
    zx_status st = ZX_OK;
    for (uint32_t i = 0; i < n && st == ZX_OK; i++) {
        closures[i] = zx_closure_new(t, f, f->code->children[first + i]);
        if (closures[i].tag == ZX_T_UNDEF) st = zx_task_raise_err(t, f, ZX_ERR_MEMORY);
    }
    bool par_mode = st == ZX_OK && pl->mode != ZX_MODE_SEQ;
    const plan_fork *pf = par_mode ? plan_fork_at(pl, f->code, f->pc) : NULL;
    const analysis_fork *af = pf ? pf->fork : NULL;
    bool wanted = af && af->nblocks == n && pf->parallel;
    zx_sched *s = wanted ? sched_for(t) : NULL;
    bool parallel = wanted && s;
    if (st == ZX_OK && !parallel) {
        if (par_mode && !wanted) {
            zx_pos pos = f->code->positions[f->pc];
            zx_stats_note(stats, "fork at %s:%u:%u ran sequentially: %s", file_of(t, f), pos.line, pos.col,
                          af ? "too little work or no independent blocks (--mode=auto)" : "no analysis");
        }
        atomic_fetch_add(&stats->forks_sequential, 1);
        for (uint32_t i = 0; i < n && st == ZX_OK; i++) {
            zx_value r;
            st = zx_interp_call(t, f, closures[i], NULL, 0, &r);
            if (st == ZX_OK) zx_decref(r);
        }
    } else if (st == ZX_OK) {
        atomic_fetch_add(&stats->forks_parallel, 1);
        if (pf->ordered) {
            zx_pos pos = f->code->positions[f->pc];
            zx_stats_note(stats, "fork at %s:%u:%u: %s", file_of(t, f), pos.line, pos.col, pf->ordered);
        }
        fork_ctx c;
        memset(&c, 0, sizeof c);
        c.f = f;
        c.closures = closures;
        c.a = pl->a;
        c.holder = pl->a && pf->code < pl->a->ncodes ? &pl->a->codes[pf->code] : NULL;
        c.af = af;
        atomic_init(&c.scope.first_failed, UINT32_MAX);
        c.pieces = calloc(n, sizeof *c.pieces);
        if (!c.pieces) {
            st = zx_task_raise_err(t, f, ZX_ERR_MEMORY);
        } else {
            for (uint32_t i = 0; i < n; i++) {
                piece_init(&c.pieces[i], t, f, &c.scope, i);
                /* ordered by the fork's DAG against every block that touches the same shared
                 * variable: updates apply directly unless the fork is itself inside logged work */
                if (!t->shared_log) c.pieces[i].task.shared_log = NULL;
            }
            zx_rc_concurrent_begin();         /* other threads reach objects (value.h) */
            int gate = zx_heap_mutator_suspend(t->run->heap);   /* waiting: no mutator */
            tbbshim_status ts = tbbshim_run_dag(s->ex, n, af->dag.succ_offsets, af->dag.succs, af->dag.npreds,
                                                fork_node, &c, NULL);
            zx_heap_mutator_resume(t->run->heap, gate);
            zx_rc_concurrent_end();
            if (ts == TBBSHIM_ERROR)
                for (uint32_t i = 0; i < n; i++)
                    if (!c.pieces[i].ran) fork_node(&c, i);
            fork_redo_after_memory(&c, t, n);
            st = join_pieces(t, f, c.pieces, n, fork_rerun, &c);
            for (uint32_t i = 0; i < n; i++) fork_snapshot_free(&c.pieces[i]);
            free(c.pieces);
        }
    }
    for (uint32_t i = 0; i < n; i++) zx_decref(closures[i]);
    free(closures);
    return st;
}

/* ---------- the top level as a DAG of chunks ---------- */

typedef struct dag_ctx {
    zx_task *root;
    zx_program *prog;
    const analysis_code *ac;
    uint32_t base;                /* DAG node k is chunk base + k; the chunks before ran already */
    piece *pieces;
    zx_cancel_scope scope;
    /* committing output in program order as chunks finish */
    pthread_mutex_t commit_lock;
    uint32_t next_commit;
    uint8_t *done;
} dag_ctx;

/* Deliver the output of every finished chunk at the head of program order, then let the
 * chunk now at the head, if it has not finished, stream: everything before it has gone to the
 * sink, so it may write there itself as it prints (a closed pipe stops it there, as it would
 * stop a sequential run).  Chunks after it keep buffering.  The lock guards only this
 * bookkeeping and the writes; no Zexus code runs under it. */
static void dag_commit(dag_ctx *c)
{
    pthread_mutex_lock(&c->commit_lock);
    uint32_t n = c->ac->nchunks;
    bool stopped = false;
    while (c->next_commit < n && c->done[c->next_commit]) {
        piece *p = &c->pieces[c->next_commit];
        if (failed_on_memory(p)) {   /* it may run again: its output waits for the decision */
            stopped = true;
            break;
        }
        if (p->task.out.len) {
            zx_task_write(c->root, p->task.out.data, p->task.out.len);
            p->task.out.len = 0;
        }
        if (p->failed) {        /* nothing after a failure is committed */
            stopped = true;
            break;
        }
        c->next_commit++;
    }
    if (!stopped && c->next_commit < n) {
        zx_task *head = &c->pieces[c->next_commit].task;
        if (!atomic_load_explicit(&head->streaming, memory_order_relaxed)) {
            zx_task_flush(c->root);
            /* release: the chunk's own flushes come after what was just written */
            atomic_store_explicit(&head->streaming, 1, memory_order_release);
        }
    }
    pthread_mutex_unlock(&c->commit_lock);
}

/* Run chunk ch of the top level in a frame of its own on task t (as the DAG runs it). */
static zx_status run_chunk(zx_task *t, zx_program *prog, const analysis_chunk *ch)
{
    zx_frame *f = zx_frame_push(t, prog->main, NULL, NULL, 0, NULL);
    if (!f) return t->status != ZX_OK ? t->status : ZX_E_MEMORY;
    f->pc = ch->start;
    zx_status st = zx_interp_exec(t, f, ch->end, NULL);
    zx_frame_pop(t, f);
    return st;
}

/* Run chunks [from, the end) of the top level in order on task t, stopping at an error. */
static zx_status run_chunks_from(zx_task *t, zx_program *prog, const analysis_code *ac, uint32_t from)
{
    for (uint32_t i = from; i < ac->nchunks; i++) {
        zx_status st = run_chunk(t, prog, &ac->chunks[i]);
        if (st != ZX_OK) return st;
    }
    return ZX_OK;
}

/* True when what chunk ch may change is only globals: no heap object, no captured variable,
 * nothing outside the program (files, the clock, the random state: ordered_fx) — so putting
 * back the globals it writes undoes it. */
static bool chunk_undoable(const analysis_chunk *ch, uint32_t nglobals)
{
    const analysis_summary *e = &ch->eff;
    if (e->writes_heap || e->calls_unknown || e->ordered_fx) return false;
    /* sets are in increasing order: globals come first */
    analysis_locset_iter it;
    uint32_t loc;
    for (int k = 0; k < 2; k++) {
        analysis_locset_iter_init(&it, k ? &e->updates : &e->writes);
        while (analysis_locset_next(&it, &loc))
            if (loc >= nglobals) return false;
    }
    return true;
}

/* Keep the values of the globals chunk ch may write (or update), as they are when it starts:
 * every chunk that writes or reads them is ordered against it, so nothing changes them
 * meanwhile.  Without memory for the copy the chunk simply cannot be undone. */
static void snapshot_globals(piece *p, zx_run *run, const analysis_chunk *ch)
{
    const analysis_summary *e = &ch->eff;
    uint32_t n = e->writes.n + e->updates.n;
    if (n == 0) return;
    p->snap = malloc(n * sizeof *p->snap);
    if (!p->snap) return;
    analysis_locset_iter it;
    analysis_locset_iter_init(&it, &e->writes);
    for (uint32_t k = 0, g; k < n; k++) {
        if (k == e->writes.n) analysis_locset_iter_init(&it, &e->updates);
        if (!analysis_locset_next(&it, &g)) break;
        if (g >= run->prog->nglobals) continue;
        zx_value v = *run->gvar[g];
        zx_incref(v);
        p->snap[p->nsnap++] = (undo_entry){ g, v };
    }
}

/* Put back what snapshot_globals kept (a global written twice by the chunk is listed once per
 * set; the values are the same, the order does not matter). */
static void restore_globals(piece *p, zx_run *run)
{
    for (uint32_t k = 0; k < p->nsnap; k++) {
        zx_value *slot = run->gvar[p->snap[k].global], old = *slot;
        zx_incref(p->snap[k].old);
        *slot = p->snap[k].old;
        zx_decref(old);
    }
}

static void snapshot_free(piece *p)
{
    for (uint32_t k = 0; k < p->nsnap; k++) zx_decref(p->snap[k].old);
    free(p->snap);
    p->snap = NULL;
    p->nsnap = 0;
}

static int dag_node(void *ctx, uint32_t node)
{
    dag_ctx *c = ctx;
    uint32_t i = c->base + node;
    piece *p = &c->pieces[i];
    if (i <= atomic_load(&c->scope.first_failed)) {
        p->ran = 1;
        zx_heap_mutator_enter(c->root->run->heap);   /* the cycle collector's gate (value.h) */
        snapshot_globals(p, p->task.run, &c->ac->chunks[i]);
        if (run_chunk(&p->task, c->prog, &c->ac->chunks[i]) != ZX_OK) piece_fail(p, &c->scope);
        zx_heap_mutator_leave(c->root->run->heap);
    }
    pthread_mutex_lock(&c->commit_lock);
    c->done[i] = 1;
    pthread_mutex_unlock(&c->commit_lock);
    dag_commit(c);
    return 0;
}

zx_status zx_parallel_run_main(zx_task *root, zx_frame *f)
{
    const zx_plan *pl = root->run->plan;
    zx_run_stats *stats = root->run->stats;
    zx_program *prog = root->run->prog;
    const analysis_code *ac = pl->mode != ZX_MODE_SEQ ? pl->main : NULL;
    if (ac) {
        stats->chunks = ac->nchunks;
        stats->work = ac->dag.work;
        stats->critical_path = ac->dag.critical_path;
        stats->parallelism = ac->dag.parallelism;
        stats->dag_width = pl->main_width;
    }
    bool go = ac && pl->main_dag;
    uint32_t first = 0;           /* the chunks before it ran on this thread, in order */
    if (go && pl->mode == ZX_MODE_AUTO) {
        uint64_t t0 = now_ns();
        while (first < ac->nchunks && now_ns() - t0 < AUTO_PREFIX_NS) {
            zx_status st = run_chunk(root, prog, &ac->chunks[first]);
            if (st != ZX_OK) return st;
            first++;
        }
        bool few = ac->nchunks - first < 2;
        if (few || pl->workers < 2) {
            if (few)
                zx_stats_note(stats, "top level ran sequentially: it took less than %u ms (--mode=auto)",
                              AUTO_PREFIX_NS / 1000000u);
            else
                zx_stats_note(stats, "top level ran sequentially: one worker");
            return run_chunks_from(root, prog, ac, first);
        }
    }
    zx_sched *s = go ? sched_for(root) : NULL;
    if (!s) {
        if (ac && ac->locals_cross_chunks && ac->nchunks >= 2)
            zx_stats_note(stats, "top level ran sequentially: a local of the top level is live from one "
                          "statement into another (bytecode not made by the compiler)");
        else if (ac && pl->mode == ZX_MODE_AUTO && !go)
            zx_stats_note(stats, "top level ran sequentially: %s",
                          ac->nchunks < 2 ? "one chunk" : "too little independent work (--mode=auto)");
        return first == 0 ? zx_interp_exec(root, f, UINT32_MAX, NULL) : run_chunks_from(root, prog, ac, first);
    }
    if (first > 0)
        zx_stats_note(stats, "top level: the first %u of %u chunks ran on the calling thread before going parallel "
                          "(--mode=auto runs %u ms in order first)",
                      first, ac->nchunks, AUTO_PREFIX_NS / 1000000u);
    stats->dag_used = true;
    if (pl->main_ordered) zx_stats_note(stats, "top level: %s", pl->main_ordered);
    dag_ctx c;
    memset(&c, 0, sizeof c);
    c.root = root;
    c.prog = prog;
    c.ac = ac;
    c.base = first;
    c.next_commit = first;
    atomic_init(&c.scope.first_failed, UINT32_MAX);
    pthread_mutex_init(&c.commit_lock, NULL);
    c.pieces = calloc(ac->nchunks, sizeof *c.pieces);
    c.done = calloc(ac->nchunks, 1);
    /* the DAG of the chunks left: node k is chunk first + k, edges from chunks that ran dropped */
    uint32_t m = ac->nchunks - first;
    uint32_t *offs = NULL, *succs = NULL, *npreds = NULL;
    if (first > 0) {
        offs = calloc((size_t)m + 1, sizeof *offs);
        succs = malloc((ac->dag.succ_offsets[ac->nchunks] + 1) * sizeof *succs);
        npreds = calloc(m ? m : 1, sizeof *npreds);
    }
    zx_status st = ZX_OK;
    if (!c.pieces || !c.done || (first > 0 && (!offs || !succs || !npreds))) {
        st = zx_task_raise_err(root, f, ZX_ERR_MEMORY);
        goto out;
    }
    if (first > 0) {
        uint32_t e = 0;
        for (uint32_t k = 0; k < m; k++) {
            offs[k] = e;
            uint32_t i = first + k;
            for (uint32_t x = ac->dag.succ_offsets[i]; x < ac->dag.succ_offsets[i + 1]; x++) {
                succs[e++] = ac->dag.succs[x] - first;   /* successors come later in order */
                npreds[ac->dag.succs[x] - first]++;
            }
        }
        offs[m] = e;
        for (uint32_t i = 0; i < first; i++) c.done[i] = 1;
    }
    for (uint32_t i = first; i < ac->nchunks; i++) {
        piece_init(&c.pieces[i], root, NULL, &c.scope, i);
        c.pieces[i].task.shared_log = NULL;   /* between chunks shared variables are ordinary */
        c.pieces[i].task.stream_threshold = root->stream_threshold;
    }
    dag_commit(&c);                           /* the first chunk streams from the start */
    zx_rc_concurrent_begin();                 /* other threads reach objects (value.h) */
    int gate = zx_heap_mutator_suspend(root->run->heap);   /* waiting: no mutator */
    tbbshim_status ts = first > 0 ? tbbshim_run_dag(s->ex, m, offs, succs, npreds, dag_node, &c, NULL)
                                  : tbbshim_run_dag(s->ex, ac->nchunks, ac->dag.succ_offsets, ac->dag.succs,
                                                    ac->dag.npreds, dag_node, &c, NULL);
    zx_heap_mutator_resume(root->run->heap, gate);
    zx_rc_concurrent_end();
    if (ts == TBBSHIM_ERROR)
        for (uint32_t i = first; i < ac->nchunks; i++)
            if (!c.pieces[i].ran && !c.done[i]) dag_node(&c, i - first);
    dag_commit(&c);
    /* After a failure only what precedes it in program order has happened, as in a sequential
     * run: the globals written by chunks after the failed one that ran ahead are put back, in
     * reverse order (a later chunk's heap writes cannot be, docs/parallel.md).  A chunk the
     * memory limit stopped while later chunks ran runs again, in order, once they are undone,
     * with the chunks after it (DESIGN.md §5: such a limit is not final). */
    uint32_t failed_at = UINT32_MAX;
    for (uint32_t i = first; i < ac->nchunks && failed_at == UINT32_MAX; i++)
        if (c.pieces[i].failed) failed_at = i;
    if (failed_at != UINT32_MAX) {
        uint32_t ng = prog->nglobals;
        bool undoable = true;
        for (uint32_t i = failed_at + 1; i < ac->nchunks; i++)
            if (c.pieces[i].ran && !chunk_undoable(&ac->chunks[i], ng)) undoable = false;
        for (uint32_t i = ac->nchunks; i-- > failed_at + 1;)
            if (c.pieces[i].ran) restore_globals(&c.pieces[i], root->run);
        piece *fp = &c.pieces[failed_at];
        bool again = failed_on_memory(fp) && undoable && chunk_undoable(&ac->chunks[failed_at], ng) &&
                     !fp->task.delivered && fp->nsnap == ac->chunks[failed_at].eff.writes.n + ac->chunks[failed_at].eff.updates.n;
        if (again) {
            restore_globals(fp, root->run);
            for (uint32_t i = failed_at; i < ac->nchunks; i++) {
                snapshot_free(&c.pieces[i]);
                zx_task_fini(&c.pieces[i].task);
                c.pieces[i].failed = 0;
            }
            zx_stats_note(stats, "top level: the memory limit stopped chunk %u while later chunks ran; chunks from "
                          "%u on ran again in order", failed_at, failed_at);
            st = run_chunks_from(root, prog, ac, failed_at);
            for (uint32_t i = first; i < failed_at; i++) {
                snapshot_free(&c.pieces[i]);
                zx_task_fini(&c.pieces[i].task);
            }
            goto out;
        }
    }
    for (uint32_t i = first; i < ac->nchunks; i++) {
        piece *p = &c.pieces[i];
        if (p->failed && st == ZX_OK) {
            if (failed_on_memory(p) && p->task.out.len) zx_task_write(root, p->task.out.data, p->task.out.len);
            st = p->task.status;
            root->status = ZX_OK;      /* the first failed chunk's error replaces any other */
            zx_task_move_error(root, &p->task);
        }
        snapshot_free(p);
        zx_task_fini(&p->task);
    }
out:
    free(offs);
    free(succs);
    free(npreds);
    free(c.pieces);
    free(c.done);
    pthread_mutex_destroy(&c.commit_lock);
    return st;
}

uint64_t zx_parallel_now_ns(void) { return now_ns(); }
