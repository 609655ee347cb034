/* lexer.c — tokens of Zexus source: names, keywords, literals, operators, significant newlines. */
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/lexer.h"

typedef struct lexer {
    const unsigned char *s;
    size_t len, i;
    uint32_t line, col;     /* position of s[i]; columns count code points */
    lexer_tokens *out;
    locale_t c_locale;      /* for strtod_l, created on the first float literal */
    bool done;              /* TK_EOF or TK_ERROR pushed, or out of memory */
    bool oom;
    struct lexer_interp *interp;   /* the ${ of strings still open, innermost last */
    size_t ninterp;
} lexer;

#define LEXER_MAX_INTERP 64

static const struct { const char *text; lexer_kind kind; } lexer_keywords[] = {
#define LEXER_ROW(name, text) { text, TK_##name },
    LEXER_KEYWORDS(LEXER_ROW)
};

static const struct { const char *text; lexer_kind kind; } lexer_puncts[] = {
    LEXER_PUNCTS(LEXER_ROW)
#undef LEXER_ROW
};

const char *lexer_kind_text(lexer_kind kind)
{
    switch (kind) {
    case TK_EOF: return "end of input";
    case TK_NEWLINE: return "newline";
    case TK_ERROR: return "error";
    case TK_INT: return "integer literal";
    case TK_FLOAT: return "float literal";
    case TK_STRING: return "string literal";
    case TK_ISTR_BEGIN: return "interpolated string";
    case TK_ISTR_MID: case TK_ISTR_END: return "}";
    case TK_NAME: return "name";
#define LEXER_CASE(name, text) case TK_##name: return text;
    LEXER_KEYWORDS(LEXER_CASE)
    LEXER_PUNCTS(LEXER_CASE)
#undef LEXER_CASE
    case TK_COUNT: break;
    }
    return "?";
}

bool lexer_is_keyword(lexer_kind kind)
{
    for (size_t k = 0; k < sizeof lexer_keywords / sizeof lexer_keywords[0]; k++)
        if (lexer_keywords[k].kind == kind) return true;
    return false;
}

static bool lexer_is_digit(unsigned c) { return c >= '0' && c <= '9'; }
static bool lexer_is_name_start(unsigned c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool lexer_is_name_char(unsigned c) { return lexer_is_name_start(c) || lexer_is_digit(c); }

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, surrogates or code
 * points above U+10FFFF), or 0. */
static size_t lexer_utf8_len(const unsigned char *s, size_t avail)
{
    unsigned c = s[0], lo = 0x80, hi = 0xBF;
    size_t need;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (avail < need || s[1] < lo || s[1] > hi) return 0;
    for (size_t k = 2; k < need; k++)
        if (s[k] < 0x80 || s[k] > 0xBF) return 0;
    return need;
}

/* The code point of a well-formed sequence of n bytes. */
static unsigned lexer_utf8_decode(const unsigned char *s, size_t n)
{
    if (n == 1) return s[0];
    unsigned cp = s[0] & (0x7F >> n);
    for (size_t k = 1; k < n; k++) cp = (cp << 6) | (s[k] & 0x3F);
    return cp;
}

static zx_pos lexer_here(const lexer *lx) { return (zx_pos){ lx->line, lx->col }; }

static lexer_token *lexer_push(lexer *lx, lexer_kind kind, zx_pos pos, size_t start)
{
    lexer_tokens *t = lx->out;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        lexer_token *v = realloc(t->v, cap * sizeof *v);
        if (!v) {
            lx->oom = lx->done = true;
            return NULL;
        }
        t->v = v;
        t->cap = cap;
    }
    lexer_token *tok = &t->v[t->n++];
    memset(tok, 0, sizeof *tok);
    tok->kind = kind;
    tok->pos = pos;
    tok->start = start;
    tok->len = lx->i > start ? lx->i - start : 0;
    if (kind == TK_EOF || kind == TK_ERROR) lx->done = true;
    return tok;
}

