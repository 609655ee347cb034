/* test_bytecode.c — unit tests of the bytecode layer: builders, verifier, .zxa text and .zxbc binary forms. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "runtime/builtins.h"
#include "bytecode/bytecode.h"
#include "check.h"
#include "runtime/value.h"

#define ERRSZ 512
static const zx_pos P0 = { 0, 0 };

static zx_pos at(uint32_t line, uint32_t col) { return (zx_pos){ line, col }; }

static zx_value str(zx_heap *h, const char *s, size_t n) { return zx_objval(zx_string_new(h, s, n)); }

/* Adds a string constant and drops the caller's reference. */
static uint32_t const_str(zx_heap *h, zx_code *c, const char *s)
{
    zx_value v = str(h, s, strlen(s));
    uint32_t k = zx_code_add_const(c, v);
    zx_decref(v);
    return k;
}

static uint64_t bits_of(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

static double from_bits(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

/* ---- deep comparison of two programs (max_stack aside: the verifier computes it) ---- */

static bool value_same(zx_value a, zx_value b)
{
    if (a.tag != b.tag) return false;
    switch ((zx_tag)a.tag) {
    case ZX_T_UNDEF: case ZX_T_NULL: return true;
    case ZX_T_BOOL: return a.u.b == b.u.b;
    case ZX_T_INT: return a.u.i == b.u.i;
    case ZX_T_FLOAT: return bits_of(a.u.f) == bits_of(b.u.f);
    case ZX_T_OBJ:
        return a.u.o->type == ZX_O_STRING && b.u.o->type == ZX_O_STRING &&
               ZX_AS_STRING(a)->nbytes == ZX_AS_STRING(b)->nbytes &&
               memcmp(ZX_AS_STRING(a)->data, ZX_AS_STRING(b)->data, ZX_AS_STRING(a)->nbytes) == 0;
    }
    return false;
}

static bool code_same(const zx_code *a, const zx_code *b, const char **why)
{
#define DIFF(w) do { *why = (w); return false; } while (0)
    if (a->kind != b->kind) DIFF("kind");
    if (strcmp(a->name, b->name) != 0) DIFF("name");
    if (a->pos.line != b->pos.line || a->pos.col != b->pos.col) DIFF("pos");
    if (a->nparams != b->nparams) DIFF("nparams");
    if (a->nlocals != b->nlocals) DIFF("nlocals");
    for (uint32_t i = 0; i < a->nlocals; i++) {
        if (strcmp(a->local_names[i], b->local_names[i]) != 0) DIFF("local name");
        if (a->local_is_cell[i] != b->local_is_cell[i]) DIFF("cell flag");
    }
    if (a->nfree != b->nfree) DIFF("nfree");
    for (uint32_t i = 0; i < a->nfree; i++) {
        if (a->free[i].from_parent_local != b->free[i].from_parent_local || a->free[i].index != b->free[i].index ||
            strcmp(a->free[i].name, b->free[i].name) != 0)
            DIFF("free var");
    }
    if (a->nconsts != b->nconsts) DIFF("nconsts");
    for (uint32_t i = 0; i < a->nconsts; i++)
        if (!value_same(a->consts[i], b->consts[i])) DIFF("constant");
    if (a->ncode != b->ncode) DIFF("ncode");
    for (uint32_t i = 0; i < a->ncode; i++) {
        if (a->code[i].op != b->code[i].op || a->code[i].a != b->code[i].a || a->code[i].b != b->code[i].b) DIFF("instruction");
        if (a->positions[i].line != b->positions[i].line || a->positions[i].col != b->positions[i].col) DIFF("position");
    }
    if (a->nhandlers != b->nhandlers) DIFF("nhandlers");
    for (uint32_t i = 0; i < a->nhandlers; i++)
        if (a->handlers[i].start != b->handlers[i].start || a->handlers[i].end != b->handlers[i].end ||
            a->handlers[i].target != b->handlers[i].target)
            DIFF("handler");
    if (a->nchildren != b->nchildren) DIFF("nchildren");
    for (uint32_t i = 0; i < a->nchildren; i++)
        if (!code_same(a->children[i], b->children[i], why)) return false;
    return true;
#undef DIFF
}

static bool program_same(const zx_program *a, const zx_program *b)
{
    const char *why = "";
    bool ok = true;
    if (strcmp(a->source_name, b->source_name) != 0) { why = "source name"; ok = false; }
    if (ok && a->nglobals != b->nglobals) { why = "nglobals"; ok = false; }
    for (uint32_t i = 0; ok && i < a->nglobals; i++)
        if (strcmp(a->globals[i].name, b->globals[i].name) != 0 || a->globals[i].is_const != b->globals[i].is_const ||
            a->globals[i].is_shared != b->globals[i].is_shared) { why = "global"; ok = false; }
    if (ok && (!a->main) != (!b->main)) { why = "main"; ok = false; }
    if (ok && a->main) ok = code_same(a->main, b->main, &why);
    if (!ok) fprintf(stderr, "programs differ: %s\n", why);
    return ok;
}

/* ---- a program that uses every opcode of the table ---- */

static void patch(zx_code *c, uint32_t at, uint32_t target) { c->code[at].a = target; }

static zx_program *build_all_opcodes(zx_heap *h)
{
    zx_program *p = zx_program_new("all.zx", h);
    uint32_t gx = zx_program_add_global(p, "x");
    uint32_t gtotal = zx_program_add_global(p, "total");
    uint32_t gpi = zx_program_add_global(p, "PI");
    p->globals[gtotal].is_shared = 1;
    p->globals[gpi].is_const = 1;

    zx_code *m = zx_code_new(ZX_CODE_MAIN, "<main>");
    m->pos = at(1, 1);
    p->main = m;
    uint32_t it0 = zx_code_add_local(m, "$iter0");
    zx_code_add_local(m, "$index0");
    uint32_t it1 = zx_code_add_local(m, "$iter1");
    zx_code_add_local(m, "$index1");
    uint32_t tmp = zx_code_add_local(m, "tmp");
    uint32_t cv = zx_code_add_local(m, "cellvar");
    m->local_is_cell[cv] = 1;

    uint32_t k1 = zx_code_add_const(m, zx_int(1));
    uint32_t kf = zx_code_add_const(m, zx_float(2.5));
    uint32_t kpush = const_str(h, m, "push");
    uint32_t knull = zx_code_add_const(m, zx_null());
    uint32_t ktrue = zx_code_add_const(m, zx_bool(true));
    uint32_t ks = const_str(h, m, "h\xc3\xa9llo \"q\" \\ \n\t\r\x01\x7f");

    /* children: 0 action f, 1 lambda, 2 and 3 fork blocks */
    zx_code *f = zx_code_new(ZX_CODE_ACTION, "f");
    f->pos = at(2, 1);
    f->nparams = 1;
    zx_code_add_local(f, "n");
    zx_code_add_free(f, "cellvar", true, cv);
    {
        zx_code *inner = zx_code_new(ZX_CODE_LAMBDA, "<lambda>");
        inner->pos = at(3, 9);
        zx_code_add_free(inner, "cellvar", false, 0);
        zx_code_emit(inner, OP_LOAD_FREE, 0, 0, at(3, 15));
        zx_code_emit(inner, OP_RETURN, 0, 0, at(3, 15));
        uint32_t ki = zx_code_add_child(f, inner);
        zx_code_emit(f, OP_MAKE_CLOSURE, ki, 0, at(3, 9));
        zx_code_emit(f, OP_POP, 0, 0, at(3, 9));
    }
    zx_code_emit(f, OP_LOAD_FREE, 0, 0, at(4, 5));
    zx_code_emit(f, OP_LOAD_LOCAL, 0, 0, at(4, 9));
    zx_code_emit(f, OP_ADD, 0, 0, at(4, 7));
    zx_code_emit(f, OP_STORE_FREE, 0, 0, at(4, 5));
    zx_code_emit(f, OP_LOAD_LOCAL, 0, 0, at(5, 12));
    zx_code_emit(f, OP_RETURN, 0, 0, at(5, 5));
    uint32_t cf = zx_code_add_child(m, f);

    zx_code *lam = zx_code_new(ZX_CODE_LAMBDA, "<lambda>");
    lam->pos = at(6, 1);
    lam->nparams = 1;
    zx_code_add_local(lam, "v");
    zx_code_emit(lam, OP_LOAD_LOCAL, 0, 0, at(6, 8));
    zx_code_emit(lam, OP_RETURN, 0, 0, at(6, 8));
    uint32_t clam = zx_code_add_child(m, lam);

    zx_code *fk1 = zx_code_new(ZX_CODE_FORK, "<fork>");
    uint32_t fk1one = zx_code_add_const(fk1, zx_int(1));
    uint32_t fk1null = zx_code_add_const(fk1, zx_null());
    zx_code_emit(fk1, OP_LOAD_CONST, fk1one, 0, at(7, 20));
    zx_code_emit(fk1, OP_SHARED_WRITE, gtotal, OP_ADD, at(7, 10));
    zx_code_emit(fk1, OP_LOAD_CONST, fk1null, 0, at(7, 1));
    zx_code_emit(fk1, OP_RETURN, 0, 0, at(7, 1));
    uint32_t cfork = zx_code_add_child(m, fk1);

    zx_code *fk2 = zx_code_new(ZX_CODE_FORK, "<fork>");
    zx_code_add_free(fk2, "cellvar", true, cv);
    uint32_t fk2null = zx_code_add_const(fk2, zx_null());
    zx_code_emit(fk2, OP_LOAD_FREE, 0, 0, at(8, 3));
    zx_code_emit(fk2, OP_POP, 0, 0, at(8, 3));
    zx_code_emit(fk2, OP_LOAD_CONST, fk2null, 0, at(8, 1));
    zx_code_emit(fk2, OP_RETURN, 0, 0, at(8, 1));
    zx_code_add_child(m, fk2);

    /* child 4: a lambda that throws its argument and raises it again from its handler */
    zx_code *thr = zx_code_new(ZX_CODE_LAMBDA, "<lambda>");
    thr->pos = at(9, 1);
    thr->nparams = 1;
    zx_code_add_local(thr, "v");
    zx_code_emit(thr, OP_LOAD_LOCAL, 0, 0, at(9, 8));
    zx_code_emit(thr, OP_THROW, 0, 0, at(9, 8));
    zx_code_emit(thr, OP_RERAISE, 0, 0, at(9, 8));
    zx_code_add_handler(thr, 0, 2, 2);
    zx_code_add_child(m, thr);

    /* main */
#define E(op, a, b) zx_code_emit(m, OP_##op, (a), (b), at(10 + m->ncode, 1 + m->ncode % 7))
    E(LOAD_CONST, k1, 0);
    E(STORE_NAME, gx, 0);
    E(LOAD_NAME, gx, 0);
    E(SHARED_READ, gtotal, 0);
    E(ADD, 0, 0);
    E(LOAD_CONST, k1, 0); E(SUB, 0, 0);
    E(LOAD_CONST, kf, 0); E(MUL, 0, 0);
    E(LOAD_CONST, k1, 0); E(DIV, 0, 0);
    E(LOAD_CONST, k1, 0); E(MOD, 0, 0);
    E(LOAD_CONST, k1, 0); E(POW, 0, 0);
    E(NEG, 0, 0);
    E(DUP, 0, 0); E(EQ, 0, 0);
    E(DUP, 0, 0); E(NEQ, 0, 0);
    E(DUP, 0, 0); E(LT, 0, 0);
    E(DUP, 0, 0); E(GT, 0, 0);
    E(DUP, 0, 0); E(LTE, 0, 0);
    E(DUP, 0, 0); E(GTE, 0, 0);
    E(NOT, 0, 0);
    E(POP, 0, 0);
    E(LOAD_CONST, k1, 0);
    E(SHARED_WRITE, gtotal, OP_MUL);
    E(LOAD_CONST, ktrue, 0);
    uint32_t j1 = E(JUMP_IF_FALSE, 0, 0);
    E(LOAD_CONST, ktrue, 0);
    uint32_t j2 = E(JUMP_IF_TRUE, 0, 0);
    uint32_t j3 = E(JUMP, 0, 0);
    E(POP, 0, 0);                                   /* unreachable: depth is not checked here */
    uint32_t l1 = E(NOP, 0, 0);
    patch(m, j1, l1);
    patch(m, j2, l1);
    patch(m, j3, l1);
    E(LOAD_CONST, k1, 0); E(LOAD_CONST, kf, 0); E(BUILD_LIST, 2, 0);
    E(STORE_LOCAL, tmp, 0);
    E(LOAD_LOCAL, tmp, 0); E(LOAD_CONST, k1, 0); E(INDEX, 0, 0); E(POP, 0, 0);
    E(LOAD_LOCAL, tmp, 0); E(LOAD_CONST, k1, 0); E(LOAD_CONST, knull, 0); E(STORE_INDEX, 0, 0);
    E(LOAD_CONST, ks, 0); E(LOAD_CONST, k1, 0); E(BUILD_MAP, 1, 0);
    E(LOAD_CONST, k1, 0); E(LOAD_CONST, kf, 0); E(MAP_EXTEND, 1, 0); E(POP, 0, 0);
    E(LOAD_CONST, k1, 0); E(LOAD_CONST, kf, 0); E(DUP2, 0, 0); E(ROT3, 0, 0);
    E(POP, 0, 0); E(POP, 0, 0); E(POP, 0, 0); E(POP, 0, 0);
    E(MAKE_CLOSURE, cf, 0); E(LOAD_CONST, k1, 0); E(CALL_TOP, 1, 0); E(POP, 0, 0);
    E(LOAD_LOCAL, tmp, 0); E(CALL_BUILTIN, ZX_BI_len, 1); E(POP, 0, 0);
    E(LOAD_BUILTIN, ZX_BI_range, 0); E(POP, 0, 0);
    E(LOAD_HOST, kpush, 0); E(POP, 0, 0);           /* a host function's name: any string */
    E(LOAD_LOCAL, tmp, 0); E(LOAD_CONST, k1, 0); E(CALL_METHOD, kpush, 1); E(POP, 0, 0);
    E(FORK_EXECUTION, cfork, 2);
    E(JOIN_WORKERS, 0, 0);
    E(BARRIER_SYNC, 0, 0);
    E(MAKE_CLOSURE, clam, 0); E(LOAD_LOCAL, tmp, 0); E(PARALLEL_MAP, 0, 0); E(POP, 0, 0);
    E(LOAD_CONST, ks, 0); E(LOAD_CONST, kf, 0); E(PRINT, 2, 0);
    E(LOAD_CONST, k1, 0); E(STORE_CELL, cv, 0); E(LOAD_CELL, cv, 0); E(POP, 0, 0);
    E(LOAD_LOCAL, tmp, 0); E(GET_ITER, it0, 0);
    uint32_t loop1 = E(FOR_ITER1, 0, it0);
    E(POP, 0, 0);
    E(JUMP, loop1, 0);
    patch(m, loop1, m->ncode);
    E(LOAD_LOCAL, tmp, 0); E(GET_ITER, it1, 0);
    uint32_t loop2 = E(FOR_ITER2, 0, it1);
    E(POP, 0, 0); E(POP, 0, 0);
    E(JUMP, loop2, 0);
    patch(m, loop2, m->ncode);
    E(LOAD_CONST, ktrue, 0); E(ASSERT, 0, 0);
    E(LOAD_CONST, ktrue, 0); E(LOAD_CONST, ks, 0); E(ASSERT, 1, 0);
    E(LOAD_CONST, ks, 0); E(BUILD_LIST, 0, 0); E(BUILD_LIST, 0, 0); E(BUILD_LIST, 0, 0); E(BUILD_MAP, 0, 0);
    E(LOAD_CONST, knull, 0); E(MAKE_CLASS, 0, 0);
    E(BUILD_MAP, 0, 0); E(NEW_NAMED, 0, 0); E(POP, 0, 0);
    E(LOAD_CONST, knull, 0); E(GET_FIELD, ks, 0); E(POP, 0, 0);
    E(LOAD_CONST, ktrue, 0); E(REQUIRE, 0, 0);
    E(LOAD_CONST, ktrue, 0); E(LOAD_CONST, ks, 0); E(REQUIRE, 1, 0);
    E(NOP, 0, 0);
    E(LOAD_CONST, knull, 0);
    E(RETURN, 0, 0);
#undef E
    return p;
}

static void count_ops(const zx_code *c, int *seen)
{
    for (uint32_t i = 0; i < c->ncode; i++)
        for (int k = 0; k < zx_opinfo_count; k++)
            if (zx_opinfo_table[k].number == c->code[i].op) seen[k]++;
    for (uint32_t i = 0; i < c->nchildren; i++) count_ops(c->children[i], seen);
}

static char *disasm(const zx_program *p)
{
    zx_buf b;
    zx_buf_init(&b);
    zx_disassemble(p, &b);
    return b.data;
}

static void to_bytecode(const zx_program *p, zx_buf *b)
{
    zx_buf_init(b);
    zx_bytecode_write(p, b);
}

/* ---- builders ---- */

static void test_builders(zx_heap *h)
{
    zx_code *c = zx_code_new(ZX_CODE_ACTION, "f");
    uint32_t i1 = zx_code_add_const(c, zx_int(1));
    uint32_t f1 = zx_code_add_const(c, zx_float(1.0));
    CHECK(i1 != f1);                                             /* int 1 and float 1.0 differ */
    CHECK(zx_code_add_const(c, zx_int(1)) == i1);
    CHECK(zx_code_add_const(c, zx_float(1.0)) == f1);
    uint32_t z = zx_code_add_const(c, zx_float(0.0));
    uint32_t nz = zx_code_add_const(c, zx_float(-0.0));
    CHECK(z != nz);                                              /* -0.0 and 0.0 differ */
    uint32_t n1 = zx_code_add_const(c, zx_float(NAN));
    CHECK(zx_code_add_const(c, zx_float(NAN)) == n1);            /* a NaN matches itself */
    uint32_t n2 = zx_code_add_const(c, zx_float(from_bits(0x7FF0000000000001ull)));
    CHECK(n2 != n1);                                             /* ... by bit pattern */
    uint32_t t = zx_code_add_const(c, zx_bool(true));
    CHECK(zx_code_add_const(c, zx_bool(false)) != t);
    CHECK(zx_code_add_const(c, zx_bool(true)) == t);
    CHECK(zx_code_add_const(c, zx_int(0)) != zx_code_add_const(c, zx_bool(false)));
    uint32_t nul = zx_code_add_const(c, zx_null());
    CHECK(zx_code_add_const(c, zx_null()) == nul);
    uint32_t s1 = const_str(h, c, "abc");
    CHECK(const_str(h, c, "abc") == s1);                         /* strings by content */
    CHECK(const_str(h, c, "abd") != s1);
    zx_value embedded = str(h, "a\0b", 3), prefix = str(h, "a", 1);
    CHECK(zx_code_add_const(c, embedded) != zx_code_add_const(c, prefix));
    zx_decref(embedded);
    zx_decref(prefix);
    uint32_t n = c->nconsts;
    CHECK(zx_code_push_const(c, zx_int(1)) == n);                /* push never deduplicates */

    for (int i = 0; i < 100; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "v%d", i);
        CHECK(zx_code_add_local(c, nm) == (uint32_t)i);
        CHECK(c->local_is_cell[i] == 0);
        c->local_is_cell[i] = (uint8_t)(i & 1);
    }
    CHECK(c->local_is_cell[99] == 1 && c->local_is_cell[98] == 0);
    CHECK_STR(c->local_names[57], "v57");
    for (uint32_t i = 0; i < 1000; i++) CHECK(zx_code_emit(c, OP_NOP, 0, 0, at(i, i)) == i);
    CHECK(c->positions[777].line == 777);
    CHECK(zx_code_add_free(c, "x", true, 3) == 0);
    CHECK(zx_code_add_free(c, "y", false, 0) == 1);
    CHECK(c->free[0].from_parent_local == 1 && c->free[0].index == 3 && c->free[1].from_parent_local == 0);
    CHECK(zx_code_add_child(c, zx_code_new(ZX_CODE_LAMBDA, "<lambda>")) == 0);
    CHECK(zx_code_add_child(c, zx_code_new(ZX_CODE_FORK, "<fork>")) == 1);
    zx_code_free(c);

    zx_program *p = zx_program_new("t.zx", h);
    CHECK(zx_program_add_global(p, "a") == 0);
    CHECK(zx_program_add_global(p, "b") == 1);
    CHECK(zx_program_add_global(p, "a") == 0);                   /* existing slot */
    CHECK(p->nglobals == 2);
    CHECK(zx_program_push_global(p, "a") == 2);
    CHECK_STR(p->source_name, "t.zx");
    zx_program_free(p);
    zx_program_free(NULL);
    zx_code_free(NULL);
}

/* ---- the whole program: every opcode, both round trips ---- */

static void test_all_opcodes(zx_heap *h)
{
    char err[ERRSZ];
    zx_program *p = build_all_opcodes(h);
    int seen[512] = { 0 };
    count_ops(p->main, seen);
    for (int k = 0; k < zx_opinfo_count; k++) {
        check_count++;
        if (!seen[k]) {
            check_failures++;
            fprintf(stderr, "opcode %s is not covered by build_all_opcodes\n", zx_opinfo_table[k].name);
        }
    }
    bool ok = zx_verify_program(p, err, sizeof err);
    CHECK(ok);
    if (!ok) fprintf(stderr, "  %s\n", err);
    CHECK(p->main->max_stack == 6);                  /* MAKE_CLASS over its six parts */
    CHECK(p->main->children[0]->max_stack == 2);

    /* text: assemble(disassemble(p)) == p, and the text is a fixed point */
    char *t1 = disasm(p);
    zx_program *q = zx_assemble(t1, strlen(t1), "all.zxa", h, err, sizeof err);
    CHECK(q != NULL);
    if (!q) fprintf(stderr, "  %s\n", err);
    if (q) {
        CHECK(program_same(p, q));
        CHECK(zx_verify_program(q, err, sizeof err));
        CHECK(q->main->max_stack == p->main->max_stack);
        char *t2 = disasm(q);
        CHECK(strcmp(t1, t2) == 0);
        free(t2);
        zx_program_free(q);
    }

    /* binary: read(write(p)) == p, and writing again gives the same bytes */
    zx_buf b, b2;
    to_bytecode(p, &b);
    CHECK(b.len > 24 && memcmp(b.data, "ZXBC", 4) == 0);
    zx_program *r = zx_bytecode_read((const uint8_t *)b.data, b.len, h, err, sizeof err);
    CHECK(r != NULL);
    if (!r) fprintf(stderr, "  %s\n", err);
    if (r) {
        CHECK(program_same(p, r));
        CHECK(zx_verify_program(r, err, sizeof err));
        to_bytecode(r, &b2);
        CHECK(b2.len == b.len && memcmp(b.data, b2.data, b.len) == 0);
        zx_buf_free(&b2);
        char *t3 = disasm(r);
        CHECK(strcmp(t1, t3) == 0);
        free(t3);
        zx_program_free(r);
    }

    /* every truncation is rejected cleanly */
    int bad = 0;
    for (size_t n = 0; n < b.len; n++) {
        err[0] = 'x';
        zx_program *t = zx_bytecode_read((const uint8_t *)b.data, n, h, err, sizeof err);
        const char *want = n == 0 ? "not a zexus bytecode file" : "truncated bytecode file";
        if (t || strcmp(err, want) != 0) {
            if (bad++ < 5) fprintf(stderr, "truncation to %zu bytes: %s\n", n, t ? "accepted" : err);
            zx_program_free(t);
        }
    }
    CHECK(bad == 0);

    /* a changed byte anywhere is rejected */
    static const uint8_t masks[] = { 0x01, 0x02, 0x10, 0x80, 0xFF };
    uint8_t *copy = malloc(b.len);
    memcpy(copy, b.data, b.len);
    bad = 0;
    int checksum_msgs = 0;
    for (size_t i = 0; i < b.len; i++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            copy[i] ^= masks[m];
            zx_program *t = zx_bytecode_read(copy, b.len, h, err, sizeof err);
            copy[i] ^= masks[m];
            if (t) {
                if (bad++ < 5) fprintf(stderr, "flipping byte %zu with 0x%02x was accepted\n", i, masks[m]);
                zx_program_free(t);
            } else if (i >= 16 && strcmp(err, "bytecode checksum mismatch (damaged file)") == 0) {
                checksum_msgs++;
            }
        }
    }
    CHECK(bad == 0);
    CHECK(checksum_msgs == (int)((b.len - 16) * sizeof masks));   /* payload and checksum bytes */
    free(copy);
    zx_buf_free(&b);
    free(t1);
    zx_program_free(p);
}

