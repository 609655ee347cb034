/* errors.h — every runtime error the engine raises: one row each (id, status, message format). */
#ifndef ZX_ERRORS_H
#define ZX_ERRORS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* ERR(id, status, format): `status` names the public zx_status ZX_E_<status> the error stops a
 * run with (runtime/ includes nothing above it, so src/exec maps the name: zx_err_status);
 * `format` is the message, printf-style where it has a variable part.  The messages are the
 * stable ones of LANGUAGE-FACTS.md: tests compare them byte for byte. */
#define ZX_ERRORS(ERR) \
    /* limits and stops */ \
    ERR(MEMORY,          MEMORY,      "memory limit exceeded") \
    ERR(CALL_DEPTH,      RUNTIME,     "call depth limit exceeded") \
    ERR(INTERRUPTED,     INTERRUPTED, "interrupted") \
    /* variables and assertions */ \
    ERR(UNDEFINED,       RUNTIME,     "undefined variable '%s'") \
    ERR(ASSERT,          RUNTIME,     "assertion failed") \
    ERR(ASSERT_MSG,      RUNTIME,     "assertion failed: %s")                /* the formatted message value */ \
    /* arithmetic (runtime/arith.c, and the JIT's inline fast paths) */ \
    ERR(INT_OVERFLOW,    RUNTIME,     "integer overflow") \
    ERR(DIV_ZERO,        RUNTIME,     "division by zero") \
    ERR(MOD_ZERO,        RUNTIME,     "modulo by zero") \
    ERR(INVALID_POWER,   RUNTIME,     "invalid power") \
    ERR(BINOP_TYPE,      RUNTIME,     "type mismatch: %s %s %s")             /* type, operator, type */ \
    ERR(COMPARE_TYPE,    RUNTIME,     "type mismatch: cannot compare %s and %s") \
    ERR(NEGATE_TYPE,     RUNTIME,     "type mismatch: cannot negate %s") \
    ERR(BAD_OPERATOR,    RUNTIME,     "unknown binary operator %d")          /* not reachable from verified code */ \
    /* indexing, iteration, maps */ \
    ERR(INDEX_TYPE,      RUNTIME,     "type mismatch: cannot index %s with %s") \
    ERR(INDEX_RANGE,     RUNTIME,     "index out of range") \
    ERR(STORE_TYPE,      RUNTIME,     "type mismatch: cannot assign to an element of %s with %s index") \
    ERR(ITER_TYPE,       RUNTIME,     "type mismatch: cannot iterate over %s") \
    ERR(MAP_KEY_TYPE,    RUNTIME,     "type mismatch: %s cannot be a map key") \
    /* calls */ \
    ERR(NOT_CALLABLE,    RUNTIME,     "type mismatch: %s is not callable") \
    ERR(ARITY,           RUNTIME,     "expected %d arguments, got %d") \
    ERR(ARITY_RANGE,     RUNTIME,     "expected %d to %d arguments, got %d") \
    ERR(NO_METHOD,       RUNTIME,     "type mismatch: %s has no method '%s'") \
    ERR(PMAP_TYPE,       RUNTIME,     "type mismatch: parallel_map expects a List, got %s") \
    /* builtins and methods (runtime/builtins.c) */ \
    ERR(BUILTIN_TYPE,    RUNTIME,     "type mismatch: %s() of %s")           /* builtin, type */ \
    ERR(INVALID_STRING,  RUNTIME,     "invalid value for %s(): \"%.*s\"%s")  /* builtin, quoted text, "..." if cut */ \
    ERR(INVALID_NUMBER,  RUNTIME,     "invalid value for %s(): %s")          /* builtin, the number */ \
    ERR(RANGE_STEP,      RUNTIME,     "range step must not be zero") \
    ERR(POP_EMPTY,       RUNTIME,     "pop from empty list") \
    ERR(UNKNOWN_BUILTIN, RUNTIME,     "unknown builtin %d")                  /* not reachable from verified code */ \
    ERR(UNKNOWN_METHOD,  RUNTIME,     "unknown method %d")                   /* not reachable from verified code */ \
    ERR(BUILTIN_IN_LOOP, RUNTIME,     "internal error: builtin %s is run by the interpreter") \
    /* host functions (src/exec/host.c) */ \
    ERR(HOST_UNKNOWN,    RUNTIME,     "unknown host function") \
    ERR(HOST_FOREIGN,    RUNTIME,     "host function '%s' returned a value of another VM") \
    ERR(HOST_FAILED,     RUNTIME,     "host function '%s' failed: %s")       /* name, zx_status_str */ \
    /* the standard library (runtime/builtins.c, src/exec/stdlib.c) */ \
    ERR(ARG_TYPE,        RUNTIME,     "type mismatch: %s() expects %s as argument %d, got %s") /* builtin, what, position, type */ \
    ERR(EMPTY_LIST,      RUNTIME,     "%s() of an empty list") \
    ERR(SORT_RESULT,     RUNTIME,     "type mismatch: sort() comparator returned %s") \
    /* files, JSON, hashes (runtime/stdlib_sys.c) */ \
    ERR(FILE_IO,         RUNTIME,     "%s(): cannot %s '%.*s'%s: %s")        /* builtin, verb, path, "..." if cut, strerror */ \
    ERR(FILE_UTF8,       RUNTIME,     "%s(): '%.*s'%s is not UTF-8 text")    /* builtin, path, "..." if cut */ \
    ERR(JSON_PARSE,      RUNTIME,     "%s(): invalid JSON at line %d, column %d: %s") /* builtin, where, json-c's reason */ \
    ERR(JSON_VALUE,      RUNTIME,     "%s(): cannot convert %s to JSON")     /* builtin, what */ \
    ERR(HASH_ALGO,       RUNTIME,     "hash(): unsupported algorithm '%.*s' (SHA256, SHA512, SHA3-256, SHA3-512, BLAKE2B, BLAKE2S)") \
    /* entities, data, contracts, interfaces (src/exec/object_ops.c) */ \
    ERR(REQUIRE,         RUNTIME,     "Requirement failed: %s")              /* the formatted message value */ \
    ERR(CTOR_ARITY,      RUNTIME,     "'%s' expects at most %d argument(s) but got %d") \
    ERR(NOT_IMPLEMENTED, RUNTIME,     "%s '%s' does not implement '%s' of interface '%s'") \
    ERR(NOT_INTERFACE,   RUNTIME,     "type mismatch: %s '%s' implements %s, which is not an interface") \
    ERR(CLASS_CALL,      RUNTIME,     "type mismatch: interface '%s' cannot be instantiated") \
    /* match (src/front/compiler.c compiles it; runtime/builtins.c raises it) */ \
    ERR(NO_MATCH,        RUNTIME,     "match: no pattern matched %.*s%s")    /* the value as print shows it, "..." if cut */

typedef enum zx_err {
    ZX_ERR_NONE = 0,
#define ZX_ERR_ENUM(id, status, fmt) ZX_ERR_##id,
    ZX_ERRORS(ZX_ERR_ENUM)
#undef ZX_ERR_ENUM
    ZX_ERR_COUNT
} zx_err;

/* An error as a helper reports it: its row, and the row's message with the variable parts
 * filled in (cut to fit, as the messages always were). */
typedef struct zx_error {
    zx_err id;
    char msg[200];
} zx_error;

/* The row's message format; NULL for ZX_ERR_NONE or an id outside the table. */
const char *zx_err_format(zx_err id);
/* Format row `id`'s message into buf[0..n) like snprintf (the return value is snprintf's). */
int zx_err_printf(char *buf, size_t n, zx_err id, ...);
/* Fill *e with row `id` and its message formatted from the arguments the row's format takes.
 * Returns false, so that a helper can `return zx_error_set(...)` on its failure path. */
bool zx_error_set(zx_error *e, zx_err id, ...);
bool zx_error_vset(zx_error *e, zx_err id, va_list ap);

#endif
