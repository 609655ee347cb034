/* test_arith.c — unit tests of arith.c: every row of LANGUAGE-FACTS.md "Values and arithmetic". */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "runtime/arith.h"
#include "check.h"
#include "bytecode/opcodes.h"

/* The printed form of a binop's result, or "error: MESSAGE". */
static void binop_text(zx_heap *h, int op, zx_value a, zx_value b, char *out, size_t outsz)
{
    zx_value r;
    zx_error err;
    if (!zx_binop(h, (zx_arith_op)op, a, b, &r, &err)) {
        CHECK(err.id > ZX_ERR_NONE && err.id < ZX_ERR_COUNT);
        snprintf(out, outsz, "error: %s", err.msg);
        return;
    }
    zx_buf buf;
    zx_buf_init(&buf);
    zx_format_value(&buf, r);
    snprintf(out, outsz, "%s%s", r.tag == ZX_T_FLOAT ? "float " : r.tag == ZX_T_INT ? "int " : "",
             buf.data ? buf.data : "");
    zx_buf_free(&buf);
    zx_decref(r);
}

#define CHECK_OP(h, op, a, b, want) do { \
    char got_[256]; \
    binop_text((h), (op), (a), (b), got_, sizeof got_); \
    CHECK_STR(got_, (want)); \
} while (0)

static zx_value str(zx_heap *h, const char *s) { return zx_objval(zx_string_new(h, s, strlen(s))); }

static void test_int_division_and_modulo(zx_heap *h)
{
    CHECK_OP(h, OP_DIV, zx_int(7), zx_int(2), "int 3");
    CHECK_OP(h, OP_DIV, zx_int(-7), zx_int(2), "int -4");
    CHECK_OP(h, OP_DIV, zx_int(7), zx_int(-2), "int -4");
    CHECK_OP(h, OP_DIV, zx_int(-7), zx_int(-2), "int 3");
    CHECK_OP(h, OP_DIV, zx_int(6), zx_int(-2), "int -3");
    CHECK_OP(h, OP_MOD, zx_int(-7), zx_int(3), "int 2");
    CHECK_OP(h, OP_MOD, zx_int(7), zx_int(-3), "int -2");
    CHECK_OP(h, OP_MOD, zx_int(7), zx_int(3), "int 1");
    CHECK_OP(h, OP_MOD, zx_int(-6), zx_int(3), "int 0");
    CHECK_OP(h, OP_MOD, zx_int(17), zx_int(5), "int 2");
    CHECK_OP(h, OP_MOD, zx_int(INT64_MIN), zx_int(-1), "int 0");
    CHECK_OP(h, OP_MOD, zx_int(INT64_MIN), zx_int(INT64_MAX), "int 9223372036854775806");
    CHECK_OP(h, OP_MOD, zx_float(-7.5), zx_int(2), "float 0.5");
    CHECK_OP(h, OP_MOD, zx_float(7.5), zx_int(-2), "float -0.5");
    CHECK_OP(h, OP_MOD, zx_float(3.0), zx_float(-3.0), "float -0.0");
    CHECK_OP(h, OP_MOD, zx_int(10), zx_float(3.5), "float 3.0");
    CHECK_OP(h, OP_DIV, zx_float(7.0), zx_int(2), "float 3.5");
    CHECK_OP(h, OP_DIV, zx_int(1), zx_float(3.0), "float 0.3333333333333333");

    int64_t q;
    CHECK(zx_int_floordiv(-7, 2, &q) && q == -4);
    CHECK(!zx_int_floordiv(INT64_MIN, -1, &q));
    CHECK(zx_int_floormod(-7, 3) == 2);
    CHECK(zx_float_floormod(-7.5, 2) == 0.5);
}

static void test_mixed_and_float(zx_heap *h)
{
    CHECK_OP(h, OP_ADD, zx_int(1), zx_float(2.5), "float 3.5");
    CHECK_OP(h, OP_ADD, zx_float(1.5), zx_float(2.25), "float 3.75");
    CHECK_OP(h, OP_MUL, zx_int(3), zx_float(1.0), "float 3.0");
    CHECK_OP(h, OP_SUB, zx_float(5.5), zx_float(0.5), "float 5.0");
    CHECK_OP(h, OP_ADD, zx_float(0.1), zx_float(0.2), "float 0.30000000000000004");
    CHECK_OP(h, OP_MUL, zx_float(1234567.0), zx_int(1000000000000), "float 1.234567e+18");
    CHECK_OP(h, OP_ADD, zx_int(2), zx_int(3), "int 5");
    CHECK_OP(h, OP_MUL, zx_int(3037000499), zx_int(3037000499), "int 9223372030926249001");
}

