/* interp.c — the reference interpreter: runs bytecode over frames on a task's value stack. */
#include "exec/interp.h"
#include "exec/interp_ops.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/arith.h"
#include "runtime/builtins.h"
#include "exec/hof.h"
#include "exec/object_ops.h"
#include "runtime/stdlib_sys.h"
#include "exec/host.h"
#include "exec/parallel.h"
#include "exec/tier.h"

/* The binary operators reach zx_binop as their opcodes' numbers: runtime/arith's operators
 * are numbered like the opcodes, which runtime/ cannot see. */
#define SAME_OPERATOR(name) \
    _Static_assert((int)OP_##name == (int)ZX_ARITH_##name, "ZX_ARITH_" #name " is not OP_" #name);
SAME_OPERATOR(ADD) SAME_OPERATOR(SUB) SAME_OPERATOR(MUL) SAME_OPERATOR(DIV) SAME_OPERATOR(MOD)
SAME_OPERATOR(POW) SAME_OPERATOR(EQ) SAME_OPERATOR(NEQ) SAME_OPERATOR(LT) SAME_OPERATOR(GT)
SAME_OPERATOR(LTE) SAME_OPERATOR(GTE)
#undef SAME_OPERATOR

#define VSEG_MIN 16384          /* values per value-stack segment */

/* ---------- tasks, frames and the value stack ---------- */

void zx_task_init(zx_task *t, zx_run *run, zx_frame *caller)
{
    memset(t, 0, sizeof *t);
    t->run = run;
    t->caller = caller;
    t->pmap_element = -1;
    atomic_init(&t->streaming, 0);
    t->thrown = zx_undef();
    zx_buf_init(&t->out);
    zx_buf_init(&t->error);
}

void zx_task_fini(zx_task *t)
{
    zx_vseg *s = t->seg;
    while (s && s->prev) s = s->prev;
    while (s) {
        zx_vseg *next = s->next;
        free(s);
        s = next;
    }
    t->seg = NULL;
    zx_decref(t->thrown);
    t->thrown = zx_undef();
    zx_buf_free(&t->out);
    zx_buf_free(&t->error);
}

/* Reserve n values (plus room for the frame header) LIFO from the task's segments: the next
 * segment, made or reused, when the current one is full. */
static void *vstack_alloc_slow(zx_task *t, size_t nvals, zx_vseg **seg, size_t *mark)
{
    zx_vseg *s = t->seg;
    {
        zx_vseg *next = s ? s->next : NULL;
        if (next && next->cap < nvals) {
            /* too small for this frame: drop it and every later (unused) segment */
            for (zx_vseg *d = next; d;) {
                zx_vseg *dn = d->next;
                free(d);
                d = dn;
            }
            if (s) s->next = NULL;
            next = NULL;
        }
        if (!next) {
            size_t cap = nvals > VSEG_MIN ? nvals : VSEG_MIN;
            next = malloc(sizeof *next + cap * sizeof(zx_value));
            if (!next) return NULL;
            next->prev = s;
            next->next = NULL;
            next->cap = cap;
            if (s) s->next = next;
        }
        next->top = 0;
        s = next;
        t->seg = s;
    }
    *seg = s;
    *mark = s->top;
    void *p = &s->v[s->top];
    s->top += nvals;
    return p;
}

static inline void *vstack_alloc(zx_task *t, size_t nvals, zx_vseg **seg, size_t *mark)
{
    zx_vseg *s = t->seg;
    if (__builtin_expect(!s || s->top + nvals > s->cap, 0)) return vstack_alloc_slow(t, nvals, seg, mark);
    *seg = s;
    *mark = s->top;
    void *p = &s->v[s->top];
    s->top += nvals;
    return p;
}

#define FRAME_VALS ZX_FRAME_VALS

/* Bytes of C stack kept free below the deepest Zexus frame: room for a builtin, a JIT
 * helper or the printer to run on top of it. */
#define STACK_RESERVE ZX_STACK_RESERVE

/* The lowest usable address of this thread's stack and the stack's size.  Cached per
 * thread: reading the stack bounds of the main thread parses /proc/self/maps. */
static _Thread_local char *tl_low;
static _Thread_local size_t tl_size;

static char *stack_low_bound(void)
{
    if (!tl_low) {
        pthread_attr_t attr;
        void *addr = NULL;
        size_t size = 0;
        if (pthread_getattr_np(pthread_self(), &attr) == 0) {
            pthread_attr_getstack(&attr, &addr, &size);
            pthread_attr_destroy(&attr);
        }
        tl_low = addr && size > STACK_RESERVE ? (char *)addr + STACK_RESERVE : (char *)1;
        tl_size = addr ? size : 0;
    }
    return tl_low;
}

/* True when the C stack is too deep for another nested interpreter or native call.  The
 * Zexus depth limit triggers first on every thread whose stack zx_stack_size_for sized (the
 * run's thread and the workers); this keeps other stacks from crashing. */
bool zx_stack_exhausted(void)
{
    /* the frame address, not a local's: under ASan locals may live on a fake heap stack */
    return (char *)__builtin_frame_address(0) < stack_low_bound();
}

size_t zx_stack_size_for(int max_depth)
{
    if (max_depth < 1) max_depth = 1;
    return (size_t)max_depth * ZX_STACK_PER_DEPTH + ZX_STACK_RESERVE + ZX_NATIVE_MARGIN + ZX_NATIVE_SLACK;
}

/* Bytes of C stack, above the zx_stack_exhausted bound, that a frame at Zexus depth `depth`
 * keeps for the interpreter alone: ZX_STACK_PER_DEPTH for each call level still allowed
 * (every nested C entry of the interpreter — a parallel_map element, a fork block, a
 * callback — is at least one level deeper than its caller and takes less than that) plus
 * ZX_NATIVE_MARGIN for one native frame and the helpers it calls.  Native code, whose
 * frames are larger (at -O0 a frame grows with the code), is entered only above it, and
 * native code calling native code makes the call through the interpreter below it, whose
 * calls do not deepen the C stack: so the C stack never runs out before --max-depth, and
 * every tier stops at the same call with the same error. */
static char *native_low_bound(zx_task *t, uint32_t depth)
{
    char *low = stack_low_bound();
    if (low == (char *)1) return low;
    uint32_t max = (uint32_t)t->run->max_depth;
    size_t left = depth < max ? (size_t)(max - depth) : 0;
    size_t keep = left * ZX_STACK_PER_DEPTH + ZX_NATIVE_MARGIN;
    if (keep > tl_size) return (char *)UINTPTR_MAX;    /* a stack too small: never native */
    return low + keep;
}

/* True when the C stack has room for native code at a frame of this depth (and for
 * everything the interpreter may still need below it). */
static inline bool native_room(zx_task *t, uint32_t depth)
{
    return (char *)__builtin_frame_address(0) >= native_low_bound(t, depth);
}

/* Every call from C into native code goes through here: native code that calls native code
 * checks the C stack against t->stack_limit inline (and makes the call through the
 * interpreter below it), so it must be this thread's bound for the entry's depth; it is
 * restored on return, because the native code that called us may have a higher one. */
static zx_status run_native(zx_task *t, zx_native_fn nat, zx_frame *f, uint32_t end_pc, zx_value *result)
{
    char *saved = t->stack_limit;
    t->stack_limit = native_low_bound(t, f->depth);
    zx_status st = nat(t, f, end_pc, result);
    t->stack_limit = saved;
    return st;
}

/* ---------- running on a stack the depth limit fits ---------- */

typedef struct stack_job {
    zx_status (*fn)(void *ctx);
    void *ctx;
    zx_status st;
} stack_job;

static void *stack_job_main(void *arg)
{
    stack_job *j = arg;
    j->st = j->fn(j->ctx);
    return NULL;
}

zx_status zx_run_with_stack(const zx_run *run, zx_status (*fn)(void *ctx), void *ctx)
{
    size_t need = zx_stack_size_for(run->max_depth);
    char *low = stack_low_bound();
    char *here = (char *)__builtin_frame_address(0);
    /* the calling thread's room, measured from its reserve bound (stack_low_bound) */
    if (low != (char *)1 && here > low && (size_t)(here - low) + STACK_RESERVE >= need) return fn(ctx);
    pthread_attr_t attr;
    pthread_t th;
    stack_job j = { fn, ctx, ZX_OK };
    if (pthread_attr_init(&attr) != 0) return fn(ctx);
    bool started = pthread_attr_setstacksize(&attr, need) == 0 &&
                   pthread_create(&th, &attr, stack_job_main, &j) == 0;
    pthread_attr_destroy(&attr);
    if (!started) return fn(ctx);   /* no thread to be had: the C stack guard still holds */
    pthread_join(th, NULL);
    return j.st;
}

zx_frame *zx_frame_push(zx_task *t, zx_code *code, zx_func *fn, const zx_value *argv, uint32_t argc,
                        zx_frame *parent)
{
    uint32_t depth = parent ? parent->depth + (code->kind == ZX_CODE_MAIN ? 0 : 1) : 0;
    if (code->kind != ZX_CODE_MAIN && (depth > (uint32_t)t->run->max_depth || zx_stack_exhausted())) {
        zx_task_raise_err(t, parent, ZX_ERR_CALL_DEPTH);
        return NULL;
    }
    zx_vseg *seg;
    size_t mark;
    size_t nvals = FRAME_VALS + code->nlocals + code->max_stack + 1;
    zx_value *mem = vstack_alloc(t, nvals, &seg, &mark);
    if (!mem) {
        zx_task_raise_err(t, parent, ZX_ERR_MEMORY);
        return NULL;
    }
    zx_frame *f = (zx_frame *)mem;
    f->code = code;
    f->func = fn;
    f->locals = mem + FRAME_VALS;
    f->sp = f->locals + code->nlocals;
    f->pc = 0;
    f->depth = depth;
    f->parent = parent;
    f->seg = seg;
    f->mark = mark;
    f->is_base = 0;
    uint32_t nargs = argc < code->nparams ? argc : code->nparams;
    for (uint32_t i = 0; i < nargs; i++) {
        zx_incref(argv[i]);
        f->locals[i] = argv[i];
    }
    for (uint32_t i = nargs; i < code->nlocals; i++) f->locals[i] = zx_undef();
    if (code->local_is_cell) {
        for (uint32_t i = 0; i < code->nlocals; i++) {
            if (!code->local_is_cell[i]) continue;
            zx_cell *c = zx_cell_new(t->run->heap, f->locals[i]);
            if (!c) {
                zx_frame_pop(t, f);
                zx_task_raise_err(t, parent, ZX_ERR_MEMORY);
                return NULL;
            }
            zx_decref(f->locals[i]);
            f->locals[i] = zx_objval(c);
        }
    }
    return f;
}

void zx_frame_pop(zx_task *t, zx_frame *f)
{
    for (zx_value *v = f->locals; v < f->sp; v++) zx_decref(*v);
    t->seg = f->seg;
    f->seg->top = f->mark;
}

/* ---------- errors and output ---------- */

#define TRACE_KEEP 10

static zx_pos frame_pos(const zx_frame *f)
{
    if (f->pc < f->code->ncode) return f->code->positions[f->pc];
    return f->code->ncode ? f->code->positions[f->code->ncode - 1] : f->code->pos;
}

zx_status zx_task_raise(zx_task *t, zx_frame *f, zx_status st, const char *msg)
{
    if (t->status != ZX_OK) return t->status;     /* the first error wins */
    t->status = st;
    const zx_program *prog = t->run->prog;
    zx_buf *b = &t->error;
    b->len = 0;
    zx_pos p = f ? frame_pos(f) : prog->main->pos;
    zx_buf_printf(b, "%s:%u:%u: runtime error: ", zx_code_file(prog, f ? f->code : NULL), p.line, p.col);
    t->err_msg_off = b->len;
    t->err_msg_len = strlen(msg);
    t->err_fatal = 0;
    zx_buf_puts(b, msg);
    if (t->pmap_element >= 0) zx_buf_printf(b, " (in parallel_map element %ld)", t->pmap_element);
    /* One line per active call, innermost first; a deep recursion keeps its innermost and
     * outermost TRACE_KEEP calls and counts the ones in between. */
    size_t ncalls = 0;
    for (const zx_frame *g = f; g; g = g->parent) ncalls += g->code->kind != ZX_CODE_MAIN;
    size_t i = 0;
    for (const zx_frame *g = f; g; g = g->parent) {
        if (g->code->kind == ZX_CODE_MAIN) continue;
        if (ncalls > 2 * TRACE_KEEP && i >= TRACE_KEEP && i < ncalls - TRACE_KEEP) {
            if (i == TRACE_KEEP) zx_buf_printf(b, "\n  ... %zu more calls ...", ncalls - 2 * TRACE_KEEP);
            i++;
            continue;
        }
        zx_pos q = frame_pos(g);
        zx_buf_printf(b, "\n  at %s (%s:%u:%u)", g->code->name, zx_code_file(prog, g->code), q.line, q.col);
        i++;
    }
    return st;
}

static const zx_status err_status[ZX_ERR_COUNT] = {
#define ERR_STATUS(id, status, fmt) [ZX_ERR_##id] = ZX_E_##status,
    ZX_ERRORS(ERR_STATUS)
#undef ERR_STATUS
};

zx_status zx_err_status(zx_err id)
{
    return id > ZX_ERR_NONE && id < ZX_ERR_COUNT ? err_status[id] : ZX_E_RUNTIME;
}

zx_status zx_task_raise_err(zx_task *t, zx_frame *f, zx_err id, ...)
{
    zx_error e;
    va_list ap;
    va_start(ap, id);
    zx_error_vset(&e, id, ap);
    va_end(ap);
    return zx_task_raise_error(t, f, &e);
}

zx_status zx_task_raise_value(zx_task *t, zx_frame *f, zx_err id, zx_value msg, const char *fallback)
{
    /* the message value is not cut (zx_error's 200 bytes would), so it is formatted in a zx_buf */
    zx_buf b, text;
    zx_buf_init(&b);
    zx_buf_init(&text);
    zx_format_value(&text, msg);
    zx_buf_put(&text, "", 1);
    zx_buf_printf(&b, zx_err_format(id), text.data);
    zx_buf_put(&b, "", 1);
    zx_status st = zx_task_raise(t, f, zx_err_status(id), b.data ? b.data : fallback);
    zx_buf_free(&text);
    zx_buf_free(&b);
    return st;
}

zx_status zx_task_raise_error(zx_task *t, zx_frame *f, const zx_error *e)
{
    if (t->status != ZX_OK) return t->status;
    zx_status st = zx_task_raise(t, f, zx_err_status(e->id), e->msg);
    /* the limits that protect the process are not exceptions a program handles */
    t->err_fatal = e->id == ZX_ERR_MEMORY || e->id == ZX_ERR_CALL_DEPTH || e->id == ZX_ERR_INTERRUPTED;
    return st;
}

/* ---------- exceptions ---------- */

zx_status zx_task_throw(zx_task *t, zx_frame *f, zx_value v)
{
    if (t->status != ZX_OK) {
        zx_decref(v);
        return t->status;
    }
    zx_buf text;
    zx_buf_init(&text);
    zx_format_value(&text, v);
    zx_buf_put(&text, "", 1);
    zx_status st = zx_task_raise(t, f, ZX_E_RUNTIME, text.data);
    zx_buf_free(&text);
    t->thrown = v;
    return st;
}

zx_status zx_task_reraise(zx_task *t, zx_frame *f, zx_value text, zx_value v)
{
    if (t->status != ZX_OK || !zx_is_type(text, ZX_O_STRING)) {
        zx_decref(text);     /* not a handler's text (hand-written bytecode): a plain throw */
        return zx_task_throw(t, f, v);
    }
    zx_string *s = ZX_AS_STRING(text);
    t->status = ZX_E_RUNTIME;
    t->error.len = 0;
    zx_buf_put(&t->error, s->data, s->nbytes);
    t->err_msg_off = t->err_msg_len = 0;
    t->err_fatal = 0;
    zx_decref(t->thrown);
    t->thrown = v;
    zx_decref(text);
    return ZX_E_RUNTIME;
}

bool zx_task_catch(zx_task *t, zx_frame *f)
{
    if (t->status != ZX_E_RUNTIME || t->err_fatal || !f->code->nhandlers) return false;
    const zx_handler *h = zx_code_handler_at(f->code, f->pc);
    if (!h) return false;
    zx_heap *heap = t->run->heap;
    zx_string *text = zx_string_new(heap, t->error.data ? t->error.data : "", t->error.len);
    if (!text) return false;
    zx_value v = t->thrown;
    if (v.tag == ZX_T_UNDEF) {
        size_t off = t->err_msg_off, len = t->err_msg_len;
        if (off + len > t->error.len) off = len = 0;
        zx_string *m = zx_string_new(heap, t->error.data ? t->error.data + off : "", len);
        if (!m) {
            zx_obj_decref(text);
            return false;
        }
        v = zx_objval(m);
    }
    zx_value *base = f->locals + f->code->nlocals;
    while (f->sp > base) zx_decref(*--f->sp);
    *f->sp++ = zx_objval(text);
    *f->sp++ = v;
    f->pc = h->target;
    t->status = ZX_OK;
    t->error.len = 0;
    t->thrown = zx_undef();
    t->err_msg_off = t->err_msg_len = 0;
    return true;
}

void zx_task_move_error(zx_task *t, zx_task *from)
{
    if (t->status != ZX_OK) return;
    t->status = from->status;
    t->error.len = 0;
    zx_buf_put(&t->error, from->error.data, from->error.len);
    t->err_msg_off = from->err_msg_off;
    t->err_msg_len = from->err_msg_len;
    t->err_fatal = from->err_fatal;
    zx_decref(t->thrown);
    t->thrown = from->thrown;
    from->thrown = zx_undef();
}

zx_status zx_task_flush(zx_task *t)
{
    zx_run *r = t->run;
    if (t->out.len == 0) return ZX_OK;
    if (atomic_load(&r->output_failed)) {
        t->out.len = 0;
        return ZX_E_OUTPUT;
    }
    int rc = r->output(r->output_userdata, t->out.data, t->out.len);
    t->out.len = 0;
    t->delivered = 1;
    if (rc != 0) {
        atomic_store(&r->output_failed, 1);
        return ZX_E_OUTPUT;
    }
    return ZX_OK;
}

zx_status zx_task_write(zx_task *t, const char *data, size_t len)
{
    zx_buf_put(&t->out, data, len);
    /* acquire: the committer flushed everything before this chunk before setting the flag */
    bool streams = t->is_root || atomic_load_explicit(&t->streaming, memory_order_acquire);
    if (streams && t->out.len >= t->stream_threshold) return zx_task_flush(t);
    return ZX_OK;
}

/* ---------- helpers for the loop ---------- */

#define poll_stop zx_task_should_stop

bool zx_task_should_stop(zx_task *t)
{
    zx_run *r = t->run;
    if (atomic_load_explicit(r->interrupt, memory_order_relaxed)) return true;
    /* the chain is as long as the nesting of parallel work (a recursion through parallel_map
     * nests it 50,000 deep): walk it only once some piece failed, which sets the hint */
    if (!atomic_load_explicit(&r->cancel, memory_order_relaxed)) return false;
    for (const zx_cancel_link *c = t->cancel; c; c = c->outer)
        if (c->index > atomic_load_explicit(&c->scope->first_failed, memory_order_relaxed)) return true;
    zx_heap_safepoint(r->heap);   /* a collection another piece asked for parks this one */
    return false;
}

static zx_status stop_status(zx_task *t, zx_frame *f)
{
    if (atomic_load(t->run->interrupt)) return zx_task_raise_err(t, f, ZX_ERR_INTERRUPTED);
    /* cancelled because other work failed first: not an error of its own */
    if (t->status == ZX_OK) t->status = ZX_E_INTERRUPTED;
    return t->status;
}

static const char *undefined_name(const zx_frame *f, const zx_instr *in, zx_program *prog)
{
    if (in->op == OP_LOAD_NAME || in->op == OP_SHARED_READ) return prog->globals[in->a].name;
    if (in->op == OP_LOAD_FREE) return f->code->free[in->a].name;
    return f->code->local_names[in->a];     /* LOAD_LOCAL, LOAD_CELL */
}

static zx_status raise_undefined(zx_task *t, zx_frame *f, const zx_instr *in)
{
    return zx_task_raise_err(t, f, ZX_ERR_UNDEFINED, undefined_name(f, in, t->run->prog));
}

static zx_status index_get(zx_task *t, zx_frame *f, zx_value obj, zx_value key, zx_value *out)
{
    if (zx_is_type(obj, ZX_O_LIST)) {
        zx_list *l = ZX_AS_LIST(obj);
        if (key.tag != ZX_T_INT) goto mismatch;
        if (key.u.i < 0 || key.u.i >= (int64_t)l->len) { *out = zx_null(); return ZX_OK; }
        *out = zx_list_get(l, (uint32_t)key.u.i);
        zx_incref(*out);
        return ZX_OK;
    }
    if (zx_is_type(obj, ZX_O_MAP)) {
        if (!zx_value_hashable(key)) goto mismatch;
        zx_value *v = zx_map_get(ZX_AS_MAP(obj), key);
        *out = v ? *v : zx_null();
        zx_incref(*out);
        return ZX_OK;
    }
    if (zx_is_type(obj, ZX_O_STRING)) {
        if (key.tag != ZX_T_INT) goto mismatch;
        zx_string *c = zx_string_at(t->run->heap, ZX_AS_STRING(obj), key.u.i);
        *out = c ? zx_objval(c) : zx_null();
        return ZX_OK;
    }
    if (zx_is_type(obj, ZX_O_INST) || zx_is_type(obj, ZX_O_CLASS)) {   /* o.field: its slot */
        if (!zx_is_type(key, ZX_O_STRING)) goto mismatch;
        zx_value *v = zx_is_type(obj, ZX_O_INST) ? zx_inst_field(ZX_AS_INST(obj), ZX_AS_STRING(key)) : NULL;
        *out = v ? *v : zx_null();
        zx_incref(*out);
        return ZX_OK;
    }
mismatch:
    return zx_task_raise_err(t, f, ZX_ERR_INDEX_TYPE, zx_type_name(obj), zx_type_name(key));
}

static zx_status index_set(zx_task *t, zx_frame *f, zx_value obj, zx_value key, zx_value v)
{
    if (zx_is_type(obj, ZX_O_LIST)) {
        zx_list *l = ZX_AS_LIST(obj);
        if (key.tag != ZX_T_INT) goto mismatch;
        if (key.u.i < 0 || key.u.i >= (int64_t)l->len)
            return zx_task_raise_err(t, f, ZX_ERR_INDEX_RANGE);
        if (!zx_list_set(t->run->heap, l, (uint32_t)key.u.i, v)) return zx_task_raise_err(t, f, ZX_ERR_MEMORY);
        return ZX_OK;
    }
    if (zx_is_type(obj, ZX_O_MAP)) {
        if (!zx_value_hashable(key)) goto mismatch;
        if (!zx_map_set(t->run->heap, ZX_AS_MAP(obj), key, v))
            return zx_task_raise_err(t, f, ZX_ERR_MEMORY);
        return ZX_OK;
    }
    if (zx_is_type(obj, ZX_O_INST) && zx_is_type(key, ZX_O_STRING)) {
        zx_inst *o = ZX_AS_INST(obj);
        if (o->cls->kind == ZX_CLASS_DATA) return ZX_OK;   /* data fields: assignment ignored (S21) */
        if (!zx_inst_set(t->run->heap, o, ZX_AS_STRING(key), v)) return zx_task_raise_err(t, f, ZX_ERR_MEMORY);
        return ZX_OK;
    }
mismatch:
    return zx_task_raise_err(t, f, ZX_ERR_STORE_TYPE, zx_type_name(obj), zx_type_name(key));
}

zx_value zx_closure_new(zx_task *t, zx_frame *f, zx_code *child)
{
    zx_func *fn = zx_func_new(t->run->heap, child, t->run->prog, child->name, child->kind == ZX_CODE_LAMBDA,
                              child->nfree);
    if (!fn) return zx_undef();
    for (uint32_t i = 0; i < child->nfree; i++) {
        const zx_freevar *fv = &child->free[i];
        zx_cell *c = fv->from_parent_local ? (zx_cell *)f->locals[fv->index].u.o : f->func->free[fv->index];
        zx_obj_incref(c);
        fn->free[i] = c;
    }
    return zx_objval(fn);
}

/* The iterable for `for each`: lists and maps iterate live; a string becomes its characters. */
static zx_status iter_prepare(zx_task *t, zx_frame *f, zx_value v, zx_value *out)
{
    if (zx_is_type(v, ZX_O_LIST) || zx_is_type(v, ZX_O_MAP)) {
        *out = v;
        return ZX_OK;
    }
    if (zx_is_type(v, ZX_O_STRING)) {
        zx_string *s = ZX_AS_STRING(v);
        zx_list *l = zx_list_new(t->run->heap, s->ncodepoints);
        if (!l) return zx_task_raise_err(t, f, ZX_ERR_MEMORY);
        for (uint32_t i = 0; i < s->ncodepoints; i++) {
            zx_string *c = zx_string_at(t->run->heap, s, i);
            if (!c || !zx_list_push(t->run->heap, l, zx_objval(c))) {
                if (c) zx_obj_decref(c);
                zx_obj_decref(l);
                return zx_task_raise_err(t, f, ZX_ERR_MEMORY);
            }
            zx_obj_decref(c);
        }
        zx_decref(v);
        *out = zx_objval(l);
        return ZX_OK;
    }
    zx_status st = zx_task_raise_err(t, f, ZX_ERR_ITER_TYPE, zx_type_name(v));
    zx_decref(v);
    return st;
}

static zx_status do_print(zx_task *t, zx_frame *f, zx_value *args, uint32_t n)
{
    zx_buf b;
    zx_buf_init(&b);
    for (uint32_t i = 0; i < n; i++) {
        if (i) zx_buf_put(&b, " ", 1);
        zx_format_value(&b, args[i]);
    }
    zx_buf_put(&b, "\n", 1);
    zx_status st = zx_task_write(t, b.data, b.len);
    zx_buf_free(&b);
    if (st != ZX_OK) {
        t->status = st;
        return st;
    }
    return ZX_OK;
}

/* The value of a builtin name that is a value (zx_builtin_is_value): args, __ARGS__, __MODULE__. */
static zx_status builtin_value(zx_task *t, zx_frame *f, int id, zx_value *out)
{
    if (id == ZX_BI___MODULE__) {
        zx_string *s = zx_string_new(t->run->heap, "__main__", 8);   /* the program being run */
        if (!s) return zx_task_raise_err(t, f, ZX_ERR_MEMORY);
        *out = zx_objval(s);
        return ZX_OK;
    }
    zx_incref(t->run->args);
    *out = t->run->args;
    return ZX_OK;
}

static bool sys_should_stop(void *task) { return zx_task_should_stop(task); }

static zx_status call_builtin_value(zx_task *t, zx_frame *f, int id, zx_value *argv, uint32_t argc,
                                   zx_value *out)
{
    int lo, hi;
    if (id >= ZX_BI_COUNT) return zx_host_call(t, f, id, argv, argc, out);
    zx_builtin_arity(id, &lo, &hi);
    if (zx_builtin_is_value(id))
        return zx_task_raise_err(t, f, ZX_ERR_NOT_CALLABLE, id == ZX_BI___MODULE__ ? "String" : "List");
    if ((int)argc < lo || (int)argc > hi) {
        if (lo == hi) return zx_task_raise_err(t, f, ZX_ERR_ARITY, lo, (int)argc);
        return zx_task_raise_err(t, f, ZX_ERR_ARITY_RANGE, lo, hi, (int)argc);
    }
    if (id == ZX_BI_print) {
        *out = zx_null();
        return do_print(t, f, argv, argc);
    }
    if (id == ZX_BI_parallel_map) return zx_parallel_map(t, f, argv[0], argv[1], out);
    if (zx_builtin_effects(id) & ZX_FX_CALLS) return zx_hof_call(t, f, id, argv, argc, out);
    if (zx_sys_builtin(id)) {
        zx_sys_ctx c = { t->run->heap, t->run->sys, sys_should_stop, t };
        zx_callres r = zx_sys_call(&c, id, argv, (int)argc, out);
        if (!r.ok) return r.err.id == ZX_ERR_INTERRUPTED ? stop_status(t, f) : zx_task_raise_error(t, f, &r.err);
        return ZX_OK;
    }
    zx_callres r = zx_builtin_call(t->run->heap, id, argv, (int)argc, out);
    if (!r.ok) return zx_task_raise_error(t, f, &r.err);
    return ZX_OK;
}

/* CALL_BUILTIN, or CALL_METHOD on a receiver that is not an instance, at f->pc on f's memory
 * stack, exactly as the loop runs it but without entering it: compiled code's path for the
 * calls it does not inline (jit/host/jit_helpers.c).  False when the instruction is a method
 * call on an instance (a frame to push: the loop's business); *st is its status otherwise. */
bool zx_interp_builtin_op(zx_task *t, zx_frame *f, zx_status *st)
{
    const zx_instr *in = &f->code->code[f->pc];
    uint32_t argc = in->b;
    zx_value *argv = f->sp - argc;
    zx_value r;
    if (in->op == OP_CALL_BUILTIN) {
        *st = zx_builtin_is_value((int)in->a) ? builtin_value(t, f, (int)in->a, &r)
                                              : call_builtin_value(t, f, (int)in->a, argv, argc, &r);
        if (*st != ZX_OK) return true;
        for (uint32_t i = 0; i < argc; i++) zx_decref(argv[i]);
        f->sp -= argc;
        *f->sp++ = r;
        return true;
    }
    if (in->op != OP_CALL_METHOD) return false;
    zx_value recv = argv[-1];
    if (zx_is_type(recv, ZX_O_INST)) return false;
    zx_string *name = ZX_AS_STRING(f->code->consts[in->a]);
    int mid = zx_string_method_id(name);
    if (mid < 0) {
        *st = zx_task_raise_err(t, f, ZX_ERR_NO_METHOD, zx_type_name(recv), name->data);
        return true;
    }
    zx_callres cr;
    int bi = zx_method_resolve(mid, recv, (int)argc, &cr);
    if (bi < 0) {
        *st = zx_task_raise_error(t, f, &cr.err);
        return true;
    }
    *st = call_builtin_value(t, f, bi, argv - 1, argc + 1, &r);
    if (*st != ZX_OK) return true;
    for (uint32_t i = 0; i <= argc; i++) zx_decref(argv[(int)i - 1]);
    f->sp -= argc + 1;
    *f->sp++ = r;
    return true;
}

static zx_status check_arity(zx_task *t, zx_frame *f, zx_code *code, uint32_t argc)
{
    if (argc == code->nparams) return ZX_OK;
    return zx_task_raise_err(t, f, ZX_ERR_ARITY, (int)code->nparams, (int)argc);
}

/* A value read field by field.  A result the loop just pushed was stored as a tag byte and a
 * payload word; one 16-byte load of it (a plain struct copy) cannot be forwarded from those two
 * stores and stalls, so the values that move between the stack and the variables move so. */
static inline zx_value vload(const zx_value *p)
{
    zx_value v;
    v.tag = p->tag;
    v.u.i = p->u.i;
    return v;
}

/* The builtins that inner loops call, inline, with the result zx_builtin_call would give:
 * true with *out set (a new reference) when builtin `id` on these arguments is one of them;
 * false, nothing done, for the rest (and for the failures, which the full call reports). */
static inline bool builtin_inline(zx_heap *heap, int id, const zx_value *argv, uint32_t argc, zx_value *out)
{
    switch (id) {
    case ZX_BI_append:          /* xs.push(v), xs.append(v): in place, the list is the result */
        if (argc != 2 || !zx_is_type(argv[0], ZX_O_LIST) ||
            !(zx_list_push_unboxed(ZX_AS_LIST(argv[0]), argv[1]) || zx_list_push(heap, ZX_AS_LIST(argv[0]), argv[1])))
            return false;
        zx_incref(argv[0]);
        *out = argv[0];
        return true;
    case ZX_BI_len: case ZX_BI_length: case ZX_BI_size:
        if (argc != 1 || !zx_is_obj(argv[0])) return false;
        switch (argv[0].u.o->type) {
        case ZX_O_LIST: *out = zx_int(ZX_AS_LIST(argv[0])->len); return true;
        case ZX_O_MAP: *out = zx_int(ZX_AS_MAP(argv[0])->len); return true;
        case ZX_O_STRING: *out = zx_int(ZX_AS_STRING(argv[0])->ncodepoints); return true;
        default: return false;
        }
    case ZX_BI_has:
        if (argc != 2 || !zx_is_type(argv[0], ZX_O_MAP) || !zx_value_hashable(argv[1])) return false;
        *out = zx_bool(zx_map_get(ZX_AS_MAP(argv[0]), argv[1]) != NULL);
        return true;
    default:
        return false;
    }
}

/* zx_task_should_stop, its common answer inline: nothing interrupted, nothing failed, no
 * collection wanted. */
static inline bool poll_stop_inline(zx_task *t)
{
    zx_run *r = t->run;
    if (!atomic_load_explicit(r->interrupt, memory_order_relaxed) &&
        !atomic_load_explicit(&r->cancel, memory_order_relaxed))
        return false;
    return zx_task_should_stop(t);
}

/* ---------- the loop ---------- */

/* The inline caches of a code object's GET_FIELD and STORE_INDEX sites (one word per pc: the
 * map entry that held the site's constant key last time), made on first use.  Several threads
 * may run one code object: the array is published with a compare-and-swap, and its words are
 * guesses read and written relaxed, each checked against the map before it is used. */
static _Atomic uint32_t *field_ic(zx_code *c)
{
    _Atomic uint32_t *ic = atomic_load_explicit(&c->field_ic, memory_order_acquire);
    if (ic) return ic;
    _Atomic uint32_t *fresh = calloc(c->ncode ? c->ncode : 1, sizeof *fresh);
    if (!fresh) return NULL;
    _Atomic uint32_t *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(&c->field_ic, &expected, fresh, memory_order_acq_rel,
                                                memory_order_acquire))
        return fresh;
    free(fresh);
    return expected;
}

