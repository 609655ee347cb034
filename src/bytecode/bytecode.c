/* bytecode.c — building programs and code objects: the tables the compiler, assembler and loader fill. */
#include "bytecode/bytecode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Every growable array of a zx_code or zx_program is allocated through grow_array, whose
 * capacity is a function of the count alone (the count rounded up to a power of two, at least
 * 8), so no capacity field is needed and appends are amortised O(1).  Code that fills these
 * arrays must go through the builders below.  Running out of memory while building must not
 * end the embedder's process (zexus.h): a builder that cannot grow a table leaves it as it was,
 * sets the object's sticky `oom` flag and returns the table's count, an index that is not an
 * element; the compiler, assembler and loader check `oom` (zx_code_oom) and report the failure.
 */

/* Make room for element `count` (0-based) of an array that holds `count` elements now: false
 * (arr unchanged) when that needs memory there is none of. */
static bool grow_array(void **arr, uint32_t count, size_t elem)
{
    if (count == UINT32_MAX) return false;
    if (count >= 8 && (count & (count - 1)) != 0) return true;   /* still room */
    if (count > 0 && count < 8) return true;
    size_t cap = count < 8 ? 8 : (size_t)count * 2;
    void *q = realloc(*arr, cap * elem);
    if (!q) return false;
    *arr = q;
    return true;
}
#define GROW(arr, count) grow_array((void **)&(arr), (count), sizeof *(arr))

/* ---- programs ---- */

zx_program *zx_program_new(const char *source_name, zx_heap *heap)
{
    zx_program *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->source_name = strdup(source_name ? source_name : "");
    if (!p->source_name) {
        free(p);
        return NULL;
    }
    p->heap = heap;
    return p;
}

void zx_program_free(zx_program *p)
{
    if (!p) return;
    for (uint32_t i = 0; i < p->nglobals; i++) free(p->globals[i].name);
    free(p->globals);
    zx_index_free(&p->global_ix);
    zx_code_free(p->main);
    for (uint32_t i = 0; i < p->nfiles; i++) free(p->files[i]);
    free(p->files);
    free(p->source_name);
    free(p);
}

uint32_t zx_program_add_file(zx_program *p, const char *name)
{
    char *copy = strdup(name ? name : "");
    if (!copy || !GROW(p->files, p->nfiles)) {
        free(copy);
        p->oom = true;
        return p->nfiles + 1;
    }
    p->files[p->nfiles++] = copy;
    return p->nfiles;
}

const char *zx_code_file(const zx_program *p, const zx_code *c)
{
    if (c && c->file >= 1 && c->file <= p->nfiles) return p->files[c->file - 1];
    return p->source_name;
}

uint32_t zx_program_push_global(zx_program *p, const char *name)
{
    char *copy = strdup(name ? name : "");
    if (!copy || !GROW(p->globals, p->nglobals)) {
        free(copy);
        p->oom = true;
        return p->nglobals;
    }
    zx_global *g = &p->globals[p->nglobals];
    g->name = copy;
    g->is_const = 0;
    g->is_shared = 0;
    return p->nglobals++;
}

static uint64_t global_hash(const void *t, uint32_t i)
{
    const char *name = ((const zx_program *)t)->globals[i].name;
    return zx_index_hash_bytes(name, strlen(name));
}

static bool global_eq(const void *t, uint32_t i, const void *key)
{
    return strcmp(((const zx_program *)t)->globals[i].name, key) == 0;
}

static const void *global_key(const void *t, uint32_t i) { return ((const zx_program *)t)->globals[i].name; }

uint32_t zx_program_add_global(zx_program *p, const char *name)
{
    if (!name) name = "";
    if (zx_index_cover(&p->global_ix, p, p->nglobals, global_hash, global_eq, global_key)) {
        uint32_t i = zx_index_find(&p->global_ix, p, zx_index_hash_bytes(name, strlen(name)), global_eq, name);
        if (i != UINT32_MAX) return i;
    } else {
        for (uint32_t i = 0; i < p->nglobals; i++)
            if (strcmp(p->globals[i].name, name) == 0) return i;
    }
    return zx_program_push_global(p, name);
}

/* ---- code objects ---- */

zx_code *zx_code_new(zx_code_kind kind, const char *name)
{
    zx_code *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->kind = kind;
    c->name = strdup(name ? name : "");
    if (!c->name) {
        free(c);
        return NULL;
    }
    return c;
}

