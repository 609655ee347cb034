/* plan.c — decides before a run what runs in parallel and where the globals live (plan.h). */
#include "analysis/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/builtins.h"

#define AUTO_MIN_WORK 5000u         /* estimated instructions that pay for a parallel region */

bool plan_worth_it(const zx_plan *pl, uint64_t work, double parallelism)
{
    if (pl->mode == ZX_MODE_PAR) return true;
    return work >= AUTO_MIN_WORK && parallelism >= 1.5 && pl->workers > 1;
}

/* --mode=auto's evidence of heavy independent work: chunk costs where a call into recursion
 * counts only its own instructions (the estimate for recursion is a guess, and a wrong guess
 * must not make auto slower than seq), then work and critical path over the DAG. */
static bool auto_worth_main(const analysis *a, const analysis_code *ac)
{
    uint64_t *cp = calloc(ac->nchunks, sizeof *cp);
    if (!cp) return false;
    uint64_t work = 0, longest = 0;
    for (uint32_t i = 0; i < ac->nchunks; i++) {
        const analysis_chunk *ch = &ac->chunks[i];
        uint64_t cost = ch->cost;
        for (uint32_t pc = ch->start; pc < ch->end; pc++) {
            uint32_t callee = ac->callee ? ac->callee[pc] : ANALYSIS_NONE;
            if (callee < a->ncodes && a->codes[callee].recursive) {
                cost = ch->end - ch->start;
                break;
            }
        }
        work += cost;
        cp[i] += cost;                       /* cp[i]: longest path ending at i */
        if (cp[i] > longest) longest = cp[i];
        for (uint32_t e = ac->dag.succ_offsets[i]; e < ac->dag.succ_offsets[i + 1]; e++) {
            uint32_t j = ac->dag.succs[e];
            if (cp[i] > cp[j]) cp[j] = cp[i];
        }
    }
    free(cp);
    return work >= AUTO_MIN_WORK && longest && (double)work / (double)longest >= 1.5;
}

/* A PARALLEL_MAP site may go parallel unless the analysis resolved its function to a code
 * object that may not be a parallel_map function. */
static bool pmap_site_may_go_parallel(const zx_plan *pl)
{
    const analysis *a = pl->a;
    for (uint32_t i = 0; i < a->ncodes; i++) {
        const analysis_code *ac = &a->codes[i];
        for (uint32_t pc = 0; pc < ac->code->ncode; pc++) {
            if (ac->code->code[pc].op != OP_PARALLEL_MAP) continue;
            uint32_t callee = ac->callee ? ac->callee[pc] : ANALYSIS_NONE;
            if (callee >= a->ncodes || !pl->codes[callee].pmap_blocker) return true;
        }
    }
    return false;
}

/* "A and B run in order: A <effects>; B <effects>" for two summaries with ordered effects. */
static char *ordered_note(const char *what_a, const analysis_summary *a, const char *what_b,
                          const analysis_summary *b)
{
    char fa[300], fb[300], buf[800];
    analysis_fx_describe(a, fa, sizeof fa);
    analysis_fx_describe(b, fb, sizeof fb);
    snprintf(buf, sizeof buf, "%s and %s run in order: %s %s; %s %s", what_a, what_b, what_a, fa, what_b, fb);
    return strdup(buf);
}

/* The effect-ordering notes: the first pair of top-level chunks, and of each fork's blocks,
 * that both touch files, the clock, the random state or sleep; and each builtin's own reason
 * not to be a parallel_map function. */