/* The entry of map m whose key is the interned constant string `key`, by the guess at ic[pc];
 * NULL when the guess is wrong. */
static inline zx_map_entry *field_ic_entry(_Atomic uint32_t *ic, uint32_t pc, zx_map *m, zx_value key)
{
    if (!ic) return NULL;
    uint32_t g = atomic_load_explicit(&ic[pc], memory_order_relaxed);
    if (g >= m->len) return NULL;
    zx_map_entry *e = &m->entries[g];
    return e->key.tag == ZX_T_OBJ && e->key.u.o == key.u.o ? e : NULL;
}

/* Teach ic[pc] where map m keeps its value slot v (a pointer into m's entries). */
static inline void field_ic_learn(_Atomic uint32_t *ic, uint32_t pc, zx_map *m, const zx_value *v)
{
    if (!ic) return;
    const zx_map_entry *e = (const zx_map_entry *)((const char *)v - offsetof(zx_map_entry, value));
    atomic_store_explicit(&ic[pc], (uint32_t)(e - m->entries), memory_order_relaxed);
}

/* The value slot of string key `key` in map m, or NULL: by the guess of the site's inline cache
 * at pc, else by a lookup that teaches the cache (the names of `m.name` are interned strings:
 * one pointer per name, so the guess holds for every map made from the same literal). */