static void test_pow(zx_heap *h)
{
    CHECK_OP(h, OP_POW, zx_int(2), zx_int(10), "int 1024");
    CHECK_OP(h, OP_POW, zx_int(2), zx_int(0), "int 1");
    CHECK_OP(h, OP_POW, zx_int(0), zx_int(0), "int 1");
    CHECK_OP(h, OP_POW, zx_int(-2), zx_int(63), "int -9223372036854775808");
    CHECK_OP(h, OP_POW, zx_int(2), zx_int(62), "int 4611686018427387904");
    CHECK_OP(h, OP_POW, zx_int(1), zx_int(INT64_MAX), "int 1");
    CHECK_OP(h, OP_POW, zx_int(-1), zx_int(INT64_MAX), "int -1");
    CHECK_OP(h, OP_POW, zx_int(2), zx_int(-1), "float 0.5");
    CHECK_OP(h, OP_POW, zx_int(-1), zx_int(-3), "float -1.0");
    CHECK_OP(h, OP_POW, zx_float(2.0), zx_int(3), "float 8.0");
    CHECK_OP(h, OP_POW, zx_int(4), zx_float(0.5), "float 2.0");
    CHECK_OP(h, OP_POW, zx_float(-8.0), zx_float(2.0), "float 64.0");
    CHECK_OP(h, OP_POW, zx_int(0), zx_int(-1), "error: division by zero");
    CHECK_OP(h, OP_POW, zx_float(0.0), zx_int(-1), "error: division by zero");
    CHECK_OP(h, OP_POW, zx_float(-8.0), zx_float(0.5), "error: invalid power");
    CHECK_OP(h, OP_POW, zx_int(-8), zx_float(1.0 / 3.0), "error: invalid power");
    CHECK_OP(h, OP_POW, zx_int(2), zx_int(63), "error: integer overflow");
    CHECK_OP(h, OP_POW, zx_int(3037000500), zx_int(2), "error: integer overflow");
    CHECK_OP(h, OP_POW, zx_int(10), zx_int(100), "error: integer overflow");

    int64_t r;
    CHECK(zx_int_pow(3, 4, &r) && r == 81);
    CHECK(!zx_int_pow(2, 64, &r));
}

static void test_zero_divisors(zx_heap *h)
{
    CHECK_OP(h, OP_DIV, zx_int(1), zx_int(0), "error: division by zero");
    CHECK_OP(h, OP_DIV, zx_float(1.0), zx_float(0.0), "error: division by zero");
    CHECK_OP(h, OP_DIV, zx_int(1), zx_float(-0.0), "error: division by zero");
    CHECK_OP(h, OP_DIV, zx_float(1.5), zx_int(0), "error: division by zero");
    CHECK_OP(h, OP_MOD, zx_int(1), zx_int(0), "error: modulo by zero");
    CHECK_OP(h, OP_MOD, zx_float(1.0), zx_float(0.0), "error: modulo by zero");
    CHECK_OP(h, OP_MOD, zx_int(5), zx_float(0.0), "error: modulo by zero");
}

static void test_overflow(zx_heap *h)
{
    CHECK_OP(h, OP_ADD, zx_int(INT64_MAX), zx_int(1), "error: integer overflow");
    CHECK_OP(h, OP_SUB, zx_int(INT64_MIN), zx_int(1), "error: integer overflow");
    CHECK_OP(h, OP_SUB, zx_int(0), zx_int(INT64_MIN), "error: integer overflow");
    CHECK_OP(h, OP_MUL, zx_int(3037000500), zx_int(3037000500), "error: integer overflow");
    CHECK_OP(h, OP_MUL, zx_int(INT64_MIN), zx_int(-1), "error: integer overflow");
    CHECK_OP(h, OP_DIV, zx_int(INT64_MIN), zx_int(-1), "error: integer overflow");
    CHECK_OP(h, OP_SUB, zx_int(-INT64_MAX), zx_int(1), "int -9223372036854775808");
    CHECK_OP(h, OP_ADD, zx_int(INT64_MAX), zx_int(0), "int 9223372036854775807");

    zx_value r;
    zx_error err;
    CHECK(!zx_negate(zx_int(INT64_MIN), &r, &err));
    CHECK(err.id == ZX_ERR_INT_OVERFLOW);
    CHECK_STR(err.msg, "integer overflow");
    CHECK(zx_negate(zx_int(5), &r, &err) && r.tag == ZX_T_INT && r.u.i == -5);
    CHECK(zx_negate(zx_float(0.0), &r, &err) && r.tag == ZX_T_FLOAT && signbit(r.u.f));
    CHECK(zx_negate(zx_int(INT64_MAX), &r, &err) && r.u.i == -INT64_MAX);
}

