/* stats.c — what the last run did, as text or JSON, for --stats and zx_vm_stats. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor.h"
#include "vm.h"
#include "../jit/jit.h"

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

static const char *mode_name(zx_mode m)
{
    return m == ZX_MODE_SEQ ? "seq" : m == ZX_MODE_PAR ? "par" : "auto";
}

zx_status zx_vm_stats(zx_vm *vm, int json, char **out)
{
    if (!vm || !out) return ZX_E_ARGUMENT;
    zx_run_stats *s = &vm->stats;
    zx_buf b;
    zx_buf_init(&b);
    int workers = zx_vm_worker_count(vm);
    tbbshim_slot_stats slots[1025];
    int nslots = 0, threads = vm->sched ? 0 : 1;
    if (vm->sched) {
        nslots = tbbshim_stats(vm->sched->ex, slots, 1025, &threads);
        if (nslots > 1025) nslots = 1025;
    }
    uint64_t busy = 0;
    for (int i = 0; i < nslots; i++) busy += slots[i].busy_ns;
    double wall = (double)s->wall_ns / 1e9;
    double speedup = s->wall_ns && busy ? (double)busy / (double)s->wall_ns : 1.0;
    if (!vm->sched) speedup = 1.0;
    double efficiency = speedup / (workers > 0 ? workers : 1);
    char err[256];
    topo *t = zx_vm_topology(vm, err, sizeof err);
    char *placement = t ? (json ? topo_json(t, workers) : topo_describe(t, workers)) : NULL;
    char *jit = NULL;   /* JIT statistics join here (jit/jit.h) */
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
            zx_buf_printf(&b, "%s{\"slot\":%d,\"tasks\":%llu,\"busy_s\":%.6f}", i ? "," : "", i,
                          (unsigned long long)slots[i].tasks, (double)slots[i].busy_ns / 1e9);
        zx_buf_printf(&b, "],\"speedup_estimate\":%.3f,\"efficiency\":%.3f,", speedup, efficiency);
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
        zx_buf_puts(&b, ",\"jit\":");
        zx_buf_puts(&b, jit ? jit : "null");
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
                zx_buf_printf(&b, "  worker slot %d: %llu tasks, busy %.3f s\n", i, (unsigned long long)slots[i].tasks,
                              (double)slots[i].busy_ns / 1e9);
        zx_buf_printf(&b, "speedup estimate %.2f, efficiency %.2f\n", speedup, efficiency);
        if (s->notes.len) {
            zx_buf_puts(&b, "ran sequentially:\n");
            zx_buf_put(&b, s->notes.data, s->notes.len);
        }
        if (placement) zx_buf_puts(&b, placement);
        if (jit) zx_buf_puts(&b, jit);
    }
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
    const char *llvm = zx_jit_llvm_version(vm);
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
