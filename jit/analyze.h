/* analyze.h — what the lowering proves about a code object before emitting IR (jit/analyze.c). */
#ifndef JIT_ANALYZE_H
#define JIT_ANALYZE_H

#include <stddef.h>
#include <stdint.h>

#include "exec/frame.h"

/*
 * The JIT's planning analyses, free of LLVM so that a unit test can run them
 * (tests/unit/test_jit_analyze.c): types (tag masks per pc, from pc 0), liveness of the
 * variables those types are about, which code object each CALL_TOP calls, which loads may lend
 * their value instead of taking a reference (both on the flow module's stack origins), and
 * whether an int-argument version of the code pays.  They read what the verifier keeps on the
 * code object (depth and facts per pc).  jit/lower.c emits IR from the results.
 */

/* Tag masks: bit t is set when a value may have tag t (zx_tag). */
enum {
    M_U = 1 << ZX_T_UNDEF, M_N = 1 << ZX_T_NULL, M_B = 1 << ZX_T_BOOL,
    M_I = 1 << ZX_T_INT, M_F = 1 << ZX_T_FLOAT, M_O = 1 << ZX_T_OBJ,
    M_VAL = M_N | M_B | M_I | M_F | M_O, M_ANY = M_VAL | M_U,
};

/* Globals beyond this many are not tracked: always M_ANY. */
#define ANALYZE_MAX_TRACKED_GLOBALS 256

/* What analyze_borrows decides per pc. */
enum {
    BORROW_LOAD = 1,               /* this load takes no reference: its use borrows it */
    BORROW_USE = 2,                /* this INDEX or CALL_TOP uses a borrowed operand */
    BORROW_RESULT = 4,             /* this borrowed INDEX lends its element on (b[k][j]) */
    BORROW_KEY = 8,                /* this INDEX or STORE_INDEX has a borrowed constant key (m.k);
                                      on a STORE_INDEX, BORROW_USE: a borrowed container */
};
#define BORROW_MAX_STACK 64        /* slots tracked in a uint64_t */

typedef struct analyze_code {
    zx_program *prog;
    zx_code *code;
    uint32_t nl, ng, ns;           /* locals, tracked globals, operand stack slots (+2) */
    uint32_t W;                    /* masks per pc in state: nl + ng + ns */
    const int32_t *depth;          /* the verifier's (zx_code.depth): stack depth before each pc;
                                      -1: unreachable */
    uint8_t *state;                /* analyze_types: W masks per pc: locals, tracked globals, stack */
    uint8_t *live;                 /* analyze_liveness: per pc, per local and tracked global: relied on */
    zx_code **callee;              /* analyze_callees: per pc, the code object a CALL_TOP calls directly */
    uint8_t *borrow;               /* analyze_borrows: per pc, BORROW_*; NULL when the stack is too deep */
    uint8_t *int_state;            /* analyze_int_version: the state with int parameters, or NULL */
} analyze_code;

/* Sizes for code of prog; no analysis is run yet. */
void analyze_init(analyze_code *a, zx_program *prog, zx_code *code);
void analyze_free(analyze_code *a);

/* Forward over tag masks from pc 0, parameters of param_mask, on the verifier's depths and the
 * opcode table's edges (bytecode/flow.h).  0 with a message in err when the code is empty,
 * has an unknown opcode, was not verified (or out of memory). */
int analyze_types(analyze_code *a, uint8_t param_mask, char *err, size_t errsz);
/* The rest need analyze_types; each returns 0 only when out of memory. */
int analyze_liveness(analyze_code *a);
/* Calls of the code objects batch[0..nbatch) (those lowered into the same module). */
int analyze_callees(analyze_code *a, zx_code *const *batch, size_t nbatch);
/* Needs analyze_callees. */
int analyze_borrows(analyze_code *a);
/* Sets int_state when an int-argument version of an action or lambda pays. */
void analyze_int_version(analyze_code *a);

/* Inlining a small pure action at a direct call (jit/lower.c, emit_inline_call).  x qualifies
 * by its code alone (analyze_inlinable): at most ANALYZE_INLINE_MAX_CODE instructions, only
 * forward jumps, no handlers, no cells, and only instructions without effects that native code
 * computes in registers: constants that are no objects, plain locals, arithmetic, comparisons,
 * NOT, DUP, POP, jumps, RETURN.  At a call site, with its arguments' tags known, a plan
 * (analyze_inline_plan) types every instruction of x; it exists only when every operation's
 * operand tags are known and have an inline form (ints, floats) and no local is read
 * undefined, so the inlined body needs no tag checks and can fail only by raising, which it
 * never does itself: it takes the real call instead. */
#define ANALYZE_INLINE_MAX_CODE 48

typedef struct analyze_inline {
    uint32_t nl, ns;               /* x's locals and operand stack slots */
    uint8_t *state;                /* per pc of x: 1 + nl + ns masks: reached (0 or 1), the
                                      locals, the operand stack (x->depth[pc] of them) */
    uint8_t result;                /* the tags x may return */
} analyze_inline;

int analyze_inlinable(const zx_code *x);
/* 1 with the plan in *p (free it with analyze_inline_free) when x, inlinable, is typed from
 * arguments of the tags args[0..x->nparams); 0 otherwise (nothing to free). */
int analyze_inline_plan(const zx_code *x, const uint8_t *args, analyze_inline *p);
void analyze_inline_free(analyze_inline *p);
/* The tags of a OP b in an inlined body; 0 when it has no inline form there. */
uint8_t analyze_inline_binop(unsigned op, uint8_t a, uint8_t b);

/* Where code object x sits in prog's tree: the child indices from the top level into path,
 * and their number; -1 when x is not found within ANALYZE_PATH_MAX levels.  Code of another
 * module finds x at run time by this path (jit/lower.c, runtime_code). */
#define ANALYZE_PATH_MAX 16
int analyze_code_path(const zx_program *prog, const zx_code *x, uint32_t path[ANALYZE_PATH_MAX]);

/* Every fact that lowering `code` into a module of batch[0..nbatch) reads from anything but
 * code's own fields (those of zx_bytecode_write_code): the flags of the globals it names, the
 * tags guessed for them from the top level, and each direct call's callee with its place (in
 * the batch, or its path in the program) and frame shape.  Written as bytes through put, for
 * the compiled-code cache's key (jit/cache.h).  Needs nothing run before; 0 when out of memory. */
typedef void analyze_put_fn(void *ctx, const void *bytes, size_t n);
int analyze_outside_facts(zx_program *prog, zx_code *code, zx_code *const *batch, size_t nbatch,
                          analyze_put_fn *put, void *ctx);

/* Per-instruction facts the lowering shares with the analyses (stack effects and control flow
 * are the opcode table's: zx_op_stack_effect, zx_op_successors). */
const char *analyze_op_name(unsigned op);
int analyze_is_cmp(unsigned op);
uint8_t analyze_binop_mask(unsigned op, uint8_t a, uint8_t b);

static inline uint8_t analyze_tag_mask(zx_value v) { return (uint8_t)(1u << v.tag); }
/* The mask allows exactly one tag. */
static inline int analyze_singleton(uint8_t m) { return m && !(m & (m - 1)); }

#endif
