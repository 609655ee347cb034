/* analysis.c — builds a program's analysis, and the shared pieces: location sets, names, DAG finishing. */
#include "analysis/analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/builtins.h"

/* ---------- location sets: Patricia tries with bitmap leaves ---------- */

/*
 * A node is a leaf (mask 0): the ids prefix + i for every bit i of `bits`, prefix a multiple
 * of 64; or a branch: every id below it agrees with `prefix` on the bits above `mask` (one
 * bit, 64 or more), those with the mask bit clear are in `left`, the others in `right`, both
 * non-empty.  The shape is a function of the set alone.  Operations return an input node
 * unchanged wherever the result equals it, so results share their inputs' subtrees.
 */
struct analysis_locnode {
    uint32_t prefix, mask, size;
    union {
        uint64_t bits;
        struct {
            const analysis_locnode *left, *right;
        } kids;
    } u;
};

typedef const analysis_locnode lnode;

struct analysis_arena_block {
    struct analysis_arena_block *next;
};

#define ARENA_BLOCK (64u * 1024u)

static analysis_locnode *arena_node(analysis_arena *ar)
{
    size_t need = sizeof(analysis_locnode);
    if (ar->oom) return NULL;
    if ((size_t)(ar->end - ar->at) < need) {
        struct analysis_arena_block *b = malloc(ARENA_BLOCK);
        if (!b) {
            ar->oom = true;
            return NULL;
        }
        b->next = ar->blocks;
        ar->blocks = b;
        ar->bytes += ARENA_BLOCK;
        /* nodes start after the header, aligned like the node */
        size_t head = (sizeof *b + _Alignof(analysis_locnode) - 1) / _Alignof(analysis_locnode) *
                      _Alignof(analysis_locnode);
        ar->at = (char *)b + head;
        ar->end = (char *)b + ARENA_BLOCK;
    }
    analysis_locnode *n = (analysis_locnode *)(void *)ar->at;
    ar->at += need;
    return n;
}

void analysis_arena_free(analysis_arena *ar)
{
    while (ar->blocks) {
        struct analysis_arena_block *b = ar->blocks;
        ar->blocks = b->next;
        free(b);
    }
    memset(ar, 0, sizeof *ar);
}

#define LEAF_BASE(id) ((id) & ~63u)

static lnode *ln_leaf(analysis_arena *ar, uint32_t base, uint64_t bits)
{
    analysis_locnode *n = arena_node(ar);
    if (!n) return NULL;
    n->prefix = base;
    n->mask = 0;
    n->size = (uint32_t)__builtin_popcountll(bits);
    n->u.bits = bits;
    return n;
}

static lnode *ln_branch(analysis_arena *ar, uint32_t prefix, uint32_t mask, lnode *l, lnode *r)
{
    analysis_locnode *n = arena_node(ar);
    if (!n) return NULL;
    n->prefix = prefix;
    n->mask = mask;
    n->size = l->size + r->size;
    n->u.kids.left = l;
    n->u.kids.right = r;
    return n;
}

/* The bits of k above mask m (m one bit). */
static uint32_t ln_mask(uint32_t k, uint32_t m) { return k & (~(m - 1) ^ m); }

static bool ln_match(uint32_t k, lnode *t) { return ln_mask(k, t->mask) == t->prefix; }

static uint32_t ln_highbit(uint32_t x) { return 1u << (31 - __builtin_clz(x)); }

/* A branch with children l and r (either may be empty); `a` or `b` itself when it has them. */
static lnode *ln_bin(analysis_arena *ar, lnode *a, lnode *b, uint32_t prefix, uint32_t mask, lnode *l, lnode *r)
{
    if (!l) return r;
    if (!r) return l;
    if (a && a->u.kids.left == l && a->u.kids.right == r) return a;
    if (b && b->u.kids.left == l && b->u.kids.right == r) return b;
    return ln_branch(ar, prefix, mask, l, r);
}

/* Two non-empty tries with disjoint prefixes p1 (of t1) and p2 (of t2). */
static lnode *ln_link(analysis_arena *ar, uint32_t p1, lnode *t1, uint32_t p2, lnode *t2)
{
    uint32_t m = ln_highbit(p1 ^ p2);
    if (m < 64) m = 64;   /* cannot happen: leaf prefixes differ above bit 5 */
    uint32_t p = ln_mask(p1, m);
    return (p1 & m) ? ln_branch(ar, p, m, t2, t1) : ln_branch(ar, p, m, t1, t2);
}

static lnode *ln_union(analysis_arena *ar, lnode *a, lnode *b)
{
    if (a == b || !b) return a;
    if (!a) return b;
    if (!a->mask && !b->mask) {
        if (a->prefix != b->prefix) return ln_link(ar, a->prefix, a, b->prefix, b);
        uint64_t bits = a->u.bits | b->u.bits;
        return bits == a->u.bits ? a : bits == b->u.bits ? b : ln_leaf(ar, a->prefix, bits);
    }
    if (a->mask < b->mask) {   /* b covers more: descend b (a leaf has mask 0) */
        lnode *t = a;
        a = b;
        b = t;
    }
    if (a->mask > b->mask) {
        if (!ln_match(b->prefix, a)) return ln_link(ar, a->prefix, a, b->prefix, b);
        if (b->prefix & a->mask)
            return ln_bin(ar, a, NULL, a->prefix, a->mask, a->u.kids.left, ln_union(ar, a->u.kids.right, b));
        return ln_bin(ar, a, NULL, a->prefix, a->mask, ln_union(ar, a->u.kids.left, b), a->u.kids.right);
    }
    if (a->prefix != b->prefix) return ln_link(ar, a->prefix, a, b->prefix, b);
    return ln_bin(ar, a, b, a->prefix, a->mask, ln_union(ar, a->u.kids.left, b->u.kids.left),
                  ln_union(ar, a->u.kids.right, b->u.kids.right));
}

