/* test_plan.c — unit tests of the plan stage (plan.c, placement.c): decisions per site and placement, made before a run. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "analysis/plan.h"
#include "check.h"
#include "vm/vm.h"
#include "zexus.h"

/* Four heavy independent statements, a parallel_map over a function that writes a global,
 * one over a pure function, and a fork of three heavy blocks. */
static const char *PROGRAM =
    "action work(seed, n) {\n"                        /* 1 */
    "    let s = seed\n"
    "    let i = 0\n"
    "    while (i < n) {\n"
    "        s = (s * 31 + i) % 1000003\n"
    "        i = i + 1\n"
    "    }\n"
    "    return s\n"
    "}\n"
    "let plain = 0\n"                                 /* 10 */
    "action writes(v) { plain = v\n return v }\n"     /* 11-12 */
    "action pure(v) { return v * 2 }\n"               /* 13 */
    "let a = work(1, 20000)\n"                        /* 14 */
    "let b = work(2, 20000)\n"
    "let c = work(3, 20000)\n"
    "let d = work(4, 20000)\n"
    "let r1 = parallel_map(writes, [1, 2, 3])\n"      /* 18 */
    "let r2 = parallel_map(pure, [1, 2, 3])\n"        /* 19 */
    "let x = 0\n"
    "let y = 0\n"
    "let z = 0\n"
    "fork { x = work(5, 20000) }\n"                   /* 23 */
    "fork { y = work(6, 20000) }\n"
    "fork { z = work(7, 20000) }\n"
    "join\n"
    "print(a + b + c + d + x + y + z)\n";

static zx_status host_fn(void *ud, zx_vm *vm, const zx_val *const *argv, int argc, zx_val **result)
{
    (void)ud;
    (void)vm;
    (void)argv;
    (void)argc;
    *result = NULL;
    return ZX_OK;
}

typedef struct fixture {
    zx_vm *vm;
    zx_program *prog;
    topo *t;
} fixture;

static bool load(fixture *fx, const char *src)
{
    memset(fx, 0, sizeof *fx);
    zx_options o;
    zx_options_init(&o);
    o.jit = ZX_JIT_OFF;
    if (zx_vm_create(&o, &fx->vm) != ZX_OK) return false;
    if (zx_vm_register(fx->vm, "hpure", host_fn, NULL, ZX_HOST_PURE) != ZX_OK ||
        zx_vm_register(fx->vm, "himpure", host_fn, NULL, 0) != ZX_OK)
        return false;
    if (zx_program_load_source(fx->vm, "plan.zx", src, strlen(src), &fx->prog) != ZX_OK) {
        fprintf(stderr, "load failed: %s\n", zx_vm_last_error(fx->vm));
        return false;
    }
    char err[256];
    if (topo_create("package:2 numa:2 core:4 pu:2", &fx->t, err, sizeof err) != 0) {
        fprintf(stderr, "topology: %s\n", err);
        return false;
    }
    return true;
}

static void unload(fixture *fx)
{
    zx_vm_destroy(fx->vm);
    if (fx->t) topo_destroy(fx->t);
}

static zx_plan *plan_for(fixture *fx, int mode, int workers, const topo *t)
{
    plan_options o = { mode, 50, fx->prog->hosts };
    zx_plan *pl = plan_build(fx->prog, &o);
    if (!pl) return NULL;
    plan_machine m = { workers, true, t, t != NULL };
    if (!plan_set_machine(pl, fx->prog, &m)) {
        plan_free(pl);
        return NULL;
    }
    return pl;
}

static const analysis_code *code_named(const zx_plan *pl, const char *name)
{
    for (uint32_t i = 0; pl->a && i < pl->a->ncodes; i++)
        if (pl->a->codes[i].code->name && strcmp(pl->a->codes[i].code->name, name) == 0) return &pl->a->codes[i];
    return NULL;
}

static uint32_t global_slot(const zx_program *p, const char *name)
{
    for (uint32_t g = 0; g < p->nglobals; g++)
        if (strcmp(p->globals[g].name, name) == 0) return g;
    return UINT32_MAX;
}

/* The one fork site of the top level. */
static const plan_fork *the_fork(const zx_plan *pl, const zx_program *p)
{
    for (uint32_t pc = 0; pc < p->main->ncode; pc++)
        if (p->main->code[pc].op == OP_FORK_EXECUTION) return plan_fork_at(pl, p->main, pc);
    return NULL;
}

static void test_top_level(void)
{
    fixture fx;
    CHECK(load(&fx, PROGRAM));
    /* --mode=par with two workers: the top level is a DAG, the fork runs its blocks at once */
    zx_plan *pl = plan_for(&fx, ZX_MODE_PAR, 2, fx.t);
    CHECK(pl && pl->a && pl->main && pl->main_dag && pl->may_go_parallel);
    CHECK(pl && pl->main_width >= 4);
    const plan_fork *pf = pl ? the_fork(pl, fx.prog) : NULL;
    CHECK(pf && pf->parallel && pf->fork->nblocks == 3);
    plan_free(pl);

    /* --mode=auto: the same on evidence of heavy independent work, with two workers ... */
    pl = plan_for(&fx, ZX_MODE_AUTO, 2, NULL);
    CHECK(pl && pl->main_dag);
    pf = pl ? the_fork(pl, fx.prog) : NULL;
    CHECK(pf && pf->parallel);
    CHECK(pl && plan_worth_it(pl, 100000, 4.0) && !plan_worth_it(pl, 10, 4.0));
    /* ... and the fork in order with one */
    CHECK(pl && plan_set_machine(pl, fx.prog, &(plan_machine){ 1, true, NULL, false }));
    pf = pl ? the_fork(pl, fx.prog) : NULL;
    CHECK(pf && !pf->parallel);
    CHECK(pl && !plan_worth_it(pl, 100000, 4.0));
    plan_free(pl);

    /* --mode=seq: nothing to analyse, everything in order, one partition */
    pl = plan_for(&fx, ZX_MODE_SEQ, 2, NULL);
    CHECK(pl && !pl->a && !pl->main && !pl->main_dag && !pl->may_go_parallel);
    CHECK(pl && pl->place && !pl->place->place && pl->place->nparts == 0 && !pl->place->topo);
    CHECK(pl && the_fork(pl, fx.prog) == NULL);
    plan_free(pl);
    unload(&fx);
}

