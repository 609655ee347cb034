/* opcodes.h — the one opcode table: every other list of opcodes is generated from it. */
#ifndef ZX_OPCODES_H
#define ZX_OPCODES_H

#include <stdint.h>

/*
 * OPDEF(NAME, number, pops, pushes, operand kind, flags)   semantics
 *
 * Instruction: { uint16 op; uint16 b; uint32 a; }.  pops and pushes are formulas: a count n
 * plus the operand terms ZX_SE_A (+a), ZX_SE_2A (+2a), ZX_SE_B (+b) the row adds, so
 * zx_op_stack_effect evaluates the row and no walker knows an opcode's effect by heart.
 * Successors come from the flags: OPF_JUMPS goes to `a`, and every instruction without
 * OPF_ENDS falls through to pc + 1 (zx_op_successors).  Operand kinds say what `a` (and `b`)
 * mean; the verifier checks them against the code object.  Numbers shared with the reference
 * VM keep its values; the parallel opcodes take 300-305 (DESIGN.md §4); zexus-jit's own start
 * at 400.
 */
#define ZX_OPCODES(OPDEF) \
  OPDEF(LOAD_CONST,     1,  0, 1, OPK_CONST,   0)                      /* push consts[a] */ \
  OPDEF(LOAD_NAME,      2,  0, 1, OPK_GLOBAL,  OPF_READS_VAR | OPF_RAISES) /* push global a; undefined raises */ \
  OPDEF(STORE_NAME,     3,  1, 0, OPK_GLOBAL,  OPF_WRITES_VAR)          /* pop into global a */ \
  OPDEF(POP,            5,  1, 0, OPK_NONE,    0)                      /* drop top */ \
  OPDEF(DUP,            6,  1, 2, OPK_NONE,    ZX_SHUFFLE(0, 0, 0, 0)) /* duplicate top */ \
  OPDEF(ADD,           10,  2, 1, OPK_NONE,    OPF_READS_HEAP | OPF_RAISES) /* a + b (numbers, strings, lists) */ \
  OPDEF(SUB,           11,  2, 1, OPK_NONE,    OPF_RAISES)             /* a - b */ \
  OPDEF(MUL,           12,  2, 1, OPK_NONE,    OPF_RAISES)             /* a * b (string * int repeats) */ \
  OPDEF(DIV,           13,  2, 1, OPK_NONE,    OPF_RAISES)             /* floor division on ints, true on floats */ \
  OPDEF(MOD,           14,  2, 1, OPK_NONE,    OPF_RAISES)             /* floor modulo */ \
  OPDEF(POW,           15,  2, 1, OPK_NONE,    OPF_RAISES)             /* a ** b */ \
  OPDEF(NEG,           16,  1, 1, OPK_NONE,    OPF_RAISES)             /* -a */ \
  OPDEF(EQ,            20,  2, 1, OPK_NONE,    OPF_READS_HEAP)         /* structural == */ \
  OPDEF(NEQ,           21,  2, 1, OPK_NONE,    OPF_READS_HEAP)         /* structural != */ \
  OPDEF(LT,            22,  2, 1, OPK_NONE,    OPF_RAISES)             /* numbers or strings */ \
  OPDEF(GT,            23,  2, 1, OPK_NONE,    OPF_RAISES)             \
  OPDEF(LTE,           24,  2, 1, OPK_NONE,    OPF_RAISES)             \
  OPDEF(GTE,           25,  2, 1, OPK_NONE,    OPF_RAISES)             \
  OPDEF(NOT,           32,  1, 1, OPK_NONE,    0)                      /* !truthy(a) */ \
  OPDEF(JUMP,          40,  0, 0, OPK_JUMP,    OPF_JUMPS | OPF_ENDS)   /* pc = a */ \
  OPDEF(JUMP_IF_FALSE, 41,  1, 0, OPK_JUMP,    OPF_JUMPS)              /* pop; if falsy pc = a */ \
  OPDEF(JUMP_IF_TRUE,  42,  1, 0, OPK_JUMP,    OPF_JUMPS)              /* pop; if truthy pc = a */ \
  OPDEF(RETURN,        43,  1, 0, OPK_NONE,    OPF_ENDS | OPF_STACK_EXACT) /* return top to the caller */ \
  OPDEF(CALL_TOP,      52, 1+ZX_SE_A, 1, OPK_ARGC, OPF_CALLS | OPF_RAISES) /* [f, a1..an] -> f(a1..an), n = a */ \
  OPDEF(CALL_BUILTIN,  53, ZX_SE_B, 1, OPK_BUILTIN, OPF_CALLS | OPF_RAISES) /* builtin a with b args */ \
  OPDEF(CALL_METHOD,   54, 1+ZX_SE_B, 1, OPK_METHOD,  OPF_CALLS | OPF_RAISES | OPF_READS_HEAP | OPF_WRITES_HEAP) /* [obj, args..] method consts[a], b args */ \
  OPDEF(BUILD_LIST,    60, ZX_SE_A, 1, OPK_COUNT,   0)                      /* list of the top a values */ \
  OPDEF(BUILD_MAP,     61, ZX_SE_2A, 1, OPK_COUNT,   OPF_RAISES)             /* map of the top a key/value pairs */ \
  OPDEF(MAP_EXTEND,   420, 1+ZX_SE_2A, 1, OPK_COUNT, OPF_READS_HEAP | OPF_RAISES) /* [m, k1, v1 .. kn, vn] -> m with the a pairs set (a copy if m is shared) */ \
  OPDEF(INDEX,         63,  2, 1, OPK_NONE,    OPF_READS_HEAP | OPF_RAISES) /* obj[i]; missing -> null */ \
  OPDEF(FORK_EXECUTION,300, 0, 0, OPK_FORK,    OPF_CALLS | OPF_RAISES | OPF_STACK_EXACT | OPF_JOINS_NEXT) /* run children a..a+b-1 as fork blocks */ \
  OPDEF(JOIN_WORKERS,  301, 0, 0, OPK_NONE,    OPF_STACK_EXACT)        /* wait for the innermost fork */ \
  OPDEF(PARALLEL_MAP,  302, 2, 1, OPK_NONE,    OPF_CALLS | OPF_RAISES | OPF_READS_HEAP) /* [f, xs] -> list */ \
  OPDEF(BARRIER_SYNC,  303, 0, 0, OPK_NONE,    OPF_STACK_EXACT)        /* chunk fence */ \
  OPDEF(SHARED_READ,   304, 0, 1, OPK_GLOBAL,  OPF_READS_VAR | OPF_RAISES)  /* read shared global a under its lock */ \
  OPDEF(SHARED_WRITE,  305, 1, 0, OPK_GLOBAL,  OPF_WRITES_VAR | OPF_READS_VAR | OPF_RAISES) /* global a op= pop, op = b */ \
  OPDEF(PRINT,        250, ZX_SE_A, 0, OPK_COUNT,   OPF_OUTPUT | OPF_READS_HEAP) /* print the top a values */ \
  OPDEF(NOP,          255,  0, 0, OPK_NONE,    0)                      /* nothing */ \
  OPDEF(LOAD_LOCAL,   400,  0, 1, OPK_LOCAL,   OPF_RAISES)             /* push local a; undefined raises */ \
  OPDEF(STORE_LOCAL,  401,  1, 0, OPK_LOCAL,   0)                      /* pop into local a */ \
  OPDEF(LOAD_CELL,    402,  0, 1, OPK_LOCAL,   OPF_READS_VAR | OPF_RAISES) /* push the value in local a's cell */ \
  OPDEF(STORE_CELL,   403,  1, 0, OPK_LOCAL,   OPF_WRITES_VAR)         /* pop into local a's cell */ \
  OPDEF(LOAD_FREE,    404,  0, 1, OPK_FREE,    OPF_READS_VAR | OPF_RAISES) /* push captured variable a */ \
  OPDEF(STORE_FREE,   405,  1, 0, OPK_FREE,    OPF_WRITES_VAR)         /* pop into captured variable a */ \
  OPDEF(MAKE_CLOSURE, 406,  0, 1, OPK_CHILD,   0)                      /* push a closure of child a */ \
  OPDEF(STORE_INDEX,  407,  3, 0, OPK_NONE,    OPF_WRITES_HEAP | OPF_RAISES) /* [obj, i, v]: obj[i] = v */ \
  OPDEF(DUP2,         408,  2, 4, OPK_NONE,    ZX_SHUFFLE(0, 1, 0, 1)) /* [a, b] -> [a, b, a, b] */ \
  OPDEF(GET_ITER,     409,  1, 0, OPK_LOCAL,   OPF_RAISES | OPF_JOINS_NEXT) /* pop iterable into hidden local a, index local a+1 = 0 */ \
  OPDEF(FOR_ITER1,    410,  0, 1, OPK_ITER,    OPF_JUMPS | OPF_EXIT_KEEPS | OPF_READS_HEAP) /* next element/key/char of local b or jump a */ \
  OPDEF(FOR_ITER2,    411,  0, 2, OPK_ITER,    OPF_JUMPS | OPF_EXIT_KEEPS | OPF_READS_HEAP) /* next (index, element) / (key, value) or jump a */ \
  OPDEF(ASSERT,       412, 1+ZX_SE_A, 0, OPK_FLAG,    OPF_RAISES)             /* pop cond (and message if a); falsy raises */ \
  OPDEF(LOAD_BUILTIN, 413,  0, 1, OPK_BUILTIN, 0)                      /* push builtin a as a value */ \
  OPDEF(ROT3,         414,  3, 3, OPK_NONE,    ZX_SHUFFLE(2, 0, 1, 0)) /* [a, b, c] -> [c, a, b] */ \
  OPDEF(LOAD_HOST,    415,  0, 1, OPK_CONST,   OPF_RAISES)             /* push the host function named by string consts[a] (zx_vm_register) */ \
  OPDEF(MAKE_CLASS,   480,  6, 1, OPK_COUNT,   OPF_READS_HEAP | OPF_RAISES) /* [name, fields, types, defaults, methods, iface] -> class of kind a */ \
  OPDEF(NEW_NAMED,    481,  2, 1, OPK_NONE,    OPF_READS_HEAP | OPF_RAISES) /* [class, map] -> instance with those fields */ \
  OPDEF(REQUIRE,      482, 1+ZX_SE_A, 0, OPK_FLAG, OPF_RAISES)          /* pop cond (and message if a); falsy raises "Requirement failed" */ \
  OPDEF(GET_FIELD,    483,  1, 1, OPK_CONST,   OPF_READS_HEAP | OPF_RAISES) /* [obj] -> obj.name, name = string consts[a] (INDEX by it) */ \
  OPDEF(THROW,        440,  1, 0, OPK_NONE,    OPF_ENDS | OPF_RAISES)  /* raise the popped value as an exception */ \
  OPDEF(RERAISE,      441,  2, 0, OPK_NONE,    OPF_ENDS | OPF_RAISES)  /* [text, value] from a handler: raise that error again */

