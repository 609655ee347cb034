/* fuzz_source.c — libFuzzer target: lexer, parser, compiler, verifier and chunk analysis on any source bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "front/ast.h"
#include "bytecode/bytecode.h"

/*
 * Source that does not parse or compile must be refused with "fuzz.zx:LINE:COL: error: ...".
 * Source that compiles must give a program the verifier accepts (the compiler never emits
 * what the interpreter and the JIT could not assume), that survives the text and binary round
 * trips unchanged, and that the chunk analysis handles.  Nothing is run: a fuzzed program may
 * loop forever.
 */

static bool refusal_ok(const char *err)
{
    return strncmp(err, "fuzz.zx:", 8) == 0 && strstr(err, ": error: ") != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    err[0] = 0;
    zx_node *ast = zx_parse((const char *)data, size, "fuzz.zx", err, sizeof err);
    if (!ast) {
        if (!refusal_ok(err)) abort();
        return 0;
    }
    zx_heap *h = zx_heap_create(0);
    if (!h) abort();
    err[0] = 0;
    zx_program *p = zx_compile(ast, "fuzz.zx", h, err, sizeof err);
    zx_ast_free(ast);
    if (!p) {
        if (!refusal_ok(err)) abort();
        zx_heap_destroy(h);
        return 0;
    }
    if (!zx_verify_program(p, err, sizeof err)) abort();   /* compiled code always verifies */

    zx_buf text, bin, bin2;
    zx_buf_init(&text);
    zx_buf_init(&bin);
    zx_buf_init(&bin2);
    zx_disassemble(p, &text);
    zx_bytecode_write(p, &bin);
    zx_program *q = zx_assemble(text.data, text.len, "fuzz.zxa", h, err, sizeof err);
    if (!q) abort();
    zx_bytecode_write(q, &bin2);
    if (bin.len != bin2.len || memcmp(bin.data, bin2.data, bin.len) != 0) abort();
    zx_program_free(q);
    q = zx_bytecode_read((const uint8_t *)bin.data, bin.len, h, err, sizeof err);
    if (!q || !zx_verify_program(q, err, sizeof err)) abort();
    zx_program_free(q);

    analysis *a = analysis_build(p, 0);
    if (a) analysis_free(a);   /* NULL only when out of memory */
    a = analysis_build(p, 1);  /* one instruction per chunk: the most chunks and edges */
    if (a) analysis_free(a);

    zx_buf_free(&text);
    zx_buf_free(&bin);
    zx_buf_free(&bin2);
    zx_program_free(p);
    zx_heap_destroy(h);
    return 0;
}