static bool plan_notes(zx_plan *pl)
{
    const analysis *a = pl->a;
    const analysis_code *ac = pl->main;
    for (uint32_t j = 0; ac && j < ac->nchunks && !pl->main_ordered; j++) {
        const analysis_chunk *B = &ac->chunks[j];
        for (uint32_t i = 0; i < j && B->eff.ordered_fx; i++) {
            const analysis_chunk *A = &ac->chunks[i];
            if (!A->eff.ordered_fx) continue;
            char wa[64], wb[64];
            snprintf(wa, sizeof wa, "line %u", A->first_line);
            snprintf(wb, sizeof wb, "line %u", B->first_line);
            if (!(pl->main_ordered = ordered_note(wa, &A->eff, wb, &B->eff))) return false;
            break;
        }
    }
    for (uint32_t k = 0; k < pl->nforks; k++) {
        const analysis_fork *af = pl->forks[k].fork;
        for (uint32_t j = 0; j < af->nblocks && !pl->forks[k].ordered; j++) {
            const analysis_summary *B = &a->codes[af->blocks[j]].summary;
            for (uint32_t i = 0; i < j && B->ordered_fx; i++) {
                const analysis_summary *A = &a->codes[af->blocks[i]].summary;
                if (!A->ordered_fx) continue;
                char wa[32], wb[32];
                snprintf(wa, sizeof wa, "block %u", i + 1);
                snprintf(wb, sizeof wb, "block %u", j + 1);
                if (!(pl->forks[k].ordered = ordered_note(wa, A, wb, B))) return false;
                break;
            }
        }
    }
    pl->builtin_blocker = calloc(ZX_BI_COUNT, sizeof *pl->builtin_blocker);
    if (!pl->builtin_blocker) return false;
    for (int b = 0; b < ZX_BI_COUNT; b++) {
        unsigned fx = zx_builtin_effects(b);
        char buf[400];
        if (fx & ZX_FX_ORDERED) {
            analysis_summary s;
            memset(&s, 0, sizeof s);
            s.ordered_fx = fx & ZX_FX_ORDERED;
            for (int k = 0; k < ANALYSIS_FX_KINDS; k++)
                if (fx & analysis_fx_bit(k)) s.fx_builtin[k] = (uint16_t)(b + 1);
            char words[300];
            analysis_fx_describe(&s, words, sizeof words);
            snprintf(buf, sizeof buf, "it %s", words);
        } else if (fx & ZX_FX_WRITES_HEAP) {
            snprintf(buf, sizeof buf, "it may change a list or map (%s)", zx_builtin_name(b));
        } else {
            continue;
        }
        if (!(pl->builtin_blocker[b] = strdup(buf))) return false;
    }
    return true;
}

zx_plan *plan_build(zx_program *p, const plan_options *o)
{
    zx_plan *pl = calloc(1, sizeof *pl);
    if (!pl) return NULL;
    pl->mode = o->mode;
    pl->hosts = o->hosts;
    pl->workers = 1;
    if (o->mode == ZX_MODE_SEQ) return pl;            /* nothing to decide: everything in order */
    pl->a = analysis_build_hosts(p, o->chunk_size, o->hosts);
    if (!pl->a) goto fail;
    const analysis *a = pl->a;
    pl->main = analysis_code_of(a, p->main);
    pl->codes = calloc(a->ncodes ? a->ncodes : 1, sizeof *pl->codes);
    if (!pl->codes) goto fail;
    for (uint32_t i = 0; i < a->ncodes; i++) {
        const char *reason = NULL;
        if (!analysis_pmap_parallel_ok(&a->codes[i], &reason)) pl->codes[i].pmap_blocker = reason ? reason : "it has effects";
        pl->codes[i].cost = a->codes[i].summary.cost;
        pl->nforks += a->codes[i].nforks;
    }
    pl->forks = calloc(pl->nforks ? pl->nforks : 1, sizeof *pl->forks);
    if (!pl->forks) goto fail;
    uint32_t k = 0;
    bool fork_may = false;
    for (uint32_t i = 0; i < a->ncodes; i++) {
        pl->codes[i].first_fork = k;
        for (uint32_t f = 0; f < a->codes[i].nforks; f++, k++) {
            const analysis_fork *af = &a->codes[i].forks[f];
            pl->forks[k].code = i;
            pl->forks[k].fork = af;
            /* before the workers are known: whether it could be worth it with enough */
            fork_may |= o->mode == ZX_MODE_PAR || (af->dag.work >= AUTO_MIN_WORK && af->dag.parallelism >= 1.5);
        }
    }
    const analysis_code *ac = pl->main;
    if (ac) {
        uint32_t *set = ac->dag.n ? malloc(ac->dag.n * sizeof *set) : NULL;
        pl->main_width = set ? analysis_dag_width(&ac->dag, set) : 0;
        free(set);
        pl->main_dag = ac->nchunks >= 2 && !ac->locals_cross_chunks &&
                       (o->mode == ZX_MODE_PAR || auto_worth_main(a, ac));
    }
    pl->may_go_parallel = pl->main_dag || fork_may || pmap_site_may_go_parallel(pl);
    if (!plan_notes(pl)) goto fail;
    return pl;
fail:
    plan_free(pl);
    return NULL;
}

