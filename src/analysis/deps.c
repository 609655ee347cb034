/* deps.c — effect summaries on locations (interprocedural, recursion included) and the dependency DAGs built from them. */
#include "analysis/analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytecode/flow.h"
#include "runtime/builtins.h"

/*
 * Calls are resolved by following where the callee value came from, with the stack-origin
 * pass of bytecode/flow.h over "tags": a value pushed by MAKE_CLOSURE c is a closure
 * of child c; a value loaded from a variable that has exactly one store in the whole program,
 * and that store stores a closure of child c, is a closure of c (true in every activation,
 * since locations are per code object, not per activation); a builtin pushed by LOAD_BUILTIN
 * is that builtin, and a host function pushed by LOAD_HOST is the pseudo-builtin
 * PURE_HOST when it was registered pure (an effect-free reader of its arguments) and unknown
 * otherwise.  Where two paths bring different tags, or anything else produced the value, the
 * callee is unknown.
 *
 * Costs are estimates in "instructions executed": one per instruction, times 100 per
 * enclosing loop; a call adds the callee's cost; recursion or an unknown callee adds a
 * large constant.
 */

typedef zx_flow_key tag;
#define TAG_UNKNOWN ZX_FLOW_MERGE
#define TAG_KIND(t) ((uint32_t)((t) >> 32))
#define TAG_ARG(t) ((uint32_t)(t))
enum {
    TK_VAR = 2, TK_CLOSURE = 3, TK_BUILTIN = 4,
    TK_CLASS = 5,             /* a class made by MAKE_CLASS */
    TK_NEW = 6,               /* the value of the top level's CALL_TOP or NEW_NAMED at pc arg */
    TK_OBJ = 7,               /* deps_find_objects: global arg's object */
    TK_THIS = 8,              /* deps_find_objects: the method's `this` */
    TK_OTHER = 9,             /* deps_find_objects: anything else */
};
#define MAKE_TAG(kind, arg) (((uint64_t)(kind) << 32) | (uint32_t)(arg))

#define LOOP_WEIGHT 100u
#define COST_RECURSIVE 1000000u      /* a call into a cycle of the call graph */
#define COST_UNKNOWN_CALL 1000u      /* a call nobody can see into */
#define PMAP_ELEMENTS 100u           /* parallel_map over a list of unknown length */
#define PURE_HOST ((uint32_t)ZX_BI_COUNT) /* the builtin id standing for any pure host function */

/* ---------- locations ---------- */

/* The location of captured variable k of code object id: a local of the scope declaring it. */
static uint32_t free_loc(const analysis *a, uint32_t id, uint32_t k)
{
    for (int hops = 0; hops <= ZX_MAX_CODE_DEPTH; hops++) {
        const analysis_code *ac = &a->codes[id];
        if (ac->parent == ANALYSIS_NONE || k >= ac->code->nfree) return ANALYSIS_NONE;
        const zx_freevar *fv = &ac->code->free[k];
        const analysis_code *p = &a->codes[ac->parent];
        if (fv->from_parent_local) return fv->index < p->code->nlocals ? p->loc_base + fv->index : ANALYSIS_NONE;
        id = ac->parent;
        k = fv->index;
    }
    return ANALYSIS_NONE;
}

static bool is_global(const analysis *a, uint32_t loc) { return loc < a->prog->nglobals; }

/* Own plain local of code object ac: private to one activation. */
static bool is_own_plain_local(const analysis_code *ac, uint32_t loc)
{
    if (loc < ac->loc_base || loc >= ac->loc_base + ac->code->nlocals) return false;
    uint32_t slot = loc - ac->loc_base;
    return !(ac->code->local_is_cell && ac->code->local_is_cell[slot]);
}

/* ---------- tags: where stack values come from ---------- */

/* A tag is a flow key (bytecode/flow.h): the stack-origin pass joins them, and where two
 * paths bring different tags the value is TAG_UNKNOWN (ZX_FLOW_MERGE). */
typedef struct tag_ctx {
    const analysis *a;
    const analysis_code *ac;
} tag_ctx;

/* The tag of the value pushed by instruction pc (a producer, not a shuffle). */
static zx_flow_key producer_tag(void *ctx, const zx_code *c, uint32_t pc, int i)
{
    const tag_ctx *cx = ctx;
    const analysis *a = cx->a;
    const analysis_code *ac = cx->ac;
    const zx_instr *in = &c->code[pc];
    if (i == ZX_FLOW_HANDLER_PUSH) return TAG_UNKNOWN;
    switch ((int)in->op) {
    case OP_LOAD_NAME: case OP_SHARED_READ:
        return MAKE_TAG(TK_VAR, in->a);
    case OP_LOAD_LOCAL: case OP_LOAD_CELL:
        return MAKE_TAG(TK_VAR, ac->loc_base + in->a);
    case OP_LOAD_FREE: {
        uint32_t loc = free_loc(a, ac->id, in->a);
        return loc == ANALYSIS_NONE ? TAG_UNKNOWN : MAKE_TAG(TK_VAR, loc);
    }
    case OP_MAKE_CLOSURE: {
        const analysis_code *child = in->a < c->nchildren ? analysis_code_of(a, c->children[in->a]) : NULL;
        return child ? MAKE_TAG(TK_CLOSURE, child->id) : TAG_UNKNOWN;
    }
    case OP_LOAD_BUILTIN:
        return MAKE_TAG(TK_BUILTIN, in->a);
    case OP_MAKE_CLASS:
        return MAKE_TAG(TK_CLASS, 0);
    case OP_CALL_TOP: case OP_NEW_NAMED:
        return ac->parent == ANALYSIS_NONE ? MAKE_TAG(TK_NEW, pc) : TAG_UNKNOWN;
    case OP_LOAD_HOST:
        return analysis_host_is_pure(a, c->consts[in->a]) ? MAKE_TAG(TK_BUILTIN, PURE_HOST) : TAG_UNKNOWN;
    default:
        return TAG_UNKNOWN;
    }
}

/* The tag that matters at an instruction: the stored value or the callee. */
static tag site_tag_of(const zx_instr *in, const zx_flow_origins *o, uint32_t pc)
{
    switch ((int)in->op) {
    case OP_STORE_NAME: case OP_STORE_LOCAL: case OP_STORE_CELL: case OP_STORE_FREE:
    case OP_CALL_TOP: case OP_PARALLEL_MAP:
        return zx_flow_operand(o, pc, 0);            /* the value stored; the callee */
    case OP_CALL_BUILTIN:
        return in->a == ZX_BI_parallel_map && in->b == 2 ? zx_flow_operand(o, pc, 0) : TAG_UNKNOWN;
    default:
        return TAG_UNKNOWN;
    }
}

/* site[pc] for every instruction of one code object, from the stack-origin pass. */
static bool tag_code(const analysis *a, const analysis_code *ac, tag *site)
{
    const zx_code *c = ac->code;
    tag_ctx cx = { a, ac };
    zx_flow_origins o;
    if (!zx_flow_origins_build(c, producer_tag, &cx, &o)) return false;
    for (uint32_t pc = 0; pc < c->ncode; pc++) site[pc] = site_tag_of(&c->code[pc], &o, pc);
    zx_flow_origins_free(&o);
    return true;
}

/* Count a store of `value` into loc. */
static void note_store(uint32_t *count, tag *stored, uint32_t loc, tag value)
{
    if (loc == ANALYSIS_NONE) return;
    if (count[loc] < 2) count[loc]++;
    stored[loc] = value;
}

/* Whether a callee tag is a class: made by MAKE_CLASS, or loaded from a variable whose one
 * store stores such a class. */
static bool is_class_tag(const analysis *a, const uint32_t *count, const tag *stored, tag t)
{
    if (TAG_KIND(t) == TK_CLASS) return true;
    uint32_t v = TAG_ARG(t);
    return TAG_KIND(t) == TK_VAR && v < a->nlocs && count[v] == 1 && TAG_KIND(stored[v]) == TK_CLASS;
}

/* a->obj_site[g]: the top level's pc that makes the new instance global g holds, for each global
 * that is not `shared`, has exactly one store in the program, a STORE_NAME of the top level's own
 * code, of the value of a construction (a class called, or cls{…}) that no other global stores
 * too; ANALYSIS_NONE for the others.  Whether the instance stays apart is deps_find_objects'. */
static bool object_candidates(analysis *a, const uint32_t *count, const tag *stored, const tag *main_site)
{
    const zx_program *p = a->prog;
    const zx_code *mc = a->codes[0].code;
    a->obj_site = malloc((p->nglobals ? p->nglobals : 1) * sizeof *a->obj_site);
    uint32_t *owner = malloc((mc->ncode ? mc->ncode : 1) * sizeof *owner);
    if (!a->obj_site || !owner) {
        free(owner);
        return false;
    }
    for (uint32_t pc = 0; pc < mc->ncode; pc++) owner[pc] = ANALYSIS_NONE;
    for (uint32_t g = 0; g < p->nglobals; g++) {
        a->obj_site[g] = ANALYSIS_NONE;
        if (p->globals[g].is_shared || a->fixed[g] != 1 || count[g] != 1 || TAG_KIND(stored[g]) != TK_NEW) continue;
        uint32_t pc = TAG_ARG(stored[g]);
        if (pc >= mc->ncode) continue;
        const zx_instr *in = &mc->code[pc];
        if (in->op != OP_NEW_NAMED && !(in->op == OP_CALL_TOP && is_class_tag(a, count, stored, main_site[pc])))
            continue;
        a->obj_site[g] = pc;
        owner[pc] = owner[pc] == ANALYSIS_NONE ? g : ANALYSIS_NONE - 1;   /* two globals: neither */
    }
    for (uint32_t g = 0; g < p->nglobals; g++)
        if (a->obj_site[g] != ANALYSIS_NONE && owner[a->obj_site[g]] != g) a->obj_site[g] = ANALYSIS_NONE;
    free(owner);
    return true;
}