/* ---- .zxbc: header and payload errors ---- */

static void put_le(zx_buf *b, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) {
        char ch = (char)(uint8_t)(v >> (8 * i));
        zx_buf_put(b, &ch, 1);
    }
}

static void put_str(zx_buf *b, const char *s, size_t n)
{
    put_le(b, n, 4);
    zx_buf_put(b, s, n);
}

/* A file around a payload, with a correct checksum. */
static void wrap(const zx_buf *payload, zx_buf *file)
{
    zx_buf_init(file);
    zx_buf_put(file, "ZXBC", 4);
    put_le(file, ZX_BYTECODE_FORMAT_VERSION, 2);
    put_le(file, 0, 2);
    put_le(file, payload->len, 8);
    zx_buf_put(file, payload->data ? payload->data : "", payload->len);
    put_le(file, zx_bytecode_checksum((const uint8_t *)payload->data, payload->len), 8);
}

/* Reads a payload wrapped in a valid header; returns the error ("" when it loaded). */
static const char *read_payload(zx_heap *h, const zx_buf *payload, char *err)
{
    zx_buf file;
    wrap(payload, &file);
    zx_program *p = zx_bytecode_read((const uint8_t *)file.data, file.len, h, err, ERRSZ);
    zx_buf_free(&file);
    if (p) {
        err[0] = '\0';
        zx_program_free(p);
    }
    return err;
}

