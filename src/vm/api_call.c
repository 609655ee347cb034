/* api_call.c — zexus.h's calls into a program's last run (actions, globals) and the place of the last error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/api.h"
#include "runtime/builtins.h"

#define CALL_MAX_ARGS 255     /* as for a call in source */

zx_status zx_vm_check_idle(zx_vm *vm)
{
    if (!atomic_load(&vm->running)) return ZX_OK;
    /* no message: last_error belongs to the run in progress */
    return ZX_E_ARGUMENT;
}

/* The slot of global `name` of p, or -1. */
static long global_slot(const zx_program *p, const char *name)
{
    for (uint32_t i = 0; i < p->nglobals; i++)
        if (strcmp(p->globals[i].name, name) == 0) return (long)i;
    return -1;
}

/* Common checks of the global accessors: the program ran and has the global. */
static zx_status find_global(zx_program *p, const char *name, long *slot)
{
    zx_vm *vm = p->vm;
    if (!p->state) {
        zx_vm_set_error(vm, "%s: error: the program has not run, so '%s' has no value", p->source_name, name);
        return ZX_E_NOT_FOUND;
    }
    *slot = global_slot(p, name);
    if (*slot < 0) {
        zx_vm_set_error(vm, "%s: error: the program has no global '%s'", p->source_name, name);
        return ZX_E_NOT_FOUND;
    }
    return ZX_OK;
}

zx_status zx_program_get_global(zx_program *p, const char *name, zx_val **out)
{
    if (!p || !p->vm || !name || !out) return ZX_E_ARGUMENT;
    zx_vm *vm = p->vm;
    if (zx_vm_check_idle(vm) != ZX_OK) return ZX_E_ARGUMENT;
    vm->last_error.len = 0;
    long slot;
    zx_status st = find_global(p, name, &slot);
    if (st != ZX_OK) return st;
    uint32_t g = (uint32_t)slot;
    zx_value v;
    zx_rc_concurrent_begin();          /* zx_program_snapshot may take the value meanwhile */
    partitions_snapshot(p->state->parts, &g, 1, &v);   /* a shared global: under its lock */
    if (v.tag == ZX_T_UNDEF) {
        zx_rc_concurrent_end();
        zx_vm_set_error(vm, "%s: error: global '%s' was never assigned", p->source_name, name);
        return ZX_E_NOT_FOUND;
    }
    zx_val *h = zx_val_wrap(vm, v);    /* takes the snapshot's reference; released on failure */
    zx_rc_concurrent_end();
    if (!h) return ZX_E_MEMORY;
    *out = h;
    return ZX_OK;
}

zx_status zx_program_set_global(zx_program *p, const char *name, const zx_val *value)
{
    if (!p || !p->vm || !name || !value || value->vm != p->vm) return ZX_E_ARGUMENT;
    zx_vm *vm = p->vm;
    if (zx_vm_check_idle(vm) != ZX_OK) return ZX_E_ARGUMENT;
    vm->last_error.len = 0;
    long slot;
    zx_status st = find_global(p, name, &slot);
    if (st != ZX_OK) return st;
    if (p->globals[slot].is_const) {
        zx_vm_set_error(vm, "%s: error: cannot assign to constant '%s'", p->source_name, name);
        return ZX_E_ARGUMENT;
    }
    zx_incref(value->v);
    partitions_store(p->state->parts, (uint32_t)slot, value->v);
    return ZX_OK;
}

/* The slots of names[0..n-1]; false when one is not a global of p (*bad: its index). */
static bool global_slots(const zx_program *p, const char *const *names, size_t n, uint32_t *slots, size_t *bad)
{
    for (size_t i = 0; i < n; i++) {
        long slot = global_slot(p, names[i]);
        if (slot < 0) {
            *bad = i;
            return false;
        }
        slots[i] = (uint32_t)slot;
    }
    return true;
}

/* May run on any thread, also while the VM runs: it sets no error message (last_error belongs
 * to the host thread) and reads the program's state under vm->state_lock, so that a run
 * starting meanwhile cannot free it.  While a run or call is in progress, only shared globals
 * may be read: they alone are stored under the partitions' lock (partition.h). */
