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

/* Apply instruction pc to the keys st of the stack (depth d before it). */
static void origin_step(const zx_code *c, uint32_t pc, zx_flow_key_fn fn, void *ctx, zx_flow_key *st, int32_t d)
{
    const zx_instr *in = &c->code[pc];
    const zx_opinfo *info = zx_op_info(in->op);
    int pops, pushes;
    zx_op_stack_effect(in, &pops, &pushes);
    zx_flow_key *base = st + d - pops;
    if (info->flags & OPF_SHUFFLE) {
        zx_flow_key popped[ZX_SHUFFLE_MAX];
        for (int i = 0; i < pops && i < ZX_SHUFFLE_MAX; i++) popped[i] = base[i];
        for (int i = 0; i < pushes && i < ZX_SHUFFLE_MAX; i++) base[i] = popped[ZX_SHUFFLE_SRC(info->flags, i)];
        return;
    }
    for (int i = 0; i < pushes; i++) base[i] = fn ? fn(ctx, c, pc, i) : ZX_FLOW_KEY_PC(pc);
}

bool zx_flow_origins_build(const zx_code *c, zx_flow_key_fn fn, void *ctx, zx_flow_origins *out)
{
    memset(out, 0, sizeof *out);
    if (!c || !c->depth || !c->ncode) return false;
    const int32_t *depth = c->depth;
    uint32_t n = c->ncode, top = 0;
    size_t total = 0, nops = 0;
    bool ok = false;
    size_t *soff = malloc(((size_t)n + 1) * sizeof *soff);   /* where each pc's stack state starts */
    uint32_t *work = malloc((size_t)n * sizeof *work);
    uint8_t *queued = calloc(n, 1), *seen = calloc(n, 1);
    zx_flow_key *states = NULL, *st = NULL;
    out->off = malloc(((size_t)n + 1) * sizeof *out->off);
    if (!soff || !work || !queued || !seen || !out->off) goto fail;
    for (uint32_t pc = 0; pc < n; pc++) {
        soff[pc] = total;
        out->off[pc] = (uint32_t)nops;
        if (depth[pc] < 0) continue;
        int pops, pushes;
        zx_op_stack_effect(&c->code[pc], &pops, &pushes);
        total += (size_t)depth[pc];
        nops += (size_t)pops;
    }
    soff[n] = total;
    out->off[n] = (uint32_t)nops;
    states = calloc(total ? total : 1, sizeof *states);
    st = malloc(((size_t)c->max_stack + ZX_SHUFFLE_MAX + 1) * sizeof *st);
    out->key = malloc((nops ? nops : 1) * sizeof *out->key);
    if (!states || !st || !out->key) goto fail;

    /* forward to the least fixpoint: a pc is (re)visited when its incoming stack changed */
    seen[0] = queued[0] = 1;
    work[top++] = 0;
    /* a handler's target starts with the error's text and value, made by the runtime */
    for (uint32_t i = 0; i < c->nhandlers; i++) {
        uint32_t t = c->handlers[i].target;
        if (t >= n || depth[t] < 0 || seen[t]) continue;
        for (int32_t j = 0; j < depth[t]; j++) states[soff[t] + (size_t)j] = ZX_FLOW_MERGE;
        seen[t] = queued[t] = 1;
        work[top++] = t;
    }
    while (top) {
        uint32_t pc = work[--top];
        queued[pc] = 0;
        const zx_instr *in = &c->code[pc];
        int32_t d = depth[pc];
        int pops, pushes;
        zx_op_stack_effect(in, &pops, &pushes);
        memcpy(st, states + soff[pc], (size_t)d * sizeof *st);
        origin_step(c, pc, fn, ctx, st, d);
        int32_t after = d - pops + pushes;
        uint32_t succ[2];
        int k = zx_op_successors(in, pc, succ);
        for (int i = 0; i < k; i++) {
            uint32_t t = succ[i];
            bool keeps = zx_op_edge_keeps(in, i);
            const zx_flow_key *src = keeps ? states + soff[pc] : st;
            int32_t sd = keeps ? d : after;
            if (t >= n || depth[t] != sd) continue;     /* cannot happen after the verifier */
            zx_flow_key *dst = states + soff[t];
            bool changed = !seen[t];
            seen[t] = 1;
            for (int32_t j = 0; j < sd; j++) {
                zx_flow_key m = key_merge(dst[j], src[j]);
                if (m != dst[j]) {
                    dst[j] = m;
                    changed = true;
                }
            }
            if (changed && !queued[t]) {
                queued[t] = 1;
                work[top++] = t;
            }
        }
    }
    for (uint32_t pc = 0; pc < n; pc++) {
        uint32_t np = out->off[pc + 1] - out->off[pc];
        for (uint32_t j = 0; j < np; j++)
            out->key[out->off[pc] + j] = seen[pc] ? states[soff[pc] + (uint32_t)depth[pc] - np + j] : ZX_FLOW_MERGE;
    }
    out->ncode = n;
    ok = true;
fail:
    free(soff);
    free(work);
    free(queued);
    free(seen);
    free(states);
    free(st);
    if (!ok) zx_flow_origins_free(out);
    return ok;
}

void zx_flow_origins_free(zx_flow_origins *o)
{
    free(o->off);
    free(o->key);
    memset(o, 0, sizeof *o);
}
