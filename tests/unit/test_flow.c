/* test_flow.c — unit tests of the opcode table's flow facts, the verifier's per-pc facts and the stack-origin pass (bytecode/flow.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bytecode/bytecode.h"
#include "bytecode/flow.h"
#include "check.h"

/* Depths, boundaries and origins below are worked out by hand for this program. */
static const char PROG[] =
    ".zxa 1\n"
    ".global \"g\"\n"
    ".code main \"<main>\"\n"
    "  .local \"$iter\"\n"
    "  .local \"$index\"\n"
    "  .const int 0\n"
    "  .const int 1\n"
    "  .const int 2\n"
    "  .const null\n"
    "      LOAD_CONST 0\n"          /*  0  d0 */
    "      DUP\n"                   /*  1  d1 */
    "      JUMP_IF_FALSE other\n"   /*  2  d2: pops the DUP's copy of pc 0 */
    "      LOAD_CONST 1\n"          /*  3  d1 */
    "      JUMP join\n"             /*  4  d2 */
    "other: LOAD_CONST 2\n"         /*  5  d1 */
    "join: LOAD_CONST 0\n"          /*  6  d2: [pc0, merge(pc3, pc5)] */
    "      ROT3\n"                  /*  7  d3: [pc0, M, pc6] -> [pc6, pc0, M] */
    "      BUILD_LIST 3\n"          /*  8  d3 */
    "      STORE_NAME 0\n"          /*  9  d1 */
    "      BUILD_LIST 0\n"          /* 10  d0: a boundary */
    "      GET_ITER 0\n"            /* 11  d1 */
    "loop: FOR_ITER1 done 0\n"      /* 12  d0: not a boundary (after GET_ITER) */
    "      POP\n"                   /* 13  d1 */
    "      JUMP loop\n"             /* 14  d0: the back edge */
    "done: LOAD_CONST 3\n"          /* 15  d0: FOR_ITER's exit keeps depth 0 */
    "      RETURN\n"                /* 16  d1 */
    "      NOP\n"                   /* 17  unreachable */
    "  .code action \"f\"\n"
    "    .params 1\n"
    "    .local \"x\"\n"
    "    .const int 7\n"
    "    LOAD_LOCAL 0\n"            /* 0 */
    "    LOAD_CONST 0\n"            /* 1 */
    "    DUP2\n"                    /* 2: [pc0, pc1] -> [pc0, pc1, pc0, pc1] */
    "    BUILD_LIST 4\n"            /* 3 */
    "    RETURN\n"                  /* 4 */
    "  .end\n"
    ".end\n";

