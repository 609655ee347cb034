/* stats.c — what the last run did, as text or JSON, for --stats and zx_vm_stats. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/executor.h"
#include "vm/vm.h"
#include "jit/jit.h"

static void json_string(zx_buf *b, const char *s, size_t n)
{
    zx_buf_put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') zx_buf_printf(b, "\\%c", c);
        else if (c == '\n') zx_buf_puts(b, "\\n");
        else if (c < 0x20) zx_buf_printf(b, "\\u%04x", c);
        else zx_buf_put(b, (const char *)&c, 1);
    }
    zx_buf_put(b, "\"", 1);
}

/* ---- the JIT block: one entry per code object of every program loaded in the VM ---- */

typedef struct jit_code_ref {
    const zx_program *prog;
    zx_code *code;               /* not const: its jit_state and jit_info are atomics */
    uint32_t index;              /* in the program, `zexus-jit disasm` order (top level: 0) */
} jit_code_ref;

typedef struct jit_code_list {
    jit_code_ref *items;
    size_t n, cap;
} jit_code_list;

static void jit_collect(jit_code_list *l, const zx_program *p, zx_code *c, uint32_t *index)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 32;
        jit_code_ref *items = realloc(l->items, cap * sizeof *items);
        if (!items) return;   /* out of memory: the list just stops short */
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n++] = (jit_code_ref){ p, c, (*index)++ };
    for (uint32_t i = 0; i < c->nchildren; i++) jit_collect(l, p, c->children[i], index);
}

static const char *const jit_tiers[] = { "interpreted", "queued", "compiled", "failed" };
static const char *const jit_exit_reasons[JIT_EXIT_REASONS] = { "type guard", "no entry" };
static const char *const jit_exit_texts[JIT_EXIT_REASONS] = {
    "a type guard failed (a variable's type is not the one the code was compiled for)",
    "no native entry at this instruction",
};

static const char *jit_mode_name(zx_jit j)
{
    return j == ZX_JIT_OFF ? "off" : j == ZX_JIT_ALWAYS ? "always" : j == ZX_JIT_STRICT ? "strict" : "auto";
}

static const char *jit_kind_name(zx_code_kind k)
{
    return k == ZX_CODE_MAIN ? "top level" : k == ZX_CODE_ACTION ? "action" : k == ZX_CODE_LAMBDA ? "lambda" : "fork block";
}

/* "demo.zx:3 action fib (code 1)" */
static void jit_code_place(zx_buf *b, const jit_code_ref *r)
{
    zx_buf_printf(b, "%s:%u %s", zx_code_file(r->prog, r->code), r->code->pos.line, jit_kind_name(r->code->kind));
    if (r->code->kind == ZX_CODE_ACTION) zx_buf_printf(b, " %s", r->code->name);
    zx_buf_printf(b, " (code %u)", r->index);
}

/*
 * The JIT's figures: module load, compile totals, each code object's tier, and every side exit
 * with its reason and instruction.  jit_state is read before the jit_info figures it guards.
 * Figures accumulate over the life of each program (a program run twice shows both runs' side
 * exits).
 */
