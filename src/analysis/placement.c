/* placement.c — the partition rule: which NUMA partition each global of a run lives in, and its report. */
#include "analysis/placement.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define WRITER_NONE (-1)          /* no chunk writes the global */
#define WRITER_MANY (-2)          /* written from several nodes */
#define GROUP_UNWRITTEN UINT32_MAX

typedef struct layout {
    const zx_program *prog;
    const topo *t;
    int *used;                    /* the NUMA nodes in use, in worker order */
    int nused;
    const analysis *a;
    const analysis_code *ac;      /* the top level's chunks */
    int *chunk_node;              /* per chunk: index into used[] */
    int *writer;                  /* per global: index into used[], WRITER_NONE or WRITER_MANY */
    uint32_t *first_writer;       /* per global: its first counted writer chunk */
    uint8_t *fork_written;        /* per global */
} layout;

/* The nodes of the workers' cores, each once. */
static bool nodes_in_use(layout *L, int workers)
{
    int nodes = topo_numa_nodes(L->t);
    L->used = calloc(nodes > 0 ? (size_t)nodes : 1, sizeof *L->used);
    if (!L->used) return false;
    for (int w = 0; w < workers && L->nused < nodes; w++) {
        int node = topo_worker_node(L->t, w), k = 0;
        while (k < L->nused && L->used[k] != node) k++;
        if (k == L->nused && node >= 0) L->used[L->nused++] = node;
    }
    return true;
}

static _Thread_local const analysis_chunk *g_sort_chunks;

static int cost_desc(const void *x, const void *y)
{
    uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;
    uint64_t ci = g_sort_chunks[i].cost, cj = g_sort_chunks[j].cost;
    if (ci != cj) return ci > cj ? -1 : 1;
    return i < j ? -1 : i > j;   /* program order among equals */
}

/* Step 2: level by level, each level's chunks costliest first onto the node with the least
 * cost so far (all levels counted: a level's one heavy chunk goes where the least work is). */
static bool assign_chunk_nodes(layout *L)
{
    const analysis_code *ac = L->ac;
    uint32_t n = ac->nchunks;
    uint32_t *level = calloc(n ? n : 1, sizeof *level), *order = calloc(n ? n : 1, sizeof *order);
    uint64_t *load = calloc((size_t)L->nused, sizeof *load);
    L->chunk_node = calloc(n ? n : 1, sizeof *L->chunk_node);
    bool ok = level && order && load && L->chunk_node;
    uint32_t top = 0;
    for (uint32_t i = 0; ok && i < n; i++) {       /* edges go forward: one pass in order */
        for (uint32_t e = ac->dag.succ_offsets[i]; e < ac->dag.succ_offsets[i + 1]; e++) {
            uint32_t j = ac->dag.succs[e];
            if (level[j] < level[i] + 1) level[j] = level[i] + 1;
        }
        if (level[i] > top) top = level[i];
    }
    /* chunks grouped by level (a counting sort: O(n + levels)), program order within one */
    uint32_t *first = ok ? calloc((size_t)top + 2, sizeof *first) : NULL;
    ok = ok && first;
    for (uint32_t i = 0; ok && i < n; i++) first[level[i] + 1]++;
    for (uint32_t lv = 0; ok && lv <= top; lv++) first[lv + 1] += first[lv];
    for (uint32_t i = 0; ok && i < n; i++) order[first[level[i]]++] = i;
    for (uint32_t lv = top + 1; ok && lv > 0; lv--) first[lv] = first[lv - 1];
    if (ok) first[0] = 0;
    for (uint32_t lv = 0; ok && lv <= top; lv++) {
        uint32_t *o = order + first[lv], m = first[lv + 1] - first[lv];
        /* by cost, descending; program order among equals (a stable sort) */
        g_sort_chunks = ac->chunks;
        qsort(o, m, sizeof *o, cost_desc);
        for (uint32_t x = 0; x < m; x++) {
            int best = 0;
            for (int k = 1; k < L->nused; k++)
                if (load[k] < load[best]) best = k;
            L->chunk_node[o[x]] = best;
            load[best] = analysis_cost_add(load[best], ac->chunks[o[x]].cost ? ac->chunks[o[x]].cost : 1);
        }
    }
    free(first);
    free(level);
    free(order);
    free(load);
    return ok;
}

