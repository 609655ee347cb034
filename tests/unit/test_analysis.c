/* test_analysis.c — unit tests of the chunker and the dependency analysis (chunker.c, deps.c, analysis.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "check.h"
#include "exec/interp.h"
#include "runtime/builtins.h"
#include "zexus.h"

/* ---------- helpers ---------- */

typedef struct fixture {
    zx_vm *vm;
    zx_program *prog;
    analysis *a;
} fixture;

static bool load(fixture *fx, const char *src, int chunk_size)
{
    memset(fx, 0, sizeof *fx);
    zx_options o;
    zx_options_init(&o);
    o.jit = ZX_JIT_OFF;
    o.mode = ZX_MODE_SEQ;
    if (zx_vm_create(&o, &fx->vm) != ZX_OK) return false;
    if (zx_program_load_source(fx->vm, "test.zx", src, strlen(src), &fx->prog) != ZX_OK) {
        fprintf(stderr, "load failed: %s\n", zx_vm_last_error(fx->vm));
        return false;
    }
    fx->a = analysis_build(fx->prog, chunk_size);
    return fx->a != NULL;
}

static void unload(fixture *fx)
{
    analysis_free(fx->a);
    zx_vm_destroy(fx->vm);
}

static char *read_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, fp) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s) s[n] = '\0';
    fclose(fp);
    return s;
}

static const analysis_code *main_code(const fixture *fx) { return &fx->a->codes[0]; }

static const analysis_code *code_named(const fixture *fx, const char *name)
{
    for (uint32_t i = 0; i < fx->a->ncodes; i++)
        if (fx->a->codes[i].code->name && strcmp(fx->a->codes[i].code->name, name) == 0) return &fx->a->codes[i];
    return NULL;
}

static const analysis_code *code_at_line(const fixture *fx, zx_code_kind kind, uint32_t line)
{
    for (uint32_t i = 0; i < fx->a->ncodes; i++)
        if (fx->a->codes[i].code->kind == kind && fx->a->codes[i].code->pos.line == line) return &fx->a->codes[i];
    return NULL;
}

/* The chunk whose lines include `line` (ANALYSIS_NONE if none). */
static uint32_t chunk_at(const analysis_code *ac, uint32_t line)
{
    for (uint32_t k = 0; ac && k < ac->nchunks; k++)
        if (ac->chunks[k].first_line <= line && line <= ac->chunks[k].last_line) return k;
    return ANALYSIS_NONE;
}

static const analysis_edge *edge(const analysis_dag *d, uint32_t from, uint32_t to)
{
    for (uint32_t e = 0; e < d->nedges; e++)
        if (d->edges[e].from == from && d->edges[e].to == to) return &d->edges[e];
    return NULL;
}

static uint32_t global_slot(const fixture *fx, const char *name)
{
    for (uint32_t g = 0; g < fx->prog->nglobals; g++)
        if (strcmp(fx->prog->globals[g].name, name) == 0) return g;
    return ANALYSIS_NONE;
}

static bool edge_is(const fixture *fx, const analysis_code *ac, uint32_t from_line, uint32_t to_line, int kind,
                    const char *var)
{
    uint32_t x = chunk_at(ac, from_line), y = chunk_at(ac, to_line);
    if (x == ANALYSIS_NONE || y == ANALYSIS_NONE) return false;
    const analysis_edge *e = edge(&ac->dag, x, y);
    if (!e || (int)e->kind != kind) return false;
    if (!var) return e->loc == ANALYSIS_NONE;
    return e->loc != ANALYSIS_NONE && strcmp(analysis_loc_name(fx->a, e->loc), var) == 0;
}

static bool path(const analysis_code *ac, uint32_t from_line, uint32_t to_line)
{
    uint32_t x = chunk_at(ac, from_line), y = chunk_at(ac, to_line);
    if (x == ANALYSIS_NONE || y == ANALYSIS_NONE) return true;
    return analysis_dag_reaches(&ac->dag, x, y) || analysis_dag_reaches(&ac->dag, y, x);
}

/* Chunks tile the code, and no jump leaves its chunk (RETURN aside) or enters one from outside. */
static bool chunks_well_formed(const analysis_code *ac)
{
    const zx_code *c = ac->code;
    if (ac->nchunks == 0 || ac->chunks[0].start != 0 || ac->chunks[ac->nchunks - 1].end != c->ncode) return false;
    for (uint32_t k = 0; k < ac->nchunks; k++) {
        const analysis_chunk *ch = &ac->chunks[k];
        if (ch->start >= ch->end || (k && ch->start != ac->chunks[k - 1].end)) return false;
        for (uint32_t pc = ch->start; pc < ch->end; pc++) {
            const zx_opinfo *info = zx_op_info(c->code[pc].op);
            if (!(info->flags & OPF_JUMPS)) continue;
            uint32_t t = c->code[pc].a;
            if (t < ch->start || t > ch->end) return false;
        }
    }
    return true;
}

