/* flow.c — bytecode flow over verified code: edges with their stack depths, and the one stack-origin pass. */
#include "bytecode/flow.h"

#include <stdlib.h>
#include <string.h>

int zx_flow_edges(const zx_code *c, uint32_t pc, uint32_t succ[2], int32_t edge_depth[2])
{
    if (!c->depth || pc >= c->ncode || c->depth[pc] < 0) return 0;
    const zx_instr *in = &c->code[pc];
    int pops, pushes;
    zx_op_stack_effect(in, &pops, &pushes);
    int32_t d = c->depth[pc];
    int k = zx_op_successors(in, pc, succ);
    for (int i = 0; i < k; i++) edge_depth[i] = zx_op_edge_keeps(in, i) ? d : d - pops + pushes;
    return k;
}

bool zx_flow_is_back_edge(const zx_instr *in, uint32_t pc)
{
    uint32_t succ[2];
    int k = zx_op_successors(in, pc, succ);
    for (int i = 0; i < k; i++)
        if (succ[i] <= pc) return true;
    return false;
}

static zx_flow_key key_merge(zx_flow_key x, zx_flow_key y)
{
    if (x == ZX_FLOW_UNSET) return y;
    if (y == ZX_FLOW_UNSET || x == y) return x;
    return ZX_FLOW_MERGE;
}

/*
 * The stacks of the pass are persistent: a stack is its top node, each node a key and the node
 * below it, and an instruction's stack shares every node below what it pops with the stack it
 * was given.  Keeping a copy of the whole stack per instruction cost the sum of the depths, the
 * square of a literal's length (a piece of a long list literal holds 4,096 operands); this is
 * linear in the pushes and pops, and a join rebuilds only the part where the stacks differ.
 */
#define NIL UINT32_MAX

typedef struct onode {
    zx_flow_key key;
    uint32_t below;               /* NIL: the bottom */
} onode;

typedef struct opass {
    onode *node;
    uint32_t n, cap;
    uint32_t *pair;               /* scratch of a join: the nodes of both stacks down to a common one */
    size_t npair, cappair;
    bool oom;
} opass;

static uint32_t node_push(opass *P, zx_flow_key key, uint32_t below)
{
    if (P->n == P->cap) {
        uint32_t cap = P->cap ? P->cap * 2 : 256;
        onode *nn = cap > P->cap ? realloc(P->node, (size_t)cap * sizeof *nn) : NULL;
        if (!nn) {
            P->oom = true;
            return below;
        }
        P->node = nn;
        P->cap = cap;
    }
    P->node[P->n] = (onode){ key, below };
    return P->n++;
}

static uint32_t node_down(const opass *P, uint32_t top, int k)
{
    for (int i = 0; i < k && top != NIL; i++) top = P->node[top].below;
    return top;
}

/* The stack after instruction pc, given the one before it (top). */
static uint32_t origin_step(opass *P, const zx_code *c, uint32_t pc, zx_flow_key_fn fn, void *ctx, uint32_t top)
{
    const zx_instr *in = &c->code[pc];
    const zx_opinfo *info = zx_op_info(in->op);
    int pops, pushes;
    zx_op_stack_effect(in, &pops, &pushes);
    if (info->flags & OPF_SHUFFLE) {
        zx_flow_key popped[ZX_SHUFFLE_MAX];
        uint32_t x = top;
        for (int i = pops - 1; i >= 0; i--) {       /* popped[0] is the deepest */
            if (i < ZX_SHUFFLE_MAX) popped[i] = x != NIL ? P->node[x].key : ZX_FLOW_MERGE;
            if (x != NIL) x = P->node[x].below;
        }
        for (int i = 0; i < pushes && i < ZX_SHUFFLE_MAX; i++) x = node_push(P, popped[ZX_SHUFFLE_SRC(info->flags, i)], x);
        return x;
    }
    uint32_t x = node_down(P, top, pops);
    for (int i = 0; i < pushes; i++) x = node_push(P, fn ? fn(ctx, c, pc, i) : ZX_FLOW_KEY_PC(pc), x);
    return x;
}

