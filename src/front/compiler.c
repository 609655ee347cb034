/* compiler.c — AST to bytecode: scope resolution (function scopes, closures by reference) and emission. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/ast.h"
#include "front/modules.h"
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
    const zx_node *enum_members;   /* an enum's N_MAP of members (`E.X` is checked against it) */
} var;

struct nspace;
struct modfile;

/* A name that means a namespace (a `use ... as m` alias, a module or package block). */
typedef struct nsbind {
    char *name;
    struct nspace *ns;
} nsbind;

typedef struct scope {
    const zx_node *node;     /* N_PROGRAM, N_ACTION, N_LAMBDA, an N_BLOCK of a fork, N_MODULE */
    struct scope *parent;
    zx_code *code;
    var *vars;
    size_t nvars, capvars;
    zx_index ix;             /* vars by name (a big top level declares thousands) */
    struct scope **kids;     /* nested scopes, in the order emission will meet them */
    size_t nkids, capkids;
    size_t next_kid;         /* emission cursor into kids */
    /* Modules.  A global scope (a file's top level, a module or package block) declares
     * globals named prefix + name, so each module's variables are their own locations. */
    bool global;
    const char *prefix;      /* NULL: none (the main file's top level) */
    struct nspace *ns;       /* the namespace whose members this scope declares, if any */
    nsbind *binds;           /* namespaces visible by name from here */
    size_t nbinds, capbinds;
    struct modfile *mod;     /* the module file this scope is in; NULL: the main file */
    const zx_node *cls;      /* a method's N_CLASS: `self` and its bare field names mean this's */
    /* The hidden locals of `for each` loops: the first of each pair, by loop nesting depth.  A
     * loop takes the pair of its depth, so the loops of a code object share them and its frame
     * grows with the loops' nesting, not their number (every top-level chunk that runs on its
     * own gets a frame of the top level: docs/parallel.md). */
    uint32_t *iters;
    size_t niters, capiters, iter_depth;
} scope;

/* A namespace: a module file, a module or package block, or a built-in module. */
typedef struct nspace {
    char *label;             /* for messages: the module's name or path */
    char *prefix;            /* its members' global names start with this */
    bool builtin;            /* a built-in module: members are the builtins */
    scope **scopes;          /* the scopes that declare its members */
    size_t nscopes, capscopes;
    nsbind *subs;            /* nested module/package blocks */
    size_t nsubs, capsubs;
    char **exports;          /* a file's exported names (use "f" binds them) */
    size_t nexports, capexports;
    struct nspace *next;     /* every namespace of the compilation, for freeing */
} nspace;

/* A module file: loaded (parsed, declared) at its first `use` in the declaration pass, its
 * top level emitted as a code object at its first `use` in the emission order. */
typedef struct modfile {
    char *key;               /* canonical path: one module per file */
    char *path;              /* resolved path, for reading it and resolving its own uses */
    char *written;           /* the path as its first `use` wrote it (__MODULE__) */
    zx_node *ast;
    zx_code *code;           /* its top level, an action without parameters */
    scope *root;
    nspace *ns;
    int state;               /* 1 loading, 2 declared, 3 emitted */
    struct modfile *next;
} modfile;

/* Which module (or built-in namespace) each N_USE node loaded. */
typedef struct usemap {
    const zx_node *node;
    modfile *mod;            /* NULL: a built-in module */
} usemap;

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
    const char *main_path;   /* the main file, for resolving its uses */
    modfile *mods;           /* loaded module files */
    modfile **loading;       /* the chain of modules being loaded (import cycles) */
    size_t nloading, caploading;
    nspace *spaces;
    usemap *uses;
    size_t nuses, capuses;
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
    if (parent) {
        parent->kids[parent->nkids++] = s;
        s->mod = parent->mod;
    }
    return s;
}

static void scope_free(scope *s)
{
    for (size_t i = 0; i < s->nkids; i++) scope_free(s->kids[i]);
    for (size_t i = 0; i < s->nvars; i++) free(s->vars[i].name);
    for (size_t i = 0; i < s->nbinds; i++) free(s->binds[i].name);
    free(s->binds);
    free(s->vars);
    zx_index_free(&s->ix);
    free(s->kids);
    free(s->iters);
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

static bool is_top(const scope *s) { return s->global; }

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
    v->enum_members = NULL;
    if (is_top(s)) {
        char *full = NULL;
        if (s->prefix && (full = malloc(strlen(s->prefix) + strlen(name) + 1)))
            strcat(strcpy(full, s->prefix), name);
        v->slot = zx_program_add_global(C->prog, s->prefix ? (full ? full : "") : name);
        if (s->prefix && !full) C->prog->oom = true;
        free(full);
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
    code->file = parent->code->file;
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
    case N_INDEX: case N_MEMBER: case N_SLICE: case N_INTERP: case N_NEW_NAMED:
        declare_expr(C, s, n->a);
        declare_expr(C, s, n->b);
        declare_expr(C, s, n->c);
        for (size_t i = 0; i < n->n; i++) declare_expr(C, s, n->items[i]);
        return;
    case N_LET: case N_ASSIGN: case N_EXPR_STMT: case N_PRINT: case N_IF: case N_WHILE:
    case N_FOR_EACH: case N_BREAK: case N_CONTINUE: case N_RETURN: case N_ACTION:
    case N_ASSERT: case N_BLOCK: case N_FORK: case N_BARRIER: case N_PROGRAM:
    case N_USE: case N_EXPORT: case N_MODULE:
    case N_CLASS:
    case N_ENUM:
    case N_TRY: case N_THROW: case N_DEFER:
        declare_stmts(C, s, n);
        return;
    case N_MATCH:   /* in emission order: the subject, then each arm's value and body */
        declare_expr(C, s, n->a);
        for (size_t i = 0; i < n->n; i++) declare_expr(C, s, n->items[i]);
        return;
    case N_MATCH_ARM:
        declare_expr(C, s, n->a);
        declare_stmts(C, s, n->b);
        return;
    }
}

