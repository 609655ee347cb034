/* verifier.c — checks every property of a program that the interpreter and the JIT rely on. */
#include "bytecode/bytecode.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/builtins.h"

/*
 * What a verified program guarantees, per code object (zx_verify_program in bytecode.h):
 *   - every opcode is in the table and every operand is in range for its kind; operands a
 *     kind does not use are 0, so the text and binary forms are canonical;
 *   - LOAD_CELL/STORE_CELL name cell locals, LOAD_LOCAL/STORE_LOCAL/GET_ITER/FOR_ITER plain
 *     ones; the two slots of an iterator (GET_ITER a: iterable a, index a+1) are touched by
 *     nothing but GET_ITER and FOR_ITER, and every path to a FOR_ITER passes a GET_ITER of
 *     its slot, so FOR_ITER always finds a prepared iterator and an integer index;
 *   - the stack depth is the same on every path into an instruction, never negative, and
 *     exactly the operands at OPF_STACK_EXACT rows (1 at RETURN, 0 at fork, join and
 *     barrier); no path runs off the end of the code;
 *   - a closure's captured variables name cells of the parent or the parent's own captures.
 * What it proves per instruction (stack depth, ZX_PC_* facts) stays on the code object.
 */

#define VERIFY_MAX_CODE  (1u << 24)   /* instructions, constants, children per code object */
#define VERIFY_MAX_COUNT (1u << 24)   /* element and argument counts of one instruction */
#define VERIFY_MAX_HANDLERS 4096    /* handler rows of one code object */
#define VERIFY_MAX_WORK  (1u << 27)   /* instruction visits spent on iterator paths per code object */

typedef struct verifier {
    const zx_program *p;
    char *err;
    size_t errsz;
} verifier;

static const char *code_name(const zx_code *c) { return c->name ? c->name : "?"; }

static const char *local_name(const zx_code *c, uint32_t i)
{
    return c->local_names && i < c->nlocals && c->local_names[i] ? c->local_names[i] : "?";
}

/* Writes "verify: [CODE: [instruction PC (OP): ]]WHAT" to the error buffer; returns false. */
static bool report(verifier *V, const zx_code *c, long pc, const char *fmt, va_list ap)
{
    char what[256], where[192] = "";
    vsnprintf(what, sizeof what, fmt, ap);
    if (c && pc >= 0) {
        const zx_opinfo *info = zx_op_info(c->code[pc].op);
        char opname[32];
        if (info) snprintf(opname, sizeof opname, "%s", info->name);
        else snprintf(opname, sizeof opname, "opcode %u", (unsigned)c->code[pc].op);
        snprintf(where, sizeof where, "%.100s: instruction %ld (%s): ", code_name(c), pc, opname);
    } else if (c) {
        snprintf(where, sizeof where, "%.100s: ", code_name(c));
    }
    if (V->errsz) snprintf(V->err, V->errsz, "verify: %s%s", where, what);
    return false;
}