static char *jit_stats(zx_vm *vm, int json)
{
    zx_jit_figures fig;
    zx_jit_get_figures(vm->jit, &fig);
    jit_code_list l = { NULL, 0, 0 };
    const zx_program *last = vm->programs;
    while (last && last->vm_next) last = last->vm_next;
    for (const zx_program *p = last; p; p = p->vm_prev) {   /* in load order */
        uint32_t index = 0;
        if (p->main) jit_collect(&l, p, p->main, &index);
    }
    size_t count[4] = { 0, 0, 0, 0 };
    uint64_t exits = 0;
    int *state = calloc(l.n ? l.n : 1, sizeof *state);
    if (!state) {
        free(l.items);
        return NULL;
    }
    for (size_t i = 0; i < l.n; i++) {
        int st = atomic_load(&l.items[i].code->jit_state);
        state[i] = st >= 0 && st <= 3 ? st : 0;
        count[state[i]]++;
        zx_jit_info *info = atomic_load(&l.items[i].code->jit_info);
        for (size_t k = 0; info && k < (size_t)JIT_EXIT_REASONS * info->ncode; k++)
            exits += atomic_load_explicit(&info->exits[k], memory_order_relaxed);
    }
    zx_buf b;
    zx_buf_init(&b);
    if (json) {
        zx_buf_printf(&b, "{\"mode\":\"%s\",\"opt_level\":%d,\"module\":{\"loaded\":%s,\"load_ms\":%.3f,"
                      "\"engine_ms\":%.3f,\"error\":",
                      jit_mode_name(vm->opts.jit), vm->opts.opt_level, fig.module_loaded ? "true" : "false",
                      fig.load_ms, fig.engine_ms);
        if (fig.load_error[0]) json_string(&b, fig.load_error, strlen(fig.load_error));
        else zx_buf_puts(&b, "null");
        zx_buf_printf(&b, "},\"compiles\":%llu,\"compile_ms\":%.3f,\"code_objects\":%zu,\"compiled\":%zu,"
                      "\"queued\":%zu,\"failed\":%zu,\"interpreted\":%zu,\"side_exits\":%llu,\"code\":[",
                      (unsigned long long)fig.compiles, fig.compile_ms, l.n, count[JIT_STATE_COMPILED],
                      count[JIT_STATE_QUEUED], count[JIT_STATE_FAILED], count[JIT_STATE_NONE], (unsigned long long)exits);
        for (size_t i = 0; i < l.n; i++) {
            const jit_code_ref *r = &l.items[i];
            zx_code *c = r->code;
            zx_jit_info *info = atomic_load(&c->jit_info);
            zx_buf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
            json_string(&b, c->name, strlen(c->name));
            zx_buf_printf(&b, ",\"kind\":\"%s\",\"file\":", jit_kind_name(c->kind));
            const char *file = zx_code_file(r->prog, c);   /* the file its line is in */
            json_string(&b, file, strlen(file));
            zx_buf_printf(&b, ",\"line\":%u,\"index\":%u,\"tier\":\"%s\"", c->pos.line, r->index,
                          jit_tiers[state[i]]);
            if (state[i] == JIT_STATE_COMPILED && info)
                zx_buf_printf(&b, ",\"compile_ms\":%.3f,\"entries\":%u,\"helper_ops\":%u,\"inlined\":%u,\"cached\":%s",
                              info->compile_ms, info->entries, info->helper_ops, info->inlined,
                              info->cached ? "true" : "false");
            if (state[i] == JIT_STATE_FAILED) {
                zx_buf_puts(&b, ",\"error\":");
                if (info && info->error) json_string(&b, info->error, strlen(info->error));
                else zx_buf_puts(&b, "null");
            }
            zx_buf_puts(&b, ",\"side_exits\":[");
            size_t k = 0;
            for (uint32_t reason = 0; info && reason < JIT_EXIT_REASONS; reason++)
                for (uint32_t pc = 0; pc < info->ncode; pc++) {
                    uint64_t nx = atomic_load_explicit(&info->exits[(size_t)reason * info->ncode + pc],
                                                       memory_order_relaxed);
                    if (!nx) continue;
                    zx_buf_printf(&b, "%s{\"reason\":\"%s\",\"pc\":%u,\"line\":%u,\"count\":%llu}", k++ ? "," : "",
                                  jit_exit_reasons[reason], pc, pc < c->ncode ? c->positions[pc].line : 0,
                                  (unsigned long long)nx);
                }
            zx_buf_puts(&b, "]}");
        }
        zx_buf_puts(&b, "]}");
    } else {
        zx_buf_printf(&b, "jit: %s", jit_mode_name(vm->opts.jit));
        if (vm->opts.jit != ZX_JIT_OFF) zx_buf_printf(&b, " at -O%d", vm->opts.opt_level);
        if (fig.module_loaded)
            zx_buf_printf(&b, ", module loaded in %.1f ms (dlopen %.1f ms, LLJIT %.1f ms)\n",
                          fig.load_ms + fig.engine_ms, fig.load_ms, fig.engine_ms);
        else if (fig.load_error[0])
            zx_buf_printf(&b, ", module not loaded: %s\n", fig.load_error);
        else
            zx_buf_puts(&b, ", module not loaded (nothing asked for it)\n");
        zx_buf_printf(&b, "  %zu code objects: %zu compiled, %zu queued, %zu failed, %zu interpreted; "
                      "%llu module%s compiled in %.3f ms; %llu side exit%s\n",
                      l.n, count[JIT_STATE_COMPILED], count[JIT_STATE_QUEUED], count[JIT_STATE_FAILED], count[JIT_STATE_NONE],
                      (unsigned long long)fig.compiles, fig.compiles == 1 ? "" : "s", fig.compile_ms,
                      (unsigned long long)exits, exits == 1 ? "" : "s");
        unsigned long long inlined = 0;
        for (size_t i = 0; i < l.n; i++) {
            zx_jit_info *info = atomic_load(&l.items[i].code->jit_info);
            if (state[i] == JIT_STATE_COMPILED && info) inlined += info->inlined;
        }
        if (inlined)
            zx_buf_printf(&b, "  %llu call%s with the callee's body inline (small pure actions)\n", inlined,
                          inlined == 1 ? "" : "s");
        for (size_t i = 0; i < l.n; i++) {
            zx_jit_info *info = atomic_load(&l.items[i].code->jit_info);
            if (state[i] == JIT_STATE_FAILED) {
                zx_buf_puts(&b, "  not compiled: ");
                jit_code_place(&b, &l.items[i]);
                zx_buf_printf(&b, ": %s\n", info && info->error ? info->error : "(no reason recorded)");
            }
            for (uint32_t reason = 0; info && reason < JIT_EXIT_REASONS; reason++)
                for (uint32_t pc = 0; pc < info->ncode; pc++) {
                    uint64_t nx = atomic_load_explicit(&info->exits[(size_t)reason * info->ncode + pc],
                                                       memory_order_relaxed);
                    if (!nx) continue;
                    zx_buf_puts(&b, "  side exit: ");
                    jit_code_place(&b, &l.items[i]);
                    zx_buf_printf(&b, ", pc %u (line %u): %s, %llu time%s\n", pc,
                                  pc < l.items[i].code->ncode ? l.items[i].code->positions[pc].line : 0,
                                  jit_exit_texts[reason], (unsigned long long)nx, nx == 1 ? "" : "s");
                }
        }
    }
    free(state);
    free(l.items);
    zx_buf_put(&b, "", 1);
    return b.data;
}

