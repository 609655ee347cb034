/* lower.c — lowers one code object to an LLVM IR function: the native tier (DESIGN.md §6). */
#include "lower.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "bytecode/flow.h"
#include "helper_abi.h"
#include "runtime/builtins.h"
#include "runtime/object.h"

/*
 * Shape of the generated function (zx_native_fn):
 *
 *   entry:    load every local of f into registers; switch on f->pc to the entry guard of
 *             that instruction (every instruction at operand-stack depth 0 reachable from
 *             pc 0); any other pc leaves at once through the side exit.
 *   guard:    the tags of the locals and tracked globals must be those the type analysis
 *             proved at that instruction (it runs from pc 0); otherwise side exit.  No
 *             effect has happened yet, so nothing runs twice.
 *   pcN:      one block per instruction.  Operand-stack slots and locals are allocas that
 *             mem2reg turns into SSA values: a value is a pair (i8 tag, i64 payload), and a
 *             tag the analysis proved is a constant, so proven int and float code runs
 *             unboxed.  Stores to locals also write through to f->locals (other chunks of the
 *             same frame, helpers and side exits see them; no write-back is needed anywhere).
 *             Globals, cells and captured variables are memory, read at each use.
 *   helpers:  what is not inline calls jit/host/jit_helpers.c by name; "memory-stack" helpers
 *             (the interpreter's one-instruction step, calls, iteration) get their operands
 *             spilled to f's operand stack and their results reloaded from it.
 *   errors:   f->pc is stored before every helper call; a failure spills the operand stack
 *             to f (as the interpreter would have left it) and returns the status.
 *   calls:    a call of a code object of the same module goes through that callee's call stub
 *             (push the frame in the interpreter's layout, call its function, pop), the rest
 *             through jit_helper_call (see emit_direct_call).
 *   versions: an action whose parameters are all ints may also get an internal "int
 *             arguments" function, entered from pc 0 (see analyze_int_version).
 *
 * Reference counts follow the interpreter exactly: a value on the stack or in a local owns
 * one reference; immediates need none.  The one exception is a value loaded only to be called
 * or indexed at once, which may be borrowed (analyze_borrows).
 */

typedef struct val {
    LLVMValueRef tag;     /* i8 */
    LLVMValueRef pay;     /* i64 (a double's bits, a pointer's address, a bool as 0/1) */
    uint8_t mask;         /* the tags it may have */
} val;

typedef struct lw {
    LLVMContextRef cx;
    LLVMModuleRef m;
    LLVMBuilderRef b;
    zx_program *prog;
    zx_code *code;
    LLVMValueRef fn;
    LLVMValueRef t, f, end_pc, result;
    LLVMValueRef locals, globals, interrupt_p, cancel_p;
    LLVMValueRef rc_atomic;       /* i1: reference counts change atomically (value.h) */
    LLVMValueRef *ltag, *lpay, *stag, *spay;
    LLVMValueRef tmpval;          /* a zx_value out-parameter for helpers */
    LLVMBasicBlockRef *bb, exit_bb;
    LLVMTypeRef i1, i8, i32, i64, f64, ptr, vd;
    analyze_code a;               /* what the analyses proved (analyze.h); a.state: the copy being emitted */
    uint32_t nl, ng, ns, W;       /* a's sizes */
    LLVMBasicBlockRef *go;        /* per pc: its block past the end_pc check, or NULL */
    LLVMValueRef int_fn;          /* the int version's function (internal), or NULL */
    LLVMValueRef pub_fn;          /* the code object's own (public) function */
    LLVMBasicBlockRef stop_bb;    /* end_pc reached: phi of the pc */
    LLVMValueRef stop_pc;
    uint32_t steps;
    zx_code *const *batch;        /* the code objects lowered into this module */
    size_t nbatch;
    uint64_t borrowed;            /* stack slots that may hold a borrowed value now */
    LLVMValueRef *sown;           /* per stack slot: i1, the value owns its reference */
    LLVMValueRef code_v;          /* f->code (loaded at entry) */
    const char *bad_helper;       /* a helper called against its row in helper_abi.h, or NULL */
    LLVMValueRef st_slot;         /* i32 alloca: the status a failure hands to catch_bb */
    LLVMBasicBlockRef catch_bb;   /* code with handlers: where failures go (emit_catch) */
    uint32_t *fold;               /* per pc: the BUILD_LIST/BUILD_MAP pc that a run of constants
                                     starting here feeds (fold_literals), FOLDED inside a run, else 0 */
    uint32_t *ckey;               /* per pc: 1 + the constant index of an INDEX's or STORE_INDEX's
                                     key when it is a constant string (find_const_keys), else 0 */
    LLVMValueRef *ic;             /* per pc: the inline cache of such a site (ic_global), or NULL */
    LLVMValueRef *fic;            /* per pc: its field cache for instances (field_cache_global), or NULL */
    uint32_t lo, hi;              /* the instructions of the function being emitted (lower_pieces) */
    uint32_t *once;               /* per pc: the end of the run of statements starting there that the
                                     interpreter runs (find_once), or 0 */
    LLVMValueRef next_fn;         /* the function of the instructions from hi on, or NULL */
    LLVMBasicBlockRef bail;       /* inside an inlined body: where a raise goes instead (the real
                                     call, emit_inline_call), else NULL */
    uint32_t inlined;             /* call sites with an inlined body */
} lw;

#define FOLDED UINT32_MAX
/* A run of at least this many LOAD_CONSTs that ends in the operands of a BUILD_LIST/BUILD_MAP is
 * lowered as data: one helper call with a table of constant indices (see fold_literals). */
#define FOLD_MIN_RUN 8
/* Calls with more arguments than this are never inlined (emit_call). */
#define INLINE_MAX_ARGS 16

static uint8_t *st_locals(lw *L, uint32_t pc) { return L->a.state + (size_t)pc * L->W; }
static uint8_t *st_globals(lw *L, uint32_t pc) { return L->a.state + (size_t)pc * L->W + L->nl; }
static uint8_t *st_stack(lw *L, uint32_t pc) { return L->a.state + (size_t)pc * L->W + L->nl + L->ng; }

/* ---------------------------------------------------------------------------------------- */
/* IR building blocks                                                                         */
/* ---------------------------------------------------------------------------------------- */

static LLVMValueRef c8(lw *L, unsigned v) { return LLVMConstInt(L->i8, v, 0); }
static LLVMValueRef c32(lw *L, unsigned v) { return LLVMConstInt(L->i32, v, 0); }
static LLVMValueRef c64(lw *L, int64_t v) { return LLVMConstInt(L->i64, (unsigned long long)v, 1); }

static unsigned mask_tag(uint8_t m) { return (unsigned)__builtin_ctz(m); }

static LLVMValueRef gep(lw *L, LLVMValueRef base, uint64_t off)
{
    if (!off) return base;
    LLVMValueRef idx = LLVMConstInt(L->i64, off, 0);
    return LLVMBuildGEP2(L->b, L->i8, base, &idx, 1, "");
}

static LLVMValueRef gepv(lw *L, LLVMValueRef base, LLVMValueRef off)
{
    return LLVMBuildGEP2(L->b, L->i8, base, &off, 1, "");
}

static LLVMValueRef load(lw *L, LLVMTypeRef ty, LLVMValueRef p, const char *name)
{
    return LLVMBuildLoad2(L->b, ty, p, name);
}

/* The address of global g's slot: the run's table (zx_run.gvar, runtime/partition.h) is filled
 * before the run and never changes, so the load is marked invariant and LLVM may hoist it. */
static LLVMValueRef global_ptr(lw *L, uint32_t g)
{
    LLVMValueRef p = load(L, L->ptr, gep(L, L->globals, (uint64_t)g * sizeof(zx_value *)), "gslot");
    unsigned kind = LLVMGetMDKindIDInContext(L->cx, "invariant.load", 14);
    LLVMSetMetadata(p, kind, LLVMMetadataAsValue(L->cx, LLVMMDNodeInContext2(L->cx, NULL, 0)));
    return p;
}

/* Type-based alias information: the slots of two different globals never overlap, nor a
 * global and the run's flags, so LLVM may keep a global in a register across stores to
 * another (and promote it out of a loop that calls nothing).  Shared variables are left out:
 * their updates go through the runtime. */
static void tbaa(lw *L, LLVMValueRef inst, const char *type)
{
    if (!inst || !LLVMIsAInstruction(inst)) return;
    LLVMMetadataRef root_ops[] = { LLVMMDStringInContext2(L->cx, "zexus-jit", 9) };
    LLVMMetadataRef root = LLVMMDNodeInContext2(L->cx, root_ops, 1);
    LLVMMetadataRef zero = LLVMValueAsMetadata(LLVMConstInt(L->i64, 0, 0));
    LLVMMetadataRef type_ops[] = { LLVMMDStringInContext2(L->cx, type, strlen(type)), root, zero };
    LLVMMetadataRef ty = LLVMMDNodeInContext2(L->cx, type_ops, 3);
    LLVMMetadataRef tag_ops[] = { ty, ty, zero };
    LLVMSetMetadata(inst, LLVMGetMDKindIDInContext(L->cx, "tbaa", 4),
                    LLVMMetadataAsValue(L->cx, LLVMMDNodeInContext2(L->cx, tag_ops, 3)));
}

static void tbaa_global(lw *L, LLVMValueRef inst, uint32_t g)
{
    if (L->prog->globals[g].is_shared) return;
    char type[40];
    snprintf(type, sizeof type, "global %u", g);
    tbaa(L, inst, type);
}

static LLVMBasicBlockRef newbb(lw *L, const char *name)
{
    return LLVMAppendBasicBlockInContext(L->cx, L->fn, name);
}

static void at(lw *L, LLVMBasicBlockRef bb) { LLVMPositionBuilderAtEnd(L->b, bb); }