static inline zx_value *map_field(zx_code *c, uint32_t pc, zx_map *m, zx_value key)
{
    _Atomic uint32_t *ic = atomic_load_explicit(&c->field_ic, memory_order_acquire);
    zx_map_entry *e = field_ic_entry(ic, pc, m, key);
    if (e) return &e->value;
    zx_value *v = zx_map_get(m, key);
    if (v) field_ic_learn(ic ? ic : field_ic(c), pc, m, v);
    return v;
}

/* ---------- superinstructions ---------- */

/*
 * The loop runs a private copy of each code object's instructions (zx_code.quick) in which
 * the first instruction of a common sequence has its opcode replaced by a fused one that does
 * the whole sequence in one dispatch, its operands read straight from the locals and the
 * constants.  Only that opcode changes: the instructions after it keep theirs (or begin a
 * sequence of their own), so a side exit or a handler that enters in the middle runs them as
 * they are, and the bytecode everything else reads (JIT, analysis, verifier, .zxbc, disasm)
 * is untouched.  A fused opcode takes its inline path only when no step of the sequence can
 * fail or needs more than an inline case; otherwise it runs its first instruction as the
 * plain opcode and the rest follow one by one, so every error is raised by its own
 * instruction at its own pc.  A sequence never reaches over a jump target or a chunk
 * boundary, and a base frame runs the copy only when its end_pc is a boundary (or the end),
 * so no run stops inside one.
 *
 * The forms: where the two operands come from (S), the operator (O), what becomes of the
 * result (T).
 *   S = LL   LOAD_LOCAL x; LOAD_LOCAL y; O      x O y
 *       LK   LOAD_LOCAL x; LOAD_CONST k; O      x O k
 *       L    LOAD_LOCAL y; O                    top O y
 *       K    LOAD_CONST k; O                    top O k
 *   T = PUSH   pushed (or replaces the top)
 *       STORE  stored by the STORE_LOCAL that follows (and a JUMP after it taken too)
 *       COND   a comparison: a conditional jump after it takes its outcome (COND_RESULT)
 * and the forms without an operator:
 *   SI_LLL, SI_LLK   LOAD_LOCAL o; LOAD_LOCAL i; LOAD_LOCAL v / LOAD_CONST v; STORE_INDEX
 *   LL_PUSH, LK_PUSH  the two loads of LL and LK alone
 *   L_MOVE, K_MOVE    LOAD_LOCAL x / LOAD_CONST k; STORE_LOCAL y
 */