bool deps_resolve_calls(analysis *a)
{
    bool ok = false;
    uint32_t nl = a->nlocs ? a->nlocs : 1;
    uint32_t *count = calloc(nl, sizeof *count);
    tag *stored = calloc(nl, sizeof *stored);
    tag **sites = calloc(a->ncodes, sizeof *sites);
    a->fixed = calloc(nl, 1);
    if (!count || !stored || !sites || !a->fixed) goto fail;
    for (uint32_t i = 0; i < a->ncodes; i++) {
        analysis_code *ac = &a->codes[i];
        const zx_code *c = ac->code;
        sites[i] = malloc((c->ncode ? c->ncode : 1) * sizeof **sites);
        ac->callee = malloc((c->ncode ? c->ncode : 1) * sizeof *ac->callee);
        if (!sites[i] || !ac->callee || !tag_code(a, ac, sites[i])) goto fail;
        /* parameters are stored by every call */
        for (uint32_t s = 0; s < c->nparams; s++) note_store(count, stored, ac->loc_base + s, TAG_UNKNOWN);
        for (uint32_t pc = 0; pc < c->ncode; pc++) {
            const zx_instr *in = &c->code[pc];
            switch ((int)in->op) {
            case OP_STORE_NAME:
                note_store(count, stored, in->a, sites[i][pc]);
                /* 1: stored by the top level's own code (2: by some other code object too) */
                if (in->a < nl) a->fixed[in->a] |= ac->parent == ANALYSIS_NONE ? 1 : 2;
                break;
            case OP_SHARED_WRITE:
                note_store(count, stored, in->a, TAG_UNKNOWN);
                break;
            case OP_STORE_LOCAL: case OP_STORE_CELL:
                note_store(count, stored, ac->loc_base + in->a, sites[i][pc]);
                break;
            case OP_STORE_FREE:
                note_store(count, stored, free_loc(a, i, in->a), sites[i][pc]);
                break;
            case OP_GET_ITER:
                note_store(count, stored, ac->loc_base + in->a, TAG_UNKNOWN);
                note_store(count, stored, ac->loc_base + in->a + 1, TAG_UNKNOWN);
                break;
            case OP_FOR_ITER1: case OP_FOR_ITER2:
                note_store(count, stored, ac->loc_base + in->b + 1, TAG_UNKNOWN);
                break;
            default:
                break;
            }
        }
    }
    for (uint32_t i = 0; i < a->ncodes; i++) {
        analysis_code *ac = &a->codes[i];
        for (uint32_t pc = 0; pc < ac->code->ncode; pc++) {
            tag t = sites[i][pc];
            uint32_t id = ANALYSIS_NONE;
            unsigned op = ac->code->code[pc].op;
            bool is_call = op == OP_CALL_TOP || op == OP_PARALLEL_MAP ||
                           (op == OP_CALL_BUILTIN && ac->code->code[pc].a == ZX_BI_parallel_map);
            if (is_call && TAG_KIND(t) == TK_CLOSURE) {
                id = TAG_ARG(t);
            } else if (is_call && TAG_KIND(t) == TK_VAR) {
                uint32_t loc = TAG_ARG(t);
                if (loc < a->nlocs && count[loc] == 1 && TAG_KIND(stored[loc]) == TK_CLOSURE) id = TAG_ARG(stored[loc]);
            }
            ac->callee[pc] = id;
            if (is_call && id == ANALYSIS_NONE && TAG_KIND(t) == TK_BUILTIN && TAG_ARG(t) <= PURE_HOST)
                ac->callee[pc] = ANALYSIS_CALLEE_BUILTIN(TAG_ARG(t));
        }
    }
    if (!object_candidates(a, count, stored, sites[0])) goto fail;
    /* the globals that hold an action defined once by the top level */
    for (uint32_t loc = 0; loc < a->nlocs; loc++)
        a->fixed[loc] = is_global(a, loc) && !a->prog->globals[loc].is_shared && a->fixed[loc] == 1 &&
                        count[loc] == 1 && TAG_KIND(stored[loc]) == TK_CLOSURE;
    ok = true;
fail:
    for (uint32_t i = 0; sites && i < a->ncodes; i++) free(sites[i]);
    free(sites);
    free(count);
    free(stored);
    return ok;
}

/* ---------- objects: methods by name, instances told apart ---------- */

/* The name of code object c as a class method (after the last '.' of "Class.name"), or NULL. */
static const char *method_name(const zx_code *c)
{
    const char *dot = c->kind == ZX_CODE_ACTION && c->name ? strrchr(c->name, '.') : NULL;
    return dot ? dot + 1 : NULL;
}

static const analysis *meth_sort_a;   /* qsort has no context argument; the build is single-threaded */

static int meth_cmp(const void *x, const void *y)
{
    const char *p = method_name(meth_sort_a->codes[*(const uint32_t *)x].code);
    const char *q = method_name(meth_sort_a->codes[*(const uint32_t *)y].code);
    int c = strcmp(p, q);
    uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;
    return c ? c : (i > j) - (i < j);
}

uint32_t analysis_method_callees(const analysis *a, const analysis_code *ac, uint32_t pc, const uint32_t **ids)
{
    const zx_code *c = ac->code;
    const zx_instr *in = &c->code[pc];
    *ids = NULL;
    if (in->op != OP_CALL_METHOD || in->a >= c->nconsts || !zx_is_type(c->consts[in->a], ZX_O_STRING)) return 0;
    const char *name = ZX_AS_STRING(c->consts[in->a])->data;
    uint32_t lo = 0, hi = a->nmeths;
    while (lo < hi) {                     /* the first entry not below name */
        uint32_t mid = lo + (hi - lo) / 2;
        if (strcmp(a->meth_name[mid], name) < 0) lo = mid + 1;
        else hi = mid;
    }
    uint32_t end = lo;
    while (end < a->nmeths && strcmp(a->meth_name[end], name) == 0) end++;
    *ids = a->meth_id + lo;
    return end - lo;
}

/* Does method ac have a `this` whose loads the key function can follow: its first parameter,
 * named so, a plain local (no closure captures it) that nothing stores into? */
static bool this_trackable(const analysis_code *ac)
{
    const zx_code *c = ac->code;
    if (!method_name(c) || c->nparams < 1 || c->nlocals < 1 || strcmp(c->local_names[0], "this") != 0) return false;
    if (c->local_is_cell && c->local_is_cell[0]) return false;
    for (uint32_t pc = 0; pc < c->ncode; pc++) {
        const zx_instr *in = &c->code[pc];
        if ((in->op == OP_STORE_LOCAL || in->op == OP_STORE_CELL || in->op == OP_GET_ITER) && in->a == 0) return false;
        if ((in->op == OP_FOR_ITER1 || in->op == OP_FOR_ITER2) && in->b + 1 == 0) return false;
    }
    return true;
}

typedef struct obj_ctx {
    const analysis *a;
    const analysis_code *ac;
    bool track_this;
    const uint32_t *site_owner;           /* the top level only: per pc, the global whose object it makes */
} obj_ctx;

/* Keys of the object pass: a load of a candidate global, a construction a candidate stores, a
 * load of `this`; everything else one key, so that a join of an object with anything else is
 * ZX_FLOW_MERGE. */
static zx_flow_key object_key(void *ctx, const zx_code *c, uint32_t pc, int i)
{
    const obj_ctx *x = ctx;
    const zx_instr *in = &c->code[pc];
    if (i == ZX_FLOW_HANDLER_PUSH) return MAKE_TAG(TK_OTHER, 0);   /* the error's text and value */
    if (in->op == OP_LOAD_NAME && in->a < x->a->prog->nglobals && x->a->obj_site[in->a] != ANALYSIS_NONE)
        return MAKE_TAG(TK_OBJ, in->a);
    if (x->site_owner && x->site_owner[pc] != ANALYSIS_NONE) return MAKE_TAG(TK_OBJ, x->site_owner[pc]);
    if (in->op == OP_LOAD_LOCAL && in->a == 0 && x->track_this) return MAKE_TAG(TK_THIS, 0);
    return MAKE_TAG(TK_OTHER, 0);
}

/* May an object (a candidate's, or `this`) be operand j of `in` without going anywhere?  A field
 * read or store of it, a method called on it, printing it, dropping it; and the store of a
 * construction into its own global. */
static bool object_use_ok(const zx_instr *in, uint32_t j, tag t, bool is_main)
{
    switch ((int)in->op) {
    case OP_INDEX: case OP_GET_FIELD: case OP_STORE_INDEX: case OP_CALL_METHOD: case OP_POP:
        return j == 0;
    case OP_PRINT:
        return true;
    case OP_STORE_NAME:
        return is_main && TAG_KIND(t) == TK_OBJ && in->a == TAG_ARG(t);
    default:
        return false;
    }
}

/* One code object's uses of objects: fills ac->recv (candidate globals by slot for now, marked
 * with TK_OBJ tags' args; deps_find_objects maps them) and marks what escapes. */
