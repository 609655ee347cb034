/* analyze.c — the JIT's planning analyses of a code object (analyze.h): no LLVM here. */
#include "analyze.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytecode/flow.h"
#include "runtime/builtins.h"

const char *analyze_op_name(unsigned op)
{
    const zx_opinfo *info = zx_op_info(op);
    return info ? info->name : "?";
}

/* ---------------------------------------------------------------------------------------- */
/* Type analysis: forward, over tag masks, from pc 0                                          */
/* ---------------------------------------------------------------------------------------- */

int analyze_is_cmp(unsigned op)
{
    return op == OP_LT || op == OP_GT || op == OP_LTE || op == OP_GTE || op == OP_EQ || op == OP_NEQ;
}

uint8_t analyze_binop_mask(unsigned op, uint8_t a, uint8_t b)
{
    if (analyze_is_cmp(op)) return M_B;
    uint8_t r = 0;
    if ((a & M_I) && (b & M_I)) r |= op == OP_POW ? (M_I | M_F) : M_I;
    if (((a & M_F) && (b & (M_I | M_F))) || ((a & (M_I | M_F)) && (b & M_F))) r |= M_F;
    if ((a | b) & ~(M_I | M_F)) r |= M_VAL;   /* strings, lists ... or an error */
    return r;
}

/* What builtin id returns: its row's result column (runtime/builtins.h). */
static uint8_t builtin_mask(unsigned id)
{
    static const uint8_t result[ZX_BI_COUNT] = {
#define RESULT(name, id, lo, hi, fx, res) [id] = (uint8_t)(res),
        ZX_BUILTINS(RESULT)
#undef RESULT
    };
    return id < ZX_BI_COUNT && result[id] ? result[id] : M_VAL;
}

/* Does builtin id run Zexus code (map, filter, reduce, sort: the effect column's ZX_FX_CALLS)?
 * That code may assign globals. */
static int builtin_calls(unsigned id)
{
    static const unsigned fx[ZX_BI_COUNT] = {
#define EFFECT(name, id, lo, hi, fx, res) [id] = (unsigned)(fx),
        ZX_BUILTINS(EFFECT)
#undef EFFECT
    };
    return id >= ZX_BI_COUNT || (fx[id] & ZX_FX_CALLS);
}

/* Does the method named by string constant k of c run one (its builtin's effect)?  A name
 * that is no method runs nothing of the program (it raises). */
static int method_calls(const zx_code *c, uint32_t k)
{
    static const struct { const char *name; int builtin; } rows[] = {
#define ROW(name, id, recv, builtin) { #name, ZX_BI_##builtin },
        ZX_METHODS(ROW)
#undef ROW
    };
    if (k >= c->nconsts || !zx_is_type(c->consts[k], ZX_O_STRING)) return 1;
    const char *name = ZX_AS_STRING(c->consts[k])->data;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (strcmp(rows[i].name, name) == 0 && builtin_calls((unsigned)rows[i].builtin)) return 1;
    return 0;
}

/* Apply instruction pc to state s (locals, globals, stack with depth *d): the state on its
 * fall-through edge (and on a jump's, which carries the same state). */
static void transfer(analyze_code *a, uint32_t pc, uint8_t *s, int *d)
{
    const zx_instr *in = &a->code->code[pc];
    uint8_t *lm = s, *gm = s + a->nl, *sm = s + a->nl + a->ng;
    int pops, pushes;
    zx_op_stack_effect(in, &pops, &pushes);
    uint8_t top = *d > 0 ? sm[*d - 1] : 0, second = *d > 1 ? sm[*d - 2] : 0;
#define PUSHM(m) (sm[(*d)++] = (uint8_t)(m))
#define GM(i) ((i) < a->ng ? gm[i] : (uint8_t)M_ANY)
#define CLOBBER_GLOBALS() memset(gm, M_ANY, a->ng)
    switch ((zx_opcode)in->op) {
    case OP_LOAD_CONST: PUSHM(analyze_tag_mask(a->code->consts[in->a])); break;
    case OP_LOAD_NAME: case OP_SHARED_READ:
        PUSHM(GM(in->a) & M_VAL);
        if (in->a < a->ng) gm[in->a] &= M_VAL;
        break;
    case OP_STORE_NAME:
        (*d)--;
        if (in->a < a->ng) gm[in->a] = top;
        break;
    case OP_SHARED_WRITE:
        (*d)--;
        if (in->a < a->ng) gm[in->a] = M_VAL;
        break;
    case OP_POP: (*d)--; break;
    case OP_DUP: PUSHM(top); break;
    case OP_DUP2: PUSHM(second); PUSHM(top); break;
    case OP_ROT3: {
        uint8_t c = sm[*d - 1];
        sm[*d - 1] = sm[*d - 2];
        sm[*d - 2] = sm[*d - 3];
        sm[*d - 3] = c;
        break;
    }
    case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_MOD: case OP_POW:
    case OP_EQ: case OP_NEQ: case OP_LT: case OP_GT: case OP_LTE: case OP_GTE:
        *d -= 2;
        PUSHM(analyze_binop_mask(in->op, second, top));
        break;
    case OP_NEG:
        (*d)--;
        PUSHM((top & ~(M_I | M_F)) ? M_VAL : top);
        break;
    case OP_NOT: (*d)--; PUSHM(M_B); break;
    case OP_JUMP: break;
    case OP_JUMP_IF_FALSE: case OP_JUMP_IF_TRUE: (*d)--; break;
    case OP_RETURN: (*d)--; break;
    case OP_CALL_TOP:
        *d -= pops;
        PUSHM(M_VAL);
        CLOBBER_GLOBALS();
        break;
    case OP_CALL_BUILTIN:
        *d -= pops;
        PUSHM(builtin_mask(in->a));
        if (in->a == ZX_BI_parallel_map || builtin_calls(in->a)) CLOBBER_GLOBALS();
        break;
    case OP_CALL_METHOD:
        /* an instance's method is Zexus code and a builtin method may run a function
         * (xs.map(f)): either may assign globals */
        *d -= pops;
        PUSHM(M_VAL);
        CLOBBER_GLOBALS();
        break;
    case OP_INDEX:
        *d -= pops;
        PUSHM(M_VAL);
        break;
    case OP_MAKE_CLASS: case OP_NEW_NAMED:
        *d -= pops;
        PUSHM(M_O);
        break;
    case OP_GET_FIELD:
        *d -= pops;
        PUSHM(M_VAL);
        break;
    case OP_BUILD_LIST: case OP_BUILD_MAP: case OP_MAP_EXTEND: case OP_LOAD_BUILTIN: case OP_LOAD_HOST:
    case OP_MAKE_CLOSURE:
        *d -= pops;
        PUSHM(M_O);
        break;
    case OP_PARALLEL_MAP:
        *d -= pops;
        PUSHM(M_O);
        CLOBBER_GLOBALS();
        break;
    case OP_FORK_EXECUTION: CLOBBER_GLOBALS(); break;
    case OP_STORE_INDEX: case OP_PRINT: case OP_ASSERT: case OP_STORE_CELL: case OP_STORE_FREE: case OP_REQUIRE:
        *d -= pops;
        break;
    case OP_NOP: case OP_BARRIER_SYNC: case OP_JOIN_WORKERS: break;
    case OP_THROW: case OP_RERAISE: *d -= pops; break;
    case OP_LOAD_LOCAL:
        PUSHM(lm[in->a] & M_VAL);
        lm[in->a] &= M_VAL;
        break;
    case OP_STORE_LOCAL: (*d)--; lm[in->a] = top; break;
    case OP_LOAD_CELL: case OP_LOAD_FREE: PUSHM(M_VAL); break;
    case OP_GET_ITER:
        (*d)--;
        lm[in->a] = M_O;
        lm[in->a + 1] = M_I;
        break;
    case OP_FOR_ITER1: case OP_FOR_ITER2:
        /* the exit edge keeps the state before (zx_op_edge_keeps) */
        lm[in->b + 1] = M_I;
        if (in->op == OP_FOR_ITER2) PUSHM(M_VAL);
        PUSHM(M_VAL);
        break;
    }
#undef PUSHM
#undef GM
#undef CLOBBER_GLOBALS
}