/* Each helper's name and LLVM signature, from its row in jit/helper_abi.h. */
static const struct {
    const char *name;
    uint8_t ret, nparams, params[JIT_HELPER_MAX_PARAMS];
} helper_sigs[JIT_NHELPERS] = {
#define HELPER_SIG(name, ret, params) \
    { "jit_helper_" #name, JIT_TY_##ret, sizeof((uint8_t[]){ JIT_TY_LIST params }), { JIT_TY_LIST params } },
    JIT_HELPERS(HELPER_SIG)
#undef HELPER_SIG
};

static LLVMTypeRef abi_type(lw *L, unsigned ty)
{
    switch ((jit_abi_type)ty) {
    case JIT_TY_void: return L->vd;
    case JIT_TY_i32: return L->i32;
    case JIT_TY_i64: return L->i64;
    case JIT_TY_f64: return L->f64;
    case JIT_TY_ptr: return L->ptr;
    }
    return L->vd;
}

/* Call helper h with args[0..n): declared in the module on first use with its row's type.  A
 * call whose arity disagrees with the row emits nothing and fails the lowering (bad_helper). */
static LLVMValueRef call(lw *L, jit_helper_id h, LLVMValueRef *args, unsigned n)
{
    LLVMTypeRef params[JIT_HELPER_MAX_PARAMS];
    for (unsigned i = 0; i < helper_sigs[h].nparams; i++) params[i] = abi_type(L, helper_sigs[h].params[i]);
    LLVMTypeRef ret = abi_type(L, helper_sigs[h].ret);
    if (n != helper_sigs[h].nparams) {
        if (!L->bad_helper) L->bad_helper = helper_sigs[h].name;
        return ret == L->vd ? NULL : LLVMGetUndef(ret);
    }
    LLVMTypeRef fty = LLVMFunctionType(ret, params, n, 0);
    LLVMValueRef fn = LLVMGetNamedFunction(L->m, helper_sigs[h].name);
    if (!fn) fn = LLVMAddFunction(L->m, helper_sigs[h].name, fty);
    return LLVMBuildCall2(L->b, fty, fn, args, n, "");
}

/* Memory of f: value slot i of f->locals (locals, then the operand stack). */
static LLVMValueRef slot_ptr(lw *L, uint32_t i) { return gep(L, L->locals, (uint64_t)i * sizeof(zx_value)); }

static void store_val_mem(lw *L, LLVMValueRef p, val v)
{
    LLVMBuildStore(L->b, v.tag, gep(L, p, offsetof(zx_value, tag)));
    LLVMBuildStore(L->b, v.pay, gep(L, p, offsetof(zx_value, u)));
}

static val load_val_mem(lw *L, LLVMValueRef p, uint8_t mask)
{
    val v;
    v.mask = mask;
    v.tag = analyze_singleton(mask) ? c8(L, mask_tag(mask)) : load(L, L->i8, gep(L, p, offsetof(zx_value, tag)), "tag");
    v.pay = load(L, L->i64, gep(L, p, offsetof(zx_value, u)), "pay");
    return v;
}

static val load_global(lw *L, uint32_t g, uint8_t mask)
{
    val v = load_val_mem(L, global_ptr(L, g), mask);
    tbaa_global(L, v.tag, g);
    tbaa_global(L, v.pay, g);
    return v;
}

/* A tag proven the same before and after is already in the slot. */
static void store_global(lw *L, uint32_t g, val v, uint8_t old_mask)
{
    LLVMValueRef p = global_ptr(L, g);
    if (!(analyze_singleton(old_mask) && old_mask == v.mask))
        tbaa_global(L, LLVMBuildStore(L->b, v.tag, gep(L, p, offsetof(zx_value, tag))), g);
    tbaa_global(L, LLVMBuildStore(L->b, v.pay, gep(L, p, offsetof(zx_value, u))), g);
}

static void set_pc(lw *L, uint32_t pc)
{
    LLVMBuildStore(L->b, c32(L, pc), gep(L, L->f, offsetof(zx_frame, pc)));
}

static void set_sp(lw *L, uint32_t depth)
{
    LLVMBuildStore(L->b, slot_ptr(L, L->nl + depth), gep(L, L->f, offsetof(zx_frame, sp)));
}

/* Operand stack slot s in registers. */
static val sget(lw *L, uint32_t s, uint8_t mask)
{
    val v;
    v.mask = mask;
    v.tag = analyze_singleton(mask) ? c8(L, mask_tag(mask)) : load(L, L->i8, L->stag[s], "t");
    v.pay = load(L, L->i64, L->spay[s], "p");
    return v;
}

static void sset(lw *L, uint32_t s, val v)
{
    LLVMBuildStore(L->b, v.tag, L->stag[s]);
    LLVMBuildStore(L->b, v.pay, L->spay[s]);
}

static void incref(lw *L, val v);
static LLVMValueRef rc_mode(lw *L, LLVMValueRef run);
static void emit_if(lw *L, LLVMValueRef cond, LLVMBasicBlockRef *then_bb, LLVMBasicBlockRef *cont_bb);

/* Operand stack slots [lo, hi) to f's memory, where each owns a reference: a borrowed callee
 * (analyze_callees) takes one. */
static void spill(lw *L, uint32_t lo, uint32_t hi)
{
    for (uint32_t s = lo; s < hi; s++) {
        val v = { load(L, L->i8, L->stag[s], ""), load(L, L->i64, L->spay[s], ""), M_ANY };
        if (s < 64 && (L->borrowed >> s & 1)) {
            LLVMBasicBlockRef then_bb, cont_bb;
            emit_if(L, LLVMBuildNot(L->b, load(L, L->i1, L->sown[s], "owned"), ""), &then_bb, &cont_bb);
            incref(L, v);
            LLVMBuildBr(L->b, cont_bb);
            at(L, cont_bb);
        }
        store_val_mem(L, slot_ptr(L, L->nl + s), v);
    }
}

static void reload(lw *L, uint32_t lo, uint32_t hi)
{
    for (uint32_t s = lo; s < hi; s++) sset(L, s, load_val_mem(L, slot_ptr(L, L->nl + s), M_ANY));
}

static val lget(lw *L, uint32_t i, uint8_t mask)
{
    val v;
    v.mask = mask;
    v.tag = analyze_singleton(mask) ? c8(L, mask_tag(mask)) : load(L, L->i8, L->ltag[i], "lt");
    v.pay = load(L, L->i64, L->lpay[i], "lp");
    return v;
}

/* Locals write through to f->locals. */
static void lset(lw *L, uint32_t i, val v, uint8_t old_mask)
{
    LLVMBuildStore(L->b, v.tag, L->ltag[i]);
    LLVMBuildStore(L->b, v.pay, L->lpay[i]);
    /* f->locals[i] mirrors the registers: a tag proven the same before and after is there */
    if (analyze_singleton(old_mask) && old_mask == v.mask) LLVMBuildStore(L->b, v.pay, gep(L, slot_ptr(L, i), offsetof(zx_value, u)));
    else store_val_mem(L, slot_ptr(L, i), v);
}

static void lreload(lw *L, uint32_t i)
{
    val v = load_val_mem(L, slot_ptr(L, i), M_ANY);
    LLVMBuildStore(L->b, v.tag, L->ltag[i]);
    LLVMBuildStore(L->b, v.pay, L->lpay[i]);
}

static LLVMValueRef is_tag(lw *L, val v, unsigned tag)
{
    if (!(v.mask & (1u << tag))) return LLVMConstInt(L->i1, 0, 0);
    if (v.mask == (1u << tag)) return LLVMConstInt(L->i1, 1, 0);
    return LLVMBuildICmp(L->b, LLVMIntEQ, v.tag, c8(L, tag), "");
}

static LLVMValueRef as_ptr(lw *L, LLVMValueRef pay) { return LLVMBuildIntToPtr(L->b, pay, L->ptr, "obj"); }
static LLVMValueRef as_f64(lw *L, LLVMValueRef pay) { return LLVMBuildBitCast(L->b, pay, L->f64, "d"); }
static LLVMValueRef from_f64(lw *L, LLVMValueRef d) { return LLVMBuildBitCast(L->b, d, L->i64, ""); }

static val mkint(lw *L, LLVMValueRef i) { val v = { c8(L, ZX_T_INT), i, M_I }; return v; }
static val mkflt(lw *L, LLVMValueRef d) { val v = { c8(L, ZX_T_FLOAT), from_f64(L, d), M_F }; return v; }
/* Constant k, an immediate (an object's payload is left 0: it is read from the code object). */
static val imm_const(lw *L, zx_value k)
{
    val v = { c8(L, k.tag), c64(L, 0), analyze_tag_mask(k) };
    if (k.tag == ZX_T_FLOAT) v.pay = from_f64(L, LLVMConstReal(L->f64, k.u.f));
    else if (k.tag == ZX_T_BOOL) v.pay = c64(L, k.u.b ? 1 : 0);
    else if (k.tag == ZX_T_INT) v.pay = c64(L, k.u.i);
    return v;
}

static val mkbool(lw *L, LLVMValueRef b1)
{
    val v = { c8(L, ZX_T_BOOL), LLVMBuildZExt(L->b, b1, L->i64, ""), M_B };
    return v;
}

/* if (cond) { then } — returns the "then" block positioned; cont receives control after. */
static void emit_if(lw *L, LLVMValueRef cond, LLVMBasicBlockRef *then_bb, LLVMBasicBlockRef *cont_bb)
{
    *then_bb = newbb(L, "");
    *cont_bb = newbb(L, "");
    LLVMBuildCondBr(L->b, cond, *then_bb, *cont_bb);
    at(L, *then_bb);
}

/* *rc += 1 or -= 1, with plain instructions or atomically by the entry's mode; the old count. */
static LLVMValueRef rc_change(lw *L, LLVMValueRef rc, LLVMAtomicRMWBinOp op, LLVMAtomicOrdering order)
{
    LLVMBasicBlockRef plain_bb = newbb(L, "rc.plain"), atomic_bb = newbb(L, "rc.atomic"), done_bb = newbb(L, "");
    LLVMBuildCondBr(L->b, L->rc_atomic, atomic_bb, plain_bb);
    at(L, plain_bb);
    LLVMValueRef old_p = load(L, L->i32, rc, "rc");
    LLVMValueRef new_p = op == LLVMAtomicRMWBinOpAdd ? LLVMBuildAdd(L->b, old_p, c32(L, 1), "")
                                                      : LLVMBuildSub(L->b, old_p, c32(L, 1), "");
    LLVMBuildStore(L->b, new_p, rc);
    LLVMBuildBr(L->b, done_bb);
    at(L, atomic_bb);
    LLVMValueRef old_a = LLVMBuildAtomicRMW(L->b, op, rc, c32(L, 1), order, 0);
    LLVMBuildBr(L->b, done_bb);
    at(L, done_bb);
    LLVMValueRef old = LLVMBuildPhi(L->b, L->i32, "rc.old");
    LLVMValueRef vals[] = { old_p, old_a };
    LLVMBasicBlockRef bbs[] = { plain_bb, atomic_bb };
    LLVMAddIncoming(old, vals, bbs, 2);
    return old;
}

static void incref(lw *L, val v)
{
    if (!(v.mask & M_O)) return;
    LLVMBasicBlockRef then_bb = NULL, cont_bb = NULL;
    if (v.mask != M_O) emit_if(L, is_tag(L, v, ZX_T_OBJ), &then_bb, &cont_bb);
    LLVMValueRef rc = gep(L, as_ptr(L, v.pay), offsetof(zx_obj, rc));
    rc_change(L, rc, LLVMAtomicRMWBinOpAdd, LLVMAtomicOrderingMonotonic);
    if (cont_bb) {
        LLVMBuildBr(L->b, cont_bb);
        at(L, cont_bb);
    }
}

static void decref(lw *L, val v)
{
    if (!(v.mask & M_O)) return;
    LLVMBasicBlockRef then_bb = NULL, cont_bb = NULL;
    if (v.mask != M_O) emit_if(L, is_tag(L, v, ZX_T_OBJ), &then_bb, &cont_bb);
    else cont_bb = newbb(L, "");
    LLVMValueRef o = as_ptr(L, v.pay);
    LLVMValueRef rc = gep(L, o, offsetof(zx_obj, rc));
    LLVMValueRef old = rc_change(L, rc, LLVMAtomicRMWBinOpSub, LLVMAtomicOrderingAcquireRelease);
    LLVMBasicBlockRef free_bb = newbb(L, "free");
    LLVMBuildCondBr(L->b, LLVMBuildICmp(L->b, LLVMIntEQ, old, c32(L, 1), ""), free_bb, cont_bb);
    at(L, free_bb);
    call(L, JIT_HELPER_obj_free, &o, 1);
    LLVMBuildBr(L->b, cont_bb);
    at(L, cont_bb);
}

static LLVMValueRef truthy(lw *L, val v)
{
    if (!(v.mask & (M_U | M_N | M_B))) return LLVMConstInt(L->i1, 1, 0);
    LLVMValueRef low = LLVMBuildTrunc(L->b, v.pay, L->i8, "");
    LLVMValueRef bfalse = LLVMBuildAnd(L->b, is_tag(L, v, ZX_T_BOOL), LLVMBuildICmp(L->b, LLVMIntEQ, low, c8(L, 0), ""), "");
    LLVMValueRef falsy = LLVMBuildOr(L->b, LLVMBuildOr(L->b, is_tag(L, v, ZX_T_NULL), is_tag(L, v, ZX_T_UNDEF), ""),
                                     bfalse, "");
    return LLVMBuildNot(L->b, falsy, "truthy");
}

static LLVMValueRef status_ok(lw *L, LLVMValueRef st)
{
    return LLVMBuildICmp(L->b, LLVMIntEQ, st, c32(L, ZX_OK), "ok");
}

/* Code with a handler table: a failure (f->pc, f->sp and the stack in f as the interpreter
 * would have them) asks jit_helper_catch for a handler; with one, the locals and the two
 * values it pushed are reloaded from f and execution goes on at its target in this function,
 * otherwise the status is returned.  Emitted once per function, at its first failure. */
static LLVMBasicBlockRef emit_catch(lw *L)
{
    if (L->catch_bb) return L->catch_bb;
    LLVMBasicBlockRef saved = LLVMGetInsertBlock(L->b);
    L->catch_bb = newbb(L, "catch");
    at(L, L->catch_bb);
    LLVMValueRef args[] = { L->t, L->f };
    LLVMValueRef target = call(L, JIT_HELPER_catch, args, 2);
    LLVMBasicBlockRef none = newbb(L, "uncaught");
    LLVMValueRef sw = LLVMBuildSwitch(L->b, target, none, L->code->nhandlers);
    for (uint32_t i = 0; i < L->code->nhandlers; i++) {
        uint32_t t = L->code->handlers[i].target;
        bool dup = false;
        for (uint32_t j = 0; j < i; j++) dup |= L->code->handlers[j].target == t;
        if (dup || t >= L->code->ncode || !L->bb[t]) continue;
        LLVMBasicBlockRef land = newbb(L, "land");
        LLVMAddCase(sw, c32(L, t), land);
        at(L, land);
        for (uint32_t k = 0; k < L->nl; k++) lreload(L, k);
        reload(L, 0, 2);
        if (L->sown) {
            LLVMBuildStore(L->b, LLVMConstInt(L->i1, 1, 0), L->sown[0]);
            LLVMBuildStore(L->b, LLVMConstInt(L->i1, 1, 0), L->sown[1]);
        }
        LLVMBuildBr(L->b, L->bb[t]);
    }
    at(L, none);
    LLVMBuildRet(L->b, load(L, L->i32, L->st_slot, "st"));
    at(L, saved);
    return L->catch_bb;
}

/* Leave with status st: the operand stack slots [0, spill_hi) go back to f; sp_depth >= 0
 * sets f->sp (otherwise a helper has left it where the interpreter would).  In code with
 * handlers, first through emit_catch. */
static void emit_fail(lw *L, LLVMValueRef st, uint32_t spill_hi, int sp_depth)
{
    spill(L, 0, spill_hi);
    if (sp_depth >= 0) set_sp(L, (uint32_t)sp_depth);
    if (L->code->nhandlers && L->st_slot) {
        LLVMBuildStore(L->b, st, L->st_slot);
        LLVMBuildBr(L->b, emit_catch(L));
        return;
    }
    LLVMBuildRet(L->b, st);
}

/* Branch to `rare` if cond, else to `common`, telling LLVM which is which: errors, stops and
 * fallbacks to helpers are placed out of line, and register allocation favours the fast path
 * (spills and reloads sink into the rare blocks). */
static void br_rare(lw *L, LLVMValueRef cond, LLVMBasicBlockRef rare, LLVMBasicBlockRef common)
{
    LLVMValueRef br = LLVMBuildCondBr(L->b, cond, rare, common);
    LLVMMetadataRef md[] = {
        LLVMMDStringInContext2(L->cx, "branch_weights", 14),
        LLVMValueAsMetadata(c32(L, 1)),
        LLVMValueAsMetadata(c32(L, 2000)),
    };
    LLVMSetMetadata(br, LLVMGetMDKindIDInContext(L->cx, "prof", 4),
                    LLVMMetadataAsValue(L->cx, LLVMMDNodeInContext2(L->cx, md, 3)));
}

/* Continue if st is ZX_OK; otherwise emit_fail. */
static void check_status(lw *L, LLVMValueRef st, uint32_t spill_hi, int sp_depth)
{
    LLVMBasicBlockRef fail = newbb(L, "fail"), ok = newbb(L, "");
    br_rare(L, LLVMBuildNot(L->b, status_ok(L, st), ""), fail, ok);
    at(L, fail);
    emit_fail(L, st, spill_hi, sp_depth);
    at(L, ok);
}

/* Raise runtime error `id` (a row of runtime/errors.h whose message takes no arguments):
 * f->pc = pc, stack [0, d) back to f. */
static void emit_raise(lw *L, uint32_t pc, zx_err id, uint32_t d)
{
    set_pc(L, pc);
    LLVMValueRef args[] = { L->t, L->f, c32(L, id) };
    LLVMValueRef st = call(L, JIT_HELPER_raise, args, 3);
    emit_fail(L, st, d, (int)d);
}

/* if (cond) raise id; inside an inlined body, take the real call instead (L->bail) */
static void raise_if(lw *L, LLVMValueRef cond, uint32_t pc, zx_err id, uint32_t d)
{
    LLVMBasicBlockRef ok = newbb(L, "");
    if (L->bail) {
        br_rare(L, cond, L->bail, ok);
        at(L, ok);
        return;
    }
    LLVMBasicBlockRef bad = newbb(L, "raise");
    br_rare(L, cond, bad, ok);
    at(L, bad);
    emit_raise(L, pc, id, d);
    at(L, ok);
}

static void raise_undefined_if(lw *L, val v, uint32_t pc, uint32_t d)
{
    if (!(v.mask & M_U)) return;
    LLVMBasicBlockRef bad = newbb(L, "undef"), ok = newbb(L, "");
    br_rare(L, is_tag(L, v, ZX_T_UNDEF), bad, ok);
    at(L, bad);
    set_pc(L, pc);
    LLVMValueRef args[] = { L->t, L->f };
    emit_fail(L, call(L, JIT_HELPER_undefined, args, 2), d, (int)d);
    at(L, ok);
}

/* i1: the interrupt or the cancel flag is set (a poll would call the stop helper). */
static LLVMValueRef stop_pending(lw *L)
{
    LLVMValueRef a = load(L, L->i32, L->interrupt_p, "intr");
    LLVMSetOrdering(a, LLVMAtomicOrderingMonotonic);
    LLVMSetAlignment(a, 4);
    tbaa(L, a, "run flag");
    LLVMValueRef c = load(L, L->i32, L->cancel_p, "cancel");
    LLVMSetOrdering(c, LLVMAtomicOrderingMonotonic);
    LLVMSetAlignment(c, 4);
    tbaa(L, c, "run flag");
    return LLVMBuildICmp(L->b, LLVMIntNE, LLVMBuildOr(L->b, a, c, ""), c32(L, 0), "stop");
}

/* Back-edges and calls poll the interrupt and cancel flags. */
static void poll(lw *L, uint32_t pc, uint32_t d)
{
    LLVMValueRef stop = stop_pending(L);
    LLVMBasicBlockRef bad = newbb(L, "stop"), ok = newbb(L, "");
    br_rare(L, stop, bad, ok);
    at(L, bad);
    set_pc(L, pc);
    LLVMValueRef args[] = { L->t, L->f };
    /* the cancel flag is a hint for the whole run: the helper says whether this task stops */
    check_status(L, call(L, JIT_HELPER_stop, args, 2), d, (int)d);
    LLVMBuildBr(L->b, ok);
    at(L, ok);
}

/* The interpreter runs the one instruction at pc on f's memory (helper step, or another
 * helper of the same shape): operands [d-k, d) spilled,
 * results reloaded. */
static void emit_step_by(lw *L, uint32_t pc, uint32_t d, uint32_t k, uint32_t pushes, jit_helper_id helper)
{
    L->steps++;
    set_pc(L, pc);
    spill(L, d - k, d);
    set_sp(L, d);
    LLVMValueRef args[] = { L->t, L->f };
    LLVMValueRef st = call(L, helper, args, 2);
    check_status(L, st, d - k, -1);
    reload(L, d - k, d - k + pushes);
}

static void emit_step(lw *L, uint32_t pc, uint32_t d, uint32_t k, uint32_t pushes)
{
    emit_step_by(L, pc, d, k, pushes, JIT_HELPER_step);
}

/*
 * Literals as data.  A list or map literal of constants is a run of LOAD_CONSTs feeding one
 * BUILD_LIST/BUILD_MAP; lowered instruction by instruction, each constant lives in a register
 * until the build, and the optimiser's and register allocator's work grows faster than the
 * literal (a 1,000-element list took seconds at -O2).  Instead, a run of FOLD_MIN_RUN or more
 * constants, none of them a jump target, directly followed by the build they are the last
 * operands of, becomes one call: jit_helper_build_consts pushes the constants named by a
 * table in the module (constant indices, read-only data) onto f's operand stack and runs the
 * build in the interpreter, so the code is the same few instructions for any size.
 */
static bool fold_literals(lw *L)
{
    zx_code *c = L->code;
    L->fold = calloc(c->ncode + 1, sizeof *L->fold);
    if (!L->fold) return false;
    for (uint32_t pc = 0; pc < c->ncode;) {
        uint32_t end = pc;
        while (end < c->ncode && c->code[end].op == OP_LOAD_CONST &&
               (end == pc || !(c->pcflags[end] & ZX_PC_TARGET)))
            end++;
        uint32_t k = end - pc;
        if (k >= FOLD_MIN_RUN && end < c->ncode && !(c->pcflags[end] & ZX_PC_TARGET) && L->a.depth[pc] >= 0) {
            const zx_instr *b = &c->code[end];
            uint64_t nops = b->op == OP_BUILD_LIST ? (uint64_t)b->a : b->op == OP_BUILD_MAP ? 2 * (uint64_t)b->a
                          : b->op == OP_MAP_EXTEND ? 2 * (uint64_t)b->a + 1 : 0;
            uint32_t start = nops < k ? end - (uint32_t)nops : pc;   /* the build's own operands */
            if (end - start >= FOLD_MIN_RUN && L->a.depth[start] >= 0) {
                L->fold[start] = end;
                for (uint32_t q = start + 1; q <= end; q++) L->fold[q] = FOLDED;
                pc = end + 1;
                continue;
            }
        }
        pc = k ? end : pc + 1;
    }
    return true;
}

/* The run of constants at pc, depth d, and the build at L->fold[pc]: operands below the run
 * spilled, the constants pushed and the build run by the helper, its result reloaded. */
static void emit_const_build(lw *L, uint32_t pc, uint32_t d)
{
    zx_code *c = L->code;
    uint32_t bpc = L->fold[pc], k = bpc - pc;
    const zx_instr *b = &c->code[bpc];
    uint32_t nops = b->op == OP_BUILD_LIST ? b->a : 2 * b->a + (b->op == OP_MAP_EXTEND), m = nops - k;
    LLVMValueRef *idx = malloc((size_t)k * sizeof *idx);
    if (!idx) {
        L->bad_helper = "build_consts (out of memory)";
        return;
    }
    for (uint32_t i = 0; i < k; i++) idx[i] = c32(L, c->code[pc + i].a);
    LLVMValueRef init = LLVMConstArray2(L->i32, idx, k);
    free(idx);
    LLVMValueRef table = LLVMAddGlobal(L->m, LLVMTypeOf(init), "literal");
    LLVMSetInitializer(table, init);
    LLVMSetGlobalConstant(table, 1);
    LLVMSetLinkage(table, LLVMPrivateLinkage);
    LLVMSetUnnamedAddress(table, LLVMGlobalUnnamedAddr);
    L->steps++;
    set_pc(L, pc);
    spill(L, d - m, d);
    set_sp(L, d);
    LLVMValueRef args[] = { L->t, L->f, table, c32(L, k), c32(L, bpc) };
    LLVMValueRef st = call(L, JIT_HELPER_build_consts, args, 5);
    check_status(L, st, d - m, -1);
    reload(L, d - m, d - m + 1);
    LLVMBuildBr(L->b, L->bb[bpc + 1]);
}

/* ---------------------------------------------------------------------------------------- */
/* Arithmetic and comparisons                                                                 */
/* ---------------------------------------------------------------------------------------- */

static LLVMValueRef overflow_op(lw *L, const char *intr, LLVMValueRef x, LLVMValueRef y, LLVMValueRef *ovf)
{
    unsigned id = LLVMLookupIntrinsicID(intr, strlen(intr));
    LLVMTypeRef ty = L->i64;
    LLVMValueRef fn = LLVMGetIntrinsicDeclaration(L->m, id, &ty, 1);
    LLVMTypeRef fty = LLVMIntrinsicGetType(L->cx, id, &ty, 1);
    LLVMValueRef args[] = { x, y };
    LLVMValueRef r = LLVMBuildCall2(L->b, fty, fn, args, 2, "");
    *ovf = LLVMBuildExtractValue(L->b, r, 1, "ovf");
    return LLVMBuildExtractValue(L->b, r, 0, "");
}

/* Int op int when inline (no POW); raises like the interpreter.  Returns false if op has no
 * inline int form. */
static int int_binop(lw *L, unsigned op, LLVMValueRef x, LLVMValueRef y, uint32_t pc, uint32_t d, val *out)
{
    LLVMValueRef ovf, r;
    switch (op) {
    case OP_ADD: r = overflow_op(L, "llvm.sadd.with.overflow", x, y, &ovf); break;
    case OP_SUB: r = overflow_op(L, "llvm.ssub.with.overflow", x, y, &ovf); break;
    case OP_MUL: r = overflow_op(L, "llvm.smul.with.overflow", x, y, &ovf); break;
    case OP_DIV: case OP_MOD: {
        raise_if(L, LLVMBuildICmp(L->b, LLVMIntEQ, y, c64(L, 0), ""), pc,
                 op == OP_DIV ? ZX_ERR_DIV_ZERO : ZX_ERR_MOD_ZERO, d);
        /* INT64_MIN / -1 overflows; % -1 is 0.  Divide by 1 instead of -1 to stay defined. */
        LLVMValueRef m1 = LLVMBuildICmp(L->b, LLVMIntEQ, y, c64(L, -1), "");
        if (op == OP_DIV)
            raise_if(L, LLVMBuildAnd(L->b, m1, LLVMBuildICmp(L->b, LLVMIntEQ, x, c64(L, INT64_MIN), ""), ""),
                     pc, ZX_ERR_INT_OVERFLOW, d);
        LLVMValueRef ys = LLVMBuildSelect(L->b, m1, c64(L, 1), y, "");
        LLVMValueRef q = LLVMBuildSDiv(L->b, x, ys, "");
        LLVMValueRef rem = LLVMBuildSRem(L->b, x, ys, "");
        /* floor: adjust when the remainder is non-zero and its sign differs from y's */
        LLVMValueRef adj = LLVMBuildAnd(L->b, LLVMBuildICmp(L->b, LLVMIntNE, rem, c64(L, 0), ""),
                                        LLVMBuildICmp(L->b, LLVMIntSLT, LLVMBuildXor(L->b, rem, y, ""), c64(L, 0), ""), "");
        if (op == OP_DIV) {
            q = LLVMBuildSelect(L->b, m1, LLVMBuildNeg(L->b, x, ""), q, "");
            r = LLVMBuildSelect(L->b, adj, LLVMBuildSub(L->b, q, c64(L, 1), ""), q, "fdiv");
        } else {
            r = LLVMBuildSelect(L->b, adj, LLVMBuildAdd(L->b, rem, y, ""), rem, "fmod");
        }
        *out = mkint(L, r);
        return 1;
    }
    case OP_LT: *out = mkbool(L, LLVMBuildICmp(L->b, LLVMIntSLT, x, y, "")); return 1;
    case OP_GT: *out = mkbool(L, LLVMBuildICmp(L->b, LLVMIntSGT, x, y, "")); return 1;
    case OP_LTE: *out = mkbool(L, LLVMBuildICmp(L->b, LLVMIntSLE, x, y, "")); return 1;
    case OP_GTE: *out = mkbool(L, LLVMBuildICmp(L->b, LLVMIntSGE, x, y, "")); return 1;
    case OP_EQ: *out = mkbool(L, LLVMBuildICmp(L->b, LLVMIntEQ, x, y, "")); return 1;
    case OP_NEQ: *out = mkbool(L, LLVMBuildICmp(L->b, LLVMIntNE, x, y, "")); return 1;
    default: return 0;
    }
    raise_if(L, ovf, pc, ZX_ERR_INT_OVERFLOW, d);
    *out = mkint(L, r);
    return 1;
}

/* Float op float (ints already converted where the language converts them). */
static int flt_binop(lw *L, unsigned op, LLVMValueRef x, LLVMValueRef y, uint32_t pc, uint32_t d, val *out)
{
    switch (op) {
    case OP_ADD: *out = mkflt(L, LLVMBuildFAdd(L->b, x, y, "")); return 1;
    case OP_SUB: *out = mkflt(L, LLVMBuildFSub(L->b, x, y, "")); return 1;
    case OP_MUL: *out = mkflt(L, LLVMBuildFMul(L->b, x, y, "")); return 1;
    case OP_DIV:
        raise_if(L, LLVMBuildFCmp(L->b, LLVMRealOEQ, y, LLVMConstReal(L->f64, 0.0), ""), pc, ZX_ERR_DIV_ZERO, d);
        *out = mkflt(L, LLVMBuildFDiv(L->b, x, y, ""));
        return 1;
    /* NaN is unordered: every ordering is false, == false, != true */
    case OP_LT: *out = mkbool(L, LLVMBuildFCmp(L->b, LLVMRealOLT, x, y, "")); return 1;
    case OP_GT: *out = mkbool(L, LLVMBuildFCmp(L->b, LLVMRealOGT, x, y, "")); return 1;
    case OP_LTE: *out = mkbool(L, LLVMBuildFCmp(L->b, LLVMRealOLE, x, y, "")); return 1;
    case OP_GTE: *out = mkbool(L, LLVMBuildFCmp(L->b, LLVMRealOGE, x, y, "")); return 1;
    case OP_EQ: *out = mkbool(L, LLVMBuildFCmp(L->b, LLVMRealOEQ, x, y, "")); return 1;
    case OP_NEQ: *out = mkbool(L, LLVMBuildFCmp(L->b, LLVMRealUNE, x, y, "")); return 1;
    default: return 0;
    }
}

/* The values that reach one join block, a path at a time (join_add branches there), merged by
 * join_val in it: the result of an instruction with inline paths beside its helper call. */
typedef struct joinvals {
    LLVMValueRef tags[4], pays[4];
    LLVMBasicBlockRef from[4];
    unsigned n;
} joinvals;

static void join_add(lw *L, joinvals *j, val v, LLVMBasicBlockRef to)
{
    j->tags[j->n] = v.tag;
    j->pays[j->n] = v.pay;
    j->from[j->n++] = LLVMGetInsertBlock(L->b);
    LLVMBuildBr(L->b, to);
}

static val join_val(lw *L, joinvals *j)
{
    LLVMValueRef tag = LLVMBuildPhi(L->b, L->i8, "");
    LLVMValueRef pay = LLVMBuildPhi(L->b, L->i64, "");
    LLVMAddIncoming(tag, j->tags, j->from, j->n);
    LLVMAddIncoming(pay, j->pays, j->from, j->n);
    val v = { tag, pay, M_VAL };
    return v;
}

/* a OP b at pc (operands are stack slots d-2, d-1).  Paths: int-int inline, numbers as
 * floats inline (only where the language converts: arithmetic; comparisons of two floats),
 * == and != against null or a Boolean inline, everything else through jit_helper_binop. */
static void emit_binop(lw *L, unsigned op, uint32_t pc, uint32_t d)
{
    uint8_t *sm = st_stack(L, pc);
    val a = sget(L, d - 2, sm[d - 2]), b = sget(L, d - 1, sm[d - 1]);
    uint8_t rmask = analyze_binop_mask(op, a.mask, b.mask);
    int has_int = (a.mask & M_I) && (b.mask & M_I) && op != OP_POW;
    int cmp = analyze_is_cmp(op);
    int arith_f = op == OP_ADD || op == OP_SUB || op == OP_MUL || op == OP_DIV;
    /* float path: arithmetic on two numbers with at least one float; comparisons of floats */
    int has_flt = arith_f ? (((a.mask & M_F) && (b.mask & (M_I | M_F))) || ((a.mask & (M_I | M_F)) && (b.mask & M_F)))
                          : (cmp && (a.mask & M_F) && (b.mask & M_F));
    /* anything else possible? */
    uint8_t num = M_I | M_F;
    int has_gen = op == OP_POW || ((a.mask | b.mask) & ~num) ||
                  (!arith_f && (((a.mask & M_I) && (b.mask & M_F)) || ((a.mask & M_F) && (b.mask & M_I)))) ||
                  (op == OP_MOD && ((a.mask | b.mask) & M_F));

    LLVMBasicBlockRef cont = newbb(L, "binop.done");
    joinvals res = { .n = 0 };

    int need_gen = has_gen || (!has_int && !has_flt);     /* the helper's path is reachable */
    LLVMValueRef both_int = LLVMBuildAnd(L->b, is_tag(L, a, ZX_T_INT), is_tag(L, b, ZX_T_INT), "");
    if (has_int) {
        LLVMBasicBlockRef ib = newbb(L, "int"), nb = newbb(L, "");
        if (has_flt) LLVMBuildCondBr(L->b, both_int, ib, nb);
        else br_rare(L, LLVMBuildNot(L->b, both_int, ""), nb, ib);   /* the helper is the rare case */
        at(L, ib);
        val r = { NULL, NULL, 0 };
        int_binop(L, op, a.pay, b.pay, pc, d, &r);
        join_add(L, &res, r, cont);
        at(L, nb);
    }
    if (has_flt) {
        LLVMValueRef a_num = LLVMBuildOr(L->b, is_tag(L, a, ZX_T_INT), is_tag(L, a, ZX_T_FLOAT), "");
        LLVMValueRef b_num = LLVMBuildOr(L->b, is_tag(L, b, ZX_T_INT), is_tag(L, b, ZX_T_FLOAT), "");
        LLVMValueRef cond = arith_f ? LLVMBuildAnd(L->b, a_num, b_num, "")
                                    : LLVMBuildAnd(L->b, is_tag(L, a, ZX_T_FLOAT), is_tag(L, b, ZX_T_FLOAT), "");
        LLVMBasicBlockRef fb = newbb(L, "flt"), nb = newbb(L, "");
        br_rare(L, LLVMBuildNot(L->b, cond, ""), nb, fb);
        at(L, fb);
        LLVMValueRef x = LLVMBuildSelect(L->b, is_tag(L, a, ZX_T_INT), LLVMBuildSIToFP(L->b, a.pay, L->f64, ""),
                                         as_f64(L, a.pay), "x");
        LLVMValueRef y = LLVMBuildSelect(L->b, is_tag(L, b, ZX_T_INT), LLVMBuildSIToFP(L->b, b.pay, L->f64, ""),
                                         as_f64(L, b.pay), "y");
        val r = { NULL, NULL, 0 };
        flt_binop(L, op, x, y, pc, d, &r);
        join_add(L, &res, r, cont);
        at(L, nb);
    }
    /* == and != with null or a Boolean on either side: equal only to the same tag and the
     * same Boolean (zx_value_equal: an int is never equal to true), never a raise, so no
     * helper: `t[0] == null`.  A Boolean's payload is 0 or 1 in its low byte (zx_bool). */
    uint8_t imm = M_N | M_B;
    if ((op == OP_EQ || op == OP_NEQ) && ((a.mask | b.mask) & imm)) {
        LLVMValueRef cond = LLVMBuildOr(L->b, LLVMBuildOr(L->b, is_tag(L, a, ZX_T_NULL), is_tag(L, a, ZX_T_BOOL), ""),
                                        LLVMBuildOr(L->b, is_tag(L, b, ZX_T_NULL), is_tag(L, b, ZX_T_BOOL), ""), "");
        LLVMBasicBlockRef eb = newbb(L, "imm"), nb = newbb(L, "");
        LLVMBuildCondBr(L->b, cond, eb, nb);
        at(L, eb);
        LLVMValueRef x = LLVMBuildICmp(L->b, LLVMIntNE, LLVMBuildAnd(L->b, a.pay, c64(L, 0xff), ""), c64(L, 0), "");
        LLVMValueRef y = LLVMBuildICmp(L->b, LLVMIntNE, LLVMBuildAnd(L->b, b.pay, c64(L, 0xff), ""), c64(L, 0), "");
        LLVMValueRef same = LLVMBuildAnd(L->b, LLVMBuildICmp(L->b, LLVMIntEQ, a.tag, b.tag, ""),
                                         LLVMBuildOr(L->b, LLVMBuildNot(L->b, is_tag(L, a, ZX_T_BOOL), ""),
                                                     LLVMBuildICmp(L->b, LLVMIntEQ, x, y, ""), ""), "eq");
        val r = mkbool(L, op == OP_EQ ? same : LLVMBuildNot(L->b, same, ""));
        decref(L, a);
        decref(L, b);
        join_add(L, &res, r, cont);
        at(L, nb);
        /* one side is always null or a Boolean: nothing is left for the helper */
        if (!(a.mask & ~imm) || !(b.mask & ~imm)) need_gen = 0;
    }
    if (need_gen) {
        set_pc(L, pc);
        LLVMValueRef args[] = { L->t, L->f, c32(L, op), LLVMBuildZExt(L->b, a.tag, L->i32, ""), a.pay,
                                LLVMBuildZExt(L->b, b.tag, L->i32, ""), b.pay, L->tmpval };
        LLVMValueRef st = call(L, JIT_HELPER_binop, args, 8);
        check_status(L, st, d, (int)d);
        val r = load_val_mem(L, L->tmpval, M_ANY);
        decref(L, a);
        decref(L, b);
        join_add(L, &res, r, cont);
    } else {
        LLVMBuildUnreachable(L->b);
    }
    at(L, cont);
    val r = join_val(L, &res);
    r.mask = rmask;
    if (analyze_singleton(rmask)) r.tag = c8(L, mask_tag(rmask));
    sset(L, d - 2, r);
}

/* -a of an int (raises on INT64_MIN like the interpreter) or a float. */
static val num_neg(lw *L, val a, uint32_t pc, uint32_t d)
{
    if (a.mask == M_F) return mkflt(L, LLVMBuildFNeg(L->b, as_f64(L, a.pay), ""));
    raise_if(L, LLVMBuildICmp(L->b, LLVMIntEQ, a.pay, c64(L, INT64_MIN), ""), pc, ZX_ERR_INT_OVERFLOW, d);
    return mkint(L, LLVMBuildNeg(L->b, a.pay, ""));
}

static void emit_neg(lw *L, uint32_t pc, uint32_t d)
{
    val a = sget(L, d - 1, st_stack(L, pc)[d - 1]);
    if (a.mask == M_I || a.mask == M_F) sset(L, d - 1, num_neg(L, a, pc, d));
    else emit_step(L, pc, d, 1, 1);
}

/* ---------------------------------------------------------------------------------------- */
/* Instructions                                                                               */
/* ---------------------------------------------------------------------------------------- */

/* Release operand v in stack slot s after its use: a borrowed one (analyze_borrows) owns nothing
 * unless its slot's bit says so. */
static void drop_operand(lw *L, val v, uint32_t s, int borrowed)
{
    if (!borrowed) {
        decref(L, v);
        return;
    }
    if (!(v.mask & M_O)) return;
    LLVMBasicBlockRef then_bb, cont_bb;
    emit_if(L, load(L, L->i1, L->sown[s], "owned"), &then_bb, &cont_bb);
    decref(L, v);
    LLVMBuildBr(L->b, cont_bb);
    at(L, cont_bb);
}

/*
 * Inline caches of `m.k` (a constant string key: find_const_keys).  Each such INDEX or
 * STORE_INDEX has a private i32 in the module, the position in the map's entries where the
 * key was found last (maps keep insertion order, so maps built by one literal have every key
 * at the same position).  The guess is verified by one compare: the entry at that position
 * holds the very key object (constant strings are one object per program:
 * zx_program_intern_strings), so a hit is exact whatever the guess; a miss takes the helper,
 * which looks the key up by its cached hash and updates the guess.  Several threads may
 * update one guess: relaxed atomics, any value is safe.
 */
static LLVMValueRef ic_global(lw *L, uint32_t pc)
{
    if (!L->ic) L->ic = calloc(L->code->ncode + 1, sizeof *L->ic);
    if (!L->ic) return LLVMConstNull(L->ptr);
    if (!L->ic[pc]) {
        LLVMValueRef g = LLVMAddGlobal(L->m, L->i32, "ic");
        LLVMSetInitializer(g, c32(L, 0));
        LLVMSetLinkage(g, LLVMPrivateLinkage);
        LLVMSetAlignment(g, 4);
        L->ic[pc] = g;
    }
    return L->ic[pc];
}

/* The field cache of an INDEX, STORE_INDEX or GET_FIELD site: one private 64-bit word, class id
 * << 16 | slot of the instance class it saw last (0: none yet), filled by the helpers. */
static LLVMValueRef field_cache_global(lw *L, uint32_t pc)
{
    if (!L->fic) L->fic = calloc(L->code->ncode + 1, sizeof *L->fic);
    if (L->fic && L->fic[pc]) return L->fic[pc];
    LLVMValueRef g = LLVMAddGlobal(L->m, L->i64, "field.cache");
    LLVMSetInitializer(g, c64(L, 0));
    LLVMSetLinkage(g, LLVMPrivateLinkage);
    LLVMSetAlignment(g, 8);
    if (L->fic) L->fic[pc] = g;
    return g;
}

/* Which INDEX and STORE_INDEX keys are constant strings (their key operand comes from a
 * LOAD_CONST of a string on every path, through DUP2 too: `b.vx -= e`). */
static bool find_const_keys(lw *L)
{
    zx_code *c = L->code;
    L->ckey = calloc(c->ncode + 1, sizeof *L->ckey);
    if (!L->ckey) return false;
    zx_flow_origins o;
    if (!zx_flow_origins_build(c, NULL, NULL, &o)) return true;   /* no caches: still correct */
    for (uint32_t pc = 0; pc < c->ncode; pc++) {
        if (c->code[pc].op != OP_INDEX && c->code[pc].op != OP_STORE_INDEX) continue;
        zx_flow_key k = zx_flow_operand(&o, pc, 1);
        if (k <= ZX_FLOW_MERGE) continue;
        const zx_instr *q = &c->code[ZX_FLOW_PC(k)];
        if (q->op == OP_LOAD_CONST && q->a < c->nconsts && zx_is_type(c->consts[q->a], ZX_O_STRING))
            L->ckey[pc] = q->a + 1;
    }
    zx_flow_origins_free(&o);
    return true;
}

/* The entry of map `obj` (a value proven an object here) that the inline cache of pc guesses
 * holds `key`: branches to `miss` unless obj is a map and the guess is right; returns a
 * pointer to the entry, positioned on the hit path. */
static LLVMValueRef map_ic_entry(lw *L, uint32_t pc, LLVMValueRef o, val key, LLVMBasicBlockRef miss)
{
    LLVMBasicBlockRef c1 = newbb(L, "ic.map"), c2 = newbb(L, "ic.inrange"), hit = newbb(L, "ic.hit");
    LLVMValueRef ty = load(L, L->i8, gep(L, o, offsetof(zx_obj, type)), "otype");
    br_rare(L, LLVMBuildICmp(L->b, LLVMIntNE, ty, c8(L, ZX_O_MAP), ""), miss, c1);
    at(L, c1);
    LLVMValueRef g = load(L, L->i32, ic_global(L, pc), "guess");
    LLVMSetOrdering(g, LLVMAtomicOrderingMonotonic);
    LLVMSetAlignment(g, 4);
    LLVMValueRef len = load(L, L->i32, gep(L, o, offsetof(zx_map, len)), "len");
    br_rare(L, LLVMBuildICmp(L->b, LLVMIntUGE, g, len, ""), miss, c2);
    at(L, c2);
    LLVMValueRef entries = load(L, L->ptr, gep(L, o, offsetof(zx_map, entries)), "entries");
    LLVMValueRef ep = gepv(L, entries, LLVMBuildMul(L->b, LLVMBuildZExt(L->b, g, L->i64, ""),
                                                    c64(L, sizeof(zx_map_entry)), ""));
    LLVMValueRef ktag = load(L, L->i8, gep(L, ep, offsetof(zx_map_entry, key) + offsetof(zx_value, tag)), "ktag");
    LLVMValueRef kpay = load(L, L->i64, gep(L, ep, offsetof(zx_map_entry, key) + offsetof(zx_value, u)), "kpay");
    LLVMValueRef same = LLVMBuildAnd(L->b, LLVMBuildICmp(L->b, LLVMIntEQ, ktag, c8(L, ZX_T_OBJ), ""),
                                     LLVMBuildICmp(L->b, LLVMIntEQ, kpay, key.pay, ""), "");
    same = LLVMBuildAnd(L->b, same, is_tag(L, key, ZX_T_OBJ), "ic.same");
    br_rare(L, LLVMBuildNot(L->b, same, ""), miss, hit);
    at(L, hit);
    return ep;
}

/* The slot of instance `o` (a value proven an object here) that field cache `cache` names:
 * branches to `miss` unless o is an instance whose class id is the cached one; returns a pointer
 * to the slot, positioned on the hit path.  Class ids are never reused, so a word cached for a
 * freed class can never match (runtime/object.h). */
static LLVMValueRef inst_ic_slot(lw *L, LLVMValueRef cache, LLVMValueRef o, LLVMBasicBlockRef miss)
{
    LLVMBasicBlockRef c1 = newbb(L, "field.inst"), hit = newbb(L, "field.slot");
    LLVMValueRef ty = load(L, L->i8, gep(L, o, offsetof(zx_obj, type)), "otype");
    br_rare(L, LLVMBuildICmp(L->b, LLVMIntNE, ty, c8(L, ZX_O_INST), ""), miss, c1);
    at(L, c1);
    LLVMValueRef cls = load(L, L->ptr, gep(L, o, offsetof(zx_inst, cls)), "cls");
    LLVMValueRef id = load(L, L->i64, gep(L, cls, offsetof(zx_class, id)), "clsid");
    LLVMValueRef w = LLVMBuildLoad2(L->b, L->i64, cache, "fcache");
    LLVMSetOrdering(w, LLVMAtomicOrderingUnordered);
    LLVMSetAlignment(w, 8);
    LLVMValueRef same = LLVMBuildICmp(L->b, LLVMIntEQ, LLVMBuildLShr(L->b, w, c64(L, 16), ""), id, "");
    br_rare(L, LLVMBuildNot(L->b, same, ""), miss, hit);
    at(L, hit);
    LLVMValueRef slot = LLVMBuildAnd(L->b, w, c64(L, 0xffff), "slot");
    LLVMValueRef off = LLVMBuildAdd(L->b, c64(L, offsetof(zx_inst, slot)),
                                    LLVMBuildMul(L->b, slot, c64(L, sizeof(zx_value)), ""), "");
    return gepv(L, o, off);
}

/* o.k with a constant string key on an object o: the address of its value, an instance's field
 * at the slot its class id caches or a map's entry through the map inline cache (`what` names
 * the blocks); anything else branches to slow.  Both caches end in one block, so the load or
 * store and its reference counts are emitted once: a function of many o.k stays small enough
 * to optimise.  The builder is left in that block. */
static LLVMValueRef field_addr(lw *L, uint32_t pc, val obj, val key, LLVMBasicBlockRef slow, const char *what)
{
    char name[32];
    LLVMBasicBlockRef c1 = newbb(L, "");
    snprintf(name, sizeof name, "%s.inst", what);
    LLVMBasicBlockRef inst = newbb(L, name);
    snprintf(name, sizeof name, "%s.map", what);
    LLVMBasicBlockRef map = newbb(L, name);
    snprintf(name, sizeof name, "%s.hit", what);
    LLVMBasicBlockRef hit = newbb(L, name), from[2];
    br_rare(L, LLVMBuildNot(L->b, is_tag(L, obj, ZX_T_OBJ), ""), slow, c1);
    at(L, c1);
    LLVMValueRef o = as_ptr(L, obj.pay);
    LLVMValueRef ty = load(L, L->i8, gep(L, o, offsetof(zx_obj, type)), "otype");
    LLVMBuildCondBr(L->b, LLVMBuildICmp(L->b, LLVMIntEQ, ty, c8(L, ZX_O_INST), ""), inst, map);
    LLVMValueRef addr[2];
    for (int k = 0; k < 2; k++) {
        at(L, k ? map : inst);
        addr[k] = k ? gep(L, map_ic_entry(L, pc, o, key, slow), offsetof(zx_map_entry, value))
                    : inst_ic_slot(L, field_cache_global(L, pc), o, slow);
        from[k] = LLVMGetInsertBlock(L->b);
        LLVMBuildBr(L->b, hit);
    }
    at(L, hit);
    LLVMValueRef p = LLVMBuildPhi(L->b, L->ptr, "addr");
    LLVMAddIncoming(p, addr, from, 2);
    return p;
}

/* An element e read from container obj (stack slot d-2) by an inline INDEX path becomes the
 * result: a reference of its own, or lent on (analyze_borrows) while obj is itself borrowed. */
static void index_take(lw *L, val obj, val e, uint32_t d, int use, int lend)
{
    if (lend) {
        /* the element is lent on only while its list is itself borrowed: a list this
         * slot owns (a new value from an earlier INDEX, d["k"][i]) is dropped here, so the
         * element takes a reference of its own first and the slot owns it */
        LLVMValueRef owned = use ? load(L, L->i1, L->sown[d - 2], "owned") : LLVMConstInt(L->i1, 1, 0);
        LLVMBasicBlockRef then_bb, cont_bb;
        emit_if(L, owned, &then_bb, &cont_bb);
        incref(L, e);
        decref(L, obj);
        LLVMBuildBr(L->b, cont_bb);
        at(L, cont_bb);
        LLVMBuildStore(L->b, owned, L->sown[d - 2]);
    } else {
        incref(L, e);
        drop_operand(L, obj, d - 2, use);
    }
}

/* The kind of list o (zx_list_kind, value.h), loaded and returned; the builder then
 * branches to `boxed` for a generic list, to `unboxed` for the rest. */
static LLVMValueRef list_kind(lw *L, LLVMValueRef o, LLVMBasicBlockRef boxed, LLVMBasicBlockRef unboxed)
{
    LLVMValueRef kind = load(L, L->i8, gep(L, o, offsetof(zx_list, kind)), "kind");
    LLVMBuildCondBr(L->b, LLVMBuildICmp(L->b, LLVMIntEQ, kind, c8(L, ZX_LIST_GENERIC), ""), boxed, unboxed);
    return kind;
}

/* Item idx of an unboxed list of kind `kind` (the items' tag) at items: a byte for bools, the
 * 8 bytes of an int or a double's bits otherwise. */
static val load_unboxed(lw *L, LLVMValueRef items, LLVMValueRef kind, LLVMValueRef idx)
{
    LLVMBasicBlockRef byte = newbb(L, "item.bool"), word = newbb(L, "item.word"), done = newbb(L, "item");
    LLVMBuildCondBr(L->b, LLVMBuildICmp(L->b, LLVMIntEQ, kind, c8(L, ZX_LIST_BOOL), ""), byte, word);
    at(L, byte);
    LLVMValueRef b = LLVMBuildZExt(L->b, load(L, L->i8, gepv(L, items, idx), "bool"), L->i64, "");
    LLVMBuildBr(L->b, done);
    at(L, word);
    LLVMValueRef w = load(L, L->i64, gepv(L, items, LLVMBuildMul(L->b, idx, c64(L, 8), "")), "word");
    LLVMBuildBr(L->b, done);
    at(L, done);
    LLVMValueRef pay = LLVMBuildPhi(L->b, L->i64, "item");
    LLVMValueRef ins[2] = { b, w };
    LLVMBasicBlockRef from[2] = { byte, word };
    LLVMAddIncoming(pay, ins, from, 2);
    val v = { kind, pay, M_I | M_F | M_B };
    return v;
}

/* Store v, whose tag is the list's unboxed kind, as item idx at items (no reference counts:
 * neither v nor the item it replaces holds one). */
static void store_unboxed(lw *L, LLVMValueRef items, val v, LLVMValueRef idx)
{
    LLVMBasicBlockRef byte = newbb(L, "put.bool"), word = newbb(L, "put.word"), done = newbb(L, "put");
    LLVMBuildCondBr(L->b, is_tag(L, v, ZX_T_BOOL), byte, word);
    at(L, byte);
    LLVMBuildStore(L->b, LLVMBuildTrunc(L->b, v.pay, L->i8, ""), gepv(L, items, idx));
    LLVMBuildBr(L->b, done);
    at(L, word);
    LLVMBuildStore(L->b, v.pay, gepv(L, items, LLVMBuildMul(L->b, idx, c64(L, 8), "")));
    LLVMBuildBr(L->b, done);
    at(L, done);
}

static void emit_index(lw *L, uint32_t pc, uint32_t d)
{
    uint8_t *sm = st_stack(L, pc);
    int use = L->a.borrow && (L->a.borrow[pc] & BORROW_USE) && (L->borrowed >> (d - 2) & 1);
    int lend = L->a.borrow && (L->a.borrow[pc] & BORROW_RESULT);
    int ckey = L->ckey && L->ckey[pc] && (sm[d - 1] & M_O);
    int kb = L->a.borrow && (L->a.borrow[pc] & BORROW_KEY) && (L->borrowed >> (d - 1) & 1);
    val obj = sget(L, d - 2, sm[d - 2]), key = sget(L, d - 1, sm[d - 1]);
    LLVMBasicBlockRef cont = newbb(L, "index.done"), slow = newbb(L, "index.slow");
    joinvals res = { .n = 0 };
    if ((obj.mask & M_O) && (key.mask & M_I)) {
        /* list[int] in range, inline */
        LLVMBasicBlockRef c1 = newbb(L, ""), c2 = newbb(L, ""), fast = newbb(L, "index.list");
        br_rare(L, LLVMBuildNot(L->b, LLVMBuildAnd(L->b, is_tag(L, obj, ZX_T_OBJ), is_tag(L, key, ZX_T_INT), ""), ""), slow, c1);
        at(L, c1);
        LLVMValueRef o = as_ptr(L, obj.pay);
        LLVMValueRef ty = load(L, L->i8, gep(L, o, offsetof(zx_obj, type)), "otype");
        br_rare(L, LLVMBuildICmp(L->b, LLVMIntNE, ty, c8(L, ZX_O_LIST), ""), slow, c2);
        at(L, c2);
        LLVMValueRef len = LLVMBuildZExt(L->b, load(L, L->i32, gep(L, o, offsetof(zx_list, len)), "len"), L->i64, "");
        br_rare(L, LLVMBuildICmp(L->b, LLVMIntUGE, key.pay, len, ""), slow, fast);
        at(L, fast);
        LLVMValueRef items = load(L, L->ptr, gep(L, o, offsetof(zx_list, items)), "items");
        LLVMBasicBlockRef boxed = newbb(L, "index.boxed"), unboxed = newbb(L, "index.unboxed");
        LLVMValueRef kind = list_kind(L, o, boxed, unboxed);
        at(L, boxed);
        LLVMValueRef ep = gepv(L, items, LLVMBuildMul(L->b, key.pay, c64(L, sizeof(zx_value)), ""));
        val e = load_val_mem(L, ep, M_VAL);
        index_take(L, obj, e, d, use, lend);
        join_add(L, &res, e, cont);
        at(L, unboxed);
        val u = load_unboxed(L, items, kind, key.pay);
        index_take(L, obj, u, d, use, lend);
        join_add(L, &res, u, cont);
    } else if ((obj.mask & M_O) && ckey) {
        /* o.k with a constant string k */
        LLVMValueRef ep = field_addr(L, pc, obj, key, slow, "index");
        val e = load_val_mem(L, ep, M_VAL);
        index_take(L, obj, e, d, use, lend);
        drop_operand(L, key, d - 1, kb);
        join_add(L, &res, e, cont);
    } else {
        LLVMBuildBr(L->b, slow);
    }
    at(L, slow);
    set_pc(L, pc);
    LLVMValueRef st;
    if (ckey) {
        LLVMValueRef args[] = { L->t, L->f, LLVMBuildZExt(L->b, obj.tag, L->i32, ""), obj.pay,
                                as_ptr(L, key.pay), ic_global(L, pc), field_cache_global(L, pc), L->tmpval };
        st = call(L, JIT_HELPER_index_ic, args, 8);
    } else {
        LLVMValueRef args[] = { L->t, L->f, LLVMBuildZExt(L->b, obj.tag, L->i32, ""), obj.pay,
                                LLVMBuildZExt(L->b, key.tag, L->i32, ""), key.pay, L->tmpval };
        st = call(L, JIT_HELPER_index, args, 7);
    }
    check_status(L, st, d, (int)d);
    val r = load_val_mem(L, L->tmpval, M_ANY);
    drop_operand(L, obj, d - 2, use);
    drop_operand(L, key, d - 1, kb);
    if (lend) LLVMBuildStore(L->b, LLVMConstInt(L->i1, 1, 0), L->sown[d - 2]);   /* a new value */
    join_add(L, &res, r, cont);
    at(L, cont);
    sset(L, d - 2, join_val(L, &res));
    L->borrowed &= ~(3ull << (d - 2));
    if (lend) L->borrowed |= 1ull << (d - 2);
}

/* GET_FIELD: an instance whose class id matches this instruction's cache word (class id << 16
 * | slot, filled by the helper) loads the slot at its fixed offset; anything else (a map, a
 * field added later, the first visit) goes through jit_helper_field. */
static void emit_get_field(lw *L, const zx_instr *in, uint32_t pc, uint32_t d)
{
    uint8_t *sm = st_stack(L, pc);
    int use = L->a.borrow && (L->a.borrow[pc] & BORROW_USE) && (L->borrowed >> (d - 1) & 1);
    val obj = sget(L, d - 1, sm[d - 1]);
    LLVMValueRef cache = field_cache_global(L, pc);
    LLVMBasicBlockRef cont = newbb(L, "field.done"), slow = newbb(L, "field.slow");
    joinvals res = { .n = 0 };
    if (obj.mask & M_O) {
        LLVMBasicBlockRef c1 = newbb(L, "");
        br_rare(L, LLVMBuildNot(L->b, is_tag(L, obj, ZX_T_OBJ), ""), slow, c1);
        at(L, c1);
        val e = load_val_mem(L, inst_ic_slot(L, cache, as_ptr(L, obj.pay), slow), M_VAL);
        incref(L, e);
        drop_operand(L, obj, d - 1, use);
        join_add(L, &res, e, cont);
    } else {
        LLVMBuildBr(L->b, slow);
    }
    at(L, slow);
    set_pc(L, pc);
    LLVMValueRef args[] = { L->t, L->f, LLVMBuildZExt(L->b, obj.tag, L->i32, ""), obj.pay, c32(L, in->a), cache,
                            L->tmpval };
    LLVMValueRef st = call(L, JIT_HELPER_field, args, 7);
    check_status(L, st, d, (int)d);
    val r = load_val_mem(L, L->tmpval, M_ANY);
    drop_operand(L, obj, d - 1, use);
    join_add(L, &res, r, cont);
    at(L, cont);
    sset(L, d - 1, join_val(L, &res));
    L->borrowed &= ~(1ull << (d - 1));
}

/* v was stored into container o (a list or map): a container or closure there may close a
 * cycle, as the interpreter's stores note. */
static void note_stored(lw *L, LLVMValueRef o, val v)
{
    if (!(v.mask & M_O)) return;
    LLVMBasicBlockRef then_bb, cont_bb, note = newbb(L, "note");
    emit_if(L, is_tag(L, v, ZX_T_OBJ), &then_bb, &cont_bb);
    LLVMValueRef ty = load(L, L->i8, gep(L, as_ptr(L, v.pay), offsetof(zx_obj, type)), "");
    LLVMBuildCondBr(L->b, LLVMBuildICmp(L->b, LLVMIntNE, ty, c8(L, ZX_O_STRING), ""), note, cont_bb);
    at(L, note);
    LLVMValueRef args[] = { L->t, o };
    call(L, JIT_HELPER_note_cycle, args, 2);
    LLVMBuildBr(L->b, cont_bb);
    at(L, cont_bb);
}

/* Whether stack slot s holds a borrowed value (analyze_borrows): the inline calls below take
 * owned operands only and leave borrowed ones to the helper. */
static int slot_borrowed(const lw *L, uint32_t s)
{
    return s >= 64 || ((L->borrowed >> s) & 1);
}

/* The method a CALL_METHOD names, when it is `name`. */
static int method_is(const lw *L, const zx_instr *in, const char *name)
{
    zx_value k = L->code->consts[in->a];
    if (!zx_is_type(k, ZX_O_STRING)) return 0;
    const zx_string *str = ZX_AS_STRING(k);
    return str->nbytes == strlen(name) && memcmp(str->data, name, str->nbytes) == 0;
}

/*
 * CALL_BUILTIN and CALL_METHOD.  Inline, as the interpreter computes them: sqrt of a number
 * that is not negative; len of a list; xs.push(v) and xs.append(v) on a list with room (the
 * value's reference moves into the list, the list is the result).  Everything else, and those
 * on anything else, through builtin_op: the interpreter's code for the call.
 */
static void emit_builtin_call(lw *L, const zx_instr *in, uint32_t pc, uint32_t d, uint32_t pops, uint32_t pushes)
{
    uint8_t *sm = st_stack(L, pc);
    LLVMBasicBlockRef slow = newbb(L, "call.slow"), cont = newbb(L, "call.done");
    int inl = 0;
    if (in->op == OP_CALL_BUILTIN && in->a == ZX_BI_sqrt && in->b == 1 && (sm[d - 1] & (M_I | M_F)) &&
        !slot_borrowed(L, d - 1)) {
        val x = sget(L, d - 1, sm[d - 1]);
        LLVMValueRef isi = is_tag(L, x, ZX_T_INT), isf = is_tag(L, x, ZX_T_FLOAT);
        LLVMBasicBlockRef num = newbb(L, "sqrt.num"), ok = newbb(L, "sqrt");
        br_rare(L, LLVMBuildNot(L->b, LLVMBuildOr(L->b, isi, isf, ""), ""), slow, num);
        at(L, num);
        LLVMValueRef dv = LLVMBuildSelect(L->b, isi, LLVMBuildSIToFP(L->b, x.pay, L->f64, ""), as_f64(L, x.pay), "x");
        br_rare(L, LLVMBuildFCmp(L->b, LLVMRealOLT, dv, LLVMConstReal(L->f64, 0.0), ""), slow, ok);
        at(L, ok);
        unsigned id = LLVMLookupIntrinsicID("llvm.sqrt", 9);
        LLVMTypeRef ty = L->f64;
        LLVMValueRef fn = LLVMGetIntrinsicDeclaration(L->m, id, &ty, 1);
        LLVMValueRef r = LLVMBuildCall2(L->b, LLVMIntrinsicGetType(L->cx, id, &ty, 1), fn, &dv, 1, "sqrt");
        sset(L, d - 1, mkflt(L, r));
        inl = 1;
    } else if (in->op == OP_CALL_BUILTIN && (in->a == ZX_BI_len || in->a == ZX_BI_length) && in->b == 1 &&
               (sm[d - 1] & M_O) && !slot_borrowed(L, d - 1)) {
        val x = sget(L, d - 1, sm[d - 1]);
        LLVMBasicBlockRef obj = newbb(L, "len.obj"), lst = newbb(L, "len.list");
        br_rare(L, LLVMBuildNot(L->b, is_tag(L, x, ZX_T_OBJ), ""), slow, obj);
        at(L, obj);
        LLVMValueRef o = as_ptr(L, x.pay);
        LLVMValueRef ty = load(L, L->i8, gep(L, o, offsetof(zx_obj, type)), "otype");
        br_rare(L, LLVMBuildICmp(L->b, LLVMIntNE, ty, c8(L, ZX_O_LIST), ""), slow, lst);
        at(L, lst);
        LLVMValueRef n = LLVMBuildZExt(L->b, load(L, L->i32, gep(L, o, offsetof(zx_list, len)), "len"), L->i64, "");
        decref(L, x);
        sset(L, d - 1, mkint(L, n));
        inl = 1;
    } else if (in->op == OP_CALL_METHOD && in->b == 1 && (method_is(L, in, "push") || method_is(L, in, "append")) &&
               (sm[d - 2] & M_O) && !slot_borrowed(L, d - 2) && !slot_borrowed(L, d - 1)) {
        val xs = sget(L, d - 2, sm[d - 2]), v = sget(L, d - 1, sm[d - 1]);
        LLVMBasicBlockRef obj = newbb(L, "push.obj"), lst = newbb(L, "push.list"), room = newbb(L, "push");
        br_rare(L, LLVMBuildNot(L->b, is_tag(L, xs, ZX_T_OBJ), ""), slow, obj);
        at(L, obj);
        LLVMValueRef o = as_ptr(L, xs.pay);
        LLVMValueRef ty = load(L, L->i8, gep(L, o, offsetof(zx_obj, type)), "otype");
        br_rare(L, LLVMBuildICmp(L->b, LLVMIntNE, ty, c8(L, ZX_O_LIST), ""), slow, lst);
        at(L, lst);
        LLVMValueRef len = load(L, L->i32, gep(L, o, offsetof(zx_list, len)), "len");
        LLVMValueRef cap = load(L, L->i32, gep(L, o, offsetof(zx_list, cap)), "cap");
        br_rare(L, LLVMBuildICmp(L->b, LLVMIntEQ, len, cap, ""), slow, room);   /* growing: the helper */
        at(L, room);
        LLVMValueRef items = load(L, L->ptr, gep(L, o, offsetof(zx_list, items)), "items");
        LLVMValueRef len64 = LLVMBuildZExt(L->b, len, L->i64, "");
        LLVMBasicBlockRef boxed = newbb(L, "push.boxed"), unboxed = newbb(L, "push.unboxed"),
                          fits = newbb(L, "push.fits"), pushed = newbb(L, "pushed");
        LLVMValueRef kind = list_kind(L, o, boxed, unboxed);
        at(L, unboxed);           /* a value of another type changes the kind: the helper */
        br_rare(L, LLVMBuildICmp(L->b, LLVMIntNE, v.tag, kind, ""), slow, fits);
        at(L, fits);
        store_unboxed(L, items, v, len64);
        LLVMBuildBr(L->b, pushed);
        at(L, boxed);
        store_val_mem(L, gepv(L, items, LLVMBuildMul(L->b, len64, c64(L, sizeof(zx_value)), "")), v);
        note_stored(L, o, v);
        LLVMBuildBr(L->b, pushed);
        at(L, pushed);
        LLVMBuildStore(L->b, LLVMBuildAdd(L->b, len, c32(L, 1), ""), gep(L, o, offsetof(zx_list, len)));
        sset(L, d - 2, xs);       /* the list is the result (its tag written: a known tag may not be) */
        inl = 1;
    }
    if (inl) LLVMBuildBr(L->b, cont);
    else LLVMBuildBr(L->b, slow);
    at(L, slow);
    emit_step_by(L, pc, d, pops, pushes, JIT_HELPER_builtin_op);
    LLVMBuildBr(L->b, cont);
    at(L, cont);
}

/*
 * STORE_INDEX [obj, key, v]: obj[key] = v.  Inline: a list with an int key in range, and a map
 * with a constant string key its inline cache finds (map_ic_entry): the value moves into the
 * slot, the old one is released, the cycle candidate noted as the interpreter notes it; into
 * an unboxed list whose kind is v's tag, a plain store of the payload.  The rest (out of
 * range, negative, a new key, a type error, a value an unboxed list cannot hold, memory) runs
 * in the interpreter's code through jit_helper_store_index, which also teaches the cache.
 */
static void emit_store_index(lw *L, uint32_t pc, uint32_t d)
{
    uint8_t *sm = st_stack(L, pc);
    val obj = sget(L, d - 3, sm[d - 3]), key = sget(L, d - 2, sm[d - 2]), v = sget(L, d - 1, sm[d - 1]);
    int ckey = L->ckey && L->ckey[pc] && (key.mask & M_O);
    /* a borrowed container or key (analyze_borrows) owns nothing unless its slot says so */
    int use = L->a.borrow && (L->a.borrow[pc] & BORROW_USE) && (L->borrowed >> (d - 3) & 1);
    int kb = L->a.borrow && (L->a.borrow[pc] & BORROW_KEY) && (L->borrowed >> (d - 2) & 1);
    int odd = d - 1 < 64 && ((L->borrowed >> (d - 1)) & 1);   /* never: stored values are owned */
    LLVMBasicBlockRef cont = newbb(L, "store.done"), slow = newbb(L, "store.slow");
    if (odd || !(obj.mask & M_O)) {
        LLVMBuildBr(L->b, slow);
    } else if (key.mask & M_I) {
        LLVMBasicBlockRef c1 = newbb(L, ""), c2 = newbb(L, ""), fast = newbb(L, "store.list");
        br_rare(L, LLVMBuildNot(L->b, LLVMBuildAnd(L->b, is_tag(L, obj, ZX_T_OBJ), is_tag(L, key, ZX_T_INT), ""), ""), slow, c1);
        at(L, c1);
        LLVMValueRef o = as_ptr(L, obj.pay);
        LLVMValueRef ty = load(L, L->i8, gep(L, o, offsetof(zx_obj, type)), "otype");
        br_rare(L, LLVMBuildICmp(L->b, LLVMIntNE, ty, c8(L, ZX_O_LIST), ""), slow, c2);
        at(L, c2);
        LLVMValueRef len = LLVMBuildZExt(L->b, load(L, L->i32, gep(L, o, offsetof(zx_list, len)), "len"), L->i64, "");
        br_rare(L, LLVMBuildICmp(L->b, LLVMIntUGE, key.pay, len, ""), slow, fast);   /* negative too */
        at(L, fast);
        LLVMValueRef items = load(L, L->ptr, gep(L, o, offsetof(zx_list, items)), "items");
        LLVMBasicBlockRef boxed = newbb(L, "store.boxed"), unboxed = newbb(L, "store.unboxed"),
                          fits = newbb(L, "store.fits");
        LLVMValueRef kind = list_kind(L, o, boxed, unboxed);
        at(L, unboxed);           /* a value of another type makes the list generic: the helper */
        br_rare(L, LLVMBuildICmp(L->b, LLVMIntNE, v.tag, kind, ""), slow, fits);
        at(L, fits);
        store_unboxed(L, items, v, key.pay);
        drop_operand(L, obj, d - 3, use);
        LLVMBuildBr(L->b, cont);
        at(L, boxed);
        LLVMValueRef ep = gepv(L, items, LLVMBuildMul(L->b, key.pay, c64(L, sizeof(zx_value)), ""));
        val old = load_val_mem(L, ep, M_VAL);
        store_val_mem(L, ep, v);
        decref(L, old);
        note_stored(L, o, v);
        drop_operand(L, obj, d - 3, use);
        LLVMBuildBr(L->b, cont);
    } else if (ckey) {
        /* the helper caches no data class (their fields ignore assignment): their stores stay slow */
        LLVMValueRef o = as_ptr(L, obj.pay);
        LLVMValueRef vp = field_addr(L, pc, obj, key, slow, "store");
        val old = load_val_mem(L, vp, M_VAL);
        store_val_mem(L, vp, v);
        decref(L, old);
        note_stored(L, o, v);
        drop_operand(L, obj, d - 3, use);
        drop_operand(L, key, d - 2, kb);
        LLVMBuildBr(L->b, cont);
    } else {
        LLVMBuildBr(L->b, slow);
    }
    at(L, slow);
    set_pc(L, pc);
    spill(L, d - 3, d);
    set_sp(L, d);
    LLVMValueRef args[] = { L->t, L->f, ckey ? ic_global(L, pc) : LLVMConstNull(L->ptr),
                            ckey ? field_cache_global(L, pc) : LLVMConstNull(L->ptr) };
    LLVMValueRef st = call(L, JIT_HELPER_store_index, args, 4);
    check_status(L, st, d - 3, -1);
    LLVMBuildBr(L->b, cont);
    at(L, cont);
    if (d - 3 < 64) L->borrowed &= ~(7ull << (d - 3));
}

static void emit_for_iter(lw *L, const zx_instr *in, uint32_t pc, uint32_t d)
{
    uint32_t slot = in->b;
    int two = in->op == OP_FOR_ITER2;
    poll(L, pc, d);
    val it = lget(L, slot, M_O);
    LLVMValueRef idx = load(L, L->i64, L->lpay[slot + 1], "idx");
    LLVMValueRef o = as_ptr(L, it.pay);
    LLVMValueRef ty = load(L, L->i8, gep(L, o, offsetof(zx_obj, type)), "otype");
    LLVMBasicBlockRef lst = newbb(L, "iter.list"), other = newbb(L, "iter.other"), more = newbb(L, "iter.next");
    LLVMBuildCondBr(L->b, LLVMBuildICmp(L->b, LLVMIntEQ, ty, c8(L, ZX_O_LIST), ""), lst, other);
    at(L, lst);
    LLVMValueRef len = LLVMBuildZExt(L->b, load(L, L->i32, gep(L, o, offsetof(zx_list, len)), "len"), L->i64, "");
    LLVMBuildCondBr(L->b, LLVMBuildICmp(L->b, LLVMIntSGE, idx, len, ""), L->bb[in->a], more);
    at(L, more);
    LLVMValueRef items = load(L, L->ptr, gep(L, o, offsetof(zx_list, items)), "items");
    LLVMBasicBlockRef boxed = newbb(L, "iter.boxed"), unboxed = newbb(L, "iter.unboxed"), got_e = newbb(L, "iter.item");
    LLVMValueRef kind = list_kind(L, o, boxed, unboxed);
    at(L, boxed);
    val b = load_val_mem(L, gepv(L, items, LLVMBuildMul(L->b, idx, c64(L, sizeof(zx_value)), "")), M_VAL);
    incref(L, b);
    joinvals j = { .n = 0 };
    join_add(L, &j, b, got_e);
    at(L, unboxed);
    join_add(L, &j, load_unboxed(L, items, kind, idx), got_e);
    at(L, got_e);
    val e = join_val(L, &j);
    if (two) sset(L, d, mkint(L, idx));
    sset(L, d + (two ? 1 : 0), e);
    lset(L, slot + 1, mkint(L, LLVMBuildAdd(L->b, idx, c64(L, 1), "")), M_I);
    LLVMBuildBr(L->b, L->bb[pc + 1]);
    /* maps (and anything else) through the helper, on memory */
    at(L, other);
    set_pc(L, pc);
    set_sp(L, d);
    LLVMValueRef args[] = { L->t, L->f, c32(L, slot), c32(L, (unsigned)two) };
    LLVMValueRef got = call(L, JIT_HELPER_for_iter, args, 4);
    LLVMBasicBlockRef pushed = newbb(L, "iter.pushed");
    LLVMBuildCondBr(L->b, LLVMBuildICmp(L->b, LLVMIntEQ, got, c32(L, 0), ""), L->bb[in->a], pushed);
    at(L, pushed);
    reload(L, d, d + 1 + (two ? 1 : 0));
    lreload(L, slot + 1);
    LLVMBuildBr(L->b, L->bb[pc + 1]);
}

/* The native function of code object x of the batch: declared on first use, defined when x
 * is lowered (lower_code renames it then).  A string attribute names x's place in the batch,
 * so each code object has exactly one function whichever is lowered first. */
static LLVMValueRef code_fn(lw *L, const zx_code *x)
{
    size_t k = 0;
    while (k < L->nbatch && L->batch[k] != x) k++;
    char key[24];
    snprintf(key, sizeof key, "%zu", k);
    for (LLVMValueRef fn = LLVMGetFirstFunction(L->m); fn; fn = LLVMGetNextFunction(fn)) {
        LLVMAttributeRef a = LLVMGetStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, "zexus-code", 10);
        unsigned len = 0;
        const char *v = a ? LLVMGetStringAttributeValue(a, &len) : NULL;
        if (v && len == strlen(key) && memcmp(v, key, len) == 0) return fn;
    }
    LLVMTypeRef params[] = { L->ptr, L->ptr, L->i32, L->ptr };
    char name[40];
    snprintf(name, sizeof name, "zexus.code.%zu", k);
    LLVMValueRef fn = LLVMAddFunction(L->m, name, LLVMFunctionType(L->i32, params, 4, 0));
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                            LLVMCreateStringAttribute(L->cx, "zexus-code", 10, key, (unsigned)strlen(key)));
    return fn;
}