static const char *mode_name(zx_mode m)
{
    return m == ZX_MODE_SEQ ? "seq" : m == ZX_MODE_PAR ? "par" : "auto";
}

/* The compiled-code cache's counters (jit/cache.h): the key "jit_cache" (null under --jit=off),
 * or a line of text. */
static void cache_figures(zx_buf *b, zx_vm *vm, int json)
{
    const char *dir = NULL;
    const zx_jit_cache_stats *c = zx_jit_cache_stats_of(vm->jit, &dir);
    if (!c) {
        if (json) zx_buf_puts(b, ",\"jit_cache\":null");
        return;
    }
    int enabled = atomic_load(&c->enabled);
    unsigned long long hits = atomic_load(&c->hits), misses = atomic_load(&c->misses),
                       writes = atomic_load(&c->writes), corrupt = atomic_load(&c->corrupt),
                       evicted = atomic_load(&c->evicted);
    if (json) {
        zx_buf_printf(b, ",\"jit_cache\":{\"enabled\":%s,\"dir\":", enabled ? "true" : "false");
        if (dir) json_string(b, dir, strlen(dir));
        else zx_buf_puts(b, "null");
        zx_buf_printf(b, ",\"hits\":%llu,\"misses\":%llu,\"writes\":%llu,\"corrupt\":%llu,\"evicted\":%llu}", hits,
                      misses, writes, corrupt, evicted);
    } else if (enabled) {
        zx_buf_printf(b, "JIT cache %s: %llu hits, %llu misses, %llu written, %llu corrupt, %llu evicted\n", dir, hits,
                      misses, writes, corrupt, evicted);
    } else {
        zx_jit_figures f;
        zx_jit_get_figures(vm->jit, &f);   /* before the engine exists the cache was never tried */
        if (!dir) zx_buf_puts(b, "JIT cache: off\n");
        else if (f.module_loaded) zx_buf_printf(b, "JIT cache: off (%s cannot be used)\n", dir);
    }
}

