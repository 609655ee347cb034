/* compiler.c — AST to bytecode: scope resolution (function scopes, closures by reference) and emission. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/ast.h"
#include "runtime/builtins.h"

/*
 * Three passes over the tree:
 *   1. declare: every function scope (the top level, each action, lambda and fork block)
 *      collects the names it declares — `let`, `const`, `action`, `for each` variables, and
 *      assignments to names that no enclosing scope declares (LANGUAGE-FACTS.md "Scopes").
 *   2. resolve: every name use is bound to its nearest enclosing declaration; a use from an
 *      inner function of a variable of an outer (non top-level) function marks that variable
 *      as captured, so it lives in a cell.  Top-level variables are globals and need no cell.
 *   3. emit: bytecode for each scope, now that every variable's storage class is known.
 */

typedef struct var {
    char *name;
    uint32_t slot;           /* local slot, or global slot in the top-level scope */
    bool is_const;
    bool captured;
} var;

typedef struct scope {
    const zx_node *node;     /* N_PROGRAM, N_ACTION, N_LAMBDA, or an N_BLOCK of a fork */
    struct scope *parent;
    zx_code *code;
    var *vars;
    size_t nvars, capvars;
    zx_index ix;             /* vars by name (a big top level declares thousands) */
    struct scope **kids;     /* nested scopes, in the order emission will meet them */
    size_t nkids, capkids;
    size_t next_kid;         /* emission cursor into kids */
} scope;

typedef struct loopctx {
    uint32_t *breaks;
    size_t nbreaks, capbreaks;
    uint32_t continue_target;
    struct loopctx *outer;
} loopctx;

/* A try statement with a finally block (or a defer) being compiled: every way out of its body
 * or catch block sets $why and jumps to the one copy of the finally block, whose end
 * dispatches on $why (see emit_try). */
typedef struct tryctx {
    uint32_t why, text, exc;     /* hidden locals: the reason, the caught error's text and value */
    uint32_t *jumps;             /* JUMPs to patch to the finally block */
    size_t njumps, capjumps;
    bool returns;                /* some way out is a return */
    struct { bool is_break; loopctx *loop; } *exits;   /* break/continue ways out: why = 3 + i */
    size_t nexits, capexits;
    loopctx *loop;               /* the loop the try statement is in */
    struct tryctx *outer;
} tryctx;

typedef struct compiler {
    const char *file;
    zx_program *prog;
    zx_heap *heap;
    char *err;
    size_t errsz;
    bool failed;
    bool oom;                /* the error is a lack of memory (ZX_E_MEMORY), not the program's */
    scope *top;
    loopctx *loop;
    tryctx *tries;           /* innermost try with a finally block, in the current function */
    uint32_t ret_slot;       /* the current function's $ret local (UINT32_MAX: none yet) */
    const zx_host_names *hosts;   /* NULL: no host functions */
    const zx_session_input *sess;   /* NULL: a whole program (zx_compile_session) */
} compiler;

static void cerror(compiler *C, zx_pos pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cerror(compiler *C, zx_pos pos, const char *fmt, ...)
{
    if (C->failed) return;
    C->failed = true;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(C->err, C->errsz, "%s:%u:%u: error: %s", C->file, pos.line, pos.col, msg);
}

/* Out of memory while compiling is an error like any other (zexus.h: the library never
 * aborts): the heap's limit or allocator failing on a constant is the runtime's "memory limit
 * exceeded", malloc failing on the compiler's own tables is "out of memory". */
static void compile_oom(compiler *C, zx_pos pos, const char *what)
{
    if (C->failed) return;
    cerror(C, pos, "%s", what);
    C->oom = true;
}

/* Grow *arr (of *cap elements of elem bytes) to hold n + 1; false when there is no memory. */
static bool grow(compiler *C, zx_pos pos, void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap) return true;
    size_t ncap = *cap ? *cap * 2 : 4;
    void *q = realloc(*arr, ncap * elem);
    if (!q) {
        compile_oom(C, pos, "out of memory");
        return false;
    }
    *arr = q;
    *cap = ncap;
    return true;
}

/* The most elements one BUILD_LIST of a list literal takes (see N_LIST). */
#define LIST_PIECE 4096

/* ---------- scopes ---------- */

/* NULL (and the error set) when out of memory. */
static scope *scope_new(compiler *C, const zx_node *node, scope *parent, zx_code *code)
{
    scope *s = calloc(1, sizeof *s);
    if (!s || (parent && !grow(C, node->pos, (void **)&parent->kids, &parent->capkids,
                               parent->nkids, sizeof *parent->kids))) {
        free(s);
        compile_oom(C, node->pos, "out of memory");
        return NULL;
    }
    s->node = node;
    s->parent = parent;
    s->code = code;
    if (parent) parent->kids[parent->nkids++] = s;
    return s;
}

static void scope_free(scope *s)
{
    for (size_t i = 0; i < s->nkids; i++) scope_free(s->kids[i]);
    for (size_t i = 0; i < s->nvars; i++) free(s->vars[i].name);
    free(s->vars);
    zx_index_free(&s->ix);
    free(s->kids);
    free(s);
}

static uint64_t var_hash(const void *t, uint32_t i)
{
    const char *name = ((const scope *)t)->vars[i].name;
    return zx_index_hash_bytes(name, strlen(name));
}

static bool var_eq(const void *t, uint32_t i, const void *key) { return strcmp(((const scope *)t)->vars[i].name, key) == 0; }

static const void *var_key(const void *t, uint32_t i) { return ((const scope *)t)->vars[i].name; }

static var *scope_find(scope *s, const char *name)
{
    if (s->nvars < 8 || s->nvars > UINT32_MAX / 4 ||
        !zx_index_cover(&s->ix, s, (uint32_t)s->nvars, var_hash, var_eq, var_key)) {
        for (size_t i = 0; i < s->nvars; i++)
            if (strcmp(s->vars[i].name, name) == 0) return &s->vars[i];
        return NULL;
    }
    uint32_t i = zx_index_find(&s->ix, s, zx_index_hash_bytes(name, strlen(name)), var_eq, name);
    return i == UINT32_MAX ? NULL : &s->vars[i];
}

static bool is_top(const scope *s) { return s->parent == NULL; }

/* NULL (and the error set) when out of memory. */
static var *scope_declare(compiler *C, scope *s, const char *name, bool is_const, zx_pos pos)
{
    var *v = scope_find(s, name);
    if (v) {
        if (is_const) v->is_const = true;
        return v;
    }
    char *copy = strdup(name);
    if (!copy || !grow(C, pos, (void **)&s->vars, &s->capvars, s->nvars, sizeof *s->vars)) {
        free(copy);
        compile_oom(C, pos, "out of memory");
        return NULL;
    }
    v = &s->vars[s->nvars++];
    v->name = copy;
    v->is_const = is_const;
    v->captured = false;
    if (is_top(s)) {
        v->slot = zx_program_add_global(C->prog, name);
        if (C->prog->oom) compile_oom(C, pos, "out of memory");
        else if (is_const) C->prog->globals[v->slot].is_const = 1;
    } else {
        v->slot = zx_code_add_local(s->code, name);
        if (s->code->oom) compile_oom(C, pos, "out of memory");
    }
    return v;
}