static lnode *ln_inter(analysis_arena *ar, lnode *a, lnode *b)
{
    if (!a || !b) return NULL;
    if (a == b) return a;
    if (!a->mask && !b->mask) {
        if (a->prefix != b->prefix) return NULL;
        uint64_t bits = a->u.bits & b->u.bits;
        return !bits ? NULL : bits == a->u.bits ? a : bits == b->u.bits ? b : ln_leaf(ar, a->prefix, bits);
    }
    if (a->mask < b->mask) {
        lnode *t = a;
        a = b;
        b = t;
    }
    if (a->mask > b->mask) {
        if (!ln_match(b->prefix, a)) return NULL;
        return ln_inter(ar, (b->prefix & a->mask) ? a->u.kids.right : a->u.kids.left, b);
    }
    if (a->prefix != b->prefix) return NULL;
    return ln_bin(ar, a, b, a->prefix, a->mask, ln_inter(ar, a->u.kids.left, b->u.kids.left),
                  ln_inter(ar, a->u.kids.right, b->u.kids.right));
}

static uint32_t ln_min(lnode *t)
{
    while (t->mask) t = t->u.kids.left;
    return t->prefix + (uint32_t)__builtin_ctzll(t->u.bits);
}

static uint32_t ln_common(lnode *a, lnode *b)
{
    if (!a || !b) return ANALYSIS_NONE;
    if (a == b) return ln_min(a);
    if (!a->mask && !b->mask) {
        uint64_t bits = a->prefix == b->prefix ? a->u.bits & b->u.bits : 0;
        return bits ? a->prefix + (uint32_t)__builtin_ctzll(bits) : ANALYSIS_NONE;
    }
    if (a->mask < b->mask) {
        lnode *t = a;
        a = b;
        b = t;
    }
    if (a->mask > b->mask) {
        if (!ln_match(b->prefix, a)) return ANALYSIS_NONE;
        return ln_common((b->prefix & a->mask) ? a->u.kids.right : a->u.kids.left, b);
    }
    if (a->prefix != b->prefix) return ANALYSIS_NONE;
    uint32_t x = ln_common(a->u.kids.left, b->u.kids.left);
    return x != ANALYSIS_NONE ? x : ln_common(a->u.kids.right, b->u.kids.right);
}

/* The ids in [lo, hi) left out of t. */
static lnode *ln_drop(analysis_arena *ar, lnode *t, uint32_t lo, uint32_t hi)
{
    if (!t) return NULL;
    uint64_t first = t->prefix, last = t->mask ? first + 2ull * t->mask - 1 : first + 63;
    if (last < lo || first >= hi) return t;
    if (first >= lo && last < hi) return NULL;
    if (!t->mask) {
        uint64_t bits = t->u.bits;
        for (uint32_t i = 0; i < 64; i++)
            if (first + i >= lo && first + i < hi) bits &= ~(1ull << i);
        return bits == t->u.bits ? t : bits ? ln_leaf(ar, t->prefix, bits) : NULL;
    }
    return ln_bin(ar, t, NULL, t->prefix, t->mask, ln_drop(ar, t->u.kids.left, lo, hi),
                  ln_drop(ar, t->u.kids.right, lo, hi));
}

/* The trie of leaves[0..n-1], sorted by prefix, prefixes distinct: no node but its own. */
static lnode *ln_build(analysis_arena *ar, lnode **leaves, uint32_t n)
{
    if (n == 1) return leaves[0];
    uint32_t m = ln_highbit(leaves[0]->prefix ^ leaves[n - 1]->prefix);
    uint32_t lo = 1, hi = n - 1;   /* the first leaf with bit m set: leaves[n - 1] has it */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (leaves[mid]->prefix & m) hi = mid;
        else lo = mid + 1;
    }
    lnode *l = ln_build(ar, leaves, lo), *r = ln_build(ar, leaves + lo, n - lo);
    return l && r ? ln_branch(ar, ln_mask(leaves[0]->prefix, m), m, l, r) : NULL;
}

/* Every public operation: the new root into s, unless an allocation failed. */
static bool locset_set(analysis_arena *ar, analysis_locset *s, lnode *t)
{
    if (ar->oom) return false;
    s->root = t;
    s->n = t ? t->size : 0;
    return true;
}

bool analysis_locset_add(analysis_arena *ar, analysis_locset *s, uint32_t id)
{
    if (analysis_locset_has(s, id)) return true;
    lnode *leaf = ln_leaf(ar, LEAF_BASE(id), 1ull << (id & 63));
    return leaf && locset_set(ar, s, ln_union(ar, s->root, leaf));
}

bool analysis_locset_union(analysis_arena *ar, analysis_locset *s, const analysis_locset *o)
{
    return locset_set(ar, s, ln_union(ar, s->root, o->root));
}

