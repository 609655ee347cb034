/* jit_loader.c — loads the JIT module on first use (dlopen) and runs its compiler thread. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jit/helper_abi.h"
#include "jit/jit.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

#ifndef JIT_MODULE_NAME
#define JIT_MODULE_NAME "libzexus-jit.so"
#endif

/*
 * One host per VM.  The module and its engine (one LLJIT) are loaded lazily: under
 * --jit=always/strict when the first program loads, under --jit=auto by the compiler thread
 * when the first code object gets hot, so the worker that noticed never waits for LLVM.
 * The compiler thread takes queued code objects one at a time; workers only enqueue, and
 * keep interpreting until code->native appears.  The module is never dlclose'd: LLVM's
 * process-wide state (native target initialisation) outlives any VM.
 */
struct zx_jit_host {
    zx_jit_options opts;
    pthread_mutex_t lock;
    pthread_cond_t wake;          /* work queued, or stop */
    pthread_cond_t idle;          /* a compilation finished */
    const zx_jit_module_api *api;
    zx_jit_engine *engine;
    int load_failed;
    char load_error[512];
    zx_code **queue;
    size_t qlen, qcap;
    zx_code *compiling;
    _Atomic int cancel;           /* the compile in progress is not wanted (zx_jit_config.cancel) */
    int thread_started, stop;
    pthread_t thread;
    int log;                      /* ZEXUS_JIT_LOG=1: a line per compilation on stderr */
    char *cache_dir;              /* the compiled-code cache, NULL when off (cache_dir_for) */
    zx_jit_cache_stats cache;     /* its counters, bumped by the module */
    /* --stats figures (zx_jit_figures), under lock */
    double load_ms, engine_ms, compile_ms;
    uint64_t compiles;
    double first_hot_ms;          /* when code first got hot (auto mode), 0 before; under lock */
};

/* ---------- finding and loading the module ---------- */

static void *try_open(const char *path, char *err, size_t errsz)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h && err[0] == '\0') snprintf(err, errsz, "%s", dlerror());
    return h;
}

static const zx_jit_module_api *load_module(char *err, size_t errsz)
{
    err[0] = '\0';
    void *h = NULL;
    const char *env = getenv("ZEXUS_JIT_MODULE");
    if (env && env[0]) {
        h = try_open(env, err, errsz);
    } else {
        /* next to the object that holds this code: the executable, or libzexus.so */
        Dl_info info;
        if (dladdr((void *)load_module, &info) && info.dli_fname) {
            char path[4096];
            const char *slash = strrchr(info.dli_fname, '/');
            if (slash) {
                snprintf(path, sizeof path, "%.*s/%s", (int)(slash - info.dli_fname), info.dli_fname,
                         JIT_MODULE_NAME);
                h = try_open(path, err, errsz);
#ifdef JIT_BIN_TO_LIBDIR
                /* an installed executable linked statically: PREFIX/bin -> PREFIX/lib, wherever
                 * the tree was installed (cmake --install --prefix) */
                if (!h) {
                    snprintf(path, sizeof path, "%.*s/%s/%s", (int)(slash - info.dli_fname), info.dli_fname,
                             JIT_BIN_TO_LIBDIR, JIT_MODULE_NAME);
                    h = try_open(path, err, errsz);
                }
#endif
            }
        }
#ifdef JIT_INSTALL_LIBDIR
        if (!h) h = try_open(JIT_INSTALL_LIBDIR "/" JIT_MODULE_NAME, err, errsz);
#endif
    }
    if (!h) {
        char why[400];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errsz, "cannot load the JIT module %s (%s); set ZEXUS_JIT_MODULE or use --jit=off",
                 JIT_MODULE_NAME, why);
        return NULL;
    }
    const zx_jit_module_api *api = (const zx_jit_module_api *)dlsym(h, JIT_MODULE_SYMBOL);
    if (!api) {
        snprintf(err, errsz, "the JIT module has no symbol %s", JIT_MODULE_SYMBOL);
        return NULL;
    }
    if (api->abi != JIT_ABI || api->frame_size != sizeof(zx_frame) || api->task_size != sizeof(zx_task) ||
        api->code_size != sizeof(zx_code)) {
        snprintf(err, errsz, "the JIT module was built for a different libzexus (ABI mismatch)");
        return NULL;
    }
    uint64_t want = jit_helper_abi_hash(JIT_HELPER_ABI_TEXT), have = jit_helper_abi_hash(api->helper_abi);
    if (have != want) {
        snprintf(err, errsz,
                 "the JIT module was built with different runtime helpers (helper ABI %016llx, libzexus has %016llx)",
                 (unsigned long long)have, (unsigned long long)want);
        return NULL;
    }
    return api;
}