static void declare_use(compiler *C, scope *s, const zx_node *n);
static void declare_module_block(compiler *C, scope *s, const zx_node *n);

static void declare_stmts(compiler *C, scope *s, const zx_node *n)
{
    if (!n) return;
    switch (n->kind) {
    case N_PROGRAM: case N_BLOCK:
        for (size_t i = 0; i < n->n; i++) {
            if (n->kind == N_PROGRAM && n->items[i]->kind == N_USE && s->node == n) declare_use(C, s, n->items[i]);
            else declare_stmts(C, s, n->items[i]);
        }
        return;
    case N_USE:
        cerror(C, n->pos, "'use' is only allowed at the top level of a file");
        return;
    case N_EXPORT:
        return;   /* checked once the file's names are known (load_module) */
    case N_MODULE:
        declare_module_block(C, s, n);
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
    case N_CLASS:
        scope_declare(C, s, n->name, false, n->pos);
        for (size_t i = 0; i < n->n; i++)
            if (n->items[i]->kind == N_LET) declare_expr(C, s, n->items[i]->a);
        for (size_t i = 0; i < n->n; i++) {
            const zx_node *m = n->items[i];
            if (m->kind != N_ACTION) continue;
            char qname[256];
            snprintf(qname, sizeof qname, "%s.%s", n->name, m->name);
            scope *kid = new_fn_scope(C, m, s, ZX_CODE_ACTION, qname);
            if (kid) kid->cls = n;
        }
        return;
    case N_ENUM: {   /* a constant: `let`'s checks, and its members for `E.X` */
        if (scope_find(s, n->name)) {
            cerror(C, n->pos, "cannot redeclare '%s' as an enum", n->name);
            return;
        }
        var *v = scope_declare(C, s, n->name, true, n->pos);
        if (v) v->enum_members = n->a;
        return;
    }
    case N_MATCH: case N_MATCH_ARM:
        declare_expr(C, s, n);
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
    case N_MEMBER: case N_LAMBDA: case N_SLICE: case N_INTERP: case N_NEW_NAMED:
        declare_expr(C, s, n);
        return;
    }
}

/* The class whose method s is (or is nested in), or NULL. */
static const zx_node *scope_class(const scope *s)
{
    for (; s; s = s->parent)
        if (s->cls) return s->cls;
    return NULL;
}

/* In a method: is `name` a field of its class that no enclosing function declares (a bare
 * `balance` means `this.balance`)?  Top-level names do not hide fields. */
static bool class_field(scope *s, const char *name)
{
    const zx_node *cls = scope_class(s);
    if (!cls) return false;
    scope *where = NULL;
    if (lookup(s, name, &where) && !is_top(where)) return false;
    for (size_t i = 0; i < cls->n; i++)
        if (cls->items[i]->kind == N_LET && strcmp(cls->items[i]->name, name) == 0) return true;
    return false;
}

/* `self` in a method is `this`, unless something declares it. */
static const char *self_alias(scope *s, const char *name)
{
    if (strcmp(name, "self") == 0 && scope_class(s) && !lookup(s, "self", NULL)) return "this";
    return name;
}

/* Assignments to names no enclosing scope declares declare them in the assigning scope.
 * Runs after declare_stmts so that `x = 1` before `let x` in an outer scope still finds it. */
static void declare_assigned(compiler *C, scope *s, const zx_node *n)
{
    if (!n) return;
    if (n->kind == N_ACTION || n->kind == N_LAMBDA) return;   /* their own scopes */
    if (n->kind == N_FORK || n->kind == N_MODULE || n->kind == N_CLASS) return;
    if (n->kind == N_ASSIGN && n->a && n->a->kind == N_NAME && !lookup(s, n->a->name, NULL) &&
        !class_field(s, n->a->name))
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
    if (fn->kind == N_MODULE) return fn->b;
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

/* ---------- modules: namespaces, `use`, module and package blocks ---------- */

static char *cat3(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *r = malloc(n);
    if (r) snprintf(r, n, "%s%s%s", a, b, c);
    return r;
}

static nspace *ns_new(compiler *C, zx_pos pos, const char *label, const char *prefix)
{
    nspace *ns = calloc(1, sizeof *ns);
    if (ns && (!(ns->label = strdup(label)) || !(ns->prefix = strdup(prefix)))) {
        free(ns->label);
        free(ns);
        ns = NULL;
    }
    if (!ns) {
        compile_oom(C, pos, "out of memory");
        return NULL;
    }
    ns->next = C->spaces;
    C->spaces = ns;
    return ns;
}

static void ns_free_all(compiler *C)
{
    while (C->spaces) {
        nspace *ns = C->spaces;
        C->spaces = ns->next;
        for (size_t i = 0; i < ns->nsubs; i++) free(ns->subs[i].name);
        for (size_t i = 0; i < ns->nexports; i++) free(ns->exports[i]);
        free(ns->subs);
        free(ns->exports);
        free(ns->scopes);
        free(ns->label);
        free(ns->prefix);
        free(ns);
    }
}

static bool bind_add(compiler *C, zx_pos pos, nsbind **v, size_t *n, size_t *cap, const char *name, nspace *ns)
{
    char *copy = strdup(name);
    if (!copy || !grow(C, pos, (void **)v, cap, *n, sizeof **v)) {
        free(copy);
        compile_oom(C, pos, "out of memory");
        return false;
    }
    (*v)[(*n)++] = (nsbind){ copy, ns };
    return true;
}

static nspace *bind_find(nsbind *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0) return v[i].ns;
    return NULL;
}