/* Step 3: the counted writers of every global and the nodes they run on. */
static bool find_writers(layout *L)
{
    uint32_t ng = L->prog->nglobals;
    const analysis_code *ac = L->ac;
    uint8_t *heavy = calloc(ng ? ng : 1, 1);
    L->writer = malloc((ng ? ng : 1) * sizeof *L->writer);
    L->first_writer = malloc((ng ? ng : 1) * sizeof *L->first_writer);
    L->fork_written = calloc(ng ? ng : 1, 1);
    if (!heavy || !L->writer || !L->first_writer || !L->fork_written) {
        free(heavy);
        return false;
    }
    for (uint32_t g = 0; g < ng; g++) {
        L->writer[g] = WRITER_NONE;
        L->first_writer[g] = GROUP_UNWRITTEN;
    }
    analysis_locset_iter it;
    uint32_t g;
    for (uint32_t i = 0; i < ac->nchunks; i++) {
        if (!(ac->chunks[i].flags & CHUNK_HEAVY)) continue;
        analysis_locset_iter_init(&it, &ac->chunks[i].eff.writes);
        while (analysis_locset_next(&it, &g) && g < ng) heavy[g] = 1;
    }
    for (uint32_t i = 0; i < ac->nchunks; i++) {
        const analysis_chunk *ch = &ac->chunks[i];
        bool is_heavy = (ch->flags & CHUNK_HEAVY) != 0;
        analysis_locset_iter_init(&it, &ch->eff.writes);
        while (analysis_locset_next(&it, &g) && g < ng) {
            if (heavy[g] && !is_heavy) continue;
            if (L->writer[g] == WRITER_NONE) {
                L->writer[g] = L->chunk_node[i];
                L->first_writer[g] = i;
            } else if (L->writer[g] != L->chunk_node[i]) {
                L->writer[g] = WRITER_MANY;
            }
        }
    }
    /* location sets are sorted: globals come first */
    for (uint32_t c = 0; c < L->a->ncodes; c++) {
        const analysis_code *fc = &L->a->codes[c];
        if (fc->code->kind != ZX_CODE_FORK) continue;
        analysis_locset_iter_init(&it, &fc->summary.writes);
        while (analysis_locset_next(&it, &g) && g < ng) L->fork_written[g] = 1;
    }
    free(heavy);
    return true;
}

static const char *memory_name(int m)
{
    return m == PARTITION_BOUND ? "bound" : m == PARTITION_INTERLEAVED ? "interleaved" : "plain";
}

static void json_name(zx_buf *b, const char *s)
{
    zx_buf_puts(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') zx_buf_printf(b, "\\%c", c);
        else if (c < 0x20) zx_buf_printf(b, "\\u%04x", c);
        else zx_buf_put(b, s, 1);
    }
    zx_buf_puts(b, "\"");
}

#define TEXT_NAMES_MAX 8          /* names per partition on the text line */

