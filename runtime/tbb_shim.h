/* tbb_shim.h — the C face of the oneTBB executor: DAG runs, parallel for, fork/join, per-slot statistics. */
#ifndef ZX_TBB_SHIM_H
#define ZX_TBB_SHIM_H

#include <stddef.h>
#include <stdint.h>

/* The cancel flag is C11's atomic_int; std::atomic<int> has the same size, alignment and
 * representation with GCC and Clang (and by C++23's <stdatomic.h>, by definition), which
 * tbb_shim.cpp checks with static_asserts. */
#ifdef __cplusplus
#include <atomic>
typedef std::atomic<int> tbbshim_atomic_int;
extern "C" {
#else
#include <stdatomic.h>
typedef atomic_int tbbshim_atomic_int;
#endif

/*
 * An executor is one oneTBB task_arena with N slots: slot 0 is reserved for the thread that
 * calls into the executor (the embedder's, or whichever thread calls tbbshim_run_dag and
 * friends from outside), slots 1..N-1 are taken by oneTBB worker threads.  All the work of
 * a call runs inside that arena; the call returns when it is done.  Calls may nest: a
 * callback running on a worker may call tbbshim_run_dag, tbbshim_parallel_for or tbbshim_fork
 * on the same executor; the waiting thread runs other tasks meanwhile (task_group::wait),
 * so no thread ever blocks.  Callbacks must not block on each other either.
 *
 * Process-wide state (the one exception to "no mutable globals"): oneTBB caps the threads of
 * every arena at its max_allowed_parallelism, which defaults to the core count.  The shim
 * keeps a reference-counted multiset of the worker counts of all live executors and holds
 * exactly one tbb::global_control raised to the largest (a function-local static behind a
 * mutex in tbb_shim.cpp); destroying the executor with the largest count lowers it again.
 * The worker stack size is process-wide in oneTBB too: each executor holds a
 * global_control(thread_stack_size), oneTBB applies the largest live value, and only to
 * worker threads started after it (so all executors of a process should ask for the same).
 *
 * Threading: tbbshim_create/tbbshim_destroy are called from outside any executor's work.
 * Everything else is thread-safe.  Exceptions never cross into C.
 */

typedef enum tbbshim_status {
    TBBSHIM_OK = 0,
    TBBSHIM_FAILED = 1,     /* a callback returned non-zero; work not yet started was skipped */
    TBBSHIM_CANCELLED = 2,  /* *cancel became non-zero and work was skipped because of it
                               (a cancel that comes after the last start is not reported) */
    TBBSHIM_ERROR = 3,      /* the shim failed: bad argument, bad graph, out of memory,
                               oneTBB error; see tbbshim_last_error */
} tbbshim_status;

typedef struct tbbshim_executor tbbshim_executor;

/* Worker stack size when the configuration says 0: deep Zexus recursion runs on workers. */
#define TBBSHIM_DEFAULT_STACK ((size_t)64 << 20)

typedef struct tbbshim_config {
    int workers;            /* N >= 1: arena slots, the calling thread included; may exceed
                               the cores */
    size_t stack_size;      /* bytes for worker threads; 0: TBBSHIM_DEFAULT_STACK */
    uint64_t seed;          /* non-zero: seeded random scheduling, for tests (ready DAG nodes
                               and fork tasks started in a random order, random yields before
                               each task, parallel_for ranges shuffled) */
    /* Called on a thread as it enters the arena, before it runs any task, with its slot
     * (0: the calling thread, 1..N-1: workers), and as it leaves.  The calling thread leaves
     * at the end of every outermost call, so on_exit(ctx, 0) is where its binding is
     * restored.  Either may be NULL; they must not call back into the shim. */
    void (*on_entry)(void *ctx, int slot);
    void (*on_exit)(void *ctx, int slot);
    void *observer_ctx;
} tbbshim_config;

/* Create an executor.  On success *out owns it (tbbshim_destroy); on failure a message goes
 * to err (may be NULL) and nothing is created. */
tbbshim_status tbbshim_create(const tbbshim_config *cfg, tbbshim_executor **out, char *err, size_t err_size);

/* Destroy an executor (NULL is allowed); no call may be running on it.  Its arena is
 * terminated and its share of the thread cap released; when it was the last executor the
 * oneTBB worker threads are joined (tbb::finalize), so no thread is left behind.  While
 * other executors (or other users of oneTBB in the process) live, the shared worker pool
 * stays: those threads sleep, they do not spin. */
void tbbshim_destroy(tbbshim_executor *ex);

int tbbshim_workers(const tbbshim_executor *ex);

/* Run a DAG of n_nodes nodes.  The successors of node i are succs[succ_offsets[i] ..
 * succ_offsets[i+1]) (succ_offsets has n_nodes+1 entries); npreds[i] is the number of
 * predecessors of i (checked against succs).  run_node(ctx, i) runs once every predecessor
 * of i has returned.  When run_node returns non-zero or *cancel (may be NULL) becomes
 * non-zero, nodes not yet started are skipped; nodes already running finish.  Returns when
 * every node has run or been skipped: TBBSHIM_OK, TBBSHIM_FAILED, TBBSHIM_CANCELLED (a
 * failure wins over a cancellation), or TBBSHIM_ERROR for a malformed graph (an index out
 * of range, predecessor counts that do not match, a cycle) or an internal failure. */
tbbshim_status tbbshim_run_dag(tbbshim_executor *ex, uint32_t n_nodes, const uint32_t *succ_offsets,
                               const uint32_t *succs, const uint32_t *npreds,
                               int (*run_node)(void *ctx, uint32_t node), void *ctx,
                               const tbbshim_atomic_int *cancel);

/* Call body(ctx, begin, end, slot) on disjoint ranges covering [0, n) exactly once, in
 * parallel; ranges hold at most `grain` indices (0: max(1, n / (8 * workers))).  Once
 * *cancel (may be NULL) is non-zero, ranges not yet started are skipped and the call
 * returns TBBSHIM_CANCELLED. */
tbbshim_status tbbshim_parallel_for(tbbshim_executor *ex, size_t n, size_t grain,
                                    void (*body)(void *ctx, size_t begin, size_t end, int slot), void *ctx,
                                    const tbbshim_atomic_int *cancel);

/* Run run(ctx, i) for i in [0, n) as concurrent tasks and wait for them all.  A non-zero
 * return or *cancel skips the tasks not yet started (TBBSHIM_FAILED / TBBSHIM_CANCELLED). */
tbbshim_status tbbshim_fork(tbbshim_executor *ex, uint32_t n, int (*run)(void *ctx, uint32_t i), void *ctx,
                            const tbbshim_atomic_int *cancel);

/* Inside a callback of ex: the arena slot of the running thread (0..N-1; 0 only on the
 * thread that made the outermost call), the index of per-worker state.  Elsewhere the
 * answer means nothing: oneTBB cannot tell which arena a thread is in. */
int tbbshim_current_slot(const tbbshim_executor *ex);

/* Statistics, per slot: index 0..N-1 are arena slots (0: the calling thread), index N counts
 * work whose slot was out of range (never expected).  A task is one DAG node, one fork task or
 * one parallel_for range; busy time is the wall time inside callbacks less the time they spend
 * inside nested calls of the shim (tbbshim_run_dag, tbbshim_parallel_for, tbbshim_fork made
 * from a callback): the tasks a thread runs while it waits there are counted on their own, and
 * the waiting itself is not busy, so no time is counted twice. */
typedef struct tbbshim_slot_stats {
    uint64_t tasks;
    uint64_t busy_ns;
} tbbshim_slot_stats;

/* Copy min(n_out, N+1) slots into out (may be NULL when n_out is 0) and return N+1;
 * *threads (may be NULL) receives the number of distinct threads that ran work. */
int tbbshim_stats(tbbshim_executor *ex, tbbshim_slot_stats *out, int n_out, int *threads);
/* Zero the statistics; not while a call is running on ex. */
void tbbshim_stats_reset(tbbshim_executor *ex);

/* The message of the last TBBSHIM_ERROR on ex, copied into buf (always terminated). */
void tbbshim_last_error(tbbshim_executor *ex, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif
