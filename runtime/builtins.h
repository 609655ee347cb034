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
    /* the builtins with effects outside the heap (runtime/stdlib_sys.c) */ \
    BUILTIN(time,            9, 0, 0, ZX_FX_CLOCK,                                 ZX_RES_INT) \
    BUILTIN(timestamp,      10, 0, 0, ZX_FX_CLOCK,                                 ZX_RES_INT) \
    BUILTIN(sleep,          11, 1, 1, ZX_FX_SLEEPS,                                ZX_RES_NULL) \
    BUILTIN(random,         12, 0, 1, ZX_FX_RANDOM,                                ZX_RES_INT | ZX_RES_FLOAT) \
    BUILTIN(random_seed,    13, 1, 1, ZX_FX_RANDOM,                                ZX_RES_NULL) \
    BUILTIN(json_parse,     14, 1, 1, ZX_FX_READS_HEAP,                            ZX_RES_ANY) \
    BUILTIN(json_stringify, 15, 1, 2, ZX_FX_READS_HEAP,                            ZX_RES_OBJ) \
    BUILTIN(file_read_text, 16, 1, 1, ZX_FX_READS_HEAP | ZX_FX_READS_FILES,        ZX_RES_OBJ) \
    BUILTIN(read_file,      17, 1, 1, ZX_FX_READS_HEAP | ZX_FX_READS_FILES,        ZX_RES_OBJ) \
    BUILTIN(file_write_text, 18, 2, 2, ZX_FX_READS_HEAP | ZX_FX_WRITES_FILES,      ZX_RES_BOOL) \
    BUILTIN(file_append,    19, 2, 2, ZX_FX_READS_HEAP | ZX_FX_WRITES_FILES,       ZX_RES_BOOL) \
    BUILTIN(file_exists,    20, 1, 1, ZX_FX_READS_HEAP | ZX_FX_READS_FILES,        ZX_RES_BOOL) \
    BUILTIN(file_read_json, 21, 1, 1, ZX_FX_READS_HEAP | ZX_FX_READS_FILES,        ZX_RES_ANY) \
    BUILTIN(file_write_json, 22, 2, 2, ZX_FX_READS_HEAP | ZX_FX_WRITES_FILES,      ZX_RES_BOOL) \
    BUILTIN(file_list_dir,  23, 1, 1, ZX_FX_READS_HEAP | ZX_FX_READS_FILES,        ZX_RES_OBJ) \
    BUILTIN(hash,           24, 1, 2, ZX_FX_READS_HEAP,                            ZX_RES_OBJ) \
    BUILTIN(to_hex,         25, 1, 1, ZX_FX_PURE,                                  ZX_RES_OBJ) \
    BUILTIN(from_hex,       26, 1, 1, ZX_FX_READS_HEAP,                            ZX_RES_INT) \
    BUILTIN(is_main,        27, 0, 0, ZX_FX_PURE,                                  ZX_RES_BOOL) \
    BUILTIN(__ARGS__,       28, 0, 0, ZX_FX_PURE,                                  ZX_RES_OBJ) \
    BUILTIN(__MODULE__,     29, 0, 0, ZX_FX_PURE,                                  ZX_RES_OBJ)

/* The effects that have no location of their own (files, clock, random state, sleeping): the
 * analysis orders any two code paths that both have one (deps.c), and names the builtin. */
#define ZX_FX_ORDERED (ZX_FX_READS_FILES | ZX_FX_WRITES_FILES | ZX_FX_CLOCK | ZX_FX_RANDOM | ZX_FX_SLEEPS)

typedef enum zx_builtin_id {
#define ZX_BI_ENUM(name, id, lo, hi, fx, res) ZX_BI_##name = id,
    ZX_BUILTINS(ZX_BI_ENUM)
#undef ZX_BI_ENUM
    ZX_BI_COUNT
} zx_builtin_id;

/* METHOD(name, id, receiver, nargs, effects, result) */
#define ZX_METHODS(METHOD) \
    METHOD(push,     0, ZX_O_LIST, 1, ZX_FX_READS_HEAP | ZX_FX_WRITES_HEAP, ZX_RES_OBJ) \
    METHOD(pop,      1, ZX_O_LIST, 0, ZX_FX_READS_HEAP | ZX_FX_WRITES_HEAP, ZX_RES_ANY) \
    METHOD(is_empty, 2, ZX_O_LIST, 0, ZX_FX_READS_HEAP,                     ZX_RES_BOOL) \
    METHOD(has,      3, ZX_O_MAP,  1, ZX_FX_READS_HEAP,                     ZX_RES_BOOL) \
    METHOD(keys,     4, ZX_O_MAP,  0, ZX_FX_READS_HEAP,                     ZX_RES_OBJ) \
    METHOD(values,   5, ZX_O_MAP,  0, ZX_FX_READS_HEAP,                     ZX_RES_OBJ)

typedef enum zx_method_id {
#define ZX_M_ENUM(name, id, recv, n, fx, res) ZX_M_##name = id,
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
/* The method id of a string constant, cached in the string. -1 if not a method name. */
int zx_string_method_id(zx_string *s);

/* Result of a builtin or a method: ok, or the error (a row of runtime/errors.h and its
 * message, e.g. ZX_ERR_BUILTIN_TYPE "type mismatch: len() of Integer"). */
typedef struct zx_callres {
    bool ok;
    zx_error err;      /* on failure */
} zx_callres;

/* Call builtin `id` (not print, parallel_map, args: the interpreter handles those) with
 * borrowed arguments; on success *out holds a new reference. */
zx_callres zx_builtin_call(zx_heap *h, int id, const zx_value *argv, int argc, zx_value *out);
/* Call method `id` on borrowed receiver and arguments; *out is a new reference. */
zx_callres zx_method_call(zx_heap *h, int id, zx_value recv, const zx_value *argv, int argc,
                          zx_value *out);

#endif