placement_layout *placement_build(const zx_program *p, const analysis *a, const placement_options *o)
{
    uint32_t ng = p->nglobals;
    layout L;
    memset(&L, 0, sizeof L);
    L.prog = p;
    L.t = o->topo;
    placement_layout *res = calloc(1, sizeof *res);
    uint8_t *shared = calloc(ng ? ng : 1, 1);
    partition_place *place = NULL;
    int *nodes = NULL, *part_of_used = NULL;
    bool ok = false;
    if (!res || !shared) goto out;
    for (uint32_t g = 0; g < ng; g++) shared[g] = p->globals[g].is_shared;

    /* unpinned workers float over every node: only the interleaved home partition fits */
    if (L.t && o->pin && !nodes_in_use(&L, o->workers)) goto out;
    L.a = L.t && L.nused > 0 ? a : NULL;
    L.ac = L.a ? analysis_code_of(L.a, p->main) : NULL;
    if (!L.ac) {
        /* no rule to apply (sequential, or no topology): one partition, shared globals padded */
        ok = true;
        goto out;
    }
    if (!assign_chunk_nodes(&L) || !find_writers(&L)) goto out;
    place = calloc(ng ? ng : 1, sizeof *place);
    if (!place) goto out;

    /* partitions: the nodes in use that hold a variable, then home; one node in use: one
     * partition, bound to it */
    bool single = L.nused == 1;
    part_of_used = calloc((size_t)L.nused, sizeof *part_of_used);
    nodes = calloc((size_t)L.nused + 1, sizeof *nodes);
    if (!part_of_used || !nodes) goto out;
    uint32_t nparts = 0;
    if (!single) {
        for (int k = 0; k < L.nused; k++) {
            bool any = false;
            for (uint32_t g = 0; g < ng && !any; g++)
                any = !shared[g] && !L.fork_written[g] && L.writer[g] == k;
            part_of_used[k] = any ? (int)nparts : -1;
            if (any) nodes[nparts++] = L.used[k];
        }
    }
    uint32_t home = nparts;
    nodes[nparts++] = single ? L.used[0] : ZX_PARTITION_HOME;
    for (uint32_t g = 0; g < ng; g++) {
        partition_place *pl = &place[g];
        pl->part = home;
        if (shared[g] || L.fork_written[g] || L.writer[g] == WRITER_MANY) {
            pl->padded = 1;
        } else if (L.writer[g] == WRITER_NONE) {
            pl->group = GROUP_UNWRITTEN;
        } else {
            if (!single) pl->part = (uint32_t)part_of_used[L.writer[g]];
            pl->group = L.first_writer[g];
        }
    }
    res->place = place;
    res->nodes = nodes;
    res->nparts = nparts;
    place = NULL;
    nodes = NULL;
    res->nchunks = L.ac->nchunks;
    res->chunk_node = calloc(res->nchunks ? res->nchunks : 1, sizeof *res->chunk_node);
    if (!res->chunk_node) goto out;
    for (uint32_t i = 0; i < res->nchunks; i++) res->chunk_node[i] = L.used[L.chunk_node[i]];
    ok = true;
out:
    if (ok) {
        res->nglobals = ng;
        res->shared = shared;
        res->topo = L.t;
        res->used = L.used;
        res->nused = L.nused;
        shared = NULL;
        L.used = NULL;
    } else {
        placement_free(res);
        res = NULL;
    }
    free(L.used);
    free(L.chunk_node);
    free(L.writer);
    free(L.first_writer);
    free(L.fork_written);
    free(part_of_used);
    free(nodes);
    free(shared);
    free(place);
    return res;
}

void placement_free(placement_layout *pl)
{
    if (!pl) return;
    free(pl->shared);
    free(pl->place);
    free(pl->nodes);
    free(pl->used);
    free(pl->chunk_node);
    free(pl);
}

zx_partitions *placement_partitions(const placement_layout *pl)
{
    return partitions_create(pl->topo, pl->nglobals, pl->shared, pl->place, pl->nodes, pl->nparts);
}

void placement_report(const placement_layout *pl, const zx_program *prog, const zx_partitions *ps, zx_buf *j, zx_buf *x)
{
    j->len = x->len = 0;
    zx_buf_puts(j, "{\"nodes_in_use\":[");
    for (int k = 0; k < pl->nused; k++) zx_buf_printf(j, "%s%d", k ? "," : "", pl->used[k]);
    zx_buf_puts(j, "],\"chunk_nodes\":[");
    for (uint32_t i = 0; i < pl->nchunks; i++) zx_buf_printf(j, "%s%d", i ? "," : "", pl->chunk_node[i]);
    zx_buf_puts(j, "],\"list\":[");
    zx_buf_puts(x, "partitions:");
    for (uint32_t p = 0; p < ps->nparts; p++) {
        const partition *part = &ps->parts[p];
        char name[32];
        if (part->node == ZX_PARTITION_HOME) snprintf(name, sizeof name, "home");
        else snprintf(name, sizeof name, "node %d", part->node);
        zx_buf_printf(j, "%s{\"partition\":\"%s\",\"node\":", p ? "," : "", name);
        if (part->node == ZX_PARTITION_HOME) zx_buf_puts(j, "null");
        else zx_buf_printf(j, "%d", part->node);
        zx_buf_printf(j, ",\"memory\":\"%s\",\"bytes\":%zu,\"variables\":[", memory_name(part->memory), part->bytes);
        zx_buf_printf(x, "%s %s (%s, %zu B):", p ? ";" : "", name, memory_name(part->memory), part->bytes);
        uint32_t k = 0;
        for (uint32_t g = 0; g < ps->n; g++) {
            if (ps->part_of[g] != p) continue;
            if (k) zx_buf_puts(j, ",");
            json_name(j, prog->globals[g].name);
            if (k < TEXT_NAMES_MAX) zx_buf_printf(x, "%s %s", k ? "," : "", prog->globals[g].name);
            k++;
        }
        if (k > TEXT_NAMES_MAX) zx_buf_printf(x, " and %u more", k - TEXT_NAMES_MAX);
        if (!k) zx_buf_puts(x, " -");
        zx_buf_puts(j, "]}");
    }
    zx_buf_puts(j, "]}");
    zx_buf_puts(x, "\n");
}

