/* flow.h — bytecode flow over verified code: edges with their stack depths, and the one stack-origin pass. */
#ifndef ZX_FLOW_H
#define ZX_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "bytecode/bytecode.h"

/*
 * Everything here reads a code object that zx_verify_program accepted: it relies on the
 * verifier's facts (zx_code.depth, zx_code.pcflags) and returns false / nothing useful when
 * they are missing.  Control flow itself is zx_op_successors (opcodes.h), stack effects
 * zx_op_stack_effect; this module adds what walkers built on them kept re-deriving.
 *
 * Nothing here allocates global state; every function is safe to call from any thread on a
 * code object that nobody is modifying.
 */

/* The successors of instruction pc (zx_op_successors order: jump target first) and the stack
 * depth on each edge: the depth after the instruction, except on the exit edge of an
 * OPF_EXIT_KEEPS row (FOR_ITER exhausted), which keeps the depth before it.  Returns how many
 * (0 to 2); 0 for an unreachable pc or a code object without verifier facts. */
int zx_flow_edges(const zx_code *c, uint32_t pc, uint32_t succ[2], int32_t edge_depth[2]);

/* Is instruction pc the bottom of a loop (a jump back to pc or before it)?  Same as
 * pcflags[pc] & ZX_PC_BACK_EDGE, for callers holding only the instruction. */
bool zx_flow_is_back_edge(const zx_instr *in, uint32_t pc);

/*
 * ---- stack origins: where every popped operand came from ----
 *
 * For every reachable instruction and every operand it pops, the instruction that produced
 * the value: the analysis (callee resolution: which closure a CALL_TOP calls, which value a
 * STORE stores) and the JIT (callee prediction, borrowed operands) both ask this.
 *
 * Values are followed through the shuffle rows (OPF_SHUFFLE: DUP, DUP2, ROT3 copy or move a
 * value, they do not produce one) and across joins; an operand whose paths bring different
 * values is ZX_FLOW_MERGE.  What "the same value" means is the caller's choice: a key
 * function maps (producer pc, push index) to a key, and keys are what joins compare.  With
 * no key function the key is the producer's pc (ZX_FLOW_KEY_PC), so two different
 * instructions never agree.  A caller that cares only about, say, which variable a value
 * was loaded from returns the same key for every load of that variable, and then a join of
 * two such loads keeps the key.  The result is the least fixpoint (join over all paths), so
 * it does not depend on visiting order.
 */
typedef uint64_t zx_flow_key;
#define ZX_FLOW_UNSET 0ull                         /* never an answer; reserved for the pass */
#define ZX_FLOW_MERGE 1ull                         /* paths disagree, or the key function said so */
#define ZX_FLOW_KEY_PC(pc) ((zx_flow_key)(pc) + 2) /* the default key of a value pushed at pc */
#define ZX_FLOW_PC(key) ((uint32_t)((key) - 2))    /* its inverse (key > ZX_FLOW_MERGE) */

/* Key of push number i (0 = the deepest pushed) of the non-shuffle instruction at pc.  Must
 * not return ZX_FLOW_UNSET; return ZX_FLOW_MERGE for "unknown".  The values a handler's target
 * starts with (made by the runtime, not by an instruction) are asked for with pc the target
 * and i ZX_FLOW_HANDLER_PUSH; without a key function they are ZX_FLOW_MERGE. */
#define ZX_FLOW_HANDLER_PUSH (-1)
typedef zx_flow_key (*zx_flow_key_fn)(void *ctx, const zx_code *c, uint32_t pc, int i);

typedef struct zx_flow_origins {
    uint32_t ncode;
    uint32_t *off;       /* ncode + 1: the operands of pc are key[off[pc] .. off[pc + 1]) */
    zx_flow_key *key;    /* per popped operand, the deepest first; MERGE where pc is unreachable */
} zx_flow_origins;

/* Compute the origins of every operand of c with key function fn (NULL: the producer's pc)
 * and its context.  On success *out owns its arrays (zx_flow_origins_free); on failure (no
 * verifier facts, out of memory) returns false and *out is empty. */
bool zx_flow_origins_build(const zx_code *c, zx_flow_key_fn fn, void *ctx, zx_flow_origins *out);
void zx_flow_origins_free(zx_flow_origins *o);

/* Operand j (0 = the deepest of those it pops) of instruction pc; ZX_FLOW_MERGE when pc pops
 * fewer than j + 1 values or is unreachable. */
static inline zx_flow_key zx_flow_operand(const zx_flow_origins *o, uint32_t pc, uint32_t j)
{
    if (pc >= o->ncode || j >= o->off[pc + 1] - o->off[pc]) return ZX_FLOW_MERGE;
    return o->key[o->off[pc] + j];
}

#endif
