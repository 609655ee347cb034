/* test_jit_analyze.c — unit tests of the JIT's LLVM-free analyses (jit/analyze.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "exec/frame.h"
#include "jit/analyze.h"
#include "zexus.h"

/* The code objects below are children of the top level, in this order. */
static const char program[] =
    "action loop(n) {\n"              /* child 0 */
    "    let s = 0\n"
    "    let i = 0\n"
    "    while (i < n) {\n"
    "        s = s + i\n"
    "        i = i + 1\n"
    "    }\n"
    "    return s\n"
    "}\n"
    "action fact(n) {\n"              /* child 1: recursive */
    "    if (n < 2) { return 1 }\n"
    "    return n * fact(n - 1)\n"
    "}\n"
    "action g(m, i, j) {\n"           /* child 2: m[i][j] */
    "    return m[i][j]\n"
    "}\n"
    "action f(x) { return x + 1 }\n"  /* child 3 */
    "action h(x) { return f(x) }\n"   /* child 4: calls f */
    "print(loop(10), fact(5), g([[1, 2], [3, 4]], 1, 0), h(1))\n";

enum { LOOP, FACT, G, F, H, NCHILDREN };

typedef struct fixture {
    zx_vm *vm;
    zx_program *prog;
    zx_code *batch[1 + NCHILDREN];   /* the top level and every child: one module */
} fixture;

static int load(fixture *fx)
{
    memset(fx, 0, sizeof *fx);
    zx_options o;
    zx_options_init(&o);
    o.jit = ZX_JIT_OFF;
    o.mode = ZX_MODE_SEQ;
    if (zx_vm_create(&o, &fx->vm) != ZX_OK) return 0;
    if (zx_program_load_source(fx->vm, "test.zx", program, strlen(program), &fx->prog) != ZX_OK) {
        fprintf(stderr, "load failed: %s\n", zx_vm_last_error(fx->vm));
        return 0;
    }
    if (fx->prog->main->nchildren != NCHILDREN) return 0;
    fx->batch[0] = fx->prog->main;
    for (uint32_t i = 0; i < NCHILDREN; i++) fx->batch[1 + i] = fx->prog->main->children[i];
    return 1;
}

