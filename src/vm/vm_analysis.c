/* vm_analysis.c — the VM layer's use of the analysis: built for display as text or Graphviz, and run in a chosen order for tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "exec/interp.h"
#include "vm/api.h"

/* ---------- the analysis built on the host thread ---------- */

static int vm_chunk_size(const zx_program *p)
{
    return p->vm && p->vm->opts.chunk_size > 0 ? p->vm->opts.chunk_size : ANALYSIS_DEFAULT_CHUNK_SIZE;
}

analysis *zx_vm_analysis_build(zx_program *p, int chunk_size)
{
    if (chunk_size <= 0) chunk_size = vm_chunk_size(p);
    if (p->vm && !zx_host_purity_refresh(p->vm, p)) return NULL;
    return analysis_build_hosts(p, chunk_size, p->hosts);
}

/* ---------- text ---------- */

static void put_code_title(zx_buf *b, const zx_code *c)
{
    switch ((int)c->kind) {
    case ZX_CODE_MAIN: zx_buf_puts(b, "the top level"); break;
    case ZX_CODE_ACTION: zx_buf_printf(b, "action '%s' (line %u)", c->name ? c->name : "?", c->pos.line); break;
    case ZX_CODE_LAMBDA: zx_buf_printf(b, "lambda (line %u)", c->pos.line); break;
    case ZX_CODE_FORK: zx_buf_printf(b, "fork block (line %u)", c->pos.line); break;
    default: zx_buf_printf(b, "code '%s'", c->name ? c->name : "?"); break;
    }
}

static void put_lines(zx_buf *b, uint32_t first, uint32_t last)
{
    if (!first) zx_buf_puts(b, "no line");
    else if (first == last) zx_buf_printf(b, "line %u", first);
    else zx_buf_printf(b, "lines %u-%u", first, last);
}

/* At most this many variables are named per set of a summary: the summaries of a deep call
 * graph hold what every callee touches, and naming them all made the listing quadratic. */
#define LIST_LOCS_MAX 16u

static void put_locs(zx_buf *b, const analysis *a, const char *verb, const analysis_locset *s, bool *first)
{
    if (!s->n) return;
    zx_buf_puts(b, *first ? "" : "; ");
    *first = false;
    zx_buf_puts(b, verb);
    analysis_locset_iter it;
    uint32_t loc;
    analysis_locset_iter_init(&it, s);
    for (uint32_t i = 0; analysis_locset_next(&it, &loc); i++) {
        if (i == LIST_LOCS_MAX - 1 && s->n > LIST_LOCS_MAX) {
            zx_buf_printf(b, " and %u more", s->n - i);
            break;
        }
        char what[256];
        analysis_loc_describe(a, loc, what, sizeof what);
        zx_buf_printf(b, "%s %s", i ? "," : "", what);
    }
}

static void put_word(zx_buf *b, const char *w, bool *first)
{
    zx_buf_puts(b, *first ? "" : "; ");
    *first = false;
    zx_buf_puts(b, w);
}

/* The resolved callees of instructions [start, end), each named once (seen[id] == stamp: named
 * already; seen has a->ncodes entries, NULL when out of memory: then every call is named). */
static void put_callees(zx_buf *b, const analysis *a, const analysis_code *ac, uint32_t start, uint32_t end,
                        bool *first, uint32_t *seen, uint32_t stamp)
{
    bool any = false;
    for (uint32_t pc = start; pc < end; pc++) {
        const uint32_t *ids = &ac->callee[pc];
        uint32_t n = ac->code->code[pc].op == OP_CALL_METHOD ? analysis_method_callees(a, ac, pc, &ids) : 1;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t id = ids[k];
            if (id >= a->ncodes) continue;
            if (seen && seen[id] == stamp) continue;
            if (seen) seen[id] = stamp;
            if (!any) put_word(b, "calls", first);
            zx_buf_puts(b, any ? ", " : " ");
            any = true;
            put_code_title(b, a->codes[id].code);
        }
    }
}