/* A name declared by any scope from s outward? */
static var *lookup(scope *s, const char *name, scope **where)
{
    for (; s; s = s->parent) {
        var *v = scope_find(s, name);
        if (v) {
            if (where) *where = s;
            return v;
        }
    }
    return NULL;
}

/* ---------- pass 1: declarations ---------- */

static void declare_fn(compiler *C, scope *s);

static scope *new_fn_scope(compiler *C, const zx_node *fn, scope *parent, zx_code_kind kind,
                           const char *name)
{
    zx_code *code = zx_code_new(kind, name);
    if (!code) {
        compile_oom(C, fn->pos, "out of memory");
        return NULL;
    }
    code->pos = fn->pos;
    zx_code_add_child(parent->code, code);
    if (parent->code->oom) {
        zx_code_free(code);
        compile_oom(C, fn->pos, "out of memory");
        return NULL;
    }
    scope *s = scope_new(C, fn, parent, code);
    if (!s) return NULL;
    if (fn->kind == N_ACTION || fn->kind == N_LAMBDA) {
        for (size_t i = 0; i < fn->nparams; i++) {
            if (scope_find(s, fn->params[i])) {
                cerror(C, fn->pos, "duplicate parameter '%s'", fn->params[i]);
                continue;
            }
            scope_declare(C, s, fn->params[i], false, fn->pos);
        }
        code->nparams = (uint32_t)fn->nparams;
    }
    return s;
}

/* Walk statements of one function body: declare lets/consts/actions/loop variables, and
 * create child scopes (declared in a second step, once this scope's names are complete). */
static void declare_stmts(compiler *C, scope *s, const zx_node *n);

static void declare_expr(compiler *C, scope *s, const zx_node *n)
{
    if (!n) return;
    switch (n->kind) {
    case N_LAMBDA:
        new_fn_scope(C, n, s, ZX_CODE_LAMBDA, "<lambda>");
        return;
    case N_INT: case N_FLOAT: case N_STRING: case N_BOOL: case N_NULL: case N_NAME:
        return;
    case N_LIST: case N_MAP: case N_CALL: case N_METHOD_CALL:
    case N_UNARY: case N_BINARY: case N_AND: case N_OR: case N_TERNARY: case N_NULLISH:
    case N_INDEX: case N_MEMBER: case N_SLICE: case N_INTERP:
        declare_expr(C, s, n->a);
        declare_expr(C, s, n->b);
        declare_expr(C, s, n->c);
        for (size_t i = 0; i < n->n; i++) declare_expr(C, s, n->items[i]);
        return;
    case N_LET: case N_ASSIGN: case N_EXPR_STMT: case N_PRINT: case N_IF: case N_WHILE:
    case N_FOR_EACH: case N_BREAK: case N_CONTINUE: case N_RETURN: case N_ACTION:
    case N_ASSERT: case N_BLOCK: case N_FORK: case N_BARRIER: case N_PROGRAM:
    case N_TRY: case N_THROW: case N_DEFER:
        declare_stmts(C, s, n);
        return;
    }
}

static void declare_stmts(compiler *C, scope *s, const zx_node *n)
{
    if (!n) return;
    switch (n->kind) {
    case N_PROGRAM: case N_BLOCK:
        for (size_t i = 0; i < n->n; i++) declare_stmts(C, s, n->items[i]);
        return;
    case N_LET:
        declare_expr(C, s, n->a);
        if (n->is_shared && !is_top(s)) {
            cerror(C, n->pos, "'shared let' is only allowed at the top level");
            return;
        }
        if (scope_find(s, n->name) && scope_find(s, n->name)->is_const) {
            cerror(C, n->pos, "cannot redeclare constant '%s'", n->name);
            return;
        }
        {
            var *v = scope_declare(C, s, n->name, n->is_const, n->pos);
            if (v && n->is_shared && !C->prog->oom) C->prog->globals[v->slot].is_shared = 1;
        }
        return;
    case N_ACTION:
        scope_declare(C, s, n->name, false, n->pos);
        new_fn_scope(C, n, s, ZX_CODE_ACTION, n->name);
        return;
    case N_FOR_EACH:
        declare_expr(C, s, n->a);
        scope_declare(C, s, n->name, false, n->pos);
        if (n->name2) scope_declare(C, s, n->name2, false, n->pos);
        declare_stmts(C, s, n->b);
        return;
    case N_FORK:
        for (size_t i = 0; i < n->n; i++) new_fn_scope(C, n->items[i], s, ZX_CODE_FORK, "<fork>");
        return;
    case N_ASSIGN: case N_EXPR_STMT: case N_PRINT: case N_RETURN: case N_ASSERT:
        declare_expr(C, s, n->a);
        declare_expr(C, s, n->b);
        for (size_t i = 0; i < n->n; i++) declare_expr(C, s, n->items[i]);
        return;
    case N_IF: case N_WHILE:
        declare_expr(C, s, n->a);
        declare_stmts(C, s, n->b);
        declare_stmts(C, s, n->c);
        return;
    case N_BREAK: case N_CONTINUE: case N_BARRIER:
        return;
    case N_TRY:
        declare_stmts(C, s, n->a);
        if (n->name) scope_declare(C, s, n->name, false, n->pos);
        declare_stmts(C, s, n->b);
        declare_stmts(C, s, n->c);
        return;
    case N_THROW:
        declare_expr(C, s, n->a);
        return;
    case N_DEFER:
        declare_stmts(C, s, n->b);
        return;
    case N_INT: case N_FLOAT: case N_STRING: case N_BOOL: case N_NULL: case N_NAME:
    case N_LIST: case N_MAP: case N_UNARY: case N_BINARY: case N_AND: case N_OR:
    case N_TERNARY: case N_NULLISH: case N_CALL: case N_METHOD_CALL: case N_INDEX:
    case N_MEMBER: case N_LAMBDA: case N_SLICE: case N_INTERP:
        declare_expr(C, s, n);
        return;
    }
}

/* Assignments to names no enclosing scope declares declare them in the assigning scope.
 * Runs after declare_stmts so that `x = 1` before `let x` in an outer scope still finds it. */