/* zx_jit_config.code_bytes: the module keys its cache on each code object's .zxbc encoding, so
 * whatever the format holds (any field a code object gains with it) is a part of the key. */
static void *code_bytes(const zx_program *p, const zx_code *c, size_t *len)
{
    zx_buf b;
    zx_buf_init(&b);
    zx_bytecode_write_code(p, c, &b);
    if (b.truncated) {                  /* out of memory: no key, so no cache, never a wrong one */
        zx_buf_free(&b);
        return NULL;
    }
    *len = b.len;
    return b.data;
}

/* Load module and engine if not done yet.  Called with h->lock held; drops it meanwhile. */
static int ensure_engine(zx_jit_host *h)
{
    if (h->engine) return 1;
    if (h->load_failed) return 0;
    char err[512];
    double t0 = now_ms();
    const zx_jit_module_api *api = h->api ? h->api : load_module(err, sizeof err);
    double t1 = now_ms();
    if (!h->api) h->load_ms = t1 - t0;
    zx_jit_engine *e = NULL;
    if (api) {
        zx_jit_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.opt_level = h->opts.opt_level;
        cfg.dump_ir = h->opts.dump_ir;
        cfg.perf = h->opts.perf;
        cfg.log = h->log;
        cfg.helpers = zx_jit_helpers;
        cfg.nhelpers = zx_jit_nhelpers;
        cfg.cache_dir = h->cache_dir;
        cfg.cache_stats = &h->cache;
        cfg.code_bytes = code_bytes;
        cfg.cancel = &h->cancel;
        e = api->engine_create(&cfg, err, sizeof err);
        h->engine_ms = now_ms() - t1;
    }
    h->api = api;
    if (!e) {
        h->load_failed = 1;
        snprintf(h->load_error, sizeof h->load_error, "%s", err);
        return 0;
    }
    h->engine = e;
    return 1;
}

/* The code object's --stats record, made on first use (before it is first compiled, so native
 * code always finds it); NULL only when out of memory. */
static zx_jit_info *info_of(zx_code *c)
{
    zx_jit_info *i = atomic_load_explicit(&c->jit_info, memory_order_acquire);
    if (i) return i;
    size_t nexits = (size_t)JIT_EXIT_REASONS * c->ncode;
    zx_jit_info *fresh = calloc(1, sizeof *fresh + nexits * sizeof fresh->exits[0]);
    if (!fresh) return NULL;
    fresh->ncode = c->ncode;
    for (size_t k = 0; k < nexits; k++) atomic_init(&fresh->exits[k], 0);
    void *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(&c->jit_info, &expected, fresh, memory_order_acq_rel,
                                                memory_order_acquire))
        return fresh;
    free(fresh);
    return expected;
}

/* Record why c is not compiled (before its jit_state says FAILED). */
static void info_failed(zx_code *c, const char *why)
{
    zx_jit_info *i = info_of(c);
    if (!i) return;
    free(i->error);
    i->error = strdup(why);
}