/* The payload of: main with the given constants section and LOAD_CONST 0; RETURN. */
static void small_payload(zx_buf *b, uint32_t nlocals_field, const char *consts, size_t consts_len)
{
    zx_buf_init(b);
    put_str(b, "s.zx", 4);
    put_le(b, 0, 4);                 /* module files */
    put_le(b, 0, 4);                 /* globals */
    put_le(b, 1, 1);                 /* has main */
    put_le(b, ZX_CODE_MAIN, 1);
    put_str(b, "<main>", 6);
    put_le(b, 1, 4); put_le(b, 1, 4); /* pos */
    put_le(b, 0, 4);                 /* file */
    put_le(b, 0, 4);                 /* nparams */
    put_le(b, nlocals_field, 4);
    put_le(b, 0, 4);                 /* nfree */
    zx_buf_put(b, consts, consts_len);
    put_le(b, 2, 4);
    put_le(b, OP_LOAD_CONST, 2); put_le(b, 0, 2); put_le(b, 0, 4); put_le(b, 1, 4); put_le(b, 1, 4);
    put_le(b, OP_RETURN, 2); put_le(b, 0, 2); put_le(b, 0, 4); put_le(b, 1, 4); put_le(b, 1, 4);
    put_le(b, 0, 4);                 /* handlers */
    put_le(b, 0, 4);                 /* children */
}

