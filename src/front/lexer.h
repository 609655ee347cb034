/* lexer.h — Zexus source text to tokens: one pass over the UTF-8 bytes into an array the parser walks. */
#ifndef ZX_LEXER_H
#define ZX_LEXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytecode/bytecode.h"   /* zx_pos */

/* Reserved words: LANGUAGE-FACTS.md "Syntax" plus the parallel constructs of DESIGN.md §4. */
#define LEXER_KEYWORDS(KW) \
    KW(LET, "let") KW(CONST, "const") KW(SHARED, "shared") KW(ACTION, "action") \
    KW(FUNCTION, "function") KW(RETURN, "return") KW(IF, "if") KW(ELIF, "elif") \
    KW(ELSE, "else") KW(WHILE, "while") KW(FOR, "for") KW(EACH, "each") KW(IN, "in") \
    KW(BREAK, "break") KW(CONTINUE, "continue") KW(TRUE, "true") KW(FALSE, "false") \
    KW(NULL, "null") KW(PRINT, "print") KW(ASSERT, "assert") KW(FORK, "fork") \
    KW(JOIN, "join") KW(BARRIER, "barrier") KW(AND, "and") KW(OR, "or") KW(NOT, "not")

/* Punctuation and operators; the lexer takes the longest spelling that matches. */
#define LEXER_PUNCTS(P) \
    P(LPAREN, "(") P(RPAREN, ")") P(LBRACKET, "[") P(RBRACKET, "]") P(LBRACE, "{") \
    P(RBRACE, "}") P(COMMA, ",") P(SEMI, ";") P(DOT, ".") P(COLON, ":") P(QUESTION, "?") \
    P(QQ, "??") P(PLUS, "+") P(MINUS, "-") P(STAR, "*") P(SLASH, "/") P(PERCENT, "%") \
    P(POW, "**") P(EQ, "==") P(NE, "!=") P(LT, "<") P(GT, ">") P(LE, "<=") P(GE, ">=") \
    P(ANDAND, "&&") P(OROR, "||") P(BANG, "!") P(ASSIGN, "=") P(PLUS_EQ, "+=") \
    P(MINUS_EQ, "-=") P(STAR_EQ, "*=") P(SLASH_EQ, "/=") P(PERCENT_EQ, "%=") \
    P(POW_EQ, "**=") P(ARROW, "=>") P(THIN_ARROW, "->")

typedef enum lexer_kind {
    TK_EOF,        /* end of input: always the last token unless TK_ERROR is */
    TK_NEWLINE,    /* one or more line ends (a multi-line comment counts as one) */
    TK_ERROR,      /* a lexical error: the last token; its message is in lexer_tokens.err */
    TK_INT,        /* ival */
    TK_FLOAT,      /* fval */
    TK_STRING,     /* str, slen: decoded */
    TK_ISTR_BEGIN, /* "text${ of an interpolated string: the text before the first ${ (str, slen) */
    TK_ISTR_MID,   /* }text${ : the text between two interpolations */
    TK_ISTR_END,   /* }text" : the text after the last one; the expressions' tokens lie between */
    TK_NAME,       /* the source bytes start .. start+len */
#define LEXER_ENUM(name, text) TK_##name,
    LEXER_KEYWORDS(LEXER_ENUM)
    LEXER_PUNCTS(LEXER_ENUM)
#undef LEXER_ENUM
    TK_COUNT
} lexer_kind;

typedef struct lexer_token {
    lexer_kind kind;
    zx_pos pos;          /* 1-based line and column (in code points) of the first character */
    zx_pos dollar;       /* TK_ISTR_BEGIN, TK_ISTR_MID: where the `${` that ends it is */
    size_t start, len;   /* source bytes of the token */
    int64_t ival;
    double fval;
    char *str;           /* TK_STRING, TK_ISTR_*: NUL-terminated, owned by the token list until taken */
    size_t slen;
} lexer_token;

typedef struct lexer_tokens {
    lexer_token *v;      /* n tokens; the last is TK_EOF or TK_ERROR */
    size_t n, cap;
    char err[160];       /* the message of the TK_ERROR token */
} lexer_tokens;

/* Split src[0..len) into tokens.  A lexical error does not fail the call: it becomes the final
 * TK_ERROR token, so the parser reports whichever error comes first in the text.  Returns false
 * only when out of memory (nothing to free then).  Thread-safe. */
bool lexer_run(const char *src, size_t len, lexer_tokens *out);
/* Free the token list and every string not taken from it. */
void lexer_free(lexer_tokens *toks);
/* The spelling of a keyword or punctuation kind ("while", "**="), or a description
 * ("end of input") of the others. */
const char *lexer_kind_text(lexer_kind kind);
/* Whether the kind is a reserved word. */
bool lexer_is_keyword(lexer_kind kind);

#endif
