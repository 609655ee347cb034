/* jit_helpers.c — the runtime helpers that JIT-compiled code calls by name (jit/lower.c). */
#include <string.h>

#include "runtime/arith.h"
#include "exec/interp_ops.h"
#include "runtime/object.h"
#include "jit/helper_abi.h"
#include "jit/jit.h"

/*
 * Conventions shared with jit/lower.c (each helper's signature is its row in jit/helper_abi.h):
 *  - Native code stores f->pc (the instruction being executed) before every call here, so
 *    errors name the right place and stack traces through callers are right.
 *  - "Memory-stack" helpers (step, call, for_iter) work on the frame exactly as the
 *    interpreter does: their operands are in f->locals[nlocals..] below f->sp, and on success
 *    they leave their results there.  On failure f->sp is where the interpreter would have
 *    left it.
 *  - Value helpers take values as (tag, payload) pairs, borrowed, and return new references
 *    through an out-pointer.
 */

static zx_value mkval(uint32_t tag, int64_t pay)
{
    zx_value v;
    memset(&v, 0, sizeof v);
    v.tag = (uint8_t)tag;
    v.u.i = pay;
    return v;
}

static bool stop_requested(zx_task *t)
{
    return zx_task_should_stop(t);
}

/* Run the one instruction at f->pc in the interpreter (the general case of most opcodes). */
static zx_status jit_helper_step(zx_task *t, zx_frame *f)
{
    return zx_interp_step(t, f, f->pc + 1);
}

/* Statements of code that runs once, from f->pc to end (lower.c, "Code that runs once"). */
static zx_status jit_helper_run(zx_task *t, zx_frame *f, uint32_t end)
{
    return zx_interp_step(t, f, end);
}

/* A builtin or method call at f->pc: the interpreter's own code for it, called directly (the
 * loop's entry is most of a step's cost); a method of an instance is a frame: stepped. */
static zx_status jit_helper_builtin_op(zx_task *t, zx_frame *f)
{
    zx_status st;
    if (zx_interp_builtin_op(t, f, &st)) return st;
    return zx_interp_step(t, f, f->pc + 1);
}

/* An error at f->pc in code with a handler table: the handler that catches it (zx_task_catch:
 * f's memory stack unwound, the error's text and value pushed), its target returned; or
 * UINT32_MAX, and the error stays, when none does. */
static uint32_t jit_helper_catch(zx_task *t, zx_frame *f)
{
    return zx_task_catch(t, f) ? f->pc : UINT32_MAX;
}

/* Side exit: the interpreter finishes the frame from f->pc (everything written back).
 * reason is a JIT_EXIT_*; the count per instruction is for --stats. */
static zx_status jit_helper_exit(zx_task *t, zx_frame *f, uint32_t end_pc, zx_value *result, uint32_t reason)
{
    zx_jit_info *info = atomic_load_explicit(&f->code->jit_info, memory_order_acquire);
    if (info && reason < JIT_EXIT_REASONS && f->pc < info->ncode)
        atomic_fetch_add_explicit(&info->exits[(size_t)reason * info->ncode + f->pc], 1, memory_order_relaxed);
    f->is_base = ZX_FRAME_NO_OSR;
    return zx_interp_run(t, f, end_pc, result);
}

/* a OP b for every case the inline fast paths do not cover. */
static zx_status jit_helper_binop(zx_task *t, zx_frame *f, uint32_t op, uint32_t atag, int64_t apay,
                                  uint32_t btag, int64_t bpay, zx_value *out)
{
    zx_error err;
    if (!zx_binop(t->run->heap, (zx_arith_op)op, mkval(atag, apay), mkval(btag, bpay), out, &err))
        return zx_task_raise_error(t, f, &err);
    return ZX_OK;
}

/* Raise row id of runtime/errors.h: the lowering raises only rows whose message takes no
 * arguments (overflow, division by zero, the call depth limit). */
static zx_status jit_helper_raise(zx_task *t, zx_frame *f, uint32_t id)
{
    return zx_task_raise_err(t, f, (zx_err)id);
}

