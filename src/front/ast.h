/* ast.h — the syntax tree the parser builds and the compiler consumes. */
#ifndef ZX_AST_H
#define ZX_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytecode/bytecode.h"   /* zx_pos */

typedef enum zx_node_kind {
    /* expressions */
    N_INT,          /* ival */
    N_FLOAT,        /* fval */
    N_STRING,       /* str, slen (decoded, UTF-8) */
    N_BOOL,         /* ival 0/1 */
    N_NULL,
    N_NAME,         /* name */
    N_LIST,         /* items[n] */
    N_MAP,          /* items[2n]: key, value, key, value ... (a bare identifier key is an N_STRING) */
    N_UNARY,        /* op (OP_NEG or OP_NOT), a */
    N_BINARY,       /* op (OP_ADD ... OP_GTE, OP_EQ, OP_NEQ), a, b */
    N_AND,          /* a && b */
    N_OR,           /* a || b */
    N_TERNARY,      /* a ? b : c */
    N_NULLISH,      /* a ?? b */
    N_CALL,         /* a(items[n]) */
    N_METHOD_CALL,  /* a.name(items[n]) */
    N_INDEX,        /* a[b] */
    N_MEMBER,       /* a.name */
    N_LAMBDA,       /* params[nparams], body (a N_BLOCK whose single statement returns, or the expr in a) */
    N_SLICE,        /* a[b:c]: b, c may be NULL (no bound); compiles to the builtin slice(a, b, c) */
    N_INTERP,       /* "t${e}t...": items[n], n odd: texts (N_STRING) at even, expressions at odd indexes */
    N_NEW_NAMED,    /* Name{field: e, ...}: name, b the N_MAP of fields */
    /* statements */
    N_LET,          /* name = a; flags: is_const, is_shared */
    N_ASSIGN,       /* target a (N_NAME, N_INDEX or N_MEMBER) op= b; op 0 for plain = */
    N_EXPR_STMT,    /* a */
    N_PRINT,        /* items[n] (print e / print(a, b) / print()) */
    N_IF,           /* a cond, b then-block, c else (N_BLOCK or N_IF or NULL) */
    N_WHILE,        /* a cond, b body */
    N_FOR_EACH,     /* name (and name2 for two variables: name = index/key, name2 = value), a iterable, b body */
    N_BREAK,
    N_CONTINUE,
    N_RETURN,       /* a (may be NULL) */
    N_ACTION,       /* name, params[nparams], body b */
    N_ASSERT,       /* a cond, b message (may be NULL) */
    N_BLOCK,        /* items[n] statements */
    N_FORK,         /* items[n]: the blocks (each an N_BLOCK) */
    N_BARRIER,
    N_PROGRAM,      /* items[n] statements */
    /* modules (src/front/modules.c loads the files) */
    N_USE,          /* use "str" [as name] | use { params } from "str" (ival 1) | import name */
    N_EXPORT,       /* export params, ...: names declared elsewhere in the file */
    N_MODULE,       /* module name { b } | package a.b.c { b } (ival 1; name "a.b.c") */
    N_CLASS,        /* entity/data/contract/interface NAME [implements name2] { }: ival the zx_class_kind;
                       items[n]: fields (N_LET: name, str the type as written, a the initialiser or
                       NULL) and methods (N_ACTION whose first parameter is `this`); an interface's
                       fields are the method names it requires */
    /* match and enum (docs/language.md "match", "enum") */
    N_MATCH,        /* match a { items[n]: N_MATCH_ARMs }; ival: a zx_match_form */
    N_MATCH_ARM,    /* ival: a zx_arm_kind; a: the value of ZX_ARM_VALUE; b: the body (an expression
                     * in ZX_MATCH_EXPR, else a statement or N_BLOCK), for ZX_ARM_BIND an N_LAMBDA of
                     * one parameter (the bound name) whose body is the arm's, called with the value */
    N_ENUM,         /* enum name { ... }: a constant; a: the N_MAP of its members and their values */
    /* exceptions (compiler.c, emit_try) */
    N_TRY,          /* a body block; name the catch variable (may be NULL), b the catch block
                       (NULL: none), c the finally block (NULL: none); one of b, c is set */
    N_THROW,        /* a */
    N_DEFER,        /* b block: runs when the enclosing block ends, however it ends */
} zx_node_kind;

typedef enum zx_match_form {
    ZX_MATCH_EXPR,      /* a value; no arm matching is an error */
    ZX_MATCH_STMT,      /* `match` starting a statement: arms may be statements; no arm matching is an error */
    ZX_MATCH_PATTERN,   /* the `pattern` statement: nothing happens when no arm matches */
} zx_match_form;

typedef enum zx_arm_kind { ZX_ARM_ANY, ZX_ARM_VALUE, ZX_ARM_BIND } zx_arm_kind;

typedef struct zx_node {
    zx_node_kind kind;
    zx_pos pos;               /* the token that starts it (for binary ops: the operator) */
    int op;                   /* opcode number for N_UNARY / N_BINARY / compound N_ASSIGN */
    bool is_const, is_shared;
    bool is_export;           /* a declaration after `export` */
    int64_t ival;
    double fval;
    char *str;                /* N_STRING data (NUL-terminated) */
    size_t slen;
    char *name, *name2;
    struct zx_node *a, *b, *c;
    struct zx_node **items;
    size_t n;
    char **params;
    size_t nparams;
} zx_node;

/* Parse UTF-8 source.  On success returns an N_PROGRAM tree (free with zx_ast_free).  On the
 * first error returns NULL and writes "FILE:LINE:COL: error: MESSAGE" to err. */
zx_node *zx_parse(const char *src, size_t len, const char *file, char *err, size_t errsz);
void zx_ast_free(zx_node *n);

/* Compile a parsed program (compiler.c).  NULL with "FILE:LINE:COL: error: MESSAGE" in err on a
 * compile-time error (assignment to a const, break outside a loop, ...). */
zx_program *zx_compile(const zx_node *prog, const char *file, zx_heap *heap, char *err, size_t errsz);

/* The host functions (zx_vm_register) as the compiler sees them: a name that no scope
 * declares, that is no builtin, and that has() accepts compiles to LOAD_HOST of the name. */
typedef struct zx_host_names {
    bool (*has)(void *ud, const char *name);
    void *ud;
} zx_host_names;
/* zx_compile with host functions (hosts may be NULL: none).  On failure *oom (when oom is not
 * NULL) says whether the error is a lack of memory ("memory limit exceeded" for the heap's
 * limit or allocator, "out of memory" for malloc) rather than the program's. */
zx_program *zx_compile_hosts(const zx_node *prog, const char *file, zx_heap *heap,
                             const zx_host_names *hosts, char *err, size_t errsz, bool *oom);

/* One input of an interactive session (src/vm/session.c): the globals of `prev` (the
 * session's program so far; NULL for none) are declared first, in the same slots and with
 * the same const and shared flags, so code compiled earlier and the new input agree on every
 * slot; with print_values a top-level expression statement prints its value unless it is
 * null.  Otherwise as zx_compile_hosts. */
typedef struct zx_session_input {
    const zx_program *prev;
    bool print_values;
} zx_session_input;
zx_program *zx_compile_session(const zx_node *prog, const char *file, zx_heap *heap,
                               const zx_host_names *hosts, const zx_session_input *sess, char *err,
                               size_t errsz, bool *oom);

#endif
