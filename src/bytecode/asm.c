/* asm.c — the .zxa assembler: reads the text form of a program (format below) back into a zx_program. */
#include "bytecode/bytecode.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/builtins.h"

/*
 * The .zxa format, version 1.  zx_disassemble writes it and zx_assemble reads it back into an
 * identical program (max_stack aside, which the verifier computes); disassembling that program
 * again gives identical text.
 *
 * One statement per line; `;` starts a comment that runs to the end of the line.  Tokens are
 * separated by spaces or tabs.  Strings are in double quotes with the escapes \" \\ \n \t \r
 * \0 and \xHH; they must decode to valid UTF-8, and names may not contain NUL.
 *
 *   .zxa 1                          format version; optional, but first when present
 *   .source "demo.zx"               the program's source name (default: the name passed in)
 *   .global "NAME" [const] [shared] the next global slot (top level only)
 *   .code KIND "NAME" [@LINE:COL]   opens a code object; KIND is main, action, lambda or fork.
 *                                   The one .code at top level is the main code object; a
 *                                   .code inside another is that one's next child.
 *     .params N                     the first N locals are the parameters (default 0)
 *     .local "NAME" [cell]          the next local slot; `cell`: captured by a closure
 *     .free "NAME" local N          the next captured variable: the parent's local N (a cell)
 *     .free "NAME" free N           ... or the parent's own captured variable N
 *     .handler START END TARGET     the next exception handler row: errors raised in
 *                                   instructions START..END-1 continue at TARGET
 *     .const null                   the next constant; also: bool true | bool false |
 *                                   int -42 | float 0x1.8p+1 | string "text"
 *     [N:] [LABEL:] OPNAME [A [B]] [@LINE:COL]
 *                                   an instruction: the opcode's name in the table of
 *                                   opcodes.h, then its operands (decimal or 0x hex); `N:`
 *                                   asserts that this is instruction number N; `LABEL:`
 *                                   (also alone on a line) names the next instruction.
 *                                   Jump operands may be labels, builtin operands builtin
 *                                   names (`CALL_BUILTIN len 1`), SHARED_WRITE's operator an
 *                                   opcode name (`SHARED_WRITE 0 ADD`).  Missing positions
 *                                   are 0:0.
 *   .end                            closes the innermost .code
 *
 * Floats are written exactly: hex floats (0x1.921fb54442d18p+1), inf, -inf, nan, -nan, and
 * nan(0x7ff0000000000001) with the full bit pattern for any other NaN; decimal input such as
 * 2.5 or 1e-3 is read with correct rounding.  The directives of a code object may come in any
 * order; each kind counts its own slots.  The disassembler adds comments with slot numbers
 * and what each operand names.
 *
 * Errors are "NAME:LINE:COL: error: MESSAGE" with NAME the name passed to zx_assemble.  The
 * assembler checks syntax and table references that only it can (labels, names); everything
 * else (operand ranges, stack depth) is the verifier's job.
 */

#define MAX_TOKENS 16

typedef enum tok_kind { TK_WORD, TK_STRING } tok_kind;

typedef struct token {
    tok_kind kind;
    const char *s;       /* WORD: points into the text; STRING: the decoded bytes (owned) */
    size_t n;
    uint32_t col;
} token;

typedef struct label {
    char *name;
    uint32_t pc;         /* a definition: the instruction it names; a use: the one to patch */
    uint32_t line, col;
} label;

typedef struct labels {
    label *v;
    uint32_t n, cap;
} labels;

typedef struct block {
    zx_code *code;
    uint32_t line, col;
    bool params_set;
    labels defs, uses;
} block;

typedef struct assembler {
    const char *text;
    size_t len;
    const char *file;
    char *err;
    size_t errsz;
    bool failed;
    bool oom;              /* failed because an allocation failed */
    uint32_t line;
    zx_program *p;
    block blocks[ZX_MAX_CODE_DEPTH];
    int depth;
    bool have_source, started;
    token tok[MAX_TOKENS];
    int ntok;
    locale_t c_locale;
} assembler;

