/* builtins.h — the builtin functions and methods of Zexus (one table each). */
#ifndef ZX_BUILTINS_H
#define ZX_BUILTINS_H

#include "errors.h"
#include "value.h"

/* BUILTIN(name, id, min args, max args)  — `print` and `parallel_map` compile to opcodes but
 * are listed so that they can be used as values; `args` is the program's argument list. */
#define ZX_BUILTINS(BUILTIN) \
    BUILTIN(len,          0, 1, 1) \
    BUILTIN(string,       1, 1, 1) \
    BUILTIN(int,          2, 1, 1) \
    BUILTIN(float,        3, 1, 1) \
    BUILTIN(type,         4, 1, 1) \
    BUILTIN(range,        5, 1, 3) \
    BUILTIN(print,        6, 0, 255) \
    BUILTIN(parallel_map, 7, 2, 2) \
    BUILTIN(args,         8, 0, 0)

typedef enum zx_builtin_id {
#define ZX_BI_ENUM(name, id, lo, hi) ZX_BI_##name = id,
    ZX_BUILTINS(ZX_BI_ENUM)
#undef ZX_BI_ENUM
    ZX_BI_COUNT
} zx_builtin_id;

/* METHOD(name, id, receiver, nargs) */
#define ZX_METHODS(METHOD) \
    METHOD(push,     0, ZX_O_LIST, 1) \
    METHOD(pop,      1, ZX_O_LIST, 0) \
    METHOD(is_empty, 2, ZX_O_LIST, 0) \
    METHOD(has,      3, ZX_O_MAP,  1) \
    METHOD(keys,     4, ZX_O_MAP,  0) \
    METHOD(values,   5, ZX_O_MAP,  0)

typedef enum zx_method_id {
#define ZX_M_ENUM(name, id, recv, n) ZX_M_##name = id,
    ZX_METHODS(ZX_M_ENUM)
#undef ZX_M_ENUM
    ZX_M_COUNT
} zx_method_id;

const char *zx_builtin_name(int id);          /* NULL if not a builtin id */
int zx_builtin_lookup(const char *name);       /* -1 if not a builtin */
void zx_builtin_arity(int id, int *min, int *max);
int zx_method_lookup(const char *name);        /* -1 if no such method */
const char *zx_method_name(int id);
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