static void declare_assigned(compiler *C, scope *s, const zx_node *n)
{
    if (!n) return;
    if (n->kind == N_ACTION || n->kind == N_LAMBDA) return;   /* their own scopes */
    if (n->kind == N_FORK) return;
    if (n->kind == N_ASSIGN && n->a && n->a->kind == N_NAME && !lookup(s, n->a->name, NULL))
        scope_declare(C, s, n->a->name, false, n->a->pos);
    declare_assigned(C, s, n->a);
    declare_assigned(C, s, n->b);
    declare_assigned(C, s, n->c);
    for (size_t i = 0; i < n->n; i++) declare_assigned(C, s, n->items[i]);
}

static const zx_node *fn_body(const zx_node *fn)
{
    if (fn->kind == N_ACTION) return fn->b;
    if (fn->kind == N_LAMBDA) return fn->b ? fn->b : fn->a;
    return fn;        /* N_PROGRAM, or a fork block */
}

static void declare_fn(compiler *C, scope *s)
{
    const zx_node *body = fn_body(s->node);
    if (s->node->kind == N_LAMBDA && !s->node->b) declare_expr(C, s, body);
    else declare_stmts(C, s, body);
    declare_assigned(C, s, body);
    for (size_t i = 0; i < s->nkids; i++) declare_fn(C, s->kids[i]);
}

/* ---------- pass 2: resolution of captures ---------- */

static void resolve_name(compiler *C, scope *s, const char *name)
{
    scope *where = NULL;
    var *v = lookup(s, name, &where);
    if (v && where != s && !is_top(where)) v->captured = true;
}

static void resolve(compiler *C, scope *s, const zx_node *n);

static void resolve_kid(compiler *C, scope *s)
{
    scope *kid = s->kids[s->next_kid++];
    const zx_node *fn = kid->node;
    if (fn->kind == N_LAMBDA && !fn->b) resolve(C, kid, fn->a);
    else resolve(C, kid, fn_body(fn));
}

static void resolve(compiler *C, scope *s, const zx_node *n)
{
    if (!n) return;
    switch ((int)n->kind) {   /* only the nodes that bind names; the rest just recurse */
    case N_NAME:
        resolve_name(C, s, n->name);
        return;
    case N_LAMBDA: case N_ACTION:
        if (n->kind == N_ACTION) resolve_name(C, s, n->name);
        resolve_kid(C, s);
        return;
    case N_FORK:
        for (size_t i = 0; i < n->n; i++) resolve_kid(C, s);
        return;
    case N_LET:
        resolve_name(C, s, n->name);
        break;
    case N_FOR_EACH:
        resolve_name(C, s, n->name);
        if (n->name2) resolve_name(C, s, n->name2);
        break;
    case N_TRY:
        if (n->name) resolve_name(C, s, n->name);
        break;
    default:
        break;
    }
    resolve(C, s, n->a);
    resolve(C, s, n->b);
    resolve(C, s, n->c);
    for (size_t i = 0; i < n->n; i++) resolve(C, s, n->items[i]);
}

static void reset_cursor(scope *s)
{
    s->next_kid = 0;
    for (size_t i = 0; i < s->nkids; i++) reset_cursor(s->kids[i]);
}

/* ---------- pass 3: emission ---------- */

/* A builder that ran out of memory on this code object (here or in an earlier add_const,
 * add_local, add_free) is reported at the first instruction emitted after it. */
static uint32_t emit(compiler *C, scope *s, uint16_t op, uint32_t a, uint16_t b, zx_pos pos)
{
    uint32_t at = zx_code_emit(s->code, op, a, b, pos);
    if (s->code->oom) compile_oom(C, pos, "out of memory");
    return at;
}

static uint32_t here(scope *s) { return s->code->ncode; }
static void patch(scope *s, uint32_t at, uint32_t target)
{
    if (at < s->code->ncode) s->code->code[at].a = target;   /* else emit ran out of memory */
}

static uint32_t const_int(scope *s, int64_t i) { return zx_code_add_const(s->code, zx_int(i)); }

static uint32_t const_str(compiler *C, scope *s, const char *str, size_t len, zx_pos pos)
{
    zx_string *z = zx_string_new(C->heap, str, len);
    if (!z) {
        compile_oom(C, pos, "memory limit exceeded");
        return 0;
    }
    uint32_t k = zx_code_add_const(s->code, zx_objval(z));
    zx_obj_decref(z);
    return k;
}

/* Index of the free variable `name` in scope s, threading it through every function between
 * s and the scope that declares it. */
static uint32_t free_index(compiler *C, scope *s, const char *name)
{
    zx_code *code = s->code;
    for (uint32_t i = 0; i < code->nfree; i++)
        if (strcmp(code->free[i].name, name) == 0) return i;
    scope *p = s->parent;
    var *pv = scope_find(p, name);
    if (pv && !is_top(p)) return zx_code_add_free(code, name, true, pv->slot);
    return zx_code_add_free(code, name, false, free_index(C, p, name));
}

typedef enum { STO_GLOBAL, STO_LOCAL, STO_CELL, STO_FREE, STO_NONE } storage;

static storage storage_of(compiler *C, scope *s, const char *name, uint32_t *slot, var **out)
{
    scope *where = NULL;
    var *v = lookup(s, name, &where);
    if (out) *out = v;
    if (!v) return STO_NONE;
    if (is_top(where)) { *slot = v->slot; return STO_GLOBAL; }
    if (where == s) { *slot = v->slot; return v->captured ? STO_CELL : STO_LOCAL; }
    *slot = free_index(C, s, name);
    return STO_FREE;
}

static void emit_load_name(compiler *C, scope *s, const char *name, zx_pos pos)
{
    uint32_t slot = 0;
    switch (storage_of(C, s, name, &slot, NULL)) {
    case STO_GLOBAL: emit(C, s, OP_LOAD_NAME, slot, 0, pos); return;
    case STO_LOCAL: emit(C, s, OP_LOAD_LOCAL, slot, 0, pos); return;
    case STO_CELL: emit(C, s, OP_LOAD_CELL, slot, 0, pos); return;
    case STO_FREE: emit(C, s, OP_LOAD_FREE, slot, 0, pos); return;
    case STO_NONE: break;
    }
    int bi = zx_builtin_lookup(name);
    if (bi >= 0) {
        emit(C, s, OP_LOAD_BUILTIN, (uint32_t)bi, 0, pos);
        return;
    }
    if (C->hosts && C->hosts->has(C->hosts->ud, name)) {
        emit(C, s, OP_LOAD_HOST, const_str(C, s, name, strlen(name), pos), 0, pos);
        return;
    }
    /* Never declared anywhere: reading it is "undefined variable" at run time. */
    emit(C, s, OP_LOAD_NAME, zx_program_add_global(C->prog, name), 0, pos);
}

