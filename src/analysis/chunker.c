/* chunker.c — cuts a code object into chunks of whole statements, packing cheap ones, isolating costly ones. */
#include "analysis/analysis.h"

#include <stdlib.h>
#include <string.h>

/*
 * A statement boundary is an instruction the verifier marked ZX_PC_BOUNDARY (bytecode.h):
 *   - the operand stack is empty there (depth 0),
 *   - no jump crosses it (a jump from before it to after it, or from it or later back to
 *     before it), so a loop or an if is never cut and a chunk can run from its first
 *     instruction until the pc reaches its end,
 *   - the instruction before it is not OPF_JOINS_NEXT (FORK_EXECUTION: its JOIN_WORKERS
 *     belongs to it; GET_ITER: the loop it prepares follows).
 * Unreachable instructions are never boundaries: they stay with the statement before them.
 * Statements that contain a loop, parallel_map, a fork, a barrier or a call of something that
 * loops, recurses or is unknown stand alone; the others are packed up to chunk_size
 * instructions.  A statement longer than chunk_size is one chunk all the same.
 */

static bool is_backward_jump(const zx_code *c, uint32_t pc)
{
    return c->pcflags[pc] & ZX_PC_BACK_EDGE;
}

bool chunker_scan(analysis_code *ac)
{
    const zx_code *c = ac->code;
    uint32_t n = c->ncode;
    if (!c->depth || !c->pcflags) return false;     /* not verified */
    int32_t *diff = calloc((size_t)n + 1, sizeof *diff);
    ac->loop_depth = calloc(n ? n : 1, sizeof *ac->loop_depth);
    if (!diff || !ac->loop_depth) {
        free(diff);
        return false;
    }
    /* loop nesting: every backward jump i -> t makes [t, i] one loop level deeper */
    for (uint32_t pc = 0; pc < n; pc++) {
        if (!is_backward_jump(c, pc)) continue;
        diff[c->code[pc].a]++;
        diff[pc + 1]--;
    }
    int32_t level = 0;
    for (uint32_t pc = 0; pc < n; pc++) {
        level += diff[pc];
        ac->loop_depth[pc] = level > 0 ? (uint32_t)level : 0;
    }
    free(diff);
    return true;
}

/* The statements of a code object: bounds[0] = 0 < bounds[1] < ... < bounds[n] = ncode. */
static uint32_t *statement_bounds(const analysis_code *ac, uint32_t *nstmts)
{
    const zx_code *c = ac->code;
    uint32_t n = c->ncode, k = 0;
    uint32_t *bounds = malloc(((size_t)n + 1) * sizeof *bounds);
    if (!bounds) return NULL;
    bounds[k++] = 0;
    for (uint32_t p = 1; p < n; p++)
        if (c->pcflags[p] & ZX_PC_BOUNDARY) bounds[k++] = p;
    if (n) bounds[k++] = n;
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
        if (is_backward_jump(c, pc)) return true;
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
    k->eff = *eff;            /* its sets are in the analysis' arena */
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
        if (!analysis_summary_union(&a->arena, &pack, &eff)) goto fail;
    }
    if (packing && !push_chunk(ac, &cap, pack_start, pack_end, pack_flags, &pack)) goto fail;
    /* the implicit `return null` that ends every body goes with the chunk before it rather
     * than making a node of its own (a barrier and a fork stay what they are) */
    if (ac->nchunks >= 2) {
        analysis_chunk *last = &ac->chunks[ac->nchunks - 1], *prev = last - 1;
        bool epilogue = last->end - last->start == 2 && c->code[last->start].op == OP_LOAD_CONST &&
                        c->code[last->start + 1].op == OP_RETURN;
        if (epilogue && !(prev->flags & (CHUNK_IS_BARRIER | CHUNK_IS_FORK))) {
            if (!analysis_summary_union(&a->arena, &prev->eff, &last->eff)) goto fail;
            prev->end = last->end;
            prev->flags |= last->flags;
            prev->cost = prev->eff.cost;
            ac->nchunks--;
        }
    }
    ok = true;
fail:
    free(bounds);
    return ok;
}