/* The namespace `name` means in scope s: a binding not hidden by a variable of a nearer scope. */
static nspace *ns_lookup(scope *s, const char *name)
{
    for (; s; s = s->parent) {
        if (scope_find(s, name)) return NULL;
        nspace *ns = bind_find(s->binds, s->nbinds, name);
        if (ns) return ns;
    }
    return NULL;
}

/* The namespace an expression denotes (m, app.api), or NULL when it is a value. */
static nspace *ns_of(scope *s, const zx_node *n)
{
    if (n->kind == N_NAME) return ns_lookup(s, n->name);
    if (n->kind != N_MEMBER) return NULL;
    nspace *outer = ns_of(s, n->a);
    return outer ? bind_find(outer->subs, outer->nsubs, n->name) : NULL;
}

static var *ns_member(nspace *ns, const char *name)
{
    for (size_t i = 0; i < ns->nscopes; i++) {
        var *v = scope_find(ns->scopes[i], name);
        if (v) return v;
    }
    return NULL;
}

static bool ns_add_scope(compiler *C, zx_pos pos, nspace *ns, scope *sc)
{
    if (!grow(C, pos, (void **)&ns->scopes, &ns->capscopes, ns->nscopes, sizeof *ns->scopes)) return false;
    ns->scopes[ns->nscopes++] = sc;
    sc->ns = ns;
    return true;
}

/* Bind `name` in the global scope s to ns (and make it a member of s's own namespace). */
static void ns_bind(compiler *C, scope *s, zx_pos pos, const char *name, nspace *ns)
{
    if (!bind_add(C, pos, &s->binds, &s->nbinds, &s->capbinds, name, ns)) return;
    if (s->ns && !bind_find(s->ns->subs, s->ns->nsubs, name))
        bind_add(C, pos, &s->ns->subs, &s->ns->nsubs, &s->ns->capsubs, name, ns);
}

/* `name` in scope s as the same location as the member v (use { a } from, use "f"). */
static void declare_alias(compiler *C, scope *s, zx_pos pos, const char *name, const var *v)
{
    var *old = scope_find(s, name);
    if (old) {
        if (old->slot != v->slot) cerror(C, pos, "'%s' is already declared in this file", name);
        return;
    }
    char *copy = strdup(name);
    if (!copy || !grow(C, pos, (void **)&s->vars, &s->capvars, s->nvars, sizeof *s->vars)) {
        free(copy);
        compile_oom(C, pos, "out of memory");
        return;
    }
    s->vars[s->nvars++] = (var){ .name = copy, .slot = v->slot, .is_const = v->is_const };
}

/* module NAME { } / package a.b.c { }: its namespace (created at its first block), and a
 * scope for this block's members that falls back to the enclosing one for other names. */
static void declare_module_block(compiler *C, scope *s, const zx_node *n)
{
    if (!s->global) {
        cerror(C, n->pos, "'%s' is only allowed at the top level", n->ival ? "package" : "module");
        return;
    }
    char *path = strdup(n->name);
    if (!path) {
        compile_oom(C, n->pos, "out of memory");
        return;
    }
    nspace *ns = NULL;
    for (char *save = NULL, *c = strtok_r(path, ".", &save); c && !C->failed; c = strtok_r(NULL, ".", &save)) {
        nspace *sub = ns ? bind_find(ns->subs, ns->nsubs, c) : bind_find(s->binds, s->nbinds, c);
        if (!sub) {
            char *prefix = cat3(ns ? ns->prefix : s->prefix ? s->prefix : "", c, ".");
            sub = prefix ? ns_new(C, n->pos, c, prefix) : NULL;
            free(prefix);
            if (!sub) break;
            if (ns) bind_add(C, n->pos, &ns->subs, &ns->nsubs, &ns->capsubs, c, sub);
            else ns_bind(C, s, n->pos, c, sub);
        }
        ns = sub;
    }
    free(path);
    if (!ns || C->failed) return;
    scope *m = scope_new(C, n, s, s->code);
    if (!m) return;
    m->global = true;
    m->prefix = ns->prefix;
    ns_add_scope(C, n->pos, ns, m);
}