static void test_zxbc_errors(zx_heap *h)
{
    char err[ERRSZ];
    zx_buf pl, file;

    /* the payload builder makes a loadable program */
    small_payload(&pl, 0, "\x01\x00\x00\x00\x02\x07\x00\x00\x00\x00\x00\x00\x00", 13);
    CHECK_STR(read_payload(h, &pl, err), "");
    wrap(&pl, &file);
    zx_program *p = zx_bytecode_read((const uint8_t *)file.data, file.len, h, err, sizeof err);
    CHECK(p && p->main->nconsts == 1 && p->main->consts[0].tag == ZX_T_INT && p->main->consts[0].u.i == 7);
    CHECK(p && zx_verify_program(p, err, sizeof err));
    zx_program_free(p);

    /* header */
    CHECK(zx_bytecode_read((const uint8_t *)"ELF\x7f....", 8, h, err, sizeof err) == NULL);
    CHECK_STR(err, "not a zexus bytecode file");
    CHECK(zx_bytecode_read(NULL, 0, h, err, sizeof err) == NULL);
    CHECK_STR(err, "not a zexus bytecode file");
    CHECK(zx_bytecode_read((const uint8_t *)"ZX", 2, h, err, sizeof err) == NULL);
    CHECK_STR(err, "truncated bytecode file");
    file.data[4] = 4;
    CHECK(zx_bytecode_read((const uint8_t *)file.data, file.len, h, err, sizeof err) == NULL);
    CHECK_STR(err, "bytecode format version 4, expected 3");
    file.data[4] = ZX_BYTECODE_FORMAT_VERSION;
    file.data[6] = 4;
    CHECK(zx_bytecode_read((const uint8_t *)file.data, file.len, h, err, sizeof err) == NULL);
    CHECK_STR(err, "unsupported bytecode flags 0x0004");
    file.data[6] = 0;
    file.data[file.len - 1] ^= 1;
    CHECK(zx_bytecode_read((const uint8_t *)file.data, file.len, h, err, sizeof err) == NULL);
    CHECK_STR(err, "bytecode checksum mismatch (damaged file)");
    file.data[file.len - 1] ^= 1;
    zx_buf_put(&file, "", 1);                                        /* one byte too many */
    CHECK(zx_bytecode_read((const uint8_t *)file.data, file.len, h, err, sizeof err) == NULL);
    CHECK_STR(err, "trailing bytes after the end of the bytecode");
    zx_buf_free(&file);
    zx_buf_free(&pl);

    /* payload: huge counts are refused before anything is allocated */
    small_payload(&pl, 0xFFFFFFFFu, "\x00\x00\x00\x00", 4);
    CHECK_STR(read_payload(h, &pl, err), "corrupt bytecode: local count 4294967295 at offset 44 exceeds the payload");
    zx_buf_free(&pl);
    small_payload(&pl, 0, "\xff\xff\xff\x7f", 4);
    CHECK(strstr(read_payload(h, &pl, err), "corrupt bytecode: constant count 2147483647") == err);
    zx_buf_free(&pl);
    /* bad constant tag, bad bool, invalid UTF-8, string length past the end */
    small_payload(&pl, 0, "\x01\x00\x00\x00\x09", 5);
    CHECK_STR(read_payload(h, &pl, err), "corrupt bytecode: bad constant tag 9 at offset 56");
    zx_buf_free(&pl);
    small_payload(&pl, 0, "\x01\x00\x00\x00\x01\x02", 6);
    CHECK_STR(read_payload(h, &pl, err), "corrupt bytecode: bad boolean constant 2 at offset 57");
    zx_buf_free(&pl);
    small_payload(&pl, 0, "\x01\x00\x00\x00\x04\x02\x00\x00\x00\xc3\x28", 11);
    CHECK_STR(read_payload(h, &pl, err), "corrupt bytecode: string at offset 57 is not valid UTF-8");
    zx_buf_free(&pl);
    small_payload(&pl, 0, "\x01\x00\x00\x00\x04\x00\x00\x00\x10", 9);
    CHECK(strstr(read_payload(h, &pl, err), "corrupt bytecode: string length 268435456 at offset 57 exceeds") == err);
    zx_buf_free(&pl);
    /* a string constant may hold NUL, a name may not */
    small_payload(&pl, 0, "\x01\x00\x00\x00\x04\x03\x00\x00\x00" "a\0b", 12);
    CHECK_STR(read_payload(h, &pl, err), "");
    zx_buf_free(&pl);
    zx_buf_init(&pl);
    put_str(&pl, "s", 1);
    put_le(&pl, 0, 4);                               /* module files */
    put_le(&pl, 1, 4);
    put_str(&pl, "a\0", 2);                          /* a global named "a\0" */
    put_le(&pl, 0, 1);
    put_le(&pl, 0, 1);
    CHECK_STR(read_payload(h, &pl, err), "corrupt bytecode: name at offset 13 contains a NUL byte");
    zx_buf_free(&pl);
    /* bad kind, bad flags, trailing payload bytes, payload ends early */
    small_payload(&pl, 0, "\x00\x00\x00\x00", 4);
    pl.data[17] = 7;                                  /* the kind byte of main */
    CHECK_STR(read_payload(h, &pl, err), "corrupt bytecode: bad code kind 7 at offset 17");
    pl.data[17] = 0;
    pl.data[16] = 2;                                  /* has_main */
    CHECK_STR(read_payload(h, &pl, err), "corrupt bytecode: bad main flag 2 at offset 16");
    pl.data[16] = 1;
    zx_buf_put(&pl, "\0", 1);
    CHECK_STR(read_payload(h, &pl, err), "corrupt bytecode: 1 bytes left over after the program");
    pl.len -= 5;
    CHECK(strstr(read_payload(h, &pl, err), "corrupt bytecode: ") == err);
    zx_buf_free(&pl);
    zx_buf_init(&pl);
    put_str(&pl, "\xff", 1);
    CHECK_STR(read_payload(h, &pl, err), "corrupt bytecode: string at offset 0 is not valid UTF-8");
    zx_buf_free(&pl);
    zx_buf_init(&pl);
    put_str(&pl, "g", 1);
    put_le(&pl, 0, 4);                               /* module files */
    put_le(&pl, 1, 4);
    put_str(&pl, "x", 1);
    put_le(&pl, 4, 1);                                /* global flags */
    CHECK_STR(read_payload(h, &pl, err), "corrupt bytecode: bad global flags 4 at offset 18");
    zx_buf_free(&pl);

    /* nesting: 300 levels of lambdas */
    p = zx_program_new("deep", h);
    p->main = zx_code_new(ZX_CODE_MAIN, "<main>");
    zx_code *c = p->main;
    for (int i = 0; i < 300; i++) {
        zx_code *k = zx_code_new(ZX_CODE_LAMBDA, "<lambda>");
        zx_code_add_child(c, k);
        c = k;
    }
    zx_buf_init(&file);
    zx_bytecode_write(p, &file);
    CHECK(zx_bytecode_read((const uint8_t *)file.data, file.len, h, err, sizeof err) == NULL);
    CHECK_STR(err, "corrupt bytecode: code objects nested deeper than 256 levels");
    CHECK(!zx_verify_program(p, err, sizeof err));
    zx_buf_free(&file);
    zx_program_free(p);

    /* a program without main survives the trip (the verifier rejects it) */
    p = zx_program_new("nomain", h);
    zx_buf_init(&file);
    zx_bytecode_write(p, &file);
    zx_program_free(p);
    p = zx_bytecode_read((const uint8_t *)file.data, file.len, h, err, sizeof err);
    CHECK(p && !p->main);
    CHECK(p && !zx_verify_program(p, err, sizeof err));
    CHECK_STR(err, "verify: the program has no main code object");
    zx_program_free(p);
    zx_buf_free(&file);
}

/* ---- constants: exact values through both forms ---- */

static void test_const_round_trip(zx_heap *h)
{
    static const uint64_t float_bits[] = {
        0x0000000000000000ull, 0x8000000000000000ull,           /* 0.0, -0.0 */
        0x7FF0000000000000ull, 0xFFF0000000000000ull,           /* inf, -inf */
        0x7FF8000000000000ull, 0xFFF8000000000000ull,           /* nan, -nan */
        0x7FF0000000000001ull, 0xFFF4000000000123ull,           /* NaNs with payloads */
        0x0000000000000001ull, 0x800FFFFFFFFFFFFFull,           /* subnormals */
        0x0010000000000000ull, 0x7FEFFFFFFFFFFFFFull,           /* DBL_MIN, DBL_MAX */
        0x3FB999999999999Aull, 0x3FD5555555555555ull,           /* 0.1, 1/3 */
        0x400921FB54442D18ull, 0xC1E0000000000000ull,           /* pi, -2^31 */
    };
    char err[ERRSZ];
    zx_program *p = zx_program_new("consts \"quoted\"\n.zx", h);
    zx_code *m = zx_code_new(ZX_CODE_MAIN, "<main>");
    p->main = m;
    size_t nf = sizeof float_bits / sizeof float_bits[0];
    for (size_t i = 0; i < nf; i++) zx_code_push_const(m, zx_float(from_bits(float_bits[i])));
    zx_code_push_const(m, zx_int(INT64_MIN));
    zx_code_push_const(m, zx_int(INT64_MAX));
    zx_code_push_const(m, zx_int(-1));
    zx_code_push_const(m, zx_int(0));
    zx_code_push_const(m, zx_int(0));                          /* duplicates survive */
    zx_code_push_const(m, zx_bool(false));
    zx_code_push_const(m, zx_null());
    char all[128 + 16];
    size_t n = 0;
    for (int ch = 0; ch < 128; ch++) all[n++] = (char)ch;      /* every ASCII byte, NUL included */
    memcpy(all + n, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9); /* é € 😀 */
    n += 9;
    zx_value s = str(h, all, n);
    zx_code_push_const(m, s);
    zx_decref(s);
    s = str(h, "", 0);
    zx_code_push_const(m, s);
    zx_decref(s);
    zx_code_add_local(m, "weird \"name\"\t\\ é");
    zx_code_emit(m, OP_LOAD_CONST, 0, 0, at(UINT32_MAX, UINT32_MAX));
    zx_code_emit(m, OP_RETURN, 0, 0, P0);
    CHECK(zx_verify_program(p, err, sizeof err));

    char *t1 = disasm(p);
    zx_program *q = zx_assemble(t1, strlen(t1), "c.zxa", h, err, sizeof err);
    CHECK(q != NULL);
    if (!q) fprintf(stderr, "  %s\n", err);
    if (q) {
        CHECK(program_same(p, q));
        for (size_t i = 0; i < nf; i++) CHECK(bits_of(q->main->consts[i].u.f) == float_bits[i]);
        char *t2 = disasm(q);
        CHECK(strcmp(t1, t2) == 0);
        free(t2);
        zx_program_free(q);
    }
    CHECK(strstr(t1, ".const float -0x0p+0") != NULL);
    CHECK(strstr(t1, ".const float nan(0x7ff0000000000001)") != NULL);
    CHECK(strstr(t1, ".const float 0x1.921fb54442d18p+1") != NULL);
    CHECK(strstr(t1, ".const int -9223372036854775808") != NULL);
    CHECK(strstr(t1, ".source \"consts \\\"quoted\\\"\\n.zx\"") != NULL);

    zx_buf b;
    to_bytecode(p, &b);
    zx_program *r = zx_bytecode_read((const uint8_t *)b.data, b.len, h, err, sizeof err);
    CHECK(r && program_same(p, r));
    zx_program_free(r);
    zx_buf_free(&b);
    free(t1);
    zx_program_free(p);
}

/* ---- the verifier: every rejection ---- */

/* main: LOAD_CONST 0 (null); RETURN, with globals g (plain) and s (shared), locals a, b, c (cell). */
static zx_program *base(zx_heap *h)
{
    zx_program *p = zx_program_new("v.zx", h);
    zx_program_add_global(p, "g");
    uint32_t s = zx_program_add_global(p, "s");
    p->globals[s].is_shared = 1;
    zx_code *m = zx_code_new(ZX_CODE_MAIN, "<main>");
    p->main = m;
    zx_code_add_local(m, "a");
    zx_code_add_local(m, "b");
    uint32_t cslot = zx_code_add_local(m, "c");
    m->local_is_cell[cslot] = 1;
    zx_code_add_const(m, zx_null());
    return p;
}

static zx_code *child(zx_code *parent, zx_code_kind kind, const char *name)
{
    zx_code *c = zx_code_new(kind, name);
    zx_code_add_child(parent, c);
    zx_code_add_const(c, zx_null());
    zx_code_emit(c, OP_LOAD_CONST, 0, 0, P0);
    zx_code_emit(c, OP_RETURN, 0, 0, P0);
    return c;
}

static void ret(zx_code *c)
{
    zx_code_emit(c, OP_LOAD_CONST, 0, 0, P0);
    zx_code_emit(c, OP_RETURN, 0, 0, P0);
}