/* Join stack src into *dst (the same depth): true when *dst changed. */
static bool origin_join(opass *P, uint32_t *dst, uint32_t src)
{
    uint32_t a = *dst, b = src;
    P->npair = 0;
    bool differs = false;
    while (a != b && a != NIL && b != NIL) {
        if (P->npair + 2 > P->cappair) {
            size_t cap = P->cappair ? P->cappair * 2 : 64;
            uint32_t *np = realloc(P->pair, cap * sizeof *np);
            if (!np) {
                P->oom = true;
                return false;
            }
            P->pair = np;
            P->cappair = cap;
        }
        P->pair[P->npair++] = a;
        P->pair[P->npair++] = b;
        if (key_merge(P->node[a].key, P->node[b].key) != P->node[a].key) differs = true;
        a = P->node[a].below;
        b = P->node[b].below;
    }
    if (!differs) return false;
    /* rebuild from the common part up: dst's own nodes while nothing below them changed */
    uint32_t x = a;
    bool fresh = false;
    for (size_t i = P->npair; i > 0; i -= 2) {
        uint32_t da = P->pair[i - 2], sb = P->pair[i - 1];
        zx_flow_key m = key_merge(P->node[da].key, P->node[sb].key);
        if (!fresh && m == P->node[da].key) {
            x = da;
            continue;
        }
        fresh = true;
        x = node_push(P, m, x);
    }
    *dst = x;
    return true;
}

bool zx_flow_origins_build(const zx_code *c, zx_flow_key_fn fn, void *ctx, zx_flow_origins *out)
{
    memset(out, 0, sizeof *out);
    if (!c || !c->depth || !c->ncode) return false;
    const int32_t *depth = c->depth;
    uint32_t n = c->ncode, top = 0;
    size_t nops = 0;
    bool ok = false;
    opass P;
    memset(&P, 0, sizeof P);
    uint32_t *state = malloc((size_t)n * sizeof *state);     /* the stack before each pc */
    uint32_t *work = malloc((size_t)n * sizeof *work);
    uint8_t *queued = calloc(n, 1), *seen = calloc(n, 1);
    out->off = malloc(((size_t)n + 1) * sizeof *out->off);
    if (!state || !work || !queued || !seen || !out->off) goto fail;
    for (uint32_t pc = 0; pc < n; pc++) {
        out->off[pc] = (uint32_t)nops;
        if (depth[pc] < 0) continue;
        int pops, pushes;
        zx_op_stack_effect(&c->code[pc], &pops, &pushes);
        nops += (size_t)pops;
    }
    out->off[n] = (uint32_t)nops;
    out->key = malloc((nops ? nops : 1) * sizeof *out->key);
    if (!out->key) goto fail;

    /* forward to the least fixpoint: a pc is (re)visited when its incoming stack changed */
    state[0] = NIL;
    seen[0] = queued[0] = 1;
    work[top++] = 0;
    /* a handler's target starts with the error's text and value, made by the runtime */
    for (uint32_t i = 0; i < c->nhandlers; i++) {
        uint32_t t = c->handlers[i].target;
        if (t >= n || depth[t] < 0 || seen[t]) continue;
        uint32_t x = NIL;
        for (int32_t j = 0; j < depth[t]; j++)
            x = node_push(&P, fn ? fn(ctx, c, t, ZX_FLOW_HANDLER_PUSH) : ZX_FLOW_MERGE, x);
        state[t] = x;
        seen[t] = queued[t] = 1;
        work[top++] = t;
    }
    while (top && !P.oom) {
        uint32_t pc = work[--top];
        queued[pc] = 0;
        const zx_instr *in = &c->code[pc];
        int32_t d = depth[pc];
        int pops, pushes;
        zx_op_stack_effect(in, &pops, &pushes);
        uint32_t after_top = origin_step(&P, c, pc, fn, ctx, state[pc]);
        int32_t after = d - pops + pushes;
        uint32_t succ[2];
        int k = zx_op_successors(in, pc, succ);
        for (int i = 0; i < k; i++) {
            uint32_t t = succ[i];
            bool keeps = zx_op_edge_keeps(in, i);
            uint32_t src = keeps ? state[pc] : after_top;
            int32_t sd = keeps ? d : after;
            if (t >= n || depth[t] != sd) continue;     /* cannot happen after the verifier */
            bool changed;
            if (!seen[t]) {
                seen[t] = 1;
                state[t] = src;
                changed = true;
            } else {
                changed = origin_join(&P, &state[t], src);
            }
            if (changed && !queued[t]) {
                queued[t] = 1;
                work[top++] = t;
            }
        }
    }
    if (P.oom) goto fail;
    for (uint32_t pc = 0; pc < n; pc++) {
        uint32_t np = out->off[pc + 1] - out->off[pc];
        uint32_t x = seen[pc] ? state[pc] : NIL;
        for (uint32_t j = np; j > 0; j--) {
            out->key[out->off[pc] + j - 1] = x != NIL ? P.node[x].key : ZX_FLOW_MERGE;
            if (x != NIL) x = P.node[x].below;
        }
    }
    out->ncode = n;
    ok = true;
fail:
    free(state);
    free(work);
    free(queued);
    free(seen);
    free(P.node);
    free(P.pair);
    if (!ok) zx_flow_origins_free(out);
    return ok;
}

void zx_flow_origins_free(zx_flow_origins *o)
{
    free(o->off);
    free(o->key);
    memset(o, 0, sizeof *o);
}
