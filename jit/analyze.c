/* analyze.c — the JIT's planning analyses of a code object (analyze.h): no LLVM here. */
#include "analyze.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/builtins.h"

/* Generated from the opcode table: pops/pushes (-1: from the operands). */
static const struct { int num, pops, pushes; const char *name; } optab[] = {
#define ROW(name, num, pops, pushes, kind, flags) { num, pops, pushes, #name },
    ZX_OPCODES(ROW)
#undef ROW
};

static int op_row(unsigned op)
{
    for (size_t i = 0; i < sizeof optab / sizeof optab[0]; i++)
        if ((unsigned)optab[i].num == op) return (int)i;
    return -1;
}

const char *analyze_op_name(unsigned op)
{
    int r = op_row(op);
    return r < 0 ? "?" : optab[r].name;
}

void analyze_stack_effect(const zx_instr *in, int *pops, int *pushes)
{
    int r = op_row(in->op);
    *pops = optab[r].pops;
    *pushes = optab[r].pushes;
    switch (in->op) {   /* the rows with -1 */
    case OP_CALL_TOP: *pops = (int)in->a + 1; break;
    case OP_CALL_BUILTIN: *pops = in->b; break;
    case OP_CALL_METHOD: *pops = in->b + 1; break;
    case OP_BUILD_LIST: *pops = (int)in->a; break;
    case OP_BUILD_MAP: *pops = 2 * (int)in->a; break;
    case OP_PRINT: *pops = (int)in->a; break;
    case OP_ASSERT: *pops = in->a ? 2 : 1; break;
    default: break;
    }
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

static uint8_t builtin_mask(unsigned id)
{
    switch (id) {
    case ZX_BI_len: case ZX_BI_int: return M_I;
    case ZX_BI_float: return M_F;
    case ZX_BI_string: case ZX_BI_type: case ZX_BI_range: case ZX_BI_args: case ZX_BI_parallel_map: return M_O;
    case ZX_BI_print: return M_N;
    default: return M_VAL;
    }
}

/* Apply instruction pc to state s (locals, globals, stack with depth *d).  Returns the
 * successors in succ (at most 2). */
static int transfer(analyze_code *a, uint32_t pc, uint8_t *s, int *d, uint32_t succ[2])
{
    const zx_instr *in = &a->code->code[pc];
    uint8_t *lm = s, *gm = s + a->nl, *sm = s + a->nl + a->ng;
    int pops, pushes;
    analyze_stack_effect(in, &pops, &pushes);
    int n = 0;
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
    case OP_JUMP: succ[n++] = in->a; return n;
    case OP_JUMP_IF_FALSE: case OP_JUMP_IF_TRUE:
        (*d)--;
        succ[n++] = pc + 1;
        if (in->a != pc + 1) succ[n++] = in->a;
        return n;
    case OP_RETURN: (*d)--; return 0;
    case OP_CALL_TOP:
        *d -= pops;
        PUSHM(M_VAL);
        CLOBBER_GLOBALS();
        break;
    case OP_CALL_BUILTIN:
        *d -= pops;
        PUSHM(builtin_mask(in->a));
        if (in->a == ZX_BI_parallel_map) CLOBBER_GLOBALS();
        break;
    case OP_CALL_METHOD: case OP_INDEX:
        *d -= pops;
        PUSHM(M_VAL);
        break;
    case OP_BUILD_LIST: case OP_BUILD_MAP: case OP_LOAD_BUILTIN: case OP_LOAD_HOST: case OP_MAKE_CLOSURE:
        *d -= pops;
        PUSHM(M_O);
        break;
    case OP_PARALLEL_MAP:
        *d -= pops;
        PUSHM(M_O);
        CLOBBER_GLOBALS();
        break;
    case OP_FORK_EXECUTION: CLOBBER_GLOBALS(); break;
    case OP_STORE_INDEX: case OP_PRINT: case OP_ASSERT: case OP_STORE_CELL: case OP_STORE_FREE:
        *d -= pops;
        break;
    case OP_NOP: case OP_BARRIER_SYNC: case OP_JOIN_WORKERS: break;
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
        succ[n++] = in->a;      /* exit: nothing pushed (state copied before the pushes) */
        lm[in->b + 1] = M_I;
        if (in->op == OP_FOR_ITER2) PUSHM(M_VAL);
        PUSHM(M_VAL);
        succ[n++] = pc + 1;
        return n;
    }
#undef PUSHM
#undef GM
#undef CLOBBER_GLOBALS
    succ[n++] = pc + 1;
    return n;
}