static bool object_uses(analysis *a, analysis_code *ac, const uint32_t *site_owner, uint8_t *escapes, bool *this_ok)
{
    const zx_code *c = ac->code;
    obj_ctx cx = { a, ac, *this_ok, site_owner };
    zx_flow_origins o;
    if (!zx_flow_origins_build(c, object_key, &cx, &o)) {
        if (!c->depth) return true;        /* unverified: nothing is told apart (callers check) */
        return false;
    }
    ac->recv = malloc((c->ncode ? c->ncode : 1) * sizeof *ac->recv);
    if (!ac->recv) {
        zx_flow_origins_free(&o);
        return false;
    }
    /* object_key calls every value a handler's target starts with "other": true of the error's
     * text and value; values below them (kept from before the try) it cannot tell apart */
    bool mixed = false;
    for (uint32_t k = 0; k < c->nhandlers; k++)
        if (c->handlers[k].target < c->ncode && c->depth[c->handlers[k].target] > 2) mixed = true;
    for (uint32_t pc = 0; pc < c->ncode; pc++) {
        const zx_instr *in = &c->code[pc];
        ac->recv[pc] = ANALYSIS_RECV_HEAP;
        if (c->depth[pc] < 0) continue;    /* unreachable */
        const zx_opinfo *info = zx_op_info(in->op);
        if (!info || (info->flags & OPF_SHUFFLE)) continue;   /* the pass follows the copies */
        uint32_t np = o.off[pc + 1] - o.off[pc];
        for (uint32_t j = 0; j < np; j++) {
            tag t = zx_flow_operand(&o, pc, j);
            if (t == TAG_UNKNOWN) {
                mixed = true;
                continue;
            }
            if (TAG_KIND(t) != TK_OBJ && TAG_KIND(t) != TK_THIS) continue;
            bool is_this = TAG_KIND(t) == TK_THIS;
            uint32_t r = is_this ? ANALYSIS_RECV_THIS : TAG_ARG(t);
            bool ok = object_use_ok(in, j, t, ac->parent == ANALYSIS_NONE);
            if (ok && (in->op == OP_POP || in->op == OP_STORE_NAME)) continue;
            if (ok && ac->recv[pc] != ANALYSIS_RECV_HEAP && ac->recv[pc] != r) {
                /* two objects printed together: both are let go */
                if (ac->recv[pc] == ANALYSIS_RECV_THIS) *this_ok = false;
                else escapes[ac->recv[pc]] = 1;
                ok = false;
            }
            if (!ok) {
                if (is_this) *this_ok = false;
                else escapes[TAG_ARG(t)] = 1;
                continue;
            }
            ac->recv[pc] = r;
        }
    }
    if (mixed) {
        /* a join of an object with something else: whatever this code loads is let go */
        for (uint32_t pc = 0; pc < c->ncode; pc++) {
            tag t = c->depth[pc] >= 0 ? object_key(&cx, c, pc, 0) : MAKE_TAG(TK_OTHER, 0);   /* its loads */
            if (TAG_KIND(t) == TK_THIS) *this_ok = false;
            if (TAG_KIND(t) == TK_OBJ) escapes[TAG_ARG(t)] = 1;
        }
    }
    zx_flow_origins_free(&o);
    return true;
}

bool deps_find_objects(analysis *a)
{
    const zx_program *p = a->prog;
    uint32_t ng = p->nglobals;
    bool ok = false;
    uint8_t *escapes = calloc(ng ? ng : 1, 1), *this_ok = calloc(a->ncodes ? a->ncodes : 1, 1);
    uint32_t *site_owner = NULL;
    if (!escapes || !this_ok) goto done;

    /* the class methods, sorted by name */
    a->meth_id = malloc((a->ncodes ? a->ncodes : 1) * sizeof *a->meth_id);
    a->meth_name = malloc((a->ncodes ? a->ncodes : 1) * sizeof *a->meth_name);
    if (!a->meth_id || !a->meth_name) goto done;
    for (uint32_t i = 0; i < a->ncodes; i++)
        if (method_name(a->codes[i].code)) a->meth_id[a->nmeths++] = i;
    meth_sort_a = a;
    qsort(a->meth_id, a->nmeths, sizeof *a->meth_id, meth_cmp);
    for (uint32_t k = 0; k < a->nmeths; k++) a->meth_name[k] = method_name(a->codes[a->meth_id[k]].code);

    bool any = false, all_clean = true;
    for (uint32_t g = 0; g < ng; g++) any |= a->obj_site[g] != ANALYSIS_NONE;
    const zx_code *mc = a->codes[0].code;
    if (any) {
        site_owner = malloc((mc->ncode ? mc->ncode : 1) * sizeof *site_owner);
        if (!site_owner) goto done;
        for (uint32_t pc = 0; pc < mc->ncode; pc++) site_owner[pc] = ANALYSIS_NONE;
        for (uint32_t g = 0; g < ng; g++)
            if (a->obj_site[g] != ANALYSIS_NONE) site_owner[a->obj_site[g]] = g;
    }
    for (uint32_t i = 0; i < a->ncodes; i++) {
        analysis_code *ac = &a->codes[i];
        const zx_code *c = ac->code;
        this_ok[i] = this_trackable(ac);
        if (method_name(c) && c->nparams >= 1 && !this_ok[i]) all_clean = false;   /* `this` may go anywhere */
        bool loads = i == 0 && any;
        for (uint32_t pc = 0; pc < c->ncode && any && !loads; pc++)
            loads = c->code[pc].op == OP_LOAD_NAME && c->code[pc].a < ng && a->obj_site[c->code[pc].a] != ANALYSIS_NONE;
        if (!loads && !this_ok[i]) continue;
        bool t_ok = this_ok[i];
        if (!object_uses(a, ac, i == 0 ? site_owner : NULL, escapes, &t_ok)) goto done;
        if (!ac->recv) {                   /* no verifier facts: nothing here is told apart */
            for (uint32_t g = 0; g < ng; g++) escapes[g] = 1;
            t_ok = false;
        }
        if (this_ok[i] && !t_ok) all_clean = false;
        this_ok[i] = t_ok;
    }

    /* the objects told apart, and every recv mapped onto their locations */
    uint32_t *loc_of = NULL;
    a->obj_global = malloc((ng ? ng : 1) * sizeof *a->obj_global);
    loc_of = malloc((ng ? ng : 1) * sizeof *loc_of);
    if (!a->obj_global || !loc_of) {
        free(loc_of);
        goto done;
    }
    for (uint32_t g = 0; g < ng; g++) {
        loc_of[g] = ANALYSIS_RECV_HEAP;
        if (a->obj_site[g] == ANALYSIS_NONE || escapes[g] || !all_clean) continue;
        if ((uint64_t)a->nlocs + a->nobjs + 2 >= ANALYSIS_RECV_THIS) break;
        loc_of[g] = a->nlocs + a->nobjs;
        a->obj_global[a->nobjs++] = g;
    }
    for (uint32_t i = 0; i < a->ncodes; i++) {
        analysis_code *ac = &a->codes[i];
        for (uint32_t pc = 0; ac->recv && pc < ac->code->ncode; pc++) {
            uint32_t r = ac->recv[pc];
            if (r == ANALYSIS_RECV_THIS) ac->recv[pc] = this_ok[i] ? r : ANALYSIS_RECV_HEAP;
            else if (r != ANALYSIS_RECV_HEAP) ac->recv[pc] = loc_of[r];
        }
    }
    free(loc_of);
    ok = true;
done:
    free(escapes);
    free(this_ok);
    free(site_owner);
    return ok;
}

/* The builtin a call site calls, or -1. */
static int site_builtin(const analysis *a, const analysis_code *ac, uint32_t pc)
{
    uint32_t v = ac->callee[pc];
    if (v == ANALYSIS_NONE || v < a->ncodes) return -1;
    uint32_t b = ANALYSIS_NONE - 1 - v;
    return b <= PURE_HOST ? (int)b : -1;
}

/* The code object a call site calls, or ANALYSIS_NONE. */
static uint32_t site_code(const analysis *a, const analysis_code *ac, uint32_t pc)
{
    uint32_t v = ac->callee[pc];
    return v < a->ncodes ? v : ANALYSIS_NONE;
}

/* ---------- effects of single instructions ---------- */

/* Add the effect column of a builtin (id b, or -1 for a method) or method (runtime/builtins.h)
 * to s.  Effects with no location of their own (ZX_FX_ORDERED: files, clock, random state,
 * sleeping) are kept by kind with the builtin that has them: any two code paths that both have
 * one are ordered (deps_conflict), and the reasons name it. */
static void add_effects(unsigned fx, int b, analysis_summary *s)
{
    if (fx & ZX_FX_READS_HEAP) s->reads_heap = true;
    if (fx & ZX_FX_WRITES_HEAP) s->writes_heap = true;
    if (fx & ZX_FX_PRINTS) s->has_output = true;
    if (fx & ZX_FX_CALLS) s->calls_unknown = true;    /* its function was not resolved */
    if (fx & ZX_FX_ORDERED) {
        if (b < 0) s->calls_unknown = true;           /* no name to give: order it like anything */
        s->ordered_fx |= fx & ZX_FX_ORDERED;
        for (int k = 0; k < ANALYSIS_FX_KINDS && b >= 0; k++)
            if ((fx & analysis_fx_bit(k)) && !s->fx_builtin[k]) s->fx_builtin[k] = (uint16_t)(b + 1);
    }
    s->may_raise = true;
}

static bool builtin_effects(int b, analysis_summary *s)
{
    /* a host function registered pure is an effect-free reader of its arguments */
    add_effects(b == (int)PURE_HOST ? ZX_FX_READS_HEAP : zx_builtin_effects(b), b, s);
    return true;
}

/* The variables of many instructions, gathered unsorted and sorted once: adding them one by
 * one into a set costs a path of new trie nodes each, where a sorted run of ids makes each
 * leaf once. */
typedef struct locbuf {
    uint32_t *ids;
    size_t n, cap;
} locbuf;

static bool locbuf_add(locbuf *b, uint32_t id)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        uint32_t *ids = realloc(b->ids, cap * sizeof *ids);
        if (!ids) return false;
        b->ids = ids;
        b->cap = cap;
    }
    b->ids[b->n++] = id;
    return true;
}

