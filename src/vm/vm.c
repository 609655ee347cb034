/* vm.c — the VM object: implements include/zexus.h over the front end, bytecode and interpreter. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "vm/api.h"
#include "front/ast.h"
#include "exec/interp.h"
#include "exec/parallel.h"
#include "vm/vm.h"
#include "jit/jit.h"
#include "dist/dist.h"

#define ERRSZ 1024

const char *zx_status_str(zx_status s)
{
    switch (s) {
    case ZX_OK: return "ok";
    case ZX_E_ARGUMENT: return "bad argument";
    case ZX_E_SYNTAX: return "syntax error";
    case ZX_E_IO: return "input/output error";
    case ZX_E_BYTECODE: return "invalid bytecode";
    case ZX_E_RUNTIME: return "runtime error";
    case ZX_E_INTERRUPTED: return "interrupted";
    case ZX_E_MEMORY: return "memory limit exceeded";
    case ZX_E_VERSION: return "version mismatch";
    case ZX_E_NOT_FOUND: return "not found";
    case ZX_E_OUTPUT: return "output closed";
    case ZX_E_UNSUPPORTED: return "unsupported";
    }
    return "unknown status";
}

const char *zx_version(void) { return ZEXUS_VERSION_STRING; }

zx_status zx_check_version(int major, int minor)
{
    /* minor versions only add to the API: an older caller is fine, a newer one is not */
    return major == ZEXUS_VERSION_MAJOR && minor <= ZEXUS_VERSION_MINOR ? ZX_OK : ZX_E_VERSION;
}

void zx_options_init(zx_options *o)
{
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->workers = 0;
    o->mode = ZX_MODE_AUTO;
    o->jit = ZX_JIT_AUTO;
    o->opt_level = 2;
    o->chunk_size = 50;
    o->pin = 1;
    o->max_depth = 10000;
    o->use_cache = 1;
}

void zx_vm_set_error(zx_vm *vm, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    vm->last_error.len = 0;
    if (n > 0) {
        char *tmp = malloc((size_t)n + 1);
        if (tmp) {
            vsnprintf(tmp, (size_t)n + 1, fmt, ap2);
            zx_buf_put(&vm->last_error, tmp, (size_t)n);
            free(tmp);
        }
    }
    va_end(ap2);
}

/* The default sink.  A reader that stops reading must not make the run deaf to
 * zx_vm_interrupt (SIGINT, --max-time): where write() can block, wait in poll() with a short
 * timeout and write at most PIPE_BUF bytes once it is writable, which a pipe then takes
 * without blocking.  A signal handler ends poll() at once (poll is never restarted); the
 * timeout covers a signal that lands just before poll() is entered.  Why a write
 * failed is kept for zx_vm_finish_root: only a closed pipe (EPIPE) ends the run quietly. */
static int stdout_sink(void *ud, const char *data, size_t len)
{
    zx_vm *vm = ud;
    while (len > 0) {
        size_t n = len;
        if (vm->stdout_may_block) {
            struct pollfd pfd = { .fd = STDOUT_FILENO, .events = POLLOUT };
            int pr = poll(&pfd, 1, 100);
            if (pr < 0 && errno != EINTR) goto fail;
            /* only a write that would wait gives way to an interrupt: output the run
             * committed before it still goes out while the reader takes it */
            if (pr <= 0) {
                if (atomic_load(&vm->interrupt)) goto fail_intr;
                continue;
            }
            if (n > PIPE_BUF) n = PIPE_BUF;
        }
        ssize_t w = write(STDOUT_FILENO, data, n);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            goto fail;
        }
        data += w;
        len -= (size_t)w;
    }
    return 0;
fail_intr:
    atomic_store(&vm->stdout_errno, EINTR);
    return -1;
fail:
    atomic_store(&vm->stdout_errno, errno ? errno : EIO);
    return -1;
}