static void put_summary(zx_buf *b, const analysis *a, const analysis_summary *s)
{
    bool first = true;
    put_locs(b, a, "reads", &s->reads, &first);
    put_locs(b, a, "writes", &s->writes, &first);
    put_locs(b, a, "updates (op=)", &s->updates, &first);
    if (s->reads_heap && s->writes_heap) put_word(b, "reads and writes the heap", &first);
    else if (s->reads_heap) put_word(b, "reads the heap", &first);
    else if (s->writes_heap) put_word(b, "writes the heap", &first);
    if (s->this_reads && s->this_writes) put_word(b, "reads and writes fields of this", &first);
    else if (s->this_reads) put_word(b, "reads fields of this", &first);
    else if (s->this_writes) put_word(b, "writes fields of this", &first);
    if (s->calls_unknown) put_word(b, "calls something unresolved", &first);
    if (s->ordered_fx) {
        char fx[300];
        analysis_fx_describe(s, fx, sizeof fx);
        put_word(b, fx, &first);
    }
    if (s->has_output) put_word(b, "output", &first);
    if (s->loops_or_recurses) put_word(b, "loops", &first);
    if (s->may_raise) put_word(b, "may raise", &first);
    if (first) zx_buf_puts(b, "no effects");
}

/* put_summary with the reads in `extra` added (new nodes in ar): the reads of fixed globals
 * (analysis.h) by a code object's own instructions, which its summaries leave out, are shown
 * where they are made. */
static void put_summary_with(zx_buf *b, const analysis *a, analysis_arena *ar, const analysis_summary *s,
                             const analysis_locset *extra)
{
    analysis_summary t = *s;
    if (extra->n) analysis_locset_union(ar, &t.reads, extra);   /* out of memory: shown without */
    put_summary(b, a, &t);
}

/* The fixed globals that instructions [start, end) of a code object other than the top level read. */
static void own_fixed_reads(const analysis *a, analysis_arena *ar, const analysis_code *ac, uint32_t start,
                            uint32_t end, analysis_locset *out)
{
    if (ac->parent == ANALYSIS_NONE || !a->fixed) return;
    for (uint32_t pc = start; pc < end && pc < ac->code->ncode; pc++) {
        const zx_instr *in = &ac->code->code[pc];
        if (in->op == OP_LOAD_NAME && in->a < a->nlocs && a->fixed[in->a] && !analysis_locset_add(ar, out, in->a))
            return;
    }
}

static void put_edge(zx_buf *b, const analysis *a, const analysis_edge *e, const char *noun)
{
    zx_buf_printf(b, "    %s %u -> %s %u: %s", noun, e->from, noun, e->to, analysis_dep_kind_name((int)e->kind));
    if (e->loc != ANALYSIS_NONE) {
        char what[256];
        analysis_loc_describe(a, e->loc, what, sizeof what);
        zx_buf_printf(b, " on %s", what);
    }
    zx_buf_puts(b, "\n");
}

static void put_dag_stats(zx_buf *b, const analysis_dag *d, const char *noun)
{
    if (d->n == 0) return;
    zx_buf_printf(b, "  critical path: ");
    for (uint32_t i = 0; i < d->npath; i++) {
        if (d->npath > 16 && i == 8) {        /* a long chain: its two ends say enough */
            zx_buf_printf(b, " -> ... (%u %ss)", d->npath - 12, noun);
            i = d->npath - 4;
        }
        zx_buf_printf(b, "%s%s %u", i ? " -> " : "", noun, d->path[i]);
    }
    zx_buf_printf(b, " (cost %llu of %llu)\n", (unsigned long long)d->critical_path, (unsigned long long)d->work);
    zx_buf_printf(b, "  parallelism: %.2f\n", d->parallelism);
    uint32_t *set = malloc((size_t)d->n * sizeof *set);
    uint32_t w = set ? analysis_dag_width(d, set) : 0;
    if (w > 1) {
        zx_buf_printf(b, "  independent: %u %ss (", w, noun);
        for (uint32_t i = 0; i < w; i++) zx_buf_printf(b, "%s%u", i ? ", " : "", set[i]);
        zx_buf_puts(b, ") with no path between any two\n");
    } else if (w == 1) {
        zx_buf_printf(b, "  independent: none (every two %ss are ordered)\n", noun);
    }
    free(set);
}