/* Code objects of another module are named by their path in the program's tree
 * (analyze_code_path), never by address: compiled code is cached across processes. */
static void code_path_name(lw *L, const zx_code *x, char *buf, size_t n)
{
    uint32_t path[ANALYZE_PATH_MAX];
    int len = analyze_code_path(L->prog, x, path);
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < len && at + 12 < n; i++) at += (size_t)snprintf(buf + at, n - at, "%s%u", i ? "." : "", path[i]);
}

/* x's address at run time: the program's top level, then children by index (the tree never
 * changes while a program is loaded: invariant loads, hoisted out of loops). */
static LLVMValueRef runtime_code(lw *L, const zx_code *x)
{
    uint32_t path[ANALYZE_PATH_MAX];
    int len = analyze_code_path(L->prog, x, path);
    if (len <= 0) return LLVMConstNull(L->ptr);   /* never equal to a closure's code */
    unsigned kind = LLVMGetMDKindIDInContext(L->cx, "invariant.load", 14);
    LLVMValueRef inv = LLVMMetadataAsValue(L->cx, LLVMMDNodeInContext2(L->cx, NULL, 0));
    /* the program of the code being run (not the run's: a closure of an earlier program may
     * run in a later one's run, as in an interactive session) */
    LLVMValueRef p = load(L, L->ptr, gep(L, L->code_v, offsetof(zx_code, program)), "prog");
    LLVMSetMetadata(p, kind, inv);
    p = load(L, L->ptr, gep(L, p, offsetof(zx_program, main)), "main");
    LLVMSetMetadata(p, kind, inv);
    for (int i = 0; i < len; i++) {
        LLVMValueRef ch = load(L, L->ptr, gep(L, p, offsetof(zx_code, children)), "children");
        LLVMSetMetadata(ch, kind, inv);
        p = load(L, L->ptr, gep(L, ch, (uint64_t)path[i] * sizeof(zx_code *)), "child");
        LLVMSetMetadata(p, kind, inv);
    }
    return p;
}