int analyze_types(analyze_code *a, uint8_t param_mask, char *err, size_t errsz)
{
    zx_code *c = a->code;
    if (c->ncode == 0) {
        snprintf(err, errsz, "%s: empty code object", c->name);
        return 0;
    }
    for (uint32_t pc = 0; pc < c->ncode; pc++) {
        if (op_row(c->code[pc].op) < 0) {
            snprintf(err, errsz, "%s: pc %u: unknown opcode %u", c->name, pc, c->code[pc].op);
            return 0;
        }
    }
    a->depth = malloc(c->ncode * sizeof *a->depth);
    a->state = calloc((size_t)c->ncode * a->W + a->W, 1);
    uint32_t *work = malloc((c->ncode + 1) * sizeof *work);
    uint8_t *inq = calloc(c->ncode, 1);
    uint8_t *cur = a->state + (size_t)c->ncode * a->W;   /* scratch */
    if (!a->depth || !a->state || !work || !inq) {
        snprintf(err, errsz, "out of memory");
        free(work);
        free(inq);
        return 0;
    }
    for (uint32_t i = 0; i < c->ncode; i++) a->depth[i] = -1;
    /* pc 0: parameters are values (of param_mask), other locals undefined, cells hold their cell */
    uint8_t *s0 = a->state;
    for (uint32_t i = 0; i < a->nl; i++) {
        s0[i] = i < c->nparams ? param_mask : M_U;
        if (c->local_is_cell && c->local_is_cell[i]) s0[i] = M_O;
    }
    memset(s0 + a->nl, M_ANY, a->ng);
    a->depth[0] = 0;
    uint32_t nw = 0;
    work[nw++] = 0;
    inq[0] = 1;
    int ok = 1;
    while (nw) {
        uint32_t pc = work[--nw];
        inq[pc] = 0;
        memcpy(cur, a->state + (size_t)pc * a->W, a->W);
        int d = a->depth[pc];
        uint32_t succ[2];
        /* FOR_ITER's exit edge leaves before the pushes: handle it with the unchanged state */
        uint8_t *before = NULL;
        const zx_instr *in = &c->code[pc];
        if (in->op == OP_FOR_ITER1 || in->op == OP_FOR_ITER2) {
            before = malloc(a->W);
            if (!before) { ok = 0; break; }
            memcpy(before, cur, a->W);
        }
        int d_after = d;
        int ns = transfer(a, pc, cur, &d_after, succ);
        if (d_after < 0 || (uint32_t)d_after > a->ns) {
            snprintf(err, errsz, "stack depth out of range at pc %u", pc);
            ok = 0;
            free(before);
            break;
        }
        for (int k = 0; k < ns; k++) {
            uint32_t s = succ[k];
            const uint8_t *src = cur;
            int sd = d_after;
            if (before && k == 0) { src = before; sd = d; }
            if (s >= c->ncode) continue;
            uint8_t *dst = a->state + (size_t)s * a->W;
            int changed = 0;
            if (a->depth[s] < 0) {
                a->depth[s] = sd;
                memcpy(dst, src, a->W);
                changed = 1;
            } else {
                if (a->depth[s] != sd) {
                    snprintf(err, errsz, "inconsistent stack depth at pc %u", s);
                    ok = 0;
                    break;
                }
                for (uint32_t i = 0; i < a->nl + a->ng + (uint32_t)sd; i++) {
                    uint8_t m = dst[i] | src[i];
                    if (m != dst[i]) { dst[i] = m; changed = 1; }
                }
            }
            if (changed && !inq[s]) {
                inq[s] = 1;
                work[nw++] = s;
            }
        }
        free(before);
        if (!ok) break;
    }
    free(work);
    free(inq);
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
            int ns = 0;
            switch (in->op) {
            case OP_JUMP: succ[ns++] = in->a; break;
            case OP_JUMP_IF_FALSE: case OP_JUMP_IF_TRUE: case OP_FOR_ITER1: case OP_FOR_ITER2:
                succ[ns++] = pc + 1;
                succ[ns++] = in->a;
                break;
            case OP_RETURN: break;
            default: succ[ns++] = pc + 1; break;
            }
            int clobbers = in->op == OP_CALL_TOP || in->op == OP_PARALLEL_MAP || in->op == OP_FORK_EXECUTION ||
                           (in->op == OP_CALL_BUILTIN && in->a == ZX_BI_parallel_map) || in->op == OP_SHARED_WRITE;
            for (uint32_t i = 0; i < V; i++) {
                uint8_t x = 0;
                for (int k = 0; k < ns; k++)
                    if (succ[k] < c->ncode) x |= a->live[(size_t)succ[k] * V + i];
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

typedef uint64_t origin;          /* where a stack value came from */
#define OG_UNSET 0ull
#define OG_UNKNOWN 1ull
enum { OG_CLOSURE = 2, OG_GLOBAL, OG_LOCAL, OG_FREE };
#define OG(kind, arg) (((uint64_t)(kind) << 32) | (uint32_t)(arg))
#define OG_KIND(o) ((uint32_t)((o) >> 32))
#define OG_ARG(o) ((uint32_t)(o))

static origin og_merge(origin x, origin y)
{
    if (x == OG_UNSET) return y;
    if (y == OG_UNSET || x == y) return x;
    return OG_UNKNOWN;
}

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

/* Apply the instruction at pc to the origins st (depth *d). */
static void origin_step(const zx_instr *in, origin *st, int *d)
{
    int n = *d;
    switch (in->op) {
    case OP_LOAD_NAME: case OP_SHARED_READ: st[n++] = OG(OG_GLOBAL, in->a); break;
    case OP_LOAD_LOCAL: case OP_LOAD_CELL: st[n++] = OG(OG_LOCAL, in->a); break;
    case OP_LOAD_FREE: st[n++] = OG(OG_FREE, in->a); break;
    case OP_MAKE_CLOSURE: st[n++] = OG(OG_CLOSURE, in->a); break;
    case OP_DUP: st[n] = st[n - 1]; n++; break;
    case OP_DUP2: st[n] = st[n - 2]; st[n + 1] = st[n - 1]; n += 2; break;
    case OP_ROT3: {
        origin c = st[n - 1];
        st[n - 1] = st[n - 2];
        st[n - 2] = st[n - 3];
        st[n - 3] = c;
        break;
    }
    default: {
        int pops, pushes;
        analyze_stack_effect(in, &pops, &pushes);
        n -= pops;
        for (int i = 0; i < pushes; i++) st[n++] = OG_UNKNOWN;
        break;
    }
    }
    *d = n;
}

/* Fill a->callee: for each CALL_TOP, the code object of the batch it calls directly.  Only
 * callees whose frame a call stub can push qualify: the right arity, no captured locals (they
 * start as cells, made in zx_frame_push). */
int analyze_callees(analyze_code *a, zx_code *const *batch, size_t nbatch)
{
    zx_code *c = a->code;
    int any = 0;
    for (uint32_t pc = 0; pc < c->ncode && !any; pc++) any = c->code[pc].op == OP_CALL_TOP && a->depth[pc] >= 0;
    if (!any || !nbatch) return 1;
    size_t *off = malloc(((size_t)c->ncode + 1) * sizeof *off);
    size_t total = 0;
    for (uint32_t pc = 0; off && pc < c->ncode; pc++) {
        off[pc] = total;
        total += a->depth[pc] > 0 ? (size_t)a->depth[pc] : 0;
    }
    origin *states = calloc(total + 1, sizeof *states);
    origin *st = malloc(((size_t)a->ns + 2) * sizeof *st);
    a->callee = calloc(c->ncode, sizeof *a->callee);
    int ok = off && states && st && a->callee;
    /* forward passes to a fixpoint (verified code: the depth at every pc is known) */
    for (int changed = ok; changed;) {
        changed = 0;
        for (uint32_t pc = 0; pc < c->ncode; pc++) {
            if (a->depth[pc] < 0) continue;
            const zx_instr *in = &c->code[pc];
            int d0 = a->depth[pc], d = d0;
            memcpy(st, states + off[pc], (size_t)d0 * sizeof *st);
            origin_step(in, st, &d);
            uint32_t succ[2];
            int keep[2] = { 0, 0 }, ns = 0;
            switch (in->op) {
            case OP_JUMP: succ[ns++] = in->a; break;
            case OP_JUMP_IF_FALSE: case OP_JUMP_IF_TRUE: succ[ns++] = pc + 1; succ[ns++] = in->a; break;
            case OP_FOR_ITER1: case OP_FOR_ITER2: keep[ns] = 1; succ[ns++] = in->a; succ[ns++] = pc + 1; break;
            case OP_RETURN: break;
            default: succ[ns++] = pc + 1; break;
            }
            for (int k = 0; k < ns; k++) {
                uint32_t s = succ[k];
                if (s >= c->ncode || a->depth[s] < 0) continue;
                const origin *src = keep[k] ? states + off[pc] : st;
                int sd = keep[k] ? d0 : d;
                if (sd != a->depth[s]) continue;
                origin *dst = states + off[s];
                for (int j = 0; j < sd; j++) {
                    origin m = og_merge(dst[j], src[j]);
                    if (m != dst[j]) {
                        dst[j] = m;
                        changed = 1;
                    }
                }
            }
        }
    }
    /* the top level runs once: only its loops' calls are worth the code of a direct call */
    uint8_t *in_loop = ok ? calloc(c->ncode + 1, 1) : NULL;
    ok = ok && in_loop;
    for (uint32_t pc = 0; ok && pc < c->ncode; pc++) {
        const zx_instr *in = &c->code[pc];
        if ((in->op == OP_JUMP || in->op == OP_JUMP_IF_FALSE || in->op == OP_JUMP_IF_TRUE) && in->a <= pc)
            memset(in_loop + in->a, 1, pc - in->a + 1);
    }
    for (uint32_t pc = 0; ok && pc < c->ncode; pc++) {
        const zx_instr *in = &c->code[pc];
        if (in->op != OP_CALL_TOP || a->depth[pc] < (int)in->a + 1) continue;
        if (c->kind == ZX_CODE_MAIN && !in_loop[pc]) continue;
        zx_code *x = origin_code(a, states[off[pc] + (uint32_t)a->depth[pc] - in->a - 1]);
        int in_batch = 0;
        for (size_t i = 0; x && i < nbatch; i++) in_batch |= batch[i] == x;
        if (!in_batch || x->kind == ZX_CODE_MAIN || x->nparams != in->a) continue;
        int cells = 0;
        for (uint32_t i = 0; x->local_is_cell && i < x->nlocals; i++) cells |= x->local_is_cell[i];
        if (cells) continue;
        a->callee[pc] = x;
    }
    free(in_loop);
    free(off);
    free(states);
    free(st);
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

/* The instruction that last wrote stack slot `slot` before its use at p, when the code from
 * it to p is straight-line and borrow-safe; UINT32_MAX otherwise. */
static uint32_t borrow_source(analyze_code *a, uint32_t p, int slot, const uint8_t *target)
{
    const zx_code *c = a->code;
    for (uint32_t r = p; r-- > 0;) {
        if (a->depth[r] < 0 || target[r + 1]) return UINT32_MAX;
        int pops, pushes;
        analyze_stack_effect(&c->code[r], &pops, &pushes);
        int low = a->depth[r] - pops;      /* slots at or above this one are written */
        if (low <= slot) return low + pushes > slot ? r : UINT32_MAX;
        if (!borrow_safe_between(c->code[r].op)) return UINT32_MAX;
    }
    return UINT32_MAX;
}

int analyze_borrows(analyze_code *a)
{
    const zx_code *c = a->code;
    if (a->ns > BORROW_MAX_STACK) return 1;
    uint8_t *target = calloc(c->ncode + 1, 1);
    a->borrow = calloc(c->ncode, 1);
    if (!target || !a->borrow) {
        free(target);
        return 0;
    }
    for (uint32_t pc = 0; pc < c->ncode; pc++) {
        const zx_instr *in = &c->code[pc];
        if ((in->op == OP_JUMP || in->op == OP_JUMP_IF_FALSE || in->op == OP_JUMP_IF_TRUE || in->op == OP_FOR_ITER1 ||
             in->op == OP_FOR_ITER2) && in->a < c->ncode)
            target[in->a] = 1;
    }
    /* in pc order: an INDEX source must know whether its own container was borrowed */
    for (uint32_t p = 0; p < c->ncode; p++) {
        const zx_instr *in = &c->code[p];
        int d = a->depth[p];
        if (d < 0) continue;
        if (in->op == OP_INDEX && d >= 2) {
            uint32_t q = borrow_source(a, p, d - 2, target);
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
        } else if (in->op == OP_CALL_TOP && a->callee && a->callee[p] && d >= (int)in->a + 1) {
            uint32_t q = borrow_source(a, p, d - (int)in->a - 1, target);
            if (q == UINT32_MAX) continue;
            unsigned op = c->code[q].op;
            int kept = op == OP_LOAD_LOCAL;      /* the caller's own local keeps the closure alive */
            if (op != OP_LOAD_LOCAL && op != OP_LOAD_NAME && op != OP_LOAD_CELL && op != OP_LOAD_FREE) continue;
            if (!kept && a->callee[p]->nfree) continue;
            a->borrow[q] |= BORROW_LOAD;
            a->borrow[p] |= BORROW_USE;
        }
    }
    free(target);
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

static int want_int_version(analyze_code *a)
{
    const zx_code *c = a->code;
    if (c->kind == ZX_CODE_MAIN || c->nparams == 0 || c->ncode > INT_VERSION_MAX_CODE) return 0;
    for (uint32_t i = 0; c->local_is_cell && i < c->nparams; i++)
        if (c->local_is_cell[i]) return 0;
    /* only code that repeats (a loop, or a call that may recurse) runs long enough to pay for
     * being compiled twice */
    for (uint32_t pc = 0; pc < c->ncode; pc++) {
        const zx_instr *in = &c->code[pc];
        if (in->op == OP_CALL_TOP || ((in->op == OP_JUMP || in->op == OP_JUMP_IF_FALSE || in->op == OP_JUMP_IF_TRUE) && in->a <= pc))
            return 1;
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


/*
 * end_pc is UINT32_MAX or the end of a chunk, and chunks are whole statements that no jump
 * enters or leaves: an instruction strictly inside a jump's span (between a forward jump and
 * its target; after a loop's head up to its back-edge) is never one.  Only the others check
 * end_pc, and a back-edge goes past its loop head's check (a chunk that ends at a loop head
 * stops there on the way in, never from inside the loop).
 */
int analyze_spans(analyze_code *a)
{
    const zx_code *c = a->code;
    a->in_span = calloc(c->ncode + 1, 1);
    if (!a->in_span) return 0;
    for (uint32_t pc = 0; pc < c->ncode; pc++) {
        const zx_instr *in = &c->code[pc];
        if (in->op != OP_JUMP && in->op != OP_JUMP_IF_FALSE && in->op != OP_JUMP_IF_TRUE && in->op != OP_FOR_ITER1 &&
            in->op != OP_FOR_ITER2)
            continue;
        uint32_t lo = in->a > pc ? pc + 1 : in->a + 1, hi = in->a > pc ? in->a : pc + 1;
        for (uint32_t k = lo; k < hi && k < c->ncode; k++) a->in_span[k] = 1;
    }
    return 1;
}

/* ---------------------------------------------------------------------------------------- */
/* The int version                                                                            */
/* ---------------------------------------------------------------------------------------- */

void analyze_int_version(analyze_code *a)
{
    if (!want_int_version(a)) return;
    /* analyse again with int parameters; depth is the same */
    analyze_code ia = *a;
    ia.depth = NULL;
    ia.state = NULL;
    char err[160];
    if (analyze_types(&ia, M_I, err, sizeof err) && int_version_pays(&ia, a->state)) a->int_state = ia.state;
    else free(ia.state);
    free(ia.depth);
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
    a->ng = prog->nglobals < ANALYZE_MAX_TRACKED_GLOBALS ? prog->nglobals : ANALYZE_MAX_TRACKED_GLOBALS;
    a->ns = code->max_stack + 2;
    a->W = a->nl + a->ng + a->ns;
}

void analyze_free(analyze_code *a)
{
    free(a->depth);
    free(a->state);
    free(a->live);
    free(a->callee);
    free(a->borrow);
    free(a->in_span);
    free(a->int_state);
    memset(a, 0, sizeof *a);
}