#define QUICK_OPS(X, S) \
    X(S, ADD, PUSH) X(S, SUB, PUSH) X(S, MUL, PUSH) X(S, INDEX, PUSH) \
    X(S, ADD, STORE) X(S, SUB, STORE) X(S, MUL, STORE) X(S, INDEX, STORE) \
    X(S, LT, COND) X(S, LTE, COND) X(S, GT, COND) X(S, GTE, COND) X(S, EQ, COND) X(S, NEQ, COND)
#define QUICK_FORMS(X) QUICK_OPS(X, LL) QUICK_OPS(X, LK) QUICK_OPS(X, L) QUICK_OPS(X, K)
#define QUICK_PLAIN_FORMS(X) X(SI_LLL) X(SI_LLK) X(LL_PUSH) X(LK_PUSH) X(L_MOVE) X(K_MOVE)

enum quick_src { QS_LL, QS_LK, QS_L, QS_K };
enum quick_tail { QT_PUSH, QT_STORE, QT_COND };

/* The fused opcodes, numbered after every opcode of the table. */
enum {
    QUICK_BEFORE = 511,
#define QUICK_ENUM(S, O, T) Q_##S##_##O##_##T,
    QUICK_FORMS(QUICK_ENUM)
#undef QUICK_ENUM
#define QUICK_PLAIN_ENUM(F) Q_##F,
    QUICK_PLAIN_FORMS(QUICK_PLAIN_ENUM)
#undef QUICK_PLAIN_ENUM
};
#define BELOW_QUICK(name, num, pops, pushes, kind, flags) \
    _Static_assert((num) <= QUICK_BEFORE, "opcode " #name " collides with the fused opcodes");
ZX_OPCODES(BELOW_QUICK)
#undef BELOW_QUICK

static unsigned quick_lookup(enum quick_src src, unsigned op, enum quick_tail tail)
{
#define QUICK_MATCH(S, O, T) if (src == QS_##S && op == OP_##O && tail == QT_##T) return Q_##S##_##O##_##T;
    QUICK_FORMS(QUICK_MATCH)
#undef QUICK_MATCH
    return 0;
}

/* May instruction pc run inside a sequence that began before it: it exists, and no jump,
 * handler or chunk enters there. */
static bool quick_joins(const zx_code *c, uint32_t pc)
{
    return pc < c->ncode && !(c->pcflags[pc] & (ZX_PC_TARGET | ZX_PC_BOUNDARY));
}

/* The fused opcode for the sequence that begins at pc, or 0: the longest form that fits. */
static unsigned quick_match(const zx_code *c, uint32_t pc)
{
    const zx_instr *in = c->code;
    enum quick_src srcs[2];
    uint32_t loads[2];
    int n = 0;
    if (in[pc].op != OP_LOAD_LOCAL && in[pc].op != OP_LOAD_CONST) return 0;
    bool ll = in[pc].op == OP_LOAD_LOCAL && quick_joins(c, pc + 1) && in[pc + 1].op == OP_LOAD_LOCAL;
    if (ll && quick_joins(c, pc + 2) && quick_joins(c, pc + 3) && in[pc + 3].op == OP_STORE_INDEX &&
        (in[pc + 2].op == OP_LOAD_LOCAL || in[pc + 2].op == OP_LOAD_CONST))
        return in[pc + 2].op == OP_LOAD_LOCAL ? Q_SI_LLL : Q_SI_LLK;
    if (in[pc].op == OP_LOAD_LOCAL && quick_joins(c, pc + 1) &&
        (in[pc + 1].op == OP_LOAD_LOCAL || in[pc + 1].op == OP_LOAD_CONST)) {
        srcs[n] = in[pc + 1].op == OP_LOAD_LOCAL ? QS_LL : QS_LK;
        loads[n++] = 2;
    }
    srcs[n] = in[pc].op == OP_LOAD_LOCAL ? QS_L : QS_K;
    loads[n++] = 1;
    for (int i = 0; i < n; i++) {
        uint32_t at = pc + loads[i];
        if (!quick_joins(c, at)) continue;
        unsigned form = quick_joins(c, at + 1) && in[at + 1].op == OP_STORE_LOCAL
                      ? quick_lookup(srcs[i], in[at].op, QT_STORE) : 0;
        if (!form) form = quick_lookup(srcs[i], in[at].op, QT_PUSH);
        if (!form) form = quick_lookup(srcs[i], in[at].op, QT_COND);
        if (form) return form;
    }
    if (srcs[0] == QS_LL) return Q_LL_PUSH;
    if (srcs[0] == QS_LK) return Q_LK_PUSH;
    if (quick_joins(c, pc + 1) && in[pc + 1].op == OP_STORE_LOCAL)
        return in[pc].op == OP_LOAD_LOCAL ? Q_L_MOVE : Q_K_MOVE;
    return 0;
}

/* Make c's fused copy and publish it (several threads may race: one copy wins, the others
 * are freed).  The original instructions when c is not verified or memory is short. */
static const zx_instr *quicken(zx_code *c)
{
    if (!c->pcflags || !c->ncode) return c->code;
    zx_instr *fresh = malloc(c->ncode * sizeof *fresh);
    if (!fresh) return c->code;
    memcpy(fresh, c->code, c->ncode * sizeof *fresh);
    for (uint32_t pc = 0; pc < c->ncode; pc++) {
        unsigned form = quick_match(c, pc);
        if (form) fresh[pc].op = (uint16_t)form;
    }
    zx_instr *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(&c->quick, &expected, fresh, memory_order_acq_rel,
                                                memory_order_acquire))
        return fresh;
    free(fresh);
    return expected;
}

/* The instructions the loop runs for c: its fused copy, made on first use. */
static inline const zx_instr *quick_code(zx_code *c)
{
    const zx_instr *q = atomic_load_explicit(&c->quick, memory_order_acquire);
    return q ? q : quicken(c);
}

/* The loop.  catch_base: an error may be caught by a handler of the base frame (not when
 * native code runs one instruction here: it catches in its own code).
 *
 * The state of the running frame lives in locals of the loop (sp, ip, ...): f->sp and f->pc
 * are stale while it runs and are written back (SAVE) before anything outside the loop may
 * look at the frame: every call that takes f (raising an error reads f->pc, the handler
 * search f->sp), a frame change and every return.  Dispatch is threaded: each opcode's code
 * ends by jumping straight to the next one's label (`goto *`), found in a table that
 * ZX_OPCODES generates, so every opcode has its label or the build fails; the switch keeps
 * -Wswitch-enum's check and the shared `break` path of the slow cases. */