bool plan_set_machine(zx_plan *pl, zx_program *p, const plan_machine *m)
{
    plan_machine none = { 1, false, NULL, false };
    if (!m) m = &none;
    const plan_machine *o = &pl->machine;
    if (pl->has_machine && o->workers == m->workers && o->pin == m->pin && o->topo == m->topo &&
        o->place_by_topology == m->place_by_topology)
        return true;
    placement_free(pl->place);
    pl->place = NULL;
    pl->has_machine = true;
    pl->machine = *m;
    pl->workers = m->workers > 0 ? m->workers : 1;
    for (uint32_t k = 0; k < pl->nforks; k++)
        pl->forks[k].parallel = plan_worth_it(pl, pl->forks[k].fork->dag.work, pl->forks[k].fork->dag.parallelism);
    /* A top level that runs in order needs no placement rule, and no topology.  Under
     * --mode=auto the top level may stay in order (its first millisecond always is), so there
     * the rule is applied only where it can matter (place_by_topology). */
    placement_options po = { pl->main_dag && m->place_by_topology ? m->topo : NULL, pl->workers, m->pin };
    pl->place = placement_build(p, pl->a, &po);
    if (!pl->place) pl->has_machine = false;
    return pl->place != NULL;
}

void plan_free(zx_plan *pl)
{
    if (!pl) return;
    placement_free(pl->place);
    for (uint32_t k = 0; pl->forks && k < pl->nforks; k++) free(pl->forks[k].ordered);
    free(pl->main_ordered);
    for (int b = 0; pl->builtin_blocker && b < ZX_BI_COUNT; b++) free(pl->builtin_blocker[b]);
    free(pl->builtin_blocker);
    free(pl->forks);
    free(pl->codes);
    analysis_free(pl->a);
    free(pl);
}

const char *plan_pmap_blocker(const zx_plan *pl, zx_value fn, uint64_t *cost)
{
    *cost = 0;
    if (zx_is_type(fn, ZX_O_BUILTIN)) {
        int id = ((const zx_builtin_obj *)fn.u.o)->id;
        if (id < ZX_BI_COUNT && (zx_builtin_effects(id) & (ZX_FX_ORDERED | ZX_FX_WRITES_HEAP)))
            return pl->builtin_blocker && pl->builtin_blocker[id] ? pl->builtin_blocker[id] : "it has effects";
        if (id < ZX_BI_COUNT || analysis_host_index_pure(pl->hosts, (uint32_t)(id - ZX_BI_COUNT))) return NULL;
        return "it is a host function not registered as pure (ZX_HOST_PURE)";
    }
    if (!pl->a) return "the analysis ran out of memory";
    const analysis_code *ac = analysis_code_of(pl->a, ZX_AS_FUNC(fn)->code);
    if (!ac) return "the function is not part of this program";
    *cost = pl->codes[ac->id].cost;
    return pl->codes[ac->id].pmap_blocker;
}

const plan_fork *plan_fork_at(const zx_plan *pl, const zx_code *c, uint32_t pc)
{
    const analysis_code *ac = pl->a ? analysis_code_of(pl->a, c) : NULL;
    for (uint32_t k = 0; ac && k < ac->nforks; k++) {
        const plan_fork *pf = &pl->forks[pl->codes[ac->id].first_fork + k];
        if (pf->fork->pc == pc) return pf;
    }
    return NULL;
}