static int u32_cmp(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

/* Sort and deduplicate b in place. */
static void locbuf_sort(locbuf *b)
{
    if (!b->n) return;
    qsort(b->ids, b->n, sizeof *b->ids, u32_cmp);
    size_t k = 0;
    for (size_t i = 0; i < b->n; i++)
        if (!k || b->ids[i] != b->ids[k - 1]) b->ids[k++] = b->ids[i];
    b->n = k;
}

/* Merge b's ids into out and empty b (its room kept). */
static bool locbuf_into(analysis_arena *ar, locbuf *b, analysis_locset *out)
{
    locbuf_sort(b);
    bool ok = b->n < ANALYSIS_NONE && analysis_locset_add_sorted(ar, out, b->ids, (uint32_t)b->n);
    b->n = 0;
    return ok;
}

/* Push every id of s into b. */
static bool locbuf_push_set(locbuf *b, const analysis_locset *s)
{
    analysis_locset_iter it;
    uint32_t id;
    analysis_locset_iter_init(&it, s);
    while (analysis_locset_next(&it, &id))
        if (!locbuf_add(b, id)) return false;
    return true;
}

/* The variables instructions read, write and update (op=), gathered unsorted. */
typedef struct instr_acc {
    locbuf r, w, u;
} instr_acc;

/* Effects on the fields of an object whose fields are location `recv` (ANALYSIS_RECV_THIS: the
 * method's own receiver, kept apart; ANALYSIS_RECV_HEAP: the heap): flags to s, and the location
 * into x's buffers when x is given (one instruction's), else into s's sets (nodes in ar). */
static bool object_effects(analysis_arena *ar, analysis_summary *s, instr_acc *x, bool r, bool w, uint32_t recv)
{
    if (recv == ANALYSIS_RECV_THIS) {
        s->this_reads |= r;
        s->this_writes |= w;
        return true;
    }
    if (recv == ANALYSIS_RECV_HEAP) {
        s->reads_heap |= r;
        s->writes_heap |= w;
        return true;
    }
    if (x) return (!r || locbuf_add(&x->r, recv)) && (!w || locbuf_add(&x->w, recv));
    return (!r || analysis_locset_add(ar, &s->reads, recv)) && (!w || analysis_locset_add(ar, &s->writes, recv));
}

/* s gets what a call does, o its callee's summary, seen from a call site whose receiver's fields
 * are `recv` (ANALYSIS_RECV_HEAP for a call without a receiver): the callee's effects on its
 * `this` become effects on that receiver.  s shares o's sets; the receiver costs one id. */
static bool union_at(analysis_arena *ar, analysis_summary *s, const analysis_summary *o, uint32_t recv)
{
    bool tr = s->this_reads, tw = s->this_writes;
    if (!analysis_summary_union(ar, s, o)) return false;
    if (recv == ANALYSIS_RECV_THIS) return true;
    s->this_reads = tr;
    s->this_writes = tw;
    return object_effects(ar, s, NULL, o->this_reads, o->this_writes, recv);
}

static uint32_t recv_at(const analysis_code *ac, uint32_t pc)
{
    return ac->recv ? ac->recv[pc] : ANALYSIS_RECV_HEAP;
}

/* A method call's own effects (its callees, the class methods of that name, are added where
 * calls are): on an instance it runs one of those methods or a data method (toString, equals,
 * clone: reads its fields and, formatting, the heap); on anything else the builtin method of
 * that name, if any. */
static bool method_effects(const analysis *a, const analysis_code *ac, uint32_t pc, analysis_summary *s, instr_acc *x)
{
    const zx_code *c = ac->code;
    const zx_instr *in = &c->code[pc];
    const char *name = NULL;
    if (in->a < c->nconsts && zx_is_type(c->consts[in->a], ZX_O_STRING)) name = ZX_AS_STRING(c->consts[in->a])->data;
    s->reads_heap = true;
    s->may_raise = true;
    if (!name) {
        s->calls_unknown = true;
        return true;
    }
    uint32_t recv = recv_at(ac, pc);
    if (recv != ANALYSIS_RECV_HEAP) return object_effects(NULL, s, x, true, false, recv);   /* surely an instance */
    int m = zx_method_lookup(name);
    const uint32_t *ids;
    if (m >= 0 || !analysis_method_callees(a, ac, pc, &ids)) add_effects(zx_method_effects(m), -1, s);
    return true;
}

/* Whether the value that instruction pc pushes is surely not a list: a constant, or the
 * result of an operator or builtin that never gives one. */
static bool makes_no_list(const zx_code *c, uint32_t pc)
{
    const zx_instr *in = &c->code[pc];
    switch ((int)in->op) {
    case OP_LOAD_CONST: case OP_SUB: case OP_MUL: case OP_DIV: case OP_MOD: case OP_POW:
    case OP_NEG: case OP_NOT: case OP_EQ: case OP_NEQ: case OP_LT: case OP_GT: case OP_LTE: case OP_GTE:
        return true;
    case OP_CALL_BUILTIN:
        return !(zx_builtin_result((int)in->a) & ZX_RES_OBJ);
    default:
        return false;
    }
}

/* `a + b` reads list contents only when both operands may be lists (list + list makes a new
 * list; with one operand not a list it adds numbers or strings, which are immutable, or
 * raises).  Looks at the straight-line producers of the operands: the instruction before pc
 * (the right operand) and, when that one only pushed, the one before it (the left). */
static bool add_reads_no_list(const zx_code *c, uint32_t pc)
{
    if (!c->pcflags || pc < 1 || (c->pcflags[pc] & ZX_PC_TARGET)) return false;
    if (makes_no_list(c, pc - 1)) return true;
    int pops, pushes;
    zx_op_stack_effect(&c->code[pc - 1], &pops, &pushes);
    if (pops != 0 || pushes != 1 || pc < 2 || (c->pcflags[pc - 1] & ZX_PC_TARGET)) return false;
    const zx_opinfo *prev = zx_op_info(c->code[pc - 2].op);
    if (!prev || (prev->flags & (OPF_JUMPS | OPF_ENDS))) return false;
    return makes_no_list(c, pc - 2);
}

/* Add the effects of instruction pc itself (not of what it calls): flags to s, variables to x. */
static bool instr_effects(const analysis *a, const analysis_code *ac, uint32_t pc, analysis_summary *s, instr_acc *x)
{
    const zx_code *c = ac->code;
    const zx_instr *in = &c->code[pc];
    const zx_opinfo *info = zx_op_info(in->op);
    if (!info) return true;
    if (info->flags & OPF_RAISES) s->may_raise = true;
    /* a field of an object told apart, or of the method's own `this`: not the heap (s gathers
     * many instructions' flags, so this one's heap flags are left unset rather than cleared) */
    bool field = (in->op == OP_INDEX || in->op == OP_GET_FIELD || in->op == OP_STORE_INDEX) &&
                 recv_at(ac, pc) != ANALYSIS_RECV_HEAP;
    if (!(info->flags & OPF_CALLS) && !field) {   /* a call's heap effects: its callee's or its builtin/method row's */
        if ((info->flags & OPF_READS_HEAP) && !(in->op == OP_ADD && add_reads_no_list(c, pc))) s->reads_heap = true;
        if (info->flags & OPF_WRITES_HEAP) s->writes_heap = true;
        if (info->flags & OPF_OUTPUT) s->has_output = true;
    }
    bool ok = true;
    switch ((int)in->op) {
    case OP_INDEX: case OP_GET_FIELD: case OP_STORE_INDEX:
        if (field) ok = object_effects(NULL, s, x, in->op != OP_STORE_INDEX, in->op == OP_STORE_INDEX, recv_at(ac, pc));
        break;
    case OP_PRINT:
        ok = recv_at(ac, pc) == ANALYSIS_RECV_HEAP || object_effects(NULL, s, x, true, false, recv_at(ac, pc));
        break;
    case OP_LOAD_NAME: case OP_SHARED_READ:
        ok = locbuf_add(&x->r, in->a);
        break;
    case OP_STORE_NAME:
        ok = locbuf_add(&x->w, in->a);
        break;
    case OP_SHARED_WRITE:
        ok = locbuf_add(&x->u, in->a);
        break;
    case OP_LOAD_LOCAL: case OP_LOAD_CELL:
        ok = locbuf_add(&x->r, ac->loc_base + in->a);
        break;
    case OP_STORE_LOCAL: case OP_STORE_CELL:
        ok = locbuf_add(&x->w, ac->loc_base + in->a);
        break;
    case OP_LOAD_FREE: case OP_STORE_FREE: {
        uint32_t loc = free_loc(a, ac->id, in->a);
        if (loc == ANALYSIS_NONE) {
            s->calls_unknown = true;      /* a malformed capture: assume anything */
            break;
        }
        ok = locbuf_add(in->op == OP_LOAD_FREE ? &x->r : &x->w, loc);
        break;
    }
    case OP_GET_ITER:
        ok = locbuf_add(&x->w, ac->loc_base + in->a) && locbuf_add(&x->w, ac->loc_base + in->a + 1);
        break;
    case OP_FOR_ITER1: case OP_FOR_ITER2:
        ok = locbuf_add(&x->r, ac->loc_base + in->b) && locbuf_add(&x->r, ac->loc_base + in->b + 1) &&
             locbuf_add(&x->w, ac->loc_base + in->b + 1);
        break;
    case OP_CALL_METHOD:
        ok = method_effects(a, ac, pc, s, x);
        break;
    case OP_CALL_BUILTIN:
        if (in->a == ZX_BI_parallel_map && site_code(a, ac, pc) != ANALYSIS_NONE) {
            s->reads_heap = true;         /* resolved: the callee's summary is added by the caller */
            s->may_raise = true;
            break;
        }
        builtin_effects((int)in->a, s);
        break;
    case OP_CALL_TOP: case OP_PARALLEL_MAP: {
        if (in->op == OP_PARALLEL_MAP) s->reads_heap = true;   /* it reads the list */
        if (site_code(a, ac, pc) != ANALYSIS_NONE) break;
        int b = site_builtin(a, ac, pc);
        if (b >= 0) builtin_effects(b, s);
        else s->calls_unknown = true;
        break;
    }
    default:
        break;
    }
    return ok;
}

/* The code ids a call site (or fork) runs: up to all blocks of a fork. */
static uint32_t site_targets(const analysis *a, const analysis_code *ac, uint32_t pc, uint32_t *out, uint32_t max)
{
    const zx_instr *in = &ac->code->code[pc];
    uint32_t n = 0;
    if (in->op == OP_FORK_EXECUTION) {
        for (uint32_t i = 0; i < in->b && n < max; i++) {
            uint32_t k = in->a + i;
            const analysis_code *b = k < ac->code->nchildren ? analysis_code_of(a, ac->code->children[k]) : NULL;
            if (b) out[n++] = b->id;
        }
        return n;
    }
    uint32_t id = site_code(a, ac, pc);
    if (id != ANALYSIS_NONE && max) out[n++] = id;
    return n;
}

static uint64_t loop_weight(const analysis_code *ac, uint32_t pc)
{
    uint64_t w = 1;
    for (uint32_t i = 0; i < ac->loop_depth[pc] && w != UINT64_MAX; i++) w = analysis_cost_mul(w, LOOP_WEIGHT);
    return w;
}

static bool acc_finish(analysis_arena *ar, instr_acc *x, analysis_summary *out, bool ok)
{
    ok = ok && locbuf_into(ar, &x->r, &out->reads) && locbuf_into(ar, &x->w, &out->writes) &&
         locbuf_into(ar, &x->u, &out->updates);
    free(x->r.ids);
    free(x->w.ids);
    free(x->u.ids);
    return ok;
}

bool deps_range_effects(analysis *a, const analysis_code *ac, uint32_t start, uint32_t end,
                        analysis_summary *out)
{
    const zx_code *c = ac->code;
    instr_acc x;
    memset(&x, 0, sizeof x);
    bool ok = false;
    for (uint32_t pc = start; pc < end && pc < c->ncode; pc++) {
        const zx_instr *in = &c->code[pc];
        if (!instr_effects(a, ac, pc, out, &x)) goto done;
        if (c->pcflags[pc] & ZX_PC_BACK_EDGE) out->loops_or_recurses = true;
        if (in->op == OP_PARALLEL_MAP) out->loops_or_recurses = true;
        out->cost = analysis_cost_add(out->cost, ac->site_cost ? ac->site_cost[pc] : 1);
        if (in->op == OP_FORK_EXECUTION) {
            for (uint32_t i = 0; i < in->b; i++) {
                uint32_t k = in->a + i;
                const analysis_code *b = k < c->nchildren ? analysis_code_of(a, c->children[k]) : NULL;
                if (!b) continue;
                uint64_t keep = out->cost;
                if (!union_at(&a->arena, out, &b->summary, ANALYSIS_RECV_HEAP)) goto done;
                out->cost = keep;     /* site_cost already counts the blocks */
            }
            continue;
        }
        const uint32_t *ids;
        uint32_t nm = analysis_method_callees(a, ac, pc, &ids);
        for (uint32_t k = 0; k < nm; k++) {
            uint64_t keep = out->cost;
            if (!union_at(&a->arena, out, &a->codes[ids[k]].summary, recv_at(ac, pc))) goto done;
            out->cost = keep;
        }
        uint32_t id = site_code(a, ac, pc);
        if (id == ANALYSIS_NONE) continue;
        uint64_t keep = out->cost;
        if (!union_at(&a->arena, out, &a->codes[id].summary, ANALYSIS_RECV_HEAP)) goto done;
        out->cost = keep;
    }
    if (ac->parent != ANALYSIS_NONE) {   /* fixed globals: see analysis_code.fixed_reads (callees' */
        size_t k = 0;                    /* summaries have none) */
        for (size_t i = 0; i < x.r.n; i++)
            if (x.r.ids[i] >= a->nlocs || !a->fixed[x.r.ids[i]]) x.r.ids[k++] = x.r.ids[i];   /* objects */
        x.r.n = k;
    }
    ok = true;
done:
    ok = acc_finish(&a->arena, &x, out, ok);
    /* chunks of a method: its own `this` is one more object of the heap to them */
    out->reads_heap |= out->this_reads;
    out->writes_heap |= out->this_writes;
    out->this_reads = out->this_writes = false;
    return ok;
}

/* ---------- reads of fixed globals, gathered where they matter ---------- */

/* Push the fixed reads of every code object that instructions [start, end) of ac call (fork
 * blocks included), transitively, each code object once per stamp, into b. */
static bool fixed_reads_from(const analysis *a, const analysis_code *ac, uint32_t start, uint32_t end,
                             uint32_t *seen, uint32_t stamp, uint32_t **stack, uint32_t *cap, locbuf *b)
{
    uint32_t sp = 0;
    const analysis_code *cur = ac;
    uint32_t lo = start, hi = end;
    for (;;) {
        const zx_code *c = cur->code;
        for (uint32_t pc = lo; pc < hi && pc < c->ncode; pc++) {
            const zx_instr *in = &c->code[pc];
            uint32_t targets[1], nt = 0, first = 0;
            const uint32_t *tp = targets;
            if (in->op == OP_FORK_EXECUTION) {
                nt = in->b;
                first = in->a;
            } else if (in->op == OP_CALL_METHOD) {
                nt = analysis_method_callees(a, cur, pc, &tp);
            } else if (cur->callee && cur->callee[pc] < a->ncodes) {
                targets[0] = cur->callee[pc];
                nt = 1;
            }
            for (uint32_t t = 0; t < nt; t++) {
                uint32_t id;
                if (in->op == OP_FORK_EXECUTION) {
                    const analysis_code *bk = first + t < c->nchildren ? analysis_code_of(a, c->children[first + t]) : NULL;
                    if (!bk) continue;
                    id = bk->id;
                } else {
                    id = tp[t];
                }
                if (seen[id] == stamp) continue;
                seen[id] = stamp;
                if (sp == *cap) {
                    uint32_t ncap = *cap ? *cap * 2 : 64;
                    uint32_t *ns = realloc(*stack, (size_t)ncap * sizeof *ns);
                    if (!ns) return false;
                    *stack = ns;
                    *cap = ncap;
                }
                (*stack)[sp++] = id;
            }
        }
        if (!sp) return true;
        cur = &a->codes[(*stack)[--sp]];
        if (!locbuf_push_set(b, &cur->fixed_reads)) return false;
        lo = 0;
        hi = cur->code->ncode;
    }
}

bool deps_add_fixed_reads(analysis *a, analysis_code *mc)
{
    uint32_t *seen = calloc(a->ncodes ? a->ncodes : 1, sizeof *seen), *stack = NULL, cap = 0;
    locbuf b = { NULL, 0, 0 };
    bool ok = seen != NULL;
    for (uint32_t k = 0; k < mc->nchunks && ok; k++) {
        analysis_chunk *ch = &mc->chunks[k];
        ok = fixed_reads_from(a, mc, ch->start, ch->end, seen, k + 1, &stack, &cap, &b) &&
             locbuf_into(&a->arena, &b, &ch->eff.reads);
    }
    free(seen);
    free(stack);
    free(b.ids);
    return ok;
}

bool analysis_reads_closure(const analysis *a, const analysis_code *ac, uint32_t **ids, uint32_t *n)
{
    uint32_t *seen = calloc(a->ncodes ? a->ncodes : 1, sizeof *seen), *stack = NULL, cap = 0;
    locbuf b = { NULL, 0, 0 };
    bool ok = seen && locbuf_push_set(&b, &ac->summary.reads) && locbuf_push_set(&b, &ac->fixed_reads);
    if (ok) {
        seen[ac->id] = 1;
        ok = fixed_reads_from(a, ac, 0, ac->code->ncode, seen, 1, &stack, &cap, &b);
    }
    free(seen);
    free(stack);
    locbuf_sort(&b);
    *ids = b.ids;
    *n = (uint32_t)b.n;
    if (!ok) {
        free(b.ids);
        *ids = NULL;
        *n = 0;
    }
    return ok;
}

/* ---------- the call graph: strongly connected components (Tarjan, iterative) ---------- */

typedef struct callgraph {
    uint32_t *off, *to;             /* CSR of callees (resolved calls, fork blocks, class methods) */
    uint32_t *recv;                 /* per edge: the call site's receiver (analysis_code.recv) */
} callgraph;

static bool build_callgraph(const analysis *a, callgraph *g)
{
    uint32_t n = a->ncodes, m = 0;
    uint32_t buf[64];
    g->off = calloc((size_t)n + 1, sizeof *g->off);
    if (!g->off) return false;
    for (uint32_t i = 0; i < n; i++) {
        const analysis_code *ac = &a->codes[i];
        for (uint32_t pc = 0; pc < ac->code->ncode; pc++) {
            const zx_instr *in = &ac->code->code[pc];
            const uint32_t *ids;
            uint32_t k = in->op == OP_FORK_EXECUTION ? in->b : (site_code(a, ac, pc) != ANALYSIS_NONE);
            if (in->op == OP_CALL_METHOD) k = analysis_method_callees(a, ac, pc, &ids);
            m += k;
            g->off[i + 1] += k;
        }
    }
    for (uint32_t i = 0; i < n; i++) g->off[i + 1] += g->off[i];
    g->to = malloc((m ? m : 1) * sizeof *g->to);
    g->recv = malloc((m ? m : 1) * sizeof *g->recv);
    if (!g->to || !g->recv) return false;
    for (uint32_t e = 0; e < m; e++) g->recv[e] = ANALYSIS_RECV_HEAP;
    for (uint32_t i = 0; i < n; i++) {
        const analysis_code *ac = &a->codes[i];
        uint32_t k = g->off[i];
        for (uint32_t pc = 0; pc < ac->code->ncode; pc++) {
            const zx_instr *in = &ac->code->code[pc];
            if (in->op == OP_FORK_EXECUTION) {
                for (uint32_t j = 0; j < in->b; j++) {
                    uint32_t c = in->a + j;
                    const analysis_code *b = c < ac->code->nchildren ? analysis_code_of(a, ac->code->children[c]) : NULL;
                    g->to[k++] = b ? b->id : i;   /* a missing block cannot happen after the verifier */
                }
                continue;
            }
            if (in->op == OP_CALL_METHOD) {
                const uint32_t *ids;
                uint32_t nm = analysis_method_callees(a, ac, pc, &ids);
                for (uint32_t j = 0; j < nm; j++) {
                    g->recv[k] = recv_at(ac, pc);
                    g->to[k++] = ids[j];
                }
                continue;
            }
            uint32_t nt = site_targets(a, ac, pc, buf, 64);
            for (uint32_t j = 0; j < nt; j++) g->to[k++] = buf[j];
        }
    }
    return true;
}

/* Fills comp[v] with the component number of every code object; components are numbered in
 * the order Tarjan's algorithm completes them: callees before callers. */
static bool tarjan(const analysis *a, const callgraph *g, uint32_t *comp, uint32_t *ncomp)
{
    uint32_t n = a->ncodes;
    bool ok = false;
    uint32_t *index = malloc((size_t)n * sizeof *index), *low = malloc((size_t)n * sizeof *low);
    uint32_t *stack = malloc((size_t)n * sizeof *stack), *cs_v = malloc((size_t)n * sizeof *cs_v);
    uint32_t *cs_e = malloc((size_t)n * sizeof *cs_e);
    uint8_t *on = calloc(n, 1);
    if (!index || !low || !stack || !cs_v || !cs_e || !on) goto fail;
    for (uint32_t v = 0; v < n; v++) index[v] = ANALYSIS_NONE;
    uint32_t counter = 0, sp = 0, nc = 0;
    for (uint32_t root = 0; root < n; root++) {
        if (index[root] != ANALYSIS_NONE) continue;
        uint32_t csp = 0;
        cs_v[csp] = root;
        cs_e[csp++] = g->off[root];
        index[root] = low[root] = counter++;
        stack[sp++] = root;
        on[root] = 1;
        while (csp) {
            uint32_t v = cs_v[csp - 1];
            if (cs_e[csp - 1] < g->off[v + 1]) {
                uint32_t w = g->to[cs_e[csp - 1]++];
                if (index[w] == ANALYSIS_NONE) {
                    index[w] = low[w] = counter++;
                    stack[sp++] = w;
                    on[w] = 1;
                    cs_v[csp] = w;
                    cs_e[csp++] = g->off[w];
                } else if (on[w] && index[w] < low[v]) {
                    low[v] = index[w];
                }
                continue;
            }
            if (low[v] == index[v]) {
                uint32_t w;
                do {
                    w = stack[--sp];
                    on[w] = 0;
                    comp[w] = nc;
                } while (w != v);
                nc++;
            }
            csp--;
            if (csp) {
                uint32_t u = cs_v[csp - 1];
                if (low[v] < low[u]) low[u] = low[v];
            }
        }
    }
    *ncomp = nc;
    ok = true;
fail:
    free(index);
    free(low);
    free(stack);
    free(cs_v);
    free(cs_e);
    free(on);
    return ok;
}

/* ---------- summaries ---------- */

/* The reason a code object may not be a parallel_map function (DESIGN.md §4), or NULL. */
static char *pmap_reason(const analysis *a, const analysis_code *ac, const analysis_locset *shared)
{
    const analysis_summary *s = &ac->summary;
    char what[256], buf[400];
    if (s->calls_unknown)
        return strdup("it calls a function that the analysis cannot resolve (held in a variable, "
                      "a list or a parameter)");
    if (s->ordered_fx) {      /* its elements would touch files, the clock ... out of order */
        char fx[300];
        analysis_fx_describe(s, fx, sizeof fx);
        snprintf(buf, sizeof buf, "it %s", fx);
        return strdup(buf);
    }
    analysis_locset_iter it;
    uint32_t loc;
    analysis_locset_iter_init(&it, &s->writes);
    while (analysis_locset_next(&it, &loc)) {
        if (loc >= ac->loc_base && loc < ac->loc_base + ac->code->nlocals) continue;   /* its own */
        analysis_loc_describe(a, loc, what, sizeof what);
        if (is_global(a, loc) && a->prog->globals[loc].is_shared)
            snprintf(buf, sizeof buf, "it assigns %s (inside parallel work only '%s op= e' is allowed)",
                     what, a->prog->globals[loc].name);
        else
            snprintf(buf, sizeof buf, "it assigns %s", what);
        return strdup(buf);
    }
    if (s->writes_heap || s->this_writes)
        return strdup("it may change a list or map (index assignment, push or pop) or an object's fields");
    if ((loc = analysis_locset_common(&s->reads, shared)) != ANALYSIS_NONE) {   /* the first shared global */
        analysis_loc_describe(a, loc, what, sizeof what);
        snprintf(buf, sizeof buf, "it reads %s (inside parallel work only '%s op= e' is allowed)", what,
                 a->prog->globals[loc].name);
        return strdup(buf);
    }
    return NULL;
}

/* Cost of each instruction of ac, with callees: in_comp says which code ids are in ac's own
 * component (their cost is not known yet: recursion). */
static bool compute_site_costs(const analysis *a, analysis_code *ac, const uint32_t *comp)
{
    const zx_code *c = ac->code;
    ac->site_cost = malloc((c->ncode ? c->ncode : 1) * sizeof *ac->site_cost);
    if (!ac->site_cost) return false;
    for (uint32_t pc = 0; pc < c->ncode; pc++) {
        const zx_instr *in = &c->code[pc];
        uint64_t inner = 1;
        if (in->op == OP_FORK_EXECUTION) {
            for (uint32_t i = 0; i < in->b; i++) {
                uint32_t k = in->a + i;
                const analysis_code *b = k < c->nchildren ? analysis_code_of(a, c->children[k]) : NULL;
                if (!b) continue;
                inner = analysis_cost_add(inner, comp[b->id] == comp[ac->id] ? COST_RECURSIVE : b->summary.cost);
            }
        } else if (in->op == OP_CALL_TOP || in->op == OP_PARALLEL_MAP || in->op == OP_CALL_BUILTIN) {
            uint32_t id = site_code(a, ac, pc);
            uint64_t callee = 1;
            if (id != ANALYSIS_NONE) callee = comp[id] == comp[ac->id] ? COST_RECURSIVE : a->codes[id].summary.cost;
            else if (in->op != OP_CALL_BUILTIN && site_builtin(a, ac, pc) < 0) callee = COST_UNKNOWN_CALL;
            else if (in->op == OP_CALL_BUILTIN && in->a == ZX_BI_parallel_map) callee = COST_UNKNOWN_CALL;
            if (in->op == OP_PARALLEL_MAP || (in->op == OP_CALL_BUILTIN && in->a == ZX_BI_parallel_map))
                callee = analysis_cost_mul(callee, PMAP_ELEMENTS);
            inner = analysis_cost_add(inner, callee);
        } else if (in->op == OP_CALL_METHOD) {
            const uint32_t *ids;
            uint32_t nm = analysis_method_callees(a, ac, pc, &ids);
            uint64_t most = 0;                /* one of them runs */
            for (uint32_t k = 0; k < nm; k++) {
                uint64_t cc = comp[ids[k]] == comp[ac->id] ? COST_RECURSIVE : a->codes[ids[k]].summary.cost;
                if (cc > most) most = cc;
            }
            inner = analysis_cost_add(inner, most);
        }
        ac->site_cost[pc] = analysis_cost_mul(loop_weight(ac, pc), inner);
    }
    return true;
}

bool deps_summarize(analysis *a)
{
    uint32_t n = a->ncodes, ncomp = 0;
    bool ok = false;
    callgraph g = { NULL, NULL, NULL };
    uint32_t *comp = malloc((n ? n : 1) * sizeof *comp);
    uint32_t *order = NULL, *first = NULL;
    if (!comp || !build_callgraph(a, &g) || !tarjan(a, &g, comp, &ncomp)) goto fail;

    /* each code object's own effects, its own plain locals left out */
    for (uint32_t i = 0; i < n; i++) {
        analysis_code *ac = &a->codes[i];
        analysis_summary *s = &ac->local;
        memset(s, 0, sizeof *s);
        instr_acc x;
        memset(&x, 0, sizeof x);
        locbuf fixed = { NULL, 0, 0 };
        bool fine = true, in_main = ac->parent == ANALYSIS_NONE;
        for (uint32_t pc = 0; pc < ac->code->ncode && fine; pc++) {
            fine = instr_effects(a, ac, pc, s, &x);
            if ((ac->code->pcflags[pc] & ZX_PC_BACK_EDGE) || ac->code->code[pc].op == OP_PARALLEL_MAP)
                s->loops_or_recurses = true;
        }
        locbuf *bufs[3] = { &x.r, &x.w, &x.u };
        for (int k = 0; k < 3 && fine; k++) {
            size_t m = 0;
            for (size_t j = 0; j < bufs[k]->n && fine; j++) {
                uint32_t loc = bufs[k]->ids[j];
                if (is_own_plain_local(ac, loc)) continue;
                if (k == 0 && !in_main && loc < a->nlocs && a->fixed[loc]) fine = locbuf_add(&fixed, loc);
                else bufs[k]->ids[m++] = loc;
            }
            bufs[k]->n = m;
        }
        fine = fine && locbuf_into(&a->arena, &fixed, &ac->fixed_reads);
        free(fixed.ids);
        if (!acc_finish(&a->arena, &x, s, fine)) goto fail;
    }

    /* members of each component, components in callee-first order */
    order = malloc((n ? n : 1) * sizeof *order);
    first = calloc((size_t)ncomp + 1, sizeof *first);
    if (!order || !first) goto fail;
    for (uint32_t i = 0; i < n; i++) first[comp[i] + 1]++;
    for (uint32_t k = 0; k < ncomp; k++) first[k + 1] += first[k];
    {
        uint32_t *fill = calloc(ncomp ? ncomp : 1, sizeof *fill);
        if (!fill) goto fail;
        for (uint32_t i = 0; i < n; i++) order[first[comp[i]] + fill[comp[i]]++] = i;
        free(fill);
    }
    for (uint32_t k = 0; k < ncomp; k++) {
        analysis_summary s;
        memset(&s, 0, sizeof s);
        analysis_locset inner = { 0, NULL };      /* objects that calls inside the component are on */
        bool inner_heap = false;                  /* ... or some object of the heap */
        bool cyclic = first[k + 1] - first[k] > 1;
        for (uint32_t m = first[k]; m < first[k + 1]; m++) {
            uint32_t v = order[m];
            for (uint32_t e = g.off[v]; e < g.off[v + 1]; e++) {
                uint32_t w = g.to[e];
                if (comp[w] == k) {
                    if (w == v) cyclic = true;
                    /* a member's effects on its `this` may fall on this call's receiver */
                    if (g.recv[e] == ANALYSIS_RECV_HEAP) inner_heap = true;
                    else if (g.recv[e] != ANALYSIS_RECV_THIS && !analysis_locset_add(&a->arena, &inner, g.recv[e]))
                        goto fail;
                    continue;
                }
                if (!union_at(&a->arena, &s, &a->codes[w].summary, g.recv[e])) goto fail;
            }
            if (!analysis_summary_union(&a->arena, &s, &a->codes[v].local)) goto fail;
        }
        /* every member's summary is s: the calls inside see the whole of it on their receivers */
        if ((s.this_reads && !analysis_locset_union(&a->arena, &s.reads, &inner)) ||
            (s.this_writes && !analysis_locset_union(&a->arena, &s.writes, &inner)))
            goto fail;
        if (inner_heap && !object_effects(&a->arena, &s, NULL, s.this_reads, s.this_writes, ANALYSIS_RECV_HEAP))
            goto fail;
        if (cyclic) s.loops_or_recurses = true;
        for (uint32_t m = first[k]; m < first[k + 1]; m++) {
            analysis_code *ac = &a->codes[order[m]];
            ac->recursive = cyclic;
            if (!compute_site_costs(a, ac, comp)) goto fail;
        }
        for (uint32_t m = first[k]; m < first[k + 1]; m++) {
            analysis_code *ac = &a->codes[order[m]];
            uint64_t cost = cyclic ? COST_RECURSIVE : 0;
            for (uint32_t pc = 0; pc < ac->code->ncode; pc++) cost = analysis_cost_add(cost, ac->site_cost[pc]);
            ac->summary = s;          /* the component's members share its sets */
            ac->summary.cost = cost;
        }
    }
    {
        analysis_locset shared = { 0, NULL };
        for (uint32_t gl = 0; gl < a->prog->nglobals; gl++)
            if (a->prog->globals[gl].is_shared && !analysis_locset_add(&a->arena, &shared, gl)) goto fail;
        for (uint32_t i = 0; i < n; i++) a->codes[i].pmap_reason = pmap_reason(a, &a->codes[i], &shared);
    }
    ok = true;
fail:
    free(comp);
    free(order);
    free(first);
    free(g.off);
    free(g.to);
    free(g.recv);
    return ok;
}

bool deps_mark_escapes(analysis *a)
{
    a->loc_escapes = calloc(a->nlocs ? a->nlocs : 1, 1);
    if (!a->loc_escapes) return false;
    for (uint32_t i = 0; i < a->ncodes; i++) {
        const zx_code *c = a->codes[i].code;
        for (uint32_t pc = 0; pc < c->ncode; pc++) {
            const zx_instr *in = &c->code[pc];
            if (in->op != OP_STORE_FREE) continue;
            uint32_t loc = free_loc(a, i, in->a);
            if (loc == ANALYSIS_NONE) continue;   /* calls_unknown for whoever runs it */
            bool block_into_parent = c->kind == ZX_CODE_FORK && in->a < c->nfree && c->free[in->a].from_parent_local;
            if (!block_into_parent) a->loc_escapes[loc] = 1;
        }
    }
    return true;
}

/* ---------- dependencies ---------- */

uint32_t deps_conflict(const analysis_summary *A, const analysis_summary *B, uint32_t *loc)
{
    /* shared updates (op=) read and write */
    const analysis_locset *aw[2] = { &A->writes, &A->updates }, *ar[2] = { &A->reads, &A->updates };
    const analysis_locset *bw[2] = { &B->writes, &B->updates }, *br[2] = { &B->reads, &B->updates };
    uint32_t l;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            if ((l = analysis_locset_common(aw[i], br[j])) != ANALYSIS_NONE) { *loc = l; return DEP_RAW; }
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            if ((l = analysis_locset_common(ar[i], bw[j])) != ANALYSIS_NONE) { *loc = l; return DEP_WAR; }
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            if ((l = analysis_locset_common(aw[i], bw[j])) != ANALYSIS_NONE) { *loc = l; return DEP_WAW; }
    *loc = ANALYSIS_NONE;
    if ((A->writes_heap && (B->reads_heap || B->writes_heap)) || (B->writes_heap && A->reads_heap)) return DEP_HEAP;
    /* files, the clock, the random state, sleeping: never reordered against each other */
    if (A->ordered_fx && B->ordered_fx) return DEP_EFFECT;
    return ANALYSIS_NONE;
}

typedef struct edgelist {
    analysis_edge *e;
    uint32_t n, cap;
} edgelist;

static bool edge_add(edgelist *l, uint32_t from, uint32_t to, uint32_t kind, uint32_t loc)
{
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 16;
        analysis_edge *e = realloc(l->e, (size_t)cap * sizeof *e);
        if (!e) return false;
        l->e = e;
        l->cap = cap;
    }
    l->e[l->n++] = (analysis_edge){ from, to, kind, loc };
    return true;
}