bool analysis_locset_inter(analysis_arena *ar, analysis_locset *out, const analysis_locset *x,
                           const analysis_locset *y)
{
    return locset_set(ar, out, ln_inter(ar, x->root, y->root));
}

bool analysis_locset_add_sorted(analysis_arena *ar, analysis_locset *s, const uint32_t *ids, uint32_t n)
{
    if (!n) return true;
    uint32_t nleaves = 0;
    for (uint32_t i = 0; i < n; i++) nleaves += !i || LEAF_BASE(ids[i]) != LEAF_BASE(ids[i - 1]);
    lnode **leaves = malloc((size_t)nleaves * sizeof *leaves);
    if (!leaves) return false;
    uint32_t k = 0;
    for (uint32_t i = 0; i < n && !ar->oom;) {
        uint32_t base = LEAF_BASE(ids[i]);
        uint64_t bits = 0;
        for (; i < n && LEAF_BASE(ids[i]) == base; i++) bits |= 1ull << (ids[i] & 63);
        leaves[k++] = ln_leaf(ar, base, bits);
    }
    lnode *t = ar->oom ? NULL : ln_build(ar, leaves, nleaves);
    free(leaves);
    return !ar->oom && locset_set(ar, s, ln_union(ar, s->root, t));
}

bool analysis_locset_drop_range(analysis_arena *ar, analysis_locset *s, uint32_t lo, uint32_t hi)
{
    return lo >= hi || locset_set(ar, s, ln_drop(ar, s->root, lo, hi));
}

bool analysis_locset_has(const analysis_locset *s, uint32_t id)
{
    lnode *t = s->root;
    while (t && t->mask) {
        if (!ln_match(id, t)) return false;
        t = (id & t->mask) ? t->u.kids.right : t->u.kids.left;
    }
    return t && t->prefix == LEAF_BASE(id) && (t->u.bits >> (id & 63) & 1);
}

uint32_t analysis_locset_common(const analysis_locset *x, const analysis_locset *y)
{
    return ln_common(x->root, y->root);
}

void analysis_locset_iter_init(analysis_locset_iter *it, const analysis_locset *s)
{
    it->sp = 0;
    it->bits = 0;
    it->base = 0;
    if (s->root) it->stack[it->sp++] = s->root;
}

bool analysis_locset_next(analysis_locset_iter *it, uint32_t *id)
{
    while (!it->bits) {
        if (!it->sp) return false;
        lnode *t = it->stack[--it->sp];
        while (t->mask) {   /* depth is at most 27: the stack never overflows */
            it->stack[it->sp++] = t->u.kids.right;
            t = t->u.kids.left;
        }
        it->base = t->prefix;
        it->bits = t->u.bits;
    }
    *id = it->base + (uint32_t)__builtin_ctzll(it->bits);
    it->bits &= it->bits - 1;
    return true;
}

/* ---------- summaries and costs ---------- */

uint64_t analysis_cost_add(uint64_t x, uint64_t y)
{
    uint64_t r = x + y;
    return r < x ? UINT64_MAX : r;
}

uint64_t analysis_cost_mul(uint64_t x, uint64_t y)
{
    if (x && y > UINT64_MAX / x) return UINT64_MAX;
    return x * y;
}

bool analysis_summary_union(analysis_arena *ar, analysis_summary *s, const analysis_summary *o)
{
    analysis_summary t = *s;
    if (!analysis_locset_union(ar, &t.reads, &o->reads) || !analysis_locset_union(ar, &t.writes, &o->writes) ||
        !analysis_locset_union(ar, &t.updates, &o->updates))
        return false;
    *s = t;
    s->reads_heap |= o->reads_heap;
    s->writes_heap |= o->writes_heap;
    s->this_reads |= o->this_reads;
    s->this_writes |= o->this_writes;
    s->calls_unknown |= o->calls_unknown;
    s->may_raise |= o->may_raise;
    s->has_output |= o->has_output;
    s->loops_or_recurses |= o->loops_or_recurses;
    s->cost = analysis_cost_add(s->cost, o->cost);
    s->ordered_fx |= o->ordered_fx;
    for (int k = 0; k < ANALYSIS_FX_KINDS; k++)
        if (!s->fx_builtin[k]) s->fx_builtin[k] = o->fx_builtin[k];
    return true;
}

/* ---------- names ---------- */

const char *analysis_dep_kind_name(int kind)
{
    switch (kind) {
    case DEP_RAW: return "RAW";
    case DEP_WAR: return "WAR";
    case DEP_WAW: return "WAW";
    case DEP_HEAP: return "heap";
    case DEP_CALL: return "call";
    case DEP_BARRIER: return "barrier";
    case DEP_RETURN: return "return";
    case DEP_EFFECT: return "effect";
    default: return "?";
    }
}

static const struct { unsigned bit; const char *words; } fx_kinds[ANALYSIS_FX_KINDS] = {
    { ZX_FX_WRITES_FILES, "writes files" }, { ZX_FX_READS_FILES, "reads files" },
    { ZX_FX_CLOCK, "reads the clock" }, { ZX_FX_RANDOM, "uses the random state" }, { ZX_FX_SLEEPS, "sleeps" },
};
_Static_assert((ZX_FX_WRITES_FILES | ZX_FX_READS_FILES | ZX_FX_CLOCK | ZX_FX_RANDOM | ZX_FX_SLEEPS) == ZX_FX_ORDERED,
               "one kind per bit of ZX_FX_ORDERED");