/*
 * Globals an action reads, typed by a guess checked at entry.  An action that cannot change a
 * global except by its own stores (it makes no call: no CALL_TOP, parallel_map or fork; no
 * other thread writes what it reads while it runs, the dependency analysis orders them) keeps
 * the tag the global had on entry (no method call either: xs.map(f) runs f), so the entry guard (which checks every live variable's
 * proven tag) makes a guess sound: a wrong one sends the call to the interpreter, as a side
 * exit.  The guess is the tag of the constant or builtin result the top level stores into the
 * global (`let size = int(args[0])`); without one, or when the stores disagree, none.  Then
 * `x < size` in a loop compiles to an int compare instead of a tag test on every use, which
 * also made every value computed from the global of unknown type.
 */
#define GUESS_MAIN_MAX 20000      /* top levels longer than this are not scanned */

static void guess_globals(analyze_code *a, uint8_t *gm)
{
    const zx_code *c = a->code, *m = a->prog->main;
    if (c->kind == ZX_CODE_MAIN || !m || m->ncode > GUESS_MAIN_MAX || !a->ng) return;
    int reads = 0, loops = 0;
    for (uint32_t pc = 0; pc < c->ncode; pc++) {
        const zx_instr *in = &c->code[pc];
        if (in->op == OP_CALL_TOP || in->op == OP_PARALLEL_MAP || in->op == OP_FORK_EXECUTION ||
            (in->op == OP_CALL_METHOD && method_calls(c, in->a)) ||
            (in->op == OP_CALL_BUILTIN && builtin_calls(in->a)))
            return;
        if (in->op == OP_LOAD_NAME) reads |= in->a < a->ng && !a->prog->globals[in->a].is_shared;
        loops |= (c->pcflags[pc] & ZX_PC_BACK_EDGE) != 0;
    }
    if (!reads || !loops) return;
    uint8_t *seen = calloc(a->ng, 1);
    if (!seen) return;
    for (uint32_t pc = 0; pc < c->ncode; pc++)
        if (c->code[pc].op == OP_LOAD_NAME && c->code[pc].a < a->ng) seen[c->code[pc].a] = 1;
    uint8_t *guess = calloc(a->ng, 1);
    if (!guess) {
        free(seen);
        return;
    }
    for (uint32_t pc = 1; pc < m->ncode; pc++) {
        const zx_instr *in = &m->code[pc];
        if ((in->op != OP_STORE_NAME && in->op != OP_SHARED_WRITE) || in->a >= a->ng || !seen[in->a]) continue;
        const zx_instr *p = &m->code[pc - 1];
        uint8_t t = M_VAL;
        if (in->op == OP_STORE_NAME && !(m->pcflags[pc] & ZX_PC_TARGET)) {
            if (p->op == OP_LOAD_CONST && p->a < m->nconsts) t = analyze_tag_mask(m->consts[p->a]);
            else if (p->op == OP_CALL_BUILTIN) t = builtin_mask(p->a);
        }
        guess[in->a] |= t;
    }
    for (uint32_t g = 0; g < a->ng; g++)
        if (seen[g] && analyze_singleton(guess[g]) && (guess[g] & (M_I | M_F)) && !a->prog->globals[g].is_shared)
            gm[g] = guess[g];
    free(guess);
    free(seen);
}