static void test_equality(zx_heap *h)
{
    CHECK_OP(h, OP_EQ, zx_int(9007199254740993), zx_float(9007199254740992.0), "false");
    CHECK_OP(h, OP_EQ, zx_int(9007199254740992), zx_float(9007199254740992.0), "true");
    CHECK_OP(h, OP_EQ, zx_int(1), zx_float(1.0), "true");
    CHECK_OP(h, OP_EQ, zx_float(1.0), zx_int(1), "true");
    CHECK_OP(h, OP_EQ, zx_int(INT64_MAX), zx_float(9223372036854775807.0), "false");
    CHECK_OP(h, OP_EQ, zx_int(INT64_MIN), zx_float(-9223372036854775808.0), "true");
    CHECK_OP(h, OP_EQ, zx_int(1), zx_bool(true), "false");
    CHECK_OP(h, OP_EQ, zx_int(0), zx_bool(false), "false");
    CHECK_OP(h, OP_EQ, zx_null(), zx_null(), "true");
    CHECK_OP(h, OP_EQ, zx_null(), zx_bool(false), "false");
    CHECK_OP(h, OP_EQ, zx_float(NAN), zx_float(NAN), "false");
    CHECK_OP(h, OP_NEQ, zx_float(NAN), zx_float(NAN), "true");
    CHECK_OP(h, OP_EQ, zx_float(0.0), zx_float(-0.0), "true");
    CHECK_OP(h, OP_NEQ, zx_int(1), zx_int(2), "true");

    zx_value one = str(h, "1"), s1 = str(h, "hello"), s2 = str(h, "hello");
    CHECK_OP(h, OP_EQ, zx_int(1), one, "false");
    CHECK_OP(h, OP_EQ, s1, s2, "true");
    CHECK_OP(h, OP_NEQ, s1, one, "true");
    /* Lists and maps compare by value. */
    zx_list *a = zx_list_new(h, 0), *b = zx_list_new(h, 0);
    zx_list_push(h, a, zx_int(1));
    zx_list_push(h, a, s1);
    zx_list_push(h, b, zx_float(1.0));
    zx_list_push(h, b, s2);
    CHECK_OP(h, OP_EQ, zx_objval(a), zx_objval(b), "true");
    zx_list_push(h, b, zx_null());
    CHECK_OP(h, OP_EQ, zx_objval(a), zx_objval(b), "false");
    CHECK_OP(h, OP_NEQ, zx_objval(a), zx_objval(b), "true");
    zx_decref(zx_objval(a));
    zx_decref(zx_objval(b));
    zx_decref(one);
    zx_decref(s1);
    zx_decref(s2);
}

static void test_ordering(zx_heap *h)
{
    CHECK_OP(h, OP_LT, zx_int(1), zx_float(2.5), "true");
    CHECK_OP(h, OP_GTE, zx_int(2), zx_float(2.0), "true");
    CHECK_OP(h, OP_GT, zx_int(2), zx_float(2.0), "false");
    CHECK_OP(h, OP_LTE, zx_float(2.5), zx_int(2), "false");
    CHECK_OP(h, OP_GT, zx_float(2.5), zx_int(2), "true");
    CHECK_OP(h, OP_LT, zx_int(-3), zx_int(2), "true");
    /* Exact int-vs-float ordering: no rounding of the int. */
    CHECK_OP(h, OP_GT, zx_int(9007199254740993), zx_float(9007199254740992.0), "true");
    CHECK_OP(h, OP_LT, zx_float(9007199254740992.0), zx_int(9007199254740993), "true");
    CHECK_OP(h, OP_LT, zx_int(INT64_MAX), zx_float(9223372036854775808.0), "true");
    CHECK_OP(h, OP_GT, zx_int(INT64_MIN), zx_float(-1e300), "true");
    CHECK_OP(h, OP_LT, zx_int(-1), zx_float(-0.5), "true");
    CHECK_OP(h, OP_GT, zx_int(0), zx_float(-0.5), "true");
    CHECK_OP(h, OP_LT, zx_int(0), zx_float(NAN), "false");
    CHECK_OP(h, OP_GTE, zx_int(0), zx_float(NAN), "false");
    CHECK_OP(h, OP_LT, zx_float(-INFINITY), zx_int(INT64_MIN), "true");

    zx_value a = str(h, "a"), b = str(h, "b"), ab = str(h, "ab"), z = str(h, "z"), e = str(h, "\xc3\xa9");
    CHECK_OP(h, OP_LT, a, b, "true");
    CHECK_OP(h, OP_LT, a, ab, "true");
    CHECK_OP(h, OP_GT, ab, a, "true");
    CHECK_OP(h, OP_GT, e, z, "true");        /* by code point: U+00E9 after U+007A */
    CHECK_OP(h, OP_LTE, a, a, "true");
    CHECK_OP(h, OP_LT, a, zx_int(1), "error: type mismatch: cannot compare String and Integer");
    CHECK_OP(h, OP_GT, zx_int(1), a, "error: type mismatch: cannot compare Integer and String");
    CHECK_OP(h, OP_LT, zx_null(), zx_int(1), "error: type mismatch: cannot compare Null and Integer");
    CHECK_OP(h, OP_LT, zx_bool(true), zx_bool(false), "error: type mismatch: cannot compare Boolean and Boolean");
    zx_decref(a);
    zx_decref(b);
    zx_decref(ab);
    zx_decref(z);
    zx_decref(e);
}