enum zx_operand_kind {
    OPK_NONE,    /* a and b are 0 */
    OPK_CONST,   /* a: constant index */
    OPK_GLOBAL,  /* a: global slot; b: for SHARED_WRITE the arithmetic opcode */
    OPK_LOCAL,   /* a: local slot */
    OPK_FREE,    /* a: captured-variable index */
    OPK_CHILD,   /* a: child code object index */
    OPK_JUMP,    /* a: instruction index */
    OPK_ARGC,    /* a: argument count */
    OPK_COUNT,   /* a: element count */
    OPK_BUILTIN, /* a: builtin id; b: argument count */
    OPK_METHOD,  /* a: constant index of the method name (a string); b: argument count */
    OPK_ITER,    /* a: exit instruction index; b: hidden local slot of the iterable */
    OPK_FORK,    /* a: first child; b: number of blocks */
    OPK_FLAG,    /* a: 0 or 1 */
};

enum zx_op_flags {
    OPF_READS_VAR   = 1 << 0,  /* reads a variable location (global, cell, captured, shared) */
    OPF_WRITES_VAR  = 1 << 1,
    OPF_READS_HEAP  = 1 << 2,
    OPF_WRITES_HEAP = 1 << 3,
    OPF_JUMPS       = 1 << 4,  /* has an edge to instruction `a` (conditional unless OPF_ENDS) */
    OPF_RAISES      = 1 << 5,
    OPF_OUTPUT      = 1 << 6,
    OPF_CALLS       = 1 << 7,  /* runs code: effects come from the callee's summary */
    OPF_ENDS        = 1 << 8,  /* control does not fall through to pc + 1 */
    OPF_EXIT_KEEPS  = 1 << 9,  /* the jump edge leaves the stack as it was before the
                                  instruction; the pushes happen on the fall-through only
                                  (FOR_ITER: exhausted, or the next element) */
    OPF_STACK_EXACT = 1 << 10, /* the stack holds nothing but the operands: depth before the
                                  instruction == pops (fork, join, barrier at 0; RETURN at 1) */
    OPF_JOINS_NEXT  = 1 << 11, /* the next instruction belongs to the same statement: no chunk
                                  starts after it (a fork's join; the loop a GET_ITER prepares) */
    OPF_SHUFFLE     = 1 << 12, /* moves values without making any: pushed value i is a copy of
                                  popped value ZX_SHUFFLE_SRC(flags, i), 0 = the deepest popped */
};