static bool asm_error(assembler *A, uint32_t col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool asm_error(assembler *A, uint32_t col, const char *fmt, ...)
{
    if (A->failed) return false;
    A->failed = true;
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (A->errsz) snprintf(A->err, A->errsz, "%s:%u:%u: error: %s", A->file, A->line, col, what);
    return false;
}

/* An allocation failed (the text may be fine): "memory limit exceeded" when the limited heap
 * refused a constant, "out of memory" when malloc refused the assembler's own tables. */
static bool asm_oom(assembler *A, uint32_t col, const char *what)
{
    if (A->failed) return false;
    asm_error(A, col, "%s", what);
    A->oom = true;
    return false;
}

/* ---- tokens ---- */

static bool is_blank(unsigned char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f'; }
static bool is_control(unsigned char ch) { return (ch < 0x20 && !is_blank(ch)) || ch == 0x7F; }

static int hexval(unsigned char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

static void free_tokens(assembler *A)
{
    for (int i = 0; i < A->ntok; i++)
        if (A->tok[i].kind == TK_STRING) free((char *)A->tok[i].s);
    A->ntok = 0;
}

/* Decodes the string that starts at text[*i] (the opening quote) into a new token. */
static bool lex_string(assembler *A, size_t start, size_t *i, size_t end, token *t)
{
    const char *text = A->text;
    uint32_t col = (uint32_t)(*i - start + 1);
    char *out = malloc(end - *i + 1);
    if (!out) return asm_oom(A, col, "out of memory");
    size_t n = 0, k = *i + 1;
    for (;;) {
        if (k >= end) {
            free(out);
            return asm_error(A, col, "unterminated string");
        }
        unsigned char ch = (unsigned char)text[k];
        if (ch == '"') {
            k++;
            break;
        }
        if (ch != '\\') {
            out[n++] = (char)ch;
            k++;
            continue;
        }
        uint32_t ecol = (uint32_t)(k - start + 1);
        unsigned char e = k + 1 < end ? (unsigned char)text[k + 1] : 0;
        int hi, lo;
        switch (e) {
        case 'n': out[n++] = '\n'; k += 2; break;
        case 't': out[n++] = '\t'; k += 2; break;
        case 'r': out[n++] = '\r'; k += 2; break;
        case '0': out[n++] = '\0'; k += 2; break;
        case '\\': out[n++] = '\\'; k += 2; break;
        case '"': out[n++] = '"'; k += 2; break;
        case 'x':
            hi = k + 2 < end ? hexval((unsigned char)text[k + 2]) : -1;
            lo = k + 3 < end ? hexval((unsigned char)text[k + 3]) : -1;
            if (hi < 0 || lo < 0) {
                free(out);
                return asm_error(A, ecol, "bad \\x escape (two hex digits expected)");
            }
            out[n++] = (char)(hi * 16 + lo);
            k += 4;
            break;
        default:
            free(out);
            if (k + 1 >= end) return asm_error(A, col, "unterminated string");
            if (e >= 0x21 && e < 0x7F) return asm_error(A, ecol, "unknown escape '\\%c'", e);
            return asm_error(A, ecol, "unknown escape");
        }
    }
    out[n] = '\0';
    *t = (token){ .kind = TK_STRING, .s = out, .n = n, .col = col };
    *i = k;
    return true;
}

/* Splits text[start, end) into tokens, stopping at a comment. */
static bool tokenize(assembler *A, size_t start, size_t end)
{
    const char *text = A->text;
    size_t i = start;
    A->ntok = 0;
    while (i < end) {
        unsigned char ch = (unsigned char)text[i];
        if (is_blank(ch)) {
            i++;
            continue;
        }
        if (ch == ';') break;
        uint32_t col = (uint32_t)(i - start + 1);
        if (is_control(ch)) return asm_error(A, col, "unexpected character 0x%02x", ch);
        if (A->ntok == MAX_TOKENS) return asm_error(A, col, "too many tokens on one line");
        token *t = &A->tok[A->ntok];
        if (ch == '"') {
            if (!lex_string(A, start, &i, end, t)) return false;
            A->ntok++;
            continue;
        }
        size_t j = i;
        while (j < end && !is_blank((unsigned char)text[j]) && !is_control((unsigned char)text[j]) &&
               text[j] != ';' && text[j] != '"')
            j++;
        *t = (token){ .kind = TK_WORD, .s = text + i, .n = j - i, .col = col };
        A->ntok++;
        i = j;
    }
    return true;
}

static bool word_is(const token *t, const char *w)
{
    return t->kind == TK_WORD && t->n == strlen(w) && memcmp(t->s, w, t->n) == 0;
}

/* The token as text for a message: words quoted and cut short, strings as "string". */
static const char *tok_show(const token *t, char *buf, size_t bufsz)
{
    if (t->kind == TK_STRING) return "string";
    size_t n = t->n < 40 ? t->n : 40;
    snprintf(buf, bufsz, "'%.*s%s'", (int)n, t->s, t->n > n ? "..." : "");
    return buf;
}

/* A word as a C string in buf, or false when it does not fit. */
static bool word_copy(const token *t, char *buf, size_t bufsz)
{
    if (t->kind != TK_WORD || t->n >= bufsz) return false;
    memcpy(buf, t->s, t->n);
    buf[t->n] = '\0';
    return true;
}

static bool is_ident(const char *s, size_t n)
{
    if (n == 0 || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_')) return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

typedef enum { NUM_OK, NUM_NOT_NUMBER, NUM_RANGE } num_result;

/* An unsigned decimal or 0x-hex number no larger than max. */
static num_result parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    if (n == 0) return NUM_NOT_NUMBER;
    if (s[0] == '-' || s[0] == '+') {
        if (n > 1 && s[1] >= '0' && s[1] <= '9') return s[0] == '-' ? NUM_RANGE : NUM_NOT_NUMBER;
        return NUM_NOT_NUMBER;
    }
    unsigned base = 10;
    size_t i = 0;
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
    }
    uint64_t v = 0;
    bool range = false;
    for (; i < n; i++) {
        int d = base == 16 ? hexval((unsigned char)s[i]) : (s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -1);
        if (d < 0) return NUM_NOT_NUMBER;
        if (v > (UINT64_MAX - (uint64_t)d) / base) range = true;
        else v = v * base + (uint64_t)d;
    }
    if (range || v > max) return NUM_RANGE;
    *out = v;
    return NUM_OK;
}

static bool want_uint(assembler *A, const token *t, uint64_t max, const char *what, uint64_t *out)
{
    char show[64];
    if (t->kind != TK_WORD) return asm_error(A, t->col, "%s: expected a number, got a string", what);
    switch (parse_uint(t->s, t->n, max, out)) {
    case NUM_OK: return true;
    case NUM_RANGE: return asm_error(A, t->col, "%s %s out of range (0 to %llu)", what, tok_show(t, show, sizeof show), (unsigned long long)max);
    case NUM_NOT_NUMBER: break;
    }
    return asm_error(A, t->col, "%s: expected a number, got %s", what, tok_show(t, show, sizeof show));
}

/* "@LINE:COL" */
static bool parse_pos(assembler *A, const token *t, zx_pos *pos)
{
    char show[64];
    const char *colon = t->kind == TK_WORD && t->n > 1 ? memchr(t->s, ':', t->n) : NULL;
    uint64_t line = 0, col = 0;
    if (!colon || t->s[0] != '@' ||
        parse_uint(t->s + 1, (size_t)(colon - t->s - 1), UINT32_MAX, &line) != NUM_OK ||
        parse_uint(colon + 1, (size_t)(t->s + t->n - colon - 1), UINT32_MAX, &col) != NUM_OK)
        return asm_error(A, t->col, "bad position %s (expected @LINE:COL)", tok_show(t, show, sizeof show));
    pos->line = (uint32_t)line;
    pos->col = (uint32_t)col;
    return true;
}

static bool is_pos(const token *t) { return t->kind == TK_WORD && t->n > 0 && t->s[0] == '@'; }

/* A string token as a name: a new C string, or NULL after an error. */
static char *tok_name(assembler *A, const token *t, const char *what)
{
    if (t->kind != TK_STRING) {
        char show[64];
        asm_error(A, t->col, "%s: expected a quoted name, got %s", what, tok_show(t, show, sizeof show));
        return NULL;
    }
    if (memchr(t->s, '\0', t->n)) {
        asm_error(A, t->col, "%s: a name cannot contain a NUL byte", what);
        return NULL;
    }
    if (!zx_utf8_valid(t->s, t->n)) {
        asm_error(A, t->col, "%s: the name is not valid UTF-8", what);
        return NULL;
    }
    char *s = malloc(t->n + 1);
    if (!s) {
        asm_oom(A, t->col, "out of memory");
        return NULL;
    }
    memcpy(s, t->s, t->n + 1);
    return s;
}

/* Checks that the statement has between lo and hi operands after its first token. */
static bool want_args(assembler *A, int lo, int hi, const char *what)
{
    int n = A->ntok - 1;
    if (n < lo) {
        const token *last = &A->tok[A->ntok - 1];
        return asm_error(A, last->col + (uint32_t)last->n, "%s: missing operand", what);
    }
    if (n > hi) {
        char show[64];
        return asm_error(A, A->tok[hi + 1].col, "%s: unexpected %s", what, tok_show(&A->tok[hi + 1], show, sizeof show));
    }
    return true;
}

/* ---- labels ---- */

static bool label_add(assembler *A, labels *L, const token *t, size_t n, uint32_t pc)
{
    if (L->n == L->cap) {
        uint32_t cap = L->cap ? L->cap * 2 : 8;
        label *v = realloc(L->v, (size_t)cap * sizeof *v);
        if (!v) return asm_oom(A, t->col, "out of memory");
        L->v = v;
        L->cap = cap;
    }
    char *name = malloc(n + 1);
    if (!name) return asm_oom(A, t->col, "out of memory");
    memcpy(name, t->s, n);
    name[n] = '\0';
    L->v[L->n++] = (label){ .name = name, .pc = pc, .line = A->line, .col = t->col };
    return true;
}

static void labels_free(labels *L)
{
    for (uint32_t i = 0; i < L->n; i++) free(L->v[i].name);
    free(L->v);
    *L = (labels){ 0 };
}

static int cmp_label(const void *x, const void *y)
{
    const label *a = x, *b = y;
    int c = strcmp(a->name, b->name);
    if (c) return c;
    if (a->line != b->line) return a->line < b->line ? -1 : 1;
    return a->col < b->col ? -1 : a->col > b->col;
}

/* At .end: every label defined once, every use patched with its definition. */
static bool resolve_labels(assembler *A, block *B)
{
    labels *D = &B->defs;
    if (D->n) qsort(D->v, D->n, sizeof *D->v, cmp_label);
    for (uint32_t i = 1; i < D->n; i++) {
        if (strcmp(D->v[i - 1].name, D->v[i].name) == 0) {
            A->line = D->v[i].line;
            return asm_error(A, D->v[i].col, "duplicate label '%s' (first defined on line %u)", D->v[i].name, D->v[i - 1].line);
        }
    }
    for (uint32_t i = 0; i < B->uses.n; i++) {
        const label *u = &B->uses.v[i];
        label key = { .name = u->name };
        const label *d = NULL;
        /* binary search on the name alone */
        uint32_t lo = 0, hi = D->n;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            int c = strcmp(D->v[mid].name, key.name);
            if (c == 0) { d = &D->v[mid]; break; }
            if (c < 0) lo = mid + 1;
            else hi = mid;
        }
        if (!d) {
            A->line = u->line;
            return asm_error(A, u->col, "undefined label '%s'", u->name);
        }
        B->code->code[u->pc].a = d->pc;
    }
    return true;
}

/* ---- statements ---- */

static block *top_block(assembler *A, const char *what)
{
    if (A->depth == 0) {
        asm_error(A, A->tok[0].col, "'%s' outside a '.code' block", what);
        return NULL;
    }
    return &A->blocks[A->depth - 1];
}

static bool parse_float(assembler *A, const token *t, double *out)
{
    char buf[512], show[64];
    if (!word_copy(t, buf, sizeof buf))
        return asm_error(A, t->col, "bad float constant %s", tok_show(t, show, sizeof show));
    const char *s = buf;
    bool neg = *s == '-';
    if (*s == '-' || *s == '+') s++;
    uint64_t bits;
    if (strcmp(s, "inf") == 0) {
        *out = neg ? -HUGE_VAL : HUGE_VAL;
        return true;
    }
    if (strcmp(s, "nan") == 0) {
        bits = neg ? 0xFFF8000000000000ull : 0x7FF8000000000000ull;
        memcpy(out, &bits, sizeof bits);
        return true;
    }
    if (strncmp(s, "nan(", 4) == 0) {
        size_t n = strlen(s);
        if (s != buf || n < 6 || s[n - 1] != ')' ||
            parse_uint(s + 4, n - 5, UINT64_MAX, &bits) != NUM_OK || strncmp(s + 4, "0x", 2) != 0 ||
            ((bits >> 52) & 0x7FF) != 0x7FF || (bits & ((1ull << 52) - 1)) == 0)
            return asm_error(A, t->col, "bad NaN %s (expected nan(0xBITS) with the bits of a NaN)", tok_show(t, show, sizeof show));
        memcpy(out, &bits, sizeof bits);
        return true;
    }
    /* Decimal or hex digits only, so that strtod's own spellings of inf and nan stay out. */
    if (!((*s >= '0' && *s <= '9') || *s == '.'))
        return asm_error(A, t->col, "bad float constant %s", tok_show(t, show, sizeof show));
    for (const char *q = s; *q; q++)
        if (!(hexval((unsigned char)*q) >= 0 || *q == '.' || *q == 'x' || *q == 'X' || *q == 'p' || *q == 'P' ||
              *q == '+' || *q == '-'))
            return asm_error(A, t->col, "bad float constant %s", tok_show(t, show, sizeof show));
    char *end = NULL;
    double d = A->c_locale ? strtod_l(buf, &end, A->c_locale) : strtod(buf, &end);
    if (!end || *end != '\0') return asm_error(A, t->col, "bad float constant %s", tok_show(t, show, sizeof show));
    if (isinf(d)) return asm_error(A, t->col, "float constant %s out of range", tok_show(t, show, sizeof show));
    *out = d;
    return true;
}

static bool parse_int(assembler *A, const token *t, int64_t *out)
{
    char show[64];
    bool neg = t->n > 0 && t->s[0] == '-';
    uint64_t v = 0;
    num_result r = t->n > (size_t)neg ? parse_uint(t->s + neg, t->n - neg, neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX, &v) : NUM_NOT_NUMBER;
    if (t->kind != TK_WORD || (neg && t->n > 1 && (t->s[1] == '-' || t->s[1] == '+'))) r = NUM_NOT_NUMBER;
    if (r == NUM_RANGE) return asm_error(A, t->col, "integer constant %s out of range", tok_show(t, show, sizeof show));
    if (r != NUM_OK) return asm_error(A, t->col, "bad integer constant %s", tok_show(t, show, sizeof show));
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

static bool do_const(assembler *A)
{
    block *B = top_block(A, ".const");
    if (!B || !want_args(A, 1, 2, ".const")) return false;
    const token *ty = &A->tok[1], *val = A->ntok > 2 ? &A->tok[2] : NULL;
    char show[64];
    zx_value v;
    if (word_is(ty, "null")) {
        if (!want_args(A, 1, 1, ".const null")) return false;
        v = zx_null();
    } else if (!val) {
        return want_args(A, 2, 2, ".const");
    } else if (word_is(ty, "bool")) {
        if (word_is(val, "true")) v = zx_bool(true);
        else if (word_is(val, "false")) v = zx_bool(false);
        else return asm_error(A, val->col, "bad boolean constant %s (expected true or false)", tok_show(val, show, sizeof show));
    } else if (word_is(ty, "int")) {
        int64_t i = 0;
        if (!parse_int(A, val, &i)) return false;
        v = zx_int(i);
    } else if (word_is(ty, "float")) {
        double d = 0;
        if (val->kind != TK_WORD || !parse_float(A, val, &d))
            return A->failed ? false : asm_error(A, val->col, "bad float constant (a number expected)");
        v = zx_float(d);
    } else if (word_is(ty, "string")) {
        if (val->kind != TK_STRING) return asm_error(A, val->col, "a string constant needs a quoted string");
        if (!zx_utf8_valid(val->s, val->n)) return asm_error(A, val->col, "string constant is not valid UTF-8");
        zx_string *z = zx_string_new(A->p->heap, val->s, val->n);
        if (!z) return asm_oom(A, val->col, "memory limit exceeded");
        zx_code_push_const(B->code, zx_objval(z));
        zx_obj_decref(z);
        return B->code->oom ? asm_oom(A, val->col, "out of memory") : true;
    } else {
        return asm_error(A, ty->col, "unknown constant type %s (expected null, bool, int, float or string)", tok_show(ty, show, sizeof show));
    }
    zx_code_push_const(B->code, v);
    return B->code->oom ? asm_oom(A, A->tok[0].col, "out of memory") : true;
}

static bool do_code(assembler *A)
{
    if (!want_args(A, 2, 3, ".code")) return false;
    const token *k = &A->tok[1];
    char show[64];
    zx_code_kind kind;
    if (word_is(k, "main")) kind = ZX_CODE_MAIN;
    else if (word_is(k, "action")) kind = ZX_CODE_ACTION;
    else if (word_is(k, "lambda")) kind = ZX_CODE_LAMBDA;
    else if (word_is(k, "fork")) kind = ZX_CODE_FORK;
    else return asm_error(A, k->col, "unknown code kind %s (expected main, action, lambda or fork)", tok_show(k, show, sizeof show));
    zx_pos pos = { 0, 0 };
    if (A->ntok > 3 && !parse_pos(A, &A->tok[3], &pos)) return false;
    if (A->depth == 0 && A->p->main)
        return asm_error(A, A->tok[0].col, "a second top-level '.code' (a program has one main code object)");
    if (A->depth == ZX_MAX_CODE_DEPTH)
        return asm_error(A, A->tok[0].col, "code objects nested too deeply (at most %d levels)", ZX_MAX_CODE_DEPTH);
    char *name = tok_name(A, &A->tok[2], ".code");
    if (!name) return false;
    zx_code *c = zx_code_new(kind, name);
    free(name);
    if (!c) return asm_oom(A, A->tok[0].col, "out of memory");
    c->pos = pos;
    if (A->depth == 0) A->p->main = c;
    else if (zx_code_add_child(A->blocks[A->depth - 1].code, c), A->blocks[A->depth - 1].code->oom) {
        zx_code_free(c);
        return asm_oom(A, A->tok[0].col, "out of memory");
    }
    A->blocks[A->depth++] = (block){ .code = c, .line = A->line, .col = A->tok[0].col };
    return true;
}

static bool do_global(assembler *A)
{
    if (A->depth) return asm_error(A, A->tok[0].col, "'.global' inside a '.code' block");
    if (!want_args(A, 1, 3, ".global")) return false;
    char *name = tok_name(A, &A->tok[1], ".global");
    if (!name) return false;
    bool is_const = false, is_shared = false, ok = true;
    for (int i = 2; i < A->ntok && ok; i++) {
        const token *t = &A->tok[i];
        bool *flag = word_is(t, "const") ? &is_const : word_is(t, "shared") ? &is_shared : NULL;
        char show[64];
        if (!flag) ok = asm_error(A, t->col, "unknown global flag %s (expected const or shared)", tok_show(t, show, sizeof show));
        else if (*flag) ok = asm_error(A, t->col, "duplicate flag %s", tok_show(t, show, sizeof show));
        else *flag = true;
    }
    for (uint32_t i = 0; i < A->p->nglobals && ok; i++)
        if (strcmp(A->p->globals[i].name, name) == 0) ok = asm_error(A, A->tok[1].col, "duplicate global '%s'", name);
    if (ok) {
        uint32_t g = zx_program_push_global(A->p, name);
        if (A->p->oom) {
            ok = asm_oom(A, A->tok[0].col, "out of memory");
        } else {
            A->p->globals[g].is_const = is_const;
            A->p->globals[g].is_shared = is_shared;
        }
    }
    free(name);
    return ok;
}

static bool do_directive(assembler *A)
{
    const token *d = &A->tok[0];
    char show[64];
    if (word_is(d, ".zxa")) {
        if (A->started) return asm_error(A, d->col, "'.zxa' must be the first statement");
        if (!want_args(A, 1, 1, ".zxa")) return false;
        if (!word_is(&A->tok[1], "1"))
            return asm_error(A, A->tok[1].col, "unsupported .zxa version %s (this assembler reads version 1)", tok_show(&A->tok[1], show, sizeof show));
        return true;
    }
    if (word_is(d, ".source")) {
        if (A->depth) return asm_error(A, d->col, "'.source' inside a '.code' block");
        if (A->have_source) return asm_error(A, d->col, "duplicate '.source'");
        if (!want_args(A, 1, 1, ".source")) return false;
        char *name = tok_name(A, &A->tok[1], ".source");
        if (!name) return false;
        free(A->p->source_name);
        A->p->source_name = name;
        A->have_source = true;
        return true;
    }
    if (word_is(d, ".file")) {   /* a module file bundled in the program (zx_program_add_file) */
        if (A->depth) return asm_error(A, d->col, "'.file' inside a '.code' block");
        if (!want_args(A, 1, 1, ".file")) return false;
        char *name = tok_name(A, &A->tok[1], ".file");
        if (!name) return false;
        zx_program_add_file(A->p, name);
        free(name);
        return A->p->oom ? asm_oom(A, d->col, "out of memory") : true;
    }
    if (word_is(d, ".infile")) {   /* the code object's positions are in module file N */
        block *B = top_block(A, ".infile");
        uint64_t n;
        if (!B || !want_args(A, 1, 1, ".infile")) return false;
        if (!want_uint(A, &A->tok[1], A->p->nfiles, ".infile", &n)) return false;
        B->code->file = (uint32_t)n;
        return true;
    }
    if (word_is(d, ".global")) return do_global(A);
    if (word_is(d, ".code")) return do_code(A);
    if (word_is(d, ".end")) {
        if (A->depth == 0) return asm_error(A, d->col, "'.end' without '.code'");
        if (!want_args(A, 0, 0, ".end")) return false;
        block *B = &A->blocks[A->depth - 1];
        uint32_t line = A->line;
        bool ok = resolve_labels(A, B);
        A->line = line;
        labels_free(&B->defs);
        labels_free(&B->uses);
        A->depth--;
        return ok;
    }
    if (word_is(d, ".params")) {
        block *B = top_block(A, ".params");
        uint64_t n;
        if (!B || !want_args(A, 1, 1, ".params")) return false;
        if (B->params_set) return asm_error(A, d->col, "duplicate '.params'");
        if (!want_uint(A, &A->tok[1], UINT32_MAX, ".params", &n)) return false;
        B->code->nparams = (uint32_t)n;
        B->params_set = true;
        return true;
    }
    if (word_is(d, ".local")) {
        block *B = top_block(A, ".local");
        if (!B || !want_args(A, 1, 2, ".local")) return false;
        if (A->ntok > 2 && !word_is(&A->tok[2], "cell"))
            return asm_error(A, A->tok[2].col, "unknown local flag %s (expected cell)", tok_show(&A->tok[2], show, sizeof show));
        char *name = tok_name(A, &A->tok[1], ".local");
        if (!name) return false;
        uint32_t i = zx_code_add_local(B->code, name);
        free(name);
        if (B->code->oom) return asm_oom(A, A->tok[0].col, "out of memory");
        B->code->local_is_cell[i] = A->ntok > 2;
        return true;
    }
    if (word_is(d, ".free")) {
        block *B = top_block(A, ".free");
        uint64_t index;
        if (!B || !want_args(A, 3, 3, ".free")) return false;
        const token *from = &A->tok[2];
        if (!word_is(from, "local") && !word_is(from, "free"))
            return asm_error(A, from->col, "bad origin %s (expected local or free)", tok_show(from, show, sizeof show));
        if (!want_uint(A, &A->tok[3], UINT32_MAX, ".free index", &index)) return false;
        char *name = tok_name(A, &A->tok[1], ".free");
        if (!name) return false;
        zx_code_add_free(B->code, name, word_is(from, "local"), (uint32_t)index);
        free(name);
        return B->code->oom ? asm_oom(A, A->tok[0].col, "out of memory") : true;
    }
    if (word_is(d, ".handler")) {
        block *B = top_block(A, ".handler");
        uint64_t v[3];
        if (!B || !want_args(A, 3, 3, ".handler")) return false;
        for (int i = 0; i < 3; i++)
            if (!want_uint(A, &A->tok[1 + i], UINT32_MAX, ".handler", &v[i])) return false;
        zx_code_add_handler(B->code, (uint32_t)v[0], (uint32_t)v[1], (uint32_t)v[2]);
        return B->code->oom ? asm_oom(A, A->tok[0].col, "out of memory") : true;
    }
    if (word_is(d, ".const")) return do_const(A);
    return asm_error(A, d->col, "unknown directive %s", tok_show(d, show, sizeof show));
}

/* One operand of an instruction: a number, or a label, builtin or operator name. */
static bool instr_operand(assembler *A, block *B, const zx_opinfo *info, int which, const token *t, uint32_t *out)
{
    char show[64], word[64];
    uint64_t v = 0;
    const char *what = which == 0 ? "operand a" : "operand b";
    if (t->kind == TK_WORD && is_ident(t->s, t->n)) {
        bool fits = word_copy(t, word, sizeof word);
        if (which == 0 && (info->kind == OPK_JUMP || info->kind == OPK_ITER)) {
            *out = 0;
            return label_add(A, &B->uses, t, t->n, B->code->ncode);
        }
        if (which == 0 && info->kind == OPK_BUILTIN) {
            int id = fits ? zx_builtin_lookup(word) : -1;
            if (id < 0) return asm_error(A, t->col, "unknown builtin %s", tok_show(t, show, sizeof show));
            *out = (uint32_t)id;
            return true;
        }
        if (which == 1 && info->number == OP_SHARED_WRITE) {
            int op = fits ? zx_op_by_name(word) : -1;
            if (op < 0) return asm_error(A, t->col, "unknown operator %s", tok_show(t, show, sizeof show));
            *out = (uint32_t)op;
            return true;
        }
    }
    if (!want_uint(A, t, which == 0 ? UINT32_MAX : UINT16_MAX, what, &v)) return false;
    *out = (uint32_t)v;
    return true;
}

static bool do_instruction(assembler *A)
{
    char show[64], word[32];
    int i = 0;
    block *B = A->depth ? &A->blocks[A->depth - 1] : NULL;
    /* prefixes: "N:" and "LABEL:" */
    while (i < A->ntok && A->tok[i].kind == TK_WORD && A->tok[i].n >= 2 && A->tok[i].s[A->tok[i].n - 1] == ':') {
        const token *t = &A->tok[i];
        if (!B) return asm_error(A, t->col, "label outside a '.code' block");
        uint64_t n;
        if (t->s[0] >= '0' && t->s[0] <= '9') {
            if (parse_uint(t->s, t->n - 1, UINT32_MAX, &n) != NUM_OK)
                return asm_error(A, t->col, "bad instruction number %s", tok_show(t, show, sizeof show));
            if (n != B->code->ncode)
                return asm_error(A, t->col, "instruction number %llu, but this is instruction %u", (unsigned long long)n, B->code->ncode);
        } else {
            if (!is_ident(t->s, t->n - 1)) return asm_error(A, t->col, "bad label name %s", tok_show(t, show, sizeof show));
            if (!label_add(A, &B->defs, t, t->n - 1, B->code->ncode)) return false;
        }
        i++;
    }
    if (i == A->ntok) return true;
    const token *opt = &A->tok[i];
    int op = word_copy(opt, word, sizeof word) && is_ident(opt->s, opt->n) ? zx_op_by_name(word) : -1;
    if (op < 0) {
        if (opt->kind == TK_STRING) return asm_error(A, opt->col, "unexpected string");
        return asm_error(A, opt->col, "unknown opcode %s", tok_show(opt, show, sizeof show));
    }
    if (!B) return asm_error(A, opt->col, "instruction outside a '.code' block");
    const zx_opinfo *info = zx_op_info((unsigned)op);
    int want = zx_op_operand_count((unsigned)op);
    uint32_t ops[2] = { 0, 0 };
    int nops = 0;
    zx_pos pos = { 0, 0 };
    for (i++; i < A->ntok && !is_pos(&A->tok[i]); i++) {
        if (nops == 2) return asm_error(A, A->tok[i].col, "too many operands for %s", info->name);
        if (!instr_operand(A, B, info, nops, &A->tok[i], &ops[nops])) return false;
        nops++;
    }
    if (nops < want) {
        const token *last = &A->tok[i - 1];
        return asm_error(A, last->col + (uint32_t)last->n, "%s needs %d operand%s", info->name, want, want == 1 ? "" : "s");
    }
    if (i < A->ntok) {
        if (!parse_pos(A, &A->tok[i], &pos)) return false;
        if (++i < A->ntok) return asm_error(A, A->tok[i].col, "unexpected %s after the position", tok_show(&A->tok[i], show, sizeof show));
    }
    zx_code_emit(B->code, (uint16_t)op, ops[0], (uint16_t)ops[1], pos);
    return B->code->oom ? asm_oom(A, A->tok[0].col, "out of memory") : true;
}

static bool do_statement(assembler *A)
{
    if (A->ntok == 0) return true;
    bool ok;
    if (A->tok[0].kind == TK_WORD && A->tok[0].s[0] == '.') ok = do_directive(A);
    else if (A->tok[0].kind == TK_STRING) ok = asm_error(A, A->tok[0].col, "unexpected string");
    else ok = do_instruction(A);
    A->started = true;
    return ok;
}

zx_program *zx_assemble(const char *text, size_t len, const char *source_name, zx_heap *heap,
                        char *err, size_t errsz)
{
    return zx_assemble_ex(text, len, source_name, heap, err, errsz, NULL);
}

zx_program *zx_assemble_ex(const char *text, size_t len, const char *source_name, zx_heap *heap,
                           char *err, size_t errsz, bool *oom)
{
    if (oom) *oom = false;
    if (errsz) err[0] = '\0';
    if (!source_name) source_name = "<assembly>";
    assembler *A = calloc(1, sizeof *A);
    if (!A) {
        if (errsz) snprintf(err, errsz, "%s:1:1: error: out of memory", source_name);
        if (oom) *oom = true;
        return NULL;
    }
    A->text = text ? text : "";
    A->len = text ? len : 0;
    A->file = source_name;
    A->err = err;
    A->errsz = errsz;
    A->p = zx_program_new(source_name, heap);
    if (!A->p) {
        if (errsz) snprintf(err, errsz, "%s:1:1: error: out of memory", source_name);
        if (oom) *oom = true;
        free(A);
        return NULL;
    }
    A->c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);

    size_t pos = 0;
    A->line = 1;
    while (pos < A->len && !A->failed) {
        size_t end = pos;
        while (end < A->len && A->text[end] != '\n') end++;
        if (tokenize(A, pos, end)) do_statement(A);
        free_tokens(A);
        if (end == A->len) break;
        pos = end + 1;
        A->line++;
    }
    if (!A->failed && pos < A->len) A->line++;   /* the text ends without a newline */
    if (!A->failed && A->depth) {
        const block *B = &A->blocks[A->depth - 1];
        asm_error(A, 1, "missing '.end' for the '.code' on line %u", B->line);
    }
    if (!A->failed && !A->p->main) asm_error(A, 1, "missing '.code' (a program needs a main code object)");

    zx_program *p = A->p;
    for (int i = 0; i < A->depth; i++) {
        labels_free(&A->blocks[i].defs);
        labels_free(&A->blocks[i].uses);
    }
    if (A->failed) {
        zx_program_free(p);
        p = NULL;
        if (oom) *oom = A->oom;
    }
    if (A->c_locale) freelocale(A->c_locale);
    free(A);
    return p;
}