static zx_status interp_loop(zx_task *t, zx_frame *base, uint32_t end_pc, zx_value *result, bool catch_base)
{
    zx_run *run = t->run;
    zx_heap *heap = run->heap;
    zx_frame *f = base;
    zx_status st = ZX_OK;
    zx_error err;
    zx_value *sp, *locals;
    const zx_value *consts;
    const zx_instr *ip, *code0, *stop;
    if (base->is_base != ZX_FRAME_NO_OSR) base->is_base = 1;
    if (result) *result = zx_null();

    static const void *const jump[] = {
#define JUMP_LABEL(name, num, pops, pushes, kind, flags) [num] = &&L_##name,
        ZX_OPCODES(JUMP_LABEL)
#undef JUMP_LABEL
#define QUICK_LABEL(S, O, T) [Q_##S##_##O##_##T] = &&L_Q_##S##_##O##_##T,
        QUICK_FORMS(QUICK_LABEL)
#undef QUICK_LABEL
#define QUICK_PLAIN_LABEL(F) [Q_##F] = &&L_Q_##F,
        QUICK_PLAIN_FORMS(QUICK_PLAIN_LABEL)
#undef QUICK_PLAIN_LABEL
    };

#define CASE(name) case OP_##name: L_##name
#define PC() ((uint32_t)(ip - code0))
#define SAVE() (f->sp = sp, f->pc = PC())
/* the fused copy, unless a base frame stops where a sequence may go on (a one-instruction step) */
#define LOAD() do { \
        code0 = quick_code(f->code); \
        stop = NULL; \
        if (f == base && end_pc < f->code->ncode) { \
            if (code0 != f->code->code && !(f->code->pcflags[end_pc] & ZX_PC_BOUNDARY)) code0 = f->code->code; \
            stop = code0 + end_pc; \
        } \
        ip = code0 + f->pc; \
        sp = f->sp; \
        locals = f->locals; \
        consts = f->code->consts; \
    } while (0)
/* continue at ip: the base frame's end, or the instruction's label */
#define DISPATCH() do { if (ip == stop) goto at_end; goto *jump[ip->op]; } while (0)
#define NEXT() do { ip++; DISPATCH(); } while (0)
#define FAIL(expr) do { SAVE(); st = (expr); goto fail; } while (0)
#define RAISE(...) FAIL(zx_task_raise_err(t, f, __VA_ARGS__))
/* expr may read the frame: it runs after SAVE (so it must not move sp itself) */
#define CHECK(expr) do { SAVE(); if ((st = (expr)) != ZX_OK) goto fail; } while (0)
#define POLL() do { if (poll_stop_inline(t)) FAIL(stop_status(t, f)); } while (0)
#define PUSH(v) (*sp++ = (v))
#define POPV() (*--sp)
#define TOP(i) (sp[-1 - (i)])
/* A comparison's outcome c: when a conditional forward jump follows (as in every `if` and
 * `while`), take it now instead of pushing a bool for it to pop. */
#define COND_RESULT(c) do { \
        const zx_instr *nx_ = ip + 1; \
        if (nx_ != stop && (nx_->op == OP_JUMP_IF_FALSE || nx_->op == OP_JUMP_IF_TRUE) && nx_->a > PC() + 1) { \
            ip = (c) == (nx_->op == OP_JUMP_IF_TRUE) ? code0 + nx_->a : nx_ + 1; \
            DISPATCH(); \
        } \
        PUSH(zx_bool(c)); \
        NEXT(); \
    } while (0)
/* Leave frame f (popped already: its result r in hand) for its caller, which made the call at
 * its saved pc. */
#define RESUME_CALLER(r) do { \
        zx_frame *caller_ = f->parent; \
        zx_func *fn_ = f->func; \
        f->sp = sp; \
        zx_frame_pop(t, f); \
        zx_obj_decref(fn_); \
        f = caller_; \
        LOAD(); \
        PUSH(r); \
        NEXT(); \
    } while (0)
/* A loop back-edge to ip: count hotness, and once the code is compiled continue in it
 * (on-stack replacement) when the operand stack is empty, as at every loop header. */
#define BACK_EDGE() do { \
        tier_tick(t, f->code, 1); \
        zx_native_fn nat_ = tier_native(f->code); \
        if (nat_ && f->is_base != ZX_FRAME_NO_OSR && sp == locals + f->code->nlocals && native_room(t, f->depth)) { \
            SAVE(); \
            if (f == base) return run_native(t, nat_, f, end_pc, result); \
            zx_value r_; \
            if ((st = run_native(t, nat_, f, UINT32_MAX, &r_)) != ZX_OK) goto fail; \
            sp = f->sp; \
            RESUME_CALLER(r_); \
        } \
    } while (0)
/* Jump to pc `to` from this instruction: a backward jump is a loop's back-edge. */
#define JUMP_TO(to) do { \
        uint32_t to_ = (to); \
        if (to_ <= PC()) { \
            POLL(); \
            ip = code0 + to_; \
            BACK_EDGE(); \
            DISPATCH(); \
        } \
        ip = code0 + to_; \
        DISPATCH(); \
    } while (0)