zx_status zx_vm_stats(zx_vm *vm, int json, char **out)
{
    if (!vm || !out) return ZX_E_ARGUMENT;
    zx_run_stats *s = &vm->stats;
    zx_buf b;
    zx_buf_init(&b);
    int workers = zx_vm_worker_count(vm);
    /* The arena's N slots are the N workers; slot 0 is the thread that called into the
     * scheduler (the one running the program), which runs tasks like the others.  The shim's
     * extra last entry counts work outside the arena, never expected: shown only if any. */
    tbbshim_slot_stats *slots = NULL, outside = { 0, 0 };
    /* a scheduler whose threads never started did no parallel work */
    tbbshim_executor *ex = vm->sched ? vm->sched->ex : NULL;
    int nslots = 0, threads = ex ? 0 : 1;
    if (ex) {
        int total = tbbshim_stats(ex, NULL, 0, NULL);
        slots = calloc((size_t)total, sizeof *slots);
        if (slots) {
            total = tbbshim_stats(ex, slots, total, &threads);
            nslots = total - 1;
            outside = slots[nslots];
        }
    }
    uint64_t busy = outside.busy_ns;
    for (int i = 0; i < nslots; i++) busy += slots[i].busy_ns;
    double wall = (double)s->wall_ns / 1e9;
    double speedup = s->wall_ns && busy ? (double)busy / (double)s->wall_ns : 1.0;
    if (!ex) speedup = 1.0;
    double efficiency = speedup / (workers > 0 ? workers : 1);
    char err[256];
    topo *t = zx_vm_topology(vm, err, sizeof err);
    char *placement = t ? (json ? topo_json(t, workers) : topo_describe(t, workers)) : NULL;
    char *jit = jit_stats(vm, json);
    if (json) {
        zx_buf_printf(&b, "{\"mode\":\"%s\",\"workers\":%d,\"threads_used\":%d,\"wall_s\":%.6f,", mode_name(vm->opts.mode),
                      workers, threads, wall);
        zx_buf_printf(&b, "\"dag\":{\"used\":%s,\"chunks\":%u,\"width\":%u,\"work\":%llu,\"critical_path\":%llu,"
                      "\"parallelism\":%.3f},",
                      s->dag_used ? "true" : "false", s->chunks, s->dag_width, (unsigned long long)s->work,
                      (unsigned long long)s->critical_path, s->parallelism);
        zx_buf_printf(&b, "\"parallel_map\":{\"parallel\":%llu,\"sequential\":%llu,\"elements\":%llu},",
                      (unsigned long long)s->pmaps_parallel, (unsigned long long)s->pmaps_sequential,
                      (unsigned long long)s->pmap_elements);
        zx_buf_printf(&b, "\"fork\":{\"parallel\":%llu,\"sequential\":%llu},", (unsigned long long)s->forks_parallel,
                      (unsigned long long)s->forks_sequential);
        zx_buf_puts(&b, "\"per_worker\":[");
        for (int i = 0; i < nslots; i++)
            zx_buf_printf(&b, "%s{\"slot\":%d,\"thread\":\"%s\",\"tasks\":%llu,\"busy_s\":%.6f}", i ? "," : "", i,
                          i == 0 ? "caller" : "worker", (unsigned long long)slots[i].tasks,
                          (double)slots[i].busy_ns / 1e9);
        zx_buf_puts(&b, "],");
        if (outside.tasks)
            zx_buf_printf(&b, "\"outside_arena\":{\"tasks\":%llu,\"busy_s\":%.6f},", (unsigned long long)outside.tasks,
                          (double)outside.busy_ns / 1e9);
        zx_buf_printf(&b, "\"speedup_estimate\":%.3f,\"efficiency\":%.3f,", speedup, efficiency);
        zx_buf_puts(&b, "\"sequential_because\":[");
        size_t start = 0, k = 0;
        for (size_t i = 0; i < s->notes.len; i++) {
            if (s->notes.data[i] != '\n') continue;
            if (k++) zx_buf_puts(&b, ",");
            json_string(&b, s->notes.data + start, i - start);
            start = i + 1;
        }
        zx_buf_puts(&b, "],\"topology\":");
        zx_buf_puts(&b, placement ? placement : "null");
        zx_buf_puts(&b, ",\"partitions\":");
        if (s->partitions_json.len) zx_buf_put(&b, s->partitions_json.data, s->partitions_json.len);
        else zx_buf_puts(&b, "null");
        zx_buf_puts(&b, ",\"jit\":");
        zx_buf_puts(&b, jit ? jit : "null");
        cache_figures(&b, vm, 1);
        zx_buf_puts(&b, "}\n");
    } else {
        zx_buf_printf(&b, "--- zexus-jit statistics ---\nmode %s, %d workers, %d threads used, %.3f s\n",
                      mode_name(vm->opts.mode), workers, threads, wall);
        zx_buf_printf(&b, "top level: %u chunks, DAG width %u, work %llu, critical path %llu, parallelism %.2f, %s\n",
                      s->chunks, s->dag_width, (unsigned long long)s->work, (unsigned long long)s->critical_path,
                      s->parallelism, s->dag_used ? "ran as a DAG" : "ran sequentially");
        zx_buf_printf(&b, "parallel_map: %llu parallel (%llu elements), %llu sequential; fork: %llu parallel, %llu sequential\n",
                      (unsigned long long)s->pmaps_parallel, (unsigned long long)s->pmap_elements,
                      (unsigned long long)s->pmaps_sequential, (unsigned long long)s->forks_parallel,
                      (unsigned long long)s->forks_sequential);
        for (int i = 0; i < nslots; i++)
            if (slots[i].tasks)
                zx_buf_printf(&b, "  worker slot %d%s: %llu tasks, busy %.3f s\n", i, i == 0 ? " (calling thread)" : "",
                              (unsigned long long)slots[i].tasks, (double)slots[i].busy_ns / 1e9);
        if (outside.tasks)
            zx_buf_printf(&b, "  outside the arena: %llu tasks, busy %.3f s\n", (unsigned long long)outside.tasks,
                          (double)outside.busy_ns / 1e9);
        zx_buf_printf(&b, "speedup estimate %.2f, efficiency %.2f\n", speedup, efficiency);
        if (s->notes.len) {
            zx_buf_puts(&b, "ran sequentially:\n");
            zx_buf_put(&b, s->notes.data, s->notes.len);
        }
        if (placement) zx_buf_puts(&b, placement);
        if (s->partitions_text.len) zx_buf_put(&b, s->partitions_text.data, s->partitions_text.len);
        if (jit) zx_buf_puts(&b, jit);
        cache_figures(&b, vm, 0);
    }
    free(slots);
    free(placement);
    free(jit);
    zx_buf_put(&b, "", 1);
    *out = b.data;
    return ZX_OK;
}

