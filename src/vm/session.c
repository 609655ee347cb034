/* session.c — interactive sessions (zexus.h, zx_session_*): each piece of source compiled
 * against the globals of the pieces before it and run with their values. */
#include <stdlib.h>
#include <string.h>

#include "front/ast.h"
#include "vm/api.h"
#include "vm/vm.h"

#define ERRSZ 1024

/*
 * Every piece is its own program.  The compiler declares the globals of the session's current
 * program first, in the same slots (zx_compile_session), so code of every earlier piece and
 * the new piece agree on where each global lives; the new run starts with the current run's
 * values in those slots (zx_vm_run_seeded), and once it has started it becomes the current
 * one.  Earlier programs stay loaded: the closures in the globals point into their code.
 */
struct zx_session {
    zx_vm *vm;
    char *name;
    zx_program **progs;          /* every piece that compiled, oldest first */
    size_t nprogs, capprogs;
    zx_program *cur;             /* whose state holds the globals; NULL before the first run */
};

zx_status zx_session_create(zx_vm *vm, const char *name, zx_session **out)
{
    if (!vm || !out) return ZX_E_ARGUMENT;
    zx_session *s = calloc(1, sizeof *s);
    if (!s) return ZX_E_MEMORY;
    s->vm = vm;
    s->name = strdup(name ? name : "<session>");
    if (!s->name) {
        free(s);
        return ZX_E_MEMORY;
    }
    *out = s;
    return ZX_OK;
}

zx_status zx_session_eval(zx_session *s, const char *src, size_t len)
{
    if (!s || (!src && len)) return ZX_E_ARGUMENT;
    zx_vm *vm = s->vm;
    if (zx_vm_check_idle(vm) != ZX_OK) return ZX_E_ARGUMENT;
    if (s->nprogs == s->capprogs) {
        size_t ncap = s->capprogs ? s->capprogs * 2 : 16;
        zx_program **q = realloc(s->progs, ncap * sizeof *q);
        if (!q) {
            zx_vm_set_error(vm, "%s: error: out of memory", s->name);
            return ZX_E_MEMORY;
        }
        s->progs = q;
        s->capprogs = ncap;
    }
    char err[ERRSZ];
    zx_node *ast = zx_parse(src ? src : "", len, s->name, err, sizeof err);
    if (!ast) {
        zx_vm_set_error(vm, "%s", err);
        return ZX_E_SYNTAX;
    }
    zx_host_names hosts = { zx_host_has_name, vm };
    zx_session_input cs = { s->cur, true };
    bool oom = false;
    zx_program *p = zx_compile_session(ast, s->name, vm->heap, &hosts, &cs, err, sizeof err, &oom);
    zx_ast_free(ast);
    if (!p) {
        zx_vm_set_error(vm, "%s", err);
        return oom ? ZX_E_MEMORY : ZX_E_SYNTAX;
    }
    zx_status st = zx_vm_adopt(vm, p, &p);
    if (st != ZX_OK) return st;
    s->progs[s->nprogs++] = p;
    st = zx_vm_run_seeded(p, s->cur);
    if (p->state) {
        /* the run started with the session's values: its globals are the session's now */
        if (s->cur) {
            pthread_mutex_lock(&vm->state_lock);
            zx_program_state_free(s->cur);
            pthread_mutex_unlock(&vm->state_lock);
        }
        s->cur = p;
    }
    return st;
}

zx_status zx_session_program(zx_session *s, zx_program **out)
{
    if (!s || !out) return ZX_E_ARGUMENT;
    if (!s->cur) return ZX_E_NOT_FOUND;
    *out = s->cur;
    return ZX_OK;
}

void zx_session_destroy(zx_session *s)
{
    if (!s) return;
    /* newest first: a program's globals may hold closures of every earlier one */
    while (s->nprogs) zx_program_destroy(s->progs[--s->nprogs]);
    free(s->progs);
    free(s->name);
    free(s);
}
