/* frame.h — what a run is made of: run, frame, task, cancel scopes; the layout native code shares. */
#ifndef ZX_FRAME_H
#define ZX_FRAME_H

#include <stdatomic.h>

#include "bytecode/bytecode.h"
#include "runtime/errors.h"
#include "runtime/partition.h"
#include "zexus.h"

/* Everything a run of one program shares between its tasks. */
struct zx_task;

typedef struct zx_run {
    zx_program *prog;
    zx_heap *heap;
    zx_partitions *parts;         /* the globals, in NUMA partitions (runtime/partition.h) */
    zx_value *const *gvar;        /* parts->var: global g lives at *gvar[g]; fixed for the run */
    zx_value args;                /* the `args` list */
    atomic_int *interrupt;        /* the VM's interrupt flag */
    atomic_int *rc_concurrent;    /* &zx_rc_concurrent, for compiled code (value.h) */
    struct zx_sys_state *sys;     /* the VM's random state (runtime/stdlib_sys.h) */
    atomic_int cancel;            /* set once any piece of parallel work failed: a cheap hint
                                     that compiled code polls before zx_task_should_stop */
    int max_depth;
    zx_output_fn output;
    void *output_userdata;
    atomic_int output_failed;
    /* What executing needs from outside the program, set up by the VM before the run starts:
     * execution reads these and never the VM object. */
    const struct zx_plan *plan;   /* the decisions, read-only (analysis/plan.h) */
    struct zx_sched *sched;       /* the scheduler; NULL when the plan never goes parallel, or
                                     it could not be made (sched_error says why) */
    const char *sched_error;
    struct zx_run_stats *stats;   /* where --stats figures and notes go (exec/run_stats.h) */
    const struct zx_host_table *hosts; /* host functions for LOAD_HOST and calls (exec/host.h) */
    /* The JIT's queue (exec/tier.h): called once a code object turns hot; NULL when nothing
     * compiles in the background (--jit=off, always, strict). */
    void (*on_hot)(void *tier_ctx, struct zx_task *t, zx_code *c);
    void *tier_ctx;
    /* Rank 0 of a --dist run: parallel_map across MPI ranks (exec/parallel.h); else NULL. */
    const struct zx_dist_hook *dist;
} zx_run;

typedef struct zx_frame {
    zx_code *code;
    zx_func *func;                /* the closure being run; NULL for the top level */
    zx_value *locals;             /* code->nlocals */
    zx_value *sp;                 /* next free operand slot; the stack starts at locals + nlocals */
    uint32_t pc;                  /* instruction being executed */
    uint32_t depth;               /* Zexus call depth of this frame */
    struct zx_frame *parent;      /* the caller, for stack traces; NULL at the root */
    struct zx_vseg *seg;          /* value-stack segment and mark, to release the slots */
    size_t mark;
    uint8_t is_base;              /* entered from C: RETURN here leaves the interpreter loop */
} zx_frame;

typedef struct zx_vseg {
    struct zx_vseg *prev, *next;
    size_t cap, top;
    zx_value v[];
} zx_vseg;

/* One level of parallel work (a DAG of chunks, the elements of a parallel_map, the blocks of a
 * fork): when a piece fails, every later piece (index > first_failed) stops at its next
 * back-edge or call; earlier pieces finish, because one of them may fail first. */
typedef struct zx_cancel_scope {
    _Atomic uint32_t first_failed;    /* UINT32_MAX: nothing failed */
} zx_cancel_scope;

typedef struct zx_cancel_link {
    zx_cancel_scope *scope;
    uint32_t index;                   /* this task's piece in that scope */
    const struct zx_cancel_link *outer;
} zx_cancel_link;

struct zx_shared_log;

/* One unit of work: the top level, a chunk, a parallel_map element range, a fork block.
 * Output goes to the task's own buffer (DESIGN.md §5), never to the worker thread's. */
typedef struct zx_task {
    zx_run *run;
    zx_buf out;
    uint8_t is_root;              /* may stream its output straight to the sink */
    uint8_t delivered;            /* some of its output went to the sink (a streaming chunk
                                     that did cannot be run again without printing twice) */
    atomic_int streaming;         /* a top-level chunk that every earlier chunk has committed
                                     before: streams like the root (set by the committer) */
    size_t stream_threshold;      /* root, streaming: deliver output once this many bytes are
                                     buffered */
    zx_frame *frame;              /* innermost frame of the task's entry, for traces */
    zx_frame *caller;             /* frame that started this task (traces continue there) */
    zx_vseg *seg;
    char *stack_limit;            /* native code calling native code directly makes the call
                                     through the interpreter below this C stack address (this
                                     thread's zx_stack_exhausted bound plus a margin), stored by
                                     every entry from C into native code (a task never changes
                                     threads while inside it) */
    long pmap_element;            /* -1, or the parallel_map element being computed */
    const zx_cancel_link *cancel; /* the parallel work this task is a piece of, innermost first */
    struct zx_shared_log *shared_log; /* non-NULL inside parallel work: `shared` updates are logged */
    zx_status status;             /* of the first error */
    zx_buf error;                 /* its full text (message and trace lines) */
    /* What a `catch` sees of that error (exceptions, interp.c zx_task_catch): */
    size_t err_msg_off, err_msg_len;   /* the message alone inside `error` */
    uint8_t err_fatal;            /* a limit (memory, call depth, interrupt): never caught */
    zx_value thrown;              /* the value of `throw`, owned; undefined for a runtime fault */
} zx_task;