static void emit_store_name(compiler *C, scope *s, const char *name, zx_pos pos)
{
    uint32_t slot = 0;
    switch (storage_of(C, s, name, &slot, NULL)) {
    case STO_GLOBAL: emit(C, s, OP_STORE_NAME, slot, 0, pos); return;
    case STO_LOCAL: emit(C, s, OP_STORE_LOCAL, slot, 0, pos); return;
    case STO_CELL: emit(C, s, OP_STORE_CELL, slot, 0, pos); return;
    case STO_FREE: emit(C, s, OP_STORE_FREE, slot, 0, pos); return;
    case STO_NONE: break;
    }
    cerror(C, pos, "internal: undeclared assignment target '%s'", name);
}

static bool is_shared_global(compiler *C, scope *s, const char *name, uint32_t *slot)
{
    scope *where = NULL;
    var *v = lookup(s, name, &where);
    if (!v || !is_top(where)) return false;
    *slot = v->slot;
    return C->prog->globals[v->slot].is_shared;
}

static void emit_expr(compiler *C, scope *s, const zx_node *n);
static void emit_stmt(compiler *C, scope *s, const zx_node *n);
static void emit_expr_stmt_end(compiler *C, scope *s, zx_pos pos);
static void emit_function(compiler *C, scope *s);

static void emit_closure(compiler *C, scope *s, const zx_node *fn)
{
    scope *kid = s->kids[s->next_kid++];
    emit_function(C, kid);
    uint32_t idx = 0;
    while (s->code->children[idx] != kid->code) idx++;
    emit(C, s, OP_MAKE_CLOSURE, idx, 0, fn->pos);
}

static bool builtin_callee(scope *s, const zx_node *callee, int *id)
{
    if (callee->kind != N_NAME || lookup(s, callee->name, NULL)) return false;
    *id = zx_builtin_lookup(callee->name);
    return *id >= 0;
}

static void emit_call(compiler *C, scope *s, const zx_node *n)
{
    int bi;
    if (builtin_callee(s, n->a, &bi)) {
        int lo, hi;
        zx_builtin_arity(bi, &lo, &hi);
        if (bi == ZX_BI_print) {
            for (size_t i = 0; i < n->n; i++) emit_expr(C, s, n->items[i]);
            emit(C, s, OP_PRINT, (uint32_t)n->n, 0, n->pos);
            emit(C, s, OP_LOAD_CONST, zx_code_add_const(s->code, zx_null()), 0, n->pos);
            return;
        }
        if (bi == ZX_BI_parallel_map && n->n == 2) {
            emit_expr(C, s, n->items[0]);
            emit_expr(C, s, n->items[1]);
            emit(C, s, OP_PARALLEL_MAP, 0, 0, n->pos);
            return;
        }
        if (!zx_builtin_is_value(bi) && bi != ZX_BI_parallel_map && (int)n->n >= lo && (int)n->n <= hi) {
            for (size_t i = 0; i < n->n; i++) emit_expr(C, s, n->items[i]);
            emit(C, s, OP_CALL_BUILTIN, (uint32_t)bi, (uint16_t)n->n, n->pos);
            return;
        }
    }
    if (n->n > 255) {
        cerror(C, n->pos, "too many arguments (at most 255)");
        return;
    }
    emit_expr(C, s, n->a);
    for (size_t i = 0; i < n->n; i++) emit_expr(C, s, n->items[i]);
    emit(C, s, OP_CALL_TOP, (uint32_t)n->n, 0, n->pos);
}

