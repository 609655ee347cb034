/* zxbc.c — the binary bytecode format (.zxbc): a versioned, checksummed serialisation of a program. */
#include "bytecode/bytecode.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * File layout, every integer little-endian:
 *
 *   "ZXBC"  u16 format version (ZX_BYTECODE_FORMAT_VERSION)  u16 flags (0)  u64 payload length
 *   payload
 *   u64 checksum of the payload (FNV-1a 64: any one changed byte always changes it)
 *
 * Payload: str source name; u32 nfiles, each str (the module files bundled by `use`, version
 * 2); u32 nglobals, each {str name, u8 flags: 1 const, 2 shared};
 * u8 has_main; then, if 1, the main code object.  A code object is:
 *   u8 kind, str name, u32 line, u32 col, u32 file (0: the source name, k: files[k-1]), u32 nparams,
 *   u32 nlocals   each {str name, u8 is_cell}
 *   u32 nfree     each {u8 from_parent_local, u32 index, str name}
 *   u32 nconsts   each {u8 tag: 0 null | 1 bool + u8 | 2 int + i64 | 3 float + u64 bits | 4 string + str}
 *   u32 ncode     each {u16 op, u16 b, u32 a, u32 line, u32 col}
 *   u32 nhandlers each {u32 start, u32 end, u32 target}   (format version 3)
 *   u32 nchildren each a code object
 * A str is u32 byte length + that many bytes of UTF-8 (names may not contain NUL).
 *
 * The encoding is canonical: the reader accepts only what the writer produces (flags in
 * range, no slack), so write(read(file)) == file.  The reader checks structure only; the
 * verifier checks meaning.  Every count is bounded by the bytes that remain before anything
 * is allocated for it, so a damaged count costs nothing.
 */

#define HEADER_SIZE  16
#define TRAILER_SIZE 8

/* The fewest payload bytes one element of each table can take. */
enum {
    MIN_GLOBAL = 4 + 1,
    MIN_LOCAL = 4 + 1,
    MIN_FREE = 1 + 4 + 4,
    MIN_CONST = 1,
    MIN_INSTR = 2 + 2 + 4 + 4 + 4,
    MIN_HANDLER = 4 + 4 + 4,
    MIN_CODE = 1 + 4 + 4 + 4 + 4 + 4 + 4 + 4 + 4 + 4 + 4 + 4,
    MIN_FILE = 4,
};

enum { CONST_NULL, CONST_BOOL, CONST_INT, CONST_FLOAT, CONST_STRING, CONST_BAD = 0xFF };