static void test_pmap_sites(void)
{
    fixture fx;
    CHECK(load(&fx, PROGRAM));
    zx_plan *pl = plan_for(&fx, ZX_MODE_PAR, 2, NULL);
    CHECK(pl != NULL);
    if (!pl) goto done;
    const analysis_code *w = code_named(pl, "writes"), *p = code_named(pl, "pure");
    CHECK(w && pl->codes[w->id].pmap_blocker && strstr(pl->codes[w->id].pmap_blocker, "assigns global 'plain'"));
    CHECK(p && pl->codes[p->id].pmap_blocker == NULL && pl->codes[p->id].cost > 0);
    /* host functions: the purity recorded when the program loaded */
    const zx_host_table *h = &fx.vm->hosts;
    int kp = zx_host_find(h, "hpure", 5), ki = zx_host_find(h, "himpure", 7);
    CHECK(kp >= 0 && ki >= 0);
    uint64_t cost = 1;
    if (kp >= 0 && ki >= 0) {
        CHECK(plan_pmap_blocker(pl, zx_objval(h->v[kp].obj), &cost) == NULL && cost == 0);
        const char *why = plan_pmap_blocker(pl, zx_objval(h->v[ki].obj), &cost);
        CHECK(why && strstr(why, "ZX_HOST_PURE"));
    }
done:
    plan_free(pl);
    unload(&fx);
}

static void test_placement(void)
{
    fixture fx;
    CHECK(load(&fx, PROGRAM));
    /* two pinned workers on the synthetic 2x2 machine: workers 0 and 1 sit on nodes 0 and 1 */
    zx_plan *pl = plan_for(&fx, ZX_MODE_PAR, 2, fx.t);
    const placement_layout *L = pl ? pl->place : NULL;
    CHECK(L && L->topo == fx.t && L->nused == 2 && L->used[0] == 0 && L->used[1] == 1);
    CHECK(L && L->nchunks == pl->main->nchunks && L->place != NULL);
    if (L && L->place) {
        /* a global written by one heavy chunk lives in the partition of that chunk's node */
        static const char *heavy[] = { "a", "b", "c", "d" };
        for (uint32_t i = 0; i < 4; i++) {
            uint32_t g = global_slot(fx.prog, heavy[i]), k = 0;
            while (k < pl->main->nchunks && pl->main->chunks[k].first_line != 14 + i) k++;
            CHECK(g != UINT32_MAX && k < pl->main->nchunks);
            if (g != UINT32_MAX && k < pl->main->nchunks) CHECK(L->nodes[L->place[g].part] == L->chunk_node[k]);
        }
        uint32_t gx = global_slot(fx.prog, "x"), gp = global_slot(fx.prog, "plain");
        /* a global that a fork block writes lives at home, on a line of its own */
        CHECK(gx != UINT32_MAX && L->nodes[L->place[gx].part] == ZX_PARTITION_HOME && L->place[gx].padded);
        CHECK(gp != UINT32_MAX);
        /* the partitions made from it, and their report */
        zx_partitions *ps = placement_partitions(L);
        CHECK(ps && ps->nparts == L->nparts);
        zx_buf j, x;
        zx_buf_init(&j);
        zx_buf_init(&x);
        if (ps) placement_report(L, fx.prog, ps, &j, &x);
        zx_buf_put(&j, "", 1);
        zx_buf_put(&x, "", 1);
        CHECK(strstr(j.data, "\"nodes_in_use\":[0,1]") != NULL);
        CHECK(strncmp(x.data, "partitions:", 11) == 0 && strstr(x.data, "home") != NULL);
        zx_buf_free(&j);
        zx_buf_free(&x);
        partitions_destroy(ps);
    }
    plan_free(pl);

    /* no topology: one partition, no rule */
    pl = plan_for(&fx, ZX_MODE_PAR, 2, NULL);
    CHECK(pl && pl->place && !pl->place->place && pl->place->nused == 0 && pl->place->nchunks == 0);
    plan_free(pl);
    unload(&fx);
}

/* The plan the VM makes for a run is the one it keeps with the program. */
static void test_vm_plan(void)
{
    fixture fx;
    CHECK(load(&fx, PROGRAM));
    const zx_plan *pl = zx_vm_plan(fx.vm, fx.prog);
    CHECK(pl && pl == fx.prog->plan && pl->mode == ZX_MODE_AUTO && pl->main_dag);
    CHECK(zx_vm_plan(fx.vm, fx.prog) == pl);
    unload(&fx);
}

int main(void)
{
    test_top_level();
    test_pmap_sites();
    test_placement();
    test_vm_plan();
    return CHECK_DONE();
}
