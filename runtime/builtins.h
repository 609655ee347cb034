/* builtins.h — the builtin functions and methods of Zexus (one table each). */
#ifndef ZX_BUILTINS_H
#define ZX_BUILTINS_H

#include "errors.h"
#include "value.h"

/* What a builtin or method may do besides computing its result (the effect columns); the
 * analysis reads them (deps.c), and an id not in the table may do anything
 * (zx_builtin_effects, zx_method_effects).  Only some are used today. */
enum zx_effect {
    ZX_FX_PURE        = 0,
    ZX_FX_READS_HEAP  = 1 << 0,   /* reads lists, maps, strings it is given */
    ZX_FX_WRITES_HEAP = 1 << 1,   /* changes a list or map */
    ZX_FX_PRINTS      = 1 << 2,   /* writes program output */
    ZX_FX_CALLS       = 1 << 3,   /* calls a function it is given */
    ZX_FX_READS_FILES = 1 << 4,
    ZX_FX_WRITES_FILES = 1 << 5,
    ZX_FX_CLOCK       = 1 << 6,   /* reads the clock */
    ZX_FX_RANDOM      = 1 << 7,   /* reads and advances random state */
    ZX_FX_SLEEPS      = 1 << 8,
    ZX_FX_UNKNOWN     = ZX_FX_READS_HEAP | ZX_FX_WRITES_HEAP | ZX_FX_CALLS,
};

/* Result types (the result columns): a mask of value tags (1 << zx_tag). */
#define ZX_RES_NULL  (1u << ZX_T_NULL)
#define ZX_RES_BOOL  (1u << ZX_T_BOOL)
#define ZX_RES_INT   (1u << ZX_T_INT)
#define ZX_RES_FLOAT (1u << ZX_T_FLOAT)
#define ZX_RES_OBJ   (1u << ZX_T_OBJ)
#define ZX_RES_ANY   (ZX_RES_NULL | ZX_RES_BOOL | ZX_RES_INT | ZX_RES_FLOAT | ZX_RES_OBJ)

/* BUILTIN(name, id, min args, max args, effects, result)  — `print` and `parallel_map` compile
 * to opcodes but are listed so that they can be used as values; `args` is the program's
 * argument list, and `__ARGS__` (the same list) and `__MODULE__` are values too
 * (zx_builtin_is_value). */
#define ZX_BUILTINS(BUILTIN) \
    BUILTIN(len,          0, 1, 1,   ZX_FX_READS_HEAP,                ZX_RES_INT) \
    BUILTIN(string,       1, 1, 1,   ZX_FX_READS_HEAP,                ZX_RES_OBJ) \
    BUILTIN(int,          2, 1, 1,   ZX_FX_READS_HEAP,                ZX_RES_INT) \
    BUILTIN(float,        3, 1, 1,   ZX_FX_READS_HEAP,                ZX_RES_FLOAT) \
    BUILTIN(type,         4, 1, 1,   ZX_FX_READS_HEAP,                ZX_RES_OBJ) \
    BUILTIN(range,        5, 1, 3,   ZX_FX_READS_HEAP,                ZX_RES_OBJ) \
    BUILTIN(print,        6, 0, 255, ZX_FX_PRINTS | ZX_FX_READS_HEAP, ZX_RES_NULL) \
    BUILTIN(parallel_map, 7, 2, 2,   ZX_FX_CALLS | ZX_FX_READS_HEAP,  ZX_RES_OBJ) \
    BUILTIN(args,         8, 0, 0,   ZX_FX_PURE,                      ZX_RES_OBJ) \
    /* the standard library: strings (docs/language.md, "Builtins and methods") */ \
    BUILTIN(str,          9, 1, 1,   ZX_FX_READS_HEAP,                ZX_RES_OBJ)      /* = string */ \
    BUILTIN(length,      10, 1, 1,   ZX_FX_READS_HEAP,                ZX_RES_INT)      /* = len */ \
    BUILTIN(typeof,      11, 1, 1,   ZX_FX_PURE,                      ZX_RES_OBJ) \
    BUILTIN(uppercase,   12, 1, 1,   ZX_FX_READS_HEAP,                ZX_RES_OBJ) \
    BUILTIN(lowercase,   13, 1, 1,   ZX_FX_READS_HEAP,                ZX_RES_OBJ) \
    BUILTIN(split,       14, 1, 2,   ZX_FX_READS_HEAP,                ZX_RES_OBJ) \
    BUILTIN(join,        15, 1, 2,   ZX_FX_READS_HEAP,                ZX_RES_OBJ) \
    BUILTIN(contains,    16, 2, 2,   ZX_FX_READS_HEAP,                ZX_RES_BOOL) \
    BUILTIN(replace,     17, 3, 3,   ZX_FX_READS_HEAP,                ZX_RES_OBJ) \
    BUILTIN(trim,        18, 1, 1,   ZX_FX_READS_HEAP,                ZX_RES_OBJ) \
    BUILTIN(starts_with, 19, 2, 2,   ZX_FX_READS_HEAP,                ZX_RES_BOOL) \
    BUILTIN(ends_with,   20, 2, 2,   ZX_FX_READS_HEAP,                ZX_RES_BOOL) \
    BUILTIN(index_of,    21, 2, 2,   ZX_FX_READS_HEAP,                ZX_RES_INT) \
    BUILTIN(substring,   22, 2, 3,   ZX_FX_READS_HEAP,                ZX_RES_OBJ) \
    /* lists; map, filter, reduce and sort call functions (src/exec/stdlib.c) */ \
    BUILTIN(append,      23, 2, 2,   ZX_FX_READS_HEAP | ZX_FX_WRITES_HEAP, ZX_RES_OBJ) \
    BUILTIN(push,        24, 2, 2,   ZX_FX_READS_HEAP,                ZX_RES_OBJ)      /* a new list */ \
    BUILTIN(map,         25, 2, 2,   ZX_FX_CALLS | ZX_FX_READS_HEAP,  ZX_RES_OBJ) \
    BUILTIN(filter,      26, 2, 2,   ZX_FX_CALLS | ZX_FX_READS_HEAP,  ZX_RES_OBJ) \
    BUILTIN(reduce,      27, 2, 3,   ZX_FX_CALLS | ZX_FX_READS_HEAP,  ZX_RES_ANY) \
    BUILTIN(count,       28, 1, 2,   ZX_FX_READS_HEAP,                ZX_RES_INT) \
    BUILTIN(sort,        29, 1, 3,   ZX_FX_CALLS | ZX_FX_READS_HEAP,  ZX_RES_OBJ)      /* a new list */ \
    BUILTIN(reverse,     30, 1, 1,   ZX_FX_READS_HEAP,                ZX_RES_OBJ)      /* a new list */ \
    BUILTIN(insert,      31, 3, 3,   ZX_FX_READS_HEAP | ZX_FX_WRITES_HEAP, ZX_RES_OBJ) \
    BUILTIN(remove,      32, 2, 2,   ZX_FX_READS_HEAP | ZX_FX_WRITES_HEAP, ZX_RES_BOOL) \
    BUILTIN(first,       33, 1, 1,   ZX_FX_READS_HEAP,                ZX_RES_ANY) \
    BUILTIN(last,        34, 1, 1,   ZX_FX_READS_HEAP,                ZX_RES_ANY) \
    BUILTIN(rest,        35, 1, 1,   ZX_FX_READS_HEAP,                ZX_RES_OBJ) \
    BUILTIN(sum,         36, 1, 1,   ZX_FX_READS_HEAP,                ZX_RES_INT | ZX_RES_FLOAT) \
    BUILTIN(min,         37, 1, 2,   ZX_FX_READS_HEAP,                ZX_RES_ANY) \
    BUILTIN(max,         38, 1, 2,   ZX_FX_READS_HEAP,                ZX_RES_ANY) \
    BUILTIN(is_empty,    39, 1, 1,   ZX_FX_READS_HEAP,                ZX_RES_BOOL) \
    BUILTIN(pop,         40, 1, 1,   ZX_FX_READS_HEAP | ZX_FX_WRITES_HEAP, ZX_RES_ANY) \
    /* maps */ \
    BUILTIN(get,         41, 2, 3,   ZX_FX_READS_HEAP,                ZX_RES_ANY) \
    BUILTIN(set,         42, 3, 3,   ZX_FX_READS_HEAP | ZX_FX_WRITES_HEAP, ZX_RES_ANY) \
    BUILTIN(delete,      43, 2, 2,   ZX_FX_READS_HEAP | ZX_FX_WRITES_HEAP, ZX_RES_BOOL) \
    BUILTIN(has,         44, 2, 2,   ZX_FX_READS_HEAP,                ZX_RES_BOOL) \
    BUILTIN(keys,        45, 1, 1,   ZX_FX_READS_HEAP,                ZX_RES_OBJ) \
    BUILTIN(values,      46, 1, 1,   ZX_FX_READS_HEAP,                ZX_RES_OBJ) \
    BUILTIN(entries,     47, 1, 1,   ZX_FX_READS_HEAP,                ZX_RES_OBJ) \
    BUILTIN(size,        48, 1, 1,   ZX_FX_READS_HEAP,                ZX_RES_INT) \
    /* math */ \
    BUILTIN(abs,         49, 1, 1,   ZX_FX_PURE,                      ZX_RES_INT | ZX_RES_FLOAT) \
    BUILTIN(sqrt,        50, 1, 1,   ZX_FX_PURE,                      ZX_RES_FLOAT) \
    BUILTIN(pow,         51, 2, 2,   ZX_FX_PURE,                      ZX_RES_INT | ZX_RES_FLOAT) \
    BUILTIN(floor,       52, 1, 1,   ZX_FX_PURE,                      ZX_RES_INT) \
    BUILTIN(ceil,        53, 1, 1,   ZX_FX_PURE,                      ZX_RES_INT) \
    BUILTIN(round,       54, 1, 2,   ZX_FX_PURE,                      ZX_RES_INT | ZX_RES_FLOAT) \
    /* the builtins with effects outside the heap (runtime/stdlib_sys.c) */ \
    BUILTIN(time,           55, 0, 0, ZX_FX_CLOCK,                                 ZX_RES_INT) \
    BUILTIN(timestamp,      56, 0, 0, ZX_FX_CLOCK,                                 ZX_RES_INT) \
    BUILTIN(sleep,          57, 1, 1, ZX_FX_SLEEPS,                                ZX_RES_NULL) \
    BUILTIN(random,         58, 0, 1, ZX_FX_RANDOM,                                ZX_RES_INT | ZX_RES_FLOAT) \
    BUILTIN(random_seed,    59, 1, 1, ZX_FX_RANDOM,                                ZX_RES_NULL) \
    BUILTIN(json_parse,     60, 1, 1, ZX_FX_READS_HEAP,                            ZX_RES_ANY) \
    BUILTIN(json_stringify, 61, 1, 2, ZX_FX_READS_HEAP,                            ZX_RES_OBJ) \
    BUILTIN(file_read_text, 62, 1, 1, ZX_FX_READS_HEAP | ZX_FX_READS_FILES,        ZX_RES_OBJ) \
    BUILTIN(read_file,      63, 1, 1, ZX_FX_READS_HEAP | ZX_FX_READS_FILES,        ZX_RES_OBJ) \
    BUILTIN(file_write_text, 64, 2, 2, ZX_FX_READS_HEAP | ZX_FX_WRITES_FILES,      ZX_RES_BOOL) \
    BUILTIN(file_append,    65, 2, 2, ZX_FX_READS_HEAP | ZX_FX_WRITES_FILES,       ZX_RES_BOOL) \
    BUILTIN(file_exists,    66, 1, 1, ZX_FX_READS_HEAP | ZX_FX_READS_FILES,        ZX_RES_BOOL) \
    BUILTIN(file_read_json, 67, 1, 1, ZX_FX_READS_HEAP | ZX_FX_READS_FILES,        ZX_RES_ANY) \
    BUILTIN(file_write_json, 68, 2, 2, ZX_FX_READS_HEAP | ZX_FX_WRITES_FILES,      ZX_RES_BOOL) \
    BUILTIN(file_list_dir,  69, 1, 1, ZX_FX_READS_HEAP | ZX_FX_READS_FILES,        ZX_RES_OBJ) \
    BUILTIN(hash,           70, 1, 2, ZX_FX_READS_HEAP,                            ZX_RES_OBJ) \
    BUILTIN(to_hex,         71, 1, 1, ZX_FX_PURE,                                  ZX_RES_OBJ) \
    BUILTIN(from_hex,       72, 1, 1, ZX_FX_READS_HEAP,                            ZX_RES_INT) \
    BUILTIN(is_main,        73, 0, 0, ZX_FX_PURE,                                  ZX_RES_BOOL) \
    BUILTIN(__ARGS__,       74, 0, 0, ZX_FX_PURE,                                  ZX_RES_OBJ) \
    BUILTIN(__MODULE__,     75, 0, 0, ZX_FX_PURE,                                  ZX_RES_OBJ) \
    /* slices: xs[a:b] and s[a:b] compile to it (issue 13) */ \
    BUILTIN(slice,          76, 2, 3, ZX_FX_READS_HEAP,                            ZX_RES_OBJ) \
    /* match (compiler.c): a pattern's test (same type and ==), and the error when no arm matched */ \
    BUILTIN(__match_eq,     77, 2, 2, ZX_FX_READS_HEAP,                            ZX_RES_BOOL) \
    BUILTIN(__match_fail,   78, 1, 1, ZX_FX_READS_HEAP,                            ZX_RES_NULL)

/* The effects that have no location of their own (files, clock, random state, sleeping): the
 * analysis orders any two code paths that both have one (deps.c), and names the builtin. */
#define ZX_FX_ORDERED (ZX_FX_READS_FILES | ZX_FX_WRITES_FILES | ZX_FX_CLOCK | ZX_FX_RANDOM | ZX_FX_SLEEPS)

typedef enum zx_builtin_id {
#define ZX_BI_ENUM(name, id, lo, hi, fx, res) ZX_BI_##name = id,
    ZX_BUILTINS(ZX_BI_ENUM)
#undef ZX_BI_ENUM
    ZX_BI_COUNT
} zx_builtin_id;

/* Receivers of a method: a mask of object types. */
#define ZX_RECV_STR  (1u << ZX_O_STRING)
#define ZX_RECV_LIST (1u << ZX_O_LIST)
#define ZX_RECV_MAP  (1u << ZX_O_MAP)
#define ZX_RECV_COLL (ZX_RECV_STR | ZX_RECV_LIST | ZX_RECV_MAP)

/* METHOD(name, id, receivers, builtin): `recv.name(a…)` on a receiver in the mask is the
 * builtin `builtin(recv, a…)`, one implementation for both; its arity is the builtin's less
 * one, its effect and result columns are the builtin's.  A name has one row. */