int analyze_types(analyze_code *a, uint8_t param_mask, char *err, size_t errsz)
{
    zx_code *c = a->code;
    if (c->ncode == 0) {
        snprintf(err, errsz, "%s: empty code object", c->name);
        return 0;
    }
    for (uint32_t pc = 0; pc < c->ncode; pc++) {
        if (!zx_op_info(c->code[pc].op)) {
            snprintf(err, errsz, "%s: pc %u: unknown opcode %u", c->name, pc, c->code[pc].op);
            return 0;
        }
    }
    if (!c->depth || !c->pcflags) {
        snprintf(err, errsz, "%s: not verified", c->name);
        return 0;
    }
    a->depth = c->depth;          /* the verifier's: the same edges as below, from pc 0 */
    a->state = calloc((size_t)c->ncode * a->W + 2 * (size_t)a->W, 1);
    uint32_t *work = malloc((c->ncode + 1) * sizeof *work);
    uint8_t *inq = calloc(c->ncode, 1), *seen = calloc(c->ncode, 1);
    uint8_t *cur = a->state + (size_t)c->ncode * a->W;   /* scratch */
    uint8_t *before = cur + a->W;                         /* the state a keeping edge carries */
    if (!a->state || !work || !inq || !seen) {
        snprintf(err, errsz, "out of memory");
        free(work);
        free(inq);
        free(seen);
        return 0;
    }
    /* pc 0: parameters are values (of param_mask), other locals undefined, cells hold their cell */
    uint8_t *s0 = a->state;
    for (uint32_t i = 0; i < a->nl; i++) {
        s0[i] = i < c->nparams ? param_mask : M_U;
        if (c->local_is_cell && c->local_is_cell[i]) s0[i] = M_O;
    }
    memset(s0 + a->nl, M_ANY, a->ng);
    guess_globals(a, s0 + a->nl);
    uint32_t nw = 0;
    work[nw++] = 0;
    inq[0] = seen[0] = 1;
    /* a handler's target: anything may have happened since the try began (native code reloads
     * every local there), and the error's text and value are on the stack */
    for (uint32_t i = 0; i < c->nhandlers; i++) {
        uint32_t t = c->handlers[i].target;
        if (t >= c->ncode || a->depth[t] < 0 || seen[t]) continue;
        uint8_t *st = a->state + (size_t)t * a->W;
        memset(st, M_ANY, a->W);
        for (int32_t k = 0; k < a->depth[t] && a->nl + a->ng + (uint32_t)k < a->W; k++) st[a->nl + a->ng + k] = M_VAL;
        work[nw++] = t;
        inq[t] = seen[t] = 1;
    }
    int ok = 1;
    while (nw && ok) {
        uint32_t pc = work[--nw];
        inq[pc] = 0;
        memcpy(cur, a->state + (size_t)pc * a->W, a->W);
        memcpy(before, cur, a->W);
        int d = a->depth[pc];
        transfer(a, pc, cur, &d);
        uint32_t succ[2];
        int32_t sd[2];
        int ns = zx_flow_edges(c, pc, succ, sd);
        for (int k = 0; k < ns && ok; k++) {
            uint32_t s = succ[k];
            const uint8_t *src = zx_op_edge_keeps(&c->code[pc], k) ? before : cur;
            if (s >= c->ncode) continue;
            if (sd[k] < 0 || (uint32_t)sd[k] > a->ns || sd[k] != a->depth[s] ||
                (src == cur && sd[k] != d)) {
                snprintf(err, errsz, "inconsistent stack depth at pc %u", s);
                ok = 0;
                break;
            }
            uint8_t *dst = a->state + (size_t)s * a->W;
            int changed = !seen[s];
            seen[s] = 1;
            for (uint32_t i = 0; i < a->nl + a->ng + (uint32_t)sd[k]; i++) {
                uint8_t m = dst[i] | src[i];
                if (m != dst[i]) { dst[i] = m; changed = 1; }
            }
            if (changed && !inq[s]) {
                inq[s] = 1;
                work[nw++] = s;
            }
        }
    }
    free(work);
    free(inq);
    free(seen);
    return ok;
}

/* Which variables' proven tags the code from each pc relies on before redefining them
 * (backward liveness over locals and tracked globals): entry guards check only those, so a
 * chunk never leaves for the interpreter because of a variable it does not touch. */
static int var_uses(analyze_code *a, const zx_instr *in, uint32_t *v)
{
    int n = 0;
    switch (in->op) {
    case OP_LOAD_LOCAL: case OP_STORE_LOCAL: case OP_LOAD_CELL: case OP_STORE_CELL: v[n++] = in->a; break;
    case OP_FOR_ITER1: case OP_FOR_ITER2: v[n++] = in->b; v[n++] = in->b + 1; break;
    case OP_LOAD_NAME: case OP_SHARED_READ: case OP_STORE_NAME:
        if (in->a < a->ng) v[n++] = a->nl + in->a;
        break;
    default: break;
    }
    return n;
}

int analyze_liveness(analyze_code *a)
{
    zx_code *c = a->code;
    uint32_t V = a->nl + a->ng;
    a->live = calloc((size_t)c->ncode * V + 1, 1);
    if (!a->live) return 0;
    for (int changed = 1; changed;) {
        changed = 0;
        for (uint32_t pc = c->ncode; pc-- > 0;) {
            if (a->depth[pc] < 0) continue;
            const zx_instr *in = &c->code[pc];
            uint8_t *lv = a->live + (size_t)pc * V;
            uint32_t succ[2];
            int ns = zx_op_successors(in, pc, succ);
            int clobbers = in->op == OP_CALL_TOP || in->op == OP_PARALLEL_MAP || in->op == OP_FORK_EXECUTION ||
                           (in->op == OP_CALL_BUILTIN && in->a == ZX_BI_parallel_map) || in->op == OP_SHARED_WRITE;
            bool h = false;   /* inside some handler's range (no libzexus calls in the module) */
            for (uint32_t k = 0; k < c->nhandlers; k++) h |= pc >= c->handlers[k].start && pc < c->handlers[k].end;
            for (uint32_t i = 0; i < V; i++) {
                uint8_t x = 0;
                for (int k = 0; k < ns; k++)
                    if (succ[k] < c->ncode) x |= a->live[(size_t)succ[k] * V + i];
                for (uint32_t k = 0; h && k < c->nhandlers; k++)   /* every handler around pc */
                    if (pc >= c->handlers[k].start && pc < c->handlers[k].end && c->handlers[k].target < c->ncode)
                        x |= a->live[(size_t)c->handlers[k].target * V + i];
                if (i >= a->nl && clobbers) x = 0;
                if (in->op == OP_GET_ITER && (i == in->a || i == in->a + 1)) x = 0;
                if (x && !lv[i]) { lv[i] = 1; changed = 1; }
            }
            uint32_t u[2];
            int nu = var_uses(a, in, u);
            for (int k = 0; k < nu; k++)
                if (!lv[u[k]]) { lv[u[k]] = 1; changed = 1; }
        }
    }
    return 1;
}

/* ---------------------------------------------------------------------------------------- */
/* Direct calls: which code object a CALL_TOP calls                                           */
/* ---------------------------------------------------------------------------------------- */