void zx_code_free(zx_code *c)
{
    if (!c) return;
    for (uint32_t i = 0; i < c->nchildren; i++) zx_code_free(c->children[i]);
    free(c->children);
    for (uint32_t i = 0; i < c->nconsts; i++) zx_decref(c->consts[i]);
    free(c->consts);
    for (uint32_t i = 0; i < c->nlocals; i++) free(c->local_names[i]);
    free(c->local_names);
    free(c->local_is_cell);
    free(c->depth);
    free(c->pcflags);
    free((void *)atomic_load(&c->field_ic));
    free(atomic_load(&c->quick));
    for (uint32_t i = 0; i < c->nfree; i++) free(c->free[i].name);
    free(c->free);
    free(c->handlers);
    free(c->code);
    free(c->positions);
    free(c->name);
    zx_index_free(&c->const_ix);
    free(c);
}

uint32_t zx_code_emit(zx_code *c, uint16_t op, uint32_t a, uint16_t b, zx_pos pos)
{
    if (!GROW(c->code, c->ncode) || !GROW(c->positions, c->ncode)) {
        c->oom = true;
        return c->ncode;
    }
    c->code[c->ncode] = (zx_instr){ .op = op, .b = b, .a = a };
    c->positions[c->ncode] = pos;
    return c->ncode++;
}

/* Same constant: same tag and the same value; floats by bit pattern (so -0.0 != 0.0 and a NaN
 * matches only itself), strings by content, other objects by identity. */
static bool const_same(zx_value x, zx_value y)
{
    if (x.tag != y.tag) return false;
    switch ((zx_tag)x.tag) {
    case ZX_T_UNDEF: case ZX_T_NULL: return true;
    case ZX_T_BOOL: return x.u.b == y.u.b;
    case ZX_T_INT: return x.u.i == y.u.i;
    case ZX_T_FLOAT: {
        uint64_t bx, by;
        memcpy(&bx, &x.u.f, sizeof bx);
        memcpy(&by, &y.u.f, sizeof by);
        return bx == by;
    }
    case ZX_T_OBJ:
        if (x.u.o == y.u.o) return true;
        if (x.u.o->type != ZX_O_STRING || y.u.o->type != ZX_O_STRING) return false;
        return zx_string_eq(ZX_AS_STRING(x), ZX_AS_STRING(y));
    }
    return false;
}

uint32_t zx_code_push_const(zx_code *c, zx_value v)
{
    if (!GROW(c->consts, c->nconsts)) {
        c->oom = true;
        return c->nconsts;
    }
    zx_incref(v);
    c->consts[c->nconsts] = v;
    return c->nconsts++;
}

/* A hash that const_same-equal constants share: floats by bit pattern, strings by content. */
static uint64_t const_hash(zx_value v)
{
    uint64_t h = (uint64_t)v.tag * 0x9e3779b97f4a7c15ull;
    switch ((zx_tag)v.tag) {
    case ZX_T_BOOL: h ^= (uint64_t)v.u.b; break;
    case ZX_T_INT: h ^= (uint64_t)v.u.i; break;
    case ZX_T_FLOAT: {
        uint64_t bits;
        memcpy(&bits, &v.u.f, sizeof bits);
        h ^= bits;
        break;
    }
    case ZX_T_OBJ:
        if (v.u.o->type == ZX_O_STRING) {
            const zx_string *s = ZX_AS_STRING(v);
            h ^= zx_index_hash_bytes(s->data, s->nbytes);
        } else {
            h ^= (uint64_t)(uintptr_t)v.u.o;
        }
        break;
    case ZX_T_UNDEF: case ZX_T_NULL: break;
    }
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 32);
}

static uint64_t const_hash_at(const void *t, uint32_t i) { return const_hash(((const zx_code *)t)->consts[i]); }

static bool const_eq(const void *t, uint32_t i, const void *key)
{
    return const_same(((const zx_code *)t)->consts[i], *(const zx_value *)key);
}

static const void *const_key(const void *t, uint32_t i) { return &((const zx_code *)t)->consts[i]; }

uint32_t zx_code_add_const(zx_code *c, zx_value v)
{
    if (zx_index_cover(&c->const_ix, c, c->nconsts, const_hash_at, const_eq, const_key)) {
        uint32_t i = zx_index_find(&c->const_ix, c, const_hash(v), const_eq, &v);
        if (i != UINT32_MAX) return i;
    } else {
        for (uint32_t i = 0; i < c->nconsts; i++)
            if (const_same(c->consts[i], v)) return i;
    }
    return zx_code_push_const(c, v);
}

uint32_t zx_code_add_local(zx_code *c, const char *name)
{
    char *copy = strdup(name ? name : "");
    if (!copy || !GROW(c->local_names, c->nlocals) || !GROW(c->local_is_cell, c->nlocals)) {
        free(copy);
        c->oom = true;
        return c->nlocals;
    }
    c->local_names[c->nlocals] = copy;
    c->local_is_cell[c->nlocals] = 0;
    return c->nlocals++;
}