static void test_strings_and_mismatch(zx_heap *h)
{
    zx_value s = str(h, "s"), ab = str(h, "ab"), t = str(h, " t");
    CHECK_OP(h, OP_ADD, s, t, "s t");
    CHECK_OP(h, OP_MUL, ab, zx_int(3), "ababab");
    CHECK_OP(h, OP_MUL, zx_int(3), ab, "ababab");
    CHECK_OP(h, OP_MUL, ab, zx_int(0), "");
    CHECK_OP(h, OP_MUL, ab, zx_int(-2), "");
    CHECK_OP(h, OP_ADD, s, zx_int(1), "error: type mismatch: String + Integer");
    CHECK_OP(h, OP_ADD, zx_int(1), s, "error: type mismatch: Integer + String");
    CHECK_OP(h, OP_ADD, zx_null(), zx_int(1), "error: type mismatch: Null + Integer");
    CHECK_OP(h, OP_ADD, zx_bool(true), zx_int(1), "error: type mismatch: Boolean + Integer");
    CHECK_OP(h, OP_SUB, s, s, "error: type mismatch: String - String");
    CHECK_OP(h, OP_MUL, ab, zx_float(2.0), "error: type mismatch: String * Float");
    CHECK_OP(h, OP_MUL, ab, ab, "error: type mismatch: String * String");
    CHECK_OP(h, OP_POW, s, zx_int(2), "error: type mismatch: String ** Integer");
    CHECK_OP(h, OP_MOD, zx_int(2), zx_null(), "error: type mismatch: Integer % Null");

    zx_value r;
    zx_error err;
    CHECK(!zx_negate(s, &r, &err));
    CHECK(err.id == ZX_ERR_NEGATE_TYPE);
    CHECK_STR(err.msg, "type mismatch: cannot negate String");
    CHECK(!zx_negate(zx_null(), &r, &err));
    CHECK_STR(err.msg, "type mismatch: cannot negate Null");

    /* A string result over the memory limit is an error, not a crash. */
    zx_heap *small = zx_heap_create(4096);
    zx_value big = zx_objval(zx_string_new(small, "0123456789", 10));
    CHECK_OP(small, OP_MUL, big, zx_int(1000), "error: memory limit exceeded");
    CHECK_OP(small, OP_MUL, big, zx_int(INT64_MAX), "error: memory limit exceeded");
    zx_decref(big);
    CHECK(zx_heap_bytes(small) == 0);
    zx_heap_destroy(small);

    zx_decref(s);
    zx_decref(ab);
    zx_decref(t);
}

static void test_truthiness(void)
{
    CHECK(!zx_truthy(zx_bool(false)));
    CHECK(!zx_truthy(zx_null()));
    CHECK(zx_truthy(zx_int(0)));
    CHECK(zx_truthy(zx_float(0.0)));
    CHECK(zx_truthy(zx_bool(true)));
}

int main(void)
{
    zx_heap *h = zx_heap_create(0);
    test_int_division_and_modulo(h);
    test_mixed_and_float(h);
    test_pow(h);
    test_zero_divisors(h);
    test_overflow(h);
    test_equality(h);
    test_ordering(h);
    test_strings_and_mismatch(h);
    test_truthiness();
    CHECK(zx_heap_bytes(h) == 0);
    zx_heap_destroy(h);
    return CHECK_DONE();
}