static void check_verify(const char *file, int line, zx_program *p, const char *want)
{
    char err[ERRSZ];
    bool ok = zx_verify_program(p, err, sizeof err);
    check_count++;
    if (want ? ok || strcmp(err, want) != 0 : !ok) {
        check_failures++;
        fprintf(stderr, "%s:%d: verify gave \"%s\", want \"%s\"\n", file, line, ok ? "(ok)" : err, want ? want : "(ok)");
    }
    zx_program_free(p);
}
#define VERIFY_OK(p) check_verify(__FILE__, __LINE__, (p), NULL)
#define VERIFY_FAILS(p, want) check_verify(__FILE__, __LINE__, (p), (want))

/* base() with main's code replaced by the given instructions. */
#define MAIN_CODE(p, ...) do { \
        zx_instr ins_[] = { __VA_ARGS__ }; \
        for (size_t i_ = 0; i_ < sizeof ins_ / sizeof ins_[0]; i_++) \
            zx_code_emit((p)->main, ins_[i_].op, ins_[i_].a, ins_[i_].b, P0); \
    } while (0)
#define I(o_, a_, b_) ((zx_instr){ .op = OP_##o_, .a = (a_), .b = (b_) })
#define RET I(LOAD_CONST, 0, 0), I(RETURN, 0, 0)

