/* arith.c — the language's arithmetic and comparisons on values (LANGUAGE-FACTS.md "Values and arithmetic"). */
#include "arith.h"

#include <math.h>
#include <string.h>

bool zx_int_floordiv(int64_t a, int64_t b, int64_t *out)
{
    if (b == 0) return false;
    if (a == INT64_MIN && b == -1) return false;   /* the one quotient outside the range */
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    *out = q;
    return true;
}

int64_t zx_int_floormod(int64_t a, int64_t b)
{
    if (b == -1) return 0;                          /* INT64_MIN % -1 is undefined in C */
    int64_t r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}

double zx_float_floormod(double a, double b)
{
    /* Python's float %: the result takes the divisor's sign, and a zero keeps it too. */
    double r = fmod(a, b);
    if (r != 0) {
        if ((b < 0) != (r < 0)) r += b;
    } else {
        r = copysign(0.0, b);
    }
    return r;
}

bool zx_int_pow(int64_t base, int64_t exp, int64_t *out)
{
    int64_t result = 1;
    if (exp < 0) return false;
    while (exp) {
        if (exp & 1) {
            if (__builtin_mul_overflow(result, base, &result)) return false;
        }
        exp >>= 1;
        /* Square only while bits remain: when base*base overflows and a bit remains, the
         * result would overflow anyway (|base| >= 2 here), so this is exact. */
        if (exp && __builtin_mul_overflow(base, base, &base)) return false;
    }
    *out = result;
    return true;
}

/* Python's float ** for the cases the language gives a result or a stable error. */
static bool float_pow(double a, double b, double *out, zx_error *err)
{
    if (b == 0) { *out = 1.0; return true; }
    if (isnan(a)) { *out = a; return true; }
    if (isnan(b)) { *out = a == 1.0 ? 1.0 : b; return true; }
    if (isinf(b) || isinf(a)) { *out = pow(a, b); return true; }
    if (a == 0 && b < 0) return zx_error_set(err, ZX_ERR_DIV_ZERO);
    if (a < 0 && b != floor(b)) return zx_error_set(err, ZX_ERR_INVALID_POWER);
    *out = pow(a, b);
    return true;
}

/* Compare an int with a float exactly: -1, 0, 1, or 2 when f is NaN (unordered). */
static int cmp_int_float(int64_t i, double f)
{
    if (isnan(f)) return 2;
    if (f >= 9223372036854775808.0) return -1;
    if (f < -9223372036854775808.0) return 1;
    double t = trunc(f);
    int64_t ti = (int64_t)t;
    if (i != ti) return i < ti ? -1 : 1;
    return f > t ? -1 : f < t ? 1 : 0;
}

static int cmp_float(double x, double y)
{
    if (isnan(x) || isnan(y)) return 2;
    return x < y ? -1 : x > y ? 1 : 0;
}

static const char *op_symbol(zx_arith_op op)
{
    switch ((int)op) {     /* the other operators never reach here (zx_binop dispatches) */
    case ZX_ARITH_ADD: return "+";
    case ZX_ARITH_SUB: return "-";
    case ZX_ARITH_MUL: return "*";
    case ZX_ARITH_DIV: return "/";
    case ZX_ARITH_MOD: return "%";
    case ZX_ARITH_POW: return "**";
    default: return "?";
    }
}

static bool is_num(zx_value v) { return v.tag == ZX_T_INT || v.tag == ZX_T_FLOAT; }
static double as_double(zx_value v) { return v.tag == ZX_T_INT ? (double)v.u.i : v.u.f; }