static bool all_well_formed(const fixture *fx)
{
    for (uint32_t i = 0; i < fx->a->ncodes; i++)
        if (!chunks_well_formed(&fx->a->codes[i])) return false;
    return true;
}

/* ---------- the conformance programs ---------- */

static void test_independent(void)
{
    char *src = read_file("zexus/conformance/independent.zx");
    CHECK(src != NULL);
    if (!src) return;
    fixture fx;
    CHECK(load(&fx, src, 0));
    const analysis_code *m = main_code(&fx);
    CHECK(all_well_formed(&fx));
    /* the four `let x = work(...)` statements (lines 11-14) are four chunks of their own */
    uint32_t k[4];
    for (uint32_t i = 0; i < 4; i++) {
        k[i] = chunk_at(m, 11 + i);
        CHECK(k[i] != ANALYSIS_NONE);
        if (k[i] == ANALYSIS_NONE) goto done;
        CHECK(m->chunks[k[i]].first_line == 11 + i && m->chunks[k[i]].last_line == 11 + i);
        CHECK(m->chunks[k[i]].flags & CHUNK_HEAVY);
    }
    for (uint32_t i = 0; i < 4; i++)
        for (uint32_t j = 0; j < 4; j++)
            if (i != j) CHECK(!analysis_dag_reaches(&m->dag, k[i], k[j]));
    CHECK(edge_is(&fx, m, 2, 11, DEP_RAW, "work"));
    CHECK(edge_is(&fx, m, 11, 15, DEP_RAW, "a"));
    CHECK(m->dag.parallelism > 3.5);
    uint32_t set[64];
    CHECK(analysis_dag_width(&m->dag, set) == 4);
    /* work: its own locals only, a loop */
    const analysis_code *w = code_named(&fx, "work");
    CHECK(w && w->summary.loops_or_recurses && !w->summary.calls_unknown);
    CHECK(w && w->summary.reads.n == 0 && w->summary.writes.n == 0);
    CHECK(w && analysis_pmap_parallel_ok(w, NULL));
done:
    unload(&fx);
    free(src);
}

static void test_dependent(void)
{
    char *src = read_file("zexus/conformance/dependent.zx");
    CHECK(src != NULL);
    if (!src) return;
    fixture fx;
    CHECK(load(&fx, src, 1));
    const analysis_code *m = main_code(&fx);
    CHECK(all_well_formed(&fx));
    CHECK(edge_is(&fx, m, 2, 3, DEP_RAW, "x"));     /* let x = 5 -> let y = x + 10 */
    CHECK(edge_is(&fx, m, 3, 4, DEP_RAW, "y"));
    CHECK(edge_is(&fx, m, 6, 7, DEP_WAR, "z"));     /* let w = z -> z = 1 */
    CHECK(edge_is(&fx, m, 4, 7, DEP_WAW, "z"));     /* let z = y * 2 -> z = 1 */
    CHECK(edge_is(&fx, m, 2, 10, DEP_WAW, "x"));    /* let x = 5 -> x = 100 */
    CHECK(edge_is(&fx, m, 3, 10, DEP_WAR, "x"));    /* let y = x + 10 -> x = 100 */
    CHECK(edge_is(&fx, m, 13, 14, DEP_RAW, "hist"));
    CHECK(edge_is(&fx, m, 14, 15, DEP_HEAP, NULL)); /* two pushes onto the same list */
    CHECK(!path(m, 5, 6));                           /* two readers of z */
    unload(&fx);
    free(src);
}

/* ---------- each kind, scoping, aliasing, captures ---------- */

