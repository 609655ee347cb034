/* chunker.c — cuts a code object into chunks of whole statements, packing cheap ones, isolating costly ones. */
#include "analysis/analysis.h"

#include <stdlib.h>
#include <string.h>

/*
 * A statement boundary is an instruction p where
 *   - the operand stack is empty (depth 0, as the verifier computes it),
 *   - no jump crosses p (a jump from before p to after it, or from p or later back to before
 *     it), so a loop or an if is never cut and a chunk can run from its first instruction
 *     until the pc reaches its end,
 *   - the instruction before p is not FORK_EXECUTION (its JOIN_WORKERS belongs to it) or
 *     GET_ITER (the loop it prepares follows).
 * Unreachable instructions are never boundaries: they stay with the statement before them.
 * Statements that contain a loop, parallel_map, a fork, a barrier or a call of something that
 * loops, recurses or is unknown stand alone; the others are packed up to chunk_size
 * instructions.  A statement longer than chunk_size is one chunk all the same.
 */

static bool is_backward_jump(const zx_instr *in, uint32_t pc)
{
    const zx_opinfo *info = zx_op_info(in->op);
    return info && (info->flags & OPF_JUMPS) && in->a <= pc;
}

bool chunker_scan(analysis_code *ac)
{
    const zx_code *c = ac->code;
    uint32_t n = c->ncode;
    bool ok = false;
    uint32_t *work = malloc((n ? n : 1) * sizeof *work);
    int32_t *diff = calloc((size_t)n + 1, sizeof *diff);
    ac->depth = malloc((n ? n : 1) * sizeof *ac->depth);
    ac->loop_depth = calloc(n ? n : 1, sizeof *ac->loop_depth);
    if (!work || !diff || !ac->depth || !ac->loop_depth) goto fail;
    for (uint32_t i = 0; i < n; i++) ac->depth[i] = -1;

    /* the verifier's walk: FOR_ITER's exit keeps the depth it had before the instruction */
    uint32_t top = 0;
    if (n) {
        ac->depth[0] = 0;
        work[top++] = 0;
    }
    while (top) {
        uint32_t pc = work[--top];
        const zx_instr *in = &c->code[pc];
        const zx_opinfo *info = zx_op_info(in->op);
        if (!info) continue;
        int pops, pushes;
        zx_op_stack_effect(in, &pops, &pushes);
        int32_t d = ac->depth[pc], after = d - pops + pushes;
        bool is_for = in->op == OP_FOR_ITER1 || in->op == OP_FOR_ITER2;
        uint32_t succ[2];
        int32_t sdepth[2];
        int k = 0;
        if (info->flags & OPF_JUMPS) {
            succ[k] = in->a;
            sdepth[k++] = is_for ? d : after;
        }
        if (!(info->flags & OPF_ENDS) && in->op != OP_JUMP) {
            succ[k] = pc + 1;
            sdepth[k++] = after;
        }
        for (int i = 0; i < k; i++) {
            if (succ[i] >= n || ac->depth[succ[i]] >= 0) continue;
            ac->depth[succ[i]] = sdepth[i] < 0 ? 0 : sdepth[i];
            work[top++] = succ[i];
        }
    }

    /* loop nesting: every backward jump i -> t makes [t, i] one loop level deeper */
    for (uint32_t pc = 0; pc < n; pc++) {
        const zx_instr *in = &c->code[pc];
        if (!is_backward_jump(in, pc)) continue;
        diff[in->a]++;
        diff[pc + 1]--;
    }
    int32_t level = 0;
    for (uint32_t pc = 0; pc < n; pc++) {
        level += diff[pc];
        ac->loop_depth[pc] = level > 0 ? (uint32_t)level : 0;
    }
    ok = true;
fail:
    free(work);
    free(diff);
    return ok;
}

/* The statements of a code object: bounds[0] = 0 < bounds[1] < ... < bounds[n] = ncode. */
static uint32_t *statement_bounds(const analysis_code *ac, uint32_t *nstmts)
{
    const zx_code *c = ac->code;
    uint32_t n = c->ncode;
    int32_t *cross = calloc((size_t)n + 2, sizeof *cross);
    uint32_t *bounds = malloc(((size_t)n + 1) * sizeof *bounds);
    if (!cross || !bounds) {
        free(cross);
        free(bounds);
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++) {
        const zx_instr *in = &c->code[i];
        const zx_opinfo *info = zx_op_info(in->op);
        if (!info || !(info->flags & OPF_JUMPS)) continue;
        uint32_t t = in->a;
        if (t > i) {            /* forward: crosses every b with i < b < t */
            cross[i + 1]++;
            cross[t]--;
        } else {                /* backward: crosses every b with t < b <= i */
            cross[t + 1]++;
            cross[i + 1]--;
        }
    }
    uint32_t k = 0;
    int32_t crossing = 0;
    bounds[k++] = 0;
    for (uint32_t p = 1; p < n; p++) {
        crossing += cross[p];
        if (ac->depth[p] != 0 || crossing > 0) continue;
        /* a fork is one statement with its join; a for-each with the GET_ITER before its loop */
        if (c->code[p - 1].op == OP_FORK_EXECUTION || c->code[p - 1].op == OP_GET_ITER) continue;
        bounds[k++] = p;
    }
    if (n) bounds[k++] = n;
    free(cross);
    *nstmts = k - 1;
    return bounds;
}