static void lexer_error(lexer *lx, zx_pos pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void lexer_error(lexer *lx, zx_pos pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lx->out->err, sizeof lx->out->err, fmt, ap);
    va_end(ap);
    lexer_push(lx, TK_ERROR, pos, lx->i);
}

/* Runs of line ends become one TK_NEWLINE: the parser only asks whether a line ended. */
static void lexer_newline(lexer *lx, zx_pos pos, size_t start)
{
    lexer_tokens *t = lx->out;
    if (t->n && t->v[t->n - 1].kind == TK_NEWLINE) return;
    lexer_push(lx, TK_NEWLINE, pos, start);
}

/* Step over the code point at s[i] (inside a comment or a string): false, with the error
 * token pushed, when it is a NUL byte or not valid UTF-8. */
static bool lexer_step(lexer *lx)
{
    unsigned char c = lx->s[lx->i];
    if (c == 0) {
        lexer_error(lx, lexer_here(lx), "unexpected character U+0000");
        return false;
    }
    size_t k = lexer_utf8_len(lx->s + lx->i, lx->len - lx->i);
    if (!k) {
        lexer_error(lx, lexer_here(lx), "invalid UTF-8");
        return false;
    }
    lx->i += k;
    if (c == '\n') {
        lx->line++;
        lx->col = 1;
    } else {
        lx->col++;
    }
    return true;
}

static void lexer_comment(lexer *lx)
{
    while (lx->i < lx->len && lx->s[lx->i] != '\n')
        if (!lexer_step(lx)) return;
}

/* A block comment that spans lines ends the statement like the line end it contains.  Block
 * comments nest: each inner opening needs its own closing. */
static void lexer_block_comment(lexer *lx)
{
    zx_pos open = lexer_here(lx), nlpos = { 0, 0 };
    size_t nlat = 0, depth = 1;
    lx->i += 2;
    lx->col += 2;
    for (;;) {
        if (lx->i >= lx->len) {
            lexer_error(lx, open, "unterminated comment");
            return;
        }
        if (lx->s[lx->i] == '*' && lx->i + 1 < lx->len && lx->s[lx->i + 1] == '/') {
            lx->i += 2;
            lx->col += 2;
            if (--depth == 0) break;
            continue;
        }
        if (lx->s[lx->i] == '/' && lx->i + 1 < lx->len && lx->s[lx->i + 1] == '*') {
            lx->i += 2;
            lx->col += 2;
            depth++;
            continue;
        }
        if (lx->s[lx->i] == '\n' && !nlpos.line) {
            nlpos = lexer_here(lx);
            nlat = lx->i;
        }
        if (!lexer_step(lx)) return;
    }
    if (nlpos.line) lexer_newline(lx, nlpos, nlat);
}