uint64_t zx_bytecode_checksum(const uint8_t *data, size_t len)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < len; i++) {
        h ^= data[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* ---- writing ---- */

static void put_u8(zx_buf *b, uint8_t v) { zx_buf_put(b, (const char *)&v, 1); }

static void put_le(zx_buf *b, uint64_t v, int n)
{
    char bytes[8];
    for (int i = 0; i < n; i++) bytes[i] = (char)(uint8_t)(v >> (8 * i));
    zx_buf_put(b, bytes, (size_t)n);
}

static void put_u16(zx_buf *b, uint16_t v) { put_le(b, v, 2); }
static void put_u32(zx_buf *b, uint32_t v) { put_le(b, v, 4); }
static void put_u64(zx_buf *b, uint64_t v) { put_le(b, v, 8); }

static void put_bytes(zx_buf *b, const char *s, uint32_t n)
{
    put_u32(b, n);
    zx_buf_put(b, s, n);
}

static void put_name(zx_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    put_bytes(b, s ? s : "", n > UINT32_MAX ? UINT32_MAX : (uint32_t)n);
}

static void put_const(zx_buf *b, zx_value v)
{
    switch ((zx_tag)v.tag) {
    case ZX_T_NULL: put_u8(b, CONST_NULL); return;
    case ZX_T_BOOL: put_u8(b, CONST_BOOL); put_u8(b, v.u.b ? 1 : 0); return;
    case ZX_T_INT: put_u8(b, CONST_INT); put_u64(b, (uint64_t)v.u.i); return;
    case ZX_T_FLOAT: {
        uint64_t bits;
        memcpy(&bits, &v.u.f, sizeof bits);
        put_u8(b, CONST_FLOAT);
        put_u64(b, bits);
        return;
    }
    case ZX_T_OBJ:
        if (v.u.o && v.u.o->type == ZX_O_STRING) {
            put_u8(b, CONST_STRING);
            put_bytes(b, ZX_AS_STRING(v)->data, ZX_AS_STRING(v)->nbytes);
            return;
        }
        break;
    case ZX_T_UNDEF:
        break;
    }
    put_u8(b, CONST_BAD);   /* not a constant the format can hold: the reader rejects the file */
}

/* A code object; with p, its file as the file's name instead of its index, and its children
 * only counted (zx_bytecode_write_code). */
static void put_code_as(zx_buf *b, const zx_program *p, const zx_code *c)
{
    put_u8(b, (uint8_t)c->kind);
    put_name(b, c->name);
    put_u32(b, c->pos.line);
    put_u32(b, c->pos.col);
    if (p) put_name(b, zx_code_file(p, c));
    else put_u32(b, c->file);
    put_u32(b, c->nparams);
    put_u32(b, c->nlocals);
    for (uint32_t i = 0; i < c->nlocals; i++) {
        put_name(b, c->local_names ? c->local_names[i] : NULL);
        put_u8(b, c->local_is_cell ? c->local_is_cell[i] : 0);
    }
    put_u32(b, c->nfree);
    for (uint32_t i = 0; i < c->nfree; i++) {
        put_u8(b, c->free[i].from_parent_local);
        put_u32(b, c->free[i].index);
        put_name(b, c->free[i].name);
    }
    put_u32(b, c->nconsts);
    for (uint32_t i = 0; i < c->nconsts; i++) put_const(b, c->consts[i]);
    put_u32(b, c->ncode);
    for (uint32_t i = 0; i < c->ncode; i++) {
        zx_pos pos = c->positions ? c->positions[i] : (zx_pos){ 0, 0 };
        put_u16(b, c->code[i].op);
        put_u16(b, c->code[i].b);
        put_u32(b, c->code[i].a);
        put_u32(b, pos.line);
        put_u32(b, pos.col);
    }
    put_u32(b, c->nhandlers);
    for (uint32_t i = 0; i < c->nhandlers; i++) {
        put_u32(b, c->handlers[i].start);
        put_u32(b, c->handlers[i].end);
        put_u32(b, c->handlers[i].target);
    }
    put_u32(b, c->nchildren);
    for (uint32_t i = 0; !p && i < c->nchildren; i++) put_code_as(b, NULL, c->children[i]);
}

static void put_code(zx_buf *b, const zx_code *c) { put_code_as(b, NULL, c); }

void zx_bytecode_write_code(const zx_program *p, const zx_code *c, zx_buf *out)
{
    put_code_as(out, p, c);
}

void zx_bytecode_write(const zx_program *p, zx_buf *out)
{
    size_t start = out->len;
    zx_buf_put(out, "ZXBC", 4);
    put_u16(out, ZX_BYTECODE_FORMAT_VERSION);
    put_u16(out, 0);
    put_u64(out, 0);                       /* payload length, patched below */
    size_t payload = out->len;
    put_name(out, p->source_name);
    put_u32(out, p->nfiles);
    for (uint32_t i = 0; i < p->nfiles; i++) put_name(out, p->files[i]);
    put_u32(out, p->nglobals);
    for (uint32_t i = 0; i < p->nglobals; i++) {
        put_name(out, p->globals[i].name);
        put_u8(out, (uint8_t)((p->globals[i].is_const ? 1 : 0) | (p->globals[i].is_shared ? 2 : 0)));
    }
    put_u8(out, p->main ? 1 : 0);
    if (p->main) put_code(out, p->main);
    if (out->len < payload) return;        /* out of memory: the buffer was not extended */
    uint64_t n = out->len - payload;
    for (int i = 0; i < 8; i++) out->data[start + 8 + i] = (char)(uint8_t)(n >> (8 * i));
    put_u64(out, zx_bytecode_checksum((const uint8_t *)out->data + payload, (size_t)n));
}

/* ---- reading ---- */

typedef struct reader {
    const uint8_t *p;
    size_t n, off;          /* the payload and the read position in it */
    zx_heap *heap;
    bool failed;
    bool oom;                  /* failed because an allocation failed */
    uint32_t nfiles;           /* the program's module files (code objects' file indexes) */
    char *err;
    size_t errsz;
} reader;

static void rd_error(reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An allocation failed: the file may be fine, the memory limit is what stopped the load. */
static void rd_oom(reader *r, const char *what)
{
    if (r->failed) return;
    r->failed = true;
    r->oom = true;
    if (r->errsz) snprintf(r->err, r->errsz, "%s", what);
}

static void rd_error(reader *r, const char *fmt, ...)
{
    if (r->failed) return;
    r->failed = true;
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (r->errsz) snprintf(r->err, r->errsz, "corrupt bytecode: %s", what);
}

static uint64_t rd_le(reader *r, int k)
{
    if (r->failed) return 0;
    if (r->n - r->off < (size_t)k) {
        rd_error(r, "unexpected end of the payload at offset %zu", r->off);
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < k; i++) v |= (uint64_t)r->p[r->off + (size_t)i] << (8 * i);
    r->off += (size_t)k;
    return v;
}

static uint8_t rd_u8(reader *r) { return (uint8_t)rd_le(r, 1); }
static uint16_t rd_u16(reader *r) { return (uint16_t)rd_le(r, 2); }
static uint32_t rd_u32(reader *r) { return (uint32_t)rd_le(r, 4); }
static uint64_t rd_u64(reader *r) { return rd_le(r, 8); }

/* A flag byte that must be at most max. */
static uint8_t rd_flag(reader *r, uint8_t max, const char *what)
{
    size_t at = r->off;
    uint8_t v = rd_u8(r);
    if (v > max) rd_error(r, "bad %s %u at offset %zu", what, (unsigned)v, at);
    return v;
}

/* A table size, each element taking at least `min` bytes of what remains. */
static uint32_t rd_count(reader *r, size_t min, const char *what)
{
    size_t at = r->off;
    uint32_t v = rd_u32(r);
    if (!r->failed && v > (r->n - r->off) / min) {
        rd_error(r, "%s count %u at offset %zu exceeds the payload", what, v, at);
        return 0;
    }
    return v;
}

/* A length-prefixed UTF-8 string in the payload; *len gets its length. */
static const char *rd_bytes(reader *r, uint32_t *len)
{
    size_t at = r->off;
    uint32_t n = rd_u32(r);
    if (r->failed) return NULL;
    if (n > r->n - r->off) {
        rd_error(r, "string length %u at offset %zu exceeds the payload", n, at);
        return NULL;
    }
    const char *s = (const char *)r->p + r->off;
    if (!zx_utf8_valid(s, n)) {
        rd_error(r, "string at offset %zu is not valid UTF-8", at);
        return NULL;
    }
    r->off += n;
    *len = n;
    return s;
}

/* A name as a new C string (the caller frees it), or NULL after an error. */
static char *rd_name(reader *r)
{
    size_t at = r->off;
    uint32_t n = 0;
    const char *s = rd_bytes(r, &n);
    if (!s) return NULL;
    if (memchr(s, '\0', n)) {
        rd_error(r, "name at offset %zu contains a NUL byte", at);
        return NULL;
    }
    char *name = malloc((size_t)n + 1);
    if (!name) {
        rd_oom(r, "out of memory");
        return NULL;
    }
    memcpy(name, s, n);
    name[n] = '\0';
    return name;
}

static void rd_const(reader *r, zx_code *c)
{
    size_t at = r->off;
    uint8_t tag = rd_u8(r);
    if (r->failed) return;
    switch (tag) {
    case CONST_NULL: zx_code_push_const(c, zx_null()); return;
    case CONST_BOOL: {
        uint8_t b = rd_flag(r, 1, "boolean constant");
        if (!r->failed) zx_code_push_const(c, zx_bool(b != 0));
        return;
    }
    case CONST_INT: {
        uint64_t v = rd_u64(r);
        if (!r->failed) zx_code_push_const(c, zx_int((int64_t)v));
        return;
    }
    case CONST_FLOAT: {
        uint64_t bits = rd_u64(r);
        double d;
        memcpy(&d, &bits, sizeof d);
        if (!r->failed) zx_code_push_const(c, zx_float(d));
        return;
    }
    case CONST_STRING: {
        uint32_t n = 0;
        const char *s = rd_bytes(r, &n);
        if (!s) return;
        zx_string *z = zx_string_new(r->heap, s, n);
        if (!z) {
            rd_oom(r, "memory limit exceeded");
            return;
        }
        zx_code_push_const(c, zx_objval(z));
        zx_obj_decref(z);
        return;
    }
    default:
        rd_error(r, "bad constant tag %u at offset %zu", (unsigned)tag, at);
        return;
    }
}

static zx_code *rd_code(reader *r, int level)
{
    if (level > ZX_MAX_CODE_DEPTH) {
        rd_error(r, "code objects nested deeper than %d levels", ZX_MAX_CODE_DEPTH);
        return NULL;
    }
    char *name = NULL;
    uint8_t kind = rd_flag(r, ZX_CODE_FORK, "code kind");
    name = rd_name(r);
    if (r->failed) return NULL;
    zx_code *c = zx_code_new((zx_code_kind)kind, name);
    free(name);
    name = NULL;
    if (!c) {
        rd_oom(r, "out of memory");
        return NULL;
    }
    c->pos.line = rd_u32(r);
    c->pos.col = rd_u32(r);
    size_t file_at = r->off;
    c->file = rd_u32(r);
    if (!r->failed && c->file > r->nfiles)
        rd_error(r, "file index %u at offset %zu: the program has %u module files", c->file, file_at, r->nfiles);
    c->nparams = rd_u32(r);

    uint32_t n = rd_count(r, MIN_LOCAL, "local");
    for (uint32_t i = 0; i < n && !r->failed; i++) {
        name = rd_name(r);
        uint8_t cell = rd_flag(r, 1, "cell flag");
        if (r->failed) goto fail;
        uint32_t slot = zx_code_add_local(c, name);   /* may move local_is_cell */
        if (c->oom) {
            rd_oom(r, "out of memory");
            goto fail;
        }
        c->local_is_cell[slot] = cell;
        free(name);
        name = NULL;
    }
    n = rd_count(r, MIN_FREE, "free variable");
    for (uint32_t i = 0; i < n && !r->failed; i++) {
        uint8_t from_local = rd_flag(r, 1, "free variable origin");
        uint32_t index = rd_u32(r);
        name = rd_name(r);
        if (r->failed) goto fail;
        zx_code_add_free(c, name, from_local != 0, index);
        free(name);
        name = NULL;
        if (c->oom) rd_oom(r, "out of memory");
    }
    n = rd_count(r, MIN_CONST, "constant");
    for (uint32_t i = 0; i < n && !r->failed && !c->oom; i++) rd_const(r, c);
    if (c->oom && !r->failed) rd_oom(r, "out of memory");
    n = rd_count(r, MIN_INSTR, "instruction");
    for (uint32_t i = 0; i < n && !r->failed; i++) {
        uint16_t op = rd_u16(r), b = rd_u16(r);
        uint32_t a = rd_u32(r);
        zx_pos pos;
        pos.line = rd_u32(r);
        pos.col = rd_u32(r);
        zx_code_emit(c, op, a, b, pos);
        if (c->oom && !r->failed) rd_oom(r, "out of memory");
    }
    n = rd_count(r, MIN_HANDLER, "handler");
    for (uint32_t i = 0; i < n && !r->failed; i++) {
        uint32_t start = rd_u32(r), end = rd_u32(r), target = rd_u32(r);
        zx_code_add_handler(c, start, end, target);
        if (c->oom && !r->failed) rd_oom(r, "out of memory");
    }
    n = rd_count(r, MIN_CODE, "nested code object");
    for (uint32_t i = 0; i < n && !r->failed; i++) {
        zx_code *child = rd_code(r, level + 1);
        if (child) zx_code_add_child(c, child);
        if (c->oom && !r->failed) {
            zx_code_free(child);
            rd_oom(r, "out of memory");
        }
    }
    if (r->failed) goto fail;
    return c;
fail:
    free(name);
    zx_code_free(c);
    return NULL;
}

static zx_program *rd_program(reader *r)
{
    char *name = rd_name(r);
    if (r->failed) return NULL;
    zx_program *p = zx_program_new(name, r->heap);
    free(name);
    name = NULL;
    if (!p) {
        rd_oom(r, "out of memory");
        return NULL;
    }
    uint32_t n = rd_count(r, MIN_FILE, "module file");
    for (uint32_t i = 0; i < n && !r->failed; i++) {
        name = rd_name(r);
        if (r->failed) goto fail;
        zx_program_add_file(p, name);
        free(name);
        name = NULL;
        if (p->oom) {
            rd_oom(r, "out of memory");
            goto fail;
        }
    }
    r->nfiles = p->nfiles;
    n = rd_count(r, MIN_GLOBAL, "global");
    for (uint32_t i = 0; i < n && !r->failed; i++) {
        name = rd_name(r);
        uint8_t flags = rd_flag(r, 3, "global flags");
        if (r->failed) goto fail;
        uint32_t g = zx_program_push_global(p, name);
        if (p->oom) {
            rd_oom(r, "out of memory");
            goto fail;
        }
        p->globals[g].is_const = flags & 1;
        p->globals[g].is_shared = (flags >> 1) & 1;
        free(name);
        name = NULL;
    }
    uint8_t has_main = rd_flag(r, 1, "main flag");
    if (has_main && !r->failed) p->main = rd_code(r, 1);
    if (!r->failed && r->off != r->n) rd_error(r, "%zu bytes left over after the program", r->n - r->off);
    if (r->failed) goto fail;
    return p;
fail:
    free(name);
    zx_program_free(p);
    return NULL;
}

static uint64_t load_le(const uint8_t *p, int k)
{
    uint64_t v = 0;
    for (int i = 0; i < k; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

zx_program *zx_bytecode_read(const uint8_t *data, size_t len, zx_heap *heap, char *err, size_t errsz)
{
    return zx_bytecode_read_ex(data, len, heap, err, errsz, NULL);
}

zx_program *zx_bytecode_read_ex(const uint8_t *data, size_t len, zx_heap *heap, char *err, size_t errsz,
                                bool *oom)
{
    if (oom) *oom = false;
    const char *msg = NULL;
    char buf[96];
    if (errsz) err[0] = '\0';
    if (len == 0 || memcmp(data, "ZXBC", len < 4 ? len : 4) != 0) {
        msg = "not a zexus bytecode file";
    } else if (len < 6) {
        msg = "truncated bytecode file";
    } else if (load_le(data + 4, 2) != ZX_BYTECODE_FORMAT_VERSION) {
        snprintf(buf, sizeof buf, "bytecode format version %u, expected %d", (unsigned)load_le(data + 4, 2),
                 ZX_BYTECODE_FORMAT_VERSION);
        msg = buf;
    } else if (len < HEADER_SIZE + TRAILER_SIZE) {
        msg = "truncated bytecode file";
    } else if (load_le(data + 6, 2) != 0) {
        snprintf(buf, sizeof buf, "unsupported bytecode flags 0x%04x", (unsigned)load_le(data + 6, 2));
        msg = buf;
    } else {
        uint64_t plen = load_le(data + 8, 8);
        size_t room = len - HEADER_SIZE - TRAILER_SIZE;
        if (plen > room) msg = "truncated bytecode file";
        else if (plen < room) msg = "trailing bytes after the end of the bytecode";
        else if (zx_bytecode_checksum(data + HEADER_SIZE, room) != load_le(data + HEADER_SIZE + room, 8))
            msg = "bytecode checksum mismatch (damaged file)";
    }
    if (msg) {
        if (errsz) snprintf(err, errsz, "%s", msg);
        return NULL;
    }
    reader r = { .p = data + HEADER_SIZE, .n = len - HEADER_SIZE - TRAILER_SIZE, .heap = heap,
                 .err = err, .errsz = errsz };
    zx_program *p = rd_program(&r);
    if (!p && oom) *oom = r.oom;
    return p;
}