/*
 * The DAG builder: per location, the last writer and the readers since that write, so every
 * access makes at most one edge from the last writer (RAW, WAW) and a write one edge from each
 * reader since (WAR) — linear in the number of accesses, where comparing every pair of nodes
 * was quadratic.  It is sound: if A and B conflict on a location, the writers of that location
 * between them form a chain A -> ... -> B.  The heap is one more location (a read for
 * reads_heap, a write for writes_heap, edges of kind `heap`), and the ordered effects (files,
 * the clock, the random state, sleeping: ordered_fx) one more, always written (edges of kind
 * `effect`), so every two nodes that have them are ordered through the chain of such nodes.
 *
 * A fence (a chunk with a barrier or an unresolved call) is ordered after every node since the
 * previous fence — it gets an edge from each of them that has no successor yet, the others
 * reach one of those — and every later node after it: after a fence every location's state is
 * "last written by the fence", and a node with no other edge gets one from the fence.  A node
 * that may return is followed by every later node: each gets an edge from the last such node.
 */

typedef struct dep_node {
    const analysis_summary *eff;
    bool fence;               /* ordered after every earlier node and before every later one */
    bool calls_unknown;       /* the fence's kind: `call`, else `barrier` */
    bool returns;             /* every later node depends on it */
} dep_node;