/* Compile codes[0..n) of p; h->lock must not be held. */
static zx_status compile_codes(zx_jit_host *h, zx_program *p, zx_code **codes, size_t n, char *err, size_t errsz)
{
    zx_jit_code_stats *stats = calloc(n ? n : 1, sizeof *stats);
    for (size_t i = 0; i < n; i++) info_of(codes[i]);   /* before native code can exist */
    double t0 = now_ms();
    zx_status st = h->api->compile(h->engine, p, codes, n, stats, err, errsz);
    double t1 = now_ms();
    pthread_mutex_lock(&h->lock);
    h->compiles++;
    h->compile_ms += t1 - t0;
    pthread_mutex_unlock(&h->lock);
    for (size_t i = 0; i < n; i++) {
        zx_jit_info *info = info_of(codes[i]);
        if (info && st == ZX_OK) {
            free(info->error);
            info->error = NULL;
            if (stats) {
                info->compile_ms = stats[i].compile_ms;
                info->entries = stats[i].entries;
                info->helper_ops = stats[i].helper_ops;
                info->inlined = stats[i].inlined;
                info->cached = stats[i].cached;
            }
        } else if (info) {
            info_failed(codes[i], err);
        }
        atomic_store(&codes[i]->jit_state, st == ZX_OK ? JIT_STATE_COMPILED : JIT_STATE_FAILED);
    }
    if (h->log) {
        if (st != ZX_OK) fprintf(stderr, "jit: %s: %s\n", p->source_name, err);
        for (size_t i = 0; i < n && st == ZX_OK && stats; i++)
            fprintf(stderr, "jit: %s %s:%s (line %u) at -O%d: %.3f ms, %u entries, %u steps, %u inlined\n",
                    stats[i].cached ? "loaded from the cache" : "compiled", zx_code_file(p, codes[i]), codes[i]->name,
                    codes[i]->pos.line, h->opts.opt_level, stats[i].compile_ms, stats[i].entries,
                    stats[i].helper_ops, stats[i].inlined);
        fprintf(stderr, "jit: batch of %zu: %.3f ms\n", n, t1 - t0);
    }
    free(stats);
    return st;
}

/* ---------- the compiler thread (auto mode) ---------- */

static void *compiler_main(void *arg)
{
    zx_jit_host *h = arg;
    pthread_mutex_lock(&h->lock);
    for (;;) {
        while (!h->stop && h->qlen == 0) pthread_cond_wait(&h->wake, &h->lock);
        if (h->stop) break;
        zx_code *c = h->queue[0];
        memmove(h->queue, h->queue + 1, (h->qlen - 1) * sizeof *h->queue);
        h->qlen--;
        h->compiling = c;
        atomic_store(&h->cancel, 0);   /* a cancel was for an earlier program's compile */
        int ok = ensure_engine(h);
        pthread_mutex_unlock(&h->lock);
        if (ok) {
            char err[512];
            compile_codes(h, c->program, &c, 1, err, sizeof err);
        } else {
            info_failed(c, h->load_error);
            atomic_store(&c->jit_state, JIT_STATE_FAILED);
            if (h->log) fprintf(stderr, "jit: %s\n", h->load_error);
        }
        pthread_mutex_lock(&h->lock);
        h->compiling = NULL;
        pthread_cond_broadcast(&h->idle);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

void zx_jit_hot(void *ctx, zx_task *t, zx_code *c)
{
    zx_jit_host *h = ctx;
    (void)t;
    if (!h || h->opts.mode != ZX_JIT_AUTO || !c->program) return;
    /* Loading LLVM costs tens of milliseconds, more than a short program runs: until the
     * compiler thread exists, hot code waits until the program has had hot code for
     * JIT_WARMUP_MS (its hotness starts again meanwhile), so a program that ends sooner
     * never pays for the load. */
    pthread_mutex_lock(&h->lock);
    int wait = 0;
    if (!h->thread_started) {
        double now = now_ms();
        if (h->first_hot_ms == 0) h->first_hot_ms = now;
        wait = now - h->first_hot_ms < JIT_WARMUP_MS;
    }
    pthread_mutex_unlock(&h->lock);
    if (wait) {
        atomic_store_explicit(&c->hotness, 0, memory_order_relaxed);
        return;
    }
    int expected = JIT_STATE_NONE;
    if (!atomic_compare_exchange_strong(&c->jit_state, &expected, JIT_STATE_QUEUED)) return;
    pthread_mutex_lock(&h->lock);
    if (h->load_failed || h->stop) {
        info_failed(c, h->load_failed ? h->load_error : "the VM is shutting down");
        atomic_store(&c->jit_state, JIT_STATE_FAILED);
    } else {
        if (!h->thread_started) {
            if (pthread_create(&h->thread, NULL, compiler_main, h) == 0) h->thread_started = 1;
            else h->load_failed = 1;
        }
        if (h->qlen == h->qcap) {
            size_t cap = h->qcap ? 2 * h->qcap : 16;
            zx_code **q = realloc(h->queue, cap * sizeof *q);
            if (q) {
                h->queue = q;
                h->qcap = cap;
            }
        }
        if (h->thread_started && h->qlen < h->qcap) {
            h->queue[h->qlen++] = c;
            pthread_cond_signal(&h->wake);
        } else {
            info_failed(c, h->thread_started ? "out of memory for the compile queue"
                                             : "cannot start the compiler thread");
            atomic_store(&c->jit_state, JIT_STATE_FAILED);
        }
    }
    pthread_mutex_unlock(&h->lock);
}

/* ---------- programs and VMs ---------- */

/* The compiled-code cache directory: $XDG_CACHE_HOME/zexus-jit, else $HOME/.cache/zexus-jit
 * (the XDG base directory rules: a relative XDG_CACHE_HOME is ignored).  NULL when neither is
 * set: the cache is off.  Whether it can be created is the module's business (jit/cache.c). */
static char *cache_dir_for(void)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char path[4096];
    if (xdg && xdg[0] == '/') snprintf(path, sizeof path, "%s/zexus-jit", xdg);
    else if (home && home[0] == '/') snprintf(path, sizeof path, "%s/.cache/zexus-jit", home);
    else return NULL;
    return strdup(path);
}

/* Every code object of p into *out (preorder), each told its program; false when out of
 * memory (the library never aborts). */
static bool collect(zx_code *c, zx_program *p, zx_code ***out, size_t *n, size_t *cap)
{
    c->program = p;
    if (*n == *cap) {
        size_t ncap = *cap ? 2 * *cap : 16;
        zx_code **grown = realloc(*out, ncap * sizeof *grown);
        if (!grown) return false;
        *out = grown;
        *cap = ncap;
    }
    (*out)[(*n)++] = c;
    for (uint32_t i = 0; i < c->nchildren; i++)
        if (!collect(c->children[i], p, out, n, cap)) return false;
    return true;
}

zx_jit_host *zx_jit_host_create(const zx_jit_options *o)
{
    zx_jit_host *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->opts = *o;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->wake, NULL);
    pthread_cond_init(&h->idle, NULL);
    const char *log = getenv("ZEXUS_JIT_LOG");
    h->log = log && log[0] == '1';
    if (o->use_cache) h->cache_dir = cache_dir_for();
    return h;
}