static void test_table(void)
{
    int pops, pushes;
    zx_instr call = { OP_CALL_TOP, 0, 3 };
    zx_op_stack_effect(&call, &pops, &pushes);
    CHECK(pops == 4 && pushes == 1);
    zx_instr map = { OP_BUILD_MAP, 0, 2 };
    zx_op_stack_effect(&map, &pops, &pushes);
    CHECK(pops == 4 && pushes == 1);
    zx_instr meth = { OP_CALL_METHOD, 2, 5 };
    zx_op_stack_effect(&meth, &pops, &pushes);
    CHECK(pops == 3 && pushes == 1);
    zx_instr bi = { OP_CALL_BUILTIN, 2, 0 };
    zx_op_stack_effect(&bi, &pops, &pushes);
    CHECK(pops == 2 && pushes == 1);
    zx_instr as1 = { OP_ASSERT, 0, 1 }, as0 = { OP_ASSERT, 0, 0 };
    zx_op_stack_effect(&as1, &pops, &pushes);
    CHECK(pops == 2 && pushes == 0);
    zx_op_stack_effect(&as0, &pops, &pushes);
    CHECK(pops == 1 && pushes == 0);
    zx_instr pr = { OP_PRINT, 0, 3 };
    zx_op_stack_effect(&pr, &pops, &pushes);
    CHECK(pops == 3 && pushes == 0);
    zx_instr dup2 = { OP_DUP2, 0, 0 };
    zx_op_stack_effect(&dup2, &pops, &pushes);
    CHECK(pops == 2 && pushes == 4);
    zx_instr bad = { 999, 0, 0 };
    zx_op_stack_effect(&bad, &pops, &pushes);
    CHECK(pops == 0 && pushes == 0);

    uint32_t s[2];
    zx_instr j = { OP_JUMP, 0, 7 }, jf = { OP_JUMP_IF_FALSE, 0, 9 }, ret = { OP_RETURN, 0, 0 };
    zx_instr fi = { OP_FOR_ITER2, 0, 20 }, add = { OP_ADD, 0, 0 };
    CHECK(zx_op_successors(&j, 3, s) == 1 && s[0] == 7);
    CHECK(zx_op_successors(&jf, 3, s) == 2 && s[0] == 9 && s[1] == 4);
    CHECK(zx_op_successors(&ret, 3, s) == 0);
    CHECK(zx_op_successors(&fi, 3, s) == 2 && s[0] == 20 && s[1] == 4);
    CHECK(zx_op_successors(&add, 3, s) == 1 && s[0] == 4);
    CHECK(zx_op_successors(&bad, 3, s) == 0);
    CHECK(zx_op_edge_keeps(&fi, 0) && !zx_op_edge_keeps(&fi, 1));
    CHECK(!zx_op_edge_keeps(&jf, 0) && !zx_op_edge_keeps(&jf, 1));
    zx_instr back = { OP_JUMP_IF_TRUE, 0, 2 };
    CHECK(zx_flow_is_back_edge(&back, 5) && !zx_flow_is_back_edge(&jf, 3) && !zx_flow_is_back_edge(&add, 3));

    /* the flags the walkers rely on, on the rows that need them */
    CHECK(zx_op_info(OP_RETURN)->flags & OPF_STACK_EXACT);
    CHECK(zx_op_info(OP_BARRIER_SYNC)->flags & OPF_STACK_EXACT);
    CHECK(zx_op_info(OP_FORK_EXECUTION)->flags & OPF_JOINS_NEXT);
    CHECK(zx_op_info(OP_GET_ITER)->flags & OPF_JOINS_NEXT);
    CHECK(zx_op_info(OP_CALL_TOP)->flags & OPF_CALLS);
    const zx_opinfo *rot = zx_op_info(OP_ROT3);
    CHECK((rot->flags & OPF_SHUFFLE) && ZX_SHUFFLE_SRC(rot->flags, 0) == 2 && ZX_SHUFFLE_SRC(rot->flags, 1) == 0 &&
          ZX_SHUFFLE_SRC(rot->flags, 2) == 1);
    /* every shuffle row pushes copies of what it pops, and only it may say so */
    for (int i = 0; i < zx_opinfo_count; i++) {
        const zx_opinfo *r = &zx_opinfo_table[i];
        if (!(r->flags & OPF_SHUFFLE)) continue;
        CHECK(r->pops > 0 && r->pops < 256 && r->pushes <= ZX_SHUFFLE_MAX);
        for (int k = 0; k < r->pushes; k++) CHECK(ZX_SHUFFLE_SRC(r->flags, k) < r->pops);
    }
}

/* Every LOAD_CONST is "the same value"; anything else is its pc. */
static zx_flow_key const_key(void *ctx, const zx_code *c, uint32_t pc, int i)
{
    ++*(int *)ctx;
    if (i == ZX_FLOW_HANDLER_PUSH) return ZX_FLOW_MERGE;
    return c->code[pc].op == OP_LOAD_CONST ? 1000 : ZX_FLOW_KEY_PC(pc);
}