/* The names a file exports: declarations marked `export`, and `export a, b` lists. */
static void collect_exports(compiler *C, scope *root, nspace *ns)
{
    const zx_node *prog = root->node;
    for (size_t i = 0; i < prog->n && !C->failed; i++) {
        const zx_node *it = prog->items[i];
        const zx_node *one = it;
        size_t count = 1;
        if (it->kind == N_BLOCK && it->is_export) count = it->n;
        for (size_t k = 0; k < count; k++) {
            if (it->kind == N_BLOCK && it->is_export) one = it->items[k];
            const char *const *names = NULL;
            size_t nn = 0;
            if (one->kind == N_EXPORT) {
                names = (const char *const *)one->params;
                nn = one->nparams;
            } else if (one->is_export && one->name) {
                names = (const char *const *)&one->name;
                nn = 1;
            }
            for (size_t j = 0; j < nn; j++) {
                if (!scope_find(root, names[j])) {
                    cerror(C, one->pos, "export of '%s', which this file does not declare", names[j]);
                    return;
                }
                char *copy = strdup(names[j]);
                if (!copy || !grow(C, one->pos, (void **)&ns->exports, &ns->capexports, ns->nexports,
                                   sizeof *ns->exports)) {
                    free(copy);
                    compile_oom(C, one->pos, "out of memory");
                    return;
                }
                ns->exports[ns->nexports++] = copy;
            }
        }
    }
}

static void reset_cursor(scope *s);
static void resolve(compiler *C, scope *s, const zx_node *n);

/* The namespace of the module that N_USE n names: a built-in module, or a file loaded,
 * parsed, declared and resolved now (once per file). */
static nspace *load_module(compiler *C, scope *s, const zx_node *n, modfile **out)
{
    *out = NULL;
    if (zx_module_builtin(n->str)) {
        for (nspace *ns = C->spaces; ns; ns = ns->next)
            if (ns->builtin && strcmp(ns->label, n->str) == 0) return ns;
        nspace *ns = ns_new(C, n->pos, n->str, "");
        if (ns) ns->builtin = true;
        return ns;
    }
    const char *from = s->mod ? s->mod->path : C->main_path;
    char *path = zx_module_resolve(from, n->str);
    char *key = path ? zx_module_key(path) : NULL;
    if (!key) {
        free(path);
        cerror(C, n->pos, "module '%s' not found (looked beside %s%s)", n->str, from,
               n->str[0] == '.' ? "" : " and along ZEXUS_PATH");
        return NULL;
    }
    char *main_key = C->main_path[0] ? zx_module_key(C->main_path) : NULL;
    bool is_main_file = main_key && strcmp(main_key, key) == 0;
    free(main_key);
    if (is_main_file) {   /* the program being run, still loading too */
        char chain[512];
        snprintf(chain, sizeof chain, "%s", C->main_path);
        for (size_t k = 0; k < C->nloading; k++) {
            size_t len = strlen(chain);
            snprintf(chain + len, sizeof chain - len, " -> %s", C->loading[k]->path);
        }
        size_t len = strlen(chain);
        snprintf(chain + len, sizeof chain - len, " -> %s", C->main_path);
        free(path);
        free(key);
        cerror(C, n->pos, "import cycle: %s", chain);
        return NULL;
    }
    modfile *m = C->mods;
    while (m && strcmp(m->key, key) != 0) m = m->next;
    if (m) {
        free(path);
        free(key);
        if (m->state == 1) {   /* still loading: the chain from m back to here is a cycle */
            char chain[512] = "";
            size_t k = 0;
            while (k < C->nloading && C->loading[k] != m) k++;
            for (; k < C->nloading; k++) {
                size_t len = strlen(chain);
                snprintf(chain + len, sizeof chain - len, "%s -> ", C->loading[k]->path);
            }
            size_t len = strlen(chain);
            snprintf(chain + len, sizeof chain - len, "%s", m->path);
            cerror(C, n->pos, "import cycle: %s", chain);
            return NULL;
        }
        *out = m;
        return m->ns;
    }
    m = calloc(1, sizeof *m);
    if (!m) {
        free(path);
        free(key);
        compile_oom(C, n->pos, "out of memory");
        return NULL;
    }
    m->key = key;
    m->path = path;
    m->next = C->mods;
    C->mods = m;
    char *src = NULL, why[160];
    size_t len = 0;
    if (!(m->written = strdup(n->str))) {
        compile_oom(C, n->pos, "out of memory");
        return NULL;
    }
    if (!zx_module_read(path, &src, &len, why, sizeof why)) {
        cerror(C, n->pos, "cannot read module '%s': %s", path, why);
        return NULL;
    }
    char perr[512];
    m->ast = zx_parse(src, len, path, perr, sizeof perr);
    free(src);
    if (!m->ast) {   /* the parser's message names the module's file, line and column */
        if (!C->failed) {
            C->failed = true;
            snprintf(C->err, C->errsz, "%s", perr);
        }
        return NULL;
    }
    uint32_t file = zx_program_add_file(C->prog, path);
    char *cname = cat3("<module ", path, ">");
    char *prefix = cat3(path, "::", "");
    m->code = cname ? zx_code_new(ZX_CODE_ACTION, cname) : NULL;
    m->ns = prefix ? ns_new(C, n->pos, n->str, prefix) : NULL;
    free(cname);
    free(prefix);
    if (!m->code || !m->ns || C->prog->oom) {
        compile_oom(C, n->pos, "out of memory");
        return NULL;
    }
    m->code->file = file;
    m->code->pos = (zx_pos){ 1, 1 };
    if (!(m->root = scope_new(C, m->ast, NULL, m->code))) return NULL;
    m->root->global = true;
    m->root->prefix = m->ns->prefix;
    m->root->mod = m;
    if (!ns_add_scope(C, n->pos, m->ns, m->root)) return NULL;
    if (!grow(C, n->pos, (void **)&C->loading, &C->caploading, C->nloading, sizeof *C->loading)) return NULL;
    C->loading[C->nloading++] = m;
    m->state = 1;
    const char *saved = C->file;
    C->file = path;
    declare_fn(C, m->root);
    if (!C->failed) collect_exports(C, m->root, m->ns);
    if (!C->failed) {
        reset_cursor(m->root);
        resolve(C, m->root, m->ast);
        reset_cursor(m->root);
    }
    C->file = saved;
    C->nloading--;
    m->state = 2;
    *out = m;
    return C->failed ? NULL : m->ns;
}