/*
 * A call goes direct (emit_call) when its callee is a closure of a code object lowered into
 * the same module.  Which one is predicted from where the callee value came from: a
 * MAKE_CLOSURE, or a variable whose every store stores a closure of one and the same child
 * (`action f(...)` compiles to MAKE_CLOSURE k; STORE_NAME f).  Stores are looked for in the
 * variable's own code object (for a global, in the whole program), so a store by an inner
 * closure, or by the host, is not seen: the prediction is only a prediction.  The native code
 * checks the callee's code at run time and takes the generic path when it differs, so a
 * variable reassigned at run time costs speed, never correctness.
 */

/* Where a callee value came from, as a key of the flow pass (bytecode/flow.h): which
 * variable it was loaded from, or which child a MAKE_CLOSURE made; ZX_FLOW_MERGE otherwise.
 * Loads of the same variable on two paths agree. */
typedef zx_flow_key origin;
enum { OG_CLOSURE = 2, OG_GLOBAL, OG_LOCAL, OG_FREE };
#define OG(kind, arg) (((uint64_t)(kind) << 32) | (uint32_t)(arg))
#define OG_KIND(o) ((uint32_t)((o) >> 32))
#define OG_ARG(o) ((uint32_t)(o))

/* The child a store at pc of c stores, when the value is a closure made just before it. */
static zx_code *stored_closure(const zx_code *c, uint32_t pc)
{
    if (pc == 0 || c->code[pc - 1].op != OP_MAKE_CLOSURE || c->code[pc - 1].a >= c->nchildren) return NULL;
    return c->children[c->code[pc - 1].a];
}

/* The closure every store to local `slot` of c stores (NULL: none, or not always the same). */
static zx_code *local_closure(const zx_code *c, uint32_t slot)
{
    if (slot < c->nparams) return NULL;      /* stored by every call */
    zx_code *x = NULL;
    for (uint32_t pc = 0; pc < c->ncode; pc++) {
        const zx_instr *in = &c->code[pc];
        int stores = 0;
        switch (in->op) {
        case OP_STORE_LOCAL: case OP_STORE_CELL: stores = in->a == slot; break;
        case OP_GET_ITER: if (in->a == slot || in->a + 1 == slot) return NULL; break;
        case OP_FOR_ITER1: case OP_FOR_ITER2: if ((uint32_t)in->b + 1 == slot) return NULL; break;
        default: break;
        }
        if (!stores) continue;
        zx_code *y = stored_closure(c, pc);
        if (!y || (x && x != y)) return NULL;
        x = y;
    }
    return x;
}

/* The same for global g, over every code object under c; *ok = 0 once two stores differ. */
static void global_closure_in(const zx_code *c, uint32_t g, zx_code **x, int *ok)
{
    for (uint32_t pc = 0; pc < c->ncode && *ok; pc++) {
        const zx_instr *in = &c->code[pc];
        if ((in->op != OP_STORE_NAME && in->op != OP_SHARED_WRITE) || in->a != g) continue;
        zx_code *y = in->op == OP_STORE_NAME ? stored_closure(c, pc) : NULL;
        if (!y || (*x && *x != y)) *ok = 0;
        else *x = y;
    }
    for (uint32_t i = 0; i < c->nchildren && *ok; i++) global_closure_in(c->children[i], g, x, ok);
}

static const zx_code *parent_of(const zx_code *at, const zx_code *c)
{
    for (uint32_t i = 0; i < at->nchildren; i++) {
        if (at->children[i] == c) return at;
        const zx_code *p = parent_of(at->children[i], c);
        if (p) return p;
    }
    return NULL;
}

static zx_code *origin_code(analyze_code *a, origin o)
{
    const zx_code *c = a->code;
    uint32_t k = OG_ARG(o);
    switch (OG_KIND(o)) {
    case OG_CLOSURE: return k < c->nchildren ? c->children[k] : NULL;
    case OG_LOCAL: return local_closure(c, k);
    case OG_GLOBAL: {
        zx_code *x = NULL;
        int ok = 1;
        global_closure_in(a->prog->main, k, &x, &ok);
        return ok ? x : NULL;
    }
    case OG_FREE:
        /* follow the captured variable out to the code object that declares it */
        for (int hops = 0; hops <= ZX_MAX_CODE_DEPTH && k < c->nfree; hops++) {
            const zx_code *p = parent_of(a->prog->main, c);
            if (!p) return NULL;
            if (c->free[k].from_parent_local) return local_closure(p, c->free[k].index);
            k = c->free[k].index;
            c = p;
        }
        return NULL;
    default: return NULL;
    }
}

static zx_flow_key origin_key(void *ctx, const zx_code *c, uint32_t pc, int i)
{
    (void)ctx;
    const zx_instr *in = &c->code[pc];
    if (i == ZX_FLOW_HANDLER_PUSH) return ZX_FLOW_MERGE;
    switch (in->op) {
    case OP_LOAD_NAME: case OP_SHARED_READ: return OG(OG_GLOBAL, in->a);
    case OP_LOAD_LOCAL: case OP_LOAD_CELL: return OG(OG_LOCAL, in->a);
    case OP_LOAD_FREE: return OG(OG_FREE, in->a);
    case OP_MAKE_CLOSURE: return OG(OG_CLOSURE, in->a);
    default: return ZX_FLOW_MERGE;
    }
}

/* Fill a->callee: for each CALL_TOP, the code object it calls directly (one of the batch, or
 * of the program, compiled in another module).  Only
 * callees whose frame a call stub can push qualify: the right arity, no captured locals (they
 * start as cells, made in zx_frame_push). */