/* What a call stub returns when the value stack segment is full: nothing was done, the call
 * takes the generic path (which grows the stack).  Not a zx_status. */
#define STUB_FULL 0x7fffffff

/*
 * The call stub of `target` (the function of code object x, or its int version): an internal
 * function shared by every direct call of it in the module, so that each call site stays
 * small.  It takes the caller's task and frame, the closure and the arguments (as tag,
 * payload pairs, moved in), and does what the interpreter's CALL_TOP and zx_frame_push do:
 * poll, check the depth limit and the C stack (each direct call nests a native C frame),
 * push x's frame on the task's value stack in the interpreter's layout, call, and pop it
 * (zx_frame_pop).  It returns the callee's status (the result in *result) or, with the
 * arguments left untouched, STUB_FULL (the value stack's segment is full, or the C stack is
 * below the task's stack_limit: the caller's generic path makes the call through the
 * interpreter).  On any other failure the arguments are released and
 * the error is on the task (raised at the caller's f->pc, which the caller has stored).
 */
static LLVMValueRef call_stub(lw *L, zx_code *x, LLVMValueRef target)
{
    uint32_t argc = x->nparams;
    size_t k = 0;
    while (k < L->nbatch && L->batch[k] != x) k++;
    char name[160];
    if (!target) {
        char path[64];
        code_path_name(L, x, path, sizeof path);
        snprintf(name, sizeof name, "zx:call %.80s (code %s of the program, native)", x->name, path);
    } else {
        snprintf(name, sizeof name, "zx:call %.100s (code %zu of the module%s)", x->name, k,
                 L->int_fn && target == L->int_fn ? ", int arguments" : "");
    }
    LLVMValueRef stub = LLVMGetNamedFunction(L->m, name);
    if (stub) return stub;
    LLVMTypeRef *pt = malloc((4 + 2 * (size_t)argc) * sizeof *pt);
    if (!pt) return NULL;
    unsigned np = 0;
    pt[np++] = L->ptr;
    pt[np++] = L->ptr;
    pt[np++] = L->ptr;
    for (uint32_t i = 0; i < argc; i++) {
        pt[np++] = L->i8;
        pt[np++] = L->i64;
    }
    pt[np++] = L->ptr;
    stub = LLVMAddFunction(L->m, name, LLVMFunctionType(L->i32, pt, np, 0));
    free(pt);
    LLVMSetLinkage(stub, LLVMInternalLinkage);

    /* build it with the emitter's helpers: they work on L->b and L->fn */
    LLVMBuilderRef saved_b = L->b;
    LLVMValueRef saved_fn = L->fn;
    L->b = LLVMCreateBuilderInContext(L->cx);
    L->fn = stub;
    LLVMValueRef t = LLVMGetParam(stub, 0), f = LLVMGetParam(stub, 1), obj = LLVMGetParam(stub, 2);
    LLVMValueRef result = LLVMGetParam(stub, np - 1);
    val *args = calloc(argc + 1, sizeof *args);
    at(L, LLVMAppendBasicBlockInContext(L->cx, stub, "entry"));
    LLVMValueRef saved_rc = L->rc_atomic;
    L->rc_atomic = rc_mode(L, load(L, L->ptr, gep(L, t, offsetof(zx_task, run)), "run"));
    for (uint32_t i = 0; i < argc; i++) {
        args[i].tag = LLVMGetParam(stub, 3 + 2 * i);
        args[i].pay = LLVMGetParam(stub, 4 + 2 * i);
        args[i].mask = M_VAL;
    }
    LLVMValueRef run = load(L, L->ptr, gep(L, t, offsetof(zx_task, run)), "run");

    /* refused: the arguments are released (the caller keeps only the callee) */
    LLVMBasicBlockRef refuse = newbb(L, "refuse");
    LLVMBasicBlockRef go = newbb(L, "");
    at(L, refuse);
    LLVMValueRef why = LLVMBuildPhi(L->b, L->i32, "status");
    for (uint32_t i = 0; i < argc; i++) decref(L, args[i]);
    LLVMBuildRet(L->b, why);

    /* as the interpreter: poll first (the cancel flag is a hint; the helper decides) */
    at(L, LLVMGetEntryBasicBlock(stub));
    LLVMValueRef ip = load(L, L->ptr, gep(L, run, offsetof(zx_run, interrupt)), "interrupt");
    LLVMValueRef a = load(L, L->i32, ip, "intr");
    LLVMSetOrdering(a, LLVMAtomicOrderingMonotonic);
    LLVMSetAlignment(a, 4);
    tbaa(L, a, "run flag");
    LLVMValueRef cflag = load(L, L->i32, gep(L, run, offsetof(zx_run, cancel)), "cancel");
    LLVMSetOrdering(cflag, LLVMAtomicOrderingMonotonic);
    LLVMSetAlignment(cflag, 4);
    tbaa(L, cflag, "run flag");
    LLVMBasicBlockRef stop = newbb(L, "stop"), polled = newbb(L, "polled");
    br_rare(L, LLVMBuildICmp(L->b, LLVMIntNE, LLVMBuildOr(L->b, a, cflag, ""), c32(L, 0), ""), stop, polled);
    at(L, stop);
    LLVMValueRef sargs[] = { t, f };
    LLVMValueRef sst = call(L, JIT_HELPER_stop, sargs, 2);
    LLVMBasicBlockRef stop_bb = LLVMGetInsertBlock(L->b);
    LLVMBuildCondBr(L->b, status_ok(L, sst), polled, refuse);
    LLVMAddIncoming(why, &sst, &stop_bb, 1);

    /* the depth limit, as the interpreter; then the C stack: below t->stack_limit the call is
     * refused (STUB_FULL, arguments untouched) and the caller's generic path makes it through
     * the interpreter, which enters no native code there and does not deepen the C stack, so
     * the depth limit is reached at the same depth in every tier */
    at(L, polled);
    LLVMValueRef depth = LLVMBuildAdd(L->b, load(L, L->i32, gep(L, f, offsetof(zx_frame, depth)), "fdepth"), c32(L, 1), "depth");
    LLVMValueRef maxd = load(L, L->i32, gep(L, run, offsetof(zx_run, max_depth)), "max_depth");
    LLVMValueRef deep = LLVMBuildICmp(L->b, LLVMIntUGT, depth, maxd, "too_deep");
    LLVMBasicBlockRef raise = newbb(L, "too_deep"), stack_ok = newbb(L, "depth_ok"), low = newbb(L, "c_stack_low");
    br_rare(L, deep, raise, stack_ok);
    at(L, stack_ok);
    LLVMTypeRef pty = L->ptr;
    unsigned fa_id = LLVMLookupIntrinsicID("llvm.frameaddress", 17);
    LLVMValueRef fa_fn = LLVMGetIntrinsicDeclaration(L->m, fa_id, &pty, 1);
    LLVMValueRef zero = c32(L, 0);
    LLVMValueRef fa = LLVMBuildCall2(L->b, LLVMIntrinsicGetType(L->cx, fa_id, &pty, 1), fa_fn, &zero, 1, "fa");
    LLVMValueRef limit = load(L, L->ptr, gep(L, t, offsetof(zx_task, stack_limit)), "stack_limit");
    br_rare(L, LLVMBuildICmp(L->b, LLVMIntULT, fa, limit, ""), low, go);
    at(L, low);
    LLVMBuildRet(L->b, c32(L, STUB_FULL));
    at(L, raise);
    LLVMValueRef rargs[] = { t, f, c32(L, ZX_ERR_CALL_DEPTH) };
    LLVMValueRef rst = call(L, JIT_HELPER_raise, rargs, 3);
    LLVMBuildBr(L->b, refuse);
    LLVMAddIncoming(why, &rst, &raise, 1);

    /* the frame: LIFO from the task's current value-stack segment */
    at(L, go);
    LLVMBasicBlockRef full = newbb(L, "full");
    uint64_t nvals = ZX_FRAME_VALS + x->nlocals + x->max_stack + 1;
    LLVMValueRef segp = gep(L, t, offsetof(zx_task, seg));
    LLVMValueRef seg = load(L, L->ptr, segp, "seg");
    LLVMBasicBlockRef next = newbb(L, "seg");
    br_rare(L, LLVMBuildIsNull(L->b, seg, ""), full, next);
    at(L, next);
    LLVMValueRef topp = gep(L, seg, offsetof(zx_vseg, top));
    LLVMValueRef top = load(L, L->i64, topp, "top");
    LLVMValueRef cap = load(L, L->i64, gep(L, seg, offsetof(zx_vseg, cap)), "cap");
    LLVMValueRef ntop = LLVMBuildAdd(L->b, top, c64(L, (int64_t)nvals), "ntop");
    next = newbb(L, "push");
    br_rare(L, LLVMBuildICmp(L->b, LLVMIntUGT, ntop, cap, ""), full, next);
    at(L, full);
    LLVMBuildRet(L->b, c32(L, STUB_FULL));
    at(L, next);
    LLVMBuildStore(L->b, ntop, topp);
    LLVMValueRef nf = gepv(L, gep(L, seg, offsetof(zx_vseg, v)), LLVMBuildMul(L->b, top, c64(L, sizeof(zx_value)), ""));
    LLVMValueRef nlocals = gep(L, nf, ZX_FRAME_VALS * sizeof(zx_value));
    LLVMBuildStore(L->b, load(L, L->ptr, gep(L, obj, offsetof(zx_func, code)), "code"), gep(L, nf, offsetof(zx_frame, code)));
    LLVMBuildStore(L->b, obj, gep(L, nf, offsetof(zx_frame, func)));
    LLVMBuildStore(L->b, nlocals, gep(L, nf, offsetof(zx_frame, locals)));
    LLVMBuildStore(L->b, gep(L, nlocals, (uint64_t)x->nlocals * sizeof(zx_value)), gep(L, nf, offsetof(zx_frame, sp)));
    LLVMBuildStore(L->b, c32(L, 0), gep(L, nf, offsetof(zx_frame, pc)));
    LLVMBuildStore(L->b, depth, gep(L, nf, offsetof(zx_frame, depth)));
    LLVMBuildStore(L->b, f, gep(L, nf, offsetof(zx_frame, parent)));
    LLVMBuildStore(L->b, seg, gep(L, nf, offsetof(zx_frame, seg)));
    LLVMBuildStore(L->b, top, gep(L, nf, offsetof(zx_frame, mark)));
    LLVMBuildStore(L->b, c8(L, 0), gep(L, nf, offsetof(zx_frame, is_base)));
    for (uint32_t i = 0; i < x->nlocals; i++) {
        val v = { c8(L, ZX_T_UNDEF), c64(L, 0), M_U };
        if (i < argc) v = args[i];
        store_val_mem(L, gep(L, nlocals, (uint64_t)i * sizeof(zx_value)), v);
    }
    LLVMValueRef cargs[] = { t, nf, c32(L, UINT32_MAX), result };
    LLVMValueRef st;
    if (target) {
        st = LLVMBuildCall2(L->b, LLVMGlobalGetValueType(target), target, cargs, 4, "st");
    } else {
        /* another module's code: its published native function (the caller saw it set; it is
         * never unset while the program runs) */
        LLVMTypeRef nparams[] = { L->ptr, L->ptr, L->i32, L->ptr };
        LLVMValueRef xcode = load(L, L->ptr, gep(L, obj, offsetof(zx_func, code)), "xcode");
        LLVMValueRef nat = load(L, L->ptr, gep(L, xcode, offsetof(zx_code, native)), "native");
        LLVMSetOrdering(nat, LLVMAtomicOrderingAcquire);
        LLVMSetAlignment(nat, 8);
        st = LLVMBuildCall2(L->b, LLVMFunctionType(L->i32, nparams, 4, 0), nat, cargs, 4, "st");
    }

    /* pop it (zx_frame_pop): release locals and what is left on its operand stack */
    LLVMBasicBlockRef head = newbb(L, "pop"), body = newbb(L, "pop.value"), popped = newbb(L, "popped");
    LLVMValueRef sp = load(L, L->ptr, gep(L, nf, offsetof(zx_frame, sp)), "csp");
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(L->b);
    LLVMBuildBr(L->b, head);
    at(L, head);
    LLVMValueRef p = LLVMBuildPhi(L->b, L->ptr, "pv");
    LLVMBuildCondBr(L->b, LLVMBuildICmp(L->b, LLVMIntULT, p, sp, ""), body, popped);
    at(L, body);
    decref(L, load_val_mem(L, p, M_ANY));
    LLVMValueRef pn = gep(L, p, sizeof(zx_value));
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(L->b);
    LLVMBuildBr(L->b, head);
    LLVMValueRef inc_v[] = { nlocals, pn };
    LLVMBasicBlockRef inc_b[] = { pre, latch };
    LLVMAddIncoming(p, inc_v, inc_b, 2);
    at(L, popped);
    LLVMBuildStore(L->b, seg, segp);
    LLVMBuildStore(L->b, top, topp);
    LLVMBuildRet(L->b, st);

    free(args);
    LLVMDisposeBuilder(L->b);
    L->b = saved_b;
    L->fn = saved_fn;
    L->rc_atomic = saved_rc;
    return stub;
}