zx_status zx_vm_create(const zx_options *opts, zx_vm **out)
{
    if (!out) return ZX_E_ARGUMENT;
    zx_options o;
    zx_options_init(&o);
    if (opts) {
        if (opts->struct_size != sizeof(zx_options)) return ZX_E_VERSION;
        o = *opts;
    }
    /* ZX_MAX_WORKERS: each worker is an OS thread with a large stack reservation; 200000
     * of them ran the process out of threads and address space inside oneTBB, where no
     * error comes back (SIGSEGV in its allocator, or zx_vm_destroy waiting for threads
     * that never started). */
    if (o.workers < 0 || o.workers > ZX_MAX_WORKERS || o.opt_level < 0 || o.opt_level > 3 || o.chunk_size < 1 ||
        o.max_depth < 1 || o.max_depth > ZX_MAX_DEPTH || o.mode < ZX_MODE_AUTO || o.mode > ZX_MODE_PAR || o.jit < ZX_JIT_AUTO || o.jit > ZX_JIT_STRICT)
        return ZX_E_ARGUMENT;
    zx_vm *vm = calloc(1, sizeof *vm);
    if (!vm) return ZX_E_MEMORY;
    vm->opts = o;
    if (o.topology) {
        vm->topology = strdup(o.topology);
        vm->opts.topology = vm->topology;
    }
    zx_buf_init(&vm->last_error);
    zx_buf_put(&vm->last_error, "", 1);
    vm->last_error.len = 0;
    vm->heap = zx_heap_create_with(o.max_memory, o.alloc, o.alloc_ud);   /* zx_alloc_fn's type */
    if (!vm->heap) {
        free(vm->topology);
        free(vm);
        return ZX_E_MEMORY;
    }
    if (!o.output) {
        vm->opts.output = stdout_sink;
        vm->opts.output_userdata = vm;
        vm->line_buffered = isatty(STDOUT_FILENO);
        struct stat sb;
        vm->stdout_may_block = fstat(STDOUT_FILENO, &sb) != 0 || !(S_ISREG(sb.st_mode) || S_ISBLK(sb.st_mode));
    }
    atomic_init(&vm->interrupt, 0);
    atomic_init(&vm->stdout_errno, 0);
    vm->hosts.vm = vm;
    vm->hosts.invoke = zx_host_invoke;
    zx_buf_init(&vm->stats.notes);
    pthread_mutex_init(&vm->state_lock, NULL);
    zx_buf_init(&vm->stats.partitions_json);
    zx_buf_init(&vm->stats.partitions_text);
    pthread_mutex_init(&vm->stats.lock, NULL);
    /* A topology named by the caller is read now, so that a bad one is an error here and not
     * silently ignored by a run that happens never to need the workers. */
    if (o.topology) {
        char err[256];
        if (!zx_vm_topology(vm, err, sizeof err)) {
            zx_vm_destroy(vm);
            return ZX_E_ARGUMENT;
        }
    }
    *out = vm;
    return ZX_OK;
}

void zx_vm_destroy(zx_vm *vm)
{
    if (!vm) return;
    zx_dist_destroy(vm->dist);    /* rank 0 tells the other ranks to stop */
    vm->dist = NULL;
    while (vm->programs) zx_program_destroy(vm->programs);
    zx_host_table_free(vm);
    zx_vm_error_info_free(vm);
    zx_jit_host_destroy(vm->jit);
    vm->jit = NULL;
    zx_sched_destroy(vm->sched);
    zx_buf_free(&vm->stats.notes);
    zx_buf_free(&vm->stats.partitions_json);
    zx_buf_free(&vm->stats.partitions_text);
    pthread_mutex_destroy(&vm->stats.lock);
    pthread_mutex_destroy(&vm->state_lock);
    for (int i = 0; i < vm->argc; i++) free(vm->argv[i]);
    free(vm->argv);
    zx_heap_destroy(vm->heap);
    if (vm->topo) topo_destroy(vm->topo);  /* after the heap: NUMA-bound storage is freed with it */
    zx_buf_free(&vm->last_error);
    free(vm->topology);
    free(vm);
}

const char *zx_vm_last_error(const zx_vm *vm)
{
    if (!vm || !vm->last_error.data) return "";
    ((zx_vm *)vm)->last_error.data[vm->last_error.len] = '\0';
    return vm->last_error.data;
}

zx_status zx_vm_set_args(zx_vm *vm, int argc, const char *const *argv)
{
    if (!vm || argc < 0 || (argc > 0 && !argv)) return ZX_E_ARGUMENT;
    char **copy = calloc((size_t)argc + 1, sizeof *copy);
    if (!copy) return ZX_E_MEMORY;
    for (int i = 0; i < argc; i++) {
        copy[i] = strdup(argv[i] ? argv[i] : "");
        if (!copy[i]) {
            while (i--) free(copy[i]);
            free(copy);
            return ZX_E_MEMORY;
        }
    }
    for (int i = 0; i < vm->argc; i++) free(vm->argv[i]);
    free(vm->argv);
    vm->argv = copy;
    vm->argc = argc;
    return ZX_OK;
}