/* The kind of the conflict between earlier node x and later node y, or ANALYSIS_NONE: their
 * summaries (RAW, WAR, WAW, heap, effect), else an unresolved call or a barrier in either, else
 * x may return. */
static uint32_t pair_kind(const analysis_summary *x, unsigned xflags, const analysis_summary *y, unsigned yflags,
                          uint32_t *loc)
{
    uint32_t k = deps_conflict(x, y, loc);
    if (k != ANALYSIS_NONE) return k;
    *loc = ANALYSIS_NONE;
    if ((xflags | yflags) & CHUNK_CALLS_UNKNOWN) return DEP_CALL;
    if ((xflags | yflags) & CHUNK_IS_BARRIER) return DEP_BARRIER;
    if (xflags & CHUNK_HAS_RETURN) return DEP_RETURN;
    return ANALYSIS_NONE;
}

/* --all-deps: every conflicting pair of the n nodes (quadratic, on request only). */
static void put_all_pairs(zx_buf *b, const analysis *a, uint32_t n, const analysis_summary *const *eff,
                          const unsigned *flags, const char *noun)
{
    uint32_t count = 0;
    size_t at = b->len;
    zx_buf_printf(b, "  all conflicting pairs:\n");
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = i + 1; j < n; j++) {
            analysis_edge e = { i, j, 0, ANALYSIS_NONE };
            e.kind = pair_kind(eff[i], flags[i], eff[j], flags[j], &e.loc);
            if (e.kind == ANALYSIS_NONE) continue;
            put_edge(b, a, &e, noun);
            count++;
        }
    if (!count) {
        b->len = at;
        zx_buf_printf(b, "  all conflicting pairs: none\n");
    }
}

static void put_all_chunk_pairs(zx_buf *b, const analysis *a, const analysis_code *ac)
{
    const analysis_summary **eff = malloc((ac->nchunks ? ac->nchunks : 1) * sizeof *eff);
    unsigned *flags = malloc((ac->nchunks ? ac->nchunks : 1) * sizeof *flags);
    if (eff && flags) {
        for (uint32_t k = 0; k < ac->nchunks; k++) {
            eff[k] = &ac->chunks[k].eff;
            flags[k] = ac->chunks[k].flags;
        }
        put_all_pairs(b, a, ac->nchunks, eff, flags, "chunk");
    }
    free(eff);
    free(flags);
}

static void put_all_block_pairs(zx_buf *b, const analysis *a, const analysis_fork *fk)
{
    const analysis_summary **eff = malloc((fk->nblocks ? fk->nblocks : 1) * sizeof *eff);
    unsigned *flags = malloc((fk->nblocks ? fk->nblocks : 1) * sizeof *flags);
    if (eff && flags) {
        for (uint32_t k = 0; k < fk->nblocks; k++) {
            eff[k] = &a->codes[fk->blocks[k]].summary;
            flags[k] = eff[k]->calls_unknown ? CHUNK_CALLS_UNKNOWN : 0;
        }
        put_all_pairs(b, a, fk->nblocks, eff, flags, "block");
    }
    free(eff);
    free(flags);
}