static bool int_arith(zx_arith_op op, int64_t x, int64_t y, zx_value *out, zx_error *err)
{
    int64_t r;
    switch ((int)op) {     /* the other operators never reach here (zx_binop dispatches) */
    case ZX_ARITH_ADD:
        if (__builtin_add_overflow(x, y, &r)) return zx_error_set(err, ZX_ERR_INT_OVERFLOW);
        break;
    case ZX_ARITH_SUB:
        if (__builtin_sub_overflow(x, y, &r)) return zx_error_set(err, ZX_ERR_INT_OVERFLOW);
        break;
    case ZX_ARITH_MUL:
        if (__builtin_mul_overflow(x, y, &r)) return zx_error_set(err, ZX_ERR_INT_OVERFLOW);
        break;
    case ZX_ARITH_DIV:
        if (y == 0) return zx_error_set(err, ZX_ERR_DIV_ZERO);
        if (!zx_int_floordiv(x, y, &r)) return zx_error_set(err, ZX_ERR_INT_OVERFLOW);
        break;
    case ZX_ARITH_MOD:
        if (y == 0) return zx_error_set(err, ZX_ERR_MOD_ZERO);
        r = zx_int_floormod(x, y);
        break;
    case ZX_ARITH_POW:
        if (y < 0) {
            /* A negative exponent gives a float, as in Python: 2 ** -1 is 0.5. */
            if (x == 0) return zx_error_set(err, ZX_ERR_DIV_ZERO);
            *out = zx_float(pow((double)x, (double)y));
            return true;
        }
        if (!zx_int_pow(x, y, &r)) return zx_error_set(err, ZX_ERR_INT_OVERFLOW);
        break;
    default:
        return zx_error_set(err, ZX_ERR_BAD_OPERATOR, (int)op);
    }
    *out = zx_int(r);
    return true;
}

static bool float_arith(zx_arith_op op, double x, double y, zx_value *out, zx_error *err)
{
    double r = 0;
    switch ((int)op) {     /* the other operators never reach here (zx_binop dispatches) */
    case ZX_ARITH_ADD: r = x + y; break;
    case ZX_ARITH_SUB: r = x - y; break;
    case ZX_ARITH_MUL: r = x * y; break;
    case ZX_ARITH_DIV:
        if (y == 0) return zx_error_set(err, ZX_ERR_DIV_ZERO);
        r = x / y;
        break;
    case ZX_ARITH_MOD:
        if (y == 0) return zx_error_set(err, ZX_ERR_MOD_ZERO);
        r = zx_float_floormod(x, y);
        break;
    case ZX_ARITH_POW:
        if (!float_pow(x, y, &r, err)) return false;
        break;
    default:
        return zx_error_set(err, ZX_ERR_BAD_OPERATOR, (int)op);
    }
    *out = zx_float(r);
    return true;
}

static bool compare(zx_arith_op op, zx_value a, zx_value b, zx_value *out, zx_error *err)
{
    int c;
    if (a.tag == ZX_T_INT && b.tag == ZX_T_INT) {
        c = a.u.i < b.u.i ? -1 : a.u.i > b.u.i;
    } else if (a.tag == ZX_T_INT && b.tag == ZX_T_FLOAT) {
        c = cmp_int_float(a.u.i, b.u.f);
    } else if (a.tag == ZX_T_FLOAT && b.tag == ZX_T_INT) {
        c = cmp_int_float(b.u.i, a.u.f);
        if (c != 2) c = -c;
    } else if (a.tag == ZX_T_FLOAT && b.tag == ZX_T_FLOAT) {
        c = cmp_float(a.u.f, b.u.f);
    } else if (zx_is_type(a, ZX_O_STRING) && zx_is_type(b, ZX_O_STRING)) {
        c = zx_string_cmp(ZX_AS_STRING(a), ZX_AS_STRING(b));
    } else {
        return zx_error_set(err, ZX_ERR_COMPARE_TYPE, zx_type_name(a),
                    zx_type_name(b));
    }
    bool r;
    if (c == 2) {
        r = false;                   /* NaN is unordered: every ordering is false */
    } else {
        switch ((int)op) {
        case ZX_ARITH_LT: r = c < 0; break;
        case ZX_ARITH_GT: r = c > 0; break;
        case ZX_ARITH_LTE: r = c <= 0; break;
        default: r = c >= 0; break;
        }
    }
    *out = zx_bool(r);
    return true;
}

