/* fuzz_zxbc.c — libFuzzer target: the .zxbc loader, the verifier and the text round trip on any payload. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bytecode/bytecode.h"

/*
 * The input is taken as a payload and wrapped in a valid header with its checksum, so that
 * mutations reach the decoder instead of stopping at the checksum (TOOLCHAIN.md); then the raw
 * input is loaded as a whole file too.  Besides "no crash, no leak", a loaded program must
 * write back to the very same bytes (the encoding is canonical), and a verified program must
 * survive disassembly and assembly unchanged.
 */

static void check_program(zx_program *p, zx_heap *h, const uint8_t *file, size_t len)
{
    char err[512];
    zx_buf b, t1, t2, b2;
    zx_buf_init(&b);
    zx_buf_init(&t1);
    zx_buf_init(&t2);
    zx_buf_init(&b2);
    zx_bytecode_write(p, &b);
    if (b.len != len || memcmp(b.data, file, len) != 0) abort();   /* write(read(x)) == x */
    bool verified = zx_verify_program(p, err, sizeof err);
    zx_disassemble(p, &t1);
    zx_program *q = zx_assemble(t1.data, t1.len, "fuzz.zxa", h, err, sizeof err);
    if (verified && !q) abort();
    if (q) {
        zx_bytecode_write(q, &b2);
        if (b2.len != len || memcmp(b2.data, file, len) != 0) abort();   /* same program */
        zx_disassemble(q, &t2);
        if (t2.len != t1.len || memcmp(t1.data, t2.data, t1.len) != 0) abort();
        if (verified && (!zx_verify_program(q, err, sizeof err) || q->main->max_stack != p->main->max_stack)) abort();
        zx_program_free(q);
    }
    zx_buf_free(&b);
    zx_buf_free(&t1);
    zx_buf_free(&t2);
    zx_buf_free(&b2);
}

static void put_le(uint8_t *at, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) at[i] = (uint8_t)(v >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    zx_heap *h = zx_heap_create(0);
    size_t n = 16 + size + 8;
    uint8_t *file = malloc(n);
    if (!h || !file) abort();
    memcpy(file, "ZXBC", 4);
    put_le(file + 4, ZX_BYTECODE_FORMAT_VERSION, 2);
    put_le(file + 6, 0, 2);
    put_le(file + 8, size, 8);
    if (size) memcpy(file + 16, data, size);
    put_le(file + 16 + size, zx_bytecode_checksum(data, size), 8);

    zx_program *p = zx_bytecode_read(file, n, h, err, sizeof err);
    if (p) {
        check_program(p, h, file, n);
        zx_program_free(p);
    } else if (!err[0]) {
        abort();                                  /* a refusal always says why */
    }
    p = zx_bytecode_read(data, size, h, err, sizeof err);
    if (p) {
        check_program(p, h, data, size);
        zx_program_free(p);
    } else if (!err[0]) {
        abort();
    }
    free(file);
    zx_heap_destroy(h);
    return 0;
}