struct deps_scratch {
    uint32_t nloc;            /* variable locations + the heap + the ordered effects */
    uint32_t clock;           /* bumped at the start of every DAG and at every fence */
    uint32_t *stamp;          /* per location: the clock when its state was set */
    uint32_t *writer;         /* per location: last writer node */
    uint32_t *readers;        /* per location: readers since, a list in the pool (ANALYSIS_NONE: empty) */
    uint32_t *pool_node, *pool_next;
    uint32_t npool, cappool;
};

void deps_scratch_free(analysis *a)
{
    struct deps_scratch *x = a->deps_scratch;
    if (!x) return;
    free(x->stamp);
    free(x->writer);
    free(x->readers);
    free(x->pool_node);
    free(x->pool_next);
    free(x);
    a->deps_scratch = NULL;
}

static struct deps_scratch *scratch_of(analysis *a)
{
    if (a->deps_scratch) return a->deps_scratch;
    struct deps_scratch *x = calloc(1, sizeof *x);
    if (!x) return NULL;
    a->deps_scratch = x;
    x->nloc = a->nlocs + a->nobjs + 2;
    x->stamp = calloc(x->nloc, sizeof *x->stamp);
    x->writer = malloc((size_t)x->nloc * sizeof *x->writer);
    x->readers = malloc((size_t)x->nloc * sizeof *x->readers);
    if (!x->stamp || !x->writer || !x->readers) return NULL;   /* freed with the analysis */
    return x;
}