void zx_vm_interrupt(zx_vm *vm)
{
    if (vm) atomic_store(&vm->interrupt, 1);
}

/* ---------- loading ---------- */

static zx_status adopt(zx_vm *vm, zx_program *p, zx_program **out)
{
    char err[ERRSZ];
    if (!zx_verify_program(p, err, sizeof err)) {
        zx_vm_set_error(vm, "%s: error: %s", p->source_name, err);
        zx_program_free(p);
        return ZX_E_BYTECODE;
    }
    zx_program_intern_strings(p);   /* one object per constant string (jit/lower.c's key caches) */
    if (!zx_host_check_program(vm, p, err, sizeof err)) {
        zx_vm_set_error(vm, "%s: error: %s", p->source_name, err);
        zx_program_free(p);
        return ZX_E_NOT_FOUND;
    }
    /* the purity of the host functions it names is fixed now: the analysis reads it */
    if (!zx_host_purity_refresh(vm, p)) {
        zx_vm_set_error(vm, "%s: error: out of memory", p->source_name);
        zx_host_purity_free(p);
        zx_program_free(p);
        return ZX_E_MEMORY;
    }
    p->vm = vm;
    p->vm_next = vm->programs;
    if (vm->programs) vm->programs->vm_prev = p;
    vm->programs = p;
    if (vm->opts.jit != ZX_JIT_OFF && !vm->jit) {
        zx_jit_options jo = { vm->opts.jit, vm->opts.opt_level, vm->opts.dump_ir, vm->opts.perf,
                              vm->opts.use_cache };
        vm->jit = zx_jit_host_create(&jo);
        if (!vm->jit) {
            zx_vm_set_error(vm, "%s: error: out of memory", p->source_name);
            zx_program_destroy(p);
            return ZX_E_MEMORY;
        }
    }
    zx_status st = zx_jit_program_loaded(vm->jit, p, err, sizeof err);   /* --jit=always/strict compile now */
    if (st != ZX_OK) {
        zx_vm_set_error(vm, "%s: error: %s", p->source_name, err);
        zx_program_destroy(p);
        return st;
    }
    *out = p;
    return ZX_OK;
}

zx_status zx_vm_adopt(zx_vm *vm, zx_program *p, zx_program **out) { return adopt(vm, p, out); }

zx_status zx_program_load_source(zx_vm *vm, const char *name, const char *src, size_t len,
                                 zx_program **out)
{
    if (!vm || !out || (!src && len)) return ZX_E_ARGUMENT;
    if (zx_vm_check_idle(vm) != ZX_OK) return ZX_E_ARGUMENT;
    if (!name) name = "<source>";
    char err[ERRSZ];
    zx_node *ast = zx_parse(src ? src : "", len, name, err, sizeof err);
    if (!ast) {
        zx_vm_set_error(vm, "%s", err);
        return ZX_E_SYNTAX;
    }
    zx_host_names hosts = { zx_host_has_name, vm };
    bool oom = false;
    zx_program *p = zx_compile_hosts(ast, name, vm->heap, &hosts, err, sizeof err, &oom);
    zx_ast_free(ast);
    if (!p) {
        zx_vm_set_error(vm, "%s", err);
        return oom ? ZX_E_MEMORY : ZX_E_SYNTAX;
    }
    return adopt(vm, p, out);
}

zx_status zx_program_load_assembly(zx_vm *vm, const char *name, const char *text, size_t len,
                                   zx_program **out)
{
    if (!vm || !out || (!text && len)) return ZX_E_ARGUMENT;
    if (zx_vm_check_idle(vm) != ZX_OK) return ZX_E_ARGUMENT;
    if (!name) name = "<assembly>";
    char err[ERRSZ];
    bool oom = false;
    zx_program *p = zx_assemble_ex(text ? text : "", len, name, vm->heap, err, sizeof err, &oom);
    if (!p) {
        zx_vm_set_error(vm, "%s", err);
        return oom ? ZX_E_MEMORY : ZX_E_BYTECODE;
    }
    return adopt(vm, p, out);
}

zx_status zx_program_load_bytecode(zx_vm *vm, const void *data, size_t len, zx_program **out)
{
    return zx_vm_load_bytecode_named(vm, "<bytecode>", data, len, out);
}