static void test_scoping(void)
{
    fixture fx;
    CHECK(load(&fx,
               "let x = 1\n"                                   /* 1 */
               "action f() { let x = 2\n return x + 1 }\n"     /* 2-3 */
               "let y = f()\n"                                 /* 4 */
               "x = 5\n"                                       /* 5 */
               "print(x)\n",                                   /* 6 */
               1));
    const analysis_code *m = main_code(&fx);
    const analysis_code *f = code_named(&fx, "f");
    CHECK(f && f->summary.reads.n == 0 && f->summary.writes.n == 0);   /* its own x is private */
    CHECK(!path(m, 4, 5));
    CHECK(edge_is(&fx, m, 5, 6, DEP_RAW, "x"));
    CHECK(edge_is(&fx, m, 2, 4, DEP_RAW, "f"));
    unload(&fx);

    /* an action that assigns a global writes the global */
    CHECK(load(&fx,
               "let g = 1\n"                                   /* 1 */
               "action set() { g = 7\n return 0 }\n"           /* 2-3 */
               "let r = set()\n"                               /* 4 */
               "print(g)\n",                                   /* 5 */
               1));
    m = main_code(&fx);
    CHECK(edge_is(&fx, m, 4, 5, DEP_RAW, "g"));
    CHECK(edge_is(&fx, m, 1, 4, DEP_WAW, "g"));
    unload(&fx);
}

static void test_aliasing(void)
{
    fixture fx;
    CHECK(load(&fx,
               "let a = [1, 2]\n"        /* 1 */
               "let b = a\n"             /* 2 */
               "b.push(1)\n"             /* 3 */
               "print(a)\n"              /* 4 */
               "let grid = [[1, 2], [3, 4]]\n"   /* 5 */
               "let row = grid[0]\n"     /* 6 */
               "row[1] = 9\n"            /* 7 */
               "print(grid)\n"           /* 8 */
               "let n = 3\n",            /* 9 */
               1));
    const analysis_code *m = main_code(&fx);
    CHECK(edge_is(&fx, m, 3, 4, DEP_HEAP, NULL));
    CHECK(edge_is(&fx, m, 7, 8, DEP_HEAP, NULL));
    CHECK(edge_is(&fx, m, 6, 7, DEP_RAW, "row"));
    CHECK(!path(m, 9, 8));                 /* an int touches no list */
    unload(&fx);

    /* a method that only reads does not order two readers */
    CHECK(load(&fx,
               "let m = {a: 1}\n"                 /* 1 */
               "let h = m.has(\"a\")\n"           /* 2 */
               "let k = m.keys()\n"               /* 3 */
               "m.b = 2\n",                       /* 4 */
               1));
    m = main_code(&fx);
    CHECK(!path(m, 2, 3));
    CHECK(edge_is(&fx, m, 2, 4, DEP_HEAP, NULL));
    unload(&fx);
}

static void test_captured(void)
{
    fixture fx;
    CHECK(load(&fx,
               "action outer() {\n"               /* 1 */
               "    let c = 0\n"                  /* 2 */
               "    action bump() { c = c + 1 }\n"/* 3 */
               "    let unrelated = 4\n"          /* 4 */
               "    bump()\n"                     /* 5 */
               "    print(c)\n"                   /* 6 */
               "    print(unrelated)\n"           /* 7 */
               "    return c\n"                   /* 8 */
               "}\n"
               "print(outer())\n",
               1));
    const analysis_code *o = code_named(&fx, "outer"), *b = code_named(&fx, "bump");
    CHECK(o && b);
    if (!o || !b) goto done;
    /* bump is called through a local with one store: resolved, and it writes outer's c */
    CHECK(edge_is(&fx, o, 5, 6, DEP_RAW, "c"));
    CHECK(edge_is(&fx, o, 2, 5, DEP_RAW, "c"));
    CHECK(!path(o, 5, 7));
    CHECK(!(o->chunks[chunk_at(o, 5)].flags & CHUNK_CALLS_UNKNOWN));
    const char *why = NULL;
    CHECK(!analysis_pmap_parallel_ok(b, &why) && why && strstr(why, "captured variable 'c'"));
    CHECK(analysis_pmap_parallel_ok(o, NULL));    /* c is outer's own */
done:
    unload(&fx);

    /* fork blocks: captured variables of the enclosing action decide their order */
    CHECK(load(&fx,
               "action g() {\n"                   /* 1 */
               "    let t = 0\n"                  /* 2 */
               "    let u = 0\n"                  /* 3 */
               "    fork { t = t + 1 }\n"         /* 4 */
               "    fork { u = 5 }\n"             /* 5 */
               "    fork { print(t) }\n"          /* 6 */
               "    join\n"
               "    return t + u\n"
               "}\n"
               "print(g())\n",
               1));
    const analysis_code *g = code_named(&fx, "g");
    CHECK(g && g->nforks == 1);
    if (g && g->nforks == 1) {
        const analysis_dag *d = &g->forks[0].dag;
        CHECK(d->n == 3);
        const analysis_edge *e = edge(d, 0, 2);
        CHECK(e && e->kind == DEP_RAW && strcmp(analysis_loc_name(fx.a, e->loc), "t") == 0);
        CHECK(!analysis_dag_reaches(d, 0, 1) && !analysis_dag_reaches(d, 1, 2));
    }
    unload(&fx);

    /* top-level fork blocks that touch different globals run concurrently */
    CHECK(load(&fx, "let a = 0\nlet b = 0\nfork { a = 1 }\nfork { b = 2 }\njoin\nprint(a + b)\n", 50));
    const analysis_code *m = main_code(&fx);
    CHECK(m->nforks == 1 && m->forks[0].dag.nedges == 0);
    uint32_t fk = chunk_at(m, 3);
    CHECK(fk != ANALYSIS_NONE && (m->chunks[fk].flags & CHUNK_IS_FORK));
    CHECK(fk != ANALYSIS_NONE && m->chunks[fk].first_line == 3 && m->chunks[fk].end == m->chunks[fk].start + 2);
    unload(&fx);
}