unsigned analysis_fx_bit(int k) { return k >= 0 && k < ANALYSIS_FX_KINDS ? fx_kinds[k].bit : 0; }

void analysis_fx_describe(const analysis_summary *s, char *buf, size_t size)
{
    size_t n = 0;
    if (size) buf[0] = '\0';
    for (int k = 0; k < ANALYSIS_FX_KINDS && n < size; k++) {
        if (!(s->ordered_fx & fx_kinds[k].bit)) continue;
        const char *name = s->fx_builtin[k] ? zx_builtin_name(s->fx_builtin[k] - 1) : NULL;
        int w = snprintf(buf + n, size - n, "%s%s%s%s%s", n ? ", " : "", fx_kinds[k].words, name ? " (" : "",
                         name ? name : "", name ? ")" : "");
        if (w < 0) break;
        n += (size_t)w;
    }
}

const char *analysis_loc_name(const analysis *a, uint32_t loc)
{
    if (loc < a->prog->nglobals) return a->prog->globals[loc].name;
    if (loc >= a->nlocs && loc - a->nlocs < a->nobjs) return a->prog->globals[a->obj_global[loc - a->nlocs]].name;
    if (loc >= a->nlocs) return "?";
    const analysis_code *ac = &a->codes[a->loc_code[loc]];
    return ac->code->local_names[loc - ac->loc_base];
}

static void describe_code(const zx_code *c, char *buf, size_t size)
{
    switch ((int)c->kind) {
    case ZX_CODE_MAIN: snprintf(buf, size, "the top level"); return;
    case ZX_CODE_ACTION: snprintf(buf, size, "action '%s'", c->name ? c->name : "?"); return;
    case ZX_CODE_LAMBDA: snprintf(buf, size, "the lambda at line %u", c->pos.line); return;
    case ZX_CODE_FORK: snprintf(buf, size, "the fork block at line %u", c->pos.line); return;
    default: snprintf(buf, size, "code '%s'", c->name ? c->name : "?"); return;
    }
}

void analysis_loc_describe(const analysis *a, uint32_t loc, char *buf, size_t size)
{
    if (loc < a->prog->nglobals) {
        const zx_global *g = &a->prog->globals[loc];
        snprintf(buf, size, "%s '%s'", g->is_shared ? "shared global" : "global", g->name);
        return;
    }
    if (loc >= a->nlocs && loc - a->nlocs < a->nobjs) {
        snprintf(buf, size, "fields of '%s'", a->prog->globals[a->obj_global[loc - a->nlocs]].name);
        return;
    }
    if (loc >= a->nlocs) {
        snprintf(buf, size, "location %u", loc);
        return;
    }
    const analysis_code *ac = &a->codes[a->loc_code[loc]];
    uint32_t slot = loc - ac->loc_base;
    const char *name = ac->code->local_names[slot];
    char where[160];
    describe_code(ac->code, where, sizeof where);
    if (ac->code->local_is_cell && ac->code->local_is_cell[slot])
        snprintf(buf, size, "captured variable '%s' of %s", name, where);
    else if (name[0] == '$')
        snprintf(buf, size, "loop temporary '%s' of %s", name, where);
    else
        snprintf(buf, size, "local '%s' of %s", name, where);
}

/* ---------- lookups ---------- */

static uint32_t ptr_hash(const void *p, uint32_t cap)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (uint32_t)x & (cap - 1);
}

const analysis_code *analysis_code_of(const analysis *a, const zx_code *c)
{
    if (!a || !c || !a->hash) return NULL;
    for (uint32_t h = ptr_hash(c, a->hash_cap);; h = (h + 1) & (a->hash_cap - 1)) {
        uint32_t id = a->hash[h];
        if (id == ANALYSIS_NONE) return NULL;
        if (a->codes[id].code == c) return &a->codes[id];
    }
}

bool analysis_pmap_parallel_ok(const analysis_code *fn, const char **reason)
{
    if (!fn) {
        if (reason) *reason = "the function is not a code object of this program";
        return false;
    }
    if (fn->pmap_reason) {
        if (reason) *reason = fn->pmap_reason;
        return false;
    }
    if (reason) *reason = NULL;
    return true;
}

/* ---------- DAGs ---------- */

static int edge_cmp(const void *x, const void *y)
{
    const analysis_edge *e = x, *f = y;
    if (e->from != f->from) return e->from < f->from ? -1 : 1;
    if (e->to != f->to) return e->to < f->to ? -1 : 1;
    return 0;
}

/* Above this many nodes, or this many edges times bitset words, the CSR keeps every edge
 * instead of the transitive reduction (the ancestor bitsets cost n*n/8 bytes and every edge
 * an OR of n/64 words): the reduction only saves the scheduler a few counter decrements,
 * and the edges made per location are few already. */
#define DAG_REDUCE_MAX 8192u
#define DAG_REDUCE_WORK (1ull << 24)

