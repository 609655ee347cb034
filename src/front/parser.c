/* parser.c — Zexus tokens to the syntax tree of ast.h: recursive descent, stopping at the first error. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/ast.h"
#include "front/lexer.h"

/*
 * Newlines: a TK_NEWLINE ends a statement, except inside an expression bracket — (), [] and a
 * map's {} — where parser_peek skips it.  `skip_nl` says which of the two we are in; each
 * bracket saves it in a C local and restores it on the way out, so the C stack is the bracket
 * stack, and a block's { } (a lambda body inside a call, say) turns newlines back on.  After a
 * binary operator, a comma, `=` or `=>` the parser skips newlines itself.
 *
 * Depth: every construct that nests the tree — a bracket, a block, a unary operator, the right
 * side of **, each link of a left-associative chain (a + b + c ..., f()()..., elif ...) —
 * counts one level.  Past PARSER_MAX_DEPTH levels the parse fails ("nesting too deep"), which
 * bounds this parser's recursion and the height of the tree, so every later recursive walk of
 * it (the compiler, zx_ast_free) is bounded too.  At the limit the parser needs about 0.5 MB of
 * C stack (1 MB under AddressSanitizer).
 */
#define PARSER_MAX_DEPTH 1000

typedef struct parser_fn {      /* what the innermost function body allows where we are */
    bool in_action;             /* inside an action or lambda: `return` allowed */
    bool in_fork;               /* inside a fork block of it: no return, barrier, or leaving jumps */
    int loops;                  /* loops open inside the function (or fork block) around here */
    bool in_arm;                /* inside the body of a match arm that binds a name (a function) */
} parser_fn;

typedef struct parser {
    const char *src;
    lexer_token *tok;           /* ends with TK_EOF or TK_ERROR; i never moves past it */
    size_t i;
    const char *lexerr;         /* the message of a final TK_ERROR */
    const char *file;
    char *err;
    size_t errsz;
    bool failed;
    bool skip_nl;
    int depth;
    parser_fn fn;
} parser;

typedef struct parser_vec {
    zx_node **v;
    size_t n, cap;
} parser_vec;

typedef struct parser_names {
    char **v;
    size_t n, cap;
} parser_names;

static zx_node *parser_expr(parser *p);
static zx_node *parser_unary(parser *p);
static zx_node *parser_block(parser *p);
static zx_node *parser_statement(parser *p);
static bool parser_add_name(parser *p, parser_names *out, char *name);
static int parser_class_kind(const parser *p, const lexer_token *t);
static zx_node *parser_class(parser *p, int kind);
static bool parser_word(const parser *p, const lexer_token *t, const char *w);
static zx_node *parser_emit(parser *p);
static bool parser_is_named_new(const parser *p, const lexer_token *t);
static zx_node *parser_named_new(parser *p);
static zx_node *parser_map(parser *p);
static bool parser_is_modifier(const parser *p, const lexer_token *t);
static zx_node *parser_action(parser *p);
static bool parser_starts_match(parser *p, const char *word);
static zx_node *parser_match(parser *p, zx_match_form form);
static zx_node *parser_enum(parser *p);
static zx_node *parser_colon_block(parser *p);
static unsigned parser_line_indent(const parser *p, size_t i);

/* ---------- errors ---------- */