uint32_t zx_code_add_child(zx_code *c, zx_code *child)
{
    if (!GROW(c->children, c->nchildren)) {
        c->oom = true;
        return c->nchildren;
    }
    c->children[c->nchildren] = child;
    return c->nchildren++;
}

uint32_t zx_code_add_handler(zx_code *c, uint32_t start, uint32_t end, uint32_t target)
{
    if (!GROW(c->handlers, c->nhandlers)) {
        c->oom = true;
        return c->nhandlers;
    }
    c->handlers[c->nhandlers] = (zx_handler){ .start = start, .end = end, .target = target };
    return c->nhandlers++;
}

const zx_handler *zx_code_handler_at(const zx_code *c, uint32_t pc)
{
    for (uint32_t i = 0; i < c->nhandlers; i++)
        if (pc >= c->handlers[i].start && pc < c->handlers[i].end) return &c->handlers[i];
    return NULL;
}

uint32_t zx_code_add_free(zx_code *c, const char *name, bool from_parent_local, uint32_t index)
{
    char *copy = strdup(name ? name : "");
    if (!copy || !GROW(c->free, c->nfree)) {
        free(copy);
        c->oom = true;
        return c->nfree;
    }
    c->free[c->nfree] = (zx_freevar){ .from_parent_local = from_parent_local ? 1 : 0,
                                      .index = index, .name = copy };
    return c->nfree++;
}

bool zx_code_oom(const zx_code *c)
{
    if (!c) return false;
    if (c->oom) return true;
    for (uint32_t i = 0; i < c->nchildren; i++)
        if (zx_code_oom(c->children[i])) return true;
    return false;
}

bool zx_program_oom(const zx_program *p)
{
    return p && (p->oom || zx_code_oom(p->main));
}

int zx_op_operand_count(unsigned op)
{
    const zx_opinfo *info = zx_op_info(op);
    if (!info) return -1;
    switch (info->kind) {
    case OPK_NONE: return 0;
    case OPK_CONST: case OPK_LOCAL: case OPK_FREE: case OPK_CHILD: case OPK_JUMP:
    case OPK_ARGC: case OPK_COUNT: case OPK_FLAG:
        return 1;
    case OPK_GLOBAL: return op == OP_SHARED_WRITE ? 2 : 1;     /* b: the arithmetic opcode */
    case OPK_BUILTIN: return op == OP_CALL_BUILTIN ? 2 : 1;    /* b: the argument count */
    case OPK_METHOD: case OPK_ITER: case OPK_FORK: return 2;
    }
    return -1;
}

/* ---- one object per constant string ---- */

typedef struct intern_table {
    zx_string **slot;            /* open addressing by the string's hash; NULL empty */
    size_t cap, n;
} intern_table;

static bool intern_grow(intern_table *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 64;
    zx_string **ns = calloc(ncap, sizeof *ns);
    if (!ns) return false;
    for (size_t i = 0; i < t->cap; i++) {
        zx_string *s = t->slot[i];
        if (!s) continue;
        size_t j = (size_t)s->hash & (ncap - 1);
        while (ns[j]) j = (j + 1) & (ncap - 1);
        ns[j] = s;
    }
    free(t->slot);
    t->slot = ns;
    t->cap = ncap;
    return true;
}

static void intern_code(intern_table *t, zx_code *c)
{
    for (uint32_t k = 0; k < c->nconsts; k++) {
        zx_value v = c->consts[k];
        if (!zx_is_type(v, ZX_O_STRING)) continue;
        zx_string *s = ZX_AS_STRING(v);
        uint64_t hv = zx_string_hash(s);          /* computed now, cached in the string */
        if ((t->n + 1) * 2 > t->cap && !intern_grow(t)) return;   /* out of memory: left as they are */
        size_t j = (size_t)hv & (t->cap - 1);
        while (t->slot[j] && !zx_string_eq(t->slot[j], s)) j = (j + 1) & (t->cap - 1);
        if (!t->slot[j]) {
            t->slot[j] = s;
            t->n++;
        } else if (t->slot[j] != s) {
            zx_obj_incref(t->slot[j]);
            c->consts[k] = zx_objval(t->slot[j]);
            zx_obj_decref(s);
        }
    }
    for (uint32_t i = 0; i < c->nchildren; i++) intern_code(t, c->children[i]);
}

void zx_program_intern_strings(zx_program *p)
{
    if (!p || !p->main) return;
    intern_table t = { NULL, 0, 0 };
    intern_code(&t, p->main);
    free(t.slot);
}