void zx_task_init(zx_task *t, zx_run *run, zx_frame *caller);
void zx_task_fini(zx_task *t);

/* Value slots of a frame's header: a frame of `code` takes ZX_FRAME_VALS + nlocals +
 * max_stack + 1 slots of the task's value stack (native code pushes frames in this layout). */
#define ZX_FRAME_VALS ((sizeof(zx_frame) + sizeof(zx_value) - 1) / sizeof(zx_value))

/* Make a frame for calling `code` as closure `fn` (NULL for the top level) with borrowed
 * arguments; captured parameters are boxed into cells.  NULL and an error on the task when
 * the call depth limit is hit. */
zx_frame *zx_frame_push(zx_task *t, zx_code *code, zx_func *fn, const zx_value *argv, uint32_t argc,
                        zx_frame *parent);
/* Release a frame and every value in it (and any frames above it). */
void zx_frame_pop(zx_task *t, zx_frame *f);

/* True when the task must stop at this back-edge or call: the run was interrupted, or
 * an earlier piece of the parallel work it belongs to failed. */
bool zx_task_should_stop(zx_task *t);

/* True when this thread's C stack has too little room left for another nested call. */
bool zx_stack_exhausted(void);

/* The C stack the call-depth limit needs.  Zexus calls made by the interpreter do not deepen
 * the C stack; what does is a nested entry from C (a parallel_map element, a fork block, a
 * callback of a builtin, native code), and each is at least one call level deeper than its
 * caller.  ZX_STACK_PER_DEPTH bounds the C stack one such level takes in the interpreter
 * (measured: about 1.3 KiB through a parallel fork, under 1 KiB through parallel_map; the
 * sanitizers' frames are larger), so a thread with zx_stack_size_for(max_depth) bytes of
 * stack reaches the Zexus limit before its C stack runs out, in every mode; native code is
 * entered only where the C stack has room beyond what the interpreter may still need
 * (interp.c, native_low_bound). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ZX_STACK_PER_DEPTH ((size_t)8192)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ZX_STACK_PER_DEPTH ((size_t)8192)
#endif
#endif
#ifndef ZX_STACK_PER_DEPTH
#define ZX_STACK_PER_DEPTH ((size_t)2048)
#endif
#define ZX_STACK_RESERVE ((size_t)256 << 10)   /* below the deepest frame: builtins, printer */
#define ZX_NATIVE_MARGIN ((size_t)512 << 10)   /* one native frame and the helpers it calls */
#define ZX_NATIVE_SLACK ((size_t)16 << 20)     /* room for native frames at the top */

/* Bytes of stack for a thread that runs Zexus code under this depth limit. */
size_t zx_stack_size_for(int max_depth);

/* Call fn(ctx) on a stack of zx_stack_size_for(run->max_depth) bytes: on the calling thread
 * when it has that much room left, else on a thread made for the call (joined before the
 * return).  The run's interpreter and native code always start here. */
zx_status zx_run_with_stack(const zx_run *run, zx_status (*fn)(void *ctx), void *ctx);

/* Record a runtime error at frame f's current instruction (message without the place).
 * The engine's own errors go through the two below; this one is for messages that come
 * from outside the table (a host function's own message and status). */
zx_status zx_task_raise(zx_task *t, zx_frame *f, zx_status st, const char *msg);
/* The status that row `id` of runtime/errors.h stops a run with. */
zx_status zx_err_status(zx_err id);
/* Raise row `id` of runtime/errors.h, its message formatted from the arguments its format
 * takes (cut at 200 bytes, as the interpreter's messages always were). */
zx_status zx_task_raise_err(zx_task *t, zx_frame *f, zx_err id, ...);
/* Raise row `id`, whose format takes one %s, with the value msg formatted as print does (not
 * cut); fallback is the message when there is no memory to format it (ASSERT, require). */
zx_status zx_task_raise_value(zx_task *t, zx_frame *f, zx_err id, zx_value msg, const char *fallback);
/* Raise an error a runtime helper reported (zx_binop, zx_builtin_call, zx_method_call). */
zx_status zx_task_raise_error(zx_task *t, zx_frame *f, const zx_error *e);

/* Exceptions.  zx_task_throw raises value v (the reference is taken) as the task's error, its
 * message the value as print formats it.  zx_task_reraise raises again an error a handler
 * caught: text is its full text, v its value (both references taken).  zx_task_catch hands a
 * catchable error (status ZX_E_RUNTIME, not a limit) to the handler of f's code that covers
 * f->pc: the operand stack is unwound to depth 0, the error's text and value are pushed, the
 * error is cleared and f->pc is the handler's target; false (nothing changed) when there is
 * none.  zx_task_move_error moves the error of `from` (a piece of parallel work) into t. */
zx_status zx_task_throw(zx_task *t, zx_frame *f, zx_value v);
zx_status zx_task_reraise(zx_task *t, zx_frame *f, zx_value text, zx_value v);
bool zx_task_catch(zx_task *t, zx_frame *f);
void zx_task_move_error(zx_task *t, zx_task *from);

/* Append to the task's output; the root (and a streaming chunk) streams to the sink past a
 * threshold. */
zx_status zx_task_write(zx_task *t, const char *data, size_t len);
/* Deliver the task's buffered output to the sink (root or streaming chunk only). */
zx_status zx_task_flush(zx_task *t);

#endif