zx_status zx_jit_program_loaded(zx_jit_host *h, zx_program *p, char *err, size_t errsz)
{
    zx_code **codes = NULL;
    size_t n = 0, cap = 0;
    zx_status st = ZX_OK;
    if (!collect(p->main, p, &codes, &n, &cap)) {
        snprintf(err, errsz, "out of memory");
        st = ZX_E_MEMORY;
        goto done;
    }
    if (!h) goto done;
    if (h->opts.mode == ZX_JIT_ALWAYS || h->opts.mode == ZX_JIT_STRICT) {
        pthread_mutex_lock(&h->lock);
        int ok = ensure_engine(h);
        pthread_mutex_unlock(&h->lock);
        if (!ok) {
            snprintf(err, errsz, "%s", h->load_error);
            st = h->opts.mode == ZX_JIT_STRICT ? ZX_E_UNSUPPORTED : ZX_OK;
            goto done;
        }
        for (size_t i = 0; i < n; i++) atomic_store(&codes[i]->jit_state, JIT_STATE_QUEUED);
        /* One module per source file (zx_code.file: the program's file, then each module file),
         * so that the compiled-code cache keys each file's code on that code and what it reads
         * of the others (jit/cache.h): editing one module recompiles its code only.  Within a
         * file, a big code object (a long top level) is compiled in a module of its own: the
         * engine generates a module with a function past its optimisation bound at -O0
         * (engine.c, bound_optimisation), which the others should not share. */
        zx_code **group = malloc(n * sizeof *group);
        uint8_t *alone = calloc(n, 1);
        if (!group || !alone) {
            free(group);
            free(alone);
            snprintf(err, errsz, "out of memory");
            st = ZX_E_MEMORY;
            goto done;
        }
        for (uint32_t file = 0; file <= p->nfiles; file++) {
            size_t ng = 0;
            for (size_t i = 0; i < n; i++) {
                zx_code *c = codes[i];
                if ((c->file <= p->nfiles ? c->file : 0) != file) continue;
                if (c->ncode <= JIT_BIG_CODE) {
                    group[ng++] = c;
                    continue;
                }
                alone[i] = 1;
                char e2[512];
                zx_status s1 = compile_codes(h, p, &c, 1, st == ZX_OK ? err : e2, st == ZX_OK ? errsz : sizeof e2);
                if (st == ZX_OK) st = s1;
            }
            if (ng) {
                char e2[512];
                zx_status s1 = compile_codes(h, p, group, ng, st == ZX_OK ? err : e2, st == ZX_OK ? errsz : sizeof e2);
                if (st == ZX_OK) st = s1;
            }
        }
        if (st != ZX_OK && h->opts.mode == ZX_JIT_ALWAYS) {
            /* a file's code in one module: retry code object by code object, keeping what
             * compiles (a big one is not retried: it failed alone) */
            for (size_t i = 0; i < n; i++) {
                char e2[512];
                if (alone[i] || atomic_load(&codes[i]->jit_state) != JIT_STATE_FAILED) continue;
                atomic_store(&codes[i]->jit_state, JIT_STATE_QUEUED);
                compile_codes(h, p, &codes[i], 1, e2, sizeof e2);
            }
            st = ZX_OK;
        }
        free(group);
        free(alone);
    }
done:
    free(codes);
    return st;
}