zx_status zx_vm_load_bytecode_named(zx_vm *vm, const char *name, const void *data, size_t len,
                                    zx_program **out)
{
    if (!vm || !out || (!data && len)) return ZX_E_ARGUMENT;
    if (zx_vm_check_idle(vm) != ZX_OK) return ZX_E_ARGUMENT;
    char err[ERRSZ];
    bool oom = false;
    zx_program *p = zx_bytecode_read_ex(data, len, vm->heap, err, sizeof err, &oom);
    if (!p) {
        zx_vm_set_error(vm, "%s: error: %s", name, err);
        if (oom) return ZX_E_MEMORY;
        /* the right magic with another format version is a version mismatch, not damage */
        const uint8_t *b = data;
        if (len >= 6 && memcmp(b, "ZXBC", 4) == 0 && (b[4] | b[5] << 8) != ZX_BYTECODE_FORMAT_VERSION)
            return ZX_E_VERSION;
        return ZX_E_BYTECODE;
    }
    return adopt(vm, p, out);
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

zx_status zx_program_load_file(zx_vm *vm, const char *path, zx_program **out)
{
    if (!vm || !path || !out) return ZX_E_ARGUMENT;
    if (zx_vm_check_idle(vm) != ZX_OK) return ZX_E_ARGUMENT;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        zx_vm_set_error(vm, "%s: error: cannot open file: %s", path, strerror(errno));
        return ZX_E_IO;
    }
    zx_buf b;
    zx_buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) zx_buf_put(&b, chunk, n);
    bool bad = ferror(fp);
    int e = errno;
    fclose(fp);
    if (bad) {
        zx_buf_free(&b);
        zx_vm_set_error(vm, "%s: error: cannot read file: %s", path, strerror(e));
        return ZX_E_IO;
    }
    zx_status st;
    if (has_suffix(path, ".zxbc")) st = zx_vm_load_bytecode_named(vm, path, b.data, b.len, out);
    else if (has_suffix(path, ".zxa")) st = zx_program_load_assembly(vm, path, b.data, b.len, out);
    else st = zx_program_load_source(vm, path, b.data, b.len, out);
    zx_buf_free(&b);
    return st;
}

void zx_program_destroy(zx_program *p)
{
    if (!p) return;
    zx_vm *vm = p->vm;
    if (vm) pthread_mutex_lock(&vm->state_lock);
    zx_program_state_free(p);
    if (vm) pthread_mutex_unlock(&vm->state_lock);
    if (vm) {
        if (p->vm_prev) p->vm_prev->vm_next = p->vm_next;
        else vm->programs = p->vm_next;
        if (p->vm_next) p->vm_next->vm_prev = p->vm_prev;
        zx_jit_program_unload(vm->jit, p);
    }
    zx_vm_plan_release(p);
    zx_program_free(p);
}

/* ---------- running ---------- */

static zx_value make_args(zx_vm *vm)
{
    zx_list *l = zx_list_new(vm->heap, (uint32_t)vm->argc);
    if (!l) return zx_undef();
    for (int i = 0; i < vm->argc; i++) {
        zx_string *s = zx_string_new(vm->heap, vm->argv[i], strlen(vm->argv[i]));
        if (!s || !zx_list_push(vm->heap, l, zx_objval(s))) {
            if (s) zx_obj_decref(s);
            zx_obj_decref(l);
            return zx_undef();
        }
        zx_obj_decref(s);
    }
    return zx_objval(l);
}

zx_status zx_run_init(zx_run *run, zx_program *p)
{
    zx_vm *vm = p->vm;
    memset(run, 0, sizeof *run);
    /* everything decided before anything runs: the plan, its machine facts, the scheduler */
    const zx_plan *plan = zx_vm_plan(vm, p);
    if (!plan) return ZX_E_MEMORY;
    run->prog = p;
    run->heap = vm->heap;
    run->parts = placement_partitions(plan->place);
    if (!run->parts) return ZX_E_MEMORY;
    placement_report(plan->place, p, run->parts, &vm->stats.partitions_json, &vm->stats.partitions_text);
    run->gvar = run->parts->var;
    run->args = make_args(vm);
    if (run->args.tag == ZX_T_UNDEF) {
        partitions_destroy(run->parts);
        return ZX_E_MEMORY;
    }
    run->interrupt = &vm->interrupt;
    run->rc_concurrent = &zx_rc_concurrent;
    run->sys = &vm->sys;
    atomic_init(&run->cancel, 0);
    atomic_init(&run->output_failed, 0);
    run->max_depth = vm->opts.max_depth;
    run->output = vm->opts.output;
    run->output_userdata = vm->opts.output_userdata;
    zx_vm_run_attach(vm, run, plan);
    run->dist = zx_dist_hook_for(vm->dist, p);    /* rank 0 of a --dist run */
    return ZX_OK;
}