static void declare_use(compiler *C, scope *s, const zx_node *n)
{
    modfile *m = NULL;
    nspace *ns = load_module(C, s, n, &m);
    if (!ns || C->failed) return;
    if (!grow(C, n->pos, (void **)&C->uses, &C->capuses, C->nuses, sizeof *C->uses)) return;
    C->uses[C->nuses++] = (usemap){ n, m };
    if (n->name) ns_bind(C, s, n->pos, n->name, ns);
    if (ns->builtin) {   /* use { sqrt } from "math": the builtins are there already */
        for (size_t i = 0; i < n->nparams; i++)
            if (zx_builtin_lookup(n->params[i]) < 0) {
                cerror(C, n->pos, "built-in module '%s' has no member '%s'", ns->label, n->params[i]);
                return;
            }
        return;
    }
    if (n->ival) {
        for (size_t i = 0; i < n->nparams && !C->failed; i++) {
            var *v = ns_member(ns, n->params[i]);
            if (!v) {
                cerror(C, n->pos, "module '%s' has no member '%s'", ns->label, n->params[i]);
                return;
            }
            declare_alias(C, s, n->pos, n->params[i], v);
        }
    } else if (!n->name) {
        for (size_t i = 0; i < ns->nexports && !C->failed; i++)
            declare_alias(C, s, n->pos, ns->exports[i], ns_member(ns, ns->exports[i]));
    }
}

static void modules_free(compiler *C)
{
    while (C->mods) {
        modfile *m = C->mods;
        C->mods = m->next;
        if (m->root) scope_free(m->root);
        if (m->state != 3) zx_code_free(m->code);   /* emitted: a child of its importer's code */
        zx_ast_free(m->ast);
        free(m->key);
        free(m->path);
        free(m->written);
        free(m);
    }
    ns_free_all(C);
    free(C->loading);
    free(C->uses);
    C->loading = NULL;
    C->uses = NULL;
    C->nloading = C->caploading = C->nuses = C->capuses = 0;
}

/* ---------- pass 2: resolution of captures ---------- */