dispatch:
    LOAD();
    for (;;) {
        DISPATCH();
        switch ((zx_opcode)ip->op) {
        CASE(LOAD_CONST): {
            zx_value v = consts[ip->a];
            zx_incref(v);
            PUSH(v);
            NEXT();
        }
        CASE(LOAD_NAME): CASE(SHARED_READ): {
            zx_value v = *run->gvar[ip->a];
            if (v.tag == ZX_T_UNDEF) FAIL(raise_undefined(t, f, ip));
            zx_incref(v);
            PUSH(v);
            NEXT();
        }
        CASE(STORE_NAME):
            partitions_store(run->parts, ip->a, POPV());   /* a shared global: under its lock */
            NEXT();
        CASE(SHARED_WRITE): {
            zx_value rhs = POPV();
            CHECK(zx_shared_update(t, f, ip->a, ip->b, rhs));
            break;
        }
        CASE(POP):
            zx_decref(POPV());
            NEXT();
        CASE(DUP): {
            zx_value v = TOP(0);
            zx_incref(v);
            PUSH(v);
            NEXT();
        }
        CASE(DUP2): {
            zx_value a = TOP(1), b = TOP(0);
            zx_incref(a);
            zx_incref(b);
            PUSH(a);
            PUSH(b);
            NEXT();
        }
        CASE(ROT3): {
            zx_value c = TOP(0);
            sp[-1] = sp[-2];
            sp[-2] = sp[-3];
            sp[-3] = c;
            NEXT();
        }
        /* The arithmetic on two ints or two numbers inline, with the result zx_binop would
         * give; overflow, a zero divisor and every other type go to zx_binop (binop_slow). */
        CASE(ADD): CASE(SUB): CASE(MUL): {
            zx_value b = TOP(0), a = TOP(1);
            if (a.tag == ZX_T_INT && b.tag == ZX_T_INT) {
                int64_t z;
                bool o = ip->op == OP_ADD ? __builtin_add_overflow(a.u.i, b.u.i, &z)
                       : ip->op == OP_SUB ? __builtin_sub_overflow(a.u.i, b.u.i, &z)
                                          : __builtin_mul_overflow(a.u.i, b.u.i, &z);
                if (o) goto binop_slow;
                sp[-2] = zx_int(z);
                sp--;
                NEXT();
            }
            if ((a.tag == ZX_T_FLOAT || a.tag == ZX_T_INT) && (b.tag == ZX_T_FLOAT || b.tag == ZX_T_INT)) {
                double x = a.tag == ZX_T_INT ? (double)a.u.i : a.u.f;
                double y = b.tag == ZX_T_INT ? (double)b.u.i : b.u.f;
                sp[-2] = zx_float(ip->op == OP_ADD ? x + y : ip->op == OP_SUB ? x - y : x * y);
                sp--;
                NEXT();
            }
            goto binop_slow;
        }
        CASE(DIV): {
            zx_value b = TOP(0), a = TOP(1);
            if (a.tag == ZX_T_INT && b.tag == ZX_T_INT) {
                int64_t x = a.u.i, y = b.u.i;
                if (y == 0 || (y == -1 && x == INT64_MIN)) goto binop_slow;
                int64_t q = x / y;
                if (x % y != 0 && (x < 0) != (y < 0)) q--;    /* floor division */
                sp[-2] = zx_int(q);
                sp--;
                NEXT();
            }
            if ((a.tag == ZX_T_FLOAT || a.tag == ZX_T_INT) && (b.tag == ZX_T_FLOAT || b.tag == ZX_T_INT)) {
                double x = a.tag == ZX_T_INT ? (double)a.u.i : a.u.f;
                double y = b.tag == ZX_T_INT ? (double)b.u.i : b.u.f;
                if (y == 0) goto binop_slow;
                sp[-2] = zx_float(x / y);
                sp--;
                NEXT();
            }
            goto binop_slow;
        }
        CASE(MOD): {
            zx_value b = TOP(0), a = TOP(1);
            if (a.tag == ZX_T_INT && b.tag == ZX_T_INT && b.u.i > 0) {
                int64_t r = a.u.i % b.u.i;
                if (r < 0) r += b.u.i;                          /* floor modulo */
                sp[-2] = zx_int(r);
                sp--;
                NEXT();
            }
            goto binop_slow;
        }
        CASE(POW):
            goto binop_slow;
        /* Comparisons of two ints or two floats inline (NaN is unordered, and equal to
         * nothing, as zx_binop has it); the rest in zx_binop. */
#define COMPARE(name, rel) \
        CASE(name): { \
            zx_value b = TOP(0), a = TOP(1); \
            bool c; \
            if (a.tag == ZX_T_INT && b.tag == ZX_T_INT) c = a.u.i rel b.u.i; \
            else if (a.tag == ZX_T_FLOAT && b.tag == ZX_T_FLOAT) c = a.u.f rel b.u.f; \
            else goto binop_slow; \
            sp -= 2; \
            COND_RESULT(c); \
        }
        COMPARE(LT, <)
        COMPARE(GT, >)
        COMPARE(LTE, <=)
        COMPARE(GTE, >=)
        COMPARE(EQ, ==)
        COMPARE(NEQ, !=)
#undef COMPARE
        binop_slow: {
            zx_value b = TOP(0), a = TOP(1), r;
            if (!zx_binop(heap, (zx_arith_op)ip->op, a, b, &r, &err)) FAIL(zx_task_raise_error(t, f, &err));
            zx_decref(a);
            zx_decref(b);
            sp -= 2;
            PUSH(r);
            NEXT();
        }
        CASE(NEG): {
            zx_value a = TOP(0), r;
            if (a.tag == ZX_T_FLOAT) {
                sp[-1] = zx_float(-a.u.f);
                NEXT();
            }
            if (!zx_negate(a, &r, &err)) FAIL(zx_task_raise_error(t, f, &err));
            zx_decref(a);
            sp[-1] = r;
            NEXT();
        }
        CASE(NOT): {
            zx_value a = TOP(0);
            sp[-1] = zx_bool(!zx_truthy(a));
            zx_decref(a);
            NEXT();
        }
        CASE(JUMP):
            JUMP_TO(ip->a);
        CASE(JUMP_IF_FALSE): CASE(JUMP_IF_TRUE): {
            zx_value c = POPV();
            bool truthy = c.tag == ZX_T_BOOL ? c.u.b : zx_truthy(c);
            zx_decref(c);
            if (truthy == (ip->op == OP_JUMP_IF_TRUE)) JUMP_TO(ip->a);
            NEXT();
        }
        CASE(RETURN): {
            zx_value r = POPV();
            if (f == base) {
                SAVE();
                if (result) *result = r;
                else zx_decref(r);
                return ZX_OK;
            }
            RESUME_CALLER(r);
        }
        CASE(CALL_TOP): {
            uint32_t argc = ip->a;
            zx_value *argv = sp - argc;
            zx_value callee = argv[-1], r;
            POLL();
            if (zx_is_type(callee, ZX_O_FUNC)) {
                zx_func *fn = ZX_AS_FUNC(callee);
                if (argc != fn->code->nparams) FAIL(check_arity(t, f, fn->code, argc));
                SAVE();
                zx_native_fn nat = tier_native(fn->code);
                zx_frame *nf = zx_frame_push(t, fn->code, fn, argv, argc, f);
                if (!nf) FAIL(t->status);
                if (nat && native_room(t, f->depth + 1)) {   /* compiled: run it on its own frame, C-recursively */
                    st = run_native(t, nat, nf, UINT32_MAX, &r);
                    zx_frame_pop(t, nf);
                    if (st != ZX_OK) goto fail;
                    for (uint32_t i = 0; i <= argc; i++) zx_decref(argv[(int)i - 1]);
                    sp -= argc + 1;
                    PUSH(r);
                    NEXT();
                }
                tier_tick(t, fn->code, JIT_ENTRY_TICKS);
                /* an inline frame owns a reference to its closure (dropped at RETURN); the
                 * callee's locals hold their own references to the arguments */
                zx_obj_incref(fn);
                for (uint32_t i = 0; i <= argc; i++) zx_decref(argv[(int)i - 1]);
                sp -= argc + 1;
                SAVE();
                f = nf;
                LOAD();
                DISPATCH();
            }
            if (zx_is_type(callee, ZX_O_BUILTIN)) {
                int id = ((zx_builtin_obj *)callee.u.o)->id;
                if (!builtin_inline(heap, id, argv, argc, &r)) CHECK(call_builtin_value(t, f, id, argv, argc, &r));
            } else if (zx_is_type(callee, ZX_O_CLASS)) {   /* E(a, b), C(args): a new instance */
                CHECK(zx_objop_construct(t, f, ZX_AS_CLASS(callee), argv, argc, &r));
            } else {
                RAISE(ZX_ERR_NOT_CALLABLE, zx_type_name(callee));
            }
            for (uint32_t i = 0; i <= argc; i++) zx_decref(argv[(int)i - 1]);
            sp -= argc + 1;
            PUSH(r);
            NEXT();
        }
        CASE(CALL_BUILTIN): {
            uint32_t argc = ip->b;
            zx_value *argv = sp - argc;
            zx_value r;
            if (builtin_inline(heap, (int)ip->a, argv, argc, &r)) {
                /* done */
            } else if (zx_builtin_is_value((int)ip->a)) {
                CHECK(builtin_value(t, f, (int)ip->a, &r));
            } else {
                CHECK(call_builtin_value(t, f, (int)ip->a, argv, argc, &r));
            }
            for (uint32_t i = 0; i < argc; i++) zx_decref(argv[i]);
            sp -= argc;
            PUSH(r);
            NEXT();
        }
        CASE(LOAD_BUILTIN): {
            zx_value r;
            if (zx_builtin_is_value((int)ip->a)) {
                CHECK(builtin_value(t, f, (int)ip->a, &r));
                PUSH(r);
                NEXT();
            }
            zx_builtin_obj *b = zx_heap_alloc_obj(heap, ZX_O_BUILTIN, sizeof *b);
            if (!b) RAISE(ZX_ERR_MEMORY);
            b->id = (int)ip->a;
            PUSH(zx_objval(b));
            NEXT();
        }
        CASE(LOAD_HOST): {
            zx_value h;
            CHECK(zx_host_load(t, f, consts[ip->a], &h));
            PUSH(h);
            NEXT();
        }
        CASE(CALL_METHOD): {
            uint32_t argc = ip->b;
            zx_value *argv = sp - argc;
            zx_value recv = argv[-1];
            zx_string *name = ZX_AS_STRING(consts[ip->a]);
            zx_value r;
            if (zx_is_type(recv, ZX_O_INST)) {
                /* a method of the instance's class: a call with `this` = recv as its first
                 * argument, and [recv, a…] are in a row on the stack already */
                zx_func *fn = zx_class_method(ZX_AS_INST(recv)->cls, name);
                if (fn) {
                    zx_value *args = argv - 1;
                    uint32_t n = argc + 1;
                    if (n != fn->code->nparams)   /* counted as written: without `this` */
                        RAISE(ZX_ERR_ARITY, (int)fn->code->nparams - 1, (int)argc);
                    POLL();
                    SAVE();
                    zx_native_fn nat = tier_native(fn->code);
                    zx_frame *nf = zx_frame_push(t, fn->code, fn, args, n, f);
                    if (!nf) FAIL(t->status);
                    if (nat && native_room(t, f->depth + 1)) {
                        st = run_native(t, nat, nf, UINT32_MAX, &r);
                        zx_frame_pop(t, nf);
                        if (st != ZX_OK) goto fail;
                        for (uint32_t i = 0; i < n; i++) zx_decref(args[i]);
                        sp -= n;
                        PUSH(r);
                        NEXT();
                    }
                    tier_tick(t, fn->code, JIT_ENTRY_TICKS);
                    zx_obj_incref(fn);
                    for (uint32_t i = 0; i < n; i++) zx_decref(args[i]);
                    sp -= n;
                    SAVE();
                    f = nf;
                    LOAD();
                    DISPATCH();
                }
                bool handled;
                CHECK(zx_objop_data_method(t, f, ZX_AS_INST(recv), name, argv, argc, &r, &handled));
                if (handled) {
                    for (uint32_t i = 0; i <= argc; i++) zx_decref(argv[(int)i - 1]);
                    sp -= argc + 1;
                    PUSH(r);
                    NEXT();
                }
                RAISE(ZX_ERR_NO_METHOD, zx_type_name(recv), name->data);
            }
            int mid = zx_string_method_id(name);
            if (mid < 0) RAISE(ZX_ERR_NO_METHOD, zx_type_name(recv), name->data);
            /* recv.name(a…) is the method's builtin on (recv, a…), which lie in a row */
            int bi = zx_method_target(mid, recv, (int)argc);
            if (bi < 0) {
                zx_callres cr;
                zx_method_resolve(mid, recv, (int)argc, &cr);
                FAIL(zx_task_raise_error(t, f, &cr.err));
            }
            if (!builtin_inline(heap, bi, argv - 1, argc + 1, &r)) CHECK(call_builtin_value(t, f, bi, argv - 1, argc + 1, &r));
            for (uint32_t i = 0; i <= argc; i++) zx_decref(argv[(int)i - 1]);
            sp -= argc + 1;
            PUSH(r);
            NEXT();
        }
        CASE(BUILD_LIST): {
            uint32_t n = ip->a;
            zx_list *l = zx_list_new(heap, n);
            if (!l) RAISE(ZX_ERR_MEMORY);
            zx_value *items = sp - n;
            for (uint32_t i = 0; i < n; i++) {
                if (!zx_list_push_fresh(heap, l, items[i])) {
                    zx_obj_decref(l);
                    RAISE(ZX_ERR_MEMORY);
                }
            }
            for (uint32_t i = 0; i < n; i++) zx_decref(items[i]);
            sp -= n;
            PUSH(zx_objval(l));
            NEXT();
        }
        CASE(BUILD_MAP): {
            uint32_t n = ip->a;
            zx_map *m = zx_map_new(heap, n);
            if (!m) RAISE(ZX_ERR_MEMORY);
            zx_value *items = sp - 2 * n;
            for (uint32_t i = 0; i < n; i++) {
                if (!zx_value_hashable(items[2 * i])) {
                    zx_obj_decref(m);
                    RAISE(ZX_ERR_MAP_KEY_TYPE, zx_type_name(items[2 * i]));
                }
                if (!zx_map_set_fresh(heap, m, items[2 * i], items[2 * i + 1])) {
                    zx_obj_decref(m);
                    RAISE(ZX_ERR_MEMORY);
                }
            }
            for (uint32_t i = 0; i < 2 * n; i++) zx_decref(items[i]);
            sp -= 2 * n;
            PUSH(zx_objval(m));
            NEXT();
        }
        CASE(MAP_EXTEND): {
            uint32_t n = ip->a;
            zx_value *items = sp - 2 * n, *mv = items - 1;
            if (!zx_is_type(*mv, ZX_O_MAP)) RAISE(ZX_ERR_BINOP_TYPE, zx_type_name(*mv), "+", "Map");
            zx_map *m = ZX_AS_MAP(*mv);
            if (__atomic_load_n(&m->hdr.rc, __ATOMIC_ACQUIRE) != 1) {
                /* someone else holds it (bytecode not made by the compiler): extend a copy */
                zx_map *c = zx_map_new(heap, m->len + n);
                if (!c) RAISE(ZX_ERR_MEMORY);
                for (uint32_t i = 0; i < m->len; i++)
                    if (!zx_map_set(heap, c, m->entries[i].key, m->entries[i].value)) {
                        zx_obj_decref(c);
                        RAISE(ZX_ERR_MEMORY);
                    }
                zx_obj_decref(m);
                *mv = zx_objval(c);
                m = c;
            }
            for (uint32_t i = 0; i < n; i++) {
                if (!zx_value_hashable(items[2 * i])) RAISE(ZX_ERR_MAP_KEY_TYPE, zx_type_name(items[2 * i]));
                if (!zx_map_set(heap, m, items[2 * i], items[2 * i + 1])) RAISE(ZX_ERR_MEMORY);
            }
            for (uint32_t i = 0; i < 2 * n; i++) zx_decref(items[i]);
            sp -= 2 * n;
            NEXT();
        }
        CASE(INDEX): {
            zx_value key = TOP(0), obj = TOP(1), r;
            if (zx_is_type(obj, ZX_O_LIST) && key.tag == ZX_T_INT) {   /* xs[i]: inline */
                zx_list *l = ZX_AS_LIST(obj);
                if (key.u.i < 0 || key.u.i >= (int64_t)l->len) {
                    r = zx_null();
                } else if (__builtin_expect(l->kind == ZX_LIST_GENERIC, 1)) {
                    r = l->items[key.u.i];
                    zx_incref(r);
                } else {
                    r = zx_list_get(l, (uint32_t)key.u.i);   /* unboxed: no reference */
                }
            } else if (zx_is_type(obj, ZX_O_MAP) && zx_is_type(key, ZX_O_STRING)) {   /* m.name */
                zx_value *v = map_field(f->code, PC(), ZX_AS_MAP(obj), key);
                r = v ? *v : zx_null();
                zx_incref(r);
                zx_decref(key);
            } else {
                CHECK(index_get(t, f, obj, key, &r));
                zx_decref(key);
            }
            zx_decref(obj);
            sp -= 2;
            PUSH(r);
            NEXT();
        }
        CASE(STORE_INDEX): {
            zx_value v = TOP(0), key = TOP(1), obj = TOP(2);
            zx_value *slot = NULL;
            bool stored = false;
            if (zx_is_type(obj, ZX_O_LIST) && key.tag == ZX_T_INT) {   /* xs[i] = v: inline */
                zx_list *l = ZX_AS_LIST(obj);
                if (key.u.i >= 0 && key.u.i < (int64_t)l->len) {
                    if (__builtin_expect(l->kind == ZX_LIST_GENERIC, 1)) slot = &l->items[key.u.i];
                    else if (v.tag == l->kind) {
                        zx_list_put(l, (uint32_t)key.u.i, v);
                        stored = true;
                    }
                }   /* else index_set: a type the kind cannot hold makes the list generic */
            } else if (zx_is_type(obj, ZX_O_MAP) && zx_is_type(key, ZX_O_STRING)) {
                slot = map_field(f->code, PC(), ZX_AS_MAP(obj), key);   /* m.name = v on a key it has */
            }
            if (stored) {
                /* an unboxed item: v is an int, float or bool, and holds no reference */
            } else if (slot) {
                zx_value old = *slot;
                *slot = v;            /* the stack's reference moves into the container */
                zx_decref(old);
                if (zx_is_obj(v) && v.u.o->type != ZX_O_STRING) zx_heap_note_cycle_candidate(heap, obj.u.o);
            } else {
                CHECK(index_set(t, f, obj, key, v));
                zx_decref(v);
            }
            zx_decref(key);
            zx_decref(obj);
            sp -= 3;
            NEXT();
        }
        CASE(PRINT): {
            uint32_t n = ip->a;
            zx_value *args = sp - n;
            CHECK(do_print(t, f, args, n));
            for (uint32_t i = 0; i < n; i++) zx_decref(args[i]);
            sp -= n;
            NEXT();
        }
        CASE(NOP): CASE(BARRIER_SYNC): CASE(JOIN_WORKERS):
            NEXT();
        CASE(LOAD_LOCAL): {
            zx_value v = vload(&locals[ip->a]);
            if (v.tag == ZX_T_UNDEF) FAIL(raise_undefined(t, f, &f->code->code[PC()]));   /* ip->op may be fused */
            zx_incref(v);
            PUSH(v);
            NEXT();
        }
        CASE(STORE_LOCAL): {
            zx_value old = locals[ip->a];
            sp--;
            locals[ip->a] = vload(sp);
            zx_decref(old);
            NEXT();
        }
        CASE(LOAD_CELL): CASE(LOAD_FREE): {
            zx_cell *c = ip->op == OP_LOAD_CELL ? (zx_cell *)locals[ip->a].u.o : f->func->free[ip->a];
            zx_value v = c->v;
            if (v.tag == ZX_T_UNDEF) FAIL(raise_undefined(t, f, ip));
            zx_incref(v);
            PUSH(v);
            NEXT();
        }
        CASE(STORE_CELL): CASE(STORE_FREE): {
            zx_cell *c = ip->op == OP_STORE_CELL ? (zx_cell *)locals[ip->a].u.o : f->func->free[ip->a];
            zx_value v = POPV(), old = c->v;
            c->v = v;
            zx_decref(old);
            if (zx_is_obj(v) && v.u.o->type != ZX_O_STRING) zx_heap_note_cycle_candidate(heap, &c->hdr);
            NEXT();
        }
        CASE(MAKE_CLOSURE): {
            zx_value fn = zx_closure_new(t, f, f->code->children[ip->a]);
            if (fn.tag == ZX_T_UNDEF) RAISE(ZX_ERR_MEMORY);
            PUSH(fn);
            NEXT();
        }
        CASE(GET_ITER): {
            zx_value it, v = POPV();
            CHECK(iter_prepare(t, f, v, &it));
            zx_decref(locals[ip->a]);
            zx_decref(locals[ip->a + 1]);
            locals[ip->a] = it;
            locals[ip->a + 1] = zx_int(0);
            NEXT();
        }
        CASE(FOR_ITER1): CASE(FOR_ITER2): {
            zx_value it = locals[ip->b];
            int64_t i = locals[ip->b + 1].u.i;
            POLL();
            if (zx_is_type(it, ZX_O_LIST)) {
                zx_list *l = ZX_AS_LIST(it);
                if (i >= (int64_t)l->len) {
                    ip = code0 + ip->a;
                    DISPATCH();
                }
                if (ip->op == OP_FOR_ITER2) PUSH(zx_int(i));
                zx_value e = zx_list_get(l, (uint32_t)i);
                zx_incref(e);
                PUSH(e);
            } else {
                zx_map *m = ZX_AS_MAP(it);
                if (i >= (int64_t)m->len) {
                    ip = code0 + ip->a;
                    DISPATCH();
                }
                zx_incref(m->entries[i].key);
                PUSH(m->entries[i].key);
                if (ip->op == OP_FOR_ITER2) {
                    zx_incref(m->entries[i].value);
                    PUSH(m->entries[i].value);
                }
            }
            locals[ip->b + 1].u.i = i + 1;
            NEXT();
        }
        CASE(MAKE_CLASS): {
            zx_value r, *parts = sp - ZX_CLS_NPARTS;
            CHECK(zx_objop_make_class(t, f, ip->a, parts, &r));
            for (int i = 0; i < ZX_CLS_NPARTS; i++) zx_decref(parts[i]);
            sp -= ZX_CLS_NPARTS;
            PUSH(r);
            NEXT();
        }
        CASE(GET_FIELD): {
            zx_value obj = TOP(0), key = consts[ip->a], r;
            if (zx_is_type(obj, ZX_O_MAP)) {
                zx_value *v = map_field(f->code, PC(), ZX_AS_MAP(obj), key);
                r = v ? *v : zx_null();
                zx_incref(r);
            } else {
                CHECK(index_get(t, f, obj, key, &r));
            }
            zx_decref(obj);
            TOP(0) = r;
            NEXT();
        }
        CASE(NEW_NAMED): {
            zx_value r, fields = TOP(0), cls = TOP(1);
            CHECK(zx_objop_new_named(t, f, cls, fields, &r));
            zx_decref(fields);
            zx_decref(cls);
            sp -= 2;
            PUSH(r);
            NEXT();
        }
        CASE(REQUIRE): {
            zx_value m = ip->a ? POPV() : zx_null();
            zx_value c = POPV();
            bool ok = zx_truthy(c);
            zx_decref(c);
            if (!ok) {
                SAVE();
                st = zx_task_raise_value(t, f, ZX_ERR_REQUIRE, m, "Requirement failed");
            }
            zx_decref(m);
            if (!ok) goto fail;
            NEXT();
        }
        CASE(ASSERT): {
            zx_value m = ip->a ? POPV() : zx_null();
            zx_value c = POPV();
            bool ok = zx_truthy(c);
            zx_decref(c);
            if (!ok) {
                if (ip->a) {
                    SAVE();
                    st = zx_task_raise_value(t, f, ZX_ERR_ASSERT_MSG, m, "assertion failed");
                    zx_decref(m);
                    goto fail;
                }
                RAISE(ZX_ERR_ASSERT);
            }
            zx_decref(m);
            NEXT();
        }
        CASE(PARALLEL_MAP): {
            zx_value xs = TOP(0), fn = TOP(1), r;
            CHECK(zx_parallel_map(t, f, fn, xs, &r));
            zx_decref(xs);
            zx_decref(fn);
            sp -= 2;
            PUSH(r);
            NEXT();
        }
        CASE(FORK_EXECUTION):
            CHECK(zx_fork_run(t, f, ip->a, ip->b));
            NEXT();
        CASE(THROW): {
            zx_value v = POPV();
            FAIL(zx_task_throw(t, f, v));
        }
        CASE(RERAISE): {
            zx_value v = POPV(), text = POPV();
            FAIL(zx_task_reraise(t, f, text, v));
        }
        /* The fused opcodes (superinstructions above): a_ and b_ the operands, the inline
         * cases of the plain opcodes, and any other case runs the first instruction as it is. */
#define Q_LOADS_LL 2
#define Q_LOADS_LK 2
#define Q_LOADS_L 1
#define Q_LOADS_K 1
#define Q_TOS_LL 0          /* the left operand is the top of the stack, popped */
#define Q_TOS_LK 0
#define Q_TOS_L 1
#define Q_TOS_K 1
#define Q_FIRST_LL L_LOAD_LOCAL
#define Q_FIRST_LK L_LOAD_LOCAL
#define Q_FIRST_L L_LOAD_LOCAL
#define Q_FIRST_K L_LOAD_CONST
#define Q_PLAIN(S) goto Q_FIRST_##S
#define Q_FETCH_LL a_ = vload(&locals[ip[0].a]); b_ = vload(&locals[ip[1].a]);
#define Q_FETCH_LK a_ = vload(&locals[ip[0].a]); b_ = consts[ip[1].a];
#define Q_FETCH_L a_ = TOP(0); b_ = vload(&locals[ip[0].a]);
#define Q_FETCH_K a_ = TOP(0); b_ = consts[ip[0].a];
#define Q_NUM(v) ((v).tag == ZX_T_INT || (v).tag == ZX_T_FLOAT)
#define Q_DBL(v) ((v).tag == ZX_T_INT ? (double)(v).u.i : (v).u.f)
#define Q_ARITH(S, name, sym) \
            if (a_.tag == ZX_T_INT && b_.tag == ZX_T_INT) { \
                int64_t z_; \
                if (__builtin_##name##_overflow(a_.u.i, b_.u.i, &z_)) Q_PLAIN(S); \
                res_ = zx_int(z_); \
            } else if (Q_NUM(a_) && Q_NUM(b_)) { \
                res_ = zx_float(Q_DBL(a_) sym Q_DBL(b_)); \
            } else { \
                Q_PLAIN(S); \
            }
#define Q_OP_ADD(S) Q_ARITH(S, add, +)
#define Q_OP_SUB(S) Q_ARITH(S, sub, -)
#define Q_OP_MUL(S) Q_ARITH(S, mul, *)
#define Q_OP_INDEX(S) \
            if (zx_is_type(a_, ZX_O_LIST) && b_.tag == ZX_T_INT) { \
                zx_list *l_ = ZX_AS_LIST(a_); \
                res_ = b_.u.i >= 0 && b_.u.i < (int64_t)l_->len ? zx_list_get(l_, (uint32_t)b_.u.i) : zx_null(); \
            } else if (zx_is_type(a_, ZX_O_MAP) && zx_is_type(b_, ZX_O_STRING)) { \
                zx_value *v_ = map_field(f->code, PC() + Q_LOADS_##S, ZX_AS_MAP(a_), b_); \
                res_ = v_ ? *v_ : zx_null(); \
            } else { \
                Q_PLAIN(S); \
            } \
            zx_incref(res_);
#define Q_COMPARE(S, rel) \
            if (a_.tag == ZX_T_INT && b_.tag == ZX_T_INT) c_ = a_.u.i rel b_.u.i; \
            else if (a_.tag == ZX_T_FLOAT && b_.tag == ZX_T_FLOAT) c_ = a_.u.f rel b_.u.f; \
            else Q_PLAIN(S);
#define Q_OP_LT(S) Q_COMPARE(S, <)
#define Q_OP_LTE(S) Q_COMPARE(S, <=)
#define Q_OP_GT(S) Q_COMPARE(S, >)
#define Q_OP_GTE(S) Q_COMPARE(S, >=)
/* == on numbers of one kind, and against null (equal only to null) */
#define Q_EQUAL(S, is) \
            if (a_.tag == ZX_T_INT && b_.tag == ZX_T_INT) c_ = (a_.u.i == b_.u.i) == (is); \
            else if (a_.tag == ZX_T_FLOAT && b_.tag == ZX_T_FLOAT) c_ = (a_.u.f == b_.u.f) == (is); \
            else if ((a_.tag == ZX_T_NULL || b_.tag == ZX_T_NULL) && a_.tag != ZX_T_UNDEF && b_.tag != ZX_T_UNDEF) \
                c_ = (a_.tag == b_.tag) == (is); \
            else Q_PLAIN(S);
#define Q_OP_EQ(S) Q_EQUAL(S, true)
#define Q_OP_NEQ(S) Q_EQUAL(S, false)
#define Q_TAIL_PUSH(S) \
            if (Q_TOS_##S) { \
                zx_decref(a_); \
                TOP(0) = res_; \
            } else { \
                PUSH(res_); \
            } \
            ip += Q_LOADS_##S + 1; \
            DISPATCH();
#define Q_TAIL_STORE(S) \
            if (Q_TOS_##S) { \
                zx_decref(a_); \
                sp--; \
            } \
            zx_value *d_ = &locals[ip[Q_LOADS_##S + 1].a], old_ = *d_; \
            *d_ = res_; \
            zx_decref(old_); \
            ip += Q_LOADS_##S + 2; \
            if (ip->op == OP_JUMP && ip != stop) JUMP_TO(ip->a);   /* a loop body's last statement */ \
            DISPATCH();
#define Q_TAIL_COND(S) \
            if (Q_TOS_##S) { \
                zx_decref(a_); \
                sp--; \
            } \
            ip += Q_LOADS_##S; \
            COND_RESULT(c_);
#define QUICK_HANDLER(S, O, T) \
        L_Q_##S##_##O##_##T: { \
            zx_value a_, b_, res_ = zx_null(); \
            bool c_ = false; \
            (void)res_; \
            (void)c_; \
            Q_FETCH_##S \
            Q_OP_##O(S) \
            Q_TAIL_##T(S) \
        }
        QUICK_FORMS(QUICK_HANDLER)
#undef QUICK_HANDLER
        /* o[i] = v on a list element in range or a map's existing string key */
#define Q_STORE_INDEX(F, v_fetch) \
        L_Q_##F: { \
            zx_value o_ = vload(&locals[ip[0].a]), k_ = vload(&locals[ip[1].a]), v_ = v_fetch, *slot_ = NULL; \
            if (v_.tag == ZX_T_UNDEF) goto L_LOAD_LOCAL; \
            if (zx_is_type(o_, ZX_O_LIST) && k_.tag == ZX_T_INT) { \
                zx_list *l_ = ZX_AS_LIST(o_); \
                if (k_.u.i < 0 || k_.u.i >= (int64_t)l_->len) goto L_LOAD_LOCAL; \
                if (l_->kind != ZX_LIST_GENERIC) { \
                    /* an unboxed item of v's type: no reference to count; another type \
                     * makes the list generic on the plain path */ \
                    if (v_.tag != l_->kind) goto L_LOAD_LOCAL; \
                    zx_list_put(l_, (uint32_t)k_.u.i, v_); \
                    ip += 4; \
                    DISPATCH(); \
                } \
                slot_ = &l_->items[k_.u.i]; \
            } else if (zx_is_type(o_, ZX_O_MAP) && zx_is_type(k_, ZX_O_STRING)) { \
                slot_ = map_field(f->code, PC() + 3, ZX_AS_MAP(o_), k_); \
            } \
            if (!slot_) goto L_LOAD_LOCAL; \
            zx_incref(v_); \
            zx_value old_ = *slot_; \
            *slot_ = v_; \
            zx_decref(old_); \
            if (zx_is_obj(v_) && v_.u.o->type != ZX_O_STRING) zx_heap_note_cycle_candidate(heap, o_.u.o); \
            ip += 4; \
            DISPATCH(); \
        }
        Q_STORE_INDEX(SI_LLL, vload(&locals[ip[2].a]))
        Q_STORE_INDEX(SI_LLK, consts[ip[2].a])
#undef Q_STORE_INDEX
#define Q_PUSH2(F, b_fetch) \
        L_Q_##F: { \
            zx_value a_ = vload(&locals[ip[0].a]), b_ = b_fetch; \
            if (a_.tag == ZX_T_UNDEF || b_.tag == ZX_T_UNDEF) goto L_LOAD_LOCAL; \
            zx_incref(a_); \
            zx_incref(b_); \
            PUSH(a_); \
            PUSH(b_); \
            ip += 2; \
            DISPATCH(); \
        }
        Q_PUSH2(LL_PUSH, vload(&locals[ip[1].a]))
        Q_PUSH2(LK_PUSH, consts[ip[1].a])
#undef Q_PUSH2
#define Q_MOVE(F, fetch, first) \
        L_Q_##F: { \
            zx_value v_ = fetch; \
            if (v_.tag == ZX_T_UNDEF) goto first; \
            zx_incref(v_); \
            zx_value *d_ = &locals[ip[1].a], old_ = *d_; \
            *d_ = v_; \
            zx_decref(old_); \
            ip += 2; \
            DISPATCH(); \
        }
        Q_MOVE(L_MOVE, vload(&locals[ip[0].a]), L_LOAD_LOCAL)
        Q_MOVE(K_MOVE, consts[ip[0].a], L_LOAD_CONST)
#undef Q_MOVE
        }
        ip++;
    }