static void lexer_number(lexer *lx)
{
    zx_pos pos = lexer_here(lx);
    size_t start = lx->i, end = lx->i;
    const unsigned char *s = lx->s;
    bool is_float = false;
    while (end < lx->len && lexer_is_digit(s[end])) end++;
    if (end + 1 < lx->len && s[end] == '.' && lexer_is_digit(s[end + 1])) {
        is_float = true;
        end++;
        while (end < lx->len && lexer_is_digit(s[end])) end++;
    }
    if (end < lx->len && lexer_is_name_char(s[end])) {
        /* 0x1F, 1e5, 1_000, 12abc: LANGUAGE-FACTS.md allows only digits and digits.digits */
        while (end < lx->len && lexer_is_name_char(s[end])) end++;
        size_t n = end - start;
        lexer_error(lx, pos, "invalid number literal '%.*s%s'", (int)(n > 40 ? 40 : n),
                    (const char *)s + start, n > 40 ? "..." : "");
        return;
    }
    lx->i = end;
    lx->col += (uint32_t)(end - start);
    if (!is_float) {
        uint64_t v = 0;
        for (size_t k = start; k < end; k++) {
            unsigned d = s[k] - '0';
            if (v > ((uint64_t)INT64_MAX - d) / 10) {
                lexer_error(lx, pos, "integer literal too large");
                return;
            }
            v = v * 10 + d;
        }
        lexer_token *t = lexer_push(lx, TK_INT, pos, start);
        if (t) t->ival = (int64_t)v;
        return;
    }
    /* strtod_l in the C locale: the program's locale must not change what 1.5 means */
    if (!lx->c_locale) {
        lx->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
        if (!lx->c_locale) {
            lx->oom = lx->done = true;
            return;
        }
    }
    char small[64], *buf = small;
    size_t n = end - start;
    if (n >= sizeof small) {
        buf = malloc(n + 1);
        if (!buf) {
            lx->oom = lx->done = true;
            return;
        }
    }
    memcpy(buf, s + start, n);
    buf[n] = '\0';
    double v = strtod_l(buf, NULL, lx->c_locale);   /* too large for a double: inf, as in Python */
    if (buf != small) free(buf);
    lexer_token *t = lexer_push(lx, TK_FLOAT, pos, start);
    if (t) t->fval = v;
}

static void lexer_name(lexer *lx)
{
    zx_pos pos = lexer_here(lx);
    size_t start = lx->i;
    while (lx->i < lx->len && lexer_is_name_char(lx->s[lx->i])) lx->i++;
    size_t n = lx->i - start;
    lx->col += (uint32_t)n;
    lexer_kind kind = TK_NAME;
    for (size_t k = 0; k < sizeof lexer_keywords / sizeof lexer_keywords[0]; k++) {
        const char *kw = lexer_keywords[k].text;
        if (strlen(kw) == n && memcmp(kw, lx->s + start, n) == 0) {
            kind = lexer_keywords[k].kind;
            break;
        }
    }
    lexer_push(lx, kind, pos, start);
}

typedef struct lexer_buf {
    char *data;
    size_t n, cap;
} lexer_buf;

static bool lexer_buf_add(lexer *lx, lexer_buf *b, const void *p, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 32;
        while (cap < b->n + n + 1) cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) {
            lx->oom = lx->done = true;
            return false;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->n, p, n);
    b->n += n;
    b->data[b->n] = '\0';
    return true;
}

/* An interpolated string's ${ still open: where its string began, and the braces opened
 * inside the expression so far (a `}` at 0 ends the expression and resumes the string). */
typedef struct lexer_interp {
    zx_pos spos, open;
    size_t sstart;
    uint32_t braces;
} lexer_interp;

/* A string literal, or the rest of one after an interpolation's `}` (resume).  quote is '"' or
 * '\'', triple for """...""" and '''...''' (which may span lines).  Only a one-line
 * double-quoted string interpolates ${...} and rejects unknown escapes; the other forms keep
 * the character after an unknown `\` (REFERENCE-NOTES S8). */
