/* wire.h — Zexus values as bytes for other ranks, keeping sharing and cycles. */
#ifndef ZX_DIST_WIRE_H
#define ZX_DIST_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytecode/bytecode.h"
#include "runtime/value.h"

/*
 * Every object a message holds gets a number the first time the encoder meets it; a later
 * reference to it is that number, so a value keeps its sharing and its cycles across the wire
 * (a list that holds itself arrives holding itself).  A function is the preorder number of its
 * code object in the program (the same on every rank: they all load the same bytecode, checked
 * by hash) and its captured cells; a builtin is its id.  What cannot be sent: host functions
 * (their ids are per VM), object kinds this file does not know (any kind added later is
 * refused until it is taught here), structures nested deeper than WIRE_MAX_DEPTH.  The
 * encoder then fails with a reason and the caller runs that work on rank 0.
 */
#define WIRE_MAX_DEPTH 2000

/* The code objects of a program in preorder (main is 0), with a map back to the number. */
typedef struct wire_codes {
    zx_code **code;
    uint32_t n;
    uintptr_t *keys;              /* open addressing: code pointer -> index + 1 */
    uint32_t *vals;
    uint32_t cap;
} wire_codes;
bool wire_codes_init(wire_codes *wc, zx_program *p);
void wire_codes_free(wire_codes *wc);

/* A growable byte buffer and a reader over one. */
typedef struct wire_buf {
    uint8_t *data;
    size_t len, cap;
    bool oom;
} wire_buf;
void wire_put(wire_buf *b, const void *p, size_t n);
void wire_u8(wire_buf *b, uint8_t v);
void wire_u32(wire_buf *b, uint32_t v);
void wire_u64(wire_buf *b, uint64_t v);

typedef struct wire_reader {
    const uint8_t *p, *end;
    bool bad;                     /* read past the end or a malformed value */
} wire_reader;
bool wire_get(wire_reader *r, void *out, size_t n);
uint8_t wire_get_u8(wire_reader *r);
uint32_t wire_get_u32(wire_reader *r);
uint64_t wire_get_u64(wire_reader *r);

/* One encoding session: object numbers run over every value put with it. */
typedef struct wire_enc {
    wire_buf *b;
    const wire_codes *codes;
    const char *why;              /* set when a value cannot be sent */
    uintptr_t *keys;              /* object pointer -> number + 1 */
    uint32_t *vals;
    uint32_t cap, nobj;
} wire_enc;
void wire_enc_init(wire_enc *e, wire_buf *b, const wire_codes *codes);
void wire_enc_free(wire_enc *e);
/* Append v; false (e->why says why, the buffer is then unusable) when it cannot be sent. */
bool wire_put_value(wire_enc *e, zx_value v);
/* Forget the objects numbered from nobj on (those of a value that failed: the caller also
 * cuts the buffer back to where that value began). */
void wire_enc_rollback(wire_enc *e, uint32_t nobj);
/* Append a value that stands for "not sent" (an input element that could not be). */
void wire_put_unsent(wire_enc *e);

typedef struct wire_dec {
    wire_reader *r;
    zx_heap *heap;
    zx_program *prog;
    const wire_codes *codes;
    zx_value *objs;               /* owned references, by number */
    uint32_t nobj, cap;
    bool oom;                     /* the heap refused an allocation */
} wire_dec;
void wire_dec_init(wire_dec *d, wire_reader *r, zx_heap *heap, zx_program *prog, const wire_codes *codes);
void wire_dec_free(wire_dec *d);
/* Read a value (a new reference).  False on a malformed message or no memory; *unsent is set
 * (and *out undefined) for wire_put_unsent's value, when unsent is not NULL. */
bool wire_get_value(wire_dec *d, zx_value *out, bool *unsent);

#endif