at_end:     /* the base frame reached end_pc */
    SAVE();
    return ZX_OK;

fail:       /* f->sp and f->pc are saved */
    if (st == ZX_OK) st = t->status != ZX_OK ? t->status : ZX_E_RUNTIME;
    /* the innermost handler that covers the failing instruction, frame by frame outwards;
     * the frames this call pushed are unwound, the base frame is the caller's to pop */
    for (;;) {
        if ((f != base || catch_base) && zx_task_catch(t, f)) {
            st = ZX_OK;
            goto dispatch;
        }
        if (f == base) break;
        zx_frame *caller = f->parent;
        zx_func *fn = f->func;
        zx_frame_pop(t, f);
        zx_obj_decref(fn);
        f = caller;
    }
    return st;
#undef CASE
#undef PC
#undef SAVE
#undef LOAD
#undef DISPATCH
#undef NEXT
#undef FAIL
#undef RAISE
#undef CHECK
#undef POLL
#undef PUSH
#undef POPV
#undef TOP
#undef COND_RESULT
#undef RESUME_CALLER
#undef BACK_EDGE
#undef JUMP_TO
#undef Q_ARITH
#undef Q_COMPARE
#undef Q_DBL
#undef Q_EQUAL
#undef Q_FETCH_K
#undef Q_FETCH_L
#undef Q_FETCH_LK
#undef Q_FETCH_LL
#undef Q_FIRST_K
#undef Q_FIRST_L
#undef Q_FIRST_LK
#undef Q_FIRST_LL
#undef Q_LOADS_K
#undef Q_LOADS_L
#undef Q_LOADS_LK
#undef Q_LOADS_LL
#undef Q_NUM
#undef Q_OP_ADD
#undef Q_OP_EQ
#undef Q_OP_GT
#undef Q_OP_GTE
#undef Q_OP_INDEX
#undef Q_OP_LT
#undef Q_OP_LTE
#undef Q_OP_MUL
#undef Q_OP_NEQ
#undef Q_OP_SUB
#undef Q_PLAIN
#undef Q_TAIL_COND
#undef Q_TAIL_PUSH
#undef Q_TAIL_STORE
#undef Q_TOS_K
#undef Q_TOS_L
#undef Q_TOS_LK
#undef Q_TOS_LL
}