typedef struct dag_builder {
    struct deps_scratch *x;
    edgelist l;
    uint32_t *mark;           /* per node: 1 + the node whose edge list holds an edge from it */
    uint32_t *slot;           /* per node: index of that edge in l */
    uint8_t *has_succ;        /* per node */
    uint32_t epoch;           /* clock of the current stretch (after the last fence) */
    uint32_t last_fence;
    uint32_t cur;             /* the node whose edges are being made */
    uint32_t ncur;            /* its edges so far */
} dag_builder;

static bool dag_edge(dag_builder *g, uint32_t from, uint32_t kind, uint32_t loc)
{
    if (from == ANALYSIS_NONE || from == g->cur) return true;
    if (g->mark[from] == g->cur + 1) {
        analysis_edge *e = &g->l.e[g->slot[from]];
        if (kind < e->kind || (kind == e->kind && loc < e->loc)) {
            e->kind = kind;
            e->loc = loc;
        }
        return true;
    }
    g->mark[from] = g->cur + 1;
    g->slot[from] = g->l.n;
    g->has_succ[from] = 1;
    g->ncur++;
    return edge_add(&g->l, from, g->cur, kind, loc);
}

/* The state of location loc: its writer (ANALYSIS_NONE: none) and whether that writer is only
 * the fence standing for every location. */
static uint32_t loc_writer(const dag_builder *g, uint32_t loc, bool *implicit)
{
    const struct deps_scratch *x = g->x;
    *implicit = false;
    if (x->stamp[loc] >= g->epoch) return x->writer[loc];
    *implicit = g->last_fence != ANALYSIS_NONE;
    return g->last_fence;
}

/* kind: 0 for a variable (RAW, WAW, WAR edges naming it), else the one kind of every edge of
 * a pseudo-location (DEP_HEAP, DEP_EFFECT), which names no variable. */
static bool loc_edges(dag_builder *g, uint32_t loc, bool r, bool w, uint32_t kind, uint32_t fence_kind)
{
    bool implicit;
    uint32_t wr = loc_writer(g, loc, &implicit), shown = kind ? ANALYSIS_NONE : loc;
    if (implicit) return dag_edge(g, wr, fence_kind, ANALYSIS_NONE);
    if (r && !dag_edge(g, wr, kind ? kind : DEP_RAW, shown)) return false;
    if (!w) return true;
    if (!dag_edge(g, wr, kind ? kind : DEP_WAW, shown)) return false;
    if (g->x->stamp[loc] < g->epoch) return true;
    for (uint32_t k = g->x->readers[loc]; k != ANALYSIS_NONE; k = g->x->pool_next[k])
        if (!dag_edge(g, g->x->pool_node[k], kind ? kind : DEP_WAR, shown)) return false;
    return true;
}

static bool loc_update(dag_builder *g, uint32_t loc, bool r, bool w)
{
    struct deps_scratch *x = g->x;
    if (x->stamp[loc] < g->epoch) {           /* stale: written by the last fence, or never */
        x->stamp[loc] = x->clock;
        x->writer[loc] = g->last_fence;
        x->readers[loc] = ANALYSIS_NONE;
    }
    if (w) {
        x->writer[loc] = g->cur;
        x->readers[loc] = ANALYSIS_NONE;     /* the list's pool entries are dropped with the DAG */
        return true;
    }
    if (!r) return true;
    if (x->npool == x->cappool) {
        uint32_t cap = x->cappool ? x->cappool * 2 : 64;
        uint32_t *n1 = realloc(x->pool_node, (size_t)cap * sizeof *n1);
        if (!n1) return false;
        x->pool_node = n1;
        uint32_t *n2 = realloc(x->pool_next, (size_t)cap * sizeof *n2);
        if (!n2) return false;
        x->pool_next = n2;
        x->cappool = cap;
    }
    x->pool_node[x->npool] = g->cur;
    x->pool_next[x->npool] = x->readers[loc];
    x->readers[loc] = x->npool++;
    return true;
}