static void free_infos(zx_code *c)
{
    zx_jit_info *i = atomic_exchange(&c->jit_info, NULL);
    if (i) free(i->error);
    free(i);
    for (uint32_t k = 0; k < c->nchildren; k++) free_infos(c->children[k]);
}

void zx_jit_program_unload(zx_jit_host *h, zx_program *p)
{
    if (!h) return;
    pthread_mutex_lock(&h->lock);
    size_t k = 0;
    for (size_t i = 0; i < h->qlen; i++)
        if (h->queue[i]->program != p) h->queue[k++] = h->queue[i];
    h->qlen = k;
    /* nobody needs the compile of p in progress: the engine gives up at its next check
     * (between passes, before code generation and linking), so exit never waits for -O2 */
    if (h->compiling && h->compiling->program == p) atomic_store(&h->cancel, 1);
    while (h->compiling && h->compiling->program == p) pthread_cond_wait(&h->idle, &h->lock);
    atomic_store(&h->cancel, 0);
    if (h->engine) h->api->program_release(h->engine, p);
    pthread_mutex_unlock(&h->lock);
    if (p->main) free_infos(p->main);
}

void zx_jit_host_destroy(zx_jit_host *h)
{
    if (!h) return;
    pthread_mutex_lock(&h->lock);
    h->stop = 1;
    atomic_store(&h->cancel, 1);
    pthread_cond_broadcast(&h->wake);
    pthread_mutex_unlock(&h->lock);
    if (h->thread_started) pthread_join(h->thread, NULL);
    if (h->engine) h->api->engine_destroy(h->engine);
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->wake);
    pthread_cond_destroy(&h->idle);
    free(h->queue);
    free(h->cache_dir);
    free(h);
}

const char *zx_jit_llvm_version(zx_jit_host *h)
{
    char err[512];
    if (h && h->api) return h->api->llvm_version;
    const zx_jit_module_api *api = load_module(err, sizeof err);
    return api ? api->llvm_version : NULL;
}

void zx_jit_get_figures(zx_jit_host *h, zx_jit_figures *out)
{
    memset(out, 0, sizeof *out);
    if (!h) return;
    pthread_mutex_lock(&h->lock);
    out->module_loaded = h->engine != NULL;
    if (h->load_failed) snprintf(out->load_error, sizeof out->load_error, "%s", h->load_error);
    out->load_ms = h->load_ms;
    out->engine_ms = h->engine_ms;
    out->compiles = h->compiles;
    out->compile_ms = h->compile_ms;
    pthread_mutex_unlock(&h->lock);
}

const zx_jit_cache_stats *zx_jit_cache_stats_of(zx_jit_host *h, const char **dir)
{
    *dir = h ? h->cache_dir : NULL;
    return h ? &h->cache : NULL;
}