static void emit_expr(compiler *C, scope *s, const zx_node *n)
{
    if (C->failed) return;
    zx_code *code = s->code;
    switch (n->kind) {
    case N_INT:
        emit(C, s, OP_LOAD_CONST, const_int(s, n->ival), 0, n->pos);
        return;
    case N_FLOAT:
        emit(C, s, OP_LOAD_CONST, zx_code_add_const(code, zx_float(n->fval)), 0, n->pos);
        return;
    case N_STRING:
        emit(C, s, OP_LOAD_CONST, const_str(C, s, n->str, n->slen, n->pos), 0, n->pos);
        return;
    case N_BOOL:
        emit(C, s, OP_LOAD_CONST, zx_code_add_const(code, zx_bool(n->ival != 0)), 0, n->pos);
        return;
    case N_NULL:
        emit(C, s, OP_LOAD_CONST, zx_code_add_const(code, zx_null()), 0, n->pos);
        return;
    case N_NAME:
        emit_load_name(C, s, n->name, n->pos);
        return;
    case N_LIST:
        /* a long literal is built in pieces joined by list `+`, so that the operand stack (a
         * frame's max_stack) stays small: [e0 .. e99999] needed 100,000 slots at once */
        for (size_t start = 0; start == 0 || start < n->n; start += LIST_PIECE) {
            size_t end = n->n - start > LIST_PIECE ? start + LIST_PIECE : n->n;
            for (size_t i = start; i < end; i++) emit_expr(C, s, n->items[i]);
            emit(C, s, OP_BUILD_LIST, (uint32_t)(end - start), 0, n->pos);
            if (start > 0) emit(C, s, OP_ADD, 0, 0, n->pos);
        }
        return;
    case N_MAP:
        for (size_t i = 0; i < n->n; i++) emit_expr(C, s, n->items[i]);
        emit(C, s, OP_BUILD_MAP, (uint32_t)(n->n / 2), 0, n->pos);
        return;
    case N_UNARY:
        if (n->op == OP_NEG && n->a->kind == N_INT && n->a->ival != INT64_MIN) {
            emit(C, s, OP_LOAD_CONST, const_int(s, -n->a->ival), 0, n->pos);
            return;
        }
        if (n->op == OP_NEG && n->a->kind == N_FLOAT) {
            emit(C, s, OP_LOAD_CONST, zx_code_add_const(code, zx_float(-n->a->fval)), 0, n->pos);
            return;
        }
        emit_expr(C, s, n->a);
        emit(C, s, (uint16_t)n->op, 0, 0, n->pos);
        return;
    case N_BINARY:
        emit_expr(C, s, n->a);
        emit_expr(C, s, n->b);
        emit(C, s, (uint16_t)n->op, 0, 0, n->pos);
        return;
    case N_AND: case N_OR: {
        uint16_t jump = n->kind == N_AND ? OP_JUMP_IF_FALSE : OP_JUMP_IF_TRUE;
        emit_expr(C, s, n->a);
        uint32_t j1 = emit(C, s, jump, 0, 0, n->pos);
        emit_expr(C, s, n->b);
        uint32_t j2 = emit(C, s, jump, 0, 0, n->pos);
        emit(C, s, OP_LOAD_CONST, zx_code_add_const(code, zx_bool(n->kind == N_AND)), 0, n->pos);
        uint32_t jend = emit(C, s, OP_JUMP, 0, 0, n->pos);
        patch(s, j1, here(s));
        patch(s, j2, here(s));
        emit(C, s, OP_LOAD_CONST, zx_code_add_const(code, zx_bool(n->kind != N_AND)), 0, n->pos);
        patch(s, jend, here(s));
        return;
    }
    case N_TERNARY: {
        emit_expr(C, s, n->a);
        uint32_t jelse = emit(C, s, OP_JUMP_IF_FALSE, 0, 0, n->pos);
        emit_expr(C, s, n->b);
        uint32_t jend = emit(C, s, OP_JUMP, 0, 0, n->pos);
        patch(s, jelse, here(s));
        emit_expr(C, s, n->c);
        patch(s, jend, here(s));
        return;
    }
    case N_NULLISH: {
        emit_expr(C, s, n->a);
        emit(C, s, OP_DUP, 0, 0, n->pos);
        emit(C, s, OP_LOAD_CONST, zx_code_add_const(code, zx_null()), 0, n->pos);
        emit(C, s, OP_EQ, 0, 0, n->pos);
        uint32_t jend = emit(C, s, OP_JUMP_IF_FALSE, 0, 0, n->pos);
        emit(C, s, OP_POP, 0, 0, n->pos);
        emit_expr(C, s, n->b);
        patch(s, jend, here(s));
        return;
    }
    case N_CALL:
        emit_call(C, s, n);
        return;
    case N_METHOD_CALL:
        if (n->n > 255) {
            cerror(C, n->pos, "too many arguments (at most 255)");
            return;
        }
        emit_expr(C, s, n->a);
        for (size_t i = 0; i < n->n; i++) emit_expr(C, s, n->items[i]);
        emit(C, s, OP_CALL_METHOD, const_str(C, s, n->name, strlen(n->name), n->pos), (uint16_t)n->n, n->pos);
        return;
    case N_INDEX:
        emit_expr(C, s, n->a);
        emit_expr(C, s, n->b);
        emit(C, s, OP_INDEX, 0, 0, n->pos);
        return;
    case N_MEMBER:
        emit_expr(C, s, n->a);
        emit(C, s, OP_LOAD_CONST, const_str(C, s, n->name, strlen(n->name), n->pos), 0, n->pos);
        emit(C, s, OP_INDEX, 0, 0, n->pos);
        return;
    case N_LAMBDA:
        emit_closure(C, s, n);
        return;
    case N_SLICE:   /* the builtin slice(a, b, c), with null for a missing bound */
        emit_expr(C, s, n->a);
        if (n->b) emit_expr(C, s, n->b);
        else emit(C, s, OP_LOAD_CONST, zx_code_add_const(code, zx_null()), 0, n->pos);
        if (n->c) emit_expr(C, s, n->c);
        else emit(C, s, OP_LOAD_CONST, zx_code_add_const(code, zx_null()), 0, n->pos);
        emit(C, s, OP_CALL_BUILTIN, ZX_BI_slice, 3, n->pos);
        return;
    case N_INTERP:   /* text + string(e) + text ...: each value formatted as print formats it */
        emit(C, s, OP_LOAD_CONST, const_str(C, s, n->items[0]->str, n->items[0]->slen, n->pos), 0, n->pos);
        for (size_t i = 1; i < n->n; i++) {
            const zx_node *part = n->items[i];
            if (i % 2 == 0 && part->slen == 0) continue;
            emit_expr(C, s, part);
            if (i % 2) emit(C, s, OP_CALL_BUILTIN, ZX_BI_string, 1, part->pos);
            emit(C, s, OP_ADD, 0, 0, part->pos);
        }
        return;
    case N_LET: case N_ASSIGN: case N_EXPR_STMT: case N_PRINT: case N_IF: case N_WHILE:
    case N_FOR_EACH: case N_BREAK: case N_CONTINUE: case N_RETURN: case N_ACTION:
    case N_ASSERT: case N_BLOCK: case N_FORK: case N_BARRIER: case N_PROGRAM:
    case N_TRY: case N_THROW: case N_DEFER:
        break;
    }
    cerror(C, n->pos, "internal: statement in expression position");
}

static void emit_assign(compiler *C, scope *s, const zx_node *n)
{
    const zx_node *t = n->a;
    if (t->kind == N_NAME) {
        var *v = NULL;
        uint32_t slot;
        storage st = storage_of(C, s, t->name, &slot, &v);
        if (v && v->is_const) {
            cerror(C, t->pos, "cannot assign to constant '%s'", t->name);
            return;
        }
        if (st == STO_NONE) {
            cerror(C, t->pos, "internal: unresolved '%s'", t->name);
            return;
        }
        uint32_t gslot;
        if (n->op && is_shared_global(C, s, t->name, &gslot) && !is_top(s)) {
            /* `total op= e` on a shared variable inside an action: e first, then one locked update */
            emit_expr(C, s, n->b);
            emit(C, s, OP_SHARED_WRITE, gslot, (uint16_t)n->op, n->pos);
            return;
        }
        if (n->op) {
            emit_load_name(C, s, t->name, t->pos);
            emit_expr(C, s, n->b);
            emit(C, s, (uint16_t)n->op, 0, 0, n->pos);
        } else {
            emit_expr(C, s, n->b);
        }
        emit_store_name(C, s, t->name, t->pos);
        return;
    }
    if (t->kind != N_INDEX && t->kind != N_MEMBER) {
        cerror(C, t->pos, "invalid assignment target");
        return;
    }
    emit_expr(C, s, t->a);
    if (t->kind == N_INDEX) emit_expr(C, s, t->b);
    else emit(C, s, OP_LOAD_CONST, const_str(C, s, t->name, strlen(t->name), t->pos), 0, t->pos);
    if (n->op) {
        emit(C, s, OP_DUP2, 0, 0, n->pos);
        emit(C, s, OP_INDEX, 0, 0, t->pos);
        emit_expr(C, s, n->b);
        emit(C, s, (uint16_t)n->op, 0, 0, n->pos);
    } else {
        emit_expr(C, s, n->b);
    }
    emit(C, s, OP_STORE_INDEX, 0, 0, n->pos);
}

static void loop_add_break(compiler *C, loopctx *l, uint32_t at, zx_pos pos)
{
    if (!grow(C, pos, (void **)&l->breaks, &l->capbreaks, l->nbreaks, sizeof *l->breaks)) return;
    l->breaks[l->nbreaks++] = at;
}

static void loop_end(compiler *C, scope *s, loopctx *l, uint32_t end)
{
    for (size_t i = 0; i < l->nbreaks; i++) patch(s, l->breaks[i], end);
    free(l->breaks);
    C->loop = l->outer;
}

static void emit_try(compiler *C, scope *s, zx_node *const *body, size_t nbody, const zx_node *n,
                     const zx_node *fin, zx_pos pos);