void zx_run_fini(zx_run *run)
{
    /* as a mutator, so that the globals' objects go back through this thread's pool cache
     * and byte credit (runtime/value.c) instead of a lock and an atomic add each */
    zx_heap_mutator_enter(run->heap);
    partitions_destroy(run->parts);
    zx_decref(run->args);
    zx_heap_mutator_leave(run->heap);
}

void zx_program_state_free(zx_program *p)
{
    if (!p->state) return;
    zx_run_fini(p->state);
    free(p->state);
    p->state = NULL;
}

zx_status zx_program_run(zx_program *p)
{
    return zx_vm_run_seeded(p, NULL);
}

zx_status zx_vm_run_seeded(zx_program *p, const zx_program *seed)
{
    if (!p || !p->vm) return ZX_E_ARGUMENT;
    zx_vm *vm = p->vm;
    if (zx_vm_check_idle(vm) != ZX_OK) return ZX_E_ARGUMENT;
    vm->last_error.len = 0;
    /* atomic counts from before `running` is set until after it is cleared, so a snapshot
     * never meets a plain count change (value.h, zx_rc_concurrent) */
    bool concurrent = zx_vm_run_concurrent(p);
    if (concurrent) zx_rc_concurrent_begin();
    /* the new run's state is the program's from its start: zx_program_snapshot (from any
     * thread) reads its shared globals while it runs */
    pthread_mutex_lock(&vm->state_lock);
    zx_program_state_free(p);     /* each run starts from fresh globals */
    zx_run *run = malloc(sizeof *run);
    zx_status st = run ? zx_run_init(run, p) : ZX_E_MEMORY;
    if (st != ZX_OK) {
        pthread_mutex_unlock(&vm->state_lock);
        free(run);
        if (concurrent) zx_rc_concurrent_end();
        zx_vm_set_error(vm, "%s: error: out of memory", p->source_name);
        return st;
    }
    if (seed && seed->state) {    /* an interactive session: the globals so far, same slots */
        for (uint32_t i = 0; i < seed->nglobals && i < p->nglobals; i++) {
            zx_value v = *seed->state->gvar[i];
            zx_incref(v);
            *run->gvar[i] = v;
        }
    }
    p->state = run;               /* kept for zx_program_call and the global accessors */
    atomic_store(&vm->running, 1);
    pthread_mutex_unlock(&vm->state_lock);
    zx_task root;
    zx_task_init(&root, run, NULL);
    root.is_root = 1;
    zx_frame *f = zx_frame_push(&root, p->main, NULL, NULL, 0, NULL);
    if (!f) {
        st = root.status;
    } else {
        st = zx_vm_exec_main(vm, &root, f);
        zx_frame_pop(&root, f);
    }
    st = zx_vm_finish_root(vm, p, &root, st);
    if (concurrent) zx_rc_concurrent_end();
    return st;
}

/* How a run ends when its output failed.  A closed pipe (EPIPE, or any failure of an
 * embedder's callback) is ZX_E_OUTPUT, which the CLI takes as a quiet end.  An interrupt that
 * ended a blocked write of the default sink is ZX_E_INTERRUPTED.  Any other write error of
 * the default sink (ENOSPC, EIO) is ZX_E_IO naming the error, the output being lost; a runtime
 * error the program raised before the failed final flush keeps its status, and its message
 * follows the write error's, so neither is swallowed. */