static void resolve_name(compiler *C, scope *s, const char *name)
{
    name = self_alias(s, name);
    if (class_field(s, name)) name = "this";
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
    case N_MODULE:
        resolve_kid(C, s);
        return;
    case N_CLASS:
        resolve_name(C, s, n->name);
        if (n->name2) resolve_name(C, s, n->name2);
        for (size_t i = 0; i < n->n; i++)
            if (n->items[i]->kind == N_LET) resolve(C, s, n->items[i]->a);
        for (size_t i = 0; i < n->n; i++)
            if (n->items[i]->kind == N_ACTION) resolve_kid(C, s);
        return;
    case N_NEW_NAMED:
        resolve_name(C, s, n->name);
        break;
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
    name = self_alias(s, name);
    if (class_field(s, name)) {   /* a bare field name in a method: this.name */
        emit_load_name(C, s, "this", pos);
        emit(C, s, OP_GET_FIELD, const_str(C, s, name, strlen(name), pos), 0, pos);
        return;
    }
    switch (storage_of(C, s, name, &slot, NULL)) {
    case STO_GLOBAL: emit(C, s, OP_LOAD_NAME, slot, 0, pos); return;
    case STO_LOCAL: emit(C, s, OP_LOAD_LOCAL, slot, 0, pos); return;
    case STO_CELL: emit(C, s, OP_LOAD_CELL, slot, 0, pos); return;
    case STO_FREE: emit(C, s, OP_LOAD_FREE, slot, 0, pos); return;
    case STO_NONE: break;
    }
    nspace *ns = ns_lookup(s, name);
    if (ns) {
        cerror(C, pos, "'%s' is a module, not a value: use its members (%s.name)", name, name);
        return;
    }
    int bi = zx_builtin_lookup(name);
    if (bi == ZX_BI___MODULE__ && s->mod) {   /* inside a used file: its path as written */
        emit(C, s, OP_LOAD_CONST, const_str(C, s, s->mod->written, strlen(s->mod->written), pos), 0, pos);
        return;
    }
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
static void emit_class(compiler *C, scope *s, const zx_node *n);
static void emit_expr_stmt_end(compiler *C, scope *s, zx_pos pos);
static void emit_function(compiler *C, scope *s);
static void emit_use(compiler *C, scope *s, const zx_node *n);

/* Load member `name` of namespace ns: a module's global, or a built-in module's builtin. */
static void emit_ns_member(compiler *C, scope *s, nspace *ns, const char *name, zx_pos pos)
{
    if (bind_find(ns->subs, ns->nsubs, name)) {
        cerror(C, pos, "'%s' is a module, not a value: use its members", name);
        return;
    }
    if (ns->builtin) {
        int bi = zx_builtin_lookup(name);
        if (bi < 0 || bi == ZX_BI_parallel_map) cerror(C, pos, "built-in module '%s' has no member '%s'", ns->label, name);
        else emit(C, s, OP_LOAD_BUILTIN, (uint32_t)bi, 0, pos);
        return;
    }
    var *v = ns_member(ns, name);
    if (!v) {
        cerror(C, pos, "module '%s' has no member '%s'", ns->label, name);
        return;
    }
    emit(C, s, OP_LOAD_NAME, v->slot, 0, pos);
}
static void emit_match(compiler *C, scope *s, const zx_node *n);
static bool enum_member_check(compiler *C, scope *s, const zx_node *target, bool store);

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
    if (builtin_callee(s, n->a, &bi) && bi == ZX_BI_is_main && s->mod && n->n == 0) {
        emit(C, s, OP_LOAD_CONST, zx_code_add_const(s->code, zx_bool(false)), 0, n->pos);
        return;   /* decision D7: false inside a used file */
    }
    if (n->a->kind == N_NAME && strcmp(n->a->name, "require") == 0 && !lookup(s, "require", NULL) &&
        (n->n == 1 || n->n == 2)) {   /* require(cond[, message]): REQUIRE, then null */
        for (size_t i = 0; i < n->n; i++) emit_expr(C, s, n->items[i]);
        emit(C, s, OP_REQUIRE, (uint32_t)(n->n - 1), 0, n->pos);
        emit(C, s, OP_LOAD_CONST, zx_code_add_const(s->code, zx_null()), 0, n->pos);
        return;
    }
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
        /* in pieces too: a BUILD_MAP of the first pairs, then a MAP_EXTEND per piece */
        for (size_t start = 0; start == 0 || start < n->n; start += LIST_PIECE) {
            size_t end = n->n - start > LIST_PIECE ? start + LIST_PIECE : n->n;
            for (size_t i = start; i < end; i++) emit_expr(C, s, n->items[i]);
            emit(C, s, start ? OP_MAP_EXTEND : OP_BUILD_MAP, (uint32_t)((end - start) / 2), 0, n->pos);
        }
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
        if (ns_of(s, n->a)) {   /* m.f(x): a call of the module's member */
            emit_ns_member(C, s, ns_of(s, n->a), n->name, n->pos);
            for (size_t i = 0; i < n->n; i++) emit_expr(C, s, n->items[i]);
            emit(C, s, OP_CALL_TOP, (uint32_t)n->n, 0, n->pos);
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
        if (ns_of(s, n->a)) {
            emit_ns_member(C, s, ns_of(s, n->a), n->name, n->pos);
            return;
        }
        if (!enum_member_check(C, s, n, false)) return;
        emit_expr(C, s, n->a);
        if (n->a->kind == N_NAME && scope_class(s) && strcmp(self_alias(s, n->a->name), "this") == 0) {
            /* this.field in a method: an instance, so GET_FIELD (its slot cached in compiled
             * code); elsewhere `o.k` stays INDEX by the string, which maps are tuned for */
            emit(C, s, OP_GET_FIELD, const_str(C, s, n->name, strlen(n->name), n->pos), 0, n->pos);
            return;
        }
        emit(C, s, OP_LOAD_CONST, const_str(C, s, n->name, strlen(n->name), n->pos), 0, n->pos);
        emit(C, s, OP_INDEX, 0, 0, n->pos);
        return;
    case N_LAMBDA:
        emit_closure(C, s, n);
        return;
    case N_NEW_NAMED:
        emit_load_name(C, s, n->name, n->pos);
        emit_expr(C, s, n->b);
        emit(C, s, OP_NEW_NAMED, 0, 0, n->pos);
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
    case N_MATCH:
        emit_match(C, s, n);
        return;
    case N_LET: case N_ASSIGN: case N_EXPR_STMT: case N_PRINT: case N_IF: case N_WHILE:
    case N_FOR_EACH: case N_BREAK: case N_CONTINUE: case N_RETURN: case N_ACTION:
    case N_ASSERT: case N_BLOCK: case N_FORK: case N_BARRIER: case N_PROGRAM:
    case N_USE: case N_EXPORT: case N_MODULE:
    case N_CLASS:
    case N_MATCH_ARM: case N_ENUM:
    case N_TRY: case N_THROW: case N_DEFER:
        break;
    }
    cerror(C, n->pos, "internal: statement in expression position");
}

/* The end of an assignment n to a container element or field, its container and key pushed:
 * the value (for `op=`, the old one read through DUP2 + INDEX and combined), then STORE_INDEX. */
static void emit_keyed_store(compiler *C, scope *s, const zx_node *n)
{
    if (n->op) {
        emit(C, s, OP_DUP2, 0, 0, n->pos);
        emit(C, s, OP_INDEX, 0, 0, n->a->pos);
        emit_expr(C, s, n->b);
        emit(C, s, (uint16_t)n->op, 0, 0, n->pos);
    } else {
        emit_expr(C, s, n->b);
    }
    emit(C, s, OP_STORE_INDEX, 0, 0, n->pos);
}