/* Statements in order; a `defer` makes the statements after it a try body whose finally
 * block is the deferred one, so it runs when the block ends, however it ends (LIFO). */
static void emit_stmts(compiler *C, scope *s, zx_node *const *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (items[i]->kind == N_DEFER) {
            emit_try(C, s, items + i + 1, n - i - 1, NULL, items[i]->b, items[i]->pos);
            return;
        }
        emit_stmt(C, s, items[i]);
    }
}

static void emit_block(compiler *C, scope *s, const zx_node *n)
{
    if (!n) return;
    if (n->kind == N_BLOCK || n->kind == N_PROGRAM) {
        emit_stmts(C, s, n->items, n->n);
    } else {
        emit_stmt(C, s, n);
    }
}

/* ---------- exceptions ---------- */

/* A hidden variable for the try machinery: a local in a function; at the top level a global,
 * because the top level runs in chunks that do not share a frame (and a global's reads and
 * writes are what the analysis orders chunks by). */
static uint32_t hidden_var(compiler *C, scope *s, const char *what)
{
    char name[64];
    if (is_top(s)) {
        snprintf(name, sizeof name, "$%s%u", what, C->prog->nglobals);
        return zx_program_add_global(C->prog, name);
    }
    snprintf(name, sizeof name, "$%s%u", what, s->code->nlocals);
    return zx_code_add_local(s->code, name);
}

static void emit_hidden(compiler *C, scope *s, bool store, uint32_t slot, zx_pos pos)
{
    if (is_top(s)) emit(C, s, store ? OP_STORE_NAME : OP_LOAD_NAME, slot, 0, pos);
    else emit(C, s, store ? OP_STORE_LOCAL : OP_LOAD_LOCAL, slot, 0, pos);
}

/* Leave through the innermost finally block: $why = why, jump to it (patched later). */
static void emit_to_finally(compiler *C, scope *s, tryctx *T, uint32_t why, zx_pos pos)
{
    emit(C, s, OP_LOAD_CONST, const_int(s, why), 0, pos);
    emit_hidden(C, s, true, T->why, pos);
    if (!grow(C, pos, (void **)&T->jumps, &T->capjumps, T->njumps, sizeof *T->jumps)) return;
    T->jumps[T->njumps++] = emit(C, s, OP_JUMP, 0, 0, pos);
}

/* `return` with its value in $ret: through every finally block of the function, then RETURN. */
static void emit_return_path(compiler *C, scope *s, zx_pos pos)
{
    if (C->tries) {
        C->tries->returns = true;
        emit_to_finally(C, s, C->tries, 2, pos);
        return;
    }
    emit(C, s, OP_LOAD_LOCAL, C->ret_slot, 0, pos);
    emit(C, s, OP_RETURN, 0, 0, pos);
}

/* break / continue of the innermost loop: through the finally blocks of the tries inside it. */
static void emit_exit_path(compiler *C, scope *s, bool is_break, zx_pos pos)
{
    tryctx *T = C->tries;
    if (T && T->loop == C->loop) {
        size_t i = 0;
        while (i < T->nexits && T->exits[i].is_break != is_break) i++;
        if (i == T->nexits) {
            if (!grow(C, pos, (void **)&T->exits, &T->capexits, T->nexits, sizeof *T->exits)) return;
            T->exits[T->nexits].is_break = is_break;
            T->exits[T->nexits].loop = C->loop;
            T->nexits++;
        }
        emit_to_finally(C, s, T, 3 + (uint32_t)i, pos);
        return;
    }
    if (is_break) loop_add_break(C, C->loop, emit(C, s, OP_JUMP, 0, 0, pos), pos);
    else emit(C, s, OP_JUMP, C->loop->continue_target, 0, pos);
}

/* if ($why == why) { ... }: returns the JUMP_IF_FALSE to patch past the block. */
static uint32_t emit_why_test(compiler *C, scope *s, tryctx *T, uint32_t why, zx_pos pos)
{
    emit_hidden(C, s, false, T->why, pos);
    emit(C, s, OP_LOAD_CONST, const_int(s, why), 0, pos);
    emit(C, s, OP_EQ, 0, 0, pos);
    return emit(C, s, OP_JUMP_IF_FALSE, 0, 0, pos);
}

/*
 * try { body } catch (e) { handler } finally { fin }, and a defer (n NULL: no catch).
 *
 *   start:    body                           row [start, body end) -> H_catch (or H_fin)
 *             $why = 0; JUMP F
 *   H_catch:  STORE e; POP; handler          row [H_catch, its end) -> H_fin (with fin)
 *             $why = 0; JUMP F               (without fin: JUMP after)
 *   H_fin:    STORE $exc; STORE $text; $why = 1
 *   F:        fin
 *             $why == 2: return $ret (through the outer finally blocks)
 *             $why == 3+i: break / continue (likewise)
 *             $why == 1: RERAISE $text $exc
 *   after:
 *
 * The finally block is compiled once; a return, break or continue in the body or handler
 * sets $why and jumps to it.  A handler target starts with [text, value] on the stack.
 */