static void test_verifier(zx_heap *h)
{
    zx_program *p;
    zx_code *c;

    p = base(h); ret(p->main); VERIFY_OK(p);

    /* exception handler rows: range, target, the depth of 2 at the target */
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(THROW, 0, 0), I(POP, 0, 0), I(POP, 0, 0), RET);
    zx_code_add_handler(p->main, 0, 2, 2); VERIFY_OK(p);
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(THROW, 0, 0), I(POP, 0, 0), I(POP, 0, 0), RET);
    zx_code_add_handler(p->main, 1, 1, 2);
    VERIFY_FAILS(p, "verify: <main>: handler 0: bad range 1..1 (6 instructions)");
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(THROW, 0, 0), I(POP, 0, 0), I(POP, 0, 0), RET);
    zx_code_add_handler(p->main, 0, 7, 2);
    VERIFY_FAILS(p, "verify: <main>: handler 0: bad range 0..7 (6 instructions)");
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(THROW, 0, 0), I(POP, 0, 0), I(POP, 0, 0), RET);
    zx_code_add_handler(p->main, 0, 2, 1);
    VERIFY_FAILS(p, "verify: <main>: handler 0: bad target 1 for range 0..2");
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(THROW, 0, 0), I(POP, 0, 0), RET);
    zx_code_add_handler(p->main, 0, 2, 2);
    VERIFY_FAILS(p, "verify: <main>: instruction 4 (RETURN): stack depth must be 1 at RETURN, is 2");
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(JUMP, 2, 0), I(POP, 0, 0), RET);
    zx_code_add_handler(p->main, 1, 2, 2);
    VERIFY_FAILS(p, "verify: <main>: instruction 2 (POP): handler target at stack depth 1, must be 2");

    /* program and code-object shape */
    p = base(h); zx_code_free(p->main); p->main = NULL;
    VERIFY_FAILS(p, "verify: the program has no main code object");
    p = base(h); ret(p->main); p->main->kind = ZX_CODE_ACTION;
    VERIFY_FAILS(p, "verify: <main>: the main code object is an action");
    p = base(h); ret(p->main); c = child(p->main, ZX_CODE_MAIN, "inner");
    VERIFY_FAILS(p, "verify: inner: a nested code object has kind main");
    p = base(h); ret(p->main); p->main->kind = (zx_code_kind)9;
    VERIFY_FAILS(p, "verify: <main>: bad code kind 9");
    p = base(h);
    VERIFY_FAILS(p, "verify: <main>: no instructions");
    p = base(h); ret(p->main); free(p->main->positions); p->main->positions = NULL;
    VERIFY_FAILS(p, "verify: <main>: no source positions");
    p = base(h); ret(p->main);
    while (p->main->nlocals <= ZX_MAX_LOCALS) zx_code_add_local(p->main, "$t");
    VERIFY_FAILS(p, "verify: <main>: too many locals (65536, at most 65535)");
    p = base(h); ret(p->main); c = child(p->main, ZX_CODE_ACTION, "f"); c->nparams = 1;
    VERIFY_FAILS(p, "verify: f: 1 parameters but only 0 locals");
    p = base(h); ret(p->main); p->main->nparams = 1;
    VERIFY_FAILS(p, "verify: <main>: the main code object has parameters");
    p = base(h); ret(p->main); zx_code_add_free(p->main, "x", false, 0);
    VERIFY_FAILS(p, "verify: <main>: the main code object has free variables");
    p = base(h); ret(p->main); c = child(p->main, ZX_CODE_FORK, "<fork>"); zx_code_add_local(c, "x"); c->nparams = 1;
    VERIFY_FAILS(p, "verify: <fork>: a fork block has parameters");
    p = base(h); ret(p->main); zx_program_push_global(p, "g");
    VERIFY_FAILS(p, "verify: duplicate global 'g'");
    p = base(h); ret(p->main); p->globals[0].is_shared = 3;
    VERIFY_FAILS(p, "verify: global 0 ('g') has bad flags");

    /* constants */
    p = base(h); ret(p->main); zx_code_push_const(p->main, zx_undef());
    VERIFY_FAILS(p, "verify: <main>: constant 1 is not null, bool, int, float or string");
    p = base(h); ret(p->main);
    {
        zx_list *l = zx_list_new(h, 0);
        zx_code_push_const(p->main, zx_objval(l));
        zx_obj_decref(l);
    }
    VERIFY_FAILS(p, "verify: <main>: constant 1 is not null, bool, int, float or string");
    p = base(h); ret(p->main);
    {
        zx_value s = str(h, "\xff", 1);
        zx_code_push_const(p->main, s);
        zx_decref(s);
    }
    VERIFY_FAILS(p, "verify: <main>: constant 1 is a string that is not valid UTF-8");

    /* free variables against the parent */
    p = base(h); ret(p->main); c = child(p->main, ZX_CODE_LAMBDA, "<lambda>"); zx_code_add_free(c, "a", true, 7);
    VERIFY_FAILS(p, "verify: <lambda>: free variable 0 ('a') refers to parent local 7, out of range (3 locals)");
    p = base(h); ret(p->main); c = child(p->main, ZX_CODE_LAMBDA, "<lambda>"); zx_code_add_free(c, "a", true, 0);
    VERIFY_FAILS(p, "verify: <lambda>: free variable 0 ('a') refers to parent local 0 ('a'), which is not a cell");
    p = base(h); ret(p->main); c = child(p->main, ZX_CODE_LAMBDA, "<lambda>"); zx_code_add_free(c, "c", true, 2);
    VERIFY_OK(p);
    p = base(h); ret(p->main); c = child(p->main, ZX_CODE_LAMBDA, "<lambda>"); zx_code_add_free(c, "c", true, 2);
    c = child(c, ZX_CODE_LAMBDA, "inner"); zx_code_add_free(c, "c", false, 1);
    VERIFY_FAILS(p, "verify: inner: free variable 0 ('c') refers to parent free variable 1, out of range (1 free variables)");

    /* operands */
    p = base(h); MAIN_CODE(p, I(NOP, 0, 0), { .op = 999 }, RET);
    VERIFY_FAILS(p, "verify: <main>: instruction 1 (opcode 999): unknown opcode 999");
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(LOAD_CONST, 0, 0), I(ADD, 1, 0), I(RETURN, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 2 (ADD): operand a must be 0, is 1");
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 5), I(RETURN, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 0 (LOAD_CONST): operand b must be 0, is 5");
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 1, 0), I(RETURN, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 0 (LOAD_CONST): constant 1 out of range (1 constants)");
    p = base(h); MAIN_CODE(p, I(LOAD_NAME, 2, 0), I(RETURN, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 0 (LOAD_NAME): global 2 out of range (2 globals)");
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(SHARED_WRITE, 0, OP_ADD), RET);
    VERIFY_FAILS(p, "verify: <main>: instruction 1 (SHARED_WRITE): global 0 ('g') is not shared");
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(SHARED_WRITE, 1, OP_EQ), RET);
    VERIFY_FAILS(p, "verify: <main>: instruction 1 (SHARED_WRITE): operator 20 is not ADD, SUB, MUL, DIV, MOD or POW");
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(SHARED_WRITE, 1, OP_POW), RET);
    VERIFY_OK(p);
    p = base(h); MAIN_CODE(p, I(SHARED_READ, 0, 0), I(RETURN, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 0 (SHARED_READ): global 0 ('g') is not shared");
    p = base(h); MAIN_CODE(p, I(LOAD_LOCAL, 3, 0), I(RETURN, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 0 (LOAD_LOCAL): local 3 out of range (3 locals)");
    p = base(h); MAIN_CODE(p, I(LOAD_LOCAL, 2, 0), I(RETURN, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 0 (LOAD_LOCAL): local 2 ('c') is a cell");
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(STORE_LOCAL, 2, 0), RET);
    VERIFY_FAILS(p, "verify: <main>: instruction 1 (STORE_LOCAL): local 2 ('c') is a cell");
    p = base(h); MAIN_CODE(p, I(LOAD_CELL, 0, 0), I(RETURN, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 0 (LOAD_CELL): local 0 ('a') is not a cell");
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(STORE_CELL, 1, 0), RET);
    VERIFY_FAILS(p, "verify: <main>: instruction 1 (STORE_CELL): local 1 ('b') is not a cell");
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(GET_ITER, 2, 0), RET);
    VERIFY_FAILS(p, "verify: <main>: instruction 1 (GET_ITER): iterator locals 2 and 3 out of range (3 locals)");
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(GET_ITER, 1, 0), RET);
    VERIFY_FAILS(p, "verify: <main>: instruction 1 (GET_ITER): iterator local 2 ('c') is a cell");
    p = base(h); MAIN_CODE(p, I(FOR_ITER1, 1, 2), RET);
    VERIFY_FAILS(p, "verify: <main>: instruction 0 (FOR_ITER1): iterator locals 2 and 3 out of range (3 locals)");
    p = base(h); MAIN_CODE(p, I(FOR_ITER2, 9, 0), RET);
    VERIFY_FAILS(p, "verify: <main>: instruction 0 (FOR_ITER2): jump target 9 out of range (3 instructions)");
    p = base(h); MAIN_CODE(p, I(LOAD_FREE, 0, 0), I(RETURN, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 0 (LOAD_FREE): free variable 0 out of range (0 free variables)");
    p = base(h); MAIN_CODE(p, I(MAKE_CLOSURE, 0, 0), I(RETURN, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 0 (MAKE_CLOSURE): child 0 out of range (0 children)");
    p = base(h); MAIN_CODE(p, I(MAKE_CLOSURE, 0, 0), I(RETURN, 0, 0)); child(p->main, ZX_CODE_FORK, "<fork>");
    VERIFY_FAILS(p, "verify: <main>: instruction 0 (MAKE_CLOSURE): child 0 ('<fork>') is a fork block, not an action or lambda");
    p = base(h); MAIN_CODE(p, I(JUMP, 3, 0), RET);
    VERIFY_FAILS(p, "verify: <main>: instruction 0 (JUMP): jump target 3 out of range (3 instructions)");
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(JUMP_IF_TRUE, 7, 0), RET);
    VERIFY_FAILS(p, "verify: <main>: instruction 1 (JUMP_IF_TRUE): jump target 7 out of range (4 instructions)");
    p = base(h); MAIN_CODE(p, I(BUILD_LIST, (1u << 24) + 1, 0), I(RETURN, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 0 (BUILD_LIST): count 16777217 too large");
    p = base(h); MAIN_CODE(p, I(CALL_TOP, 0xFFFFFFFFu, 0), I(RETURN, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 0 (CALL_TOP): count 4294967295 too large");
    p = base(h); MAIN_CODE(p, I(CALL_BUILTIN, 99, 0), I(RETURN, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 0 (CALL_BUILTIN): unknown builtin 99");
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(LOAD_CONST, 0, 0), I(CALL_BUILTIN, ZX_BI_len, 2), I(RETURN, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 2 (CALL_BUILTIN): builtin len takes 1 argument, got 2");
    p = base(h); MAIN_CODE(p, I(CALL_BUILTIN, ZX_BI_range, 0), I(RETURN, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 0 (CALL_BUILTIN): builtin range takes 1 to 3 arguments, got 0");
    p = base(h); MAIN_CODE(p, I(CALL_BUILTIN, ZX_BI_args, 0), I(RETURN, 0, 0));
    VERIFY_OK(p);
    p = base(h); MAIN_CODE(p, I(LOAD_BUILTIN, ZX_BI_len, 1), I(RETURN, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 0 (LOAD_BUILTIN): operand b must be 0, is 1");
    p = base(h); MAIN_CODE(p, I(LOAD_BUILTIN, ZX_BI_COUNT, 0), I(RETURN, 0, 0));
    char unknown_bi[96];
    snprintf(unknown_bi, sizeof unknown_bi, "verify: <main>: instruction 0 (LOAD_BUILTIN): unknown builtin %d", ZX_BI_COUNT);
    VERIFY_FAILS(p, unknown_bi);
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(CALL_METHOD, 0, 0), I(RETURN, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 1 (CALL_METHOD): method name (constant 0) is not a string");
    p = base(h); MAIN_CODE(p, I(LOAD_HOST, 0, 0), I(POP, 0, 0), RET);
    VERIFY_FAILS(p, "verify: <main>: instruction 0 (LOAD_HOST): host function name (constant 0) is not a string");
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(CALL_METHOD, 4, 0), I(RETURN, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 1 (CALL_METHOD): constant 4 out of range (1 constants)");
    p = base(h); MAIN_CODE(p, I(FORK_EXECUTION, 0, 1), RET); child(p->main, ZX_CODE_FORK, "<fork>");
    VERIFY_FAILS(p, "verify: <main>: instruction 0 (FORK_EXECUTION): a fork needs at least 2 blocks, got 1");
    p = base(h); MAIN_CODE(p, I(FORK_EXECUTION, 1, 2), RET);
    child(p->main, ZX_CODE_FORK, "<fork>"); child(p->main, ZX_CODE_FORK, "<fork>");
    VERIFY_FAILS(p, "verify: <main>: instruction 0 (FORK_EXECUTION): fork blocks 1..2 out of range (2 children)");
    p = base(h); MAIN_CODE(p, I(FORK_EXECUTION, 0, 2), RET);
    child(p->main, ZX_CODE_FORK, "<fork>"); child(p->main, ZX_CODE_LAMBDA, "<lambda>");
    VERIFY_FAILS(p, "verify: <main>: instruction 0 (FORK_EXECUTION): child 1 ('<lambda>') is a lambda, not a fork block");
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(ASSERT, 2, 0), RET);
    VERIFY_FAILS(p, "verify: <main>: instruction 1 (ASSERT): flag must be 0 or 1, is 2");
    /* an unreachable instruction still needs valid operands */
    p = base(h); MAIN_CODE(p, RET, I(LOAD_CONST, 3, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 2 (LOAD_CONST): constant 3 out of range (1 constants)");
    p = base(h); MAIN_CODE(p, RET, I(POP, 0, 0), I(POP, 0, 0));         /* ... but no stack depth */
    VERIFY_OK(p);

    /* stack depth and control flow */
    p = base(h); MAIN_CODE(p, I(POP, 0, 0), RET);
    VERIFY_FAILS(p, "verify: <main>: instruction 0 (POP): stack underflow: needs 1 value, stack depth is 0");
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(BUILD_MAP, 1, 0), I(RETURN, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 1 (BUILD_MAP): stack underflow: needs 2 values, stack depth is 1");
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(LOAD_CONST, 0, 0), I(RETURN, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 2 (RETURN): stack depth must be 1 at RETURN, is 2");
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(POP, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 1 (POP): execution falls off the end of the code");
    p = base(h); MAIN_CODE(p, RET, I(LOAD_CONST, 0, 0), I(JUMP_IF_FALSE, 0, 0));
    VERIFY_OK(p);                                                       /* unreachable tail */
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(JUMP_IF_FALSE, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 1 (JUMP_IF_FALSE): execution falls off the end of the code");
    /* 0: cond; 1: JIF 4; 2: LOAD; 3: NOP; 4: RETURN -- 4 is reached with depth 0 and 1 */
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(JUMP_IF_FALSE, 4, 0), I(LOAD_CONST, 0, 0), I(NOP, 0, 0), I(RETURN, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 4 (RETURN): stack depth 0 on one path and 1 on another");
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(BARRIER_SYNC, 0, 0), I(RETURN, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 1 (BARRIER_SYNC): stack depth must be 0 here, is 1");
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(JOIN_WORKERS, 0, 0), I(RETURN, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 1 (JOIN_WORKERS): stack depth must be 0 here, is 1");
    p = base(h); MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(FORK_EXECUTION, 0, 2), I(RETURN, 0, 0));
    child(p->main, ZX_CODE_FORK, "<fork>"); child(p->main, ZX_CODE_FORK, "<fork>");
    VERIFY_FAILS(p, "verify: <main>: instruction 1 (FORK_EXECUTION): stack depth must be 0 here, is 1");
    p = base(h); MAIN_CODE(p, I(FORK_EXECUTION, 0, 2), I(JOIN_WORKERS, 0, 0), RET);
    child(p->main, ZX_CODE_FORK, "<fork>"); child(p->main, ZX_CODE_FORK, "<fork>");
    VERIFY_OK(p);
    /* FOR_ITER: the exit keeps depth d, the body starts at d+1 (d+2 for FOR_ITER2) */
    p = base(h); zx_code_add_local(p->main, "i");                           /* locals a b c i: iterate over 0/1 */
    MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(GET_ITER, 0, 0), I(FOR_ITER2, 6, 0), I(POP, 0, 0), I(POP, 0, 0), I(JUMP, 2, 0), RET);
    VERIFY_OK(p);
    p = base(h);
    MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(GET_ITER, 0, 0), I(FOR_ITER2, 6, 0), I(POP, 0, 0), I(NOP, 0, 0), I(JUMP, 2, 0), RET);
    VERIFY_FAILS(p, "verify: <main>: instruction 2 (FOR_ITER2): stack depth 0 on one path and 1 on another");
    p = base(h);   /* the exit target is also reached from the body with one value more */
    MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(GET_ITER, 0, 0), I(FOR_ITER1, 4, 0), I(JUMP, 4, 0), RET);
    VERIFY_FAILS(p, "verify: <main>: instruction 4 (LOAD_CONST): stack depth 0 on one path and 1 on another");
    p = base(h);
    MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(GET_ITER, 0, 0), I(FOR_ITER1, 3, 0), I(LOAD_CONST, 0, 0), I(RETURN, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 3 (LOAD_CONST): stack depth 0 on one path and 1 on another");
    p = base(h);
    MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(GET_ITER, 0, 0), I(FOR_ITER1, 5, 0), I(RETURN, 0, 0), I(NOP, 0, 0), RET);
    VERIFY_OK(p);                                                       /* the body returns the element */

    /* iterator locals */
    p = base(h); MAIN_CODE(p, I(FOR_ITER1, 2, 0), I(RETURN, 0, 0), RET);
    VERIFY_FAILS(p, "verify: <main>: instruction 0 (FOR_ITER1): iterator local 0 ('a') may be used before GET_ITER");
    p = base(h);   /* a path around the GET_ITER */
    MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(JUMP_IF_TRUE, 4, 0), I(LOAD_CONST, 0, 0), I(GET_ITER, 0, 0),
              I(FOR_ITER1, 8, 0), I(POP, 0, 0), I(JUMP, 4, 0), I(NOP, 0, 0), RET);
    VERIFY_FAILS(p, "verify: <main>: instruction 4 (FOR_ITER1): iterator local 0 ('a') may be used before GET_ITER");
    /* two GET_ITERs of one slot, one on each branch, together prepare the loop */
    p = base(h);
    MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(JUMP_IF_TRUE, 5, 0), I(LOAD_CONST, 0, 0), I(GET_ITER, 0, 0), I(JUMP, 7, 0),
              I(LOAD_CONST, 0, 0), I(GET_ITER, 0, 0), I(FOR_ITER1, 10, 0), I(POP, 0, 0), I(JUMP, 7, 0), RET);
    VERIFY_OK(p);
    p = base(h);   /* ... but not when one branch misses it */
    MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(JUMP_IF_TRUE, 5, 0), I(LOAD_CONST, 0, 0), I(GET_ITER, 0, 0), I(JUMP, 7, 0),
              I(LOAD_CONST, 0, 0), I(POP, 0, 0), I(FOR_ITER1, 10, 0), I(POP, 0, 0), I(JUMP, 7, 0), RET, I(GET_ITER, 0, 0));
    VERIFY_FAILS(p, "verify: <main>: instruction 7 (FOR_ITER1): iterator local 0 ('a') may be used before GET_ITER");
    p = base(h);
    MAIN_CODE(p, I(LOAD_LOCAL, 1, 0), I(POP, 0, 0), I(LOAD_CONST, 0, 0), I(GET_ITER, 0, 0), RET);
    VERIFY_FAILS(p, "verify: <main>: instruction 0 (LOAD_LOCAL): local 1 ('b') is an iterator local");
    p = base(h);
    MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(GET_ITER, 0, 0), I(LOAD_LOCAL, 1, 0), I(POP, 0, 0), RET);
    VERIFY_FAILS(p, "verify: <main>: instruction 1 (GET_ITER): iterator locals 0 and 1 are also used as other locals");
    p = base(h); zx_code_add_local(p->main, "d"); zx_code_add_local(p->main, "e"); zx_code_add_local(p->main, "f");
    MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(GET_ITER, 3, 0), I(LOAD_CONST, 0, 0), I(GET_ITER, 4, 0), RET);
    VERIFY_FAILS(p, "verify: <main>: instruction 1 (GET_ITER): iterator locals 3 and 4 are also used as other locals");

    /* many loops in one code object: 30000 of them, nested 3 deep, verify in linear time */
    p = base(h);
    {
        zx_code *m = p->main;
        zx_code_free(m);
        m = p->main = zx_code_new(ZX_CODE_MAIN, "<main>");
        zx_code_add_const(m, zx_null());
        for (uint32_t i = 0; i < 30000; i += 3) {
            uint32_t top[3];
            for (uint32_t k = 0; k < 3; k++) {
                uint32_t slot = 2 * (i + k);
                zx_code_add_local(m, "$iter");
                zx_code_add_local(m, "$index");
                zx_code_emit(m, OP_LOAD_CONST, 0, 0, P0);
                zx_code_emit(m, OP_GET_ITER, slot, 0, P0);
                top[k] = zx_code_emit(m, OP_FOR_ITER1, 0, (uint16_t)slot, P0);
                zx_code_emit(m, OP_POP, 0, 0, P0);
            }
            for (int k = 2; k >= 0; k--) {
                zx_code_emit(m, OP_JUMP, top[k], 0, P0);
                m->code[top[k]].a = m->ncode;
            }
        }
        ret(m);
        char err[ERRSZ];
        CHECK(m->nlocals == 60000);
        bool ok = zx_verify_program(p, err, sizeof err);
        CHECK(ok);
        if (!ok) fprintf(stderr, "  %s\n", err);
        zx_program_free(p);
    }

    /* nesting */
    p = base(h); ret(p->main);
    c = p->main;
    for (int i = 0; i < ZX_MAX_CODE_DEPTH; i++) c = child(c, ZX_CODE_LAMBDA, "<lambda>");
    VERIFY_FAILS(p, "verify: <lambda>: code objects nested too deeply (more than 256 levels)");
    p = base(h); ret(p->main);
    c = p->main;
    for (int i = 1; i < ZX_MAX_CODE_DEPTH; i++) c = child(c, ZX_CODE_LAMBDA, "<lambda>");
    VERIFY_OK(p);

    /* max_stack */
    p = base(h);
    MAIN_CODE(p, I(LOAD_CONST, 0, 0), I(LOAD_CONST, 0, 0), I(LOAD_CONST, 0, 0), I(BUILD_LIST, 3, 0), I(DUP, 0, 0),
              I(POP, 0, 0), I(RETURN, 0, 0));
    {
        char err[ERRSZ];
        CHECK(zx_verify_program(p, err, sizeof err));
        CHECK(p->main->max_stack == 3);
        zx_program_free(p);
    }
    /* a tiny error buffer is never overrun */
    p = base(h);
    {
        char tiny[8];
        memset(tiny, 'x', sizeof tiny);
        CHECK(!zx_verify_program(p, tiny, 5));
        CHECK(strcmp(tiny, "veri") == 0 && tiny[5] == 'x');
        CHECK(!zx_verify_program(p, tiny, 0));
        zx_program_free(p);
    }
}

/* ---- .zxa ---- */

static const char SAMPLE[] =
    "; a hand-written program\n"
    ".zxa 1\n"
    ".source \"sample.zx\"\n"
    ".global \"total\" shared\n"
    ".global \"k\" const\n"
    "\n"
    ".code main \"<main>\" @1:1\n"
    "  .local \"$iter\"\n"
    "  .local \"$index\"\n"
    "  .const int 0\n"
    "  .const float 2.5   ; decimal input\n"
    "  .const string \"push\"\n"
    "  .const null\n"
    "      LOAD_CONST 0\n"
    "      SHARED_WRITE 0 ADD      @2:1\n"
    "      BUILD_LIST 0\n"
    "      GET_ITER 0\n"
    "loop: FOR_ITER1 done 0        @3:1\n"
    "      CALL_BUILTIN len 1\n"
    "      POP\n"
    "      JUMP loop\n"
    "done:\n"
    "  8:  MAKE_CLOSURE 0\n"
    "      POP\n"
    "      LOAD_CONST 3\n"
    "      RETURN\n"
    "  .code action \"f\" @5:1\n"
    "    .params 1\n"
    "    .local \"x\"\n"
    "    LOAD_LOCAL 0\n"
    "    RETURN\n"
    "  .end\n"
    ".end\n";

static void test_zxa(zx_heap *h)
{
    char err[ERRSZ];
    zx_program *p = zx_assemble(SAMPLE, strlen(SAMPLE), "sample.zxa", h, err, sizeof err);
    CHECK(p != NULL);
    if (!p) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    CHECK(zx_verify_program(p, err, sizeof err));
    CHECK_STR(p->source_name, "sample.zx");
    CHECK(p->nglobals == 2 && p->globals[0].is_shared && !p->globals[0].is_const && p->globals[1].is_const);
    zx_code *m = p->main;
    CHECK(m->ncode == 12);
    CHECK(m->code[1].op == OP_SHARED_WRITE && m->code[1].b == OP_ADD && m->positions[1].line == 2);
    CHECK(m->code[4].op == OP_FOR_ITER1 && m->code[4].a == 8 && m->code[4].b == 0);
    CHECK(m->code[5].a == ZX_BI_len && m->code[5].b == 1);
    CHECK(m->code[7].op == OP_JUMP && m->code[7].a == 4);
    CHECK(m->consts[1].tag == ZX_T_FLOAT && m->consts[1].u.f == 2.5);
    CHECK(m->nchildren == 1 && m->children[0]->nparams == 1 && m->children[0]->pos.line == 5);
    CHECK(m->pos.line == 1 && m->positions[0].line == 0);
    /* and it is a fixed point after one trip */
    char *t1 = disasm(p);
    zx_program *q = zx_assemble(t1, strlen(t1), "t1.zxa", h, err, sizeof err);
    CHECK(q && program_same(p, q));
    char *t2 = q ? disasm(q) : NULL;
    CHECK(t2 && strcmp(t1, t2) == 0);
    CHECK(strstr(t1, "SHARED_WRITE 0 ADD") != NULL && strstr(t1, "CALL_BUILTIN len 1") != NULL);
    free(t1);
    free(t2);
    zx_program_free(q);
    zx_program_free(p);

    /* no trailing newline, CRLF line ends, default source name */
    const char *crlf = ".code main \"m\"\r\n LOAD_CONST 0\r\n RETURN\r\n .const bool true\r\n.end";
    p = zx_assemble(crlf, strlen(crlf), "crlf.zxa", h, err, sizeof err);
    CHECK(p && p->main->ncode == 2 && p->main->consts[0].tag == ZX_T_BOOL && p->main->consts[0].u.b);
    CHECK(p && strcmp(p->source_name, "crlf.zxa") == 0);
    zx_program_free(p);

    /* float spellings */
    const char *fl = ".code main \"m\"\n .const float 0.1\n .const float -0x0p+0\n .const float 1e-320\n"
                     " .const float -inf\n .const float nan(0xfff0000000000001)\n .const float -nan\n .end\n";
    p = zx_assemble(fl, strlen(fl), "f.zxa", h, err, sizeof err);
    CHECK(p != NULL);
    if (p) {
        CHECK(p->main->consts[0].u.f == 0.1);
        CHECK(bits_of(p->main->consts[1].u.f) == 0x8000000000000000ull);
        CHECK(p->main->consts[2].u.f == 1e-320);
        CHECK(isinf(p->main->consts[3].u.f) && p->main->consts[3].u.f < 0);
        CHECK(bits_of(p->main->consts[4].u.f) == 0xFFF0000000000001ull);
        CHECK(bits_of(p->main->consts[5].u.f) == 0xFFF8000000000000ull);
        zx_program_free(p);
    }
}

static void check_asm_error(const char *file, int line, zx_heap *h, const char *text, const char *want)
{
    char err[ERRSZ];
    zx_program *p = zx_assemble(text, strlen(text), "t.zxa", h, err, sizeof err);
    check_count++;
    if (p || strcmp(err, want) != 0) {
        check_failures++;
        fprintf(stderr, "%s:%d: assemble gave \"%s\", want \"%s\"\n", file, line, p ? "(ok)" : err, want);
    }
    zx_program_free(p);
}
#define ASM_FAILS(text, want) check_asm_error(__FILE__, __LINE__, h, (text), (want))
#define M(body) ".code main \"m\"\n" body ".end\n"

static void test_zxa_errors(zx_heap *h)
{
    ASM_FAILS("", "t.zxa:1:1: error: missing '.code' (a program needs a main code object)");
    ASM_FAILS("; only a comment\n", "t.zxa:2:1: error: missing '.code' (a program needs a main code object)");
    ASM_FAILS(".code main \"m\"\n RETURN\n", "t.zxa:3:1: error: missing '.end' for the '.code' on line 1");
    ASM_FAILS(M("  FOO 1\n"), "t.zxa:2:3: error: unknown opcode 'FOO'");
    ASM_FAILS(M("  load_const 0\n"), "t.zxa:2:3: error: unknown opcode 'load_const'");
    ASM_FAILS(M("  LOAD_CONST x\n"), "t.zxa:2:14: error: operand a: expected a number, got 'x'");
    ASM_FAILS(M("  LOAD_CONST -1\n"), "t.zxa:2:14: error: operand a '-1' out of range (0 to 4294967295)");
    ASM_FAILS(M("  LOAD_CONST 4294967296\n"), "t.zxa:2:14: error: operand a '4294967296' out of range (0 to 4294967295)");
    ASM_FAILS(M("  CALL_METHOD 0 65536\n"), "t.zxa:2:17: error: operand b '65536' out of range (0 to 65535)");
    ASM_FAILS(M("  LOAD_CONST\n"), "t.zxa:2:13: error: LOAD_CONST needs 1 operand");
    ASM_FAILS(M("  CALL_METHOD 1 @3:4\n"), "t.zxa:2:16: error: CALL_METHOD needs 2 operands");
    ASM_FAILS(M("  LOAD_CONST 1 2 3\n"), "t.zxa:2:18: error: too many operands for LOAD_CONST");
    ASM_FAILS(M("  RETURN @1\n"), "t.zxa:2:10: error: bad position '@1' (expected @LINE:COL)");
    ASM_FAILS(M("  RETURN @1:2 x\n"), "t.zxa:2:15: error: unexpected 'x' after the position");
    ASM_FAILS(M("  CALL_BUILTIN nosuch 1\n"), "t.zxa:2:16: error: unknown builtin 'nosuch'");
    ASM_FAILS(M("  SHARED_WRITE 0 PLUS\n"), "t.zxa:2:18: error: unknown operator 'PLUS'");
    ASM_FAILS(M("  JUMP nowhere\n"), "t.zxa:2:8: error: undefined label 'nowhere'");
    ASM_FAILS(M("a: NOP\n b: NOP\na: RETURN\n"), "t.zxa:4:1: error: duplicate label 'a' (first defined on line 2)");
    ASM_FAILS(M("  1: NOP\n"), "t.zxa:2:3: error: instruction number 1, but this is instruction 0");
    ASM_FAILS(M("  9x: NOP\n"), "t.zxa:2:3: error: bad instruction number '9x:'");
    ASM_FAILS(M("  a-b: NOP\n"), "t.zxa:2:3: error: bad label name 'a-b:'");
    ASM_FAILS(M("  .const string \"abc\n"), "t.zxa:2:17: error: unterminated string");
    ASM_FAILS(M("  .const string \"ab\\\n"), "t.zxa:2:17: error: unterminated string");
    ASM_FAILS(M("  .const string \"a\\qb\"\n"), "t.zxa:2:19: error: unknown escape '\\q'");
    ASM_FAILS(M("  .const string \"a\\x4\"\n"), "t.zxa:2:19: error: bad \\x escape (two hex digits expected)");
    ASM_FAILS(M("  .const string \"\\xff\"\n"), "t.zxa:2:17: error: string constant is not valid UTF-8");
    ASM_FAILS(M("  .const string 12\n"), "t.zxa:2:17: error: a string constant needs a quoted string");
    ASM_FAILS(M("  .const int 9223372036854775808\n"), "t.zxa:2:14: error: integer constant '9223372036854775808' out of range");
    ASM_FAILS(M("  .const int 12a\n"), "t.zxa:2:14: error: bad integer constant '12a'");
    ASM_FAILS(M("  .const float 1.5x\n"), "t.zxa:2:16: error: bad float constant '1.5x'");
    ASM_FAILS(M("  .const float infinity\n"), "t.zxa:2:16: error: bad float constant 'infinity'");
    ASM_FAILS(M("  .const float 1e999\n"), "t.zxa:2:16: error: float constant '1e999' out of range");
    ASM_FAILS(M("  .const float nan(0x7ff0000000000000)\n"), "t.zxa:2:16: error: bad NaN 'nan(0x7ff0000000000000)' (expected nan(0xBITS) with the bits of a NaN)");
    ASM_FAILS(M("  .const bool yes\n"), "t.zxa:2:15: error: bad boolean constant 'yes' (expected true or false)");
    ASM_FAILS(M("  .const list\n"), "t.zxa:2:14: error: .const: missing operand");
    ASM_FAILS(M("  .const list 1\n"), "t.zxa:2:10: error: unknown constant type 'list' (expected null, bool, int, float or string)");
    ASM_FAILS(M("  .const null 1\n"), "t.zxa:2:15: error: .const null: unexpected '1'");
    ASM_FAILS(M("  .local x\n"), "t.zxa:2:10: error: .local: expected a quoted name, got 'x'");
    ASM_FAILS(M("  .local \"a\\0b\"\n"), "t.zxa:2:10: error: .local: a name cannot contain a NUL byte");
    ASM_FAILS(M("  .local \"a\" hot\n"), "t.zxa:2:14: error: unknown local flag 'hot' (expected cell)");
    ASM_FAILS(M("  .free \"a\" parent 0\n"), "t.zxa:2:13: error: bad origin 'parent' (expected local or free)");
    ASM_FAILS(M("  .params 1\n  .params 2\n"), "t.zxa:3:3: error: duplicate '.params'");
    ASM_FAILS(M("  .global \"g\"\n"), "t.zxa:2:3: error: '.global' inside a '.code' block");
    ASM_FAILS(M("  .source \"s\"\n"), "t.zxa:2:3: error: '.source' inside a '.code' block");
    ASM_FAILS(M("  .bogus\n"), "t.zxa:2:3: error: unknown directive '.bogus'");
    ASM_FAILS(".global \"g\"\n.global \"g\"\n" M(""), "t.zxa:2:9: error: duplicate global 'g'");
    ASM_FAILS(".global \"g\" const const\n" M(""), "t.zxa:1:19: error: duplicate flag 'const'");
    ASM_FAILS(".global \"g\" mutable\n" M(""), "t.zxa:1:13: error: unknown global flag 'mutable' (expected const or shared)");
    ASM_FAILS(".source \"a\"\n.source \"b\"\n" M(""), "t.zxa:2:1: error: duplicate '.source'");
    ASM_FAILS(".source \"a\"\n.zxa 1\n" M(""), "t.zxa:2:1: error: '.zxa' must be the first statement");
    ASM_FAILS(".zxa 2\n" M(""), "t.zxa:1:6: error: unsupported .zxa version '2' (this assembler reads version 1)");
    ASM_FAILS(M("") M(""), "t.zxa:3:1: error: a second top-level '.code' (a program has one main code object)");
    ASM_FAILS(".end\n", "t.zxa:1:1: error: '.end' without '.code'");
    ASM_FAILS("RETURN\n", "t.zxa:1:1: error: instruction outside a '.code' block");
    ASM_FAILS(".params 1\n", "t.zxa:1:1: error: '.params' outside a '.code' block");
    ASM_FAILS(".code procedure \"p\"\n.end\n", "t.zxa:1:7: error: unknown code kind 'procedure' (expected main, action, lambda or fork)");
    ASM_FAILS(".code main \"m\" @x\n.end\n", "t.zxa:1:16: error: bad position '@x' (expected @LINE:COL)");
    ASM_FAILS(M("  \"str\"\n"), "t.zxa:2:3: error: unexpected string");
    ASM_FAILS(M("  RETURN\x01\n"), "t.zxa:2:9: error: unexpected character 0x01");
    {
        static const char nul[] = ".code main \"m\"\n  ADD\0X\n.end\n";
        char err[ERRSZ];
        zx_program *p = zx_assemble(nul, sizeof nul - 1, "t.zxa", h, err, sizeof err);
        CHECK(p == NULL);
        CHECK_STR(err, "t.zxa:2:6: error: unexpected character 0x00");
        zx_program_free(p);
    }
    ASM_FAILS(M("  NOP NOP NOP NOP NOP NOP NOP NOP NOP NOP NOP NOP NOP NOP NOP NOP NOP\n"),
              "t.zxa:2:67: error: too many tokens on one line");
    {
        /* 300 nested code objects */
        zx_buf b;
        zx_buf_init(&b);
        zx_buf_puts(&b, ".code main \"m\"\n");
        for (int i = 0; i < 300; i++) zx_buf_puts(&b, ".code lambda \"l\"\n");
        char err[ERRSZ];
        zx_program *p = zx_assemble(b.data, b.len, "t.zxa", h, err, sizeof err);
        CHECK(p == NULL);
        CHECK_STR(err, "t.zxa:257:1: error: code objects nested too deeply (at most 256 levels)");
        zx_buf_free(&b);
    }
    /* the assembler takes what the verifier would refuse: that is the verifier's call */
    {
        const char *t = M("  POP\n");
        char err[ERRSZ];
        zx_program *p = zx_assemble(t, strlen(t), "t.zxa", h, err, sizeof err);
        CHECK(p != NULL);
        CHECK(p && !zx_verify_program(p, err, sizeof err));
        CHECK_STR(err, "verify: m: instruction 0 (POP): stack underflow: needs 1 value, stack depth is 0");
        zx_program_free(p);
    }
    /* a tiny error buffer is never overrun */
    {
        char tiny[8];
        memset(tiny, 'x', sizeof tiny);
        CHECK(zx_assemble("FOO", 3, "t.zxa", h, tiny, 4) == NULL);
        CHECK(strcmp(tiny, "t.z") == 0 && tiny[4] == 'x');
        CHECK(zx_assemble(NULL, 0, NULL, h, tiny, 0) == NULL);
    }
}

int main(void)
{
    zx_heap *h = zx_heap_create(0);
    test_builders(h);
    test_all_opcodes(h);
    test_zxbc_errors(h);
    test_const_round_trip(h);
    test_verifier(h);
    test_zxa(h);
    test_zxa_errors(h);
    zx_heap_destroy(h);
    return CHECK_DONE();
}