/* Fork blocks and shared variables (DESIGN.md §4): a block that reads a shared variable which
 * an earlier block of the same fork updates depends on it, whether it reads it directly,
 * through a call or in a nested fork; so do a plain assignment after an update and an update
 * after a read.  The runtime relies on this to apply fork blocks' updates directly. */
static void test_fork_shared(void)
{
    fixture fx;
    CHECK(load(&fx,
               "shared let s = 0\n"                              /* 1 */
               "let a = 0\n"                                     /* 2 */
               "let b = 0\n"                                     /* 3 */
               "action peek() { return s }\n"                    /* 4 */
               "action bump(v) {\n s += v\n return v\n}\n"       /* 5-8 */
               "fork { s += 1 }\n"                               /* 9: block 0 */
               "fork { a = s }\n"                                /* 10: block 1 */
               "fork { b = peek() }\n"                           /* 11: block 2 */
               "fork { let r = parallel_map(bump, range(3)) }\n" /* 12: block 3 */
               "fork {\n fork { print(1) }\n fork { a = s + 1 }\n join\n}\n" /* 13-17: block 4 */
               "fork { s = 5 }\n"                                /* 18: block 5 */
               "fork { print(2) }\n"                             /* 19: block 6 */
               "join\n"
               "print(s, a, b)\n",
               50));
    const analysis_code *m = main_code(&fx);
    CHECK(m->nforks == 1);
    if (m->nforks != 1) goto done;
    const analysis_dag *d = &m->forks[0].dag;
    uint32_t s = global_slot(&fx, "s");
    CHECK(d->n == 7);
    const analysis_edge *e = edge(d, 0, 1);            /* read after an update */
    CHECK(e && e->kind == DEP_RAW && e->loc == s);
    e = edge(d, 0, 2);                                 /* ... through a call */
    CHECK(e && e->kind == DEP_RAW && e->loc == s);
    e = edge(d, 0, 3);                                 /* two updates (parallel_map's function) */
    CHECK(e && e->kind == DEP_RAW && e->loc == s);
    e = edge(d, 2, 3);                                 /* an update after a read */
    CHECK(e && e->kind == DEP_WAR && e->loc == s);
    e = edge(d, 3, 4);                                 /* a nested fork's read after an update */
    CHECK(e && e->kind == DEP_RAW && e->loc == s);
    e = edge(d, 3, 5);                                 /* a plain assignment after an update */
    CHECK(e && e->kind == DEP_WAW && e->loc == s);
    e = edge(d, 4, 5);                                 /* ... and after the read since it */
    CHECK(e && e->kind == DEP_WAR && e->loc == s);
    CHECK(!edge(d, 0, 5) && analysis_dag_reaches(d, 0, 5));   /* ordered through 3, not listed again */
    for (uint32_t i = 0; i < 6; i++) CHECK(!analysis_dag_reaches(d, i, 6));    /* touches nothing */
done:
    unload(&fx);
}