bool zx_binop(zx_heap *h, zx_arith_op op, zx_value a, zx_value b, zx_value *out, zx_error *err)
{
    switch ((int)op) {     /* an int: the callers hand over opcode numbers */
    case ZX_ARITH_EQ: *out = zx_bool(zx_value_equal(a, b)); return true;
    case ZX_ARITH_NEQ: *out = zx_bool(!zx_value_equal(a, b)); return true;
    case ZX_ARITH_LT: case ZX_ARITH_GT: case ZX_ARITH_LTE: case ZX_ARITH_GTE: return compare(op, a, b, out, err);
    case ZX_ARITH_ADD: case ZX_ARITH_SUB: case ZX_ARITH_MUL: case ZX_ARITH_DIV: case ZX_ARITH_MOD: case ZX_ARITH_POW: break;
    default: return zx_error_set(err, ZX_ERR_BAD_OPERATOR, (int)op);
    }

    if (a.tag == ZX_T_INT && b.tag == ZX_T_INT) return int_arith(op, a.u.i, b.u.i, out, err);
    if (is_num(a) && is_num(b)) return float_arith(op, as_double(a), as_double(b), out, err);

    if (op == ZX_ARITH_ADD && zx_is_type(a, ZX_O_STRING) && zx_is_type(b, ZX_O_STRING)) {
        zx_string *s = zx_string_concat(h, ZX_AS_STRING(a), ZX_AS_STRING(b));
        if (!s) return zx_error_set(err, ZX_ERR_MEMORY);
        *out = zx_objval(s);
        return true;
    }
    if (op == ZX_ARITH_ADD && zx_is_type(a, ZX_O_LIST) && zx_is_type(b, ZX_O_LIST)) {
        /* xs + ys: a new list (a new list closes no cycle, so it is no cycle candidate) */
        const zx_list *x = ZX_AS_LIST(a), *y = ZX_AS_LIST(b);
        /* in x's kind; y's items push into it, which makes it generic if their type differs */
        zx_list *l = zx_list_slice(h, x, 0, x->len, y->len);
        for (uint32_t i = 0; l && i < y->len; i++)
            if (!zx_list_push_fresh(h, l, zx_list_get(y, i))) {
                zx_obj_decref(l);
                l = NULL;
            }
        if (!l) return zx_error_set(err, ZX_ERR_MEMORY);
        *out = zx_objval(l);
        return true;
    }
    if (op == ZX_ARITH_MUL && ((zx_is_type(a, ZX_O_STRING) && b.tag == ZX_T_INT) ||
                         (a.tag == ZX_T_INT && zx_is_type(b, ZX_O_STRING)))) {
        const zx_string *s = a.tag == ZX_T_INT ? ZX_AS_STRING(b) : ZX_AS_STRING(a);
        int64_t times = a.tag == ZX_T_INT ? a.u.i : b.u.i;
        zx_string *r = zx_string_repeat(h, s, times);
        if (!r) return zx_error_set(err, ZX_ERR_MEMORY);
        *out = zx_objval(r);
        return true;
    }
    return zx_error_set(err, ZX_ERR_BINOP_TYPE, zx_type_name(a), op_symbol(op), zx_type_name(b));
}

bool zx_negate(zx_value a, zx_value *out, zx_error *err)
{
    if (a.tag == ZX_T_INT) {
        if (a.u.i == INT64_MIN) return zx_error_set(err, ZX_ERR_INT_OVERFLOW);
        *out = zx_int(-a.u.i);
        return true;
    }
    if (a.tag == ZX_T_FLOAT) {
        *out = zx_float(-a.u.f);
        return true;
    }
    return zx_error_set(err, ZX_ERR_NEGATE_TYPE, zx_type_name(a));
}