static void emit_assign(compiler *C, scope *s, const zx_node *n)
{
    const zx_node *t = n->a;
    if (t->kind == N_NAME && class_field(s, t->name)) {   /* field = e in a method: this.field = e */
        emit_load_name(C, s, "this", t->pos);
        emit(C, s, OP_LOAD_CONST, const_str(C, s, t->name, strlen(t->name), t->pos), 0, t->pos);
        emit_keyed_store(C, s, n);
        return;
    }
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
    nspace *ns = t->kind == N_MEMBER ? ns_of(s, t->a) : NULL;
    if (ns) {   /* m.x = v: the module's variable */
        var *v = ns->builtin ? NULL : ns_member(ns, t->name);
        if (!v) {
            cerror(C, t->pos, "module '%s' has no variable '%s'", ns->label, t->name);
            return;
        }
        if (v->is_const) {
            cerror(C, t->pos, "cannot assign to constant '%s'", t->name);
            return;
        }
        if (n->op) emit(C, s, OP_LOAD_NAME, v->slot, 0, t->pos);
        emit_expr(C, s, n->b);
        if (n->op) emit(C, s, (uint16_t)n->op, 0, 0, n->pos);
        emit(C, s, OP_STORE_NAME, v->slot, 0, t->pos);
        return;
    }
    if (!enum_member_check(C, s, t, true)) return;
    emit_expr(C, s, t->a);
    if (t->kind == N_INDEX) emit_expr(C, s, t->b);
    else emit(C, s, OP_LOAD_CONST, const_str(C, s, t->name, strlen(t->name), t->pos), 0, t->pos);
    emit_keyed_store(C, s, n);
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
        uint32_t it;
        if (s->iter_depth < s->niters) {
            it = s->iters[s->iter_depth];
        } else {
            char hidden[64];
            snprintf(hidden, sizeof hidden, "$iter%u", code->nlocals);
            it = zx_code_add_local(code, hidden);
            snprintf(hidden, sizeof hidden, "$index%u", code->nlocals);
            zx_code_add_local(code, hidden);
            if (code->oom || !grow(C, n->pos, (void **)&s->iters, &s->capiters, s->niters, sizeof *s->iters)) {
                compile_oom(C, n->pos, "out of memory");
                return;
            }
            s->iters[s->niters++] = it;
        }
        s->iter_depth++;
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
        s->iter_depth--;
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
    case N_USE:
        emit_use(C, s, n);
        return;
    case N_EXPORT:
        return;
    case N_MODULE: {   /* its statements run here, in its own scope */
        scope *m = s->kids[s->next_kid++];
        emit_block(C, m, n->b);
        return;
    }
    case N_CLASS:
        emit_class(C, s, n);
        return;
    case N_ENUM:
        emit_expr(C, s, n->a);
        emit_store_name(C, s, n->name, n->pos);
        return;
    case N_MATCH:
        if (n->ival == ZX_MATCH_EXPR) {   /* not made by the parser: a value dropped */
            emit_expr(C, s, n);
            emit_expr_stmt_end(C, s, n->pos);
        } else {
            emit_match(C, s, n);
        }
        return;
    case N_MATCH_ARM:
        cerror(C, n->pos, "internal: match arm outside a match");
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
    case N_MEMBER: case N_LAMBDA: case N_SLICE: case N_INTERP: case N_NEW_NAMED:
        emit_expr(C, s, n);
        emit_expr_stmt_end(C, s, n->pos);
        return;
    }
}

/* A module's top level runs once, at the first `use` of it in program order: its code
 * object becomes a child of the importing code, called here without arguments. */
static void emit_use(compiler *C, scope *s, const zx_node *n)
{
    modfile *m = NULL;
    for (size_t i = 0; i < C->nuses; i++)
        if (C->uses[i].node == n) m = C->uses[i].mod;
    if (!m || m->state == 3) return;   /* built-in, or it ran already */
    uint32_t idx = zx_code_add_child(s->code, m->code);
    if (s->code->oom) {
        compile_oom(C, n->pos, "out of memory");
        return;
    }
    m->state = 3;
    const char *saved = C->file;
    C->file = m->path;
    emit_function(C, m->root);
    C->file = saved;
    emit(C, s, OP_MAKE_CLOSURE, idx, 0, n->pos);
    emit(C, s, OP_CALL_TOP, 0, 0, n->pos);
    emit(C, s, OP_POP, 0, 0, n->pos);
}

/* entity/data/contract/interface: MAKE_CLASS of [name, fields, types, defaults, methods,
 * iface], stored in the class's name.  Defaults (entity, data) are evaluated here, once; a
 * contract's initialisers run per instance in its __state__ method. */
