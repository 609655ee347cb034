/* helper_abi.h — the runtime helpers that generated code calls, declared once for both sides. */
#ifndef JIT_HELPER_ABI_H
#define JIT_HELPER_ABI_H

#include <stdint.h>

#include "runtime/errors.h"

/*
 * One row per helper: JIT_HELPER(name, return type, (parameter types)).  libzexus makes its
 * table of jit_helper_<name> addresses from it (jit/host/jit_helpers.c), the module the LLVM
 * function type of every call (jit/lower.c), and the text of the rows (with the error ids
 * that raise takes) is the helper ABI that the loader compares (jit_helper_abi_hash): a helper
 * whose signature changes on one side only is refused at load time, never called with the
 * wrong arguments.
 *
 * Types: void (returns only), i32 (uint32_t, int32_t, zx_status), i64 (int64_t), f64 (double),
 * ptr (any pointer).  The C definitions in jit_helpers.c must agree with their row.
 */
#define JIT_HELPERS(JIT_HELPER)                                                            \
    /* the interpreter runs the instruction at f->pc: (t, f) */                            \
    JIT_HELPER(step, i32, (ptr, ptr))                                                      \
    /* the interpreter runs from f->pc up to pc end, whole statements: (t, f, end) */       \
    JIT_HELPER(run, i32, (ptr, ptr, i32))                                                  \
    /* CALL_BUILTIN/CALL_METHOD at f->pc, as step runs it, without the loop: (t, f) */      \
    JIT_HELPER(builtin_op, i32, (ptr, ptr))                                                \
    /* side exit: the interpreter finishes the frame: (t, f, end_pc, result, JIT_EXIT_*) */ \
    JIT_HELPER(exit, i32, (ptr, ptr, i32, ptr, i32))                                       \
    /* a OP b, the general case: (t, f, op, atag, apay, btag, bpay, out) */                 \
    JIT_HELPER(binop, i32, (ptr, ptr, i32, i32, i64, i32, i64, ptr))                       \
    /* raise row id of runtime/errors.h, a message without arguments: (t, f, zx_err id) */ \
    JIT_HELPER(raise, i32, (ptr, ptr, i32))                                                \
    /* raise the undefined-variable error of the instruction at f->pc: (t, f) */           \
    JIT_HELPER(undefined, i32, (ptr, ptr))                                                 \
    /* a poll saw a flag: ZX_OK to go on, or why this task stops: (t, f) */                \
    JIT_HELPER(stop, i32, (ptr, ptr))                                                      \
    /* CALL_TOP on f's memory stack: (t, f, argc) */                                       \
    JIT_HELPER(call, i32, (ptr, ptr, i32))                                                 \
    /* FOR_ITER1/2 on a map: 1 pushed, 0 exhausted: (t, f, slot, two) */                   \
    JIT_HELPER(for_iter, i32, (ptr, ptr, i32, i32))                                        \
    /* obj[key], the general case: (t, f, otag, opay, ktag, kpay, out) */                  \
    JIT_HELPER(index, i32, (ptr, ptr, i32, i64, i32, i64, ptr))                            \
    /* a container stored in a cell may close a cycle: (t, obj) */                         \
    JIT_HELPER(note_cycle, void, (ptr, ptr))                                               \
    /* the last reference went: (obj) */                                                   \
    JIT_HELPER(obj_free, void, (ptr))                                                      \
    /* a literal as data: push consts[table[0..n)], run the build at pc: (t, f, table, n, pc) */ \
    JIT_HELPER(build_consts, i32, (ptr, ptr, ptr, i32, i32))                               \
    /* GET_FIELD's general case, filling the instruction's slot cache: (t, f, otag, opay, const, cache, out) */ \
    JIT_HELPER(field, i32, (ptr, ptr, i32, i64, i32, ptr, ptr))                            \
    /* obj[key] for a constant string key; a map's entry position goes to *ic, an         \
     * instance's class id and slot to *fcache: (t, f, otag, opay, key, ic, fcache, out) */ \
    JIT_HELPER(index_ic, i32, (ptr, ptr, i32, i64, ptr, ptr, ptr, ptr))                    \
    /* STORE_INDEX on f's memory stack; a map's entry position goes to *ic, an instance's  \
     * class id and slot to *fcache, unless NULL: (t, f, ic, fcache) */                    \
    JIT_HELPER(store_index, i32, (ptr, ptr, ptr, ptr))                                     \
    /* an error at f->pc: the handler's target with [text, value] pushed, or -1: (t, f) */ \
    JIT_HELPER(catch, i32, (ptr, ptr))

typedef enum jit_helper_id {
#define JIT_HELPER_ID(name, ret, params) JIT_HELPER_##name,
    JIT_HELPERS(JIT_HELPER_ID)
#undef JIT_HELPER_ID
    JIT_NHELPERS
} jit_helper_id;

/* The type vocabulary of the rows. */
typedef enum jit_abi_type { JIT_TY_void, JIT_TY_i32, JIT_TY_i64, JIT_TY_f64, JIT_TY_ptr } jit_abi_type;
#define JIT_HELPER_MAX_PARAMS 8

/* (a, b, c) -> JIT_TY_a, JIT_TY_b, JIT_TY_c: a row's parameter list as jit_abi_types. */
#define JIT_TY_LIST(...) JIT_TY_PICK(__VA_ARGS__, JIT_TY_8, JIT_TY_7, JIT_TY_6, JIT_TY_5, JIT_TY_4, \
                                     JIT_TY_3, JIT_TY_2, JIT_TY_1, )(__VA_ARGS__)
#define JIT_TY_PICK(a1, a2, a3, a4, a5, a6, a7, a8, n, ...) n
#define JIT_TY_1(a) JIT_TY_##a
#define JIT_TY_2(a, ...) JIT_TY_##a, JIT_TY_1(__VA_ARGS__)
#define JIT_TY_3(a, ...) JIT_TY_##a, JIT_TY_2(__VA_ARGS__)
#define JIT_TY_4(a, ...) JIT_TY_##a, JIT_TY_3(__VA_ARGS__)
#define JIT_TY_5(a, ...) JIT_TY_##a, JIT_TY_4(__VA_ARGS__)
#define JIT_TY_6(a, ...) JIT_TY_##a, JIT_TY_5(__VA_ARGS__)
#define JIT_TY_7(a, ...) JIT_TY_##a, JIT_TY_6(__VA_ARGS__)
#define JIT_TY_8(a, ...) JIT_TY_##a, JIT_TY_7(__VA_ARGS__)

/* The rows as text, "name ret (params);" each, then the error ids that jit_helper_raise takes
 * (runtime/errors.h's rows, by name in id order): what both sides must agree on. */
#define JIT_HELPER_TEXT(name, ret, params) #name " " #ret " " #params ";"
#define JIT_HELPER_ERR_TEXT(id, status, fmt) #id ";"
#define JIT_HELPER_ABI_TEXT JIT_HELPERS(JIT_HELPER_TEXT) ZX_ERRORS(JIT_HELPER_ERR_TEXT)

/* FNV-1a 64 of an ABI text: libzexus's and the module's must be equal (jit_loader.c), and the
 * compiled-code cache keys on it (jit/cache.c). */
static inline uint64_t jit_helper_abi_hash(const char *text)
{
    uint64_t h = 14695981039346656037ull;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    return h;
}

#endif
