/* test_errors.c — unit tests of runtime/errors: every row's message as the user reads it, and its status. */
#include <stdbool.h>

#include "check.h"
#include "exec/frame.h"
#include "runtime/errors.h"

static bool seen[ZX_ERR_COUNT];

/* Row id formatted from the arguments gives want, and stops a run with status st. */
#define CHECK_ROW(st, want, row, ...) do { \
    zx_error e_; \
    CHECK(!zx_error_set(&e_, row, ##__VA_ARGS__)); \
    CHECK(e_.id == row); \
    CHECK_STR(e_.msg, want); \
    CHECK(zx_err_status(row) == st); \
    seen[row] = true; \
} while (0)

int main(void)
{
    CHECK_ROW(ZX_E_MEMORY, "memory limit exceeded", ZX_ERR_MEMORY);
    CHECK_ROW(ZX_E_RUNTIME, "call depth limit exceeded", ZX_ERR_CALL_DEPTH);
    CHECK_ROW(ZX_E_INTERRUPTED, "interrupted", ZX_ERR_INTERRUPTED);
    CHECK_ROW(ZX_E_RUNTIME, "undefined variable 'x'", ZX_ERR_UNDEFINED, "x");
    CHECK_ROW(ZX_E_RUNTIME, "assertion failed", ZX_ERR_ASSERT);
    CHECK_ROW(ZX_E_RUNTIME, "assertion failed: [1, 2]", ZX_ERR_ASSERT_MSG, "[1, 2]");
    CHECK_ROW(ZX_E_RUNTIME, "integer overflow", ZX_ERR_INT_OVERFLOW);
    CHECK_ROW(ZX_E_RUNTIME, "division by zero", ZX_ERR_DIV_ZERO);
    CHECK_ROW(ZX_E_RUNTIME, "modulo by zero", ZX_ERR_MOD_ZERO);
    CHECK_ROW(ZX_E_RUNTIME, "invalid power", ZX_ERR_INVALID_POWER);
    CHECK_ROW(ZX_E_RUNTIME, "type mismatch: Integer + String", ZX_ERR_BINOP_TYPE, "Integer", "+", "String");
    CHECK_ROW(ZX_E_RUNTIME, "type mismatch: cannot compare List and Map", ZX_ERR_COMPARE_TYPE, "List", "Map");
    CHECK_ROW(ZX_E_RUNTIME, "type mismatch: cannot negate Null", ZX_ERR_NEGATE_TYPE, "Null");
    CHECK_ROW(ZX_E_RUNTIME, "unknown binary operator 99", ZX_ERR_BAD_OPERATOR, 99);
    CHECK_ROW(ZX_E_RUNTIME, "type mismatch: cannot index List with String", ZX_ERR_INDEX_TYPE, "List", "String");
    CHECK_ROW(ZX_E_RUNTIME, "index out of range", ZX_ERR_INDEX_RANGE);
    CHECK_ROW(ZX_E_RUNTIME, "type mismatch: cannot assign to an element of String with Integer index",
              ZX_ERR_STORE_TYPE, "String", "Integer");
    CHECK_ROW(ZX_E_RUNTIME, "type mismatch: cannot iterate over Integer", ZX_ERR_ITER_TYPE, "Integer");
    CHECK_ROW(ZX_E_RUNTIME, "type mismatch: List cannot be a map key", ZX_ERR_MAP_KEY_TYPE, "List");
    CHECK_ROW(ZX_E_RUNTIME, "type mismatch: Integer is not callable", ZX_ERR_NOT_CALLABLE, "Integer");
    CHECK_ROW(ZX_E_RUNTIME, "expected 1 arguments, got 2", ZX_ERR_ARITY, 1, 2);
    CHECK_ROW(ZX_E_RUNTIME, "expected 1 to 3 arguments, got 0", ZX_ERR_ARITY_RANGE, 1, 3, 0);
    CHECK_ROW(ZX_E_RUNTIME, "type mismatch: List has no method 'keys'", ZX_ERR_NO_METHOD, "List", "keys");
    CHECK_ROW(ZX_E_RUNTIME, "type mismatch: parallel_map expects a List, got Map", ZX_ERR_PMAP_TYPE, "Map");
    CHECK_ROW(ZX_E_RUNTIME, "type mismatch: len() of Integer", ZX_ERR_BUILTIN_TYPE, "len", "Integer");
    CHECK_ROW(ZX_E_RUNTIME, "invalid value for int(): \"12x\"...", ZX_ERR_INVALID_STRING, "int", 3, "12xyz", "...");
    CHECK_ROW(ZX_E_RUNTIME, "invalid value for int(): nan", ZX_ERR_INVALID_NUMBER, "int", "nan");
    CHECK_ROW(ZX_E_RUNTIME, "range step must not be zero", ZX_ERR_RANGE_STEP);
    CHECK_ROW(ZX_E_RUNTIME, "pop from empty list", ZX_ERR_POP_EMPTY);
    CHECK_ROW(ZX_E_RUNTIME, "unknown builtin 42", ZX_ERR_UNKNOWN_BUILTIN, 42);
    CHECK_ROW(ZX_E_RUNTIME, "unknown method 7", ZX_ERR_UNKNOWN_METHOD, 7);
    CHECK_ROW(ZX_E_RUNTIME, "internal error: builtin print is run by the interpreter", ZX_ERR_BUILTIN_IN_LOOP, "print");
    CHECK_ROW(ZX_E_RUNTIME, "unknown host function", ZX_ERR_HOST_UNKNOWN);
    CHECK_ROW(ZX_E_RUNTIME, "host function 'h' returned a value of another VM", ZX_ERR_HOST_FOREIGN, "h");
    CHECK_ROW(ZX_E_RUNTIME, "host function 'h' failed: bad argument", ZX_ERR_HOST_FAILED, "h", "bad argument");
    CHECK_ROW(ZX_E_RUNTIME, "type mismatch: split() expects a String as argument 2, got Integer", ZX_ERR_ARG_TYPE,
              "split", "a String", 2, "Integer");
    CHECK_ROW(ZX_E_RUNTIME, "min() of an empty list", ZX_ERR_EMPTY_LIST, "min");
    CHECK_ROW(ZX_E_RUNTIME, "type mismatch: sort() comparator returned String", ZX_ERR_SORT_RESULT, "String");
    CHECK_ROW(ZX_E_RUNTIME, "file_read_text(): cannot read 'a.txt': No such file or directory", ZX_ERR_FILE_IO,
              "file_read_text", "read", 5, "a.txt", "", "No such file or directory");
    CHECK_ROW(ZX_E_RUNTIME, "file_read_text(): 'b.bin' is not UTF-8 text", ZX_ERR_FILE_UTF8, "file_read_text", 5,
              "b.bin", "");
    CHECK_ROW(ZX_E_RUNTIME, "json_parse(): invalid JSON at line 1, column 4: unexpected character", ZX_ERR_JSON_PARSE,
              "json_parse", 1, 4, "unexpected character");
    CHECK_ROW(ZX_E_RUNTIME, "json_stringify(): cannot convert Action to JSON", ZX_ERR_JSON_VALUE, "json_stringify",
              "Action");
    CHECK_ROW(ZX_E_RUNTIME, "hash(): unsupported algorithm 'MD5' (SHA256, SHA512, SHA3-256, SHA3-512, BLAKE2B, BLAKE2S)",
              ZX_ERR_HASH_ALGO, 3, "MD5");
    CHECK_ROW(ZX_E_RUNTIME, "Requirement failed: too low", ZX_ERR_REQUIRE, "too low");
    CHECK_ROW(ZX_E_RUNTIME, "'P' expects at most 2 argument(s) but got 3", ZX_ERR_CTOR_ARITY, "P", 2, 3);
    CHECK_ROW(ZX_E_RUNTIME, "contract 'C' does not implement 'area' of interface 'Shape'", ZX_ERR_NOT_IMPLEMENTED,
              "contract", "C", "area", "Shape");
    CHECK_ROW(ZX_E_RUNTIME, "type mismatch: contract 'C' implements Integer, which is not an interface",
              ZX_ERR_NOT_INTERFACE, "contract", "C", "Integer");
    CHECK_ROW(ZX_E_RUNTIME, "type mismatch: interface 'Shape' cannot be instantiated", ZX_ERR_CLASS_CALL, "Shape");
    CHECK_ROW(ZX_E_RUNTIME, "match: no pattern matched [1, 2,...", ZX_ERR_NO_MATCH, 6, "[1, 2, 3]", "...");

    /* every row is checked above */
    for (int id = ZX_ERR_NONE + 1; id < ZX_ERR_COUNT; id++) {
        CHECK(zx_err_format((zx_err)id) != NULL);
        if (!seen[id]) fprintf(stderr, "row %d (%s) is not checked\n", id, zx_err_format((zx_err)id));
        CHECK(seen[id]);
    }
    CHECK(zx_err_format(ZX_ERR_NONE) == NULL && zx_err_format(ZX_ERR_COUNT) == NULL);

    /* a long variable part is cut to the message's size, never overflows it */
    char name[400];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    zx_error e;
    zx_error_set(&e, ZX_ERR_UNDEFINED, name);
    CHECK(strlen(e.msg) == sizeof e.msg - 1);
    return CHECK_DONE();
}