bool analysis_dag_finish(analysis_dag *d, const uint64_t *cost)
{
    bool ok = false;
    uint32_t n = d->n;
    uint64_t *anc = NULL;
    uint8_t *keep = NULL;
    uint32_t *pred_off = NULL, *preds = NULL, *best = NULL;
    uint64_t *longest = NULL;
    if (d->nedges) qsort(d->edges, d->nedges, sizeof *d->edges, edge_cmp);
    d->succ_offsets = calloc((size_t)n + 1, sizeof *d->succ_offsets);
    d->npreds = calloc(n ? n : 1, sizeof *d->npreds);
    keep = malloc(d->nedges ? d->nedges : 1);
    pred_off = calloc((size_t)n + 1, sizeof *pred_off);
    preds = malloc((d->nedges ? d->nedges : 1) * sizeof *preds);   /* edge indices by target */
    if (!d->succ_offsets || !d->npreds || !keep || !pred_off || !preds) goto fail;
    memset(keep, 1, d->nedges ? d->nedges : 1);

    /* predecessor lists (edge indices), each sorted by source descending */
    for (uint32_t e = 0; e < d->nedges; e++) pred_off[d->edges[e].to + 1]++;
    for (uint32_t v = 0; v < n; v++) pred_off[v + 1] += pred_off[v];
    {
        uint32_t *fill = calloc(n ? n : 1, sizeof *fill);
        if (!fill) goto fail;
        for (uint32_t e = d->nedges; e-- > 0;) {
            uint32_t v = d->edges[e].to;
            preds[pred_off[v] + fill[v]++] = e;
        }
        free(fill);
    }

    /* transitive reduction: a predecessor already among the ancestors gathered from later
     * predecessors is implied by them */
    if (n && n <= DAG_REDUCE_MAX && (uint64_t)d->nedges * (((uint64_t)n + 63) / 64) <= DAG_REDUCE_WORK) {
        size_t words = ((size_t)n + 63) / 64;
        anc = calloc((size_t)n * words, sizeof *anc);
        if (!anc) goto fail;
        for (uint32_t v = 0; v < n; v++) {
            uint64_t *av = anc + (size_t)v * words;
            for (uint32_t k = pred_off[v]; k < pred_off[v + 1]; k++) {
                uint32_t e = preds[k], u = d->edges[e].from;
                if (av[u / 64] >> (u % 64) & 1) {
                    keep[e] = 0;
                    continue;
                }
                const uint64_t *au = anc + (size_t)u * words;
                for (size_t w = 0; w < words; w++) av[w] |= au[w];
                av[u / 64] |= 1ull << (u % 64);
            }
        }
    }
    uint32_t nkept = 0;
    for (uint32_t e = 0; e < d->nedges; e++) {
        if (!keep[e]) continue;
        nkept++;
        d->succ_offsets[d->edges[e].from + 1]++;
        d->npreds[d->edges[e].to]++;
    }
    for (uint32_t v = 0; v < n; v++) d->succ_offsets[v + 1] += d->succ_offsets[v];
    d->succs = malloc((nkept ? nkept : 1) * sizeof *d->succs);
    if (!d->succs) goto fail;
    {
        uint32_t k = 0;   /* edges are sorted by (from, to): the CSR fills in order */
        for (uint32_t e = 0; e < d->nedges; e++)
            if (keep[e]) d->succs[k++] = d->edges[e].to;
    }

    /* critical path: nodes in program order are a topological order */
    longest = malloc((n ? n : 1) * sizeof *longest);
    best = malloc((n ? n : 1) * sizeof *best);
    if (!longest || !best) goto fail;
    d->work = 0;
    for (uint32_t v = 0; v < n; v++) {
        longest[v] = cost[v];
        best[v] = ANALYSIS_NONE;
        d->work = analysis_cost_add(d->work, cost[v]);
    }
    uint32_t end = ANALYSIS_NONE;
    for (uint32_t u = 0; u < n; u++) {
        for (uint32_t k = d->succ_offsets[u]; k < d->succ_offsets[u + 1]; k++) {
            uint32_t v = d->succs[k];
            uint64_t l = analysis_cost_add(longest[u], cost[v]);
            if (l > longest[v] || best[v] == ANALYSIS_NONE) {   /* l >= cost[v] always */
                longest[v] = l;
                best[v] = u;
            }
        }
        if (end == ANALYSIS_NONE || longest[u] > longest[end]) end = u;
    }
    d->critical_path = end == ANALYSIS_NONE ? 0 : longest[end];
    d->parallelism = d->critical_path ? (double)d->work / (double)d->critical_path : 1.0;
    d->npath = 0;
    for (uint32_t v = end; v != ANALYSIS_NONE; v = best[v]) d->npath++;
    d->path = malloc((d->npath ? d->npath : 1) * sizeof *d->path);
    if (!d->path) goto fail;
    {
        uint32_t k = d->npath;
        for (uint32_t v = end; v != ANALYSIS_NONE; v = best[v]) d->path[--k] = v;
    }
    ok = true;
fail:
    free(anc);
    free(keep);
    free(pred_off);
    free(preds);
    free(longest);
    free(best);
    return ok;
}

void analysis_dag_free(analysis_dag *d)
{
    free(d->succ_offsets);
    free(d->succs);
    free(d->npreds);
    free(d->edges);
    free(d->path);
    memset(d, 0, sizeof *d);
}