#define ZX_METHODS(METHOD) \
    METHOD(push,        0, ZX_RECV_LIST, append) \
    METHOD(pop,         1, ZX_RECV_LIST, pop) \
    METHOD(is_empty,    2, ZX_RECV_COLL, is_empty) \
    METHOD(has,         3, ZX_RECV_MAP,  has) \
    METHOD(keys,        4, ZX_RECV_MAP,  keys) \
    METHOD(values,      5, ZX_RECV_MAP,  values) \
    METHOD(append,      6, ZX_RECV_LIST, append) \
    METHOD(map,         7, ZX_RECV_LIST, map) \
    METHOD(filter,      8, ZX_RECV_LIST, filter) \
    METHOD(reduce,      9, ZX_RECV_LIST, reduce) \
    METHOD(contains,   10, ZX_RECV_COLL, contains) \
    METHOD(includes,   11, ZX_RECV_COLL, contains) \
    METHOD(count,      12, ZX_RECV_COLL, count) \
    METHOD(sort,       13, ZX_RECV_LIST, sort) \
    METHOD(reverse,    14, ZX_RECV_LIST, reverse) \
    METHOD(insert,     15, ZX_RECV_LIST, insert) \
    METHOD(remove,     16, ZX_RECV_LIST | ZX_RECV_MAP, remove) \
    METHOD(delete,     17, ZX_RECV_MAP,  delete) \
    METHOD(first,      18, ZX_RECV_LIST, first) \
    METHOD(last,       19, ZX_RECV_LIST, last) \
    METHOD(rest,       20, ZX_RECV_LIST, rest) \
    METHOD(index_of,   21, ZX_RECV_LIST | ZX_RECV_STR, index_of) \
    METHOD(indexOf,    22, ZX_RECV_LIST | ZX_RECV_STR, index_of) \
    METHOD(join,       23, ZX_RECV_LIST, join) \
    METHOD(get,        24, ZX_RECV_MAP,  get) \
    METHOD(set,        25, ZX_RECV_MAP | ZX_RECV_LIST, set) \
    METHOD(entries,    26, ZX_RECV_MAP,  entries) \
    METHOD(size,       27, ZX_RECV_COLL, size) \
    METHOD(length,     28, ZX_RECV_COLL, length) \
    METHOD(isEmpty,    29, ZX_RECV_COLL, is_empty) \
    METHOD(upper,      30, ZX_RECV_STR,  uppercase) \
    METHOD(to_upper,   31, ZX_RECV_STR,  uppercase) \
    METHOD(toUpperCase, 32, ZX_RECV_STR, uppercase) \
    METHOD(uppercase,  33, ZX_RECV_STR,  uppercase) \
    METHOD(lower,      34, ZX_RECV_STR,  lowercase) \
    METHOD(to_lower,   35, ZX_RECV_STR,  lowercase) \
    METHOD(toLowerCase, 36, ZX_RECV_STR, lowercase) \
    METHOD(lowercase,  37, ZX_RECV_STR,  lowercase) \
    METHOD(trim,       38, ZX_RECV_STR,  trim) \
    METHOD(strip,      39, ZX_RECV_STR,  trim) \
    METHOD(split,      40, ZX_RECV_STR,  split) \
    METHOD(replace,    41, ZX_RECV_STR,  replace) \
    METHOD(starts_with, 42, ZX_RECV_STR, starts_with) \
    METHOD(startsWith, 43, ZX_RECV_STR,  starts_with) \
    METHOD(ends_with,  44, ZX_RECV_STR,  ends_with) \
    METHOD(endsWith,   45, ZX_RECV_STR,  ends_with) \
    METHOD(substring,  46, ZX_RECV_STR,  substring)