static zx_status jit_helper_undefined(zx_task *t, zx_frame *f)
{
    return zx_interp_raise_undefined(t, f);
}

/* A poll found the interrupt flag or the run's cancel hint set: ZX_OK (go on) unless this task
 * must really stop (the hint is set once any piece of parallel work failed, anywhere). */
static zx_status jit_helper_stop(zx_task *t, zx_frame *f)
{
    if (!zx_task_should_stop(t)) return ZX_OK;
    return zx_interp_stop_status(t, f);
}

/* CALL_TOP with argc arguments: [callee, args...] on the memory stack -> [result]. */
static zx_status jit_helper_call(zx_task *t, zx_frame *f, uint32_t argc)
{
    zx_value *argv = f->sp - argc;
    if (stop_requested(t)) return zx_interp_stop_status(t, f);
    zx_value r;
    zx_status st = zx_interp_call(t, f, argv[-1], argv, argc, &r);
    if (st != ZX_OK) return st;
    for (uint32_t i = 0; i <= argc; i++) zx_decref(argv[(int)i - 1]);
    f->sp -= argc + 1;
    *f->sp++ = r;
    return ZX_OK;
}

/* FOR_ITER1/2 on the iterable in local `slot` (a list or a map): pushes the next element
 * (index or key first for FOR_ITER2) and returns 1, or returns 0 when exhausted. */
static int32_t jit_helper_for_iter(zx_task *t, zx_frame *f, uint32_t slot, uint32_t two)
{
    (void)t;
    zx_value it = f->locals[slot];
    int64_t i = f->locals[slot + 1].u.i;
    if (zx_is_type(it, ZX_O_LIST)) {
        zx_list *l = ZX_AS_LIST(it);
        if (i >= (int64_t)l->len) return 0;
        if (two) *f->sp++ = zx_int(i);
        zx_value e = zx_list_get(l, (uint32_t)i);
        zx_incref(e);
        *f->sp++ = e;
    } else {
        zx_map *m = ZX_AS_MAP(it);
        if (i >= (int64_t)m->len) return 0;
        zx_incref(m->entries[i].key);
        *f->sp++ = m->entries[i].key;
        if (two) {
            zx_incref(m->entries[i].value);
            *f->sp++ = m->entries[i].value;
        }
    }
    f->locals[slot + 1].u.i = i + 1;
    return 1;
}

/* obj[key], borrowed operands, for what the inline list path does not cover. */
static zx_status jit_helper_index(zx_task *t, zx_frame *f, uint32_t otag, int64_t opay, uint32_t ktag,
                                  int64_t kpay, zx_value *out)
{
    return zx_interp_index_get(t, f, mkval(otag, opay), mkval(ktag, kpay), out);
}

/* GET_FIELD's general case: obj.name (name = consts[k]) as INDEX does it, borrowed operand.
 * When obj is an instance and name one of its class's fields, *cache becomes (class id << 16
 * | slot), which the compiled fast path compares with the instance's class: one 64-bit word,
 * so a reader never sees one class's id with another's slot. */
/* The field cache of an instruction (jit/lower.c, inst_ic_slot): class id << 16 | slot of
 * declared field `key` of obj's class, when obj is an instance with such a field.  Stores
 * cache no data class: assignment to their fields is ignored, never a store to the slot. */
static void field_remember(zx_value obj, zx_value key, _Atomic uint64_t *cache, bool store)
{
    if (!cache || !zx_is_type(obj, ZX_O_INST) || !zx_is_type(key, ZX_O_STRING)) return;
    zx_class *cls = ZX_AS_INST(obj)->cls;
    if (store && cls->kind == ZX_CLASS_DATA) return;
    int slot = zx_class_field(cls, ZX_AS_STRING(key));
    if (slot >= 0 && slot < 0xffff && cls->id)
        atomic_store_explicit(cache, cls->id << 16 | (uint64_t)slot, memory_order_relaxed);
}