/* The variables of a node that some other node of the DAG touches too (the others make no
 * edge but the one from the last fence, see build_dag), and whether it has others. */
typedef struct node_locs {
    analysis_locset r, w, u;
    bool lonely;
} node_locs;

/* Every location node g->cur reads or writes, once each, in increasing order: edges (update
 * false) or the new state (update true).  A `shared` update (op=) reads and writes. */
static bool node_locations(dag_builder *g, const analysis_summary *s, const node_locs *nl, bool update,
                           uint32_t fence_kind)
{
    analysis_locset_iter it[3];
    uint32_t cur[3];
    bool more[3];
    const analysis_locset *sets[3] = { &nl->r, &nl->w, &nl->u };
    for (int k = 0; k < 3; k++) {
        analysis_locset_iter_init(&it[k], sets[k]);
        more[k] = analysis_locset_next(&it[k], &cur[k]);
    }
    while (more[0] || more[1] || more[2]) {
        uint32_t loc = ANALYSIS_NONE;
        for (int k = 0; k < 3; k++)
            if (more[k] && cur[k] < loc) loc = cur[k];
        bool r = false, w = false;
        for (int k = 0; k < 3; k++) {
            if (!more[k] || cur[k] != loc) continue;
            if (k != 1) r = true;
            if (k != 0) w = true;
            more[k] = analysis_locset_next(&it[k], &cur[k]);
        }
        if (loc >= g->x->nloc - 2) continue;   /* not a location of this program: cannot happen */
        if (!(update ? loc_update(g, loc, r, w) : loc_edges(g, loc, r, w, 0, fence_kind))) return false;
    }
    /* a variable no other node touches is stale here: it makes only the edge from the last fence */
    if (!update && nl->lonely && !dag_edge(g, g->last_fence, fence_kind, ANALYSIS_NONE)) return false;
    uint32_t heap = g->x->nloc - 2, fx = g->x->nloc - 1;
    if (s->ordered_fx && !(update ? loc_update(g, fx, true, true) : loc_edges(g, fx, true, true, DEP_EFFECT, fence_kind)))
        return false;
    if (!s->reads_heap && !s->writes_heap) return true;
    return update ? loc_update(g, heap, s->reads_heap, s->writes_heap)
                  : loc_edges(g, heap, s->reads_heap, s->writes_heap, DEP_HEAP, fence_kind);
}

/* The variables of each node that another node touches too.  A summary shares its callees'
 * sets, so a node that calls deep into the call graph has a large set; walking all of it
 * for every code object that makes such a call was quadratic in the depth (a chain of N
 * actions, each writing a global of its own and calling the next).  The variables in two or
 * more nodes are found with intersections, which cost about the smaller set; the sets of
 * the last node are never added to the ones seen.  The sets made live in `ar`, a scratch arena
 * freed with the DAG's builder. */
static bool shared_locations(analysis_arena *ar, const dep_node *nodes, uint32_t n, node_locs *out)
{
    analysis_locset seen[3] = { { 0, NULL }, { 0, NULL }, { 0, NULL } }, multi = { 0, NULL }, t;
    for (uint32_t i = 0; i < n; i++) {
        const analysis_summary *s = nodes[i].eff;
        const analysis_locset *mine[3] = { &s->reads, &s->writes, &s->updates };
        for (int k = 0; k < 3; k++)
            for (int j = 0; j < 3 && i > 0; j++)
                if (!analysis_locset_inter(ar, &t, mine[k], &seen[j]) || !analysis_locset_union(ar, &multi, &t))
                    return false;
        for (int k = 0; k < 3 && i + 1 < n; k++)
            if (!analysis_locset_union(ar, &seen[k], mine[k])) return false;
    }
    for (uint32_t i = 0; i < n; i++) {
        const analysis_summary *s = nodes[i].eff;
        node_locs *nl = &out[i];
        if (!analysis_locset_inter(ar, &nl->r, &s->reads, &multi) ||
            !analysis_locset_inter(ar, &nl->w, &s->writes, &multi) ||
            !analysis_locset_inter(ar, &nl->u, &s->updates, &multi))
            return false;
        nl->lonely = nl->r.n < s->reads.n || nl->w.n < s->writes.n || nl->u.n < s->updates.n;
    }
    return true;
}

static bool build_dag(analysis *a, const dep_node *nodes, uint32_t n, const uint64_t *cost, analysis_dag *d)
{
    dag_builder g;
    memset(&g, 0, sizeof g);
    bool ok = false;
    g.x = scratch_of(a);
    g.mark = calloc(n ? n : 1, sizeof *g.mark);
    g.slot = malloc((n ? n : 1) * sizeof *g.slot);
    g.has_succ = calloc(n ? n : 1, 1);
    node_locs *locs = calloc(n ? n : 1, sizeof *locs);
    analysis_arena scratch;
    memset(&scratch, 0, sizeof scratch);
    if (!g.x || !g.mark || !g.slot || !g.has_succ || !locs || !shared_locations(&scratch, nodes, n, locs)) goto done;
    g.x->npool = 0;
    g.epoch = ++g.x->clock;
    g.last_fence = ANALYSIS_NONE;
    uint32_t last_return = ANALYSIS_NONE, seg = 0;
    for (uint32_t b = 0; b < n; b++) {
        const dep_node *B = &nodes[b];
        g.cur = b;
        g.ncur = 0;
        uint32_t fence_kind = DEP_BARRIER;
        if (B->calls_unknown || (g.last_fence != ANALYSIS_NONE && nodes[g.last_fence].calls_unknown))
            fence_kind = DEP_CALL;
        if (!node_locations(&g, B->eff, &locs[b], false, fence_kind)) goto done;
        if (last_return != ANALYSIS_NONE && !dag_edge(&g, last_return, DEP_RETURN, ANALYSIS_NONE)) goto done;
        if (B->fence) {
            /* after every node since the previous fence: those without a successor suffice */
            uint32_t kind = B->calls_unknown ? DEP_CALL : DEP_BARRIER;
            for (uint32_t x = seg; x < b; x++)
                if (!g.has_succ[x] && !dag_edge(&g, x, kind, ANALYSIS_NONE)) goto done;
        } else if (g.ncur == 0 && g.last_fence != ANALYSIS_NONE &&
                   !dag_edge(&g, g.last_fence, fence_kind, ANALYSIS_NONE)) {
            goto done;
        }
        if (B->fence) {
            g.epoch = ++g.x->clock;               /* every location: last written by B */
            g.last_fence = b;
            seg = b;
            last_return = ANALYSIS_NONE;          /* B follows it */
        }
        if (!node_locations(&g, B->eff, &locs[b], true, 0)) goto done;
        if (B->returns) last_return = b;
    }
    d->n = n;
    d->edges = g.l.e;
    d->nedges = g.l.n;
    g.l.e = NULL;
    ok = analysis_dag_finish(d, cost);
done:
    free(g.l.e);
    free(g.mark);
    free(g.slot);
    free(g.has_succ);
    free(locs);
    analysis_arena_free(&scratch);
    return ok;
}

/* The chunk DAG of a code object. */
static bool chunk_dag(analysis *a, analysis_code *ac)
{
    uint32_t n = ac->nchunks;
    uint64_t *cost = malloc((n ? n : 1) * sizeof *cost);
    dep_node *nodes = malloc((n ? n : 1) * sizeof *nodes);
    bool ok = false;
    if (!cost || !nodes) goto done;
    for (uint32_t b = 0; b < n; b++) {
        const analysis_chunk *B = &ac->chunks[b];
        cost[b] = B->cost;
        nodes[b] = (dep_node){ &B->eff, (B->flags & (CHUNK_IS_BARRIER | CHUNK_CALLS_UNKNOWN)) != 0,
                               (B->flags & CHUNK_CALLS_UNKNOWN) != 0, (B->flags & CHUNK_HAS_RETURN) != 0 };
    }
    ok = build_dag(a, nodes, n, cost, &ac->dag);
done:
    free(cost);
    free(nodes);
    return ok;
}

/* The block DAG of one fork: blocks whose summaries conflict run in program order; a block
 * that calls something unresolved is ordered against every other. */
static bool fork_dag(analysis *a, analysis_code *ac, uint32_t pc, analysis_fork *f)
{
    const zx_instr *in = &ac->code->code[pc];
    bool ok = false;
    f->pc = pc;
    f->nblocks = 0;
    f->blocks = malloc((in->b ? in->b : 1) * sizeof *f->blocks);
    uint64_t *cost = malloc((in->b ? in->b : 1) * sizeof *cost);
    dep_node *nodes = malloc((in->b ? in->b : 1) * sizeof *nodes);
    if (!f->blocks || !cost || !nodes) goto done;
    for (uint32_t i = 0; i < in->b; i++) {
        uint32_t k = in->a + i;
        const analysis_code *b = k < ac->code->nchildren ? analysis_code_of(a, ac->code->children[k]) : NULL;
        if (!b) continue;
        cost[f->nblocks] = b->summary.cost;
        nodes[f->nblocks] = (dep_node){ &b->summary, b->summary.calls_unknown, b->summary.calls_unknown, false };
        f->blocks[f->nblocks++] = b->id;
    }
    ok = build_dag(a, nodes, f->nblocks, cost, &f->dag);
done:
    free(cost);
    free(nodes);
    return ok;
}

bool deps_build_dags(analysis *a, analysis_code *ac)
{
    if (!chunk_dag(a, ac)) return false;
    uint32_t nf = 0;
    for (uint32_t pc = 0; pc < ac->code->ncode; pc++) nf += ac->code->code[pc].op == OP_FORK_EXECUTION;
    if (!nf) return true;
    ac->forks = calloc(nf, sizeof *ac->forks);
    if (!ac->forks) return false;
    for (uint32_t pc = 0; pc < ac->code->ncode; pc++) {
        if (ac->code->code[pc].op != OP_FORK_EXECUTION) continue;
        if (!fork_dag(a, ac, pc, &ac->forks[ac->nforks++])) return false;
    }
    return true;
}