zx_status zx_vm_finish_root(zx_vm *vm, zx_program *p, zx_task *root, zx_status st)
{
    zx_status fst = zx_task_flush(root);
    if (st == ZX_OK && fst != ZX_OK) st = fst;
    bool out_failed = st == ZX_E_OUTPUT || atomic_load(&root->run->output_failed);
    int werr = out_failed ? atomic_load(&vm->stdout_errno) : 0;
    if (out_failed && werr == EINTR && st != ZX_E_INTERRUPTED) {
        st = ZX_E_INTERRUPTED;
        zx_vm_set_error(vm, "%s: runtime error: interrupted", p->source_name);
    } else if (out_failed && werr == EINTR) {
        zx_buf_put(&root->error, "", 1);
        zx_vm_set_error(vm, "%s", root->error.data);
    } else if (out_failed && werr != 0 && werr != EPIPE) {
        if (st == ZX_OK || st == ZX_E_OUTPUT || st == ZX_E_INTERRUPTED) {
            st = ZX_E_IO;
            zx_vm_set_error(vm, "%s: error writing standard output: %s", p->source_name, strerror(werr));
        } else {
            zx_buf_put(&root->error, "", 1);
            zx_vm_set_error(vm, "%s: error writing standard output: %s\n%s", p->source_name,
                            strerror(werr), root->error.data);
        }
    } else if (out_failed) {
        st = ZX_E_OUTPUT;
        zx_vm_set_error(vm, "%s: error: output closed", p->source_name);
    } else if (st != ZX_OK) {
        zx_buf_put(&root->error, "", 1);
        zx_vm_set_error(vm, "%s", root->error.data);
    }
    zx_task_fini(root);
    atomic_store(&vm->stdout_errno, 0);
    atomic_store(&vm->interrupt, 0);
    atomic_store(&vm->running, 0);
    return st;
}

static void stats_reset(zx_run_stats *s)
{
    s->dag_used = false;
    s->chunks = s->dag_width = 0;
    s->work = s->critical_path = 0;
    s->parallelism = 0;
    atomic_store(&s->pmaps_parallel, 0);
    atomic_store(&s->pmaps_sequential, 0);
    atomic_store(&s->pmap_elements, 0);
    atomic_store(&s->forks_parallel, 0);
    atomic_store(&s->forks_sequential, 0);
    s->wall_ns = 0;
    s->notes.len = 0;
}

typedef struct main_job {
    zx_vm *vm;
    zx_task *root;
    zx_frame *f;
} main_job;

/* True when another thread may touch this program's objects while it runs, outside the
 * scheduler's parallel work: a monitoring thread reading `shared` globals
 * (zx_program_snapshot), or a handle that a host function made and gave away.  Such runs
 * change reference counts atomically throughout (value.h, zx_rc_concurrent). */
bool zx_vm_run_concurrent(const zx_program *p)
{
    if (p->vm && p->vm->hosts.n > 0) return true;
    for (uint32_t i = 0; i < p->nglobals; i++)
        if (p->globals[i].is_shared) return true;
    return false;
}

/* Runs on the thread zx_run_with_stack picks: the cycle collector's gate is per thread. */
static zx_status exec_main_job(void *ctx)
{
    main_job *j = ctx;
    zx_heap *h = j->root->run->heap;
    zx_heap_set_poll_hint(h, &j->root->run->cancel);
    bool concurrent = zx_vm_run_concurrent(j->root->run->prog);
    if (concurrent) zx_rc_concurrent_begin();
    zx_heap_mutator_enter(h);                    /* the cycle collector's gate (value.h) */
    zx_status st = j->vm->opts.mode == ZX_MODE_SEQ ? zx_interp_exec(j->root, j->f, UINT32_MAX, NULL)
                                                   : zx_parallel_run_main(j->root, j->f);
    zx_heap_mutator_leave(h);
    if (concurrent) zx_rc_concurrent_end();
    zx_heap_set_poll_hint(h, NULL);
    return st;
}

zx_status zx_vm_exec_main(zx_vm *vm, zx_task *root, zx_frame *f)
{
    root->stream_threshold = vm->line_buffered ? 0 : 8192;
    stats_reset(&vm->stats);
    if (vm->sched && vm->sched->ex) tbbshim_stats_reset(vm->sched->ex);
    uint64_t t0 = zx_parallel_now_ns();
    /* on a C stack that --max-depth fits in (the main thread's 8 MiB does not) */
    main_job j = { vm, root, f };
    zx_status st = zx_run_with_stack(root->run, exec_main_job, &j);
    vm->stats.wall_ns = zx_parallel_now_ns() - t0;
    return st;
}

zx_status zx_program_to_bytecode(zx_program *p, void **out, size_t *len)
{
    if (!p || !out || !len) return ZX_E_ARGUMENT;
    zx_buf b;
    zx_buf_init(&b);
    zx_bytecode_write(p, &b);
    *out = b.data;
    *len = b.len;
    return ZX_OK;
}

zx_status zx_program_disassemble(zx_program *p, char **out)
{
    if (!p || !out) return ZX_E_ARGUMENT;
    zx_buf b;
    zx_buf_init(&b);
    zx_disassemble(p, &b);
    zx_buf_put(&b, "", 1);
    *out = b.data;
    return ZX_OK;
}