int analyze_callees(analyze_code *a, zx_code *const *batch, size_t nbatch)
{
    zx_code *c = a->code;
    int any = 0;
    for (uint32_t pc = 0; pc < c->ncode && !any; pc++) any = c->code[pc].op == OP_CALL_TOP && a->depth[pc] >= 0;
    if (!any || !nbatch) return 1;
    zx_flow_origins o;
    if (!zx_flow_origins_build(c, origin_key, NULL, &o)) return 0;
    a->callee = calloc(c->ncode, sizeof *a->callee);
    int ok = a->callee != NULL;
    /* the top level runs once: only its loops' calls are worth the code of a direct call */
    uint8_t *in_loop = ok ? calloc(c->ncode + 1, 1) : NULL;
    ok = ok && in_loop;
    for (uint32_t pc = 0; ok && pc < c->ncode; pc++) {
        const zx_instr *in = &c->code[pc];
        if (c->pcflags[pc] & ZX_PC_BACK_EDGE) memset(in_loop + in->a, 1, pc - in->a + 1);
    }
    for (uint32_t pc = 0; ok && pc < c->ncode; pc++) {
        const zx_instr *in = &c->code[pc];
        if (in->op != OP_CALL_TOP || a->depth[pc] < (int)in->a + 1) continue;
        if (c->kind == ZX_CODE_MAIN && !in_loop[pc]) continue;
        zx_code *x = origin_code(a, zx_flow_operand(&o, pc, 0));   /* the deepest operand: the callee */
        int in_batch = 0;
        for (size_t i = 0; x && i < nbatch; i++) in_batch |= batch[i] == x;
        /* a code object of another module (--jit=auto compiles each hot one alone) is called
         * through its published native function (jit/lower.c, emit_direct_call) */
        (void)in_batch;
        if (!x || x->kind == ZX_CODE_MAIN || x->nparams != in->a) continue;
        int cells = 0;
        for (uint32_t i = 0; x->local_is_cell && i < x->nlocals; i++) cells |= x->local_is_cell[i];
        if (cells) continue;
        a->callee[pc] = x;
    }
    free(in_loop);
    zx_flow_origins_free(&o);
    return ok;
}


/* ---------------------------------------------------------------------------------------- */
/* Borrowed operands: reference counts a use does not need                                    */
/* ---------------------------------------------------------------------------------------- */

/*
 * A value that is loaded only to be indexed or called, right away, may be borrowed: the load
 * takes no reference and the use drops none, which saves two atomic operations (a matrix
 * element a[i][j] read in a loop saves six).  The variable (or the container the value was
 * read from) keeps it alive, as long as nothing between the load and the use can run Zexus or
 * host code, store, or mutate a container: only loads, arithmetic, indexing and building
 * lists and maps may come between, in straight-line code (no other thread may write what a
 * chunk reads meanwhile: the analysis orders them).  An element read by a borrowed INDEX of a
 * borrowed container may itself be borrowed (b[k][j]); the slow path of that INDEX (a string,
 * a map) makes a new value, so ownership is a bit per stack slot (sown), constant where it is
 * known.  Every path that hands a borrowed value on (a generic call, an error leaving it on
 * f's stack) takes a reference first (spill).
 *
 * A direct call's callee may be freed during the call (the callee reassigns its own name)
 * unless a plain local of the caller holds it, so a global or captured callee is borrowed
 * only when it needs no closure while it runs: no captured variables of its own.
 */

static int borrow_safe_between(unsigned op)
{
    switch (op) {
    case OP_LOAD_CONST: case OP_LOAD_NAME: case OP_LOAD_LOCAL: case OP_LOAD_CELL: case OP_LOAD_FREE:
    case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_MOD: case OP_POW:
    case OP_EQ: case OP_NEQ: case OP_LT: case OP_GT: case OP_LTE: case OP_GTE: case OP_NEG: case OP_NOT:
    case OP_INDEX: case OP_BUILD_LIST: case OP_BUILD_MAP:
        return 1;
    default:
        return 0;
    }
}

/* The instruction that made operand j of the instruction at p (flow origins o: the producer's
 * pc), when the code from it to p is straight-line and borrow-safe; UINT32_MAX otherwise.  A
 * value moved by DUP, DUP2 or ROT3 has a producer, but the shuffle between is not borrow-safe. */
static uint32_t borrow_source(analyze_code *a, const zx_flow_origins *o, uint32_t p, uint32_t j)
{
    const zx_code *c = a->code;
    zx_flow_key k = zx_flow_operand(o, p, j);
    if (k <= ZX_FLOW_MERGE || ZX_FLOW_PC(k) >= p) return UINT32_MAX;
    uint32_t q = ZX_FLOW_PC(k);
    for (uint32_t r = q; r < p; r++) {
        if (c->pcflags[r + 1] & ZX_PC_TARGET) return UINT32_MAX;
        if (r > q && !borrow_safe_between(c->code[r].op)) return UINT32_MAX;
    }
    return q;
}

int analyze_borrows(analyze_code *a)
{
    const zx_code *c = a->code;
    if (a->ns > BORROW_MAX_STACK) return 1;
    zx_flow_origins o;
    if (!zx_flow_origins_build(c, NULL, NULL, &o)) return 0;
    a->borrow = calloc(c->ncode, 1);
    if (!a->borrow) {
        zx_flow_origins_free(&o);
        return 0;
    }
    /* in pc order: an INDEX source must know whether its own container was borrowed */
    for (uint32_t p = 0; p < c->ncode; p++) {
        const zx_instr *in = &c->code[p];
        int d = a->depth[p];
        if (d < 0) continue;
        if ((in->op == OP_INDEX && d >= 2) || (in->op == OP_STORE_INDEX && d >= 3)) {
            /* a constant key (m.k): the code object holds the string for the whole run */
            uint32_t q = borrow_source(a, &o, p, 1);
            if (q != UINT32_MAX && c->code[q].op == OP_LOAD_CONST && c->code[q].a < c->nconsts &&
                zx_is_type(c->consts[c->code[q].a], ZX_O_STRING)) {
                a->borrow[q] |= BORROW_LOAD;
                a->borrow[p] |= BORROW_KEY;
            }
        }
        if (in->op == OP_INDEX && d >= 2) {
            uint32_t q = borrow_source(a, &o, p, 0);
            if (q == UINT32_MAX) continue;
            unsigned op = c->code[q].op;
            if (op == OP_LOAD_LOCAL || op == OP_LOAD_NAME || op == OP_LOAD_CELL || op == OP_LOAD_FREE) {
                a->borrow[q] |= BORROW_LOAD;
            } else if (op == OP_INDEX && (a->borrow[q] & BORROW_USE)) {
                a->borrow[q] |= BORROW_RESULT;
            } else {
                continue;
            }
            a->borrow[p] |= BORROW_USE;
        } else if (in->op == OP_GET_FIELD && d >= 1) {
            /* this.field: the method's own local keeps the instance alive, and reading a
             * field runs no code */
            uint32_t q = borrow_source(a, &o, p, 0);
            if (q == UINT32_MAX || c->code[q].op != OP_LOAD_LOCAL) continue;
            a->borrow[q] |= BORROW_LOAD;
            a->borrow[p] |= BORROW_USE;
        } else if (in->op == OP_STORE_INDEX && d >= 3) {
            /* xs[i] = v, b.k = v: the container loaded for the store */
            uint32_t q = borrow_source(a, &o, p, 0);
            unsigned op = q == UINT32_MAX ? 0 : c->code[q].op;
            if (op == OP_LOAD_LOCAL || op == OP_LOAD_NAME || op == OP_LOAD_CELL || op == OP_LOAD_FREE) {
                a->borrow[q] |= BORROW_LOAD;
                a->borrow[p] |= BORROW_USE;
            }
        } else if (in->op == OP_CALL_TOP && a->callee && a->callee[p] && d >= (int)in->a + 1) {
            uint32_t q = borrow_source(a, &o, p, 0);
            if (q == UINT32_MAX) continue;
            unsigned op = c->code[q].op;
            int kept = op == OP_LOAD_LOCAL;      /* the caller's own local keeps the closure alive */
            if (op != OP_LOAD_LOCAL && op != OP_LOAD_NAME && op != OP_LOAD_CELL && op != OP_LOAD_FREE) continue;
            if (!kept && a->callee[p]->nfree) continue;
            a->borrow[q] |= BORROW_LOAD;
            a->borrow[p] |= BORROW_USE;
        }
    }
    zx_flow_origins_free(&o);
    return 1;
}