bool analysis_dag_reaches(const analysis_dag *d, uint32_t from, uint32_t to)
{
    if (from == to) return true;
    if (from > to || to >= d->n || !d->succ_offsets) return false;
    uint8_t *seen = calloc(d->n, 1);
    uint32_t *stack = malloc((size_t)d->n * sizeof *stack);
    bool found = false;
    if (!seen || !stack) {
        found = true;     /* out of memory: the conservative answer */
        goto done;
    }
    uint32_t sp = 0;
    stack[sp++] = from;
    seen[from] = 1;
    while (sp && !found) {
        uint32_t u = stack[--sp];
        for (uint32_t k = d->succ_offsets[u]; k < d->succ_offsets[u + 1]; k++) {
            uint32_t v = d->succs[k];
            if (v == to) {
                found = true;
                break;
            }
            if (v < to && !seen[v]) {   /* edges go forward: nothing past `to` leads back */
                seen[v] = 1;
                stack[sp++] = v;
            }
        }
    }
done:
    free(seen);
    free(stack);
    return found;
}

/* Dilworth: the width is n minus a maximum matching between "left" and "right" copies of the
 * nodes, with u-v joined when v is reachable from u; König's construction turns the matching
 * into a largest antichain. */
static bool width_augment(uint32_t u, const uint64_t *reach, size_t words, uint32_t n, uint32_t *match_r,
                          uint8_t *visited)
{
    const uint64_t *ru = reach + (size_t)u * words;
    for (uint32_t v = u + 1; v < n; v++) {
        if (!(ru[v / 64] >> (v % 64) & 1) || visited[v]) continue;
        visited[v] = 1;
        if (match_r[v] == ANALYSIS_NONE || width_augment(match_r[v], reach, words, n, match_r, visited)) {
            match_r[v] = u;
            return true;
        }
    }
    return false;
}

static uint32_t width_exact(const analysis_dag *d, uint32_t *set)
{
    uint32_t n = d->n, size = 0;
    size_t words = ((size_t)n + 63) / 64;
    uint64_t *reach = calloc((size_t)n * words, sizeof *reach);
    uint32_t *match_r = malloc((size_t)n * sizeof *match_r), *match_l = malloc((size_t)n * sizeof *match_l);
    uint8_t *visited = malloc(n), *zl = calloc(n, 1), *zr = calloc(n, 1);
    uint32_t *queue = malloc((size_t)n * sizeof *queue);
    if (!reach || !match_r || !match_l || !visited || !zl || !zr || !queue) goto done;
    for (uint32_t u = n; u-- > 0;) {
        uint64_t *ru = reach + (size_t)u * words;
        for (uint32_t k = d->succ_offsets[u]; k < d->succ_offsets[u + 1]; k++) {
            uint32_t v = d->succs[k];
            const uint64_t *rv = reach + (size_t)v * words;
            for (size_t w = 0; w < words; w++) ru[w] |= rv[w];
            ru[v / 64] |= 1ull << (v % 64);
        }
    }
    for (uint32_t v = 0; v < n; v++) match_r[v] = match_l[v] = ANALYSIS_NONE;
    for (uint32_t u = 0; u < n; u++) {
        memset(visited, 0, n);
        width_augment(u, reach, words, n, match_r, visited);
    }
    for (uint32_t v = 0; v < n; v++)
        if (match_r[v] != ANALYSIS_NONE) match_l[match_r[v]] = v;
    /* Z: reachable from unmatched left nodes, left to right by any edge, right to left by
     * the matching */
    uint32_t qh = 0, qt = 0;
    for (uint32_t u = 0; u < n; u++)
        if (match_l[u] == ANALYSIS_NONE) {
            zl[u] = 1;
            queue[qt++] = u;
        }
    while (qh < qt) {
        uint32_t u = queue[qh++];
        const uint64_t *ru = reach + (size_t)u * words;
        for (uint32_t v = u + 1; v < n; v++) {
            if (!(ru[v / 64] >> (v % 64) & 1) || zr[v] || match_l[u] == v) continue;
            zr[v] = 1;
            uint32_t w = match_r[v];
            if (w != ANALYSIS_NONE && !zl[w]) {
                zl[w] = 1;
                queue[qt++] = w;
            }
        }
    }
    for (uint32_t v = 0; v < n; v++)
        if (zl[v] && !zr[v]) set[size++] = v;
done:
    free(reach);
    free(match_r);
    free(match_l);
    free(visited);
    free(zl);
    free(zr);
    free(queue);
    return size;
}

/* Nodes at the same depth (longest path from a source, in edges) have no path between any two
 * of them: the largest such level is an antichain, found in O(n + edges).  It is the width for
 * chains, wide fans and layers between fences; elsewhere a lower bound. */
static uint32_t width_levels(const analysis_dag *d, uint32_t *set)
{
    uint32_t n = d->n, size = 0;
    uint32_t *level = calloc(n, sizeof *level), *count = calloc((size_t)n + 1, sizeof *count);
    if (!level || !count) goto done;
    for (uint32_t u = 0; u < n; u++)      /* edges go forward: program order is topological */
        for (uint32_t k = d->succ_offsets[u]; k < d->succ_offsets[u + 1]; k++) {
            uint32_t v = d->succs[k];
            if (level[v] < level[u] + 1) level[v] = level[u] + 1;
        }
    uint32_t best = 0;
    for (uint32_t v = 0; v < n; v++)
        if (++count[level[v]] > count[best] || (count[level[v]] == count[best] && level[v] < best)) best = level[v];
    for (uint32_t v = 0; v < n; v++)
        if (level[v] == best) set[size++] = v;
done:
    free(level);
    free(count);
    return size;
}