typedef enum zx_method_id {
#define ZX_M_ENUM(name, id, recv, bi) ZX_M_##name = id,
    ZX_METHODS(ZX_M_ENUM)
#undef ZX_M_ENUM
    ZX_M_COUNT
} zx_method_id;

const char *zx_builtin_name(int id);          /* NULL if not a builtin id */
/* True for the names that are values, not functions: args, __ARGS__, __MODULE__. */
bool zx_builtin_is_value(int id);
int zx_builtin_lookup(const char *name);       /* -1 if not a builtin */
void zx_builtin_arity(int id, int *min, int *max);
int zx_method_lookup(const char *name);        /* -1 if no such method */
const char *zx_method_name(int id);
/* The effect (zx_effect) and result-type (ZX_RES_*) columns, and ZX_RES_ANY for an id that is
 * not in the table.  The effects of an unknown builtin are ZX_FX_UNKNOWN; those of an unknown
 * method ZX_FX_READS_HEAP | ZX_FX_WRITES_HEAP (a method runs no code of the program). */
unsigned zx_builtin_effects(int id);
unsigned zx_builtin_result(int id);
unsigned zx_method_effects(int id);
unsigned zx_method_result(int id);
/* The builtin that method `id` runs (-1 if none) and its receiver mask (ZX_RECV_*). */
int zx_method_builtin(int id);
unsigned zx_method_receivers(int id);
/* The method id of a string constant, cached in the string. -1 if not a method name. */
int zx_string_method_id(zx_string *s);

/* Result of a builtin or a method: ok, or the error (a row of runtime/errors.h and its
 * message, e.g. ZX_ERR_BUILTIN_TYPE "type mismatch: len() of Integer"). */
typedef struct zx_callres {
    bool ok;
    zx_error err;      /* on failure */
} zx_callres;

/* Results for builtin implementations (builtins.c, stdlib_sys.c): success, and a failure as
 * row `id` of runtime/errors.h formatted from the arguments its format takes. */
zx_callres zx_callres_ok(void);
zx_callres zx_callres_err(zx_err id, ...);

/* Call builtin `id` (not print, parallel_map, args, nor those that call functions — map,
 * filter, reduce, sort: the interpreter handles those, src/exec/stdlib.c) with
 * borrowed arguments; on success *out holds a new reference. */
zx_callres zx_builtin_call(zx_heap *h, int id, const zx_value *argv, int argc, zx_value *out);
/* xs[lo:hi] and slice(xs, lo, hi): a new list, or the substring (in code points), of the
 * borrowed list or string v; lo and hi are ints or null (no bound), negative ones count from
 * the end, and out-of-range ones clamp, as in Python. *out is a new reference. */
zx_callres zx_slice(zx_heap *h, zx_value v, zx_value lo, zx_value hi, zx_value *out);
/* Method `id` on borrowed receiver `recv` with argc arguments (not counting the receiver):
 * the builtin id to call with the receiver as its first argument, or -1 with r->err set
 * (`String has no method 'push'`, or the arity error counted without the receiver). */
int zx_method_resolve(int id, zx_value recv, int argc, zx_callres *r);
/* zx_method_resolve without the error: the builtin, or -1 (zx_method_resolve then says why). */
int zx_method_target(int id, zx_value recv, int argc);
/* Call method `id` (one whose builtin calls no function) on borrowed receiver and arguments;
 * *out is a new reference. */
zx_callres zx_method_call(zx_heap *h, int id, zx_value recv, const zx_value *argv, int argc,
                          zx_value *out);

#endif
