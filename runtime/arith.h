/* arith.h — arithmetic and comparison on values, shared by the interpreter and JIT helpers. */
#ifndef ZX_ARITH_H
#define ZX_ARITH_H

#include "value.h"

/* Apply the binary opcode `op` (OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_POW, OP_LT, OP_GT,
 * OP_LTE, OP_GTE, OP_EQ, OP_NEQ) to borrowed a and b.  On success returns true and *out holds
 * a new reference.  On failure returns false and writes the message (one of the stable
 * messages of LANGUAGE-FACTS.md: "division by zero", "modulo by zero", "integer overflow",
 * "invalid power", "type mismatch: ...", "memory limit exceeded") to msg. */
bool zx_binop(zx_heap *h, int op, zx_value a, zx_value b, zx_value *out, char *msg, size_t msgsz);
/* Unary minus. */
bool zx_negate(zx_value a, zx_value *out, char *msg, size_t msgsz);

/* Integer helpers with the language's semantics; false on overflow / zero divisor. */
bool zx_int_floordiv(int64_t a, int64_t b, int64_t *out);   /* b != 0 required by caller */
int64_t zx_int_floormod(int64_t a, int64_t b);              /* b != 0 */
double zx_float_floormod(double a, double b);               /* b != 0 */
bool zx_int_pow(int64_t base, int64_t exp, int64_t *out);   /* exp >= 0; false on overflow */

#endif