static void put_text(zx_buf *b, const analysis *a, bool all_deps)
{
    zx_buf_printf(b, "chunks of %s (chunk size %d)\n", a->prog->source_name ? a->prog->source_name : "?",
                  a->chunk_size);
    uint32_t *seen = calloc(a->ncodes ? a->ncodes : 1, sizeof *seen), stamp = 0;
    analysis_arena ar;        /* the sets made for display: the analysis is read-only here */
    memset(&ar, 0, sizeof ar);
    for (uint32_t i = 0; i < a->ncodes; i++) {
        const analysis_code *ac = &a->codes[i];
        zx_buf_puts(b, "\n== ");
        put_code_title(b, ac->code);
        zx_buf_printf(b, ": %u chunk%s\n", ac->nchunks, ac->nchunks == 1 ? "" : "s");
        if (i != 0) {
            zx_buf_puts(b, "  summary: ");
            put_summary_with(b, a, &ar, &ac->summary, &ac->fixed_reads);
            zx_buf_printf(b, "%s\n", ac->recursive ? "; recursive" : "");
            if (ac->code->kind == ZX_CODE_ACTION || ac->code->kind == ZX_CODE_LAMBDA) {
                const char *why;
                if (analysis_pmap_parallel_ok(ac, &why)) zx_buf_puts(b, "  as a parallel_map function: runs in parallel\n");
                else zx_buf_printf(b, "  as a parallel_map function: runs sequentially: %s\n", why);
            }
        }
        for (uint32_t k = 0; k < ac->nchunks; k++) {
            const analysis_chunk *ch = &ac->chunks[k];
            zx_buf_printf(b, "  chunk %u: instructions %u-%u, ", k, ch->start, ch->end - 1);
            put_lines(b, ch->first_line, ch->last_line);
            zx_buf_printf(b, ", cost %llu", (unsigned long long)ch->cost);
            static const struct { unsigned flag; const char *word; } marks[] = {
                { CHUNK_HEAVY, "stands alone" }, { CHUNK_HAS_LOOP, "loop" }, { CHUNK_IS_FORK, "fork" },
                { CHUNK_IS_BARRIER, "barrier" }, { CHUNK_CALLS_UNKNOWN, "unresolved call" },
                { CHUNK_HAS_RETURN, "returns" },
            };
            for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++)
                if (ch->flags & marks[m].flag) zx_buf_printf(b, ", %s", marks[m].word);
            zx_buf_puts(b, "\n      ");
            analysis_locset own = { 0, NULL };
            own_fixed_reads(a, &ar, ac, ch->start, ch->end, &own);
            put_summary_with(b, a, &ar, &ch->eff, &own);
            bool first = false;
            put_callees(b, a, ac, ch->start, ch->end, &first, seen, ++stamp);
            zx_buf_puts(b, "\n");
        }
        if (ac->nchunks > 1) {
            zx_buf_printf(b, "  dependencies:%s\n", ac->dag.nedges ? "" : " none");
            for (uint32_t e = 0; e < ac->dag.nedges; e++) put_edge(b, a, &ac->dag.edges[e], "chunk");
            if (all_deps) put_all_chunk_pairs(b, a, ac);
            put_dag_stats(b, &ac->dag, "chunk");
        }
        for (uint32_t f = 0; f < ac->nforks; f++) {
            const analysis_fork *fk = &ac->forks[f];
            zx_buf_printf(b, "  fork at instruction %u: %u blocks:", fk->pc, fk->nblocks);
            for (uint32_t k = 0; k < fk->nblocks; k++) {
                zx_buf_printf(b, "%s block %u = ", k ? "," : "", k);
                put_code_title(b, a->codes[fk->blocks[k]].code);
            }
            zx_buf_printf(b, "\n  block dependencies:%s\n", fk->dag.nedges ? "" : " none (all run concurrently)");
            for (uint32_t e = 0; e < fk->dag.nedges; e++) put_edge(b, a, &fk->dag.edges[e], "block");
            if (all_deps) put_all_block_pairs(b, a, fk);
            put_dag_stats(b, &fk->dag, "block");
        }
        analysis_arena_free(&ar);
    }
    free(seen);
}

/* ---------- Graphviz ---------- */

static void put_dot_string(zx_buf *b, const char *s)
{
    zx_buf_puts(b, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') zx_buf_put(b, "\\", 1);
        if (*s == '\n') zx_buf_puts(b, "\\n");
        else zx_buf_put(b, s, 1);
    }
    zx_buf_puts(b, "\"");
}