static void test_calls_through_variables(void)
{
    fixture fx;
    CHECK(load(&fx,
               "action work(n) { let s = 0\n let i = 0\n while (i < n) { s = s + i\n i = i + 1 }\n return s }\n" /* 1-5 */
               "let f = work\n"                /* 6 */
               "let p = 1\n"                   /* 7 */
               "let a = f(10)\n"               /* 8 */
               "let q = 2\n"                   /* 9 */
               "let fs = [work]\n"             /* 10 */
               "let r = 3\n"                   /* 11 */
               "let b = fs[0](5)\n"            /* 12 */
               "action apply(h, v) { return h(v) }\n"   /* 13 */
               "let z = 4\n"                   /* 14 */
               "let c = apply(work, 3)\n"      /* 15 */
               "let y = 5\n",                  /* 16 */
               1));
    const analysis_code *m = main_code(&fx);
    uint32_t a = chunk_at(m, 8), b = chunk_at(m, 12), c = chunk_at(m, 15);
    CHECK(a != ANALYSIS_NONE && (m->chunks[a].flags & CHUNK_CALLS_UNKNOWN));
    CHECK(b != ANALYSIS_NONE && (m->chunks[b].flags & CHUNK_CALLS_UNKNOWN));
    CHECK(c != ANALYSIS_NONE && (m->chunks[c].flags & CHUNK_CALLS_UNKNOWN));   /* through apply */
    CHECK(path(m, 7, 8) && path(m, 8, 9));   /* unrelated neighbours are ordered all the same */
    CHECK(path(m, 14, 15) && path(m, 15, 16));
    CHECK(edge_is(&fx, m, 7, 8, DEP_CALL, NULL));
    const analysis_code *ap = code_named(&fx, "apply");
    CHECK(ap && ap->summary.calls_unknown);
    unload(&fx);

    /* a global assigned twice is not resolved */
    CHECK(load(&fx, "action w() { return 1 }\nlet k = w()\nw = 5\nlet j = 0\n", 1));
    m = main_code(&fx);
    CHECK(m->chunks[chunk_at(m, 2)].flags & CHUNK_CALLS_UNKNOWN);
    unload(&fx);
}

static void test_recursion_and_cost(void)
{
    fixture fx;
    CHECK(load(&fx,
               "action fib(n) { if (n < 2) { return n }\n return fib(n - 1) + fib(n - 2) }\n"  /* 1-2 */
               "let a = 1\n"          /* 3 */
               "let r = fib(20)\n"    /* 4 */
               "let b = 2\n"          /* 5 */
               "action even(n) { if (n == 0) { return true }\n return odd(n - 1) }\n"   /* 6-7 */
               "action odd(n) { if (n == 0) { return false }\n return even(n - 1) }\n"  /* 8-9 */
               "let e = even(10)\n",  /* 10 */
               50));
    const analysis_code *m = main_code(&fx), *fib = code_named(&fx, "fib");
    CHECK(fib && fib->recursive && fib->summary.loops_or_recurses);
    CHECK(code_named(&fx, "even") && code_named(&fx, "even")->recursive);
    uint32_t k = chunk_at(m, 4);
    CHECK(k != ANALYSIS_NONE && (m->chunks[k].flags & CHUNK_HEAVY) && m->chunks[k].first_line == 4 &&
          m->chunks[k].last_line == 4);
    CHECK(k != ANALYSIS_NONE && !(m->chunks[k].flags & CHUNK_CALLS_UNKNOWN));
    CHECK(k != ANALYSIS_NONE && m->chunks[k].cost >= 1000000);
    /* cheap statements around it are packed */
    CHECK(chunk_at(m, 3) != k && chunk_at(m, 5) != k);
    unload(&fx);
}

static void test_loops_never_split(void)
{
    fixture fx;
    CHECK(load(&fx,
               "let s = 0\n"
               "let i = 0\n"
               "while (i < 10) {\n"
               "    if (i % 2 == 0) { s = s + i * 2 + 1 } else { s = s - 1 }\n"
               "    let j = 0\n"
               "    while (j < 3) { s = s + j\n j = j + 1\n if (j > 5) { break } }\n"
               "    i = i + 1\n"
               "}\n"
               "for each v in [1, 2, 3] { s = s + v\n if (v == 2) { continue } }\n"
               "let t = s > 3 ? 1 : 2\n"
               "let u = (s > 1 && t < 5) || s == 0\n"
               "print(s, t, u)\n",
               1));
    CHECK(all_well_formed(&fx));
    const analysis_code *m = main_code(&fx);
    uint32_t w = chunk_at(m, 3);
    CHECK(w != ANALYSIS_NONE && m->chunks[w].first_line == 3 && m->chunks[w].last_line == 9);
    CHECK(w != ANALYSIS_NONE && (m->chunks[w].flags & CHUNK_HAS_LOOP));
    uint32_t fe = chunk_at(m, 11);   /* the for each, GET_ITER included */
    CHECK(fe != ANALYSIS_NONE && fe != w && (m->chunks[fe].flags & CHUNK_HAS_LOOP));
    CHECK(fe != ANALYSIS_NONE && m->chunks[fe].first_line == 11 && m->chunks[fe].last_line == 12);
    CHECK(fe != ANALYSIS_NONE && m->code->code[m->chunks[fe].end - 1].op == OP_JUMP);
    CHECK(fe != ANALYSIS_NONE && m->code->code[m->chunks[fe].start + 4].op == OP_GET_ITER);
    unload(&fx);
}