zx_status zx_interp_run(zx_task *t, zx_frame *base, uint32_t end_pc, zx_value *result)
{
    return interp_loop(t, base, end_pc, result, true);
}

zx_status zx_interp_step(zx_task *t, zx_frame *f, uint32_t end_pc)
{
    return interp_loop(t, f, end_pc, NULL, false);
}

zx_status zx_interp_exec(zx_task *t, zx_frame *f, uint32_t end_pc, zx_value *result)
{
    zx_native_fn nat = tier_native(f->code);
    if (nat && native_room(t, f->depth)) return run_native(t, nat, f, end_pc, result);
    if (f->pc == 0) tier_tick(t, f->code, JIT_ENTRY_TICKS);
    return zx_interp_run(t, f, end_pc, result);
}

zx_status zx_interp_call(zx_task *t, zx_frame *caller, zx_value fn, const zx_value *argv, uint32_t argc,
                         zx_value *result)
{
    if (zx_is_type(fn, ZX_O_FUNC)) {
        zx_func *func = ZX_AS_FUNC(fn);
        zx_status st = check_arity(t, caller, func->code, argc);
        if (st != ZX_OK) return st;
        zx_frame *f = zx_frame_push(t, func->code, func, argv, argc, caller);
        if (!f) return t->status;
        st = zx_interp_exec(t, f, UINT32_MAX, result);
        zx_frame_pop(t, f);
        return st;
    }
    if (zx_is_type(fn, ZX_O_BUILTIN)) {
        zx_value *args = (zx_value *)argv;
        return call_builtin_value(t, caller, ((zx_builtin_obj *)fn.u.o)->id, args, argc, result);
    }
    if (zx_is_type(fn, ZX_O_CLASS)) return zx_objop_construct(t, caller, ZX_AS_CLASS(fn), argv, argc, result);
    return zx_task_raise_err(t, caller, ZX_ERR_NOT_CALLABLE, zx_type_name(fn));
}

/* ---------- entry points for the JIT's runtime helpers (interp_ops.h) ---------- */

zx_status zx_interp_stop_status(zx_task *t, zx_frame *f) { return stop_status(t, f); }

zx_status zx_interp_raise_undefined(zx_task *t, zx_frame *f)
{
    return raise_undefined(t, f, &f->code->code[f->pc]);
}

zx_status zx_interp_index_get(zx_task *t, zx_frame *f, zx_value obj, zx_value key, zx_value *out)
{
    return index_get(t, f, obj, key, out);
}

zx_status zx_interp_index_set(zx_task *t, zx_frame *f, zx_value obj, zx_value key, zx_value v)
{
    return index_set(t, f, obj, key, v);
}