zx_status zx_program_snapshot(zx_program *p, const char *const *names, size_t n, zx_val **out)
{
    if (!p || !p->vm || (n && (!names || !out))) return ZX_E_ARGUMENT;
    for (size_t i = 0; i < n; i++)
        if (!names[i]) return ZX_E_ARGUMENT;
    zx_vm *vm = p->vm;
    /* this thread may not be the one running the program: its counts change atomically */
    zx_rc_concurrent_begin();
    uint32_t *slots = malloc((n ? n : 1) * sizeof *slots);
    zx_value *vals = malloc((n ? n : 1) * sizeof *vals);
    zx_val **handles = calloc(n ? n : 1, sizeof *handles);
    zx_status st = ZX_OK;
    size_t bad = 0;
    if (!slots || !vals || !handles) {
        st = ZX_E_MEMORY;
        goto out;
    }
    pthread_mutex_lock(&vm->state_lock);
    if (!p->state || !global_slots(p, names, n, slots, &bad)) st = ZX_E_NOT_FOUND;
    for (size_t i = 0; st == ZX_OK && i < n; i++)
        if (atomic_load(&vm->running) && !p->state->parts->is_shared[slots[i]]) st = ZX_E_ARGUMENT;
    if (st == ZX_OK) partitions_snapshot(p->state->parts, slots, n, vals);
    pthread_mutex_unlock(&vm->state_lock);
    if (st != ZX_OK) goto out;
    for (size_t i = 0; i < n; i++) {
        if (vals[i].tag == ZX_T_UNDEF) continue;              /* not assigned (yet): NULL */
        if (st != ZX_OK) {
            zx_decref(vals[i]);
            continue;
        }
        handles[i] = zx_val_wrap(vm, vals[i]);                 /* on failure it released vals[i] */
        if (!handles[i]) st = ZX_E_MEMORY;
    }
    if (st == ZX_OK) {
        if (n) memcpy(out, handles, n * sizeof *out);
    } else {
        for (size_t i = 0; i < n; i++) zx_val_free(handles[i]);
    }
out:
    free(slots);
    free(vals);
    free(handles);
    zx_rc_concurrent_end();
    return st;
}

zx_status zx_program_set_globals(zx_program *p, const char *const *names, const zx_val *const *values, size_t n)
{
    if (!p || !p->vm || (n && (!names || !values))) return ZX_E_ARGUMENT;
    zx_vm *vm = p->vm;
    for (size_t i = 0; i < n; i++)
        if (!names[i] || !values[i] || values[i]->vm != vm) return ZX_E_ARGUMENT;
    if (zx_vm_check_idle(vm) != ZX_OK) return ZX_E_ARGUMENT;
    vm->last_error.len = 0;
    if (!p->state) {
        zx_vm_set_error(vm, "%s: error: the program has not run, so its globals cannot be set", p->source_name);
        return ZX_E_NOT_FOUND;
    }
    uint32_t *slots = malloc((n ? n : 1) * sizeof *slots);
    zx_value *vals = malloc((n ? n : 1) * sizeof *vals);
    zx_status st = ZX_OK;
    size_t bad = 0;
    if (!slots || !vals) {
        st = ZX_E_MEMORY;
    } else if (!global_slots(p, names, n, slots, &bad)) {
        zx_vm_set_error(vm, "%s: error: the program has no global '%s'", p->source_name, names[bad]);
        st = ZX_E_NOT_FOUND;
    } else {
        for (size_t i = 0; i < n && st == ZX_OK; i++)
            if (p->globals[slots[i]].is_const) {
                zx_vm_set_error(vm, "%s: error: cannot assign to constant '%s'", p->source_name, names[i]);
                st = ZX_E_ARGUMENT;
            }
    }
    if (st == ZX_OK) {
        for (size_t i = 0; i < n; i++) {
            vals[i] = values[i]->v;
            zx_incref(vals[i]);
        }
        partitions_exchange(p->state->parts, slots, n, vals);   /* all at once for a snapshot */
        for (size_t i = 0; i < n; i++) zx_decref(vals[i]);
    }
    free(slots);
    free(vals);
    return st;
}

typedef struct call_job {
    zx_task *root;
    zx_frame *top;
    zx_value fn;
    const zx_value *args;
    uint32_t argc;
    zx_value *r;
} call_job;