/*
 * The int version.  An action or lambda whose parameters are all ints when called gets a
 * second copy of its code, typed by an analysis that starts from int parameters, so numeric
 * code runs unboxed without hoping for anything: the entry checks the arguments' tags (before
 * any effect) and runs the generic copy otherwise.  Only where it pays: some arithmetic or
 * comparison whose operand types become known, in code that loops or calls (straight-line code
 * is over before its tag checks matter), small enough that compiling it twice stays cheap.
 * Chunk entries other than pc 0 always run the generic copy.
 */
#define INT_VERSION_MAX_CODE 400

static int param_is_container(const zx_code *c)
{
    zx_flow_origins o;
    if (!zx_flow_origins_build(c, NULL, NULL, &o)) return 0;
    int found = 0;
    for (uint32_t pc = 0; pc < c->ncode && !found; pc++) {
        unsigned op = c->code[pc].op;
        if (op != OP_INDEX && op != OP_STORE_INDEX && op != OP_CALL_METHOD && op != OP_GET_ITER) continue;
        zx_flow_key k = zx_flow_operand(&o, pc, 0);
        if (k <= ZX_FLOW_MERGE) continue;
        const zx_instr *q = &c->code[ZX_FLOW_PC(k)];
        found = q->op == OP_LOAD_LOCAL && q->a < c->nparams;
    }
    zx_flow_origins_free(&o);
    return found;
}

static int want_int_version(analyze_code *a)
{
    const zx_code *c = a->code;
    if (c->kind == ZX_CODE_MAIN || c->nparams == 0 || c->ncode > INT_VERSION_MAX_CODE) return 0;
    for (uint32_t i = 0; c->local_is_cell && i < c->nparams; i++)
        if (c->local_is_cell[i]) return 0;
    /* a parameter used as a container (indexed, iterated, a method's receiver) is never an int
     * where the code works: the int version would never run, and the generic copy, which then
     * runs every call, keeps its calls generic (jit/lower.c, emit_call) */
    if (param_is_container(c)) return 0;
    /* only code that repeats (a loop, or a call that may recurse) runs long enough to pay for
     * being compiled twice */
    for (uint32_t pc = 0; pc < c->ncode; pc++) {
        const zx_instr *in = &c->code[pc];
        if (in->op == OP_CALL_TOP || (c->pcflags[pc] & ZX_PC_BACK_EDGE)) return 1;
    }
    return 0;
}

static int int_version_pays(analyze_code *a, const uint8_t *generic)
{
    const zx_code *c = a->code;
    for (uint32_t pc = 0; pc < c->ncode; pc++) {
        unsigned op = c->code[pc].op;
        int d = a->depth[pc];
        if (d < 2 || !(analyze_is_cmp(op) || op == OP_ADD || op == OP_SUB || op == OP_MUL || op == OP_DIV || op == OP_MOD))
            continue;
        const uint8_t *g = generic + (size_t)pc * a->W + a->nl + a->ng, *n = a->state + (size_t)pc * a->W + a->nl + a->ng;
        int known = analyze_singleton(n[d - 1]) && analyze_singleton(n[d - 2]) && ((n[d - 1] | n[d - 2]) & ~(M_I | M_F)) == 0;
        if (known && !(analyze_singleton(g[d - 1]) && analyze_singleton(g[d - 2]))) return 1;
    }
    return 0;
}


/* ---------------------------------------------------------------------------------------- */
/* The int version                                                                            */
/* ---------------------------------------------------------------------------------------- */

void analyze_int_version(analyze_code *a)
{
    if (!want_int_version(a)) return;
    /* analyse again with int parameters; depth is the same */
    analyze_code ia = *a;
    ia.state = NULL;
    char err[160];
    if (analyze_types(&ia, M_I, err, sizeof err) && int_version_pays(&ia, a->state)) a->int_state = ia.state;
    else free(ia.state);
}

/* ---------------------------------------------------------------------------------------- */
/* Inlining small pure actions                                                                */
/* ---------------------------------------------------------------------------------------- */

/*
 * A direct call of a tiny action (spectralnorm's a(i, j), a few arithmetic instructions) costs
 * more in its call stub (a frame pushed and popped in the interpreter's layout) than in its
 * body.  Its body can be lowered into the caller instead when it has no effect at all: then a
 * failure anywhere in it (an overflow, a division by zero) may simply take the real call with
 * the same arguments, which runs x again from its start and raises with x's frame, place and
 * stack trace.  What would make the two differ is excluded here: effects, reads of anything
 * that may change (globals, cells, the heap), loops (the interrupt poll of a back-edge), and
 * operations whose inline form does not cover every operand tag they may meet.
 */