static void emit_try(compiler *C, scope *s, zx_node *const *body, size_t nbody, const zx_node *n,
                     const zx_node *fin, zx_pos pos)
{
    zx_code *code = s->code;
    const zx_node *handler = n ? n->b : NULL;
    tryctx T = { .loop = C->loop, .outer = C->tries };
    if (fin) {
        T.why = hidden_var(C, s, "why");
        T.text = hidden_var(C, s, "text");
        T.exc = hidden_var(C, s, "exc");
        C->tries = &T;
    }
    uint32_t start = here(s);
    emit_stmts(C, s, body, nbody);
    uint32_t body_end = here(s);
    uint32_t jafter = UINT32_MAX, h_catch = UINT32_MAX, c_start = 0, c_end = 0;
    if (fin) {
        emit(C, s, OP_LOAD_CONST, const_int(s, 0), 0, pos);
        emit_hidden(C, s, true, T.why, pos);
        if (!grow(C, pos, (void **)&T.jumps, &T.capjumps, T.njumps, sizeof *T.jumps)) goto out;
        T.jumps[T.njumps++] = emit(C, s, OP_JUMP, 0, 0, pos);
    } else {
        jafter = emit(C, s, OP_JUMP, 0, 0, pos);
    }
    if (handler && body_end > start) {
        h_catch = c_start = here(s);
        if (n->name) emit_store_name(C, s, n->name, n->pos);
        else emit(C, s, OP_POP, 0, 0, n->pos);
        emit(C, s, OP_POP, 0, 0, n->pos);
        emit_block(C, s, handler);
        c_end = here(s);
        if (fin) {
            emit(C, s, OP_LOAD_CONST, const_int(s, 0), 0, pos);
            emit_hidden(C, s, true, T.why, pos);
            if (!grow(C, pos, (void **)&T.jumps, &T.capjumps, T.njumps, sizeof *T.jumps)) goto out;
            T.jumps[T.njumps++] = emit(C, s, OP_JUMP, 0, 0, pos);
        }
    }
    if (!fin) {
        if (h_catch != UINT32_MAX) zx_code_add_handler(code, start, body_end, h_catch);
        patch(s, jafter, here(s));
        goto out;
    }
    C->tries = T.outer;
    uint32_t h_fin = UINT32_MAX;
    if (body_end > start || c_end > c_start) {
        h_fin = here(s);
        emit_hidden(C, s, true, T.exc, pos);
        emit_hidden(C, s, true, T.text, pos);
        emit(C, s, OP_LOAD_CONST, const_int(s, 1), 0, pos);
        emit_hidden(C, s, true, T.why, pos);
    }
    for (size_t i = 0; i < T.njumps; i++) patch(s, T.jumps[i], here(s));
    emit_block(C, s, fin);
    if (T.returns) {
        uint32_t j = emit_why_test(C, s, &T, 2, pos);
        emit_return_path(C, s, pos);
        patch(s, j, here(s));
    }
    for (size_t i = 0; i < T.nexits; i++) {
        uint32_t j = emit_why_test(C, s, &T, 3 + (uint32_t)i, pos);
        emit_exit_path(C, s, T.exits[i].is_break, pos);
        patch(s, j, here(s));
    }
    if (h_fin != UINT32_MAX) {
        uint32_t j = emit_why_test(C, s, &T, 1, pos);
        emit_hidden(C, s, false, T.text, pos);
        emit_hidden(C, s, false, T.exc, pos);
        emit(C, s, OP_RERAISE, 0, 0, pos);
        patch(s, j, here(s));
        if (body_end > start) zx_code_add_handler(code, start, body_end, h_catch != UINT32_MAX ? h_catch : h_fin);
        if (c_end > c_start) zx_code_add_handler(code, c_start, c_end, h_fin);
    }
out:
    C->tries = T.outer;
    free(T.jumps);
    free(T.exits);
}

static void emit_stmt(compiler *C, scope *s, const zx_node *n)
{
    if (C->failed) return;
    zx_code *code = s->code;
    switch (n->kind) {
    case N_LET:
        emit_expr(C, s, n->a);
        emit_store_name(C, s, n->name, n->pos);
        return;
    case N_ASSIGN:
        emit_assign(C, s, n);
        return;
    case N_EXPR_STMT:
        emit_expr(C, s, n->a);
        emit_expr_stmt_end(C, s, n->pos);
        return;
    case N_PRINT:
        if (n->n > 255) {
            cerror(C, n->pos, "too many values to print (at most 255)");
            return;
        }
        for (size_t i = 0; i < n->n; i++) emit_expr(C, s, n->items[i]);
        emit(C, s, OP_PRINT, (uint32_t)n->n, 0, n->pos);
        return;
    case N_IF: {
        emit_expr(C, s, n->a);
        uint32_t jelse = emit(C, s, OP_JUMP_IF_FALSE, 0, 0, n->pos);
        emit_block(C, s, n->b);
        if (n->c) {
            uint32_t jend = emit(C, s, OP_JUMP, 0, 0, n->pos);
            patch(s, jelse, here(s));
            emit_block(C, s, n->c);
            patch(s, jend, here(s));
        } else {
            patch(s, jelse, here(s));
        }
        return;
    }
    case N_WHILE: {
        loopctx l = { .continue_target = here(s), .outer = C->loop };
        C->loop = &l;
        emit_expr(C, s, n->a);
        uint32_t jexit = emit(C, s, OP_JUMP_IF_FALSE, 0, 0, n->pos);
        emit_block(C, s, n->b);
        emit(C, s, OP_JUMP, l.continue_target, 0, n->pos);
        patch(s, jexit, here(s));
        loop_end(C, s, &l, here(s));
        return;
    }
    case N_FOR_EACH: {
        char hidden[64];
        snprintf(hidden, sizeof hidden, "$iter%u", code->nlocals);
        uint32_t it = zx_code_add_local(code, hidden);
        snprintf(hidden, sizeof hidden, "$index%u", code->nlocals);
        zx_code_add_local(code, hidden);
        emit_expr(C, s, n->a);
        emit(C, s, OP_GET_ITER, it, 0, n->pos);
        loopctx l = { .continue_target = here(s), .outer = C->loop };
        C->loop = &l;
        uint32_t jnext;
        if (n->name2) {
            jnext = emit(C, s, OP_FOR_ITER2, 0, (uint16_t)it, n->pos);
            emit_store_name(C, s, n->name2, n->pos);
            emit_store_name(C, s, n->name, n->pos);
        } else {
            jnext = emit(C, s, OP_FOR_ITER1, 0, (uint16_t)it, n->pos);
            emit_store_name(C, s, n->name, n->pos);
        }
        emit_block(C, s, n->b);
        emit(C, s, OP_JUMP, l.continue_target, 0, n->pos);
        patch(s, jnext, here(s));
        loop_end(C, s, &l, here(s));
        if (it > UINT16_MAX - 2) cerror(C, n->pos, "too many variables in one function");
        return;
    }
    case N_BREAK: case N_CONTINUE:
        if (!C->loop) {
            cerror(C, n->pos, "'%s' outside a loop", n->kind == N_BREAK ? "break" : "continue");
            return;
        }
        emit_exit_path(C, s, n->kind == N_BREAK, n->pos);
        return;
    case N_RETURN:
        if (is_top(s) || code->kind == ZX_CODE_FORK) {
            cerror(C, n->pos, "'return' outside an action");
            return;
        }
        if (n->a) emit_expr(C, s, n->a);
        else emit(C, s, OP_LOAD_CONST, zx_code_add_const(code, zx_null()), 0, n->pos);
        if (C->tries) {     /* through the finally blocks: the value waits in $ret */
            if (C->ret_slot == UINT32_MAX) C->ret_slot = zx_code_add_local(code, "$ret");
            emit(C, s, OP_STORE_LOCAL, C->ret_slot, 0, n->pos);
            emit_return_path(C, s, n->pos);
            return;
        }
        emit(C, s, OP_RETURN, 0, 0, n->pos);
        return;
    case N_ACTION:
        emit_closure(C, s, n);
        emit_store_name(C, s, n->name, n->pos);
        return;
    case N_ASSERT:
        emit_expr(C, s, n->a);
        if (n->b) emit_expr(C, s, n->b);
        emit(C, s, OP_ASSERT, n->b ? 1 : 0, 0, n->pos);
        return;
    case N_BLOCK:
        emit_block(C, s, n);
        return;
    case N_FORK: {
        uint32_t first = 0;
        for (size_t i = 0; i < n->n; i++) {
            scope *kid = s->kids[s->next_kid++];
            emit_function(C, kid);
            uint32_t idx = 0;
            while (code->children[idx] != kid->code) idx++;
            if (i == 0) first = idx;
        }
        emit(C, s, OP_FORK_EXECUTION, first, (uint16_t)n->n, n->pos);
        emit(C, s, OP_JOIN_WORKERS, 0, 0, n->pos);
        return;
    }
    case N_BARRIER:
        emit(C, s, OP_BARRIER_SYNC, 0, 0, n->pos);
        return;
    case N_PROGRAM:
        emit_block(C, s, n);
        return;
    case N_TRY:
        emit_try(C, s, n->a->items, n->a->n, n, n->c, n->pos);
        return;
    case N_DEFER:   /* a defer that is the last statement of its block: it runs at once */
        emit_try(C, s, NULL, 0, NULL, n->b, n->pos);
        return;
    case N_THROW:
        emit_expr(C, s, n->a);
        emit(C, s, OP_THROW, 0, 0, n->pos);
        return;
    case N_INT: case N_FLOAT: case N_STRING: case N_BOOL: case N_NULL: case N_NAME:
    case N_LIST: case N_MAP: case N_UNARY: case N_BINARY: case N_AND: case N_OR:
    case N_TERNARY: case N_NULLISH: case N_CALL: case N_METHOD_CALL: case N_INDEX:
    case N_MEMBER: case N_LAMBDA: case N_SLICE: case N_INTERP:
        emit_expr(C, s, n);
        emit_expr_stmt_end(C, s, n->pos);
        return;
    }
}