static void test_barrier_and_return(void)
{
    fixture fx;
    CHECK(load(&fx,
               "let a = 1\n"    /* 1 */
               "let b = 2\n"    /* 2 */
               "barrier\n"      /* 3 */
               "let c = 3\n"    /* 4 */
               "let d = 4\n",   /* 5 */
               1));
    const analysis_code *m = main_code(&fx);
    uint32_t bar = chunk_at(m, 3);
    CHECK(bar != ANALYSIS_NONE && (m->chunks[bar].flags & CHUNK_IS_BARRIER));
    CHECK(bar != ANALYSIS_NONE && m->chunks[bar].end == m->chunks[bar].start + 1);
    CHECK(edge_is(&fx, m, 1, 3, DEP_BARRIER, NULL) && edge_is(&fx, m, 2, 3, DEP_BARRIER, NULL));
    CHECK(edge_is(&fx, m, 3, 4, DEP_BARRIER, NULL) && edge_is(&fx, m, 3, 5, DEP_BARRIER, NULL));
    CHECK(!path(m, 1, 2) && !path(m, 4, 5));
    CHECK(analysis_dag_reaches(&m->dag, chunk_at(m, 1), chunk_at(m, 5)));
    CHECK(!edge(&m->dag, chunk_at(m, 1), chunk_at(m, 4)));   /* implied through the barrier */
    unload(&fx);

    CHECK(load(&fx,
               "action h(x) {\n"              /* 1 */
               "    if (x) { return 1 }\n"    /* 2 */
               "    let y = 2\n"              /* 3 */
               "    return y\n"               /* 4 */
               "}\n"
               "print(h(false))\n",
               1));
    const analysis_code *h = code_named(&fx, "h");
    uint32_t r = chunk_at(h, 2);
    CHECK(r != ANALYSIS_NONE && (h->chunks[r].flags & CHUNK_HAS_RETURN));
    CHECK(edge_is(&fx, h, 2, 3, DEP_RETURN, NULL));
    unload(&fx);
}

static void test_pmap_verdicts(void)
{
    fixture fx;
    CHECK(load(&fx,
               "shared let hits = 0\n"                           /* 1 */
               "let plain = 0\n"                                 /* 2 */
               "let xs = [1, 2]\n"                               /* 3 */
               "action ok(v) { hits += v\n return v * 2 }\n"     /* 4-5 */
               "action reads_shared(v) { return hits + v }\n"    /* 6 */
               "action assigns_shared(v) { hits = v\n return v }\n"   /* 7-8 */
               "action assigns_global(v) { plain = v\n return v }\n"  /* 9-10 */
               "action pushes(v) { xs.push(v)\n return v }\n"    /* 11-12 */
               "action via_helper(v) { return assigns_global(v) }\n"  /* 13 */
               "action unknown(v) { let f = xs[0]\n return f(v) }\n"  /* 14-15 */
               "let r1 = parallel_map(ok, [1, 2, 3])\n"          /* 16 */
               "let r2 = parallel_map((v) => v + plain, [1])\n", /* 17 */
               50));
    const char *why;
    CHECK(analysis_pmap_parallel_ok(code_named(&fx, "ok"), &why) && why == NULL);
    CHECK(!analysis_pmap_parallel_ok(code_named(&fx, "reads_shared"), &why) && strstr(why, "reads shared global 'hits'"));
    CHECK(!analysis_pmap_parallel_ok(code_named(&fx, "assigns_shared"), &why) && strstr(why, "assigns shared global 'hits'"));
    CHECK(!analysis_pmap_parallel_ok(code_named(&fx, "assigns_global"), &why) && strstr(why, "assigns global 'plain'"));
    CHECK(!analysis_pmap_parallel_ok(code_named(&fx, "pushes"), &why) && strstr(why, "list or map"));
    CHECK(!analysis_pmap_parallel_ok(code_named(&fx, "via_helper"), &why) && strstr(why, "global 'plain'"));
    CHECK(!analysis_pmap_parallel_ok(code_named(&fx, "unknown"), &why) && strstr(why, "cannot resolve"));
    const analysis_code *lam = code_at_line(&fx, ZX_CODE_LAMBDA, 17);
    CHECK(lam && analysis_pmap_parallel_ok(lam, NULL));
    /* parallel_map(ok, ...) is resolved: its chunk updates hits */
    const analysis_code *m = main_code(&fx);
    uint32_t k = chunk_at(m, 16);
    CHECK(k != ANALYSIS_NONE && analysis_locset_has(&m->chunks[k].eff.updates, global_slot(&fx, "hits")));
    CHECK(k != ANALYSIS_NONE && !(m->chunks[k].flags & CHUNK_CALLS_UNKNOWN));
    unload(&fx);
}