/* Every analysis the lowering runs, in its order. */
static int analyze_all(fixture *fx, zx_code *c, analyze_code *a)
{
    char err[200];
    analyze_init(a, fx->prog, c);
    if (!analyze_types(a, M_VAL, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", c->name, err);
        return 0;
    }
    if (!analyze_liveness(a) || !analyze_callees(a, fx->batch, 1 + NCHILDREN) || !analyze_borrows(a)) return 0;
    analyze_int_version(a);
    return 1;
}

/* The first pc of c with opcode op at or after pc `from`. */
static uint32_t find_op(const zx_code *c, unsigned op, uint32_t from)
{
    for (uint32_t pc = from; pc < c->ncode; pc++)
        if (c->code[pc].op == op) return pc;
    return UINT32_MAX;
}

static const uint8_t *locals_at(const analyze_code *a, const uint8_t *state, uint32_t pc)
{
    return state + (size_t)pc * a->W;
}

static const uint8_t *stack_at(const analyze_code *a, const uint8_t *state, uint32_t pc)
{
    return state + (size_t)pc * a->W + a->nl + a->ng;
}

static int live(const analyze_code *a, uint32_t pc, uint32_t var)
{
    return a->live[(size_t)pc * (a->nl + a->ng) + var];
}

/* loop(n): s and i are ints everywhere in the loop, n any value; with int arguments n too. */
static void test_int_loop(fixture *fx)
{
    zx_code *c = fx->batch[1 + LOOP];
    analyze_code a;
    CHECK(analyze_all(fx, c, &a));
    enum { N, S, I };
    uint32_t lt = find_op(c, OP_LT, 0), head = find_op(c, OP_JUMP, 0);
    CHECK(lt != UINT32_MAX && head != UINT32_MAX);
    if (lt == UINT32_MAX || head == UINT32_MAX) return;
    uint32_t top = c->code[head].a;   /* the loop head: `i < n` */
    CHECK(a.depth[0] == 0 && a.depth[top] == 0 && a.depth[lt] == 2);
    const uint8_t *lm = locals_at(&a, a.state, top);
    CHECK(lm[N] == M_VAL);
    CHECK(lm[S] == M_I);
    CHECK(lm[I] == M_I);
    CHECK(stack_at(&a, a.state, lt)[0] == M_I && stack_at(&a, a.state, lt)[1] == M_VAL);
    /* after `return s`: the compiler's closing `return null` is unreachable */
    CHECK(a.depth[c->ncode - 1] == -1);
    /* the int version pays: `i < n` becomes int < int */
    CHECK(a.int_state != NULL);
    if (a.int_state) CHECK(stack_at(&a, a.int_state, lt)[1] == M_I);
    /* liveness: the loop relies on all three (a store relies on the old value's tag too);
     * after it, `return s` on s alone */
    CHECK(live(&a, top, N) && live(&a, top, S) && live(&a, top, I));
    uint32_t after = c->code[lt + 1].a;
    CHECK(!live(&a, after, N) && live(&a, after, S) && !live(&a, after, I));
    for (uint32_t g = 0; g < a.ng; g++) CHECK(!live(&a, top, a.nl + g));
    /* the depths are the verifier's, not recomputed */
    CHECK(a.depth == c->depth);
    analyze_free(&a);
}

/* fact's recursive call and h's call of f go direct, their callee loaded without a reference;
 * the top level's calls run once and stay generic. */
static void test_callees(fixture *fx)
{
    analyze_code a;
    zx_code *fact = fx->batch[1 + FACT];
    CHECK(analyze_all(fx, fact, &a));
    uint32_t call = find_op(fact, OP_CALL_TOP, 0), load = find_op(fact, OP_LOAD_NAME, 0);
    CHECK(call != UINT32_MAX && load != UINT32_MAX);
    if (call != UINT32_MAX && load != UINT32_MAX) {
        CHECK(a.callee && a.callee[call] == fact);
        CHECK(a.borrow && a.borrow[load] == BORROW_LOAD && a.borrow[call] == BORROW_USE);
    }
    analyze_free(&a);

    zx_code *h = fx->batch[1 + H];
    CHECK(analyze_all(fx, h, &a));
    call = find_op(h, OP_CALL_TOP, 0);
    CHECK(call != UINT32_MAX && a.callee && a.callee[call] == fx->batch[1 + F]);
    if (call != UINT32_MAX && a.borrow) CHECK(a.borrow[0] == BORROW_LOAD && a.borrow[call] == BORROW_USE);
    /* x is an argument of any type: the int version does not pay for code without a loop */
    CHECK(a.int_state == NULL);
    analyze_free(&a);

    zx_code *top = fx->prog->main;
    CHECK(analyze_all(fx, top, &a));
    for (uint32_t pc = 0; pc < top->ncode; pc++)
        if (top->code[pc].op == OP_CALL_TOP) CHECK(!a.callee || a.callee[pc] == NULL);
    analyze_free(&a);
}

/* g(m, i, j) = m[i][j]: m is lent to the first INDEX, whose element is lent to the second. */
static void test_borrow_index(fixture *fx)
{
    zx_code *g = fx->batch[1 + G];
    analyze_code a;
    CHECK(analyze_all(fx, g, &a));
    uint32_t i1 = find_op(g, OP_INDEX, 0), i2 = i1 == UINT32_MAX ? UINT32_MAX : find_op(g, OP_INDEX, i1 + 1);
    CHECK(i1 != UINT32_MAX && i2 != UINT32_MAX && a.borrow);
    if (i1 != UINT32_MAX && i2 != UINT32_MAX && a.borrow) {
        CHECK(g->code[0].op == OP_LOAD_LOCAL && a.borrow[0] == BORROW_LOAD);
        CHECK(a.borrow[1] == 0);   /* the key i is not lent */
        CHECK(a.borrow[i1] == (BORROW_USE | BORROW_RESULT));
        CHECK(a.borrow[i2] == BORROW_USE);
    }
    analyze_free(&a);
}

/* A code object the analysis refuses: an unknown opcode, with the message lowering reports. */
static void test_unknown_opcode(fixture *fx)
{
    zx_code *f = fx->batch[1 + F];
    uint16_t saved = f->code[1].op;
    f->code[1].op = 299;
    analyze_code a;
    char err[200] = "";
    analyze_init(&a, fx->prog, f);
    CHECK(!analyze_types(&a, M_VAL, err, sizeof err));
    CHECK_STR(err, "f: pc 1: unknown opcode 299");
    analyze_free(&a);
    f->code[1].op = saved;
}

/* analyze_outside_facts into a buffer */
typedef struct facts {
    unsigned char data[4096];
    size_t len;
} facts;

static void facts_put(void *ctx, const void *bytes, size_t n)
{
    facts *f = ctx;
    if (f->len + n <= sizeof f->data) memcpy(f->data + f->len, bytes, n);
    f->len += n;
}

static facts facts_of(fixture *fx, zx_code *c, zx_code *const *batch, size_t nbatch)
{
    facts f = { { 0 }, 0 };
    CHECK(analyze_outside_facts(fx->prog, c, batch, nbatch, facts_put, &f));
    CHECK(f.len <= sizeof f.data);
    return f;
}

static int same(const facts *a, const facts *b) { return a->len == b->len && memcmp(a->data, b->data, a->len) == 0; }

/* What h's lowering reads of f (the compiled-code cache keys on it): f's frame shape and place,
 * and, since f may be inlined into h, its code; the analysis tracks only the globals a code
 * object names. */
static void test_outside_facts(fixture *fx)
{
    zx_code *h = fx->batch[1 + H], *f = fx->batch[1 + F];
    facts base = facts_of(fx, h, fx->batch, 1 + NCHILDREN);
    /* f's constant 1 becomes 2: h has f's body inlined */
    uint32_t k = 0;
    while (k < f->nconsts && f->consts[k].tag != ZX_T_INT) k++;
    CHECK(k < f->nconsts);
    if (k < f->nconsts) {
        f->consts[k].u.i++;
        facts other = facts_of(fx, h, fx->batch, 1 + NCHILDREN);
        CHECK(!same(&base, &other));
        f->consts[k].u.i--;
        facts back = facts_of(fx, h, fx->batch, 1 + NCHILDREN);
        CHECK(same(&base, &back));
    }
    /* f's x + 1 becomes x - 1 */
    uint32_t add = find_op(f, OP_ADD, 0);
    CHECK(add != UINT32_MAX);
    if (add != UINT32_MAX) {
        f->code[add].op = OP_SUB;
        facts other = facts_of(fx, h, fx->batch, 1 + NCHILDREN);
        CHECK(!same(&base, &other));
        f->code[add].op = OP_ADD;
    }
    /* f's frame grows: h's direct call pushes it, so the facts differ */
    f->max_stack++;
    facts grown = facts_of(fx, h, fx->batch, 1 + NCHILDREN);
    CHECK(!same(&base, &grown));
    f->max_stack--;
    /* f compiled in another module: h finds it by its path, not by name */
    zx_code *alone[] = { h };
    facts apart = facts_of(fx, h, alone, 1);
    CHECK(!same(&base, &apart));
    /* loop names no global; the top level names loop, fact, g, f and h */
    analyze_code a;
    analyze_init(&a, fx->prog, fx->batch[1 + LOOP]);
    CHECK(a.ng == 0);
    analyze_free(&a);
    analyze_init(&a, fx->prog, fx->prog->main);
    CHECK(a.ng == fx->prog->nglobals && a.ng == 5);
    analyze_free(&a);
}

/* f(x) = x + 1 is inlinable, and typed from its argument's tag; loop (a back-edge), fact and h
 * (calls) and g (indexing) are not. */
static void test_inline(fixture *fx)
{
    zx_code *f = fx->batch[1 + F];
    CHECK(analyze_inlinable(f));
    CHECK(!analyze_inlinable(fx->batch[1 + LOOP]));
    CHECK(!analyze_inlinable(fx->batch[1 + FACT]));
    CHECK(!analyze_inlinable(fx->batch[1 + G]));
    CHECK(!analyze_inlinable(fx->batch[1 + H]));
    CHECK(!analyze_inlinable(fx->prog->main));

    analyze_inline p;
    uint8_t arg = M_I;
    CHECK(analyze_inline_plan(f, &arg, &p) && p.result == M_I);
    uint32_t add = find_op(f, OP_ADD, 0);
    if (p.state && add != UINT32_MAX) {
        const uint8_t *row = p.state + (size_t)add * (1 + p.nl + p.ns);
        CHECK(row[0] == 1 && row[1] == M_I);                          /* reached; x an int */
        CHECK(row[1 + p.nl] == M_I && row[1 + p.nl + 1] == M_I);      /* x, 1 */
    }
    analyze_inline_free(&p);
    arg = M_F;
    CHECK(analyze_inline_plan(f, &arg, &p) && p.result == M_F);
    analyze_inline_free(&p);
    /* an argument of unknown tag, a string, a bool: no inline form of + for it */
    arg = M_VAL;
    CHECK(!analyze_inline_plan(f, &arg, &p) && p.state == NULL);
    arg = M_O;
    CHECK(!analyze_inline_plan(f, &arg, &p));
    arg = M_B;
    CHECK(!analyze_inline_plan(f, &arg, &p));

    /* the inline forms: what jit/lower.c's int_binop and flt_binop compute */
    CHECK(analyze_inline_binop(OP_ADD, M_I, M_I) == M_I);
    CHECK(analyze_inline_binop(OP_MOD, M_I, M_I) == M_I);
    CHECK(analyze_inline_binop(OP_DIV, M_I, M_F) == M_F);
    CHECK(analyze_inline_binop(OP_MUL, M_F, M_I) == M_F);
    CHECK(analyze_inline_binop(OP_LT, M_I, M_I) == M_B);
    CHECK(analyze_inline_binop(OP_GTE, M_F, M_F) == M_B);
    CHECK(analyze_inline_binop(OP_LT, M_I, M_F) == 0);     /* int with float: the runtime's */
    CHECK(analyze_inline_binop(OP_EQ, M_F, M_I) == 0);
    CHECK(analyze_inline_binop(OP_MOD, M_F, M_F) == 0);
    CHECK(analyze_inline_binop(OP_POW, M_I, M_I) == 0);
    CHECK(analyze_inline_binop(OP_EQ, M_B, M_B) == 0);
    CHECK(analyze_inline_binop(OP_ADD, M_I | M_F, M_I) == 0);
}

int main(void)
{
    fixture fx;
    CHECK(load(&fx));
    if (fx.prog && fx.prog->main->nchildren == NCHILDREN) {
        test_int_loop(&fx);
        test_callees(&fx);
        test_borrow_index(&fx);
        test_unknown_opcode(&fx);
        test_outside_facts(&fx);
        test_inline(&fx);
    }
    zx_vm_destroy(fx.vm);
    return CHECK_DONE();
}