zx_status zx_info(const char *topology, char **out)
{
    if (!out) return ZX_E_ARGUMENT;
    zx_options o;
    zx_options_init(&o);
    o.topology = topology;
    zx_vm *vm;
    zx_status st = zx_vm_create(&o, &vm);
    if (st != ZX_OK) return st;
    char err[256];
    topo *t = zx_vm_topology(vm, err, sizeof err);
    if (!t) {
        zx_vm_destroy(vm);
        return ZX_E_ARGUMENT;
    }
    zx_buf b;
    zx_buf_init(&b);
    zx_buf_printf(&b, "zexus-jit %s, bytecode format %d\n", ZEXUS_VERSION_STRING, ZEXUS_BYTECODE_VERSION);
    /* Naming the LLVM version loads the JIT module: info is the one command that should. */
    const char *llvm = zx_jit_llvm_version(vm->jit);
    if (llvm) zx_buf_printf(&b, "JIT: LLVM %s\n", llvm);
    else zx_buf_puts(&b, "JIT: unavailable (libzexus-jit.so could not be loaded)\n");
    char *d = topo_describe(t, zx_vm_worker_count(vm));
    if (d) zx_buf_puts(&b, d);
    free(d);
    zx_buf_put(&b, "", 1);
    zx_vm_destroy(vm);
    *out = b.data;
    return ZX_OK;
}