/* Stack-effect formula terms of the pops/pushes columns (n + terms; n < 256). */
#define ZX_SE_A   0x100        /* + operand a */
#define ZX_SE_2A  0x200        /* + 2 * operand a */
#define ZX_SE_B   0x400        /* + operand b */

/* The flags of a shuffle row: pushed value i (0 = deepest) copies popped value s_i (0 = deepest);
 * only the first `pushes` of the four are meaningful. */
#define ZX_SHUFFLE(s0, s1, s2, s3) \
    (OPF_SHUFFLE | ((s0) << 16) | ((s1) << 18) | ((s2) << 20) | ((s3) << 22))
#define ZX_SHUFFLE_SRC(flags, i) ((int)(((flags) >> (16 + 2 * (i))) & 3u))
#define ZX_SHUFFLE_MAX 4        /* pushes of a shuffle row: at most 4 */

typedef enum zx_opcode {
#define ZX_OP_ENUM(name, num, pops, pushes, kind, flags) OP_##name = num,
    ZX_OPCODES(ZX_OP_ENUM)
#undef ZX_OP_ENUM
} zx_opcode;

typedef struct zx_instr {
    uint16_t op;
    uint16_t b;
    uint32_t a;
} zx_instr;

typedef struct zx_opinfo {
    const char *name;
    int number;
    int pops, pushes;          /* formulas: n + ZX_SE_* terms (zx_op_stack_effect evaluates them) */
    enum zx_operand_kind kind;
    unsigned flags;            /* zx_op_flags, and a shuffle's sources (ZX_SHUFFLE) */
} zx_opinfo;