/* The code object of callee, a closure (anything else branches to `other`); *objp: the closure. */
static LLVMValueRef closure_code(lw *L, val callee, LLVMBasicBlockRef other, LLVMValueRef *objp)
{
    LLVMBasicBlockRef next;
    if (callee.mask != M_O) {
        next = newbb(L, "call.obj");
        LLVMBuildCondBr(L->b, is_tag(L, callee, ZX_T_OBJ), next, other);
        at(L, next);
    }
    LLVMValueRef obj = as_ptr(L, callee.pay);
    LLVMValueRef ty = load(L, L->i8, gep(L, obj, offsetof(zx_obj, type)), "otype");
    next = newbb(L, "call.func");
    LLVMBuildCondBr(L->b, LLVMBuildICmp(L->b, LLVMIntEQ, ty, c8(L, ZX_O_FUNC), ""), next, other);
    at(L, next);
    *objp = obj;
    return load(L, L->ptr, gep(L, obj, offsetof(zx_func, code)), "fcode");
}

/* CALL_TOP of a closure of x, a code object of this module (analyze_callees), through x's call
 * stub; the arguments move into the callee's frame.  Falls to `generic` when the callee is not
 * a closure of x, or the value stack segment is full.  Leaves the result in stack slot base
 * and branches to done. */