static void put_dot_edge_label(zx_buf *b, const analysis *a, const analysis_edge *e)
{
    char label[300];
    if (e->loc != ANALYSIS_NONE)
        snprintf(label, sizeof label, "%s %s", analysis_dep_kind_name((int)e->kind), analysis_loc_name(a, e->loc));
    else
        snprintf(label, sizeof label, "%s", analysis_dep_kind_name((int)e->kind));
    put_dot_string(b, label);
}

static void put_dot(zx_buf *b, const analysis *a)
{
    zx_buf_puts(b, "digraph chunks {\n  compound=true;\n  rankdir=TB;\n");
    zx_buf_puts(b, "  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=10];\n");
    zx_buf_puts(b, "  edge [fontname=\"Helvetica\", fontsize=9];\n");
    for (uint32_t i = 0; i < a->ncodes; i++) {
        const analysis_code *ac = &a->codes[i];
        zx_buf title;
        zx_buf_init(&title);
        put_code_title(&title, ac->code);
        zx_buf_printf(b, "  subgraph cluster_%u {\n    label=", i);
        put_dot_string(b, title.data ? title.data : "");
        zx_buf_free(&title);
        zx_buf_puts(b, ";\n    style=rounded;\n");
        for (uint32_t k = 0; k < ac->nchunks; k++) {
            const analysis_chunk *ch = &ac->chunks[k];
            zx_buf lab;
            zx_buf_init(&lab);
            zx_buf_printf(&lab, "chunk %u\n", k);
            put_lines(&lab, ch->first_line, ch->last_line);
            if (ch->flags & CHUNK_IS_BARRIER) zx_buf_puts(&lab, "\nbarrier");
            else if (ch->flags & CHUNK_IS_FORK) zx_buf_puts(&lab, "\nfork");
            else if (ch->flags & CHUNK_HAS_LOOP) zx_buf_puts(&lab, "\nloop");
            else if (ch->flags & CHUNK_HEAVY) zx_buf_puts(&lab, "\ncostly call");
            if (ch->flags & CHUNK_CALLS_UNKNOWN) zx_buf_puts(&lab, "\nunresolved call");
            zx_buf_printf(b, "    c%u_%u [label=", i, k);
            put_dot_string(b, lab.data ? lab.data : "");
            zx_buf_free(&lab);
            if (ch->flags & CHUNK_HEAVY) zx_buf_puts(b, ", style=\"rounded,filled\", fillcolor=\"#ffe4b5\"");
            if (ch->flags & CHUNK_IS_BARRIER) zx_buf_puts(b, ", shape=hexagon");
            zx_buf_puts(b, "];\n");
        }
        for (uint32_t e = 0; e < ac->dag.nedges; e++) {
            const analysis_edge *ed = &ac->dag.edges[e];
            zx_buf_printf(b, "    c%u_%u -> c%u_%u [label=", i, ed->from, i, ed->to);
            put_dot_edge_label(b, a, ed);
            zx_buf_puts(b, "];\n");
        }
        zx_buf_puts(b, "  }\n");
    }
    /* fork blocks: their order, drawn between the blocks' clusters */
    for (uint32_t i = 0; i < a->ncodes; i++) {
        const analysis_code *ac = &a->codes[i];
        for (uint32_t f = 0; f < ac->nforks; f++) {
            const analysis_fork *fk = &ac->forks[f];
            for (uint32_t k = 0; k < fk->nblocks; k++) {
                for (uint32_t c = 0; c < ac->nchunks; c++) {
                    const analysis_chunk *ch = &ac->chunks[c];
                    if (fk->pc < ch->start || fk->pc >= ch->end) continue;
                    zx_buf_printf(b, "  c%u_%u -> c%u_0 [style=dotted, arrowhead=none, lhead=cluster_%u];\n", i, c,
                                  fk->blocks[k], fk->blocks[k]);
                }
            }
            for (uint32_t e = 0; e < fk->dag.nedges; e++) {
                const analysis_edge *ed = &fk->dag.edges[e];
                uint32_t x = fk->blocks[ed->from], y = fk->blocks[ed->to];
                zx_buf_printf(b, "  c%u_0 -> c%u_0 [style=dashed, ltail=cluster_%u, lhead=cluster_%u, label=", x, y, x, y);
                put_dot_edge_label(b, a, ed);
                zx_buf_puts(b, "];\n");
            }
        }
    }
    zx_buf_puts(b, "}\n");
}