/* Row for an opcode number, or NULL when the number is not an opcode. */
const zx_opinfo *zx_op_info(unsigned op);
/* Opcode whose name is `name` (case-sensitive), or -1. */
int zx_op_by_name(const char *name);
/* Stack effect of one instruction: the row's formulas evaluated on its operands.  0 and 0 for
 * a number that is not an opcode.  Exact for verified code; on unverified operands the
 * counts may be large, never negative. */
void zx_op_stack_effect(const zx_instr *in, int *pops, int *pushes);
/*
 * Control-flow successors of instruction `in` at index pc: the jump target `a` first (rows
 * with OPF_JUMPS), then pc + 1 (rows without OPF_ENDS).  Returns how many (0, 1 or 2); the
 * two may be equal (a conditional jump to the next instruction).  Targets are not checked
 * against the code length: in verified code every successor is an instruction.  This is
 * the one definition of control flow every walker (verifier, chunker, analysis, JIT) uses.
 */
int zx_op_successors(const zx_instr *in, uint32_t pc, uint32_t succ[2]);
/* Does the edge to successor i (as numbered by zx_op_successors) keep the stack that the
 * instruction found (OPF_EXIT_KEEPS: FOR_ITER's exit), rather than the stack after its pops
 * and pushes?  Stack depth on edge i: keeps ? d : d - pops + pushes. */
int zx_op_edge_keeps(const zx_instr *in, int i);
/* Every opcode row, in table order, and their count. */
extern const zx_opinfo zx_opinfo_table[];
extern const int zx_opinfo_count;

#endif