static void lexer_string(lexer *lx, zx_pos pos, size_t start, char quote, bool triple, bool resume)
{
    const unsigned char *s = lx->s;
    bool strict = quote == '"' && !triple;
    lexer_buf b = { 0 };
    lexer_kind kind = resume ? TK_ISTR_END : TK_STRING;
    if (!lexer_buf_add(lx, &b, "", 0)) goto fail;
    if (!resume) {
        lx->i += triple ? 3 : 1;
        lx->col += triple ? 3 : 1;
    }
    for (;;) {
        if (lx->i >= lx->len || (!triple && s[lx->i] == '\n')) {
            if (!resume && !triple && lx->ninterp)   /* "a${x" : the quote was meant to end the string */
                lexer_error(lx, lx->interp[lx->ninterp - 1].open, "unterminated '${' in a string (no '}')");
            else
                lexer_error(lx, pos, triple ? "unterminated triple-quoted string" : "unterminated string");
            goto fail;
        }
        unsigned char c = s[lx->i];
        if (c == (unsigned char)quote &&
            (!triple || (lx->i + 2 < lx->len && s[lx->i + 1] == c && s[lx->i + 2] == c))) {
            lx->i += triple ? 3 : 1;
            lx->col += triple ? 3 : 1;
            break;
        }
        if (strict && c == '$' && lx->i + 1 < lx->len && s[lx->i + 1] == '{') {
            if (lx->ninterp == LEXER_MAX_INTERP) {
                lexer_error(lx, lexer_here(lx), "string interpolation nested too deep");
                goto fail;
            }
            lx->interp[lx->ninterp++] = (lexer_interp){ pos, lexer_here(lx), start, 0 };
            lx->i += 2;
            lx->col += 2;
            kind = resume ? TK_ISTR_MID : TK_ISTR_BEGIN;
            break;
        }
        if (c != '\\') {
            size_t at = lx->i;
            if (!lexer_step(lx) || !lexer_buf_add(lx, &b, s + at, lx->i - at)) goto fail;
            continue;
        }
        zx_pos epos = lexer_here(lx);
        if (lx->i + 1 >= lx->len || (!triple && s[lx->i + 1] == '\n')) {
            lexer_error(lx, pos, triple ? "unterminated triple-quoted string" : "unterminated string");
            goto fail;
        }
        unsigned char e = s[lx->i + 1];
        char out = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == '"' ? '"' :
                   e == '\'' ? '\'' : e == '\\' ? '\\' : e == '$' ? '$' : 0;
        if (!out && !strict) {   /* the character itself */
            lx->i++;
            lx->col++;
            size_t at = lx->i;
            if (!lexer_step(lx) || !lexer_buf_add(lx, &b, s + at, lx->i - at)) goto fail;
            continue;
        }
        if (!out) {
            size_t k = lexer_utf8_len(s + lx->i + 1, lx->len - lx->i - 1);
            if (e >= 0x20 && e < 0x7F) {
                lexer_error(lx, epos, "invalid escape '\\%c'", e);
            } else if (e >= 0x80 && k) {
                lexer_error(lx, epos, "invalid escape '\\%.*s'", (int)k, (const char *)s + lx->i + 1);
            } else if (e >= 0x80) {
                lexer_error(lx, (zx_pos){ epos.line, epos.col + 1 }, "invalid UTF-8");
            } else {
                lexer_error(lx, epos, "invalid escape: '\\' followed by U+%04X", e);
            }
            goto fail;
        }
        if (!lexer_buf_add(lx, &b, &out, 1)) goto fail;
        lx->i += 2;
        lx->col += 2;
    }
    lexer_token *t = lexer_push(lx, kind, pos, start);
    if (!t) goto fail;
    if (kind == TK_ISTR_BEGIN || kind == TK_ISTR_MID) t->dollar = lx->interp[lx->ninterp - 1].open;
    t->str = b.data;
    t->slen = b.n;
    return;
fail:
    free(b.data);
}

static void lexer_unexpected(lexer *lx)
{
    const unsigned char *s = lx->s + lx->i;
    zx_pos pos = lexer_here(lx);
    if (s[0] >= 0x80) {
        size_t k = lexer_utf8_len(s, lx->len - lx->i);
        if (!k) lexer_error(lx, pos, "invalid UTF-8");
        else lexer_error(lx, pos, "unexpected character U+%04X", lexer_utf8_decode(s, k));
    } else if (s[0] > 0x20 && s[0] < 0x7F) {
        lexer_error(lx, pos, "unexpected character '%c'", s[0]);
    } else {
        lexer_error(lx, pos, "unexpected character U+%04X", s[0]);
    }
}