static void emit_direct_call(lw *L, zx_code *x, uint32_t pc, uint32_t d, LLVMBasicBlockRef generic,
                             LLVMBasicBlockRef done)
{
    uint32_t argc = x->nparams, base = d - argc - 1;
    uint8_t *sm = st_stack(L, pc);
    val callee = sget(L, base, sm[base]);
    LLVMBasicBlockRef next;

    /* the callee must be a closure of x: same code object, or (for another code object)
     * its published native function is this module's */
    LLVMValueRef obj;
    LLVMValueRef code = closure_code(L, callee, generic, &obj);
    int in_batch = x == L->code;
    for (size_t i = 0; i < L->nbatch; i++) in_batch |= L->batch[i] == x;
    LLVMValueRef xfn = !in_batch ? NULL : x == L->code ? L->pub_fn : code_fn(L, x);
    LLVMValueRef same;
    if (!in_batch) {
        /* compiled in another module (or not yet): x itself, and its native function set */
        LLVMValueRef xcode = runtime_code(L, x);
        LLVMValueRef nat = load(L, L->ptr, gep(L, code, offsetof(zx_code, native)), "native");
        LLVMSetOrdering(nat, LLVMAtomicOrderingAcquire);
        LLVMSetAlignment(nat, 8);
        same = LLVMBuildAnd(L->b, LLVMBuildICmp(L->b, LLVMIntEQ, code, xcode, "xcode"),
                            LLVMBuildIsNotNull(L->b, nat, ""), "compiled");
    } else if (x == L->code) {
        same = LLVMBuildICmp(L->b, LLVMIntEQ, code, L->code_v, "self");
    } else {
        LLVMValueRef nat = load(L, L->ptr, gep(L, code, offsetof(zx_code, native)), "native");
        LLVMSetOrdering(nat, LLVMAtomicOrderingMonotonic);
        LLVMSetAlignment(nat, 8);
        same = LLVMBuildICmp(L->b, LLVMIntEQ, nat, xfn, "known");
    }
    if (x == L->code && L->int_fn) {
        /* a recursive call whose arguments are proven ints enters the int version at once */
        int ints = 1;
        for (uint32_t i = 0; i < argc; i++) ints &= sm[base + 1 + i] == M_I;
        if (ints) xfn = L->int_fn;
    }
    LLVMValueRef stub = call_stub(L, x, xfn);
    if (!stub) {
        LLVMBuildBr(L->b, generic);
        return;
    }
    next = newbb(L, "call.known");
    LLVMBuildCondBr(L->b, same, next, generic);
    at(L, next);
    set_pc(L, pc);
    LLVMValueRef *args = malloc((4 + 2 * (size_t)argc) * sizeof *args);
    if (!args) {
        LLVMBuildBr(L->b, generic);
        return;
    }
    unsigned n = 0;
    args[n++] = L->t;
    args[n++] = L->f;
    args[n++] = obj;
    for (uint32_t i = 0; i < argc; i++) {
        val v = sget(L, base + 1 + i, sm[base + 1 + i]);
        args[n++] = v.tag;
        args[n++] = v.pay;
    }
    args[n++] = L->tmpval;
    LLVMValueRef st = LLVMBuildCall2(L->b, LLVMGlobalGetValueType(stub), stub, args, n, "st");
    free(args);
    next = newbb(L, "call.pushed");
    br_rare(L, LLVMBuildICmp(L->b, LLVMIntEQ, st, c32(L, STUB_FULL), ""), generic, next);
    at(L, next);

    /* on failure the callee value stays on f's operand stack (the arguments went with the
     * callee's frame); a borrowed one is left out: it may have been freed meanwhile */
    int borrowed = (int)(L->borrowed >> base & 1);   /* only loads lend callees: never owned */
    check_status(L, st, borrowed ? base : base + 1, (int)(borrowed ? base : base + 1));
    val r = load_val_mem(L, L->tmpval, M_VAL);
    callee.mask = M_O;
    if (!borrowed) decref(L, callee);
    sset(L, base, r);
    LLVMBuildBr(L->b, done);
}

/* An alloca in the function's first block (where SROA makes it a register), from anywhere. */
static LLVMValueRef entry_alloca(lw *L, LLVMTypeRef ty, const char *name)
{
    LLVMBuilderRef b = LLVMCreateBuilderInContext(L->cx);
    LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(L->fn);
    LLVMValueRef first = LLVMGetFirstInstruction(entry);
    if (first) LLVMPositionBuilderBefore(b, first);
    else LLVMPositionBuilderAtEnd(b, entry);
    LLVMValueRef a = LLVMBuildAlloca(b, ty, name);
    LLVMDisposeBuilder(b);
    return a;
}

/* Register slot i of an inlined body (tags ts, payloads ps), typed by mask m. */
static val inline_get(lw *L, LLVMValueRef *ts, LLVMValueRef *ps, uint32_t i, uint8_t m)
{
    val v;
    v.mask = m;
    v.tag = analyze_singleton(m) ? c8(L, mask_tag(m)) : load(L, L->i8, ts[i], "it");
    v.pay = load(L, L->i64, ps[i], "ip");
    return v;
}

static void inline_set(lw *L, LLVMValueRef *ts, LLVMValueRef *ps, uint32_t i, val v)
{
    LLVMBuildStore(L->b, v.tag, ts[i]);
    LLVMBuildStore(L->b, v.pay, ps[i]);
}

/* Instruction ipc of an inlined body (plan row: locals lm, stack sm at depth d) on the slots
 * lt/lp (x's locals) and st/sp (x's operand stack); the plan proved every operand's tag, so
 * each operation has one form, and every raise goes to L->bail.  Control flow between the
 * body's blocks ibb; a RETURN branches to ret, adding its value to the phis rtag/rpay. */
static void emit_inline_instr(lw *L, const zx_code *x, uint32_t ipc, const uint8_t *lm, const uint8_t *sm,
                              uint32_t d, LLVMValueRef *lt, LLVMValueRef *lp, LLVMValueRef *st, LLVMValueRef *sp,
                              LLVMBasicBlockRef *ibb, LLVMBasicBlockRef ret, LLVMValueRef rtag, LLVMValueRef rpay)
{
    const zx_instr *in = &x->code[ipc];
    switch (in->op) {   /* analyze_inlinable: these and nothing else */
    case OP_LOAD_CONST: inline_set(L, st, sp, d, imm_const(L, x->consts[in->a])); break;
    case OP_LOAD_LOCAL: inline_set(L, st, sp, d, inline_get(L, lt, lp, in->a, lm[in->a])); break;
    case OP_STORE_LOCAL: inline_set(L, lt, lp, in->a, inline_get(L, st, sp, d - 1, sm[d - 1])); break;
    case OP_DUP: inline_set(L, st, sp, d, inline_get(L, st, sp, d - 1, sm[d - 1])); break;
    case OP_POP: case OP_NOP: break;
    case OP_NOT: {
        LLVMValueRef t = truthy(L, inline_get(L, st, sp, d - 1, sm[d - 1]));
        inline_set(L, st, sp, d - 1, mkbool(L, LLVMBuildNot(L->b, t, "")));
        break;
    }
    case OP_NEG: inline_set(L, st, sp, d - 1, num_neg(L, inline_get(L, st, sp, d - 1, sm[d - 1]), 0, 0)); break;
    case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_MOD:
    case OP_EQ: case OP_NEQ: case OP_LT: case OP_GT: case OP_LTE: case OP_GTE: {
        val a = inline_get(L, st, sp, d - 2, sm[d - 2]), b = inline_get(L, st, sp, d - 1, sm[d - 1]);
        val r = { NULL, NULL, 0 };
        if (a.mask == M_I && b.mask == M_I) {
            int_binop(L, in->op, a.pay, b.pay, 0, 0, &r);
        } else {
            /* analyze_inline_binop: numbers with a float; an int operand converts */
            LLVMValueRef fx = a.mask == M_I ? LLVMBuildSIToFP(L->b, a.pay, L->f64, "") : as_f64(L, a.pay);
            LLVMValueRef fy = b.mask == M_I ? LLVMBuildSIToFP(L->b, b.pay, L->f64, "") : as_f64(L, b.pay);
            flt_binop(L, in->op, fx, fy, 0, 0, &r);
        }
        inline_set(L, st, sp, d - 2, r);
        break;
    }
    case OP_JUMP: LLVMBuildBr(L->b, ibb[in->a]); return;
    case OP_JUMP_IF_FALSE: case OP_JUMP_IF_TRUE: {
        LLVMValueRef t = truthy(L, inline_get(L, st, sp, d - 1, sm[d - 1]));
        if (in->op == OP_JUMP_IF_FALSE) t = LLVMBuildNot(L->b, t, "");
        LLVMBuildCondBr(L->b, t, ibb[in->a], ibb[ipc + 1]);
        return;
    }
    case OP_RETURN: {
        val r = inline_get(L, st, sp, d - 1, sm[d - 1]);
        LLVMBasicBlockRef from = LLVMGetInsertBlock(L->b);
        LLVMAddIncoming(rtag, &r.tag, &from, 1);
        LLVMAddIncoming(rpay, &r.pay, &from, 1);
        LLVMBuildBr(L->b, ret);
        return;
    }
    default:
        /* analyze_inlinable admits nothing else */
        LLVMBuildBr(L->b, L->bail);
        return;
    }
    LLVMBuildBr(L->b, ibb[ipc + 1]);
}

/*
 * CALL_TOP of x with x's body inlined (plan p: analyze_inline_plan from the arguments' proven
 * tags).  The body runs only where the call would run x to its end without stopping first: the
 * callee is a closure of x (its code object, whichever module compiled it), no interrupt or
 * cancel is pending (the call would poll and maybe stop), and x's frame is within --max-depth
 * (the call would raise).  The C stack needs no check: a call refused for it (STUB_FULL) runs x
 * in the interpreter, to the same result.  Anything else, and any raise in the body, takes
 * `real`, the call with the caller's stack as it was: the body has no effect, so running x for
 * real raises with x's frame, place and stack trace.  Leaves the result in stack slot base and
 * branches to done.
 */
static void emit_inline_call(lw *L, zx_code *x, const analyze_inline *p, uint32_t pc, uint32_t d,
                             LLVMBasicBlockRef real, LLVMBasicBlockRef done)
{
    uint32_t argc = x->nparams, base = d - argc - 1;
    uint8_t *sm = st_stack(L, pc);
    val callee = sget(L, base, sm[base]);
    LLVMBasicBlockRef next;
    LLVMValueRef obj;
    LLVMValueRef code = closure_code(L, callee, real, &obj);
    LLVMValueRef ok = LLVMBuildICmp(L->b, LLVMIntEQ, code, runtime_code(L, x), "inline.same");
    ok = LLVMBuildAnd(L->b, ok, LLVMBuildNot(L->b, stop_pending(L), ""), "");
    LLVMValueRef run = load(L, L->ptr, gep(L, L->t, offsetof(zx_task, run)), "run");
    LLVMValueRef depth = LLVMBuildAdd(L->b, load(L, L->i32, gep(L, L->f, offsetof(zx_frame, depth)), "fdepth"),
                                      c32(L, 1), "depth");
    LLVMValueRef maxd = load(L, L->i32, gep(L, run, offsetof(zx_run, max_depth)), "max_depth");
    ok = LLVMBuildAnd(L->b, ok, LLVMBuildICmp(L->b, LLVMIntULE, depth, maxd, ""), "inline.ok");
    next = newbb(L, "inline.body");
    br_rare(L, LLVMBuildNot(L->b, ok, ""), real, next);
    at(L, next);

    /* x's locals and operand stack in registers; the arguments (no objects: no references) */
    uint32_t nl = p->nl, ns = p->ns, W = 1 + nl + ns;
    LLVMValueRef *slots = calloc(2 * ((size_t)nl + ns) + 1, sizeof *slots);
    LLVMBasicBlockRef *ibb = calloc(x->ncode + 1, sizeof *ibb);
    if (!slots || !ibb) {
        free(slots);
        free(ibb);
        LLVMBuildBr(L->b, real);
        return;
    }
    LLVMValueRef *lt = slots, *lp = slots + nl, *st = slots + 2 * nl, *sp = slots + 2 * nl + ns;
    for (uint32_t i = 0; i < nl; i++) {
        lt[i] = entry_alloca(L, L->i8, "inl.tag");
        lp[i] = entry_alloca(L, L->i64, "inl");
    }
    for (uint32_t s = 0; s < ns; s++) {
        st[s] = entry_alloca(L, L->i8, "ins.tag");
        sp[s] = entry_alloca(L, L->i64, "ins");
    }
    for (uint32_t i = 0; i < argc; i++) inline_set(L, lt, lp, i, sget(L, base + 1 + i, sm[base + 1 + i]));
    for (uint32_t pc2 = 0; pc2 < x->ncode; pc2++)
        if (p->state[(size_t)pc2 * W]) ibb[pc2] = newbb(L, "inline.pc");
    LLVMBuildBr(L->b, ibb[0]);
    LLVMBasicBlockRef ret = newbb(L, "inline.ret");
    at(L, ret);
    LLVMValueRef rtag = LLVMBuildPhi(L->b, L->i8, "inline.rt");
    LLVMValueRef rpay = LLVMBuildPhi(L->b, L->i64, "inline.rp");

    LLVMBasicBlockRef saved_bail = L->bail;
    L->bail = real;
    for (uint32_t ipc = 0; ipc < x->ncode; ipc++) {
        const uint8_t *row = p->state + (size_t)ipc * W;
        if (!row[0]) continue;
        at(L, ibb[ipc]);
        emit_inline_instr(L, x, ipc, row + 1, row + 1 + nl, (uint32_t)x->depth[ipc], lt, lp, st, sp, ibb, ret,
                          rtag, rpay);
    }
    L->bail = saved_bail;

    at(L, ret);
    val r = { rtag, rpay, p->result };
    if (analyze_singleton(p->result)) r.tag = c8(L, mask_tag(p->result));
    callee.mask = M_O;
    if (!(L->borrowed >> base & 1)) decref(L, callee);
    sset(L, base, r);
    LLVMBuildBr(L->b, done);
    L->inlined++;
    free(slots);
    free(ibb);
}

static void emit_call(lw *L, const zx_instr *in, uint32_t pc, uint32_t d)
{
    uint32_t argc = in->a, base = d - argc - 1;
    LLVMBasicBlockRef done = NULL;
    /* a code object with an int version runs its generic one only for unusual arguments: it
     * keeps its calls generic, which keeps the code (and the compile time) small */
    int generic_copy = L->int_fn && L->fn == L->pub_fn;
    if (L->a.callee && L->a.callee[pc] && !generic_copy) {
        zx_code *x = L->a.callee[pc];
        LLVMBasicBlockRef generic = newbb(L, "call.generic");
        done = newbb(L, "call.done");
        /* a small pure callee whose arguments' tags are proven: its body, inline */
        uint8_t *sm = st_stack(L, pc), args[INLINE_MAX_ARGS];
        analyze_inline plan;
        int known = argc <= INLINE_MAX_ARGS;
        for (uint32_t i = 0; known && i < argc; i++) {
            args[i] = sm[base + 1 + i];
            known = analyze_singleton(args[i]) && (args[i] & (M_N | M_B | M_I | M_F));
        }
        if (known && analyze_inline_plan(x, args, &plan)) {
            LLVMBasicBlockRef real = newbb(L, "call.real");
            emit_inline_call(L, x, &plan, pc, d, real, done);
            analyze_inline_free(&plan);
            at(L, real);
        }
        emit_direct_call(L, x, pc, d, generic, done);
        at(L, generic);
    }
    set_pc(L, pc);
    spill(L, base, d);
    set_sp(L, d);
    LLVMValueRef args[] = { L->t, L->f, c32(L, argc) };
    LLVMValueRef st = call(L, JIT_HELPER_call, args, 3);
    check_status(L, st, base, -1);
    reload(L, base, base + 1);
    if (done) {
        LLVMBuildBr(L->b, done);
        at(L, done);
    }
    L->borrowed &= ~(1ull << base);
}

static LLVMValueRef cell_of(lw *L, const zx_instr *in)
{
    if (in->op == OP_LOAD_CELL || in->op == OP_STORE_CELL)
        return as_ptr(L, load(L, L->i64, L->lpay[in->a], "cellp"));
    LLVMValueRef fn = load(L, L->ptr, gep(L, L->f, offsetof(zx_frame, func)), "func");
    return load(L, L->ptr, gep(L, fn, offsetof(zx_func, free) + (uint64_t)in->a * sizeof(zx_cell *)), "cell");
}

/*
 * end_pc is UINT32_MAX or the end of a chunk, and chunks are whole statements that no jump
 * enters or leaves: an instruction strictly inside a jump's span (between a forward jump and
 * its target; after a loop's head up to its back-edge: ZX_PC_SPANNED, kept by the verifier)
 * is never one.  Only the others check
 * end_pc, and a back-edge goes past its loop head's check (a chunk that ends at a loop head
 * stops there on the way in, never from inside the loop).
 */
/* Where a back-edge to pc goes: past pc's end_pc check. */
static LLVMBasicBlockRef back_target(lw *L, uint32_t pc)
{
    return L->go[pc] ? L->go[pc] : L->bb[pc];
}

/* The reference a load pushes: none when a direct call borrows the value (analyze_borrows). */
static void load_ref(lw *L, val v, uint32_t pc, uint32_t d)
{
    if (L->a.borrow && (L->a.borrow[pc] & BORROW_LOAD)) {
        L->borrowed |= 1ull << d;
        LLVMBuildStore(L->b, LLVMConstInt(L->i1, 0, 0), L->sown[d]);
    } else {
        incref(L, v);
    }
}

/* At a statement boundary: stop here when asked to (chunks end at such boundaries, never inside
 * a loop or an if, so only a jump's target can be one: see back_target). */
static void stop_check(lw *L, uint32_t pc)
{
    LLVMBasicBlockRef go = newbb(L, "");
    L->go[pc] = go;
    LLVMBuildCondBr(L->b, LLVMBuildICmp(L->b, LLVMIntEQ, L->end_pc, c32(L, pc), ""), L->stop_bb, go);
    LLVMValueRef pcv = c32(L, pc);
    LLVMBasicBlockRef from = L->bb[pc];
    LLVMAddIncoming(L->stop_pc, &pcv, &from, 1);
    at(L, go);
}

/*
 * Code that runs once.  The statements of a program's top level outside its loops run once,
 * so compiling them buys nothing and costs the most (a long top level is mostly such code).
 * In a big top level (one that is cut in pieces: lower_pieces) a run of such statements [s, e)
 * (no loop, no RETURN, no handlers in the code object, within one piece) is one call of the
 * run helper: the interpreter runs it on the frame's memory and native code goes on at e, or
 * stops there at the chunk's end.  A chunk of a parallel run may start at any statement of the
 * run (the entry goes straight to the call: the interpreter needs no guard).  Loops stay
 * compiled, and so does every smaller code object.
 */
#define ONCE_INSIDE UINT32_MAX

static bool find_once(lw *L, const uint32_t *cut, uint32_t np)
{
    zx_code *c = L->code;
    if (c->kind != ZX_CODE_MAIN || c->nhandlers || np < 2) return true;
    L->once = calloc(c->ncode + 1, sizeof *L->once);
    if (!L->once) return false;
    uint32_t j = 1;   /* the next cut */
    for (uint32_t pc = 0; pc < c->ncode;) {
        uint32_t s = pc, e = pc;
        for (uint32_t q = s; q < c->ncode;) {
            /* the statement [q, nb) */
            uint32_t nb = q + 1;
            bool ok = true;
            for (; nb < c->ncode && !(c->pcflags[nb] & ZX_PC_BOUNDARY); nb++) {}
            for (uint32_t k = q; k < nb && ok; k++)
                ok = !(c->pcflags[k] & ZX_PC_BACK_EDGE) && c->code[k].op != OP_RETURN;
            if (!ok || nb >= c->ncode) break;
            e = q = nb;
            while (j < np && cut[j] < q) j++;
            if (j < np && cut[j] == q) break;   /* a run ends at a cut */
        }
        if (e > s) {
            for (uint32_t k = s; k < e; k++) L->once[k] = (c->pcflags[k] & ZX_PC_BOUNDARY) ? e : ONCE_INSIDE;
            pc = e;
            continue;
        }
        for (pc = s + 1; pc < c->ncode && !(c->pcflags[pc] & ZX_PC_BOUNDARY); pc++) {}
    }
    return true;
}

