/* fuzz_zxa.c — libFuzzer target: the .zxa assembler, the verifier and both round trips on any text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bytecode/bytecode.h"

/*
 * Whatever the assembler accepts must disassemble to text that assembles to the same program,
 * that text must be a fixed point, the binary form must load back to the same bytes, and the
 * verifier must judge the copy as it judged the original.
 */

static bool same_bytes(const zx_buf *a, const zx_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    zx_heap *h = zx_heap_create(0);
    if (!h) abort();
    zx_program *p = zx_assemble((const char *)data, size, "fuzz.zxa", h, err, sizeof err);
    if (!p) {
        if (strncmp(err, "fuzz.zxa:", 9) != 0 || !strstr(err, ": error: ")) abort();
        zx_heap_destroy(h);
        return 0;
    }
    zx_buf t1, t2, b1, b2;
    zx_buf_init(&t1);
    zx_buf_init(&t2);
    zx_buf_init(&b1);
    zx_buf_init(&b2);
    bool verified = zx_verify_program(p, err, sizeof err);
    zx_disassemble(p, &t1);
    zx_bytecode_write(p, &b1);

    zx_program *q = zx_assemble(t1.data, t1.len, "fuzz.zxa", h, err, sizeof err);
    if (!q) abort();
    zx_disassemble(q, &t2);
    if (!same_bytes(&t1, &t2)) abort();
    zx_bytecode_write(q, &b2);
    if (!same_bytes(&b1, &b2)) abort();
    if (zx_verify_program(q, err, sizeof err) != verified) abort();
    if (verified && q->main->max_stack != p->main->max_stack) abort();
    zx_program_free(q);

    q = zx_bytecode_read((const uint8_t *)b1.data, b1.len, h, err, sizeof err);
    if (!q) abort();
    zx_buf_free(&b2);
    zx_buf_init(&b2);
    zx_bytecode_write(q, &b2);
    if (!same_bytes(&b1, &b2)) abort();
    zx_program_free(q);

    zx_buf_free(&t1);
    zx_buf_free(&t2);
    zx_buf_free(&b1);
    zx_buf_free(&b2);
    zx_program_free(p);
    zx_heap_destroy(h);
    return 0;
}