zx_status zx_program_chunks(zx_program *prog, int chunk_size, int flags, char **out)
{
    if (!prog || !out) return ZX_E_ARGUMENT;
    analysis *a = zx_vm_analysis_build(prog, chunk_size);
    if (!a) {
        if (prog->vm) zx_vm_set_error(prog->vm, "%s: error: out of memory", prog->source_name);
        return ZX_E_MEMORY;
    }
    zx_buf b;
    zx_buf_init(&b);
    if (flags & ZX_CHUNKS_DOT) put_dot(&b, a);
    else put_text(&b, a, (flags & ZX_CHUNKS_ALL_DEPS) != 0);
    analysis_free(a);
    zx_buf_put(&b, "", 1);
    if (!b.data) return ZX_E_MEMORY;
    *out = b.data;
    return ZX_OK;
}

/* ---------- running chunks in a chosen order (tests) ---------- */

static int discard_output(void *ud, const char *data, size_t len)
{
    (void)ud;
    (void)data;
    (void)len;
    return 0;
}

zx_status zx_vm_run_chunk_order(zx_program *p, const uint32_t *order, uint32_t n, char **output,
                                char **globals_dump)
{
    if (!p || !p->vm || (!order && n) || !output || !globals_dump) return ZX_E_ARGUMENT;
    analysis *a = zx_vm_analysis_build(p, 0);
    if (!a) return ZX_E_MEMORY;
    const analysis_code *m = &a->codes[0];
    zx_status st = ZX_OK;
    for (uint32_t i = 0; i < n; i++)
        if (order[i] >= m->nchunks) st = ZX_E_ARGUMENT;
    zx_run run;
    if (st == ZX_OK) st = zx_run_init(&run, p);
    if (st != ZX_OK) {
        analysis_free(a);
        return st;
    }
    run.output = discard_output;       /* nothing reaches the sink: every chunk keeps its own */
    run.output_userdata = NULL;
    zx_buf *outs = calloc(m->nchunks ? m->nchunks : 1, sizeof *outs);
    zx_task t;
    zx_task_init(&t, &run, NULL);
    t.is_root = 0;
    zx_frame *f = outs ? zx_frame_push(&t, p->main, NULL, NULL, 0, NULL) : NULL;
    if (!f) {
        st = outs ? t.status : ZX_E_MEMORY;
        if (st == ZX_OK) st = ZX_E_MEMORY;
    }
    for (uint32_t i = 0; f && i < n && st == ZX_OK; i++) {
        const analysis_chunk *ch = &m->chunks[order[i]];
        f->pc = ch->start;
        st = zx_interp_exec(&t, f, ch->end, NULL);
        zx_buf_put(&outs[order[i]], t.out.data ? t.out.data : "", t.out.len);
        t.out.len = 0;
    }
    zx_buf all, globals;
    zx_buf_init(&all);
    zx_buf_init(&globals);
    for (uint32_t k = 0; outs && k < m->nchunks; k++) zx_buf_put(&all, outs[k].data ? outs[k].data : "", outs[k].len);
    zx_buf_put(&all, "", 1);
    for (uint32_t g = 0; g < p->nglobals; g++) {
        zx_buf_printf(&globals, "%s = ", p->globals[g].name);
        if (run.gvar[g]->tag == ZX_T_UNDEF) zx_buf_puts(&globals, "<undefined>");
        else zx_format_value(&globals, *run.gvar[g]);
        zx_buf_puts(&globals, "\n");
    }
    zx_buf_put(&globals, "", 1);
    if (f) zx_frame_pop(&t, f);
    for (uint32_t k = 0; outs && k < m->nchunks; k++) zx_buf_free(&outs[k]);
    free(outs);
    zx_task_fini(&t);
    zx_run_fini(&run);
    analysis_free(a);
    *output = all.data;
    *globals_dump = globals.data;
    return st;
}