static void lexer_punct(lexer *lx)
{
    size_t best = 0, avail = lx->len - lx->i;
    lexer_kind kind = TK_ERROR;
    for (size_t k = 0; k < sizeof lexer_puncts / sizeof lexer_puncts[0]; k++) {
        size_t n = strlen(lexer_puncts[k].text);
        if (n > best && n <= avail && memcmp(lexer_puncts[k].text, lx->s + lx->i, n) == 0) {
            best = n;
            kind = lexer_puncts[k].kind;
        }
    }
    if (!best) {
        lexer_unexpected(lx);
        return;
    }
    zx_pos pos = lexer_here(lx);
    size_t start = lx->i;
    lx->i += best;
    lx->col += (uint32_t)best;
    lexer_push(lx, kind, pos, start);
}

/* Push the next token (or none, for a comment or a repeated line end). */
static void lexer_next(lexer *lx)
{
    const unsigned char *s = lx->s;
    while (lx->i < lx->len && (s[lx->i] == ' ' || s[lx->i] == '\t' || s[lx->i] == '\r' ||
                               s[lx->i] == '\f' || s[lx->i] == '\v')) {
        lx->i++;
        lx->col++;
    }
    if (lx->i >= lx->len) {
        if (lx->ninterp) {
            lexer_error(lx, lx->interp[lx->ninterp - 1].open, "unterminated '${' in a string (no '}')");
            return;
        }
        lexer_push(lx, TK_EOF, lexer_here(lx), lx->i);
        return;
    }
    unsigned char c = s[lx->i], next = lx->i + 1 < lx->len ? s[lx->i + 1] : 0;
    if (c == '\n') {
        zx_pos pos = lexer_here(lx);
        size_t start = lx->i;
        lx->i++;
        lx->line++;
        lx->col = 1;
        lexer_newline(lx, pos, start);
    } else if (c == '#' || (c == '/' && next == '/')) {
        lexer_comment(lx);
    } else if (c == '/' && next == '*') {
        lexer_block_comment(lx);
    } else if (lexer_is_digit(c)) {
        lexer_number(lx);
    } else if (lexer_is_name_start(c)) {
        lexer_name(lx);
    } else if (c == '"' || c == '\'') {
        bool triple = lx->i + 2 < lx->len && next == c && s[lx->i + 2] == c;
        lexer_string(lx, lexer_here(lx), lx->i, (char)c, triple, false);
    } else if (lx->ninterp && c == '}' && lx->interp[lx->ninterp - 1].braces == 0) {
        lexer_interp in = lx->interp[--lx->ninterp];
        zx_pos brace = lexer_here(lx);
        size_t n0 = lx->out->n;
        lx->i++;
        lx->col++;
        lexer_string(lx, in.spos, in.sstart, '"', false, true);
        if (lx->out->n > n0 && lx->out->v[n0].kind != TK_ERROR) lx->out->v[n0].pos = brace;
    } else {
        if (lx->ninterp && c == '{') lx->interp[lx->ninterp - 1].braces++;
        if (lx->ninterp && c == '}') lx->interp[lx->ninterp - 1].braces--;
        lexer_punct(lx);
    }
}

bool lexer_run(const char *src, size_t len, lexer_tokens *out)
{
    memset(out, 0, sizeof *out);
    lexer_interp interp[LEXER_MAX_INTERP];
    lexer lx = { .s = (const unsigned char *)(src ? src : ""), .len = src ? len : 0,
                 .line = 1, .col = 1, .out = out, .interp = interp };
    if (lx.len >= 3 && memcmp(lx.s, "\xEF\xBB\xBF", 3) == 0) lx.i = 3;   /* a byte-order mark */
    while (!lx.done) lexer_next(&lx);
    if (lx.c_locale) freelocale(lx.c_locale);
    if (lx.oom) {
        lexer_free(out);
        return false;
    }
    return true;
}

void lexer_free(lexer_tokens *toks)
{
    for (size_t k = 0; k < toks->n; k++) free(toks->v[k].str);
    free(toks->v);
    toks->v = NULL;
    toks->n = toks->cap = 0;
}