/* Runs on the thread zx_run_with_stack picks: the cycle collector's gate is per thread. */
static zx_status call_job_run(void *ctx)
{
    call_job *j = ctx;
    zx_heap *h = j->root->run->heap;
    zx_heap_set_poll_hint(h, &j->root->run->cancel);
    bool concurrent = zx_vm_run_concurrent(j->root->run->prog);   /* (vm.c) */
    if (concurrent) zx_rc_concurrent_begin();
    zx_heap_mutator_enter(h);                    /* the cycle collector's gate (value.h) */
    zx_status st = zx_interp_call(j->root, j->top, j->fn, j->args, j->argc, j->r);
    zx_heap_mutator_leave(h);
    if (concurrent) zx_rc_concurrent_end();
    zx_heap_set_poll_hint(h, NULL);
    return st;
}

zx_status zx_program_call(zx_program *p, const char *name, const zx_val *const *argv, int argc,
                          zx_val **result)
{
    if (!p || !p->vm || !name || argc < 0 || argc > CALL_MAX_ARGS || (argc > 0 && !argv)) return ZX_E_ARGUMENT;
    zx_vm *vm = p->vm;
    for (int i = 0; i < argc; i++)
        if (!argv[i] || argv[i]->vm != vm) return ZX_E_ARGUMENT;
    if (zx_vm_check_idle(vm) != ZX_OK) return ZX_E_ARGUMENT;
    vm->last_error.len = 0;
    long slot;
    zx_status st = find_global(p, name, &slot);
    if (st != ZX_OK) return st;
    zx_run *run = p->state;
    zx_value fn = *run->gvar[slot];
    if (!zx_is_type(fn, ZX_O_FUNC) && !zx_is_type(fn, ZX_O_BUILTIN)) {
        zx_vm_set_error(vm, "%s: error: global '%s' is %s, not an action", p->source_name, name,
                        fn.tag == ZX_T_UNDEF ? "unassigned" : zx_type_name(fn));
        return ZX_E_NOT_FOUND;
    }
    if (zx_is_type(fn, ZX_O_FUNC) && ZX_AS_FUNC(fn)->code->nparams != (uint32_t)argc) {
        /* raised where the action is defined: the call comes from C, not from a line */
        const zx_code *c = ZX_AS_FUNC(fn)->code;
        const char *file = ZX_AS_FUNC(fn)->prog->source_name;
        char what[200];
        zx_err_printf(what, sizeof what, ZX_ERR_ARITY, (int)c->nparams, argc);
        zx_vm_set_error(vm, "%s:%u:%u: runtime error: %s\n  at %s (%s:%u:%u)",
                        file, c->pos.line, c->pos.col, what, c->name, file, c->pos.line, c->pos.col);
        return ZX_E_RUNTIME;
    }
    /* decided before the call runs, like a run: a parallel_map or fork in it reads the plan */
    const zx_plan *plan = zx_vm_plan(vm, p);
    if (!plan) {
        zx_vm_set_error(vm, "%s: error: out of memory", p->source_name);
        return ZX_E_MEMORY;
    }
    zx_vm_run_attach(vm, run, plan);
    zx_value args[CALL_MAX_ARGS];
    for (int i = 0; i < argc; i++) args[i] = argv[i]->v;

    bool concurrent = zx_vm_run_concurrent(p);   /* until `running` is cleared (vm.c) */
    if (concurrent) zx_rc_concurrent_begin();
    zx_incref(fn);                /* the action may reassign its own global */
    pthread_mutex_lock(&vm->state_lock);     /* see zx_program_snapshot */
    atomic_store(&vm->running, 1);
    pthread_mutex_unlock(&vm->state_lock);
    atomic_store(&run->cancel, 0);
    atomic_store(&run->output_failed, 0);
    zx_task root;
    zx_task_init(&root, run, NULL);
    root.is_root = 1;
    root.stream_threshold = vm->line_buffered ? 0 : 8192;
    zx_value r = zx_null();
    /* the call is made from the top level: errors raised at the call itself (a wrong
     * argument count) and everything that expects a calling frame get one */
    zx_frame *top = zx_frame_push(&root, p->main, NULL, NULL, 0, NULL);
    if (!top) {
        st = root.status;
    } else {
        /* on a C stack that the depth limit fits in, as a run (vm.c) */
        call_job j = { &root, top, fn, args, (uint32_t)argc, &r };
        st = zx_run_with_stack(run, call_job_run, &j);
        zx_frame_pop(&root, top);
    }
    zx_decref(fn);
    st = zx_vm_finish_root(vm, p, &root, st);
    if (concurrent) zx_rc_concurrent_end();
    if (st != ZX_OK) {
        zx_decref(r);
        return st;
    }
    if (!result) {
        zx_decref(r);
        return ZX_OK;
    }
    zx_val *h = zx_val_wrap(vm, r);
    if (!h) return ZX_E_MEMORY;
    *result = h;
    return ZX_OK;
}