static int inline_op_ok(const zx_code *x, uint32_t pc)
{
    const zx_instr *in = &x->code[pc];
    switch (in->op) {
    case OP_LOAD_CONST: {
        if (in->a >= x->nconsts) return 0;
        zx_tag t = x->consts[in->a].tag;
        return t == ZX_T_NULL || t == ZX_T_BOOL || t == ZX_T_INT || t == ZX_T_FLOAT;
    }
    case OP_LOAD_LOCAL: case OP_STORE_LOCAL: return in->a < x->nlocals;
    case OP_JUMP: case OP_JUMP_IF_FALSE: case OP_JUMP_IF_TRUE: return in->a > pc && in->a < x->ncode;
    case OP_POP: case OP_DUP: case OP_NOT: case OP_NEG: case OP_RETURN: case OP_NOP:
    case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_MOD:
    case OP_EQ: case OP_NEQ: case OP_LT: case OP_GT: case OP_LTE: case OP_GTE:
        return 1;
    default:
        return 0;
    }
}

int analyze_inlinable(const zx_code *x)
{
    if (x->kind == ZX_CODE_MAIN || x->ncode == 0 || x->ncode > ANALYZE_INLINE_MAX_CODE || x->nhandlers ||
        !x->depth || !x->pcflags)
        return 0;
    for (uint32_t i = 0; x->local_is_cell && i < x->nlocals; i++)
        if (x->local_is_cell[i]) return 0;
    for (uint32_t pc = 0; pc < x->ncode; pc++)
        if (x->depth[pc] >= 0 && !inline_op_ok(x, pc)) return 0;
    return 1;
}

/* The same cases as jit/lower.c's int_binop and flt_binop: int with int, and floats where the
 * language converts (arithmetic on two numbers, one a float; comparisons of two floats).  An
 * int compared with a float, a float modulo, ** go through the runtime: no inline form. */
uint8_t analyze_inline_binop(unsigned op, uint8_t a, uint8_t b)
{
    int cmp = analyze_is_cmp(op);
    int arith = op == OP_ADD || op == OP_SUB || op == OP_MUL || op == OP_DIV;
    if (!analyze_singleton(a) || !analyze_singleton(b)) return 0;
    if (a == M_I && b == M_I) return cmp ? M_B : (arith || op == OP_MOD) ? M_I : 0;
    if (((a | b) & ~(M_I | M_F)) != 0) return 0;
    if (arith) return M_F;
    if (cmp && a == M_F && b == M_F) return M_B;
    return 0;
}

void analyze_inline_free(analyze_inline *p)
{
    free(p->state);
    memset(p, 0, sizeof *p);
}