static bool range_has_op(const zx_code *c, uint32_t start, uint32_t end, unsigned op)
{
    for (uint32_t pc = start; pc < end; pc++)
        if (c->code[pc].op == op) return true;
    return false;
}

static bool range_has_backward_jump(const zx_code *c, uint32_t start, uint32_t end)
{
    for (uint32_t pc = start; pc < end; pc++)
        if (is_backward_jump(&c->code[pc], pc)) return true;
    return false;
}

static unsigned statement_flags(const zx_code *c, uint32_t start, uint32_t end, const analysis_summary *eff)
{
    unsigned f = 0;
    if (range_has_backward_jump(c, start, end)) f |= CHUNK_HAS_LOOP;
    if (eff->calls_unknown) f |= CHUNK_CALLS_UNKNOWN;
    if (range_has_op(c, start, end, OP_RETURN)) f |= CHUNK_HAS_RETURN;
    if (range_has_op(c, start, end, OP_BARRIER_SYNC)) f |= CHUNK_IS_BARRIER;
    if (eff->has_output) f |= CHUNK_OUTPUT;
    if (range_has_op(c, start, end, OP_FORK_EXECUTION)) f |= CHUNK_IS_FORK;
    if ((f & (CHUNK_HAS_LOOP | CHUNK_CALLS_UNKNOWN)) || eff->loops_or_recurses ||
        range_has_op(c, start, end, OP_PARALLEL_MAP))
        f |= CHUNK_HEAVY;
    return f;
}

static bool push_chunk(analysis_code *ac, uint32_t *cap, uint32_t start, uint32_t end, unsigned flags,
                       analysis_summary *eff)
{
    if (ac->nchunks == *cap) {
        uint32_t ncap = *cap ? *cap * 2 : 8;
        analysis_chunk *ch = realloc(ac->chunks, (size_t)ncap * sizeof *ch);
        if (!ch) return false;
        ac->chunks = ch;
        *cap = ncap;
    }
    analysis_chunk *k = &ac->chunks[ac->nchunks++];
    memset(k, 0, sizeof *k);
    k->start = start;
    k->end = end;
    k->flags = flags;
    k->eff = *eff;            /* takes ownership */
    memset(eff, 0, sizeof *eff);
    k->cost = k->eff.cost;
    const zx_code *c = ac->code;
    for (uint32_t pc = start; pc < end; pc++) {
        uint32_t line = c->positions ? c->positions[pc].line : 0;
        /* the implicit `return null` at the end carries the code object's own position */
        if (pc + 2 >= c->ncode && start + 2 < c->ncode && c->positions && c->positions[pc].line == c->pos.line &&
            c->positions[pc].col == c->pos.col)
            continue;
        if (!line) continue;
        if (!k->first_line || line < k->first_line) k->first_line = line;
        if (line > k->last_line) k->last_line = line;
    }
    return true;
}

bool chunker_split(analysis *a, analysis_code *ac)
{
    const zx_code *c = ac->code;
    uint32_t nstmts = 0, cap = 0;
    bool ok = false;
    analysis_summary pack, eff;
    memset(&pack, 0, sizeof pack);
    memset(&eff, 0, sizeof eff);
    uint32_t *bounds = statement_bounds(ac, &nstmts);
    if (!bounds) return false;
    uint32_t pack_start = 0, pack_end = 0;
    unsigned pack_flags = 0;
    bool packing = false;
    for (uint32_t s = 0; s < nstmts; s++) {
        uint32_t start = bounds[s], end = bounds[s + 1];
        memset(&eff, 0, sizeof eff);
        if (!deps_range_effects(a, ac, start, end, &eff)) goto fail;
        unsigned flags = statement_flags(c, start, end, &eff);
        bool alone = flags & (CHUNK_HEAVY | CHUNK_IS_BARRIER | CHUNK_IS_FORK);
        if (packing && (alone || end - pack_start > (uint32_t)a->chunk_size)) {
            if (!push_chunk(ac, &cap, pack_start, pack_end, pack_flags, &pack)) goto fail;
            packing = false;
        }
        if (alone) {
            if (!push_chunk(ac, &cap, start, end, flags, &eff)) goto fail;
            continue;
        }
        if (!packing) {
            packing = true;
            pack_start = start;
            pack_flags = 0;
            memset(&pack, 0, sizeof pack);
        }
        pack_end = end;
        pack_flags |= flags;
        if (!analysis_summary_union(&pack, &eff)) goto fail;
        analysis_summary_free(&eff);
    }
    if (packing && !push_chunk(ac, &cap, pack_start, pack_end, pack_flags, &pack)) goto fail;
    /* the implicit `return null` that ends every body goes with the chunk before it rather
     * than making a node of its own (a barrier and a fork stay what they are) */
    if (ac->nchunks >= 2) {
        analysis_chunk *last = &ac->chunks[ac->nchunks - 1], *prev = last - 1;
        bool epilogue = last->end - last->start == 2 && c->code[last->start].op == OP_LOAD_CONST &&
                        c->code[last->start + 1].op == OP_RETURN;
        if (epilogue && !(prev->flags & (CHUNK_IS_BARRIER | CHUNK_IS_FORK))) {
            if (!analysis_summary_union(&prev->eff, &last->eff)) goto fail;
            prev->end = last->end;
            prev->flags |= last->flags;
            prev->cost = prev->eff.cost;
            analysis_summary_free(&last->eff);
            ac->nchunks--;
        }
    }
    ok = true;
fail:
    analysis_summary_free(&pack);
    analysis_summary_free(&eff);
    free(bounds);
    return ok;
}