uint32_t analysis_dag_width(const analysis_dag *d, uint32_t *set)
{
    if (d->n == 0 || !d->succ_offsets) return 0;
    /* Dilworth's exact construction needs the transitive closure (n*n bits) and a matching
     * (up to n^3 steps): only for small DAGs.  The largest level is an antichain too; take it
     * when it is as large. */
    uint32_t w = width_levels(d, set);
    if (d->n <= ANALYSIS_WIDTH_EXACT_MAX && w < d->n) {
        uint32_t *exact = malloc((size_t)d->n * sizeof *exact);
        uint32_t we = exact ? width_exact(d, exact) : 0;
        if (we > w) {
            memcpy(set, exact, (size_t)we * sizeof *set);
            w = we;
        }
        free(exact);
    }
    return w;
}

/* ---------- building ---------- */

static uint32_t count_codes(const zx_code *c, int level)
{
    uint32_t n = 1;
    if (level > ZX_MAX_CODE_DEPTH) return n;
    for (uint32_t i = 0; i < c->nchildren; i++) n += count_codes(c->children[i], level + 1);
    return n;
}

static void number_codes(analysis *a, zx_code *c, uint32_t parent, uint32_t *next, int level)
{
    uint32_t id = (*next)++;
    analysis_code *ac = &a->codes[id];
    ac->code = c;
    ac->id = id;
    ac->parent = parent;
    if (level > ZX_MAX_CODE_DEPTH) return;
    for (uint32_t i = 0; i < c->nchildren; i++) number_codes(a, c->children[i], id, next, level + 1);
}

static void free_scratch(analysis_code *ac)
{
    free(ac->loop_depth);
    free(ac->site_cost);
    free(ac->recv);
    ac->loop_depth = NULL;
    ac->site_cost = NULL;
    ac->recv = NULL;
    memset(&ac->local, 0, sizeof ac->local);   /* its sets are in the analysis' arena */
}

/* Every top-level chunk may run in a frame of its own (src/exec/parallel.c, run_chunk), so the
 * top level's locals must not carry values from one chunk to the next.  The compiler's are the
 * hidden locals of `for each` (one pair per loop nesting depth, shared by the loops): true when
 * only GET_ITER and FOR_ITER touch them, no closure captures them, and inside every chunk each
 * FOR_ITER's pair was set by a GET_ITER of the same chunk on every path from the chunk's start
 * (a must-analysis over the chunk with a bit per local: at most 64 of them). */
static bool main_locals_private(const analysis_code *ac)
{
    const zx_code *c = ac->code;
    if (c->nlocals == 0) return true;
    if (c->nlocals > 64 || !c->depth) return false;
    for (uint32_t i = 0; i < c->nlocals; i++)
        if (c->local_is_cell && c->local_is_cell[i]) return false;
    for (uint32_t k = 0; k < c->nchildren; k++)
        for (uint32_t i = 0; i < c->children[k]->nfree; i++)
            if (c->children[k]->free[i].from_parent_local) return false;
    for (uint32_t pc = 0; pc < c->ncode; pc++) {
        const zx_opinfo *info = zx_op_info(c->code[pc].op);
        if (info && info->kind == OPK_LOCAL && c->code[pc].op != OP_GET_ITER) return false;
    }
    uint64_t *in = malloc((size_t)c->ncode * sizeof *in);
    uint8_t *seen = calloc(c->ncode ? c->ncode : 1, 1);
    uint32_t *work = NULL;
    size_t nwork = 0, capwork = 0;
    bool ok = in && seen;
    for (uint32_t k = 0; k < ac->nchunks && ok; k++) {
        uint32_t start = ac->chunks[k].start, end = ac->chunks[k].end;
        if (start >= end) continue;
        in[start] = 0;
        seen[start] = 1;
        nwork = 0;
        uint32_t pc = start;
        for (;;) {
            const zx_instr *ins = &c->code[pc];
            uint64_t out = in[pc];
            if (ins->op == OP_GET_ITER) out |= (uint64_t)3 << ins->a;
            uint32_t succ[2];
            int ns = zx_op_successors(ins, pc, succ);
            for (int j = 0; j < ns; j++) {
                uint32_t t = succ[j];
                if (t < start || t >= end) continue;
                if (seen[t] && (in[t] & out) == in[t]) continue;
                in[t] = seen[t] ? in[t] & out : out;
                seen[t] = 1;
                if (nwork == capwork) {
                    size_t cap = capwork ? capwork * 2 : 64;
                    uint32_t *w = realloc(work, cap * sizeof *w);
                    if (!w) {
                        ok = false;
                        break;
                    }
                    work = w;
                    capwork = cap;
                }
                work[nwork++] = t;
            }
            if (!ok || !nwork) break;
            pc = work[--nwork];
        }
        for (uint32_t q = start; q < end && ok; q++) {
            const zx_instr *ins = &c->code[q];
            if (!seen[q] || (ins->op != OP_FOR_ITER1 && ins->op != OP_FOR_ITER2)) continue;
            uint64_t need = (uint64_t)3 << ins->b;
            if ((in[q] & need) != need) ok = false;
        }
    }
    free(in);
    free(seen);
    free(work);
    return ok;
}

/* The top level's chunks: leave its (chunk-private) locals out of their summaries, so that
 * loops sharing the hidden locals are not ordered by them; or mark them as crossing chunks. */