/* ---------- the public entry point ---------- */

static void test_listing(void)
{
    char *src = read_file("zexus/conformance/independent.zx");
    CHECK(src != NULL);
    if (!src) return;
    zx_vm *vm;
    zx_program *p;
    CHECK(zx_vm_create(NULL, &vm) == ZX_OK);
    CHECK(zx_program_load_source(vm, "independent.zx", src, strlen(src), &p) == ZX_OK);
    char *text = NULL, *dot = NULL;
    CHECK(zx_program_chunks(p, 0, 0, &text) == ZX_OK && text);
    CHECK(text && strstr(text, "chunk 0 -> chunk 1: RAW on global 'work'"));
    CHECK(text && strstr(text, "independent: 4 chunks"));
    CHECK(text && strstr(text, "parallelism:"));
    CHECK(zx_program_chunks(p, 0, 1, &dot) == ZX_OK && dot);
    CHECK(dot && strncmp(dot, "digraph", 7) == 0 && strstr(dot, "cluster_0") && strstr(dot, "RAW work"));
    CHECK(zx_program_chunks(NULL, 0, 0, &text) == ZX_E_ARGUMENT);
    free(text);
    free(dot);
    zx_vm_destroy(vm);
    free(src);
}

/* Files, the clock, the random state and sleeping: ordered against each other (DEP_EFFECT),
 * named by builtin, never a fence against pure work; a parallel_map function with one is
 * sequential with the reason in words. */
static void test_ordered_effects(void)
{
    fixture fx;
    CHECK(load(&fx,
               "file_write_text(\"a.txt\", \"x\")\n"     /* 1 */
               "let p = 1 + 2\n"                            /* 2 */
               "let t = time()\n"                           /* 3 */
               "action roll(x) { return random(x) }\n"      /* 4 */
               "let q = p * 2\n"                            /* 5 */
               "let r = parallel_map(roll, [6, 6])\n"       /* 6 */
               "action pure(x) { return x + 1 }\n"          /* 7 */
               "let s = parallel_map(pure, [1, 2])\n",      /* 8 */
               1));
    const analysis_code *m = main_code(&fx);
    CHECK(edge_is(&fx, m, 1, 3, DEP_EFFECT, NULL));
    CHECK(!path(m, 1, 2) && !path(m, 3, 5));      /* pure neighbours stay independent */
    uint32_t c1 = chunk_at(m, 1), c3 = chunk_at(m, 3);
    CHECK(c1 != ANALYSIS_NONE && !(m->chunks[c1].flags & CHUNK_CALLS_UNKNOWN));
    CHECK(m->chunks[c1].eff.ordered_fx == ZX_FX_WRITES_FILES && m->chunks[c3].eff.ordered_fx == ZX_FX_CLOCK);
    char words[200];
    analysis_fx_describe(&m->chunks[c1].eff, words, sizeof words);
    CHECK_STR(words, "writes files (file_write_text)");
    const analysis_code *roll = code_named(&fx, "roll"), *pure = code_named(&fx, "pure");
    CHECK(roll && roll->pmap_reason && strcmp(roll->pmap_reason, "it uses the random state (random)") == 0);
    CHECK(pure && !pure->pmap_reason);
    CHECK(path(m, 3, 6));                          /* time() before the random draws */
    unload(&fx);
}

/* Location sets against a plain bitmap: random sets built by add, add_sorted, union, intersection
 * and range removal, every result checked by iteration, size, membership and the first common
 * id; and the sharing that makes deep call graphs linear: adding a few ids to a large set, or
 * uniting it with itself, makes a handful of nodes, not a copy. */
#define LS_UNIVERSE 3000u

static bool ls_equal(const analysis_locset *s, const uint8_t *ref)
{
    analysis_locset_iter it;
    uint32_t id, count = 0, prev = 0;
    analysis_locset_iter_init(&it, s);
    while (analysis_locset_next(&it, &id)) {
        if (id >= LS_UNIVERSE || !ref[id] || (count && id <= prev) || !analysis_locset_has(s, id)) return false;
        prev = id;
        count++;
    }
    uint32_t want = 0;
    for (uint32_t i = 0; i < LS_UNIVERSE; i++) {
        want += ref[i];
        if (!ref[i] && analysis_locset_has(s, i)) return false;
    }
    return count == want && s->n == want;
}