/* The run [pc, e) of code that runs once (find_once), entered at the boundary pc: the
 * interpreter runs it up to e or to the chunk's end, whichever is first. */
static void emit_once(lw *L, uint32_t pc, uint32_t e)
{
    at(L, L->bb[pc]);
    stop_check(L, pc);
    L->steps++;
    set_pc(L, pc);
    set_sp(L, 0);
    /* end_pc > pc here (end_pc == pc stopped above; a chunk never ends before it starts) */
    LLVMValueRef inside = LLVMBuildICmp(L->b, LLVMIntULT, L->end_pc, c32(L, e), "");
    LLVMValueRef lim = LLVMBuildSelect(L->b, inside, L->end_pc, c32(L, e), "lim");
    LLVMValueRef args[] = { L->t, L->f, lim };
    check_status(L, call(L, JIT_HELPER_run, args, 3), 0, 0);
    for (uint32_t i = 0; i < L->nl; i++) lreload(L, i);
    LLVMBasicBlockRef stop = newbb(L, "once.stop");
    LLVMBuildCondBr(L->b, inside, stop, L->bb[e]);
    at(L, stop);
    LLVMBuildBr(L->b, L->stop_bb);
    LLVMAddIncoming(L->stop_pc, &lim, &stop, 1);
}

static void emit_instr(lw *L, uint32_t pc)
{
    zx_code *c = L->code;
    const zx_instr *in = &c->code[pc];
    uint32_t d = (uint32_t)L->a.depth[pc];
    uint8_t *sm = st_stack(L, pc);
    int pops, pushes;
    zx_op_stack_effect(in, &pops, &pushes);

    at(L, L->bb[pc]);
    if (d == 0 && !(c->pcflags[pc] & ZX_PC_SPANNED)) stop_check(L, pc);

    if (L->fold[pc] && L->fold[pc] != FOLDED) {
        emit_const_build(L, pc, d);
        return;
    }
    switch ((zx_opcode)in->op) {
    case OP_LOAD_CONST: {
        zx_value k = c->consts[in->a];
        val v = imm_const(L, k);
        if (k.tag == ZX_T_OBJ) {
            /* constant objects are read from the code object, never baked-in addresses */
            LLVMValueRef code = load(L, L->ptr, gep(L, L->f, offsetof(zx_frame, code)), "code");
            LLVMValueRef consts = load(L, L->ptr, gep(L, code, offsetof(zx_code, consts)), "consts");
            v.pay = load(L, L->i64, gep(L, consts, (uint64_t)in->a * sizeof(zx_value) + offsetof(zx_value, u)), "k");
            load_ref(L, v, pc, d);      /* a key of m.k is lent: the code object holds it */
        }
        sset(L, d, v);
        break;
    }
    case OP_LOAD_NAME: case OP_SHARED_READ: {
        uint8_t gm = in->a < L->ng ? st_globals(L, pc)[in->a] : M_ANY;
        val v = load_global(L, in->a, gm);
        raise_undefined_if(L, v, pc, d);
        v.mask &= M_VAL;
        load_ref(L, v, pc, d);
        sset(L, d, v);
        break;
    }
    case OP_STORE_NAME: {
        if (L->prog->globals[in->a].is_shared) {
            /* a snapshot may read it from another thread: stored under its lock (interp.c) */
            emit_step(L, pc, d, 1, 0);
            break;
        }
        uint8_t gm = in->a < L->ng ? st_globals(L, pc)[in->a] : M_ANY;
        val old = load_global(L, in->a, gm);
        store_global(L, in->a, sget(L, d - 1, sm[d - 1]), gm);
        decref(L, old);
        break;
    }
    case OP_POP: decref(L, sget(L, d - 1, sm[d - 1])); break;
    case OP_DUP: {
        val v = sget(L, d - 1, sm[d - 1]);
        incref(L, v);
        sset(L, d, v);
        break;
    }
    case OP_DUP2: {
        val a = sget(L, d - 2, sm[d - 2]), b = sget(L, d - 1, sm[d - 1]);
        incref(L, a);
        incref(L, b);
        sset(L, d, a);
        sset(L, d + 1, b);
        break;
    }
    case OP_ROT3: {
        val a = sget(L, d - 3, sm[d - 3]), b = sget(L, d - 2, sm[d - 2]), cc = sget(L, d - 1, sm[d - 1]);
        sset(L, d - 3, cc);
        sset(L, d - 2, a);
        sset(L, d - 1, b);
        break;
    }
    case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_MOD: case OP_POW:
    case OP_EQ: case OP_NEQ: case OP_LT: case OP_GT: case OP_LTE: case OP_GTE:
        emit_binop(L, in->op, pc, d);
        break;
    case OP_NEG: emit_neg(L, pc, d); break;
    case OP_NOT: {
        val a = sget(L, d - 1, sm[d - 1]);
        LLVMValueRef t = truthy(L, a);
        decref(L, a);
        sset(L, d - 1, mkbool(L, LLVMBuildNot(L->b, t, "")));
        break;
    }
    case OP_JUMP:
        if (in->a <= pc) poll(L, pc, d);
        LLVMBuildBr(L->b, in->a <= pc ? back_target(L, in->a) : L->bb[in->a]);
        return;
    case OP_JUMP_IF_FALSE: case OP_JUMP_IF_TRUE: {
        val v = sget(L, d - 1, sm[d - 1]);
        LLVMValueRef t = truthy(L, v);
        decref(L, v);
        if (in->op == OP_JUMP_IF_FALSE) t = LLVMBuildNot(L->b, t, "");
        LLVMBasicBlockRef target = L->bb[in->a];
        if (in->a <= pc) {
            LLVMBasicBlockRef back = newbb(L, "backedge");
            LLVMBuildCondBr(L->b, t, back, L->bb[pc + 1]);
            at(L, back);
            poll(L, pc, d - 1);
            LLVMBuildBr(L->b, back_target(L, in->a));
        } else {
            LLVMBuildCondBr(L->b, t, target, L->bb[pc + 1]);
        }
        return;
    }
    case OP_RETURN: {
        val r = sget(L, d - 1, sm[d - 1]);
        spill(L, 0, d - 1);
        set_sp(L, d - 1);
        set_pc(L, pc);
        LLVMBasicBlockRef give = newbb(L, "ret.give"), drop = newbb(L, "ret.drop");
        LLVMBuildCondBr(L->b, LLVMBuildIsNull(L->b, L->result, ""), drop, give);
        at(L, give);
        store_val_mem(L, L->result, r);
        LLVMBuildRet(L->b, c32(L, ZX_OK));
        at(L, drop);
        decref(L, r);
        LLVMBuildRet(L->b, c32(L, ZX_OK));
        return;
    }
    case OP_CALL_TOP: emit_call(L, in, pc, d); break;
    case OP_INDEX: emit_index(L, pc, d); break;
    case OP_GET_FIELD: emit_get_field(L, in, pc, d); break;
    case OP_LOAD_LOCAL: {
        val v = lget(L, in->a, st_locals(L, pc)[in->a]);
        raise_undefined_if(L, v, pc, d);
        v.mask &= M_VAL;
        if (analyze_singleton(v.mask)) v.tag = c8(L, mask_tag(v.mask));
        load_ref(L, v, pc, d);
        sset(L, d, v);
        break;
    }
    case OP_STORE_LOCAL: {
        val old = lget(L, in->a, st_locals(L, pc)[in->a]);
        lset(L, in->a, sget(L, d - 1, sm[d - 1]), old.mask);
        decref(L, old);
        break;
    }
    case OP_LOAD_CELL: case OP_LOAD_FREE: {
        val v = load_val_mem(L, gep(L, cell_of(L, in), offsetof(zx_cell, v)), M_ANY);
        raise_undefined_if(L, v, pc, d);
        v.mask = M_VAL;
        load_ref(L, v, pc, d);
        sset(L, d, v);
        break;
    }
    case OP_STORE_CELL: case OP_STORE_FREE: {
        LLVMValueRef cell = cell_of(L, in);
        LLVMValueRef p = gep(L, cell, offsetof(zx_cell, v));
        val old = load_val_mem(L, p, M_ANY);
        val v = sget(L, d - 1, sm[d - 1]);
        store_val_mem(L, p, v);
        decref(L, old);
        if (v.mask & M_O) {
            /* a container or closure stored in a cell may close a cycle */
            LLVMBasicBlockRef then_bb, cont_bb, note = newbb(L, "note");
            emit_if(L, is_tag(L, v, ZX_T_OBJ), &then_bb, &cont_bb);
            LLVMValueRef ty = load(L, L->i8, gep(L, as_ptr(L, v.pay), offsetof(zx_obj, type)), "");
            LLVMBuildCondBr(L->b, LLVMBuildICmp(L->b, LLVMIntNE, ty, c8(L, ZX_O_STRING), ""), note, cont_bb);
            at(L, note);
            LLVMValueRef args[] = { L->t, cell };
            call(L, JIT_HELPER_note_cycle, args, 2);
            LLVMBuildBr(L->b, cont_bb);
            at(L, cont_bb);
        }
        break;
    }
    case OP_GET_ITER:
        emit_step(L, pc, d, 1, 0);
        lreload(L, in->a);
        lreload(L, in->a + 1);
        break;
    case OP_FOR_ITER1: case OP_FOR_ITER2:
        emit_for_iter(L, in, pc, d);
        return;
    case OP_NOP: case OP_BARRIER_SYNC: case OP_JOIN_WORKERS:
        break;
    case OP_STORE_INDEX: emit_store_index(L, pc, d); break;
    case OP_CALL_BUILTIN: case OP_CALL_METHOD:
        emit_builtin_call(L, in, pc, d, (uint32_t)pops, (uint32_t)pushes);
        break;
    case OP_SHARED_WRITE: case OP_BUILD_LIST: case OP_BUILD_MAP:
    case OP_MAP_EXTEND: case OP_PRINT: case OP_MAKE_CLOSURE: case OP_ASSERT: case OP_LOAD_BUILTIN: case OP_LOAD_HOST:
    case OP_PARALLEL_MAP: case OP_FORK_EXECUTION:
    case OP_MAKE_CLASS: case OP_NEW_NAMED: case OP_REQUIRE:
        /* strings, lists, maps, output, closures, objects and the parallel opcodes: the runtime */
        emit_step(L, pc, d, (uint32_t)pops, (uint32_t)pushes);
        break;
    case OP_THROW: case OP_RERAISE:
        /* the interpreter raises; the failure goes to this function's handlers (emit_fail) */
        emit_step(L, pc, d, (uint32_t)pops, 0);
        LLVMBuildUnreachable(L->b);
        return;
    }
    LLVMBuildBr(L->b, L->bb[pc + 1]);
}

/* ---------------------------------------------------------------------------------------- */
/* The function                                                                               */
/* ---------------------------------------------------------------------------------------- */

/* Registers for locals and operand stack slots: allocas in the function's first block, where
 * SROA turns them into SSA values. */
static void emit_allocas(lw *L)
{
    zx_code *c = L->code;
    if (!L->ltag) {
        L->ltag = calloc(L->nl + 1, sizeof *L->ltag);
        L->lpay = calloc(L->nl + 1, sizeof *L->lpay);
        L->stag = calloc(L->ns + 1, sizeof *L->stag);
        L->spay = calloc(L->ns + 1, sizeof *L->spay);
    }
    for (uint32_t i = 0; i < L->nl; i++) {
        char name[48];
        snprintf(name, sizeof name, "%s.tag", c->local_names[i]);
        L->ltag[i] = LLVMBuildAlloca(L->b, L->i8, name);
        snprintf(name, sizeof name, "%s", c->local_names[i]);
        L->lpay[i] = LLVMBuildAlloca(L->b, L->i64, name);
    }
    /* the slots this function's instructions use (a piece may need fewer than the code object) */
    uint32_t ns = L->ns;
    if (L->lo > 0 || L->hi < L->code->ncode) {
        ns = 0;
        for (uint32_t pc = L->lo; pc < L->hi; pc++) {
            if (L->a.depth[pc] < 0 || L->fold[pc] == FOLDED) continue;
            int pops, pushes;
            zx_op_stack_effect(&c->code[pc], &pops, &pushes);
            uint32_t need = (uint32_t)L->a.depth[pc] + (uint32_t)(pushes > 0 ? pushes : 0) + 2;
            if (need > ns) ns = need;
        }
        if (ns > L->ns) ns = L->ns;
    }
    for (uint32_t s = 0; s < L->ns; s++) L->stag[s] = L->spay[s] = NULL;
    for (uint32_t s = 0; s < ns; s++) {
        L->stag[s] = LLVMBuildAlloca(L->b, L->i8, "s.tag");
        L->spay[s] = LLVMBuildAlloca(L->b, L->i64, "s");
    }
    L->tmpval = LLVMBuildAlloca(L->b, LLVMArrayType(L->i64, 2), "tmpval");
    LLVMSetAlignment(L->tmpval, 8);
    L->st_slot = c->nhandlers ? LLVMBuildAlloca(L->b, L->i32, "st") : NULL;
    L->catch_bb = NULL;
    if (L->a.borrow) {
        if (!L->sown) L->sown = calloc(L->ns + 1, sizeof *L->sown);
        for (uint32_t s = 0; L->sown && s < L->ns; s++) L->sown[s] = s < ns ? LLVMBuildAlloca(L->b, L->i1, "s.owned") : NULL;
    }
}

/* i1: reference counts change atomically, read once per entry into native code: the mode
 * changes only inside calls this code makes, and each such change is undone before the call
 * returns (runtime/value.c, "Reference counting modes"). */
static LLVMValueRef rc_mode(lw *L, LLVMValueRef run)
{
    LLVMValueRef rcc = load(L, L->i32, load(L, L->ptr, gep(L, run, offsetof(zx_run, rc_concurrent)), "rcc.p"), "rcc");
    LLVMSetOrdering(rcc, LLVMAtomicOrderingMonotonic);
    LLVMSetAlignment(rcc, 4);
    return LLVMBuildICmp(L->b, LLVMIntNE, rcc, c32(L, 0), "rc.atomic");
}

/* What every instruction reads of f, t and the run, and the locals, at the end of `bb`. */
static void emit_prologue(lw *L, LLVMBasicBlockRef bb)
{
    at(L, bb);
    L->locals = load(L, L->ptr, gep(L, L->f, offsetof(zx_frame, locals)), "locals");
    LLVMValueRef run = load(L, L->ptr, gep(L, L->t, offsetof(zx_task, run)), "run");
    L->code_v = load(L, L->ptr, gep(L, L->f, offsetof(zx_frame, code)), "code");
    L->globals = load(L, L->ptr, gep(L, run, offsetof(zx_run, gvar)), "gvar");
    L->interrupt_p = load(L, L->ptr, gep(L, run, offsetof(zx_run, interrupt)), "interrupt");
    L->cancel_p = gep(L, run, offsetof(zx_run, cancel));
    L->rc_atomic = rc_mode(L, run);
    for (uint32_t i = 0; i < L->nl; i++) lreload(L, i);
}

/* The end_pc exit: every depth-0 instruction may branch here (emit_instr adds the incoming). */
static void emit_stop(lw *L)
{
    L->stop_bb = newbb(L, "end_pc");
    at(L, L->stop_bb);
    L->stop_pc = LLVMBuildPhi(L->b, L->i32, "at");
    LLVMBuildStore(L->b, L->stop_pc, gep(L, L->f, offsetof(zx_frame, pc)));
    set_sp(L, 0);
    LLVMBuildRet(L->b, c32(L, ZX_OK));
}

/*
 * Entry guards as data.  Each entry checks the tag of every live variable the analysis proved
 * there; inline, that is code in proportion to entries x variables, which for a long top level
 * (a statement boundary per line, a global per `let`) grows with the square of the program.
 * Past GUARD_INLINE_MAX checks an entry calls the module's one guard function instead, with a
 * constant table of (variable, tag mask) pairs: the code stays a call per entry, the table is
 * read-only data.
 */
#define GUARD_INLINE_MAX 8

/* i1 zx.guard(ptr locals, ptr gvar, ptr table, i32 n): table holds n pairs (2*slot + is_global,
 * mask); 1 when every slot's tag is in its mask. */
static LLVMValueRef guard_fn(lw *L)
{
    LLVMValueRef fn = LLVMGetNamedFunction(L->m, "zx.guard");
    if (fn) return fn;
    LLVMTypeRef params[] = { L->ptr, L->ptr, L->ptr, L->i32 };
    fn = LLVMAddFunction(L->m, "zx.guard", LLVMFunctionType(L->i1, params, 4, 0));
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    unsigned noinline = LLVMGetEnumAttributeKindForName("noinline", 8);
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(L->cx, noinline, 0));
    LLVMBuilderRef saved = L->b;
    L->b = LLVMCreateBuilderInContext(L->cx);
    LLVMValueRef locals = LLVMGetParam(fn, 0), gvar = LLVMGetParam(fn, 1), table = LLVMGetParam(fn, 2),
                 n = LLVMGetParam(fn, 3);
    LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(L->cx, fn, "entry"),
                      loop = LLVMAppendBasicBlockInContext(L->cx, fn, "loop"),
                      glob = LLVMAppendBasicBlockInContext(L->cx, fn, "global"),
                      test = LLVMAppendBasicBlockInContext(L->cx, fn, "test"),
                      next = LLVMAppendBasicBlockInContext(L->cx, fn, "next"),
                      yes = LLVMAppendBasicBlockInContext(L->cx, fn, "yes"),
                      no = LLVMAppendBasicBlockInContext(L->cx, fn, "no");
    at(L, entry);
    LLVMBuildCondBr(L->b, LLVMBuildICmp(L->b, LLVMIntEQ, n, c32(L, 0), ""), yes, loop);
    at(L, loop);
    LLVMValueRef i = LLVMBuildPhi(L->b, L->i32, "i");
    LLVMValueRef i2 = LLVMBuildMul(L->b, i, c32(L, 2), "");
    LLVMValueRef code = load(L, L->i32, LLVMBuildGEP2(L->b, L->i32, table, &i2, 1, ""), "code");
    LLVMValueRef i21 = LLVMBuildAdd(L->b, i2, c32(L, 1), "");
    LLVMValueRef mask = load(L, L->i32, LLVMBuildGEP2(L->b, L->i32, table, &i21, 1, ""), "mask");
    LLVMValueRef slot = LLVMBuildZExt(L->b, LLVMBuildLShr(L->b, code, c32(L, 1), ""), L->i64, "slot");
    LLVMValueRef lp = gepv(L, locals, LLVMBuildMul(L->b, slot, LLVMConstInt(L->i64, sizeof(zx_value), 0), ""));
    LLVMValueRef is_g = LLVMBuildTrunc(L->b, code, L->i1, "");
    LLVMBuildCondBr(L->b, is_g, glob, test);
    at(L, glob);
    LLVMValueRef gp = load(L, L->ptr, gepv(L, gvar, LLVMBuildMul(L->b, slot, LLVMConstInt(L->i64, sizeof(zx_value *), 0), "")), "g");
    LLVMBuildBr(L->b, test);
    at(L, test);
    LLVMValueRef p = LLVMBuildPhi(L->b, L->ptr, "p");
    LLVMValueRef pv[] = { lp, gp };
    LLVMBasicBlockRef pb[] = { loop, glob };
    LLVMAddIncoming(p, pv, pb, 2);
    LLVMValueRef tag = load(L, L->i8, gep(L, p, offsetof(zx_value, tag)), "tag");
    LLVMValueRef bit = LLVMBuildShl(L->b, c32(L, 1), LLVMBuildZExt(L->b, tag, L->i32, ""), "");
    LLVMValueRef in = LLVMBuildICmp(L->b, LLVMIntNE, LLVMBuildAnd(L->b, bit, mask, ""), c32(L, 0), "");
    LLVMBuildCondBr(L->b, in, next, no);
    at(L, next);
    LLVMValueRef inext = LLVMBuildAdd(L->b, i, c32(L, 1), "");
    LLVMBuildCondBr(L->b, LLVMBuildICmp(L->b, LLVMIntULT, inext, n, ""), loop, yes);
    LLVMValueRef iv[] = { c32(L, 0), inext };
    LLVMBasicBlockRef ib[] = { entry, next };
    LLVMAddIncoming(i, iv, ib, 2);
    at(L, yes);
    LLVMBuildRet(L->b, LLVMConstInt(L->i1, 1, 0));
    at(L, no);
    LLVMBuildRet(L->b, LLVMConstInt(L->i1, 0, 0));
    LLVMDisposeBuilder(L->b);
    L->b = saved;
    return fn;
}