static void emit_class(compiler *C, scope *s, const zx_node *n)
{
    zx_code *code = s->code;
    uint32_t nf = 0, nm = 0;
    emit(C, s, OP_LOAD_CONST, const_str(C, s, n->name, strlen(n->name), n->pos), 0, n->pos);
    for (size_t i = 0; i < n->n; i++)
        if (n->items[i]->kind == N_LET) {
            emit(C, s, OP_LOAD_CONST, const_str(C, s, n->items[i]->name, strlen(n->items[i]->name), n->pos), 0, n->pos);
            nf++;
        }
    emit(C, s, OP_BUILD_LIST, nf, 0, n->pos);
    for (size_t i = 0; i < n->n; i++)
        if (n->items[i]->kind == N_LET) {
            const zx_node *f = n->items[i];
            emit(C, s, OP_LOAD_CONST, const_str(C, s, f->str ? f->str : "", f->str ? f->slen : 0, n->pos), 0, n->pos);
        }
    emit(C, s, OP_BUILD_LIST, nf, 0, n->pos);
    for (size_t i = 0; i < n->n; i++)
        if (n->items[i]->kind == N_LET) {
            const zx_node *f = n->items[i];
            if (f->a) emit_expr(C, s, f->a);
            else emit(C, s, OP_LOAD_CONST, zx_code_add_const(code, zx_null()), 0, n->pos);
        }
    emit(C, s, OP_BUILD_LIST, nf, 0, n->pos);
    for (size_t i = 0; i < n->n; i++)
        if (n->items[i]->kind == N_ACTION) {
            const zx_node *m = n->items[i];
            emit(C, s, OP_LOAD_CONST, const_str(C, s, m->name, strlen(m->name), m->pos), 0, m->pos);
            emit_closure(C, s, m);
            nm++;
        }
    emit(C, s, OP_BUILD_MAP, nm, 0, n->pos);
    if (n->name2) emit_load_name(C, s, n->name2, n->pos);
    else emit(C, s, OP_LOAD_CONST, zx_code_add_const(code, zx_null()), 0, n->pos);
    emit(C, s, OP_MAKE_CLASS, (uint32_t)n->ival, 0, n->pos);
    emit_store_name(C, s, n->name, n->pos);
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

/* ---------- match and enum ---------- */

/* `E.X` (store: `E.X = v`, `E[k] = v`) where E names an enum: X must be one of its members,
 * and members are not assigned.  False (the error set) when it is not so. */
static bool enum_member_check(compiler *C, scope *s, const zx_node *target, bool store)
{
    if (!target->a || target->a->kind != N_NAME) return true;
    var *v = lookup(s, target->a->name, NULL);
    if (!v || !v->enum_members) return true;
    if (store) {
        cerror(C, target->pos, "cannot assign to a member of enum '%s'", target->a->name);
        return false;
    }
    const zx_node *m = v->enum_members;
    for (size_t i = 0; i < m->n; i += 2)
        if (strcmp(m->items[i]->str, target->name) == 0) return true;
    cerror(C, target->pos, "'%s' is not a member of enum '%s'", target->name, target->a->name);
    return false;
}

/* The subject goes into a hidden local; each arm tests it in order (__match_eq: same type and
 * ==) and runs its body, or a binding arm calls its function with it; the first arm that
 * matches wins.  When none does: the error __match_fail raises (not for `pattern`).  A value
 * match leaves one value, the others none.  Only existing opcodes: the JIT and the analysis
 * see jumps, locals and builtin calls. */
static void emit_match(compiler *C, scope *s, const zx_node *n)
{
    zx_code *code = s->code;
    bool value = n->ival == ZX_MATCH_EXPR;
    char hidden[64];
    snprintf(hidden, sizeof hidden, "$match%u", code->nlocals);
    uint32_t slot = zx_code_add_local(code, hidden);
    uint32_t null_k = zx_code_add_const(code, zx_null());
    emit_expr(C, s, n->a);
    emit(C, s, OP_STORE_LOCAL, slot, 0, n->pos);
    uint32_t *ends = calloc(n->n ? n->n : 1, sizeof *ends);
    if (!ends) {
        compile_oom(C, n->pos, "out of memory");
        return;
    }
    bool total = false;   /* an arm that matches anything came: no error after it */
    for (size_t i = 0; i < n->n && !C->failed; i++) {
        const zx_node *arm = n->items[i];
        uint32_t jnext = UINT32_MAX;
        if (arm->ival == ZX_ARM_VALUE) {
            emit(C, s, OP_LOAD_LOCAL, slot, 0, arm->pos);
            emit_expr(C, s, arm->a);
            emit(C, s, OP_CALL_BUILTIN, ZX_BI___match_eq, 2, arm->pos);
            jnext = emit(C, s, OP_JUMP_IF_FALSE, 0, 0, arm->pos);
        } else {
            total = true;
        }
        if (arm->ival == ZX_ARM_BIND) {
            emit_closure(C, s, arm->b);
            emit(C, s, OP_LOAD_LOCAL, slot, 0, arm->pos);
            emit(C, s, OP_CALL_TOP, 1, 0, arm->pos);
            if (!value) emit(C, s, OP_POP, 0, 0, arm->pos);
        } else if (value) {
            emit_expr(C, s, arm->b);
        } else {
            emit_block(C, s, arm->b);
        }
        ends[i] = emit(C, s, OP_JUMP, 0, 0, arm->pos);
        if (jnext != UINT32_MAX) patch(s, jnext, here(s));
    }
    if (!total && n->ival != ZX_MATCH_PATTERN) {
        emit(C, s, OP_LOAD_LOCAL, slot, 0, n->pos);
        emit(C, s, OP_CALL_BUILTIN, ZX_BI___match_fail, 1, n->pos);   /* raises */
        if (!value) emit(C, s, OP_POP, 0, 0, n->pos);
    } else if (value) {
        emit(C, s, OP_LOAD_CONST, null_k, 0, n->pos);   /* unreachable: keeps the depths even */
    }
    for (size_t i = 0; i < n->n; i++) patch(s, ends[i], here(s));
    free(ends);
    /* drop the hidden reference to the subject */
    emit(C, s, OP_LOAD_CONST, null_k, 0, n->pos);
    emit(C, s, OP_STORE_LOCAL, slot, 0, n->pos);
    if (slot > UINT16_MAX) cerror(C, n->pos, "too many variables in one function");
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
    C.top->global = true;
    C.main_path = file ? file : "";
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
    modules_free(&C);
    if (C.failed) goto fail;
    if (oom) *oom = false;
    return C.prog;

fail:
    if (C.top) scope_free(C.top);
    modules_free(&C);
    zx_program_free(C.prog);
    if (oom) *oom = C.oom;
    return NULL;
}