static void emit_function(compiler *C, scope *s)
{
    const zx_node *fn = s->node;
    loopctx *outer_loop = C->loop;
    tryctx *outer_tries = C->tries;
    uint32_t outer_ret = C->ret_slot;
    C->loop = NULL;
    C->tries = NULL;
    C->ret_slot = UINT32_MAX;
    zx_pos endpos = fn->pos;
    if (fn->kind == N_LAMBDA && !fn->b) {
        emit_expr(C, s, fn->a);
        emit(C, s, OP_RETURN, 0, 0, fn->a->pos);
    } else {
        emit_block(C, s, fn_body(fn));
        emit(C, s, OP_LOAD_CONST, zx_code_add_const(s->code, zx_null()), 0, endpos);
        emit(C, s, OP_RETURN, 0, 0, endpos);
    }
    for (uint32_t i = 0; i < s->nvars && !is_top(s); i++)
        if (s->vars[i].captured && s->vars[i].slot < s->code->nlocals)   /* else out of memory */
            s->code->local_is_cell[s->vars[i].slot] = 1;
    C->loop = outer_loop;
    C->tries = outer_tries;
    C->ret_slot = outer_ret;
}

zx_program *zx_compile(const zx_node *prog, const char *file, zx_heap *heap, char *err, size_t errsz)
{
    return zx_compile_hosts(prog, file, heap, NULL, err, errsz, NULL);
}

zx_program *zx_compile_hosts(const zx_node *prog, const char *file, zx_heap *heap,
                             const zx_host_names *hosts, char *err, size_t errsz, bool *oom)
{
    return zx_compile_session(prog, file, heap, hosts, NULL, err, errsz, oom);
}

/* The value of an expression statement is dropped; in an interactive session's top level it
 * is printed unless it is null: DUP; LOAD_CONST null; NEQ; JUMP_IF_FALSE L; PRINT 1;
 * LOAD_CONST null; L: POP (both paths reach L with the value or a null on the stack). */
static void emit_expr_stmt_end(compiler *C, scope *s, zx_pos pos)
{
    if (C->sess && C->sess->print_values && is_top(s)) {
        uint32_t null_k = zx_code_add_const(s->code, zx_null());
        emit(C, s, OP_DUP, 0, 0, pos);
        emit(C, s, OP_LOAD_CONST, null_k, 0, pos);
        emit(C, s, OP_NEQ, 0, 0, pos);
        uint32_t j = emit(C, s, OP_JUMP_IF_FALSE, 0, 0, pos);
        emit(C, s, OP_PRINT, 1, 0, pos);
        emit(C, s, OP_LOAD_CONST, null_k, 0, pos);
        patch(s, j, here(s));
    }
    emit(C, s, OP_POP, 0, 0, pos);
}

/* The globals of the session so far, declared first so that each keeps its slot. */
static void declare_session_globals(compiler *C, const zx_program *prev, zx_pos pos)
{
    for (uint32_t i = 0; prev && i < prev->nglobals && !C->failed; i++) {
        var *v = scope_declare(C, C->top, prev->globals[i].name, prev->globals[i].is_const, pos);
        if (!v || C->failed) return;
        if (v->slot != i) {
            cerror(C, pos, "internal: session global '%s' moved", prev->globals[i].name);
            return;
        }
        C->prog->globals[i].is_shared = prev->globals[i].is_shared;
    }
}

zx_program *zx_compile_session(const zx_node *prog, const char *file, zx_heap *heap,
                               const zx_host_names *hosts, const zx_session_input *sess, char *err,
                               size_t errsz, bool *oom)
{
    compiler C = { .file = file, .heap = heap, .err = err, .errsz = errsz, .hosts = hosts, .sess = sess,
                   .ret_slot = UINT32_MAX };
    C.prog = zx_program_new(file, heap);
    zx_code *main = zx_code_new(ZX_CODE_MAIN, "<main>");
    if (!C.prog || !main) {
        zx_code_free(main);
        compile_oom(&C, prog->pos, "out of memory");
        goto fail;
    }
    main->pos = prog->pos;
    C.prog->main = main;
    C.top = scope_new(&C, prog, NULL, main);
    if (!C.top) goto fail;
    if (sess) declare_session_globals(&C, sess->prev, prog->pos);
    declare_fn(&C, C.top);
    /* Emission finds each function's code object among its parent's children. */
    if (!C.failed && zx_program_oom(C.prog)) compile_oom(&C, prog->pos, "out of memory");
    if (!C.failed) {
        reset_cursor(C.top);
        resolve(&C, C.top, prog);    /* the top level is no one's kid */
        reset_cursor(C.top);
        emit_function(&C, C.top);
    }
    if (!C.failed && zx_program_oom(C.prog)) compile_oom(&C, prog->pos, "out of memory");
    scope_free(C.top);
    C.top = NULL;
    if (C.failed) goto fail;
    if (oom) *oom = false;
    return C.prog;

fail:
    if (C.top) scope_free(C.top);
    zx_program_free(C.prog);
    if (oom) *oom = C.oom;
    return NULL;
}