/* The guard of one entry through zx.guard: f->locals holds the locals (the prologue loaded the
 * registers from it), the run's table the globals. */
static LLVMValueRef guard_by_table(lw *L, const uint8_t *lm, const uint8_t *gm, const uint8_t *lv, uint32_t n)
{
    LLVMValueRef *pairs = malloc((size_t)n * 2 * sizeof *pairs);
    if (!pairs) {
        L->bad_helper = "zx.guard (out of memory)";
        return LLVMConstInt(L->i1, 0, 0);
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < L->nl + L->ng && k < n; i++) {
        uint8_t m = i < L->nl ? lm[i] : gm[i - L->nl];
        if (m == M_ANY || !lv[i]) continue;
        uint32_t code = i < L->nl ? 2 * i : 2 * (i - L->nl) + 1;
        pairs[2 * k] = c32(L, code);
        pairs[2 * k + 1] = c32(L, m);
        k++;
    }
    LLVMValueRef init = LLVMConstArray2(L->i32, pairs, 2 * (uint64_t)k);
    free(pairs);
    LLVMValueRef table = LLVMAddGlobal(L->m, LLVMTypeOf(init), "guard");
    LLVMSetInitializer(table, init);
    LLVMSetGlobalConstant(table, 1);
    LLVMSetLinkage(table, LLVMPrivateLinkage);
    LLVMSetUnnamedAddress(table, LLVMGlobalUnnamedAddr);
    LLVMValueRef fn = guard_fn(L);
    LLVMValueRef args[] = { L->locals, L->globals, table, c32(L, k) };
    return LLVMBuildCall2(L->b, LLVMGlobalGetValueType(fn), fn, args, 4, "guard");
}

/* A tail call of the next piece with this function's arguments (f->pc says where it enters). */
static LLVMValueRef call_next_piece(lw *L)
{
    LLVMValueRef args[] = { L->t, L->f, L->end_pc, L->result };
    LLVMValueRef r = LLVMBuildCall2(L->b, LLVMGlobalGetValueType(L->next_fn), L->next_fn, args, 4, "");
    LLVMSetTailCall(r, 1);
    return r;
}

static void emit_entry(lw *L, LLVMBasicBlockRef entry, zx_jit_code_stats *stats)
{
    zx_code *c = L->code;
    at(L, entry);
    emit_allocas(L);
    if (L->int_fn) {
        /* a call (pc 0, to its end) with every argument an int runs the int version (a tail call) */
        LLVMBasicBlockRef check = newbb(L, "entry.call"), ints = newbb(L, "entry.ints"), rest = newbb(L, "entry.any");
        LLVMValueRef pcv = load(L, L->i32, gep(L, L->f, offsetof(zx_frame, pc)), "pc");
        LLVMValueRef is_call = LLVMBuildAnd(L->b, LLVMBuildICmp(L->b, LLVMIntEQ, pcv, c32(L, 0), ""),
                                            LLVMBuildICmp(L->b, LLVMIntEQ, L->end_pc, c32(L, UINT32_MAX), ""), "");
        LLVMBuildCondBr(L->b, is_call, check, rest);
        at(L, check);
        LLVMValueRef locals = load(L, L->ptr, gep(L, L->f, offsetof(zx_frame, locals)), "locals");
        LLVMValueRef all = LLVMConstInt(L->i1, 1, 0);
        for (uint32_t i = 0; i < c->nparams; i++) {
            LLVMValueRef tag = load(L, L->i8, gep(L, locals, (uint64_t)i * sizeof(zx_value) + offsetof(zx_value, tag)), "");
            all = LLVMBuildAnd(L->b, all, LLVMBuildICmp(L->b, LLVMIntEQ, tag, c8(L, ZX_T_INT), ""), "");
        }
        /* and the globals the int analysis took from a guess (analyze.c, guess_globals) */
        LLVMValueRef gvar = NULL;
        for (uint32_t g = 0; g < L->ng; g++) {
            uint8_t m = L->a.int_state[L->nl + g];
            if (m == M_ANY || !L->a.live[L->nl + g]) continue;
            if (!gvar) {
                LLVMValueRef run = load(L, L->ptr, gep(L, L->t, offsetof(zx_task, run)), "run");
                gvar = load(L, L->ptr, gep(L, run, offsetof(zx_run, gvar)), "gvar");
            }
            LLVMValueRef gp = load(L, L->ptr, gep(L, gvar, (uint64_t)g * sizeof(zx_value *)), "gslot");
            LLVMValueRef tag = load(L, L->i8, gep(L, gp, offsetof(zx_value, tag)), "gtag");
            LLVMValueRef bit = LLVMBuildShl(L->b, c32(L, 1), LLVMBuildZExt(L->b, tag, L->i32, ""), "");
            all = LLVMBuildAnd(L->b, all, LLVMBuildICmp(L->b, LLVMIntNE, LLVMBuildAnd(L->b, bit, c32(L, m), ""),
                                                        c32(L, 0), ""), "");
        }
        LLVMBuildCondBr(L->b, all, ints, rest);
        at(L, ints);
        LLVMValueRef args[] = { L->t, L->f, L->end_pc, L->result };
        LLVMValueRef r = LLVMBuildCall2(L->b, LLVMGlobalGetValueType(L->int_fn), L->int_fn, args, 4, "");
        LLVMSetTailCall(r, 1);
        LLVMBuildRet(L->b, r);
        entry = rest;
    }
    emit_prologue(L, entry);
    LLVMValueRef pc0 = load(L, L->i32, gep(L, L->f, offsetof(zx_frame, pc)), "pc");

    L->exit_bb = newbb(L, "side_exit");   /* a failed entry guard */
    LLVMBasicBlockRef no_entry = newbb(L, "no_entry");
    uint32_t nentries = 0;
    for (uint32_t pc = L->lo; pc < L->hi; pc++) nentries += L->a.depth[pc] == 0;
    LLVMValueRef sw = LLVMBuildSwitch(L->b, pc0, no_entry, nentries);
    for (uint32_t pc = L->lo; pc < L->hi; pc++) {
        if (L->a.depth[pc] != 0 || (L->once && L->once[pc] == ONCE_INSIDE)) continue;
        if (L->once && L->once[pc]) {
            LLVMAddCase(sw, c32(L, pc), L->bb[pc]);   /* the interpreter runs it: no guard */
            stats->entries++;
            continue;
        }
        char name[48];
        snprintf(name, sizeof name, "guard.pc%u", pc);
        LLVMBasicBlockRef g = newbb(L, name);
        LLVMAddCase(sw, c32(L, pc), g);
        at(L, g);
        /* the tags the analysis proved here must hold, or the interpreter runs the frame */
        LLVMValueRef ok = LLVMConstInt(L->i1, 1, 0);
        const uint8_t *lm = st_locals(L, pc), *gm = st_globals(L, pc);
        const uint8_t *lv = L->a.live + (size_t)pc * (L->nl + L->ng);
        uint32_t nchecks = 0;
        for (uint32_t i = 0; i < L->nl + L->ng; i++) {
            uint8_t m = i < L->nl ? lm[i] : gm[i - L->nl];
            nchecks += m != M_ANY && lv[i];
        }
        if (nchecks > GUARD_INLINE_MAX) {
            ok = guard_by_table(L, lm, gm, lv, nchecks);
            nchecks = 0;
        }
        for (uint32_t i = 0; i < L->nl + L->ng && nchecks; i++) {
            uint8_t m = i < L->nl ? lm[i] : gm[i - L->nl];
            if (m == M_ANY || !lv[i]) continue;
            LLVMValueRef tag = i < L->nl ? load(L, L->i8, L->ltag[i], "")
                                         : load(L, L->i8, global_ptr(L, i - L->nl), "gtag");
            if (i >= L->nl) tbaa_global(L, tag, i - L->nl);
            LLVMValueRef bit = LLVMBuildShl(L->b, c32(L, 1), LLVMBuildZExt(L->b, tag, L->i32, ""), "");
            LLVMValueRef in = LLVMBuildICmp(L->b, LLVMIntNE, LLVMBuildAnd(L->b, bit, c32(L, m), ""), c32(L, 0), "");
            ok = LLVMBuildAnd(L->b, ok, in, "");
        }
        LLVMBasicBlockRef pass = newbb(L, "");
        br_rare(L, LLVMBuildNot(L->b, ok, ""), L->exit_bb, pass);
        at(L, pass);
        LLVMBuildBr(L->b, L->bb[pc]);
        stats->entries++;
    }
    /* end_pc reached at a statement boundary: the frame is already in memory */
    emit_stop(L);
    /* both side exits name their reason, which --stats counts per instruction */
    at(L, L->exit_bb);
    LLVMValueRef args[] = { L->t, L->f, L->end_pc, L->result, c32(L, JIT_EXIT_GUARD) };
    LLVMBuildRet(L->b, call(L, JIT_HELPER_exit, args, 5));
    at(L, no_entry);
    if (L->next_fn) {
        /* an entry further on: the next piece's (pieces never enter earlier ones) */
        LLVMBuildRet(L->b, call_next_piece(L));
        return;
    }
    args[4] = c32(L, JIT_EXIT_NO_ENTRY);
    LLVMBuildRet(L->b, call(L, JIT_HELPER_exit, args, 5));
}

/*
 * Big code objects in pieces.  Code generation holds a function's machine code whole while it
 * works on it (for a long top level, hundreds of MB: it grows with the function), so a code
 * object of more than 2 x PIECE_CODE instructions is lowered as a chain of functions of about
 * PIECE_CODE instructions each, cut at statement boundaries (where the operand stack is empty,
 * no jump crosses and the frame is in memory).  A piece that reaches its end, or is entered at
 * a later instruction, tail-calls the next one; the first is the code object's function.
 * Code with handlers (a handler's target may lie in another piece) or an int version is not
 * cut.  The pieces share the code object's analysis; the engine's optimisation bound counts
 * all of them (attribute "zexus-code-insts").
 */
#define PIECE_CODE 1000

/* The cuts: cut[0] = 0 < cut[1] < ... < cut[*np] = ncode.  Sizes count the instructions that
 * are lowered one by one (a literal's constants folded into data count as nothing). */
static uint32_t *piece_cuts(lw *L, uint32_t *np)
{
    zx_code *c = L->code;
    uint32_t total = 0;
    for (uint32_t pc = 0; pc < c->ncode; pc++) total += L->a.depth[pc] >= 0 && L->fold[pc] != FOLDED;
    int split = !L->a.int_state && !c->nhandlers && total > 2 * PIECE_CODE;
    uint32_t *cut = malloc(((size_t)(split ? total / PIECE_CODE : 0) + 2) * sizeof *cut);
    if (!cut) return NULL;
    cut[0] = 0;
    *np = 1;
    for (uint32_t pc = 0, size = 0; split && pc < c->ncode; pc++) {
        if (size >= PIECE_CODE && (c->pcflags[pc] & ZX_PC_BOUNDARY) && L->a.depth[pc] == 0) {
            cut[(*np)++] = pc;
            size = 0;
        }
        size += L->a.depth[pc] >= 0 && L->fold[pc] != FOLDED;
    }
    cut[*np] = c->ncode;
    return cut;
}

LLVMValueRef lower_code(LLVMModuleRef m, zx_program *prog, zx_code *code, const char *fname,
                        zx_code *const *batch, size_t nbatch, zx_jit_code_stats *stats, char *err,
                        size_t errsz)
{
    lw L;
    memset(&L, 0, sizeof L);
    L.m = m;
    L.cx = LLVMGetModuleContext(m);
    L.prog = prog;
    L.code = code;
    L.i1 = LLVMInt1TypeInContext(L.cx);
    L.i8 = LLVMInt8TypeInContext(L.cx);
    L.i32 = LLVMInt32TypeInContext(L.cx);
    L.i64 = LLVMInt64TypeInContext(L.cx);
    L.f64 = LLVMDoubleTypeInContext(L.cx);
    L.ptr = LLVMPointerTypeInContext(L.cx, 0);
    L.vd = LLVMVoidTypeInContext(L.cx);
    analyze_init(&L.a, prog, code);
    L.nl = L.a.nl;
    L.ng = L.a.ng;
    L.ns = L.a.ns;
    L.W = L.a.W;
    L.batch = batch;
    L.nbatch = nbatch;
    L.borrowed = 0;
    LLVMValueRef fn = NULL;
    if (!analyze_types(&L.a, M_VAL, err, errsz)) goto done;
    L.go = calloc(code->ncode + 1, sizeof *L.go);
    if (!L.go || !analyze_liveness(&L.a) || !analyze_callees(&L.a, batch, nbatch) || !analyze_borrows(&L.a) ||
        !fold_literals(&L) || !find_const_keys(&L)) {
        snprintf(err, errsz, "out of memory");
        goto done;
    }
    analyze_int_version(&L.a);
    uint32_t last = code->ncode - 1;
    if (L.a.depth[last] >= 0 && code->code[last].op != OP_RETURN && code->code[last].op != OP_JUMP) {
        snprintf(err, errsz, "%s: falls off the end at pc %u", code->name, last);
        goto done;
    }

    /* the function other code objects of the batch may already call directly, renamed */
    int in_batch = 0;
    for (size_t i = 0; i < nbatch; i++) in_batch |= batch[i] == code;
    if (in_batch) {
        fn = code_fn(&L, code);
        LLVMSetValueName2(fn, fname, strlen(fname));
    } else {
        LLVMTypeRef params[] = { L.ptr, L.ptr, L.i32, L.ptr };
        fn = LLVMAddFunction(m, fname, LLVMFunctionType(L.i32, params, 4, 0));
    }
    L.fn = fn;
    L.pub_fn = fn;
    L.b = LLVMCreateBuilderInContext(L.cx);
    L.bb = calloc(code->ncode + 1, sizeof *L.bb);
    uint32_t np = 0;
    uint32_t *cut = piece_cuts(&L, &np);
    LLVMValueRef *pfn = calloc(np ? np : 1, sizeof *pfn);
    if (!L.bb || !cut || !pfn || !find_once(&L, cut, np)) {
        snprintf(err, errsz, "out of memory");
        free(cut);
        free(pfn);
        fn = NULL;
        goto done;
    }
    pfn[0] = fn;
    for (uint32_t j = 1; j < np; j++) {
        char name[512];
        snprintf(name, sizeof name, "%s (piece %u)", fname, j);
        pfn[j] = LLVMAddFunction(m, name, LLVMGlobalGetValueType(fn));
        LLVMSetLinkage(pfn[j], LLVMInternalLinkage);
    }
    if (L.a.int_state && np == 1) {
        char name[512];
        snprintf(name, sizeof name, "%s (int arguments)", fname);
        L.int_fn = LLVMAddFunction(m, name, LLVMGlobalGetValueType(fn));
        LLVMSetLinkage(L.int_fn, LLVMInternalLinkage);
    }
    for (uint32_t j = 0; j < np; j++) {
        L.lo = cut[j];
        L.hi = cut[j + 1];
        L.fn = pfn[j];
        L.next_fn = j + 1 < np ? pfn[j + 1] : NULL;
        /* code that loops: the engine's optimisation bound is higher for it (engine.c) */
        for (uint32_t pc = L.lo; pc < L.hi; pc++)
            if (code->pcflags[pc] & ZX_PC_BACK_EDGE) {
                LLVMAddAttributeAtIndex(L.fn, LLVMAttributeFunctionIndex,
                                        LLVMCreateStringAttribute(L.cx, "zexus-loops", 11, "1", 1));
                break;
            }
        L.t = LLVMGetParam(L.fn, 0);
        L.f = LLVMGetParam(L.fn, 1);
        L.end_pc = LLVMGetParam(L.fn, 2);
        L.result = LLVMGetParam(L.fn, 3);
        LLVMSetValueName2(L.t, "t", 1);
        LLVMSetValueName2(L.f, "f", 1);
        LLVMSetValueName2(L.end_pc, "end_pc", 6);
        LLVMSetValueName2(L.result, "result", 6);
        memset(L.bb, 0, (code->ncode + 1) * sizeof *L.bb);
        memset(L.go, 0, (code->ncode + 1) * sizeof *L.go);
        L.borrowed = 0;
        L.exit_bb = NULL;
        LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(L.cx, L.fn, "entry");
        /* blocks are named after their instruction and source line: --dump-ir reads like the source */
        for (uint32_t pc = L.lo; pc < L.hi; pc++) {
            if (L.a.depth[pc] < 0 || L.fold[pc] == FOLDED || (L.once && L.once[pc] == ONCE_INSIDE)) continue;
            char name[64];
            snprintf(name, sizeof name, "pc%u.line%u.%s", pc, code->positions[pc].line, analyze_op_name(code->code[pc].op));
            L.bb[pc] = LLVMAppendBasicBlockInContext(L.cx, L.fn, name);
        }
        if (L.next_fn) L.bb[L.hi] = LLVMAppendBasicBlockInContext(L.cx, L.fn, "next_piece");
        emit_entry(&L, entry, stats);
        for (uint32_t pc = L.lo; pc < L.hi; pc++) {
            if (L.a.depth[pc] < 0 || L.fold[pc] == FOLDED) continue;
            if (!L.once || !L.once[pc]) emit_instr(&L, pc);
            else if (L.once[pc] != ONCE_INSIDE) emit_once(&L, pc, L.once[pc]);
        }
        if (L.next_fn) {
            /* the end of this piece is a statement boundary: the frame is in memory */
            at(&L, L.bb[L.hi]);
            set_pc(&L, L.hi);
            LLVMBuildRet(L.b, call_next_piece(&L));
        }
    }
    if (np > 1) {
        /* the engine bounds the optimiser by the size of the code object, not of one piece */
        uint64_t total = 0;
        for (uint32_t j = 0; j < np; j++)
            for (LLVMBasicBlockRef b = LLVMGetFirstBasicBlock(pfn[j]); b; b = LLVMGetNextBasicBlock(b))
                for (LLVMValueRef i = LLVMGetFirstInstruction(b); i; i = LLVMGetNextInstruction(i)) total++;
        char v[32];
        snprintf(v, sizeof v, "%llu", (unsigned long long)total);
        for (uint32_t j = 0; j < np; j++)
            LLVMAddAttributeAtIndex(pfn[j], LLVMAttributeFunctionIndex,
                                    LLVMCreateStringAttribute(L.cx, "zexus-code-insts", 16, v, (unsigned)strlen(v)));
    }
    free(cut);
    free(pfn);
    L.lo = 0;
    L.hi = code->ncode;
    L.next_fn = NULL;
    L.fn = fn;
    stats->helper_ops = L.steps;
    if (L.int_fn) {
        /* the same instructions again, typed by the int analysis, as a function of their own
         * (entered at pc 0 only), so that register allocation sees only the int paths */
        uint8_t *generic = L.a.state;
        L.a.state = L.a.int_state;
        L.fn = L.int_fn;
        L.t = LLVMGetParam(L.fn, 0);
        L.f = LLVMGetParam(L.fn, 1);
        L.end_pc = c32(&L, UINT32_MAX);      /* entered by calls only: runs to its RETURN */
        L.result = LLVMGetParam(L.fn, 3);
        LLVMBasicBlockRef ientry = LLVMAppendBasicBlockInContext(L.cx, L.fn, "entry");
        for (uint32_t pc = 0; pc < code->ncode; pc++) {
            if (L.a.depth[pc] < 0 || L.fold[pc] == FOLDED) continue;
            char name[64];
            snprintf(name, sizeof name, "pc%u.line%u.%s", pc, code->positions[pc].line, analyze_op_name(code->code[pc].op));
            L.bb[pc] = LLVMAppendBasicBlockInContext(L.cx, L.fn, name);
        }
        at(&L, ientry);
        emit_allocas(&L);
        emit_prologue(&L, ientry);
        LLVMBuildBr(L.b, L.bb[0]);
        emit_stop(&L);
        L.exit_bb = NULL;
        L.borrowed = 0;
        memset(L.go, 0, (code->ncode + 1) * sizeof *L.go);
        for (uint32_t pc = 0; pc < code->ncode; pc++)
            if (L.a.depth[pc] >= 0 && L.fold[pc] != FOLDED) emit_instr(&L, pc);
        L.a.state = generic;
    }
    stats->inlined = L.inlined;
    if (L.bad_helper) {
        snprintf(err, errsz, "%s: %s called against its row in jit/helper_abi.h", code->name, L.bad_helper);
        fn = NULL;
    }
done:
    if (L.b) LLVMDisposeBuilder(L.b);
    free(L.bb);
    free(L.ltag);
    free(L.lpay);
    free(L.stag);
    free(L.spay);
    analyze_free(&L.a);
    free(L.sown);
    free(L.go);
    free(L.fold);
    free(L.ckey);
    free(L.ic);
    free(L.fic);
    free(L.once);
    return fn;
}