static void test_verified(zx_heap *h)
{
    char err[256];
    zx_program *p = zx_assemble(PROG, sizeof PROG - 1, "flow.zxa", h, err, sizeof err);
    CHECK(p != NULL);
    if (!p) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    zx_code *m = p->main;
    CHECK(m->depth == NULL && m->pcflags == NULL);       /* nothing before verification */
    zx_flow_origins o;
    CHECK(!zx_flow_origins_build(m, NULL, NULL, &o));
    bool ok = zx_verify_program(p, err, sizeof err);
    CHECK(ok);
    if (!ok) {
        fprintf(stderr, "  %s\n", err);
        zx_program_free(p);
        return;
    }
    CHECK(zx_verify_program(p, err, sizeof err));          /* again: the facts are replaced */

    static const int32_t want_depth[] = { 0, 1, 2, 1, 2, 1, 2, 3, 3, 1, 0, 1, 0, 1, 0, 0, 1, -1 };
    CHECK(m->ncode == 18);
    for (uint32_t pc = 0; pc < 18 && pc < m->ncode; pc++) {
        if (m->depth[pc] != want_depth[pc]) fprintf(stderr, "  depth[%u] = %d\n", pc, m->depth[pc]);
        CHECK(m->depth[pc] == want_depth[pc]);
    }
    uint8_t want_flags[18] = { 0 };
    want_flags[0] = want_flags[10] = want_flags[15] = ZX_PC_BOUNDARY;
    want_flags[3] = want_flags[4] = want_flags[13] = ZX_PC_SPANNED;
    want_flags[5] = ZX_PC_TARGET | ZX_PC_SPANNED;
    want_flags[6] = want_flags[12] = ZX_PC_TARGET;
    want_flags[14] = ZX_PC_SPANNED | ZX_PC_BACK_EDGE;
    want_flags[15] |= ZX_PC_TARGET;
    for (uint32_t pc = 0; pc < 18 && pc < m->ncode; pc++) {
        if (m->pcflags[pc] != want_flags[pc]) fprintf(stderr, "  pcflags[%u] = %#x\n", pc, m->pcflags[pc]);
        CHECK(m->pcflags[pc] == want_flags[pc]);
    }

    uint32_t s[2];
    int32_t ed[2];
    CHECK(zx_flow_edges(m, 12, s, ed) == 2 && s[0] == 15 && ed[0] == 0 && s[1] == 13 && ed[1] == 1);
    CHECK(zx_flow_edges(m, 2, s, ed) == 2 && s[0] == 5 && ed[0] == 1 && s[1] == 3 && ed[1] == 1);
    CHECK(zx_flow_edges(m, 16, s, ed) == 0);
    CHECK(zx_flow_edges(m, 17, s, ed) == 0);               /* unreachable */

    /* origins by producer pc: through DUP, ROT3, the join, FOR_ITER's push */
    CHECK(zx_flow_origins_build(m, NULL, NULL, &o));
    CHECK(zx_flow_operand(&o, 2, 0) == ZX_FLOW_KEY_PC(0));     /* the DUP's copy */
    CHECK(zx_flow_operand(&o, 8, 0) == ZX_FLOW_KEY_PC(6));
    CHECK(zx_flow_operand(&o, 8, 1) == ZX_FLOW_KEY_PC(0));
    CHECK(zx_flow_operand(&o, 8, 2) == ZX_FLOW_MERGE);         /* pc 3 or pc 5 */
    CHECK(zx_flow_operand(&o, 8, 3) == ZX_FLOW_MERGE);         /* BUILD_LIST 3 pops three */
    CHECK(zx_flow_operand(&o, 9, 0) == ZX_FLOW_KEY_PC(8));
    CHECK(zx_flow_operand(&o, 11, 0) == ZX_FLOW_KEY_PC(10));
    CHECK(zx_flow_operand(&o, 13, 0) == ZX_FLOW_KEY_PC(12));
    CHECK(zx_flow_operand(&o, 16, 0) == ZX_FLOW_KEY_PC(15));
    CHECK(ZX_FLOW_PC(zx_flow_operand(&o, 16, 0)) == 15);
    CHECK(zx_flow_operand(&o, 17, 0) == ZX_FLOW_MERGE);
    zx_flow_origins_free(&o);
    CHECK(o.key == NULL && o.off == NULL);

    /* a key function decides what "the same value" is: the join of two constants is one */
    int calls = 0;
    CHECK(zx_flow_origins_build(m, const_key, &calls, &o));
    CHECK(calls > 0);
    CHECK(zx_flow_operand(&o, 8, 2) == 1000);
    CHECK(zx_flow_operand(&o, 8, 0) == 1000 && zx_flow_operand(&o, 8, 1) == 1000);
    CHECK(zx_flow_operand(&o, 9, 0) == ZX_FLOW_KEY_PC(8));
    zx_flow_origins_free(&o);

    /* DUP2 in the action */
    zx_code *f = m->children[0];
    CHECK(f->depth && f->depth[3] == 4 && f->pcflags[0] == ZX_PC_BOUNDARY && f->pcflags[1] == 0);
    CHECK(zx_flow_origins_build(f, NULL, NULL, &o));
    CHECK(zx_flow_operand(&o, 3, 0) == ZX_FLOW_KEY_PC(0) && zx_flow_operand(&o, 3, 1) == ZX_FLOW_KEY_PC(1) &&
          zx_flow_operand(&o, 3, 2) == ZX_FLOW_KEY_PC(0) && zx_flow_operand(&o, 3, 3) == ZX_FLOW_KEY_PC(1));
    CHECK(zx_flow_operand(&o, 4, 0) == ZX_FLOW_KEY_PC(3));
    zx_flow_origins_free(&o);

    /* a failed verification leaves no stale facts on the code object it failed on */
    m->code[16].op = OP_POP;                                  /* falls off the end now */
    CHECK(!zx_verify_program(p, err, sizeof err));
    CHECK(m->depth == NULL && m->pcflags == NULL);
    zx_program_free(p);
}

int main(void)
{
    zx_heap *h = zx_heap_create(0);
    test_table();
    test_verified(h);
    zx_heap_destroy(h);
    return CHECK_DONE();
}