/* Forward in pc order: every jump goes forward, so each instruction's predecessors come first. */
int analyze_inline_plan(const zx_code *x, const uint8_t *args, analyze_inline *p)
{
    memset(p, 0, sizeof *p);
    if (!analyze_inlinable(x)) return 0;
    p->nl = x->nlocals;
    p->ns = x->max_stack + 1;
    size_t W = 1 + (size_t)p->nl + p->ns;
    p->state = calloc((size_t)x->ncode + 1, W);
    if (!p->state) return 0;
    uint8_t *cur = p->state + (size_t)x->ncode * W;   /* scratch */
    uint8_t *s0 = p->state;
    s0[0] = 1;
    for (uint32_t i = 0; i < p->nl; i++) s0[1 + i] = i < x->nparams ? args[i] : M_U;
    for (uint32_t pc = 0; pc < x->ncode; pc++) {
        const zx_instr *in = &x->code[pc];
        const uint8_t *row = p->state + (size_t)pc * W;
        if (!row[0]) continue;
        int d = x->depth[pc];
        if (d < 0 || (uint32_t)d > p->ns) goto fail;
        memcpy(cur, row, W);
        uint8_t *lm = cur + 1, *sm = cur + 1 + p->nl;
        uint8_t top = d > 0 ? sm[d - 1] : 0, second = d > 1 ? sm[d - 2] : 0;
        int pops, pushes;
        zx_op_stack_effect(in, &pops, &pushes);
        if (in->op == OP_DUP) pops = 0, pushes = 1;   /* the copy on top */
        if (d < pops) goto fail;
        uint8_t r = 0;
        switch (in->op) {
        case OP_LOAD_CONST: r = analyze_tag_mask(x->consts[in->a]); break;
        case OP_LOAD_LOCAL:
            r = lm[in->a];
            if (!r || (r & ~(M_N | M_B | M_I | M_F))) goto fail;   /* maybe undefined: it raises */
            break;
        case OP_STORE_LOCAL: lm[in->a] = top; break;
        case OP_DUP: r = top; break;
        case OP_NOT: r = M_B; break;
        case OP_NEG:
            if (top != M_I && top != M_F) goto fail;
            r = top;
            break;
        case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_MOD:
        case OP_EQ: case OP_NEQ: case OP_LT: case OP_GT: case OP_LTE: case OP_GTE:
            r = analyze_inline_binop(in->op, second, top);
            if (!r) goto fail;
            break;
        case OP_RETURN: p->result |= top; break;
        default: break;   /* POP, NOP, jumps: nothing to type */
        }
        d -= pops;
        if (pushes) sm[d] = r;
        d += pushes;
        if ((uint32_t)d > p->ns) goto fail;
        uint32_t succ[2];
        int ns = zx_op_successors(in, pc, succ);
        for (int k = 0; k < ns; k++) {
            if (succ[k] >= x->ncode || succ[k] <= pc || x->depth[succ[k]] != d) goto fail;
            uint8_t *dst = p->state + (size_t)succ[k] * W;
            dst[0] = 1;
            for (size_t i = 1; i < 1 + p->nl + (size_t)d; i++) dst[i] |= cur[i];
        }
    }
    return 1;
fail:
    analyze_inline_free(p);
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* What lowering reads from outside the code object                                           */
/* ---------------------------------------------------------------------------------------- */

static int path_from(const zx_code *at, const zx_code *x, uint32_t *path, int depth)
{
    if (at == x) return depth;
    if (depth >= ANALYZE_PATH_MAX) return -1;
    for (uint32_t i = 0; i < at->nchildren; i++) {
        path[depth] = i;
        int n = path_from(at->children[i], x, path, depth + 1);
        if (n >= 0) return n;
    }
    return -1;
}

int analyze_code_path(const zx_program *prog, const zx_code *x, uint32_t path[ANALYZE_PATH_MAX])
{
    return prog->main ? path_from(prog->main, x, path, 0) : -1;
}

static void put_u32(analyze_put_fn *put, void *ctx, uint32_t v) { put(ctx, &v, sizeof v); }

static void put_str(analyze_put_fn *put, void *ctx, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    put_u32(put, ctx, (uint32_t)n);
    put(ctx, s, n);
}

/*
 * The facts, each after a label, in a fixed order.  They are what the analyses above and
 * jit/lower.c read of anything but the code object itself; a new read of the program belongs
 * here too, or a cached object may be reused after it changed (the cache test in
 * tests/jit/modcache_test.sh changes each kind of fact in another file).
 */
int analyze_outside_facts(zx_program *prog, zx_code *code, zx_code *const *batch, size_t nbatch,
                          analyze_put_fn *put, void *ctx)
{
    analyze_code a;
    analyze_init(&a, prog, code);
    put_str(put, ctx, "outside facts 1");
    /* the globals it names: their flags (shared ones are never held in registers, and are
     * read and written under their lock) */
    put_str(put, ctx, "globals");
    put_u32(put, ctx, a.ng);
    for (uint32_t pc = 0; pc < code->ncode; pc++) {
        const zx_instr *in = &code->code[pc];
        const zx_opinfo *info = zx_op_info(in->op);
        if (!info || info->kind != OPK_GLOBAL) continue;
        uint32_t g = in->a, flags = UINT32_MAX;
        if (g < prog->nglobals) flags = (prog->globals[g].is_const ? 1u : 0u) | (prog->globals[g].is_shared ? 2u : 0u);
        put_u32(put, ctx, g);
        put_u32(put, ctx, flags);
    }
    if (!code->depth || !code->pcflags) {
        put_str(put, ctx, "not verified");   /* lowering refuses it */
        return 1;
    }
    a.depth = code->depth;
    /* the tags guessed for the globals it reads, from the top level's stores (guess_globals) */
    put_str(put, ctx, "guesses");
    uint8_t *gm = a.ng ? malloc(a.ng) : NULL;
    if (a.ng && !gm) return 0;
    if (gm) {
        memset(gm, M_ANY, a.ng);
        guess_globals(&a, gm);
        for (uint32_t g = 0; g < a.ng; g++) {
            if (gm[g] == M_ANY) continue;
            put_u32(put, ctx, g);
            put_u32(put, ctx, gm[g]);
        }
        free(gm);
    }
    /* the code objects its calls go to directly (analyze_callees: found through the stores of
     * every code object of the program), with what a direct call reads of each: where it is
     * (the same module, and under which batch index, or its path in the program's tree), and
     * its frame's shape */
    put_str(put, ctx, "callees");
    if (!analyze_callees(&a, batch, nbatch)) {
        analyze_free(&a);
        return 0;
    }
    for (uint32_t pc = 0; a.callee && pc < code->ncode; pc++) {
        const zx_code *x = a.callee[pc];
        if (!x) continue;
        uint32_t k = 0;
        while (k < nbatch && batch[k] != x) k++;
        put_u32(put, ctx, pc);
        put_u32(put, ctx, x == code ? UINT32_MAX - 1 : k < nbatch ? k : UINT32_MAX);
        uint32_t path[ANALYZE_PATH_MAX];
        int len = analyze_code_path(prog, x, path);
        put_u32(put, ctx, (uint32_t)len);
        for (int i = 0; i < len; i++) put_u32(put, ctx, path[i]);
        put_u32(put, ctx, (uint32_t)x->kind);
        put_u32(put, ctx, x->nparams);
        put_u32(put, ctx, x->nlocals);
        put_u32(put, ctx, x->max_stack);
        put_u32(put, ctx, x->nfree);
        uint32_t cells = 0;
        for (uint32_t i = 0; x->local_is_cell && i < x->nlocals; i++) cells |= x->local_is_cell[i];
        put_u32(put, ctx, cells);
        put_str(put, ctx, x->name);
        /* a callee that may be inlined is compiled into this code: its instructions and the
         * constants they load (analyze_inlinable admits no object constants) */
        int inl = analyze_inlinable(x);
        put_u32(put, ctx, (uint32_t)inl);
        for (uint32_t i = 0; inl && i < x->ncode; i++) {
            put_u32(put, ctx, x->code[i].op);
            put_u32(put, ctx, x->code[i].a);
            put_u32(put, ctx, x->code[i].b);
        }
        for (uint32_t i = 0; inl && i < x->nconsts; i++) {
            zx_value kv = x->consts[i];
            uint64_t bits = 0;
            if (kv.tag == ZX_T_INT) bits = (uint64_t)kv.u.i;
            else if (kv.tag == ZX_T_FLOAT) memcpy(&bits, &kv.u.f, sizeof bits);
            else if (kv.tag == ZX_T_BOOL) bits = kv.u.b;
            put_u32(put, ctx, kv.tag);
            put(ctx, &bits, sizeof bits);
        }
    }
    analyze_free(&a);
    return 1;
}

/* ---------------------------------------------------------------------------------------- */
/* Set-up                                                                                     */
/* ---------------------------------------------------------------------------------------- */

void analyze_init(analyze_code *a, zx_program *prog, zx_code *code)
{
    memset(a, 0, sizeof *a);
    a->prog = prog;
    a->code = code;
    a->nl = code->nlocals;
    /* the globals the code names, up to the highest slot: the others are neither read nor
     * relied on here, and the analysis (so the code) does not depend on how many globals the
     * rest of the program has (the compiled-code cache keys on this code object's own bytes) */
    uint32_t ng = 0;
    for (uint32_t pc = 0; pc < code->ncode; pc++) {
        const zx_opinfo *info = zx_op_info(code->code[pc].op);
        if (info && info->kind == OPK_GLOBAL && code->code[pc].a >= ng) ng = code->code[pc].a + 1;
    }
    if (ng > prog->nglobals) ng = prog->nglobals;   /* only an unverified program names more */
    a->ng = ng < ANALYZE_MAX_TRACKED_GLOBALS ? ng : ANALYZE_MAX_TRACKED_GLOBALS;
    a->ns = code->max_stack + 2;
    a->W = a->nl + a->ng + a->ns;
}

void analyze_free(analyze_code *a)
{
    free(a->state);
    free(a->live);
    free(a->callee);
    free(a->borrow);
    free(a->int_state);
    memset(a, 0, sizeof *a);
}
