/* arith.h — arithmetic and comparison on values, shared by the interpreter and JIT helpers. */
#ifndef ZX_ARITH_H
#define ZX_ARITH_H

#include "errors.h"
#include "value.h"

/* The binary operators.  The numbers are those of the opcodes ADD..NEQ, so that the
 * interpreter hands an opcode over unchanged (src/exec/interp.c asserts it); runtime/ itself
 * knows nothing of opcodes. */
typedef enum zx_arith_op {
    ZX_ARITH_ADD = 10,
    ZX_ARITH_SUB = 11,
    ZX_ARITH_MUL = 12,
    ZX_ARITH_DIV = 13,
    ZX_ARITH_MOD = 14,
    ZX_ARITH_POW = 15,
    ZX_ARITH_EQ = 20,
    ZX_ARITH_NEQ = 21,
    ZX_ARITH_LT = 22,
    ZX_ARITH_GT = 23,
    ZX_ARITH_LTE = 24,
    ZX_ARITH_GTE = 25,
} zx_arith_op;

/* Apply `op` to borrowed a and b.  On success returns true and *out holds a new reference.
 * On failure returns false and *err holds the error (ZX_ERR_DIV_ZERO, ZX_ERR_MOD_ZERO,
 * ZX_ERR_INT_OVERFLOW, ZX_ERR_INVALID_POWER, ZX_ERR_BINOP_TYPE, ZX_ERR_COMPARE_TYPE,
 * ZX_ERR_MEMORY) with its message. */
bool zx_binop(zx_heap *h, zx_arith_op op, zx_value a, zx_value b, zx_value *out, zx_error *err);
/* Unary minus: ZX_ERR_INT_OVERFLOW or ZX_ERR_NEGATE_TYPE on failure. */
bool zx_negate(zx_value a, zx_value *out, zx_error *err);

/* Integer helpers with the language's semantics; false on overflow / zero divisor. */
bool zx_int_floordiv(int64_t a, int64_t b, int64_t *out);   /* b != 0 required by caller */
int64_t zx_int_floormod(int64_t a, int64_t b);              /* b != 0 */
double zx_float_floormod(double a, double b);               /* b != 0 */
bool zx_int_pow(int64_t base, int64_t exp, int64_t *out);   /* exp >= 0; false on overflow */

#endif