static void parser_vfail(parser *p, zx_pos pos, const char *fmt, va_list ap)
{
    if (p->failed) return;
    p->failed = true;
    char msg[256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (p->err && p->errsz)
        snprintf(p->err, p->errsz, "%s:%u:%u: error: %s", p->file, pos.line, pos.col, msg);
}

static void parser_fail(parser *p, zx_pos pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void parser_fail(parser *p, zx_pos pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    parser_vfail(p, pos, fmt, ap);
    va_end(ap);
}

/* An error at token t; at the lexer's error token its own message wins, being the first. */
static void parser_fail_at(parser *p, const lexer_token *t, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void parser_fail_at(parser *p, const lexer_token *t, const char *fmt, ...)
{
    if (t->kind == TK_ERROR) {
        parser_fail(p, t->pos, "%s", p->lexerr);
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    parser_vfail(p, t->pos, fmt, ap);
    va_end(ap);
}

static const char *parser_describe(const parser *p, const lexer_token *t, char *buf, size_t bufsz)
{
    if (t->kind == TK_INT || t->kind == TK_FLOAT || t->kind == TK_NAME) {
        size_t n = t->len;
        snprintf(buf, bufsz, "'%.*s%s'", (int)(n > 40 ? 40 : n), p->src + t->start, n > 40 ? "..." : "");
    } else if (t->kind == TK_EOF || t->kind == TK_NEWLINE || t->kind == TK_STRING) {
        snprintf(buf, bufsz, "%s", lexer_kind_text(t->kind));
    } else {
        snprintf(buf, bufsz, "'%s'", lexer_kind_text(t->kind));
    }
    return buf;
}

static void parser_unexpected(parser *p, const lexer_token *t)
{
    char d[64];
    parser_fail_at(p, t, "unexpected %s", parser_describe(p, t, d, sizeof d));
}

static void parser_expected(parser *p, const lexer_token *t, const char *what)
{
    char d[64];
    parser_fail_at(p, t, "expected %s, found %s", what, parser_describe(p, t, d, sizeof d));
}

static void parser_oom(parser *p)
{
    parser_fail(p, p->tok[p->i].pos, "out of memory");
}

/* ---------- tokens ---------- */

static lexer_token *parser_peek(parser *p)
{
    if (p->skip_nl)
        while (p->tok[p->i].kind == TK_NEWLINE) p->i++;
    return &p->tok[p->i];
}

static void parser_advance(parser *p)
{
    lexer_kind k = p->tok[p->i].kind;
    if (k != TK_EOF && k != TK_ERROR) p->i++;
}

static bool parser_at(parser *p, lexer_kind k) { return parser_peek(p)->kind == k; }

static bool parser_accept(parser *p, lexer_kind k)
{
    if (!parser_at(p, k)) return false;
    parser_advance(p);
    return true;
}

static void parser_skip_newlines(parser *p)
{
    while (p->tok[p->i].kind == TK_NEWLINE) p->i++;
}

/* Where a simple statement may end: the terminator itself is left for parser_end. */
static bool parser_at_end(parser *p)
{
    lexer_kind k = parser_peek(p)->kind;
    return k == TK_SEMI || k == TK_NEWLINE || k == TK_RBRACE || k == TK_EOF;
}

static bool parser_end(parser *p)
{
    lexer_token *t = parser_peek(p);
    if (t->kind == TK_SEMI || t->kind == TK_NEWLINE) {
        parser_advance(p);
        return true;
    }
    if (t->kind == TK_RBRACE || t->kind == TK_EOF) return true;
    parser_unexpected(p, t);
    return false;
}

/* Consume the closing bracket of one opened at `open`. */
static bool parser_close(parser *p, lexer_kind close, const char *what, zx_pos open)
{
    lexer_token *t = parser_peek(p);
    if (t->kind == close) {
        parser_advance(p);
        return true;
    }
    parser_fail_at(p, t, "expected '%s' to close the %s opened at %u:%u", lexer_kind_text(close),
                   what, open.line, open.col);
    return false;
}

static bool parser_enter(parser *p)
{
    if (p->depth >= PARSER_MAX_DEPTH) {
        parser_fail(p, p->tok[p->i].pos, "nesting too deep");
        return false;
    }
    p->depth++;
    return true;
}

/* ---------- nodes ---------- */

void zx_ast_free(zx_node *n)
{
    if (!n) return;
    zx_ast_free(n->a);
    zx_ast_free(n->b);
    zx_ast_free(n->c);
    for (size_t k = 0; k < n->n; k++) zx_ast_free(n->items[k]);
    free(n->items);
    for (size_t k = 0; k < n->nparams; k++) free(n->params[k]);
    free(n->params);
    free(n->str);
    free(n->name);
    free(n->name2);
    free(n);
}

static zx_node *parser_new(parser *p, zx_node_kind kind, zx_pos pos)
{
    zx_node *n = calloc(1, sizeof *n);
    if (!n) {
        parser_oom(p);
        return NULL;
    }
    n->kind = kind;
    n->pos = pos;
    return n;
}

static char *parser_strndup(parser *p, const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) {
        parser_oom(p);
        return NULL;
    }
    if (n) memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static char *parser_token_name(parser *p, const lexer_token *t)
{
    return parser_strndup(p, p->src + t->start, t->len);
}

/* Take x into the vector; on failure x is freed. */
static bool parser_vec_push(parser *p, parser_vec *v, zx_node *x)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        zx_node **nv = realloc(v->v, cap * sizeof *nv);
        if (!nv) {
            zx_ast_free(x);
            parser_oom(p);
            return false;
        }
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = x;
    return true;
}

static void parser_vec_free(parser_vec *v)
{
    for (size_t k = 0; k < v->n; k++) zx_ast_free(v->v[k]);
    free(v->v);
    *v = (parser_vec){ 0 };
}

static void parser_vec_give(parser_vec *v, zx_node *to)
{
    to->items = v->v;
    to->n = v->n;
    *v = (parser_vec){ 0 };
}

static void parser_names_free(parser_names *v)
{
    for (size_t k = 0; k < v->n; k++) free(v->v[k]);
    free(v->v);
    *v = (parser_names){ 0 };
}

/* `parallel_map` is a builtin that compiles to its own opcode; it may not be rebound. */
static bool parser_check_name(parser *p, const char *name, zx_pos pos)
{
    if (strcmp(name, "parallel_map") == 0) {
        parser_fail(p, pos, "'parallel_map' is a reserved name");
        return false;
    }
    return true;
}

/* A declared name (variable, parameter, action): a TK_NAME token, not parallel_map. */
static char *parser_decl_name(parser *p, const char *what)
{
    lexer_token *t = parser_peek(p);
    if (t->kind != TK_NAME) {
        parser_expected(p, t, what);
        return NULL;
    }
    char *name = parser_token_name(p, t);
    if (!name) return NULL;
    if (!parser_check_name(p, name, t->pos)) {
        free(name);
        return NULL;
    }
    parser_advance(p);
    return name;
}

/* A type at token j: NAME [< type, ... >] ([])* [?] (`null` and `function` count as names),
 * or a tuple (type, ...).
 * Returns the index after it, or 0 if none starts at j.  Token lookahead only. */
static size_t parser_skip_type(const lexer_token *t, size_t j, int depth)
{
    if (depth > 32) return 0;
    if (t[j].kind == TK_LPAREN) {   /* a tuple of types: -> (float, Matrix) */
        j++;
        for (;;) {
            if (!(j = parser_skip_type(t, j, depth + 1))) return 0;
            if (t[j].kind == TK_RPAREN) return j + 1;
            if (t[j].kind != TK_COMMA) return 0;
            j++;
        }
    }
    if (t[j].kind != TK_NAME && t[j].kind != TK_NULL && t[j].kind != TK_FUNCTION && t[j].kind != TK_ACTION)
        return 0;
    j++;
    if (t[j].kind == TK_LT) {
        j++;
        for (;;) {
            if (!(j = parser_skip_type(t, j, depth + 1))) return 0;
            if (t[j].kind == TK_GT) break;
            if (t[j].kind != TK_COMMA) return 0;
            j++;
        }
        j++;
    }
    while (t[j].kind == TK_LBRACKET && t[j + 1].kind == TK_RBRACKET) j += 2;
    if (t[j].kind == TK_QUESTION) j++;
    return j;
}

/* `: type` after a name, `-> type` after parameters: accepted and ignored
 * (LANGUAGE-FACTS.md "Syntax"), generics included: `Map<string, List<integer>>`. */
static bool parser_type(parser *p)
{
    lexer_token *t = parser_peek(p);
    size_t j = parser_skip_type(p->tok, p->i, 0);
    if (!j) {
        parser_expected(p, t, "a type name");
        return false;
    }
    p->i = j;
    return true;
}

/* ---------- expressions ---------- */

/* Arguments `( e, e, ... )` into call->items; trailing comma allowed. */
static bool parser_args(parser *p, zx_node *call)
{
    zx_pos open = parser_peek(p)->pos;
    parser_vec args = { 0 };
    bool saved = p->skip_nl;
    p->skip_nl = true;
    parser_advance(p);
    while (!parser_at(p, TK_RPAREN)) {
        zx_node *e = parser_expr(p);
        if (!e || !parser_vec_push(p, &args, e)) goto fail;
        if (!parser_accept(p, TK_COMMA)) break;
    }
    if (!parser_close(p, TK_RPAREN, "'('", open)) goto fail;
    p->skip_nl = saved;
    parser_vec_give(&args, call);
    return true;
fail:
    p->skip_nl = saved;
    parser_vec_free(&args);
    return false;
}

/* Parameters `( a, b: type, ... )`; distinct names. */
static bool parser_params(parser *p, parser_names *out)
{
    zx_pos open = parser_peek(p)->pos;
    bool saved = p->skip_nl;
    p->skip_nl = true;
    parser_advance(p);
    while (!parser_at(p, TK_RPAREN)) {
        zx_pos pos = parser_peek(p)->pos;
        char *name = parser_decl_name(p, "a parameter name");
        if (!name) goto fail;
        for (size_t k = 0; k < out->n; k++) {
            if (strcmp(out->v[k], name) == 0) {
                parser_fail(p, pos, "duplicate parameter '%s'", name);
                free(name);
                goto fail;
            }
        }
        if (!parser_add_name(p, out, name)) goto fail;
        if (parser_accept(p, TK_COLON) && !parser_type(p)) goto fail;
        if (!parser_accept(p, TK_COMMA)) break;
    }
    if (!parser_close(p, TK_RPAREN, "'('", open)) goto fail;
    p->skip_nl = saved;
    return true;
fail:
    p->skip_nl = saved;
    return false;
}

/* At '(': does a parameter list and `=>` follow?  Token lookahead only, no nodes. */
static bool parser_is_lambda(parser *p)
{
    const lexer_token *t = p->tok;
    size_t j = p->i + 1;
#define PARSER_SKIP_NL() while (t[j].kind == TK_NEWLINE) j++
    PARSER_SKIP_NL();
    while (t[j].kind != TK_RPAREN) {
        if (t[j].kind != TK_NAME) return false;
        j++;
        PARSER_SKIP_NL();
        if (t[j].kind == TK_COLON) {
            j++;
            PARSER_SKIP_NL();
            if (!(j = parser_skip_type(t, j, 0))) return false;
            PARSER_SKIP_NL();
        }
        if (t[j].kind == TK_COMMA) {
            j++;
            PARSER_SKIP_NL();
        } else if (t[j].kind != TK_RPAREN) {
            return false;
        }
    }
    j++;
    if (p->skip_nl) PARSER_SKIP_NL();
#undef PARSER_SKIP_NL
    return t[j].kind == TK_ARROW;
}

/* The body of a lambda or anonymous function: a block (when `{` comes, or must) or one
 * expression, parsed as a function body (return allowed, no loops open). */
static bool parser_fn_body(parser *p, zx_node *n, bool block_only)
{
    parser_skip_newlines(p);
    parser_fn saved = p->fn;
    p->fn = (parser_fn){ .in_action = true };
    if (block_only || parser_at(p, TK_LBRACE)) n->b = parser_block(p);
    else n->a = parser_expr(p);
    p->fn = saved;
    return n->a || n->b;
}

static bool parser_add_name(parser *p, parser_names *out, char *name)
{
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 4;
        char **nv = realloc(out->v, cap * sizeof *nv);
        if (!nv) {
            free(name);
            parser_oom(p);
            return false;
        }
        out->v = nv;
        out->cap = cap;
    }
    out->v[out->n++] = name;
    return true;
}

/* x => e: one parameter without parentheses (at the name, an `=>` after it). */
static zx_node *parser_arrow1(parser *p)
{
    zx_node *n = parser_new(p, N_LAMBDA, parser_peek(p)->pos);
    if (!n) return NULL;
    char *name = parser_decl_name(p, "a parameter name");
    if (!name || !(n->params = malloc(sizeof *n->params))) {
        free(name);
        if (name) parser_oom(p);
        zx_ast_free(n);
        return NULL;
    }
    n->params[0] = name;
    n->nparams = 1;
    parser_advance(p);   /* => */
    if (!parser_fn_body(p, n, false)) {
        zx_ast_free(n);
        return NULL;
    }
    return n;
}

/* `lambda(a, b) => e`, `lambda(a, b) { }`, `lambda(a): e`, `lambda a, b: e`, `lambda: e`,
 * `lambda a => e` (at the word `lambda`, followed by `(`, a name or `:`). */
static zx_node *parser_lambda_word(parser *p)
{
    parser_names params = { 0 };
    zx_node *n = parser_new(p, N_LAMBDA, parser_peek(p)->pos);
    if (!n) return NULL;
    parser_advance(p);
    if (parser_at(p, TK_LPAREN)) {
        if (!parser_params(p, &params)) goto fail;
    } else {
        while (parser_at(p, TK_NAME)) {
            zx_pos pos = parser_peek(p)->pos;
            char *name = parser_decl_name(p, "a parameter name");
            if (!name) goto fail;
            for (size_t k = 0; k < params.n; k++) {
                if (strcmp(params.v[k], name) == 0) {
                    parser_fail(p, pos, "duplicate parameter '%s'", name);
                    free(name);
                    goto fail;
                }
            }
            if (!parser_add_name(p, &params, name)) goto fail;
            if (!parser_accept(p, TK_COMMA)) break;
        }
    }
    n->params = params.v;
    n->nparams = params.n;
    params = (parser_names){ 0 };
    if (parser_at(p, TK_LBRACE)) {
        if (!parser_fn_body(p, n, true)) goto fail;
    } else if (parser_accept(p, TK_ARROW) || parser_accept(p, TK_COLON)) {
        if (!parser_fn_body(p, n, false)) goto fail;
    } else {
        parser_expected(p, parser_peek(p), "'=>', ':' or '{' after the lambda's parameters");
        goto fail;
    }
    return n;
fail:
    parser_names_free(&params);
    zx_ast_free(n);
    return NULL;
}

/* An anonymous `function(a, b) { }` or `action(a, b) { }` (a name after the word is allowed
 * and ignored: the value is what counts). */
static zx_node *parser_fn_expr(parser *p)
{
    parser_names params = { 0 };
    zx_node *n = parser_new(p, N_LAMBDA, parser_peek(p)->pos);
    if (!n) return NULL;
    parser_advance(p);
    if (parser_at(p, TK_NAME)) parser_advance(p);
    if (parser_at(p, TK_LPAREN) && !parser_params(p, &params)) goto fail;
    n->params = params.v;
    n->nparams = params.n;
    params = (parser_names){ 0 };
    if (parser_accept(p, TK_THIN_ARROW) && !parser_type(p)) goto fail;
    if (!parser_fn_body(p, n, true)) goto fail;
    return n;
fail:
    parser_names_free(&params);
    zx_ast_free(n);
    return NULL;
}

/* "text ${e} text": at TK_ISTR_BEGIN; the expressions' tokens lie between the text tokens. */
static zx_node *parser_interp(parser *p)
{
    lexer_token *t = parser_peek(p);
    zx_pos open = t->pos;
    parser_vec items = { 0 };
    zx_node *n = NULL;
    if (!parser_enter(p)) return NULL;
    bool saved = p->skip_nl;
    for (;;) {
        zx_node *txt = parser_new(p, N_STRING, t->pos);
        if (!txt) goto fail;
        txt->slen = t->slen;
        if (!(txt->str = parser_strndup(p, t->str, t->slen))) {
            zx_ast_free(txt);
            goto fail;
        }
        if (!parser_vec_push(p, &items, txt)) goto fail;
        if (t->kind == TK_ISTR_END) break;
        zx_pos dollar = t->dollar;
        parser_advance(p);
        p->skip_nl = true;
        zx_node *e = parser_expr(p);
        if (!e || !parser_vec_push(p, &items, e)) goto fail;
        t = parser_peek(p);
        p->skip_nl = saved;
        if (t->kind != TK_ISTR_MID && t->kind != TK_ISTR_END) {
            char d[64];
            parser_fail_at(p, t, "expected '}' to close the '${' at %u:%u, found %s", dollar.line,
                           dollar.col, parser_describe(p, t, d, sizeof d));
            goto fail;
        }
    }
    parser_advance(p);
    if (!(n = parser_new(p, N_INTERP, open))) goto fail;
    p->skip_nl = saved;
    p->depth--;
    parser_vec_give(&items, n);
    return n;
fail:
    p->skip_nl = saved;
    p->depth--;
    parser_vec_free(&items);
    return NULL;
}

/* (params) => expr   or   (params) => { block } */
static zx_node *parser_lambda(parser *p)
{
    parser_names params = { 0 };
    zx_node *n = parser_new(p, N_LAMBDA, parser_peek(p)->pos);
    if (!n || !parser_params(p, &params)) goto fail;
    n->params = params.v;
    n->nparams = params.n;
    params = (parser_names){ 0 };
    if (!parser_accept(p, TK_ARROW)) {
        parser_expected(p, parser_peek(p), "'=>'");
        goto fail;
    }
    if (!parser_fn_body(p, n, false)) goto fail;
    return n;
fail:
    parser_names_free(&params);
    zx_ast_free(n);
    return NULL;
}

static zx_node *parser_list(parser *p)
{
    zx_pos open = parser_peek(p)->pos;
    parser_vec items = { 0 };
    zx_node *n = NULL;
    bool saved = p->skip_nl;
    p->skip_nl = true;
    parser_advance(p);
    while (!parser_at(p, TK_RBRACKET)) {
        zx_node *e = parser_expr(p);
        if (!e || !parser_vec_push(p, &items, e)) goto fail;
        if (!parser_accept(p, TK_COMMA)) break;
    }
    if (!parser_close(p, TK_RBRACKET, "'['", open)) goto fail;
    if (!(n = parser_new(p, N_LIST, open))) goto fail;
    p->skip_nl = saved;
    parser_vec_give(&items, n);
    return n;
fail:
    p->skip_nl = saved;
    parser_vec_free(&items);
    return NULL;
}

/* A map key: a string, a number (optionally negative), true/false, or a bare name or
 * reserved word other than null (a string). */
static zx_node *parser_map_key(parser *p)
{
    lexer_token *t = parser_peek(p);
    zx_pos pos = t->pos;
    bool neg = false;
    if (t->kind == TK_MINUS && (t[1].kind == TK_INT || t[1].kind == TK_FLOAT)) {
        neg = true;
        parser_advance(p);
        t = parser_peek(p);
    }
    zx_node *k = NULL;
    if (t->kind == TK_INT) {
        if ((k = parser_new(p, N_INT, pos))) k->ival = neg ? -t->ival : t->ival;
    } else if (t->kind == TK_FLOAT) {
        if ((k = parser_new(p, N_FLOAT, pos))) k->fval = neg ? -t->fval : t->fval;
    } else if (t->kind == TK_STRING || t->kind == TK_NAME) {
        if ((k = parser_new(p, N_STRING, pos))) {
            k->str = t->kind == TK_STRING ? parser_strndup(p, t->str, t->slen) : parser_token_name(p, t);
            k->slen = t->kind == TK_STRING ? t->slen : t->len;
            if (!k->str) {
                zx_ast_free(k);
                k = NULL;
            }
        }
    } else if (t->kind == TK_TRUE || t->kind == TK_FALSE) {
        if ((k = parser_new(p, N_BOOL, pos))) k->ival = t->kind == TK_TRUE;
    } else if (!neg && lexer_is_keyword(t->kind) && t->kind != TK_NULL) {   /* {action: f}: the word */
        if ((k = parser_new(p, N_STRING, pos)) && !(k->str = parser_token_name(p, t))) {
            zx_ast_free(k);
            k = NULL;
        } else if (k) {
            k->slen = t->len;
        }
    } else {
        parser_expected(p, t, "a map key");
        return NULL;
    }
    if (k) parser_advance(p);
    return k;
}

static zx_node *parser_map(parser *p)
{
    zx_pos open = parser_peek(p)->pos;
    parser_vec items = { 0 };
    zx_node *n = NULL;
    bool saved = p->skip_nl;
    p->skip_nl = true;
    parser_advance(p);
    while (!parser_at(p, TK_RBRACE)) {
        zx_node *k = parser_map_key(p);
        if (!k || !parser_vec_push(p, &items, k)) goto fail;
        if (!parser_accept(p, TK_COLON)) {
            parser_expected(p, parser_peek(p), "':' after the map key");
            goto fail;
        }
        zx_node *v = parser_expr(p);
        if (!v || !parser_vec_push(p, &items, v)) goto fail;
        if (!parser_accept(p, TK_COMMA)) break;
    }
    if (!parser_close(p, TK_RBRACE, "'{'", open)) goto fail;
    if (!(n = parser_new(p, N_MAP, open))) goto fail;
    p->skip_nl = saved;
    parser_vec_give(&items, n);
    return n;
fail:
    p->skip_nl = saved;
    parser_vec_free(&items);
    return NULL;
}

static zx_node *parser_paren(parser *p)
{
    zx_pos open = parser_peek(p)->pos;
    bool saved = p->skip_nl;
    p->skip_nl = true;
    parser_advance(p);
    zx_node *e = parser_expr(p);
    if (e && !parser_close(p, TK_RPAREN, "'('", open)) {
        zx_ast_free(e);
        e = NULL;
    }
    p->skip_nl = saved;
    return e;
}

static zx_node *parser_primary(parser *p)
{
    lexer_token *t = parser_peek(p);
    zx_node *n = NULL;
    switch ((int)t->kind) {   /* a few of the many token kinds: the rest are errors */
    case TK_INT:
        if ((n = parser_new(p, N_INT, t->pos))) n->ival = t->ival;
        break;
    case TK_FLOAT:
        if ((n = parser_new(p, N_FLOAT, t->pos))) n->fval = t->fval;
        break;
    case TK_STRING:
        if ((n = parser_new(p, N_STRING, t->pos))) {
            n->slen = t->slen;
            if (!(n->str = parser_strndup(p, t->str, t->slen))) {
                zx_ast_free(n);
                return NULL;
            }
        }
        break;
    case TK_TRUE: case TK_FALSE:
        if ((n = parser_new(p, N_BOOL, t->pos))) n->ival = t->kind == TK_TRUE;
        break;
    case TK_NULL:
        n = parser_new(p, N_NULL, t->pos);
        break;
    case TK_JOIN:   /* join(xs, sep): the builtin (the word closes fork blocks elsewhere) */
        if (t[1].kind != TK_LPAREN) {
            parser_unexpected(p, t);
            return NULL;
        }
        if ((n = parser_new(p, N_NAME, t->pos)) && !(n->name = parser_token_name(p, t))) {
            zx_ast_free(n);
            return NULL;
        }
        break;
    case TK_ISTR_BEGIN:
        return parser_interp(p);
    case TK_ACTION: case TK_FUNCTION:
        return parser_fn_expr(p);
    case TK_NAME:
        if (parser_starts_match(p, "match")) return parser_match(p, ZX_MATCH_EXPR);
        if (t[1].kind == TK_ARROW) return parser_arrow1(p);
        if (parser_is_named_new(p, t)) return parser_named_new(p);
        if (t->len == 6 && memcmp(p->src + t->start, "lambda", 6) == 0 &&
            (t[1].kind == TK_LPAREN || t[1].kind == TK_NAME || t[1].kind == TK_COLON))
            return parser_lambda_word(p);
        /* fall through */
    case TK_PRINT:   /* `print` in an expression is the builtin, a value */
        if ((n = parser_new(p, N_NAME, t->pos)) && !(n->name = parser_token_name(p, t))) {
            zx_ast_free(n);
            return NULL;
        }
        break;
    case TK_LPAREN:   /* the brackets count their depth in the parser_expr inside them */
        return parser_is_lambda(p) ? parser_lambda(p) : parser_paren(p);
    case TK_LBRACKET:
        return parser_list(p);
    case TK_LBRACE:
        return parser_map(p);
    default:
        parser_unexpected(p, t);
        return NULL;
    }
    if (n) parser_advance(p);
    return n;
}

/* Calls f(x), indexing a[i], members m.k and method calls m.k(x), chained left to right. */
static zx_node *parser_postfix(parser *p)
{
    zx_node *n = parser_primary(p);
    int chain = 0;
    while (n) {
        lexer_token *t = parser_peek(p);
        if (t->kind != TK_LPAREN && t->kind != TK_LBRACKET && t->kind != TK_DOT) break;
        if (!parser_enter(p)) goto fail;
        chain++;
        if (t->kind == TK_LPAREN) {
            zx_node *call = parser_new(p, N_CALL, n->pos);
            if (!call) goto fail;
            call->a = n;
            n = call;
            if (!parser_args(p, call)) goto fail;
        } else if (t->kind == TK_LBRACKET) {
            zx_pos open = t->pos;
            zx_node *ix = parser_new(p, N_INDEX, open);
            if (!ix) goto fail;
            ix->a = n;
            n = ix;
            bool saved = p->skip_nl;
            p->skip_nl = true;
            parser_advance(p);
            bool ok = parser_at(p, TK_COLON) || (ix->b = parser_expr(p));
            if (ok && parser_accept(p, TK_COLON)) {   /* a slice a[b:c], either bound optional */
                ix->kind = N_SLICE;
                if (!parser_at(p, TK_RBRACKET)) ok = (ix->c = parser_expr(p)) != NULL;
            }
            ok = ok && parser_close(p, TK_RBRACKET, "'['", open);
            p->skip_nl = saved;
            if (!ok) goto fail;
        } else {
            parser_advance(p);
            t = parser_peek(p);
            if (t->kind != TK_NAME && !lexer_is_keyword(t->kind)) {
                parser_expected(p, t, "a name after '.'");
                goto fail;
            }
            zx_node *m = parser_new(p, N_MEMBER, t->pos);
            if (!m) goto fail;
            m->a = n;
            n = m;
            if (!(m->name = parser_token_name(p, t))) goto fail;
            parser_advance(p);
            if (parser_at(p, TK_LPAREN)) {
                m->kind = N_METHOD_CALL;
                if (!parser_args(p, m)) goto fail;
            }
        }
    }
    p->depth -= chain;
    return n;
fail:
    p->depth -= chain;
    zx_ast_free(n);
    return NULL;
}

/* base ** exponent: right-associative, tighter than unary minus on its left (-2 ** 2 is
 * -(2 ** 2)) but taking a unary on its right (2 ** -1). */
static zx_node *parser_power(parser *p)
{
    zx_node *base = parser_postfix(p);
    if (!base || !parser_at(p, TK_POW)) return base;
    zx_node *n = parser_new(p, N_BINARY, parser_peek(p)->pos);
    if (!n) goto fail;
    n->op = OP_POW;
    n->a = base;
    base = NULL;
    parser_advance(p);
    parser_skip_newlines(p);
    if (!parser_enter(p)) goto fail;
    n->b = parser_unary(p);
    p->depth--;
    if (!n->b) goto fail;
    return n;
fail:
    zx_ast_free(base);
    zx_ast_free(n);
    return NULL;
}

static zx_node *parser_unary(parser *p)
{
    lexer_token *t = parser_peek(p);
    if (t->kind != TK_MINUS && t->kind != TK_BANG && t->kind != TK_NOT) return parser_power(p);
    zx_node *n = parser_new(p, N_UNARY, t->pos);
    if (!n) return NULL;
    n->op = t->kind == TK_MINUS ? OP_NEG : OP_NOT;
    parser_advance(p);
    parser_skip_newlines(p);
    if (!parser_enter(p)) goto fail;
    n->a = parser_unary(p);
    p->depth--;
    if (!n->a) goto fail;
    return n;
fail:
    zx_ast_free(n);
    return NULL;
}

/* Binary operators, lowest to highest: || && (== !=) (< > <= >=) (+ -) (* / %). */
static const struct {
    lexer_kind tok;
    int prec;
    zx_node_kind kind;
    int op;
} parser_binops[] = {
    { TK_OROR, 1, N_OR, 0 },        { TK_ANDAND, 2, N_AND, 0 },
    { TK_OR, 1, N_OR, 0 },          { TK_AND, 2, N_AND, 0 },
    { TK_EQ, 3, N_BINARY, OP_EQ },  { TK_NE, 3, N_BINARY, OP_NEQ },
    { TK_LT, 4, N_BINARY, OP_LT },  { TK_GT, 4, N_BINARY, OP_GT },
    { TK_LE, 4, N_BINARY, OP_LTE }, { TK_GE, 4, N_BINARY, OP_GTE },
    { TK_PLUS, 5, N_BINARY, OP_ADD }, { TK_MINUS, 5, N_BINARY, OP_SUB },
    { TK_STAR, 6, N_BINARY, OP_MUL }, { TK_SLASH, 6, N_BINARY, OP_DIV },
    { TK_PERCENT, 6, N_BINARY, OP_MOD },
};

static int parser_binop(lexer_kind k)
{
    for (int r = 0; r < (int)(sizeof parser_binops / sizeof parser_binops[0]); r++)
        if (parser_binops[r].tok == k) return r;
    return -1;
}

/* Precedence climbing: operators of precedence >= min, left-associative. */
static zx_node *parser_binary(parser *p, int min)
{
    zx_node *left = parser_unary(p);
    int chain = 0;
    while (left) {
        lexer_token *t = parser_peek(p);
        int r = parser_binop(t->kind);
        if (r < 0 || parser_binops[r].prec < min) break;
        zx_node *n = parser_new(p, parser_binops[r].kind, t->pos);
        if (!n) goto fail;
        n->op = parser_binops[r].op;
        n->a = left;
        left = n;
        parser_advance(p);
        parser_skip_newlines(p);
        if (!parser_enter(p)) goto fail;
        chain++;
        if (!(n->b = parser_binary(p, parser_binops[r].prec + 1))) goto fail;
    }
    p->depth -= chain;
    return left;
fail:
    p->depth -= chain;
    zx_ast_free(left);
    return NULL;
}

/* The lowest level: c ? a : b (right-associative) and a ?? b, which share a precedence. */
static zx_node *parser_expr(parser *p)
{
    if (!parser_enter(p)) return NULL;
    zx_node *left = parser_binary(p, 1);
    int chain = 0;
    while (left) {
        lexer_token *t = parser_peek(p);
        if (t->kind == TK_QQ) {
            zx_node *n = parser_new(p, N_NULLISH, t->pos);
            if (!n) goto fail;
            n->a = left;
            left = n;
            parser_advance(p);
            parser_skip_newlines(p);
            if (!parser_enter(p)) goto fail;
            chain++;
            if (!(n->b = parser_binary(p, 1))) goto fail;
        } else if (t->kind == TK_QUESTION) {
            zx_node *n = parser_new(p, N_TERNARY, t->pos);
            if (!n) goto fail;
            n->a = left;
            left = n;
            parser_advance(p);
            parser_skip_newlines(p);
            if (!(n->b = parser_expr(p))) goto fail;
            if (!parser_accept(p, TK_COLON)) {
                parser_expected(p, parser_peek(p), "':' in the conditional expression");
                goto fail;
            }
            parser_skip_newlines(p);
            if (!(n->c = parser_expr(p))) goto fail;
            break;   /* the else branch took everything after it */
        } else {
            break;
        }
    }
    p->depth -= chain + 1;
    return left;
fail:
    p->depth -= chain + 1;
    zx_ast_free(left);
    return NULL;
}

/* ---------- statements ---------- */

/* { statements }; newlines end statements again inside, whatever surrounds the block. */
static zx_node *parser_block(parser *p)
{
    if (parser_at(p, TK_COLON)) return parser_colon_block(p);
    if (!p->skip_nl) parser_skip_newlines(p);   /* a brace on the next line */
    lexer_token *t = parser_peek(p);
    if (t->kind != TK_LBRACE) {
        parser_expected(p, t, "'{'");
        return NULL;
    }
    zx_pos open = t->pos;
    if (!parser_enter(p)) return NULL;
    parser_vec items = { 0 };
    zx_node *n = NULL;
    bool saved = p->skip_nl;
    p->skip_nl = false;
    parser_advance(p);
    for (;;) {
        while (parser_at(p, TK_NEWLINE) || parser_at(p, TK_SEMI)) parser_advance(p);
        t = parser_peek(p);
        if (t->kind == TK_RBRACE) break;
        if (t->kind == TK_EOF || t->kind == TK_ERROR) {
            parser_fail_at(p, t, "expected '}' to close the block opened at %u:%u", open.line, open.col);
            goto fail;
        }
        zx_node *s = parser_statement(p);
        if (!s || !parser_vec_push(p, &items, s)) goto fail;
    }
    parser_advance(p);
    if (!(n = parser_new(p, N_BLOCK, open))) goto fail;
    p->skip_nl = saved;
    p->depth--;
    parser_vec_give(&items, n);
    return n;
fail:
    p->skip_nl = saved;
    p->depth--;
    parser_vec_free(&items);
    return NULL;
}

/* NAME [: type] = e, or the reference's older NAME : e (a `:` not followed by a type and `=`). */
static bool parser_let_one(parser *p, zx_node *n)
{
    if (!(n->name = parser_decl_name(p, "a variable name"))) return false;
    bool value_after_colon = false;
    if (parser_accept(p, TK_COLON)) {
        size_t j = parser_skip_type(p->tok, p->i, 0);
        if (j && p->tok[j].kind == TK_ASSIGN) {
            p->i = j;
        } else if (parser_at(p, TK_ASSIGN)) {
            parser_expected(p, parser_peek(p), "a type name");
            return false;
        } else {
            value_after_colon = true;
        }
    }
    if (!value_after_colon && !parser_accept(p, TK_ASSIGN)) {
        parser_expected(p, parser_peek(p), "'='");
        return false;
    }
    parser_skip_newlines(p);
    return (n->a = parser_expr(p)) != NULL;
}

/* let NAME [: type] = e [, NAME = e ...]   const ...   shared let ...   var ... (as let).
 * Several names give an N_BLOCK of N_LETs, run in order (a later value may use an earlier
 * name); a block opens no scope. */
static zx_node *parser_let(parser *p)
{
    lexer_token *t = parser_peek(p);
    zx_pos pos = t->pos;
    bool is_const = t->kind == TK_CONST, is_shared = t->kind == TK_SHARED;
    parser_vec lets = { 0 };
    zx_node *n = NULL;
    parser_advance(p);
    if (is_shared && !parser_accept(p, TK_LET)) {
        parser_expected(p, parser_peek(p), "'let' after 'shared'");
        return NULL;
    }
    for (;;) {
        if (!(n = parser_new(p, N_LET, pos))) goto fail;
        n->is_const = is_const;
        n->is_shared = is_shared;
        if (!parser_let_one(p, n)) goto fail;
        if (!parser_vec_push(p, &lets, n)) {
            n = NULL;
            goto fail;
        }
        n = NULL;
        if (!parser_accept(p, TK_COMMA)) break;
        parser_skip_newlines(p);
        pos = parser_peek(p)->pos;
    }
    if (lets.n == 1) {
        n = lets.v[0];
        free(lets.v);
        return n;
    }
    if (!(n = parser_new(p, N_BLOCK, lets.v[0]->pos))) goto fail;
    parser_vec_give(&lets, n);
    return n;
fail:
    zx_ast_free(n);
    parser_vec_free(&lets);
    return NULL;
}

static const struct { lexer_kind tok; int op; } parser_assign_ops[] = {
    { TK_ASSIGN, 0 }, { TK_PLUS_EQ, OP_ADD }, { TK_MINUS_EQ, OP_SUB }, { TK_STAR_EQ, OP_MUL },
    { TK_SLASH_EQ, OP_DIV }, { TK_PERCENT_EQ, OP_MOD }, { TK_POW_EQ, OP_POW },
};

/* An expression statement, or an assignment `target op= e` to a name, xs[i] or m.k. */
static zx_node *parser_simple(parser *p)
{
    zx_pos start = parser_peek(p)->pos;
    zx_node *e = parser_expr(p), *n = NULL;
    if (!e) return NULL;
    lexer_token *t = parser_peek(p);
    int r = -1;
    for (int k = 0; k < (int)(sizeof parser_assign_ops / sizeof parser_assign_ops[0]); k++)
        if (parser_assign_ops[k].tok == t->kind) r = k;
    if (r < 0) {
        if (!(n = parser_new(p, N_EXPR_STMT, start))) goto fail;
        n->a = e;
        return n;
    }
    if (e->kind != N_NAME && e->kind != N_INDEX && e->kind != N_MEMBER) {
        parser_fail(p, t->pos, "invalid assignment target");
        goto fail;
    }
    if (e->kind == N_NAME && !parser_check_name(p, e->name, e->pos)) goto fail;
    int op = parser_assign_ops[r].op;
    if (!(n = parser_new(p, N_ASSIGN, op ? t->pos : start))) goto fail;
    n->op = op;
    n->a = e;
    e = NULL;
    parser_advance(p);
    parser_skip_newlines(p);
    if (!(n->b = parser_expr(p))) goto fail;
    return n;
fail:
    zx_ast_free(e);
    zx_ast_free(n);
    return NULL;
}

/* The argument-list form of print and assert, `print(a, b)`: at '(' (not a lambda's), parse
 * the list into n->items.  1: taken, the statement ends after it; 0: nothing consumed, because
 * one item is followed by more expression, as in `print (a + b) * 2`; -1: an error. */
static int parser_keyword_args(parser *p, zx_node *n)
{
    if (!parser_at(p, TK_LPAREN) || parser_is_lambda(p)) return 0;
    size_t save = p->i;
    if (!parser_args(p, n)) return -1;
    if (parser_at_end(p)) return 1;
    if (n->n != 1) {
        parser_unexpected(p, parser_peek(p));
        return -1;
    }
    zx_ast_free(n->items[0]);
    free(n->items);
    n->items = NULL;
    n->n = 0;
    p->i = save;
    return 0;
}

/* print e | print(a, b, ...) | print() | print */
static zx_node *parser_print(parser *p)
{
    zx_node *n = parser_new(p, N_PRINT, parser_peek(p)->pos);
    if (!n) return NULL;
    parser_advance(p);
    if (parser_at_end(p)) return n;
    int r = parser_keyword_args(p, n);
    if (r < 0) goto fail;
    if (r > 0) return n;
    zx_node *e = parser_expr(p);
    if (!e) goto fail;
    if (!(n->items = malloc(sizeof *n->items))) {
        zx_ast_free(e);
        parser_oom(p);
        goto fail;
    }
    n->items[0] = e;
    n->n = 1;
    return n;
fail:
    zx_ast_free(n);
    return NULL;
}

static zx_node *parser_return(parser *p)
{
    lexer_token *t = parser_peek(p);
    if (p->fn.in_fork) {
        parser_fail(p, t->pos, "'return' cannot leave a fork block");
        return NULL;
    }
    if (p->fn.in_arm) {
        parser_fail(p, t->pos, "'return' cannot leave a match arm that binds a name");
        return NULL;
    }
    if (!p->fn.in_action) {
        parser_fail(p, t->pos, "'return' outside an action");
        return NULL;
    }
    zx_node *n = parser_new(p, N_RETURN, t->pos);
    if (!n) return NULL;
    parser_advance(p);
    if (!parser_at_end(p) && !(n->a = parser_expr(p))) {
        zx_ast_free(n);
        return NULL;
    }
    return n;
}

static zx_node *parser_jump(parser *p)
{
    lexer_token *t = parser_peek(p);
    const char *word = lexer_kind_text(t->kind);
    if (p->fn.loops == 0) {
        if (p->fn.in_arm) parser_fail(p, t->pos, "'%s' cannot leave a match arm that binds a name", word);
        else if (p->fn.in_fork) parser_fail(p, t->pos, "'%s' cannot leave a fork block", word);
        else parser_fail(p, t->pos, "'%s' outside a loop", word);
        return NULL;
    }
    zx_node *n = parser_new(p, t->kind == TK_BREAK ? N_BREAK : N_CONTINUE, t->pos);
    if (n) parser_advance(p);
    return n;
}

/* assert c | assert c, message | assert(c) | assert(c, message) */
static zx_node *parser_assert(parser *p)
{
    zx_node *n = parser_new(p, N_ASSERT, parser_peek(p)->pos);
    if (!n) return NULL;
    parser_advance(p);
    zx_pos open = parser_peek(p)->pos;
    int r = parser_keyword_args(p, n);
    if (r < 0) goto fail;
    if (r > 0) {
        if (n->n == 0 || n->n > 2) {
            parser_fail(p, open, "assert takes a condition and an optional message");
            goto fail;
        }
        n->a = n->items[0];
        n->b = n->n == 2 ? n->items[1] : NULL;
        free(n->items);
        n->items = NULL;
        n->n = 0;
        return n;
    }
    if (!(n->a = parser_expr(p))) goto fail;
    if (parser_accept(p, TK_COMMA)) {
        parser_skip_newlines(p);
        if (!(n->b = parser_expr(p))) goto fail;
    }
    return n;
fail:
    zx_ast_free(n);
    return NULL;
}

static zx_node *parser_barrier(parser *p)
{
    lexer_token *t = parser_peek(p);
    if (p->fn.in_fork) {
        parser_fail(p, t->pos, "'barrier' inside a fork block");
        return NULL;
    }
    zx_node *n = parser_new(p, N_BARRIER, t->pos);
    if (n) parser_advance(p);
    return n;
}

/* if c { } elif c { } else if c { } else { }: each elif / else-if is an N_IF in c. */
static zx_node *parser_if(parser *p)
{
    zx_node *root = NULL, **slot = &root;
    int chain = 0;
    for (;;) {
        zx_node *n = parser_new(p, N_IF, parser_peek(p)->pos);
        if (!n) goto fail;
        *slot = n;
        slot = &n->c;
        size_t at = p->i;   /* the if's line: only colon blocks read its indentation */
        parser_advance(p);   /* if / elif */
        if (!(n->a = parser_expr(p))) goto fail;
        bool colon = parser_at(p, TK_COLON);
        if (!(n->b = parser_block(p))) goto fail;
        size_t save = p->i;
        parser_skip_newlines(p);   /* `}` and `else` may sit on different lines */
        if (colon && (parser_at(p, TK_ELIF) || parser_at(p, TK_ELSE)) &&
            parser_line_indent(p, p->i) != parser_line_indent(p, at)) {   /* an outer if's else */
            p->i = save;
            break;
        }
        if (parser_at(p, TK_ELIF)) {
            if (!parser_enter(p)) goto fail;
            chain++;
            continue;
        }
        if (!parser_accept(p, TK_ELSE)) {
            p->i = save;
            break;
        }
        parser_skip_newlines(p);
        if (parser_at(p, TK_IF)) {
            if (!parser_enter(p)) goto fail;
            chain++;
            continue;
        }
        if (!(*slot = parser_block(p))) goto fail;
        break;
    }
    p->depth -= chain;
    return root;
fail:
    p->depth -= chain;
    zx_ast_free(root);
    return NULL;
}

static zx_node *parser_loop_body(parser *p)
{
    p->fn.loops++;
    zx_node *body = parser_block(p);
    p->fn.loops--;
    return body;
}

static zx_node *parser_while(parser *p)
{
    zx_node *n = parser_new(p, N_WHILE, parser_peek(p)->pos);
    if (!n) return NULL;
    parser_advance(p);
    if (!(n->a = parser_expr(p)) || !(n->b = parser_loop_body(p))) {
        zx_ast_free(n);
        return NULL;
    }
    return n;
}

/* for each v in xs { }   for each i, v in xs { }   (`each` may be left out) */
static zx_node *parser_for(parser *p)
{
    zx_node *n = parser_new(p, N_FOR_EACH, parser_peek(p)->pos);
    if (!n) return NULL;
    parser_advance(p);
    parser_accept(p, TK_EACH);   /* `for x in xs` is `for each x in xs` */
    if (!(n->name = parser_decl_name(p, "a loop variable name"))) goto fail;
    if (parser_accept(p, TK_COMMA)) {
        zx_pos pos = parser_peek(p)->pos;
        if (!(n->name2 = parser_decl_name(p, "a loop variable name"))) goto fail;
        if (strcmp(n->name, n->name2) == 0) {
            parser_fail(p, pos, "duplicate loop variable '%s'", n->name2);
            goto fail;
        }
    }
    if (!parser_accept(p, TK_IN)) {
        parser_expected(p, parser_peek(p), "'in'");
        goto fail;
    }
    if (!(n->a = parser_expr(p)) || !(n->b = parser_loop_body(p))) goto fail;
    return n;
fail:
    zx_ast_free(n);
    return NULL;
}

/* action NAME(params) [-> type] { }  (or `function`; `action NAME { }` takes no parameters) */
static zx_node *parser_action(parser *p)
{
    parser_names params = { 0 };
    zx_node *n = parser_new(p, N_ACTION, parser_peek(p)->pos);
    if (!n) return NULL;
    parser_advance(p);
    if (!(n->name = parser_decl_name(p, "an action name"))) goto fail;
    if (parser_at(p, TK_LPAREN)) {
        if (!parser_params(p, &params)) goto fail;
    } else if (!parser_at(p, TK_LBRACE) && !parser_at(p, TK_THIN_ARROW) &&
               !(parser_at(p, TK_NEWLINE) && p->tok[p->i + 1].kind == TK_LBRACE)) {
        parser_expected(p, parser_peek(p), "'(' or '{' after the action name");
        goto fail;
    }
    n->params = params.v;
    n->nparams = params.n;
    params = (parser_names){ 0 };
    if (parser_accept(p, TK_THIN_ARROW) && !parser_type(p)) goto fail;
    parser_fn saved = p->fn;
    p->fn = (parser_fn){ .in_action = true };
    n->b = parser_block(p);
    p->fn = saved;
    if (!n->b) goto fail;
    return n;
fail:
    parser_names_free(&params);
    zx_ast_free(n);
    return NULL;
}

/* fork { } fork { } ... join: two or more blocks, only newlines or `;` between them. */
static zx_node *parser_fork(parser *p)
{
    zx_pos open = parser_peek(p)->pos;
    parser_vec blocks = { 0 };
    zx_node *n = NULL;
    for (;;) {
        zx_pos pos = parser_peek(p)->pos;
        parser_advance(p);   /* fork */
        parser_fn saved = p->fn;
        p->fn.in_fork = true;
        p->fn.loops = 0;
        zx_node *b = parser_block(p);
        p->fn = saved;
        if (!b) goto fail;
        b->pos = pos;   /* a block's code object is "defined" at its `fork` */
        if (!parser_vec_push(p, &blocks, b)) goto fail;
        while (parser_at(p, TK_NEWLINE) || parser_at(p, TK_SEMI)) parser_advance(p);
        lexer_token *t = parser_peek(p);
        if (t->kind == TK_FORK) continue;
        if (t->kind != TK_JOIN) {
            parser_fail_at(p, t, "expected 'join' to close the fork opened at %u:%u", open.line, open.col);
            goto fail;
        }
        if (blocks.n < 2) {
            parser_fail(p, t->pos, "a fork needs at least two blocks");
            goto fail;
        }
        parser_advance(p);
        break;
    }
    if (!(n = parser_new(p, N_FORK, open))) goto fail;
    parser_vec_give(&blocks, n);
    return n;
fail:
    parser_vec_free(&blocks);
    return NULL;
}

/* The reference's modifier words before `action`/`function` (none changes what the program
 * computes here: docs/language.md).  Contextual: elsewhere they are ordinary names. */
static bool parser_is_modifier(const parser *p, const lexer_token *t)
{
    static const char *const words[] = { "public", "private", "sealed", "async", "native",
                                         "inline", "secure", "pure", "view", "payable", "export" };
    if (t->kind != TK_NAME) return false;
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
        if (strlen(words[k]) == t->len && memcmp(words[k], p->src + t->start, t->len) == 0) return true;
    return false;
}


/* ---------- modules: use, import, export, module and package blocks ---------- */

static bool parser_word(const parser *p, const lexer_token *t, const char *w)
{
    return t->kind == TK_NAME && strlen(w) == t->len && memcmp(w, p->src + t->start, t->len) == 0;
}

/* Which module statement starts at t (contextual words, ordinary names elsewhere): 1 use,
 * 2 import, 3 export, 4 module, 5 package; 0 none. */
static int parser_module_word(const parser *p, const lexer_token *t)
{
    if (t->kind != TK_NAME) return 0;   /* the last token (end of input, an error) has none after it */
    lexer_kind next = t[1].kind;
    if (parser_word(p, t, "use") && (next == TK_STRING || next == TK_LBRACE || next == TK_NAME)) return 1;
    if (parser_word(p, t, "import") && (next == TK_NAME || next == TK_STRING)) return 2;
    if (parser_word(p, t, "export") && next != TK_ASSIGN && next != TK_DOT && next != TK_LPAREN &&
        next != TK_NEWLINE && next != TK_EOF && next != TK_SEMI) return 3;
    if (parser_word(p, t, "module") && next == TK_NAME && t[2].kind == TK_LBRACE) return 4;
    if (parser_word(p, t, "package") && next == TK_NAME) return 5;
    return 0;
}

/* NAME, NAME, ... (in braces when `brace`): into out. */
static bool parser_name_list(parser *p, parser_names *out, bool brace)
{
    zx_pos open = parser_peek(p)->pos;
    bool saved = p->skip_nl;
    if (brace) {
        parser_advance(p);
        p->skip_nl = true;
    }
    for (;;) {
        if (brace && parser_at(p, TK_RBRACE)) break;
        lexer_token *t = parser_peek(p);
        if (t->kind != TK_NAME) {
            parser_expected(p, t, "a name");
            p->skip_nl = saved;
            return false;
        }
        char *name = parser_token_name(p, t);
        if (!name || !parser_add_name(p, out, name)) {
            p->skip_nl = saved;
            return false;
        }
        parser_advance(p);
        if (!parser_accept(p, TK_COMMA)) break;
    }
    p->skip_nl = saved;
    return !brace || parser_close(p, TK_RBRACE, "name list", open);
}

/* A module path: a string, or a bare name (`use blockchain`, `import math`). */
static bool parser_module_path(parser *p, zx_node *n)
{
    lexer_token *t = parser_peek(p);
    if (t->kind == TK_STRING) {
        n->str = t->str;
        n->slen = t->slen;
        t->str = NULL;
        if (!n->str && !(n->str = parser_strndup(p, "", 0))) return false;
    } else if (t->kind == TK_NAME) {
        if (!(n->str = parser_token_name(p, t))) return false;
        n->slen = t->len;
    } else {
        parser_expected(p, t, "a module path (a string)");
        return false;
    }
    if (memchr(n->str, '\0', n->slen) || n->slen == 0) {
        parser_fail_at(p, t, "a module path may not be empty or contain a NUL character");
        return false;
    }
    parser_advance(p);
    return true;
}

static zx_node *parser_statement(parser *p);
static zx_node *parser_module_stmt(parser *p)
{
    lexer_token *t = parser_peek(p);
    int mod = parser_module_word(p, t);
    parser_names names = { 0 };
    zx_node *n = NULL;
    if (mod == 3) {   /* export NAME, ... | export { NAME, ... } | export DECLARATION */
        lexer_kind k1 = t[1].kind, k2 = t[2].kind;
        bool list = k1 == TK_LBRACE || (k1 == TK_NAME && (k2 == TK_COMMA || k2 == TK_SEMI ||
                                                          k2 == TK_NEWLINE || k2 == TK_EOF || k2 == TK_RBRACE));
        if (!list) {
            parser_advance(p);
            zx_node *d = parser_statement(p);
            if (!d) return NULL;
            d->is_export = true;
            if (d->kind == N_BLOCK)   /* let a = 1, b = 2 */
                for (size_t i = 0; i < d->n; i++) d->items[i]->is_export = true;
            return d;
        }
        if (!(n = parser_new(p, N_EXPORT, t->pos))) return NULL;
        parser_advance(p);
        if (!parser_name_list(p, &names, k1 == TK_LBRACE)) goto fail;
    } else if (mod == 1 || mod == 2) {
        if (!(n = parser_new(p, N_USE, t->pos))) return NULL;
        parser_advance(p);
        if (mod == 1 && parser_at(p, TK_LBRACE)) {   /* use { a, b } from "path" */
            if (!parser_name_list(p, &names, true)) goto fail;
            if (!parser_word(p, parser_peek(p), "from")) {
                parser_expected(p, parser_peek(p), "'from' after the imported names");
                goto fail;
            }
            parser_advance(p);
            n->ival = 1;
        }
        bool bare = parser_at(p, TK_NAME);
        if (!parser_module_path(p, n)) goto fail;
        if (!n->ival && parser_word(p, parser_peek(p), "as")) {
            parser_advance(p);
            if (!(n->name = parser_decl_name(p, "a name after 'as'"))) goto fail;
        } else if (mod == 2 && bare && !(n->name = parser_strndup(p, n->str, n->slen))) {
            goto fail;   /* import math: binds math */
        }
    } else {   /* module NAME { } | package a.b.c { } */
        if (!(n = parser_new(p, N_MODULE, t->pos))) return NULL;
        n->ival = mod == 5;
        parser_advance(p);
        zx_buf path = { 0 };
        for (;;) {
            lexer_token *w = parser_peek(p);
            if (w->kind != TK_NAME) {
                zx_buf_free(&path);
                parser_expected(p, w, mod == 5 ? "a package name" : "a module name");
                goto fail;
            }
            if (path.len) zx_buf_put(&path, ".", 1);
            zx_buf_put(&path, p->src + w->start, w->len);
            parser_advance(p);
            if (mod != 5 || !parser_accept(p, TK_DOT)) break;
        }
        if (!(n->name = parser_strndup(p, path.data ? path.data : "", path.len))) {
            zx_buf_free(&path);
            goto fail;
        }
        zx_buf_free(&path);
        if (!parser_at(p, TK_LBRACE)) {
            parser_expected(p, parser_peek(p), "'{'");
            goto fail;
        }
        if (!(n->b = parser_block(p))) goto fail;
        return n;
    }
    n->params = names.v;
    n->nparams = names.n;
    names = (parser_names){ 0 };
    if (!parser_end(p)) goto fail;
    return n;
fail:
    parser_names_free(&names);
    zx_ast_free(n);
    return NULL;
}

/* ---------- exceptions: try / catch / finally, throw, defer ----------
 * The words are contextual (as `var` is): `try` before a block, `throw` and `defer` at the
 * start of a statement unless an assignment or member access follows (then they are names). */

static bool parser_brace_next(const parser *p, const lexer_token *t)
{
    return t[1].kind == TK_LBRACE || (t[1].kind == TK_NEWLINE && t[2].kind == TK_LBRACE);
}

/* 1: try, 2: throw, 3: defer, 0: none of them here. */
static int parser_exc_kind(const parser *p, const lexer_token *t)
{
    if (parser_word(p, t, "try")) return parser_brace_next(p, t) ? 1 : 0;
    bool thr = parser_word(p, t, "throw");
    if (!thr && !parser_word(p, t, "defer")) return 0;
    lexer_kind k = t[1].kind;
    if (k == TK_DOT) return 0;
    for (size_t j = 0; j < sizeof parser_assign_ops / sizeof parser_assign_ops[0]; j++)
        if (parser_assign_ops[j].tok == k) return 0;
    return thr ? 2 : 3;
}

/* catch (e) | catch e | catch: the variable's name, or NULL (none); false on an error. */
static bool parser_catch_name(parser *p, char **name)
{
    *name = NULL;
    if (parser_at(p, TK_LBRACE) || parser_at(p, TK_NEWLINE)) return true;
    bool paren = parser_accept(p, TK_LPAREN);
    if (!(*name = parser_decl_name(p, "the catch variable's name"))) return false;
    if (paren && parser_at(p, TK_COLON)) {       /* catch (e: Error): the type is not checked */
        parser_advance(p);
        if (!parser_type(p)) return false;
    }
    if (paren && !parser_accept(p, TK_RPAREN)) {
        parser_expected(p, parser_peek(p), "')' after the catch variable");
        return false;
    }
    return true;
}

static zx_node *parser_try(parser *p)
{
    zx_node *n = parser_new(p, N_TRY, parser_peek(p)->pos);
    if (!n) return NULL;
    parser_advance(p);   /* try */
    if (!(n->a = parser_block(p))) goto fail;
    size_t save = p->i;
    parser_skip_newlines(p);
    if (parser_word(p, parser_peek(p), "catch")) {
        parser_advance(p);
        if (!parser_catch_name(p, &n->name) || !(n->b = parser_block(p))) goto fail;
        save = p->i;
        parser_skip_newlines(p);
    }
    if (parser_word(p, parser_peek(p), "finally")) {
        parser_advance(p);
        if (!(n->c = parser_block(p))) goto fail;
    } else {
        p->i = save;
    }
    if (!n->b && !n->c) {
        parser_expected(p, parser_peek(p), "'catch' or 'finally' after the try block");
        goto fail;
    }
    return n;
fail:
    zx_ast_free(n);
    return NULL;
}

/* throw e | defer { block } | defer e (the reference runs a defer without braces at once) */
static zx_node *parser_throw_defer(parser *p, int kind)
{
    lexer_token *t = parser_peek(p);
    if (kind == 3 && parser_brace_next(p, t)) {
        zx_node *n = parser_new(p, N_DEFER, t->pos);
        if (!n) return NULL;
        parser_advance(p);
        if (!(n->b = parser_block(p))) {
            zx_ast_free(n);
            return NULL;
        }
        return n;
    }
    zx_node *n = parser_new(p, kind == 2 ? N_THROW : N_EXPR_STMT, t->pos);
    if (!n) return NULL;
    parser_advance(p);
    if (!(n->a = parser_expr(p))) {
        zx_ast_free(n);
        return NULL;
    }
    return n;
}

static zx_node *parser_statement(parser *p)
{
    lexer_token *t = parser_peek(p);
    int mod = parser_module_word(p, t);
    if (mod) return parser_module_stmt(p);
    if (parser_is_modifier(p, t)) {
        size_t j = p->i;
        while (parser_is_modifier(p, &p->tok[j])) j++;
        if (p->tok[j].kind == TK_ACTION || p->tok[j].kind == TK_FUNCTION || parser_class_kind(p, &p->tok[j]) >= 0)
            p->i = j;
        t = parser_peek(p);
    }
    lexer_kind k = t->kind;
    zx_node *n;
    if ((k == TK_ACTION || k == TK_FUNCTION) && t[1].kind == TK_NAME) return parser_action(p);
    if (k == TK_IF) return parser_if(p);
    if (k == TK_WHILE) return parser_while(p);
    if (k == TK_FOR) return parser_for(p);
    if (k == TK_FORK) return parser_fork(p);
    int exc = k == TK_NAME ? parser_exc_kind(p, t) : 0;
    if (exc == 1) return parser_try(p);
    if (exc == 3 && parser_brace_next(p, t)) return parser_throw_defer(p, exc);
    if (k == TK_NAME && parser_class_kind(p, t) >= 0) return parser_class(p, parser_class_kind(p, t));
    if (parser_starts_match(p, "match")) return parser_match(p, ZX_MATCH_STMT);
    if (parser_starts_match(p, "pattern")) return parser_match(p, ZX_MATCH_PATTERN);
    if (k == TK_NAME && t[1].kind == TK_NAME && t->len == 4 && memcmp(p->src + t->start, "enum", 4) == 0)
        return parser_enum(p);
    if (k == TK_LET || k == TK_CONST || k == TK_SHARED) n = parser_let(p);
    else if (k == TK_NAME && t->len == 3 && memcmp(p->src + t->start, "var", 3) == 0 && t[1].kind == TK_NAME)
        n = parser_let(p);   /* var x = 1: a let */
    else if (k == TK_RETURN) n = parser_return(p);
    else if (k == TK_BREAK || k == TK_CONTINUE) n = parser_jump(p);
    else if (k == TK_PRINT) n = parser_print(p);
    else if (k == TK_ASSERT) n = parser_assert(p);
    else if (k == TK_BARRIER) n = parser_barrier(p);
    else if (parser_word(p, t, "emit") && t[1].kind == TK_NAME) n = parser_emit(p);
    else if (exc) n = parser_throw_defer(p, exc);
    else n = parser_simple(p);
    if (n && !parser_end(p)) {
        zx_ast_free(n);
        return NULL;
    }
    return n;
}

/* ---------- entity, data, contract, interface, emit (docs/language.md "Objects") ---------- */

/* At `entity|data|contract|interface|protocol NAME {` (or `contract NAME implements I {`):
 * the kind of class it declares, else -1.  Contextual words: elsewhere they are names. */
static int parser_class_kind(const parser *p, const lexer_token *t)
{
    static const struct { const char *w; int kind; } words[] = {
        { "entity", 0 }, { "data", 1 }, { "contract", 2 }, { "interface", 3 }, { "protocol", 3 },
    };
    if (t[1].kind != TK_NAME) return -1;
    size_t j = 2;
    if (parser_word(p, &t[2], "implements") && t[3].kind == TK_NAME) j = 4;
    while (t[j].kind == TK_NEWLINE) j++;
    if (t[j].kind != TK_LBRACE) return -1;
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
        if (parser_word(p, t, words[k].w)) return words[k].kind;
    return -1;
}

/* Skip a balanced ( ) or { } group at the current token (event declarations). */
static bool parser_skip_group(parser *p)
{
    int depth = 0;
    do {
        lexer_kind k = parser_peek(p)->kind;
        if (k == TK_EOF || k == TK_ERROR) {
            parser_unexpected(p, parser_peek(p));
            return false;
        }
        if (k == TK_LPAREN || k == TK_LBRACE || k == TK_LBRACKET) depth++;
        if (k == TK_RPAREN || k == TK_RBRACE || k == TK_RBRACKET) depth--;
        parser_advance(p);
    } while (depth > 0);
    return true;
}

/* A field: NAME [: type] [= expr], as an N_LET whose str is the type as written. */
static zx_node *parser_field(parser *p, bool with_init)
{
    zx_node *n = parser_new(p, N_LET, parser_peek(p)->pos);
    if (!n || !(n->name = parser_decl_name(p, "a field name"))) goto fail;
    if (parser_accept(p, TK_COLON)) {
        size_t from = parser_peek(p)->start;
        if (!parser_type(p)) goto fail;
        const lexer_token *last = &p->tok[p->i - 1];
        n->slen = last->start + last->len - from;
        if (!(n->str = parser_strndup(p, p->src + from, n->slen))) goto fail;
    }
    if (with_init && parser_accept(p, TK_ASSIGN)) {
        parser_skip_newlines(p);
        if (!(n->a = parser_expr(p))) goto fail;
    }
    return n;
fail:
    zx_ast_free(n);
    return NULL;
}

/* `state { a: 1, b: 2 }`: one field per key. */
static bool parser_state_block(parser *p, parser_vec *members)
{
    zx_node *m = parser_map(p);
    if (!m) return false;
    bool ok = true;
    for (size_t k = 0; ok && k + 1 < m->n; k += 2) {
        zx_node *f = parser_new(p, N_LET, m->items[k]->pos);
        if (!f || m->items[k]->kind != N_STRING || !(f->name = parser_strndup(p, m->items[k]->str, m->items[k]->slen))) {
            if (f && m->items[k]->kind != N_STRING) parser_fail(p, m->items[k]->pos, "expected a field name");
            zx_ast_free(f);
            ok = false;
            break;
        }
        f->a = m->items[k + 1];
        m->items[k + 1] = NULL;
        ok = parser_vec_push(p, members, f);
    }
    zx_ast_free(m);
    return ok;
}

/* An interface's method: [action] NAME [(params)] [-> type], its name kept as a field. */
static zx_node *parser_iface_method(parser *p)
{
    if (parser_at(p, TK_ACTION) || parser_at(p, TK_FUNCTION)) parser_advance(p);
    zx_node *n = parser_new(p, N_LET, parser_peek(p)->pos);
    if (!n || !(n->name = parser_decl_name(p, "a method name"))) goto fail;
    if (parser_at(p, TK_LPAREN) && !parser_skip_group(p)) goto fail;
    if (parser_accept(p, TK_THIN_ARROW) && !parser_type(p)) goto fail;
    return n;
fail:
    zx_ast_free(n);
    return NULL;
}

static zx_node *parser_class(parser *p, int kind)
{
    zx_node *n = parser_new(p, N_CLASS, parser_peek(p)->pos);
    parser_vec members = { 0 };
    zx_node *state = NULL;     /* a contract's __state__ method: the initialisers, per instance */
    if (!n) return NULL;
    n->ival = kind;
    /* a protocol documents the methods it lists; only an interface's are checked (as members
     * are kept, its are dropped below) */
    bool protocol = parser_word(p, parser_peek(p), "protocol");
    parser_advance(p);
    if (!(n->name = parser_decl_name(p, "a type name"))) goto fail;
    if (parser_word(p, parser_peek(p), "implements")) {
        parser_advance(p);
        if (!(n->name2 = parser_decl_name(p, "an interface name"))) goto fail;
    }
    parser_skip_newlines(p);
    zx_pos open = parser_peek(p)->pos;
    parser_advance(p);   /* { */
    for (;;) {
        while (parser_at(p, TK_NEWLINE) || parser_at(p, TK_SEMI) || parser_at(p, TK_COMMA)) parser_advance(p);
        lexer_token *t = parser_peek(p);
        if (t->kind == TK_RBRACE) break;
        if (t->kind == TK_EOF || t->kind == TK_ERROR) {
            parser_close(p, TK_RBRACE, "'{'", open);
            goto fail;
        }
        if (kind == 3) {
            zx_node *m = parser_iface_method(p);
            if (!m) goto fail;
            if (protocol) zx_ast_free(m);
            else if (!parser_vec_push(p, &members, m)) goto fail;
            continue;
        }
        size_t j = p->i;
        while (parser_is_modifier(p, &p->tok[j])) j++;
        if ((p->tok[j].kind == TK_ACTION || p->tok[j].kind == TK_FUNCTION) && p->tok[j + 1].kind == TK_NAME) {
            p->i = j;
            zx_node *m = parser_action(p);
            if (!m) goto fail;
            parser_names ps = { 0 };
            char *self = parser_strndup(p, "this", 4);
            bool ok = self && parser_add_name(p, &ps, self);
            for (size_t k = 0; ok && k < m->nparams; k++) {
                ok = parser_add_name(p, &ps, m->params[k]);
                m->params[k] = NULL;
            }
            for (size_t k = 0; k < m->nparams; k++) free(m->params[k]);
            free(m->params);
            m->params = ps.v;
            m->nparams = ps.n;
            if (!ok || !parser_vec_push(p, &members, m)) {
                zx_ast_free(m);
                goto fail;
            }
            continue;
        }
        if (parser_word(p, t, "event") && t[1].kind == TK_NAME) {   /* declared, nothing kept */
            p->i += 2;
            if ((parser_at(p, TK_LPAREN) || parser_at(p, TK_LBRACE)) && !parser_skip_group(p)) goto fail;
            continue;
        }
        bool contract = kind == 2;
        if (contract && parser_word(p, t, "state") && t[1].kind == TK_LBRACE) {
            parser_advance(p);
            if (!parser_state_block(p, &members)) goto fail;
            continue;
        }
        if (contract && parser_word(p, t, "persistent")) {
            parser_advance(p);
            if (parser_word(p, parser_peek(p), "storage")) parser_advance(p);
        } else if (contract && (parser_word(p, t, "state") || parser_word(p, t, "data") || t->kind == TK_LET ||
                                t->kind == TK_CONST)) {
            parser_advance(p);
        } else if (contract) {
            parser_fail_at(p, t, "expected 'state', 'action' or 'event' in contract '%s'", n->name);
            goto fail;
        }
        zx_node *f = parser_field(p, true);
        if (!f || !parser_vec_push(p, &members, f)) goto fail;
    }
    parser_advance(p);   /* } */
    if (kind == 2) {
        /* action __state__(this) { this.f = init ... } */
        if (!(state = parser_new(p, N_ACTION, n->pos)) || !(state->name = parser_strndup(p, "__state__", 9)) ||
            !(state->b = parser_new(p, N_BLOCK, n->pos)))
            goto fail;
        parser_names ps = { 0 };
        char *self = parser_strndup(p, "this", 4);
        if (!self || !parser_add_name(p, &ps, self)) goto fail;
        state->params = ps.v;
        state->nparams = ps.n;
        parser_vec body = { 0 };
        for (size_t k = 0; k < members.n; k++) {
            zx_node *f = members.v[k];
            if (f->kind != N_LET || !f->a) continue;
            zx_node *as = parser_new(p, N_ASSIGN, f->pos), *mem = parser_new(p, N_MEMBER, f->pos),
                    *th = parser_new(p, N_NAME, f->pos);
            if (as) as->a = mem;
            if (mem) mem->a = th;
            if (!as || !mem || !th || !(th->name = parser_strndup(p, "this", 4)) ||
                !(mem->name = parser_strndup(p, f->name, strlen(f->name))) || !parser_vec_push(p, &body, as)) {
                if (!as) { zx_ast_free(mem); if (!mem) zx_ast_free(th); }
                else zx_ast_free(as);
                parser_vec_free(&body);
                goto fail;
            }
            as->b = f->a;
            f->a = NULL;
        }
        parser_vec_give(&body, state->b);
        if (!parser_vec_push(p, &members, state)) goto fail;
        state = NULL;
    }
    parser_vec_give(&members, n);
    return n;
fail:
    zx_ast_free(state);
    parser_vec_free(&members);
    zx_ast_free(n);
    return NULL;
}

/* emit NAME(args) / emit NAME { k: v } / emit NAME: the arguments are evaluated, nothing is
 * printed (the reference prints nothing either). */
static zx_node *parser_emit(parser *p)
{
    zx_node *n = parser_new(p, N_EXPR_STMT, parser_peek(p)->pos), *args = NULL;
    if (!n) return NULL;
    p->i += 2;
    if (!(args = parser_new(p, N_LIST, n->pos))) goto fail;
    n->a = args;
    if (parser_at(p, TK_LPAREN)) {
        if (!parser_args(p, args)) goto fail;
    } else if (parser_at(p, TK_LBRACE)) {
        zx_node *m = parser_map(p);
        if (!m) goto fail;
        n->a = m;
        zx_ast_free(args);
    }
    return n;
fail:
    zx_ast_free(n);
    return NULL;
}

/* Name{field: e, ...}: at an upper-case name followed by `{` and `field:` (or `{}`). */
static bool parser_is_named_new(const parser *p, const lexer_token *t)
{
    if (t->kind != TK_NAME || t[1].kind != TK_LBRACE) return false;
    char c = p->src[t->start];
    if (c < 'A' || c > 'Z') return false;
    size_t j = 2;
    while (t[j].kind == TK_NEWLINE) j++;
    return (t[j].kind == TK_NAME && t[j + 1].kind == TK_COLON) || t[j].kind == TK_RBRACE;
}

static zx_node *parser_named_new(parser *p)
{
    lexer_token *t = parser_peek(p);
    zx_node *n = parser_new(p, N_NEW_NAMED, t->pos);
    if (!n || !(n->name = parser_token_name(p, t))) goto fail;
    parser_advance(p);
    if (!(n->b = parser_map(p))) goto fail;
    return n;
fail:
    zx_ast_free(n);
    return NULL;
}

/* ---------- match, pattern and enum (docs/language.md "match", "enum") ---------- */

/* At the name `word` (match, pattern): does `word SUBJECT {` follow?  The words are contextual:
 * `let match = f()`, `match.real`, `if match { }` and `match(x)` keep them names.  Token
 * lookahead only: the subject starts like an expression and a `{` follows it outside brackets
 * (a line end may come before the `{`). */
static bool parser_starts_match(parser *p, const char *word)
{
    const lexer_token *t = parser_peek(p);
    if (!parser_word(p, t, word)) return false;
    switch ((int)t[1].kind) {
    case TK_NAME: case TK_INT: case TK_FLOAT: case TK_STRING: case TK_ISTR_BEGIN: case TK_TRUE:
    case TK_FALSE: case TK_NULL: case TK_MINUS: case TK_BANG: case TK_NOT: case TK_LPAREN:
    case TK_LBRACKET:
        break;
    default:
        return false;
    }
    int depth = 0;
    for (size_t j = 1;; j++) {
        switch ((int)t[j].kind) {
        case TK_LPAREN: case TK_LBRACKET: case TK_ISTR_BEGIN:
            depth++;
            break;
        case TK_RPAREN: case TK_RBRACKET: case TK_ISTR_END:
            if (--depth < 0) return false;
            break;
        case TK_LBRACE:
            if (depth == 0) return true;
            depth++;
            break;
        case TK_RBRACE:
            if (--depth < 0) return false;
            break;
        case TK_NEWLINE:
            if (depth == 0) {
                while (t[j].kind == TK_NEWLINE) j++;
                return t[j].kind == TK_LBRACE;
            }
            break;
        case TK_EOF: case TK_ERROR:
            return false;
        case TK_SEMI: case TK_ARROW: case TK_ASSIGN: case TK_COMMA:
            if (depth == 0) return false;
            break;
        default:
            break;
        }
    }
}

/* At `{`: a map literal ({} or `{ key:`) rather than a block? */
static bool parser_brace_is_map(parser *p)
{
    const lexer_token *t = parser_peek(p);
    size_t j = 1;
    while (t[j].kind == TK_NEWLINE) j++;
    if (t[j].kind == TK_RBRACE) return true;
    if (t[j].kind == TK_MINUS) j++;
    bool key = t[j].kind == TK_STRING || t[j].kind == TK_NAME || t[j].kind == TK_INT ||
               t[j].kind == TK_FLOAT || (lexer_is_keyword(t[j].kind) && t[j].kind != TK_NULL);
    j++;
    while (t[j].kind == TK_NEWLINE) j++;
    return key && t[j].kind == TK_COLON;
}

/* The body of an arm of a statement form: a block, or one statement (its end is the arm's). */
static zx_node *parser_arm_statement(parser *p)
{
    lexer_token *t = parser_peek(p);
    switch ((int)t->kind) {
    case TK_LBRACE: return parser_brace_is_map(p) ? parser_simple(p) : parser_block(p);
    case TK_IF: return parser_if(p);
    case TK_WHILE: return parser_while(p);
    case TK_FOR: return parser_for(p);
    case TK_LET: case TK_CONST: return parser_let(p);
    case TK_RETURN: return parser_return(p);
    case TK_BREAK: case TK_CONTINUE: return parser_jump(p);
    case TK_PRINT: return parser_print(p);
    case TK_ASSERT: return parser_assert(p);
    default: return parser_simple(p);
    }
}

/* The body of an arm: an expression (ZX_MATCH_EXPR) or a statement.  A binding arm's body
 * becomes a function of the bound name (a scope of its own, as in the reference). */
static bool parser_arm_body(parser *p, zx_node *arm, zx_match_form form, char *bind)
{
    parser_skip_newlines(p);
    if (form == ZX_MATCH_EXPR && parser_at(p, TK_LBRACE) && !parser_brace_is_map(p)) {
        free(bind);
        parser_fail(p, parser_peek(p)->pos, "the arms of a match used as a value are expressions, not blocks");
        return false;
    }
    if (!bind) {
        arm->b = form == ZX_MATCH_EXPR ? parser_expr(p) : parser_arm_statement(p);
        return arm->b != NULL;
    }
    zx_node *fn = parser_new(p, N_LAMBDA, arm->pos);
    if (!fn || !(fn->params = malloc(sizeof *fn->params))) {
        if (fn) parser_oom(p);
        free(bind);
        zx_ast_free(fn);
        return false;
    }
    fn->params[0] = bind;
    fn->nparams = 1;
    arm->b = fn;
    parser_fn saved = p->fn;
    p->fn = (parser_fn){ .in_action = true, .in_arm = form != ZX_MATCH_EXPR };
    if (form == ZX_MATCH_EXPR) {
        fn->a = parser_expr(p);
    } else {
        zx_node *st = parser_arm_statement(p);
        if (st && st->kind != N_BLOCK) {
            zx_node *blk = parser_new(p, N_BLOCK, st->pos);
            if (blk && (blk->items = malloc(sizeof *blk->items))) {
                blk->items[0] = st;
                blk->n = 1;
                st = blk;
            } else {
                if (blk) parser_oom(p);
                zx_ast_free(blk);
                zx_ast_free(st);
                st = NULL;
            }
        }
        fn->b = st;
    }
    p->fn = saved;
    return fn->a || fn->b;
}

/* One arm: `PATTERN => body`, `case PATTERN: body`, `default: body`, `default => body`.
 * Patterns: `_` and `default` (anything), a name (anything, bound to the name in the body;
 * in `pattern` statements the name's value instead), or an expression whose value the
 * subject must equal with the same type. */
static zx_node *parser_match_arm(parser *p, zx_match_form form)
{
    lexer_token *t = parser_peek(p);
    zx_node *arm = parser_new(p, N_MATCH_ARM, t->pos);
    if (!arm) return NULL;
    bool is_case = parser_word(p, t, "case") && t[1].kind != TK_ARROW && t[1].kind != TK_COLON;
    if (is_case) {
        parser_advance(p);
        t = parser_peek(p);
    }
    lexer_kind sep = is_case ? TK_COLON : TK_ARROW;
    char *bind = NULL;
    if ((parser_word(p, t, "_") || parser_word(p, t, "default")) &&
        (t[1].kind == TK_ARROW || t[1].kind == TK_COLON)) {
        arm->ival = ZX_ARM_ANY;
        sep = t[1].kind;
        parser_advance(p);
    } else if (t->kind == TK_NAME && t[1].kind == sep && form != ZX_MATCH_PATTERN) {
        arm->ival = ZX_ARM_BIND;
        if (!(bind = parser_decl_name(p, "a name"))) goto fail;
    } else if (t->kind == TK_NAME && t[1].kind == sep) {   /* pattern x { y => }: y's value */
        arm->ival = ZX_ARM_VALUE;
        if (!(arm->a = parser_new(p, N_NAME, t->pos)) || !(arm->a->name = parser_token_name(p, t))) goto fail;
        parser_advance(p);
    } else if (t->kind == TK_NAME && t[1].kind == TK_LPAREN && form != ZX_MATCH_PATTERN) {
        char d[64];
        parser_fail(p, t->pos, "constructor patterns (%s(...)) are not supported",
                    parser_describe(p, t, d, sizeof d));
        goto fail;
    } else {
        arm->ival = ZX_ARM_VALUE;
        if (!(arm->a = parser_expr(p))) goto fail;
    }
    if (!parser_accept(p, sep)) {
        free(bind);
        parser_expected(p, parser_peek(p), sep == TK_COLON ? "':' after the case's pattern" : "'=>' after the pattern");
        goto fail;
    }
    if (!parser_arm_body(p, arm, form, bind)) goto fail;
    return arm;
fail:
    zx_ast_free(arm);
    return NULL;
}

/* match SUBJECT { arms } (ZX_MATCH_EXPR, ZX_MATCH_STMT) and pattern SUBJECT { arms }: arms
 * are separated by `,`, `;` or line ends. */
static zx_node *parser_match(parser *p, zx_match_form form)
{
    zx_pos pos = parser_peek(p)->pos;
    if (!parser_enter(p)) return NULL;
    parser_vec arms = { 0 };
    zx_node *n = parser_new(p, N_MATCH, pos);
    bool saved = p->skip_nl;
    if (!n) goto fail;
    n->ival = form;
    parser_advance(p);
    if (!(n->a = parser_expr(p))) goto fail;
    parser_skip_newlines(p);
    lexer_token *t = parser_peek(p);
    if (t->kind != TK_LBRACE) {
        parser_expected(p, t, "'{' after the value to match");
        goto fail;
    }
    zx_pos open = t->pos;
    p->skip_nl = false;
    parser_advance(p);
    for (;;) {
        while (parser_at(p, TK_NEWLINE) || parser_at(p, TK_SEMI) || parser_at(p, TK_COMMA)) parser_advance(p);
        t = parser_peek(p);
        if (t->kind == TK_RBRACE) break;
        if (t->kind == TK_EOF || t->kind == TK_ERROR) {
            parser_fail_at(p, t, "expected '}' to close the %s opened at %u:%u",
                           form == ZX_MATCH_PATTERN ? "pattern" : "match", open.line, open.col);
            goto fail;
        }
        zx_node *arm = parser_match_arm(p, form);
        if (!arm || !parser_vec_push(p, &arms, arm)) goto fail;
        t = parser_peek(p);
        if (t->kind != TK_NEWLINE && t->kind != TK_SEMI && t->kind != TK_COMMA && t->kind != TK_RBRACE &&
            !parser_word(p, t, "case") && !parser_word(p, t, "default")) {
            parser_expected(p, t, "',' or a new line after the match arm");
            goto fail;
        }
    }
    parser_advance(p);
    if (arms.n == 0) {
        parser_fail(p, pos, "a %s needs at least one arm", form == ZX_MATCH_PATTERN ? "pattern" : "match");
        goto fail;
    }
    p->skip_nl = saved;
    p->depth--;
    parser_vec_give(&arms, n);
    return n;
fail:
    p->skip_nl = saved;
    p->depth--;
    parser_vec_free(&arms);
    zx_ast_free(n);
    return NULL;
}

/* enum NAME { A, B = 5, C = "c" }: a constant map from each member's name to its value, an
 * integer or a string; a member without one gets its position (0, 1, ...). */
static zx_node *parser_enum(parser *p)
{
    zx_pos pos = parser_peek(p)->pos;
    parser_vec items = { 0 };
    zx_node *n = parser_new(p, N_ENUM, pos), *map = NULL;
    bool saved = p->skip_nl;
    if (!n) return NULL;
    parser_advance(p);
    if (!(n->name = parser_decl_name(p, "an enum name"))) goto fail;
    parser_skip_newlines(p);
    lexer_token *t = parser_peek(p);
    if (t->kind != TK_LBRACE) {
        parser_expected(p, t, "'{' after the enum name");
        goto fail;
    }
    zx_pos open = t->pos;
    p->skip_nl = true;
    parser_advance(p);
    for (int64_t index = 0; !parser_at(p, TK_RBRACE); index++) {
        t = parser_peek(p);
        if (t->kind != TK_NAME) {
            parser_expected(p, t, "an enum member name");
            goto fail;
        }
        for (size_t k = 0; k < items.n; k += 2) {
            if (items.v[k]->slen == t->len && memcmp(items.v[k]->str, p->src + t->start, t->len) == 0) {
                parser_fail(p, t->pos, "duplicate enum member '%.*s'", (int)t->len, p->src + t->start);
                goto fail;
            }
        }
        zx_node *key = parser_new(p, N_STRING, t->pos);
        if (!key || !parser_vec_push(p, &items, key)) {
            zx_ast_free(key);
            goto fail;
        }
        if (!(key->str = parser_token_name(p, t))) goto fail;
        key->slen = t->len;
        parser_advance(p);
        zx_node *val = NULL;
        if (parser_accept(p, TK_ASSIGN)) {
            t = parser_peek(p);
            bool neg = t->kind == TK_MINUS && t[1].kind == TK_INT;
            if (neg) {
                parser_advance(p);
                t = parser_peek(p);
            }
            if (t->kind == TK_INT) {
                if ((val = parser_new(p, N_INT, t->pos))) val->ival = neg ? -t->ival : t->ival;
            } else if (t->kind == TK_STRING) {
                if ((val = parser_new(p, N_STRING, t->pos)) &&
                    !(val->str = parser_strndup(p, t->str, t->slen))) {
                    zx_ast_free(val);
                    val = NULL;
                } else if (val) {
                    val->slen = t->slen;
                }
            } else {
                parser_expected(p, t, "an integer or a string as the member's value");
                goto fail;
            }
            if (!val) goto fail;
            parser_advance(p);
        } else if ((val = parser_new(p, N_INT, key->pos))) {
            val->ival = index;
        }
        if (!val || !parser_vec_push(p, &items, val)) {
            zx_ast_free(val);
            goto fail;
        }
        if (!parser_accept(p, TK_COMMA) && !parser_at(p, TK_RBRACE)) {
            parser_expected(p, parser_peek(p), "',' or '}' after the enum member");
            goto fail;
        }
    }
    if (!parser_close(p, TK_RBRACE, "'{'", open)) goto fail;
    p->skip_nl = saved;
    if (!(map = parser_new(p, N_MAP, open))) goto fail;
    parser_vec_give(&items, map);
    n->a = map;
    return n;
fail:
    p->skip_nl = saved;
    parser_vec_free(&items);
    zx_ast_free(n);
    return NULL;
}

/* ---------- colon blocks: `if x:` and an indented body (docs/language.md "Colon blocks") ---------- */

/* The column of the first token on token i's line. */
static unsigned parser_line_indent(const parser *p, size_t i)
{
    while (i > 0 && p->tok[i - 1].kind != TK_NEWLINE) i--;
    return p->tok[i].pos.col;
}

/* At `:` and a line end: the statements of the following lines indented deeper than the line
 * of the `:`, all at one indentation; the first line indented less ends the block.  At `:`
 * and more on its line: that one statement is the block (`if x: return 1`). */
static zx_node *parser_colon_block(parser *p)
{
    zx_pos open = p->tok[p->i].pos;
    size_t colon = p->i;
    if (!parser_enter(p)) return NULL;
    parser_vec items = { 0 };
    zx_node *n = NULL;
    bool saved = p->skip_nl;
    p->skip_nl = false;
    parser_advance(p);
    lexer_token *t = &p->tok[p->i];
    if (t->kind != TK_NEWLINE && t->kind != TK_EOF && t->kind != TK_ERROR) {
        zx_node *s = parser_statement(p);
        if (!s || !parser_vec_push(p, &items, s)) goto fail;
        if (p->i > 0 && p->tok[p->i - 1].kind == TK_NEWLINE) p->i--;   /* the line end is the enclosing statement's */
        goto done;
    }
    parser_skip_newlines(p);
    t = &p->tok[p->i];
    if (t->kind == TK_EOF || t->kind == TK_ERROR || t->pos.col <= parser_line_indent(p, colon)) {
        parser_fail_at(p, t, "expected an indented block after the ':' at %u:%u", open.line, open.col);
        goto fail;
    }
    unsigned indent = t->pos.col;
    for (;;) {
        zx_node *s = parser_statement(p);
        if (!s || !parser_vec_push(p, &items, s)) goto fail;
        while (parser_at(p, TK_NEWLINE) || parser_at(p, TK_SEMI)) parser_advance(p);
        t = &p->tok[p->i];
        if (t->kind == TK_EOF || t->kind == TK_ERROR || t->kind == TK_RBRACE) break;
        if (p->i == 0 || p->tok[p->i - 1].kind != TK_NEWLINE) continue;   /* after `;` */
        if (t->pos.col < indent) break;
        if (t->pos.col > indent) {
            parser_fail(p, t->pos, "unexpected indentation: the block after the ':' at %u:%u is at column %u",
                        open.line, open.col, indent);
            goto fail;
        }
    }
done:
    if (!(n = parser_new(p, N_BLOCK, open))) goto fail;
    p->skip_nl = saved;
    p->depth--;
    parser_vec_give(&items, n);
    return n;
fail:
    p->skip_nl = saved;
    p->depth--;
    parser_vec_free(&items);
    return NULL;
}

zx_node *zx_parse(const char *src, size_t len, const char *file, char *err, size_t errsz)
{
    parser p = { .file = file ? file : "<input>", .err = err, .errsz = errsz };
    lexer_tokens toks;
    parser_vec items = { 0 };
    zx_node *prog = NULL;
    if (err && errsz) err[0] = '\0';
    if (!lexer_run(src, len, &toks)) {
        if (err && errsz) snprintf(err, errsz, "%s:1:1: error: out of memory", p.file);
        return NULL;
    }
    p.src = src ? src : "";
    p.tok = toks.v;
    p.lexerr = toks.err;
    if (!(prog = parser_new(&p, N_PROGRAM, (zx_pos){ 1, 1 }))) goto fail;
    for (;;) {
        while (parser_at(&p, TK_NEWLINE) || parser_at(&p, TK_SEMI)) parser_advance(&p);
        if (parser_at(&p, TK_EOF)) break;
        zx_node *s = parser_statement(&p);
        if (!s || !parser_vec_push(&p, &items, s) || p.failed) goto fail;
    }
    parser_vec_give(&items, prog);
    lexer_free(&toks);
    return prog;
fail:
    if (!p.failed) parser_fail(&p, p.tok[p.i].pos, "internal error: parse failed without a message");
    parser_vec_free(&items);
    zx_ast_free(prog);
    lexer_free(&toks);
    return NULL;
}