static zx_status jit_helper_field(zx_task *t, zx_frame *f, uint32_t otag, int64_t opay, uint32_t k,
                                  _Atomic uint64_t *cache, zx_value *out)
{
    zx_value obj = mkval(otag, opay), key = f->code->consts[k];
    zx_status st = zx_interp_index_get(t, f, obj, key, out);
    if (st == ZX_OK) field_remember(obj, key, cache, false);
    return st;
}

static void jit_helper_note_cycle(zx_task *t, zx_obj *o)
{
    zx_heap_note_cycle_candidate(t->run->heap, o);
}

static void jit_helper_obj_free(zx_obj *o)
{
    zx_obj_free(o);
}

/* A literal as data (jit/lower.c, fold_literals): the n LOAD_CONSTs of constants table[0..n)
 * that precede the BUILD_LIST/BUILD_MAP at build_pc, then that build, as the interpreter runs
 * them (the stack has room: the verifier sized it for the instructions themselves). */
static zx_status jit_helper_build_consts(zx_task *t, zx_frame *f, const uint32_t *table, uint32_t n,
                                         uint32_t build_pc)
{
    const zx_value *consts = f->code->consts;
    for (uint32_t i = 0; i < n; i++) {
        zx_value v = consts[table[i]];
        zx_incref(v);
        *f->sp++ = v;
    }
    f->pc = build_pc;
    return zx_interp_step(t, f, build_pc + 1);
}

/* The inline caches of `m.k` (jit/lower.c, emit_index and emit_store_index): the position of
 * key in map m's entries, where the next look-up at that site tries first.  A guess only:
 * compiled code checks it (in range, the very key object) before it uses it. */
static void ic_remember(zx_map *m, zx_value key, uint32_t *ic)
{
    zx_value *v = zx_map_get(m, key);
    if (!v) return;
    size_t e = (size_t)((char *)v - (char *)m->entries) / sizeof(zx_map_entry);
    __atomic_store_n(ic, (uint32_t)e, __ATOMIC_RELAXED);
}

/* obj[key] for a constant string key where the inline cache missed. */
static zx_status jit_helper_index_ic(zx_task *t, zx_frame *f, uint32_t otag, int64_t opay, zx_string *key,
                                     uint32_t *ic, _Atomic uint64_t *fcache, zx_value *out)
{
    zx_value obj = mkval(otag, opay);
    zx_status st = zx_interp_index_get(t, f, obj, zx_objval(key), out);
    if (st == ZX_OK && zx_is_type(obj, ZX_O_MAP)) ic_remember(ZX_AS_MAP(obj), zx_objval(key), ic);
    if (st == ZX_OK) field_remember(obj, zx_objval(key), fcache, false);
    return st;
}

/* STORE_INDEX as the interpreter runs it, [obj, key, v] on f's memory stack: the general case
 * of the inline list and map stores. */
static zx_status jit_helper_store_index(zx_task *t, zx_frame *f, uint32_t *ic, _Atomic uint64_t *fcache)
{
    zx_value v = f->sp[-1], key = f->sp[-2], obj = f->sp[-3];
    zx_status st = zx_interp_index_set(t, f, obj, key, v);
    if (st != ZX_OK) return st;
    if (ic && zx_is_type(obj, ZX_O_MAP)) ic_remember(ZX_AS_MAP(obj), key, ic);
    field_remember(obj, key, fcache, true);
    zx_decref(v);
    zx_decref(key);
    zx_decref(obj);
    f->sp -= 3;
    return ZX_OK;
}

/* The table handed to the JIT module (jit/helper_abi.h): generated code names these, never
 * addresses. */
const zx_jit_symbol zx_jit_helpers[] = {
#define JIT_HELPER_SYMBOL(name, ret, params) { "jit_helper_" #name, (void *)jit_helper_##name },
    JIT_HELPERS(JIT_HELPER_SYMBOL)
#undef JIT_HELPER_SYMBOL
};
const size_t zx_jit_nhelpers = sizeof zx_jit_helpers / sizeof zx_jit_helpers[0];
_Static_assert(sizeof zx_jit_helpers / sizeof zx_jit_helpers[0] == JIT_NHELPERS, "one symbol per helper row");