static bool prog_error(verifier *V, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool prog_error(verifier *V, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(V, NULL, -1, fmt, ap);
    va_end(ap);
    return false;
}

static bool code_error(verifier *V, const zx_code *c, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool code_error(verifier *V, const zx_code *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(V, c, -1, fmt, ap);
    va_end(ap);
    return false;
}

static bool instr_error(verifier *V, const zx_code *c, uint32_t pc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool instr_error(verifier *V, const zx_code *c, uint32_t pc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(V, c, (long)pc, fmt, ap);
    va_end(ap);
    return false;
}

static const char *kind_word(zx_code_kind k)
{
    switch (k) {
    case ZX_CODE_MAIN: return "the main code";
    case ZX_CODE_ACTION: return "an action";
    case ZX_CODE_LAMBDA: return "a lambda";
    case ZX_CODE_FORK: return "a fork block";
    }
    return "a code object of unknown kind";
}

/* ---- tables and constants ---- */

static int cmp_names(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static bool check_globals(verifier *V)
{
    const zx_program *p = V->p;
    if (p->nglobals == 0) return true;
    if (!p->globals) return prog_error(V, "the global table is missing");
    const char **names = malloc((size_t)p->nglobals * sizeof *names);
    if (!names) return prog_error(V, "out of memory");
    bool ok = true;
    for (uint32_t i = 0; i < p->nglobals && ok; i++) {
        const zx_global *g = &p->globals[i];
        if (!g->name) ok = prog_error(V, "global %u has no name", i);
        else if (g->is_const > 1 || g->is_shared > 1) ok = prog_error(V, "global %u ('%s') has bad flags", i, g->name);
        names[i] = g->name;
    }
    if (ok) {
        qsort(names, p->nglobals, sizeof *names, cmp_names);
        for (uint32_t i = 1; i < p->nglobals && ok; i++)
            if (strcmp(names[i - 1], names[i]) == 0) ok = prog_error(V, "duplicate global '%s'", names[i]);
    }
    free(names);
    return ok;
}

static bool check_const(verifier *V, const zx_code *c, uint32_t i)
{
    zx_value v = c->consts[i];
    switch ((zx_tag)v.tag) {
    case ZX_T_NULL: case ZX_T_BOOL: case ZX_T_INT: case ZX_T_FLOAT:
        return true;
    case ZX_T_OBJ:
        if (!v.u.o || v.u.o->type != ZX_O_STRING) break;
        if (!zx_utf8_valid(ZX_AS_STRING(v)->data, ZX_AS_STRING(v)->nbytes))
            return code_error(V, c, "constant %u is a string that is not valid UTF-8", i);
        return true;
    case ZX_T_UNDEF:
        break;
    }
    return code_error(V, c, "constant %u is not null, bool, int, float or string", i);
}

/* The parts of a code object every later check indexes into. */
static bool check_shape(verifier *V, const zx_code *c, const zx_code *parent)
{
    if ((unsigned)c->kind > ZX_CODE_FORK) return code_error(V, c, "bad code kind %u", (unsigned)c->kind);
    if (!parent && c->kind != ZX_CODE_MAIN)
        return code_error(V, c, "the main code object is %s", kind_word(c->kind));
    if (parent && c->kind == ZX_CODE_MAIN) return code_error(V, c, "a nested code object has kind main");
    if (c->ncode == 0 || !c->code) return code_error(V, c, "no instructions");
    if (!c->positions) return code_error(V, c, "no source positions");
    if (c->ncode > VERIFY_MAX_CODE) return code_error(V, c, "too many instructions (%u)", c->ncode);
    if (c->nconsts > VERIFY_MAX_CODE) return code_error(V, c, "too many constants (%u)", c->nconsts);
    if (c->nchildren > VERIFY_MAX_CODE) return code_error(V, c, "too many nested code objects (%u)", c->nchildren);
    if (c->nlocals > ZX_MAX_LOCALS)
        return code_error(V, c, "too many locals (%u, at most %u)", c->nlocals, (unsigned)ZX_MAX_LOCALS);
    if (c->nfree > ZX_MAX_LOCALS)
        return code_error(V, c, "too many free variables (%u, at most %u)", c->nfree, (unsigned)ZX_MAX_LOCALS);
    if (c->nparams > c->nlocals) return code_error(V, c, "%u parameters but only %u locals", c->nparams, c->nlocals);
    if (c->nlocals && (!c->local_names || !c->local_is_cell)) return code_error(V, c, "the local table is missing");
    for (uint32_t i = 0; i < c->nlocals; i++) {
        if (!c->local_names[i]) return code_error(V, c, "local %u has no name", i);
        if (c->local_is_cell[i] > 1) return code_error(V, c, "local %u ('%s') has a bad cell flag", i, c->local_names[i]);
    }
    if (c->nfree && !c->free) return code_error(V, c, "the free-variable table is missing");
    if (c->nconsts && !c->consts) return code_error(V, c, "the constant table is missing");
    if (c->nchildren && !c->children) return code_error(V, c, "the table of nested code objects is missing");
    for (uint32_t i = 0; i < c->nchildren; i++)
        if (!c->children[i]) return code_error(V, c, "nested code object %u is missing", i);
    if (c->nhandlers && !c->handlers) return code_error(V, c, "the handler table is missing");
    if (c->nhandlers > VERIFY_MAX_HANDLERS) return code_error(V, c, "too many handlers (%u)", c->nhandlers);
    for (uint32_t i = 0; i < c->nhandlers; i++) {
        const zx_handler *h = &c->handlers[i];
        if (h->start >= h->end || h->end > c->ncode)
            return code_error(V, c, "handler %u: bad range %u..%u (%u instructions)", i, h->start, h->end, c->ncode);
        if (h->target >= c->ncode || (h->target >= h->start && h->target < h->end))
            return code_error(V, c, "handler %u: bad target %u for range %u..%u", i, h->target, h->start, h->end);
    }
    if (c->kind == ZX_CODE_MAIN && c->nparams) return code_error(V, c, "the main code object has parameters");
    if (c->kind == ZX_CODE_MAIN && c->nfree) return code_error(V, c, "the main code object has free variables");
    if (c->kind == ZX_CODE_FORK && c->nparams) return code_error(V, c, "a fork block has parameters");
    for (uint32_t i = 0; i < c->nconsts; i++)
        if (!check_const(V, c, i)) return false;
    for (uint32_t i = 0; i < c->nfree; i++) {
        const zx_freevar *fv = &c->free[i];
        const char *nm = fv->name ? fv->name : "?";
        if (!fv->name) return code_error(V, c, "free variable %u has no name", i);
        if (fv->from_parent_local > 1) return code_error(V, c, "free variable %u ('%s') has a bad origin flag", i, nm);
        if (!parent) continue;   /* main: nfree is 0 */
        if (fv->from_parent_local) {
            if (fv->index >= parent->nlocals)
                return code_error(V, c, "free variable %u ('%s') refers to parent local %u, out of range (%u locals)",
                                  i, nm, fv->index, parent->nlocals);
            if (!parent->local_is_cell[fv->index])
                return code_error(V, c, "free variable %u ('%s') refers to parent local %u ('%s'), which is not a cell",
                                  i, nm, fv->index, local_name(parent, fv->index));
        } else if (fv->index >= parent->nfree) {
            return code_error(V, c, "free variable %u ('%s') refers to parent free variable %u, out of range (%u free variables)",
                              i, nm, fv->index, parent->nfree);
        }
    }
    return true;
}

/* ---- operands ---- */

static bool is_arith_op(unsigned op)
{
    return op == OP_ADD || op == OP_SUB || op == OP_MUL || op == OP_DIV || op == OP_MOD || op == OP_POW;
}

static bool check_local(verifier *V, const zx_code *c, uint32_t pc, uint32_t slot, bool want_cell)
{
    if (slot >= c->nlocals) return instr_error(V, c, pc, "local %u out of range (%u locals)", slot, c->nlocals);
    if (want_cell && !c->local_is_cell[slot])
        return instr_error(V, c, pc, "local %u ('%s') is not a cell", slot, c->local_names[slot]);
    if (!want_cell && c->local_is_cell[slot])
        return instr_error(V, c, pc, "local %u ('%s') is a cell", slot, c->local_names[slot]);
    return true;
}

static bool check_iter_slots(verifier *V, const zx_code *c, uint32_t pc, uint32_t slot)
{
    if ((uint64_t)slot + 1 >= c->nlocals)
        return instr_error(V, c, pc, "iterator locals %u and %u out of range (%u locals)", slot, slot + 1, c->nlocals);
    for (uint32_t s = slot; s <= slot + 1; s++)
        if (c->local_is_cell[s])
            return instr_error(V, c, pc, "iterator local %u ('%s') is a cell", s, c->local_names[s]);
    return true;
}

static bool check_jump(verifier *V, const zx_code *c, uint32_t pc, uint32_t target)
{
    if (target >= c->ncode)
        return instr_error(V, c, pc, "jump target %u out of range (%u instructions)", target, c->ncode);
    return true;
}

static bool check_operands(verifier *V, const zx_code *c, uint32_t pc)
{
    const zx_instr *in = &c->code[pc];
    const zx_opinfo *info = zx_op_info(in->op);
    if (!info) return instr_error(V, c, pc, "unknown opcode %u", (unsigned)in->op);
    int nops = zx_op_operand_count(in->op);
    if (nops < 1 && in->a) return instr_error(V, c, pc, "operand a must be 0, is %u", in->a);
    if (nops < 2 && in->b) return instr_error(V, c, pc, "operand b must be 0, is %u", (unsigned)in->b);
    switch (info->kind) {
    case OPK_NONE:
        break;
    case OPK_CONST:
        if (in->a >= c->nconsts) return instr_error(V, c, pc, "constant %u out of range (%u constants)", in->a, c->nconsts);
        if (in->op == OP_LOAD_HOST && !zx_is_type(c->consts[in->a], ZX_O_STRING))
            return instr_error(V, c, pc, "host function name (constant %u) is not a string", in->a);
        if (in->op == OP_GET_FIELD && !zx_is_type(c->consts[in->a], ZX_O_STRING))
            return instr_error(V, c, pc, "field name (constant %u) is not a string", in->a);
        break;
    case OPK_GLOBAL: {
        const zx_program *p = V->p;
        if (in->a >= p->nglobals) return instr_error(V, c, pc, "global %u out of range (%u globals)", in->a, p->nglobals);
        const zx_global *g = &p->globals[in->a];
        if ((in->op == OP_SHARED_WRITE || in->op == OP_SHARED_READ) && !g->is_shared)
            return instr_error(V, c, pc, "global %u ('%s') is not shared", in->a, g->name);
        if (in->op == OP_SHARED_WRITE && !is_arith_op(in->b))
            return instr_error(V, c, pc, "operator %u is not ADD, SUB, MUL, DIV, MOD or POW", (unsigned)in->b);
        break;
    }
    case OPK_LOCAL:
        if (in->op == OP_GET_ITER) return check_iter_slots(V, c, pc, in->a);
        return check_local(V, c, pc, in->a, in->op == OP_LOAD_CELL || in->op == OP_STORE_CELL);
    case OPK_FREE:
        if (in->a >= c->nfree) return instr_error(V, c, pc, "free variable %u out of range (%u free variables)", in->a, c->nfree);
        break;
    case OPK_CHILD: {
        if (in->a >= c->nchildren) return instr_error(V, c, pc, "child %u out of range (%u children)", in->a, c->nchildren);
        const zx_code *k = c->children[in->a];
        if (k->kind != ZX_CODE_ACTION && k->kind != ZX_CODE_LAMBDA)
            return instr_error(V, c, pc, "child %u ('%s') is %s, not an action or lambda", in->a, code_name(k), kind_word(k->kind));
        break;
    }
    case OPK_JUMP:
        return check_jump(V, c, pc, in->a);
    case OPK_ARGC: case OPK_COUNT:
        if (in->a > VERIFY_MAX_COUNT) return instr_error(V, c, pc, "count %u too large", in->a);
        break;
    case OPK_BUILTIN: {
        int lo, hi;
        zx_builtin_arity(in->a >= (uint32_t)ZX_BI_COUNT ? -1 : (int)in->a, &lo, &hi);
        if (lo < 0) return instr_error(V, c, pc, "unknown builtin %u", in->a);
        if (in->op == OP_CALL_BUILTIN && (in->b < lo || in->b > hi)) {
            const char *bn = zx_builtin_name((int)in->a);
            if (lo == hi)
                return instr_error(V, c, pc, "builtin %s takes %d argument%s, got %u", bn, lo, lo == 1 ? "" : "s", (unsigned)in->b);
            return instr_error(V, c, pc, "builtin %s takes %d to %d arguments, got %u", bn, lo, hi, (unsigned)in->b);
        }
        break;
    }
    case OPK_METHOD:
        if (in->a >= c->nconsts) return instr_error(V, c, pc, "constant %u out of range (%u constants)", in->a, c->nconsts);
        if (!zx_is_type(c->consts[in->a], ZX_O_STRING))
            return instr_error(V, c, pc, "method name (constant %u) is not a string", in->a);
        break;
    case OPK_ITER:
        return check_jump(V, c, pc, in->a) && check_iter_slots(V, c, pc, in->b);
    case OPK_FORK:
        if (in->b < 2) return instr_error(V, c, pc, "a fork needs at least 2 blocks, got %u", (unsigned)in->b);
        if ((uint64_t)in->a + in->b > c->nchildren)
            return instr_error(V, c, pc, "fork blocks %u..%llu out of range (%u children)", in->a,
                               (unsigned long long)in->a + in->b - 1, c->nchildren);
        for (uint32_t i = in->a; i < in->a + in->b; i++)
            if (c->children[i]->kind != ZX_CODE_FORK)
                return instr_error(V, c, pc, "child %u ('%s') is %s, not a fork block", i, code_name(c->children[i]), kind_word(c->children[i]->kind));
        break;
    case OPK_FLAG:
        if (in->a > 1) return instr_error(V, c, pc, "flag must be 0 or 1, is %u", in->a);
        break;
    }
    return true;
}

/* ---- iterator slots ---- */

enum { ROLE_ITER = 1, ROLE_INDEX = 2, ROLE_OTHER = 4 };

static bool is_iter_op(unsigned op) { return op == OP_GET_ITER || op == OP_FOR_ITER1 || op == OP_FOR_ITER2; }
static uint32_t iter_slot(const zx_instr *in) { return in->op == OP_GET_ITER ? in->a : in->b; }

/* Control-flow successors including the exception edges: every instruction inside a
 * handler's range may continue at its target.  succ has room for 2 + nhandlers. */
static int successors(const zx_code *c, uint32_t pc, uint32_t *succ)
{
    int k = zx_op_successors(&c->code[pc], pc, succ);
    for (uint32_t i = 0; i < c->nhandlers; i++)
        if (pc >= c->handlers[i].start && pc < c->handlers[i].end) succ[k++] = c->handlers[i].target;
    return k;
}

/* Successors of pc through handler edges, counted (for array sizes). */
static size_t handler_edges(const zx_code *c)
{
    size_t n = 0;
    for (uint32_t i = 0; i < c->nhandlers; i++) n += c->handlers[i].end - c->handlers[i].start;
    return n;
}

/* Immediate dominators of the reachable instructions (Cooper, Harvey and Kennedy, "A Simple,
 * Fast Dominance Algorithm"): idom[0] = 0, UINT32_MAX for unreachable ones.  rpo[] gets each
 * instruction's reverse-postorder number, which is smaller for a dominator than for the
 * instructions it dominates. */
static bool dominators(const zx_code *c, uint32_t *idom, uint32_t *rpo)
{
    uint32_t n = c->ncode, npost = 0;
    bool ok = false;
    uint32_t *order = malloc((size_t)n * sizeof *order);
    uint32_t *stack = malloc((size_t)n * sizeof *stack);
    uint32_t *pstart = calloc((size_t)n + 1, sizeof *pstart);
    uint32_t *preds = malloc(((size_t)n * 2 + handler_edges(c)) * sizeof *preds);
    uint32_t *next = calloc(n, sizeof *next);    /* DFS: 0 unvisited, then 1 + successors taken */
    uint32_t *succ = malloc(((size_t)c->nhandlers + 2) * sizeof *succ);
    if (!order || !stack || !pstart || !preds || !next || !succ) goto fail;

    uint32_t sp = 0;
    stack[sp++] = 0;
    next[0] = 1;
    while (sp) {
        uint32_t x = stack[sp - 1];
        int k = successors(c, x, succ);
        if ((int)next[x] - 1 < k) {
            uint32_t y = succ[next[x]++ - 1];
            if (y < n && !next[y]) {
                next[y] = 1;
                stack[sp++] = y;
            }
        } else {
            order[npost++] = x;   /* postorder for now */
            sp--;
        }
    }
    for (uint32_t i = 0; i < n; i++) rpo[i] = UINT32_MAX;
    for (uint32_t i = 0; i < npost / 2; i++) {
        uint32_t t = order[i];
        order[i] = order[npost - 1 - i];
        order[npost - 1 - i] = t;
    }
    for (uint32_t i = 0; i < npost; i++) rpo[order[i]] = i;

    /* predecessor lists of the reachable instructions */
    for (uint32_t i = 0; i < npost; i++) {
        int k = successors(c, order[i], succ);
        for (int j = 0; j < k; j++)
            if (succ[j] < n) pstart[succ[j] + 1]++;
    }
    for (uint32_t i = 0; i < n; i++) pstart[i + 1] += pstart[i];
    memcpy(stack, pstart, (size_t)n * sizeof *stack);        /* fill positions */
    for (uint32_t i = 0; i < npost; i++) {
        int k = successors(c, order[i], succ);
        for (int j = 0; j < k; j++)
            if (succ[j] < n) preds[stack[succ[j]]++] = order[i];
    }

    for (uint32_t i = 0; i < n; i++) idom[i] = UINT32_MAX;
    idom[0] = 0;
    for (bool changed = true; changed;) {
        changed = false;
        for (uint32_t i = 1; i < npost; i++) {
            uint32_t b = order[i], nd = UINT32_MAX;
            for (uint32_t j = pstart[b]; j < pstart[b + 1]; j++) {
                uint32_t x = preds[j];
                if (idom[x] == UINT32_MAX) continue;
                if (nd == UINT32_MAX) {
                    nd = x;
                    continue;
                }
                uint32_t y = nd;
                while (x != y) {
                    while (rpo[x] > rpo[y]) x = idom[x];
                    while (rpo[y] > rpo[x]) y = idom[y];
                }
                nd = x;
            }
            if (idom[b] != nd) {
                idom[b] = nd;
                changed = true;
            }
        }
    }
    ok = true;
fail:
    free(order);
    free(stack);
    free(pstart);
    free(preds);
    free(next);
    free(succ);
    return ok;
}

/* Is FOR_ITER at pc, with iterator slot s, reachable from the entry without passing a
 * GET_ITER of s?  A depth-first search, for slots with more than one GET_ITER; it stops when
 * the budget runs out. */
static bool iter_unprepared(const zx_code *c, uint32_t pc, uint32_t s, uint32_t *seen, uint32_t *work,
                            uint64_t *budget)
{
    uint32_t n = 0;
    memset(seen, 0, (size_t)c->ncode * sizeof *seen);
    work[n++] = 0;
    seen[0] = 1;
    while (n && *budget) {
        uint32_t at = work[--n], succ[2 + VERIFY_MAX_HANDLERS];
        if (at == pc) return true;
        if (c->code[at].op == OP_GET_ITER && c->code[at].a == s) continue;
        --*budget;
        int k = successors(c, at, succ);
        for (int i = 0; i < k; i++) {
            if (succ[i] >= c->ncode || seen[succ[i]]) continue;
            seen[succ[i]] = 1;
            work[n++] = succ[i];
        }
    }
    return false;
}

static bool check_iterators(verifier *V, const zx_code *c, const int32_t *depth)
{
    bool ok = false, any = false;
    uint32_t n = c->ncode;
    uint8_t *role = calloc((size_t)c->nlocals + 1, 1);
    uint8_t *ngets = calloc((size_t)c->nlocals + 1, 1);   /* GET_ITERs per slot: 0, 1, 2 = more */
    uint32_t *idom = NULL, *rpo = NULL, *seen = NULL, *work = NULL;
    if (!role || !ngets) goto oom;
    for (uint32_t pc = 0; pc < n; pc++) {
        const zx_instr *in = &c->code[pc];
        if (is_iter_op(in->op)) {
            role[iter_slot(in)] |= ROLE_ITER;
            role[iter_slot(in) + 1] |= ROLE_INDEX;
            if (in->op == OP_GET_ITER && ngets[in->a] < 2) ngets[in->a]++;
            if (in->op != OP_GET_ITER && depth[pc] >= 0) any = true;
        } else if (zx_op_info(in->op)->kind == OPK_LOCAL) {
            role[in->a] |= ROLE_OTHER;
        }
    }
    for (uint32_t pc = 0; pc < n; pc++) {
        const zx_instr *in = &c->code[pc];
        if (is_iter_op(in->op)) {
            uint32_t s = iter_slot(in);
            if ((role[s] | role[s + 1]) & ROLE_OTHER || role[s] & ROLE_INDEX || role[s + 1] & ROLE_ITER) {
                instr_error(V, c, pc, "iterator locals %u and %u are also used as other locals", s, s + 1);
                goto fail;
            }
        } else if (zx_op_info(in->op)->kind == OPK_LOCAL && role[in->a] & (ROLE_ITER | ROLE_INDEX)) {
            instr_error(V, c, pc, "local %u ('%s') is an iterator local", in->a, c->local_names[in->a]);
            goto fail;
        }
    }
    if (!any) {
        ok = true;
        goto fail;
    }
    /* Every reachable FOR_ITER must follow a GET_ITER of its slot on every path: with one
     * GET_ITER that means it dominates the FOR_ITER; with several, search the paths. */
    idom = malloc((size_t)n * sizeof *idom);
    rpo = malloc((size_t)n * sizeof *rpo);
    if (!idom || !rpo || !dominators(c, idom, rpo)) goto oom;
    uint64_t budget = VERIFY_MAX_WORK;
    for (uint32_t pc = 0; pc < n; pc++) {
        const zx_instr *in = &c->code[pc];
        if (depth[pc] < 0 || (in->op != OP_FOR_ITER1 && in->op != OP_FOR_ITER2)) continue;
        uint32_t s = in->b;
        bool prepared = false;
        for (uint32_t x = idom[pc]; budget; budget--) {
            if (c->code[x].op == OP_GET_ITER && c->code[x].a == s) {
                prepared = true;
                break;
            }
            if (x == 0) break;
            x = idom[x];
        }
        if (!prepared && budget && ngets[s] > 1) {
            if (!seen) {
                seen = malloc((size_t)n * sizeof *seen);
                work = malloc((size_t)n * sizeof *work);
                if (!seen || !work) goto oom;
            }
            prepared = !iter_unprepared(c, pc, s, seen, work, &budget);
        }
        if (!budget) {
            code_error(V, c, "too many loops to verify");
            goto fail;
        }
        if (!prepared) {
            instr_error(V, c, pc, "iterator local %u ('%s') may be used before GET_ITER", s, c->local_names[s]);
            goto fail;
        }
    }
    ok = true;
    goto fail;
oom:
    code_error(V, c, "out of memory");
fail:
    free(role);
    free(ngets);
    free(idom);
    free(rpo);
    free(seen);
    free(work);
    return ok;
}

/* ---- stack depth ---- */

/* Fills depth[] (-1 for unreachable instructions) and c->max_stack. */
static bool check_stack(verifier *V, zx_code *c, int32_t *depth)
{
    bool ok = false;
    uint32_t *work = malloc((size_t)c->ncode * sizeof *work);
    if (!work) return code_error(V, c, "out of memory");
    for (uint32_t i = 0; i < c->ncode; i++) depth[i] = -1;
    uint32_t n = 0;
    int32_t max = 0;
    depth[0] = 0;
    work[n++] = 0;
    while (n) {
        uint32_t pc = work[--n];
        const zx_instr *in = &c->code[pc];
        const zx_opinfo *info = zx_op_info(in->op);
        int32_t d = depth[pc];
        int pops, pushes;
        zx_op_stack_effect(in, &pops, &pushes);
        if (d < pops) {
            instr_error(V, c, pc, "stack underflow: needs %d value%s, stack depth is %d", pops, pops == 1 ? "" : "s", (int)d);
            goto fail;
        }
        if ((info->flags & OPF_STACK_EXACT) && d != pops) {
            if (pops == 0) instr_error(V, c, pc, "stack depth must be 0 here, is %d", (int)d);
            else instr_error(V, c, pc, "stack depth must be %d at %s, is %d", pops, info->name, (int)d);
            goto fail;
        }
        int32_t after = d - pops + pushes;
        if (d > max) max = d;
        if (after > max) max = after;
        uint32_t succ[2];
        int k = zx_op_successors(in, pc, succ);
        for (int i = 0; i < k; i++) {
            uint32_t t = succ[i];
            int32_t td = zx_op_edge_keeps(in, i) ? d : after;
            if (t >= c->ncode) {
                instr_error(V, c, pc, "execution falls off the end of the code");
                goto fail;
            }
            if (depth[t] < 0) {
                depth[t] = td;
                work[n++] = t;
            } else if (depth[t] != td) {
                instr_error(V, c, t, "stack depth %d on one path and %d on another", (int)depth[t], (int)td);
                goto fail;
            }
        }
        /* an exception edge: the stack unwound to 0, then the error's text and value */
        for (uint32_t i = 0; i < c->nhandlers; i++) {
            const zx_handler *h = &c->handlers[i];
            if (pc < h->start || pc >= h->end) continue;
            if (depth[h->target] < 0) {
                depth[h->target] = 2;
                work[n++] = h->target;
                if (max < 2) max = 2;
            } else if (depth[h->target] != 2) {
                instr_error(V, c, h->target, "handler target at stack depth %d, must be 2", (int)depth[h->target]);
                goto fail;
            }
        }
    }
    c->max_stack = (uint32_t)max;
    ok = true;
fail:
    free(work);
    return ok;
}

/* The ZX_PC_* facts of every instruction (bytecode.h), from the depths check_stack proved. */
static uint8_t *pc_facts(const zx_code *c, const int32_t *depth)
{
    uint32_t n = c->ncode;
    uint8_t *f = calloc(n, 1);
    int32_t *cross = calloc((size_t)n + 2, sizeof *cross);   /* +1 entering a span, -1 leaving */
    if (!f || !cross) goto fail;
    for (uint32_t i = 0; i < n; i++) {
        const zx_instr *in = &c->code[i];
        if (!(zx_op_info(in->op)->flags & OPF_JUMPS)) continue;
        uint32_t t = in->a;       /* < n: check_operands checked every jump target */
        f[t] |= ZX_PC_TARGET;
        if (t > i) {
            cross[i + 1]++;
            cross[t]--;
        } else {
            f[i] |= ZX_PC_BACK_EDGE;
            cross[t + 1]++;
            cross[i + 1]--;
        }
    }
    /* a handler row is a jump from every instruction of its range to its target: no chunk
     * ends between the range's start and the target */
    for (uint32_t i = 0; i < c->nhandlers; i++) {
        const zx_handler *h = &c->handlers[i];
        uint32_t lo = h->start < h->target ? h->start : h->target;
        uint32_t hi = h->start < h->target ? h->target : h->end - 1;
        f[h->target] |= ZX_PC_TARGET;
        cross[lo + 1]++;
        cross[hi + (h->start < h->target ? 0 : 1)]--;
    }
    int32_t spans = 0;
    for (uint32_t p = 0; p < n; p++) {
        spans += cross[p];
        if (spans > 0) f[p] |= ZX_PC_SPANNED;
        else if (depth[p] == 0 && (p == 0 || !(zx_op_info(c->code[p - 1].op)->flags & OPF_JOINS_NEXT)))
            f[p] |= ZX_PC_BOUNDARY;
    }
    free(cross);
    return f;
fail:
    free(f);
    free(cross);
    return NULL;
}

/* ---- code objects ---- */

static bool verify_code(verifier *V, zx_code *c, const zx_code *parent, int level)
{
    if (level > ZX_MAX_CODE_DEPTH)
        return code_error(V, c, "code objects nested too deeply (more than %d levels)", ZX_MAX_CODE_DEPTH);
    if (!check_shape(V, c, parent)) return false;
    for (uint32_t pc = 0; pc < c->ncode; pc++)
        if (!check_operands(V, c, pc)) return false;
    free(c->depth);
    free(c->pcflags);
    c->depth = NULL;
    c->pcflags = NULL;
    int32_t *depth = malloc((size_t)c->ncode * sizeof *depth);
    if (!depth) return code_error(V, c, "out of memory");
    if (!check_stack(V, c, depth) || !check_iterators(V, c, depth)) {
        free(depth);
        return false;
    }
    uint8_t *facts = pc_facts(c, depth);
    if (!facts) {
        free(depth);
        return code_error(V, c, "out of memory");
    }
    c->depth = depth;
    c->pcflags = facts;
    for (uint32_t i = 0; i < c->nchildren; i++)
        if (!verify_code(V, c->children[i], c, level + 1)) return false;
    return true;
}

bool zx_verify_program(zx_program *p, char *err, size_t errsz)
{
    verifier V = { .p = p, .err = err, .errsz = errsz };
    if (errsz) err[0] = '\0';
    if (!p || !p->main) {
        if (errsz) snprintf(err, errsz, "verify: the program has no main code object");
        return false;
    }
    return check_globals(&V) && verify_code(&V, p->main, NULL, 1);
}