static uint32_t ls_rand(uint64_t *state)
{
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*state >> 33);
}

static void test_locsets(void)
{
    analysis_arena ar;
    memset(&ar, 0, sizeof ar);
    uint64_t rng = 42;
    enum { NSETS = 24 };
    analysis_locset sets[NSETS];
    static uint8_t ref[NSETS][LS_UNIVERSE];
    memset(ref, 0, sizeof ref);
    for (int k = 0; k < NSETS; k++) {
        sets[k] = (analysis_locset){ 0, NULL };
        uint32_t span = k % 3 == 0 ? 100 : k % 3 == 1 ? 700 : LS_UNIVERSE, n = ls_rand(&rng) % 200;
        uint32_t base = ls_rand(&rng) % (LS_UNIVERSE - span + 1);
        uint32_t sorted[200], m = 0;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t id = base + ls_rand(&rng) % span;
            if (k % 2) {
                CHECK(analysis_locset_add(&ar, &sets[k], id));
                ref[k][id] = 1;
            } else if (!ref[k][id]) {
                ref[k][id] = 1;
                sorted[m++] = id;
            }
        }
        for (uint32_t i = 1; i < m; i++)   /* insertion sort: add_sorted takes them in order */
            for (uint32_t j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
                uint32_t t = sorted[j];
                sorted[j] = sorted[j - 1];
                sorted[j - 1] = t;
            }
        if (!(k % 2)) CHECK(analysis_locset_add_sorted(&ar, &sets[k], sorted, m));
        CHECK(ls_equal(&sets[k], ref[k]));
    }
    static uint8_t want[LS_UNIVERSE];
    for (int x = 0; x < NSETS; x++)
        for (int y = 0; y < NSETS; y++) {
            analysis_locset u = sets[x], in;
            CHECK(analysis_locset_union(&ar, &u, &sets[y]));
            for (uint32_t i = 0; i < LS_UNIVERSE; i++) want[i] = ref[x][i] | ref[y][i];
            CHECK(ls_equal(&u, want));
            CHECK(analysis_locset_inter(&ar, &in, &sets[x], &sets[y]));
            uint32_t first = ANALYSIS_NONE;
            for (uint32_t i = 0; i < LS_UNIVERSE; i++) {
                want[i] = ref[x][i] & ref[y][i];
                if (want[i] && first == ANALYSIS_NONE) first = i;
            }
            CHECK(ls_equal(&in, want));
            CHECK(analysis_locset_common(&sets[x], &sets[y]) == first);
            uint32_t lo = ls_rand(&rng) % LS_UNIVERSE, hi = lo + ls_rand(&rng) % 300;
            CHECK(analysis_locset_drop_range(&ar, &u, lo, hi));
            for (uint32_t i = 0; i < LS_UNIVERSE; i++) want[i] = (ref[x][i] | ref[y][i]) && (i < lo || i >= hi);
            CHECK(ls_equal(&u, want));
        }
    /* sharing: a set of 100,000 ids grows by one id, or meets itself, in a few new nodes */
    analysis_arena big;
    memset(&big, 0, sizeof big);
    uint32_t *ids = malloc(100000 * sizeof *ids);
    CHECK(ids != NULL);
    for (uint32_t i = 0; ids && i < 100000; i++) ids[i] = 3 * i;
    analysis_locset b = { 0, NULL };
    CHECK(ids && analysis_locset_add_sorted(&big, &b, ids, 100000));
    size_t before = big.bytes;
    for (uint32_t i = 0; i < 1000; i++) {
        analysis_locset c = b, d = b;
        CHECK(analysis_locset_add(&big, &c, 300001 + 3 * i) && c.n == 100001);
        CHECK(analysis_locset_union(&big, &d, &b) && d.root == b.root);
        CHECK(analysis_locset_inter(&big, &d, &c, &b) && d.root == b.root);
    }
    CHECK(big.bytes - before < 1000000);   /* 1,000 copies of the set would take 50 MB or more */
    free(ids);
    analysis_arena_free(&big);
    analysis_arena_free(&ar);
}

int main(void)
{
    test_locsets();
    test_independent();
    test_dependent();
    test_scoping();
    test_aliasing();
    test_captured();
    test_fork_shared();
    test_calls_through_variables();
    test_recursion_and_cost();
    test_loops_never_split();
    test_barrier_and_return();
    test_pmap_verdicts();
    test_listing();
    test_ordered_effects();
    return CHECK_DONE();
}