static bool main_locals(analysis *a, analysis_code *ac)
{
    if (!main_locals_private(ac)) {
        ac->locals_cross_chunks = true;
        return true;
    }
    uint32_t lo = ac->loc_base, hi = ac->loc_base + ac->code->nlocals;
    for (uint32_t k = 0; k < ac->nchunks; k++)
        if (!analysis_locset_drop_range(&a->arena, &ac->chunks[k].eff.reads, lo, hi) ||
            !analysis_locset_drop_range(&a->arena, &ac->chunks[k].eff.writes, lo, hi))
            return false;
    return true;
}

analysis *analysis_build(zx_program *p, int chunk_size) { return analysis_build_hosts(p, chunk_size, NULL); }

bool analysis_host_index_pure(const analysis_hosts *hosts, uint32_t k)
{
    return hosts && k < hosts->n && (hosts->pure[k / 8] >> (k % 8) & 1);
}

bool analysis_host_is_pure(const analysis *a, zx_value name)
{
    const analysis_hosts *h = a->hosts;
    if (!h || !zx_is_type(name, ZX_O_STRING)) return false;
    const zx_string *s = ZX_AS_STRING(name);
    for (uint32_t k = 0; k < h->n; k++)
        if (strlen(h->names[k]) == s->nbytes && memcmp(h->names[k], s->data, s->nbytes) == 0)
            return analysis_host_index_pure(h, k);
    return false;
}

analysis *analysis_build_hosts(zx_program *p, int chunk_size, const analysis_hosts *hosts)
{
    if (!p || !p->main) return NULL;
    analysis *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->prog = p;
    a->hosts = hosts;
    a->chunk_size = chunk_size > 0 ? chunk_size : ANALYSIS_DEFAULT_CHUNK_SIZE;
    a->ncodes = count_codes(p->main, 1);
    a->codes = calloc(a->ncodes, sizeof *a->codes);
    if (!a->codes) goto fail;
    uint32_t next = 0;
    number_codes(a, p->main, ANALYSIS_NONE, &next, 1);

    /* location ids: globals, then every code object's locals */
    uint64_t nlocs = p->nglobals;
    for (uint32_t i = 0; i < a->ncodes; i++) {
        a->codes[i].loc_base = (uint32_t)nlocs;
        nlocs += a->codes[i].code->nlocals;
    }
    if (nlocs >= ANALYSIS_NONE) goto fail;
    a->nlocs = (uint32_t)nlocs;
    a->loc_code = malloc((nlocs ? nlocs : 1) * sizeof *a->loc_code);
    if (!a->loc_code) goto fail;
    for (uint32_t g = 0; g < p->nglobals; g++) a->loc_code[g] = ANALYSIS_NONE;
    for (uint32_t i = 0; i < a->ncodes; i++)
        for (uint32_t s = 0; s < a->codes[i].code->nlocals; s++) a->loc_code[a->codes[i].loc_base + s] = i;

    a->hash_cap = 16;
    while (a->hash_cap < 2 * a->ncodes) a->hash_cap *= 2;
    a->hash = malloc((size_t)a->hash_cap * sizeof *a->hash);
    if (!a->hash) goto fail;
    memset(a->hash, 0xff, (size_t)a->hash_cap * sizeof *a->hash);
    for (uint32_t i = 0; i < a->ncodes; i++) {
        if (analysis_code_of(a, a->codes[i].code)) continue;   /* shared child: first wins */
        uint32_t h = ptr_hash(a->codes[i].code, a->hash_cap);
        while (a->hash[h] != ANALYSIS_NONE) h = (h + 1) & (a->hash_cap - 1);
        a->hash[h] = i;
    }

    for (uint32_t i = 0; i < a->ncodes; i++)
        if (!chunker_scan(&a->codes[i])) goto fail;
    if (!deps_resolve_calls(a) || !deps_find_objects(a) || !deps_summarize(a) || !deps_mark_escapes(a)) goto fail;
    for (uint32_t i = 0; i < a->ncodes; i++) {
        if (!chunker_split(a, &a->codes[i])) goto fail;
        if (a->codes[i].parent == ANALYSIS_NONE && !deps_add_fixed_reads(a, &a->codes[i])) goto fail;
        if (a->codes[i].parent == ANALYSIS_NONE && !main_locals(a, &a->codes[i])) goto fail;
        if (!deps_build_dags(a, &a->codes[i])) goto fail;
    }
    if (a->arena.oom) goto fail;
    for (uint32_t i = 0; i < a->ncodes; i++) free_scratch(&a->codes[i]);
    deps_scratch_free(a);
    a->hosts = NULL;
    return a;
fail:
    analysis_free(a);
    return NULL;
}

void analysis_free(analysis *a)
{
    if (!a) return;
    for (uint32_t i = 0; a->codes && i < a->ncodes; i++) {
        analysis_code *ac = &a->codes[i];
        free(ac->chunks);
        analysis_dag_free(&ac->dag);
        for (uint32_t k = 0; k < ac->nforks; k++) {
            free(ac->forks[k].blocks);
            analysis_dag_free(&ac->forks[k].dag);
        }
        free(ac->forks);
        free(ac->pmap_reason);
        free(ac->callee);
        free_scratch(ac);
    }
    deps_scratch_free(a);
    free(a->codes);
    free(a->loc_code);
    free(a->meth_name);
    free(a->meth_id);
    free(a->obj_global);
    free(a->obj_site);
    free(a->loc_escapes);
    free(a->fixed);
    free(a->hash);
    analysis_arena_free(&a->arena);
    free(a);
}