/* ---------- the place and the stack of the last error ---------- */

typedef struct error_frame {
    const char *action, *file;
    uint32_t line, col;
} error_frame;

struct zx_error_info {
    char *source;                 /* the message this was parsed from */
    char *text;                   /* a copy cut into the strings below */
    bool has_place;
    const char *file;
    uint32_t line, col;
    int nframes;
    error_frame *frames;
};

void zx_vm_error_info_free(zx_vm *vm)
{
    struct zx_error_info *e = vm->error_info;
    if (!e) return;
    free(e->source);
    free(e->text);
    free(e->frames);
    free(e);
    vm->error_info = NULL;
}

static bool all_digits(const char *s, size_t n)
{
    if (n == 0 || n > 9) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

/* Split "FILE:LINE:COL" (in place) into its parts; a prefix without the numbers is all file. */
static void split_place(char *s, const char **file, uint32_t *line, uint32_t *col)
{
    *file = s;
    *line = *col = 0;
    char *c2 = strrchr(s, ':');
    if (!c2 || !all_digits(c2 + 1, strlen(c2 + 1))) return;
    *c2 = '\0';
    char *c1 = strrchr(s, ':');
    if (!c1 || !all_digits(c1 + 1, strlen(c1 + 1))) {
        *c2 = ':';
        return;
    }
    *c1 = '\0';
    *line = (uint32_t)strtoul(c1 + 1, NULL, 10);
    *col = (uint32_t)strtoul(c2 + 1, NULL, 10);
}

/* Parse vm->last_error into vm->error_info unless that is already done. */
static struct zx_error_info *error_info(zx_vm *vm)
{
    const char *msg = zx_vm_last_error(vm);
    struct zx_error_info *e = vm->error_info;
    if (e && strcmp(e->source, msg) == 0) return e;
    zx_vm_error_info_free(vm);
    e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->source = strdup(msg);
    e->text = strdup(msg);
    size_t lines = 1;
    for (const char *q = msg; *q; q++) lines += *q == '\n';
    e->frames = calloc(lines, sizeof *e->frames);
    if (!e->source || !e->text || !e->frames) {
        free(e->source);
        free(e->text);
        free(e->frames);
        free(e);
        return NULL;
    }
    vm->error_info = e;
    char *line = e->text;
    for (bool first = true; line && *line; first = false) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        if (first) {
            /* "PLACE: error: ..." or "PLACE: runtime error: ..." */
            char *m = strstr(line, ": error: ");
            char *r = strstr(line, ": runtime error: ");
            if (!m || (r && r < m)) m = r;
            if (m && m > line) {
                *m = '\0';
                split_place(line, &e->file, &e->line, &e->col);
                e->has_place = true;
            }
        } else if (strncmp(line, "  at ", 5) == 0) {
            /* "  at NAME (FILE:LINE:COL)" */
            char *open = strrchr(line, '(');
            char *close = strrchr(line, ')');
            if (open && close && close > open && open > line + 5 && open[-1] == ' ') {
                open[-1] = '\0';
                *close = '\0';
                error_frame *fr = &e->frames[e->nframes++];
                fr->action = line + 5;
                split_place(open + 1, &fr->file, &fr->line, &fr->col);
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    return e;
}

zx_status zx_vm_last_error_place(zx_vm *vm, const char **file, uint32_t *line, uint32_t *col)
{
    if (!vm || !file || !line || !col) return ZX_E_ARGUMENT;
    struct zx_error_info *e = error_info(vm);
    if (!e) return ZX_E_MEMORY;
    if (!e->has_place) return ZX_E_NOT_FOUND;
    *file = e->file;
    *line = e->line;
    *col = e->col;
    return ZX_OK;
}

zx_status zx_vm_last_error_frame(zx_vm *vm, int index, const char **action, const char **file,
                                 uint32_t *line, uint32_t *col)
{
    if (!vm || index < 0 || !action || !file || !line || !col) return ZX_E_ARGUMENT;
    struct zx_error_info *e = error_info(vm);
    if (!e) return ZX_E_MEMORY;
    if (index >= e->nframes) return ZX_E_NOT_FOUND;
    *action = e->frames[index].action;
    *file = e->frames[index].file;
    *line = e->frames[index].line;
    *col = e->frames[index].col;
    return ZX_OK;
}
