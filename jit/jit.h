/* jit.h — the JIT layer as the rest of libzexus sees it: plain C, no LLVM (DESIGN.md §6). */
#ifndef JIT_JIT_H
#define JIT_JIT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "exec/frame.h"
#include "exec/tier.h"

/*
 * Tiers.  The unit of compilation is a whole code object (the top level, an action, a lambda,
 * a fork block).  Its native function is a drop-in replacement for zx_interp_exec on a base
 * frame: it runs f from f->pc (an instruction at operand-stack depth 0) until the pc reaches
 * end_pc at such a boundary (ZX_OK, nothing in *result) or the code returns (ZX_OK, the value
 * in *result as a new reference, or dropped when result is NULL).  On an error it raises
 * through the interpreter's own helpers, with f->pc at the failing instruction, leaves f as
 * the interpreter would (values on the operand stack are released by zx_frame_pop) and
 * returns the status.  Native code keeps every value in the frame's own memory layout, so a
 * side exit hands the frame to the interpreter at the exact instruction.
 *
 * The JIT module (libzexus-jit.so, everything under jit/) links libLLVM; libzexus loads it
 * with dlopen on first use (jit/host/jit_loader.c), so a run that compiles nothing never pays
 * LLVM's start-up cost.  The module calls back into libzexus only through the helper
 * table below (runtime helpers referenced by name from the generated code).
 */
/* Auto mode loads the JIT module only once the program has had hot code this long (ms): see
 * zx_jit_hot. */
#define JIT_WARMUP_MS 20.0

/* --jit=always/strict compile the code objects of each source file (zx_code.file) as one
 * module, and a code object of more instructions than this in a module of its own
 * (jit_loader.c): the engine bounds the optimiser's work on big functions (engine.c). */
#define JIT_BIG_CODE 800

enum { JIT_STATE_NONE = 0, JIT_STATE_QUEUED = 1, JIT_STATE_COMPILED = 2, JIT_STATE_FAILED = 3 };

/*
 * What the JIT did with one code object, for --stats (zx_code.jit_info).  jit/host/jit_loader.c
 * makes it before the code object's first compilation, so it exists before any native code
 * for it can run, and frees it with the program.  The compile figures are written before
 * jit_state becomes COMPILED or FAILED (read them only after seeing that state); the side-exit
 * counters are bumped by native code from any thread (relaxed: figures, not synchronisation).
 */
enum {
    JIT_EXIT_GUARD = 0,            /* an entry's type guard failed: a variable's tag is not the
                                      one the lowering proved there */
    JIT_EXIT_NO_ENTRY = 1,         /* entered at an instruction that is not an entry point */
    JIT_EXIT_REASONS = 2,
};
typedef struct zx_jit_info {
    double compile_ms;             /* its share of its module's lowering+optimisation+codegen */
    uint32_t entries, helper_ops, inlined;   /* as zx_jit_code_stats */
    int cached;                    /* as zx_jit_code_stats */
    char *error;                   /* why it failed to compile, or NULL */
    uint32_t ncode;
    _Atomic uint64_t exits[];      /* [reason * ncode + pc]: side exits to the interpreter */
} zx_jit_info;

/* ---- the interface between libzexus and the dlopen'ed module ---- */

/* The version of zx_jit_module_api and of the structs below; the helpers have their own check
 * (jit/helper_abi.h). */
#define JIT_ABI 6

/* The compiled-code cache's counters (jit/cache.h): owned by libzexus, bumped by the module.
 * hits/misses/writes/corrupt count cache entries, one per compiled module. */
typedef struct zx_jit_cache_stats {
    _Atomic int enabled;           /* the cache directory could be used */
    _Atomic uint64_t hits, misses, writes, corrupt, evicted;
} zx_jit_cache_stats;

typedef struct zx_jit_symbol {
    const char *name;
    void *addr;
} zx_jit_symbol;

typedef struct zx_jit_config {
    int opt_level;                 /* 0..3 */
    int dump_ir;                   /* print IR before and after optimisation to stderr */
    int perf;                      /* /tmp/perf-PID.map, jitdump and gdb registration */
    int log;                       /* a line per module on stderr: where compile time went */
    const zx_jit_symbol *helpers;  /* runtime helpers, defined as absolute symbols */
    size_t nhelpers;
    const char *cache_dir;         /* the compiled-code cache, or NULL for none (copied) */
    zx_jit_cache_stats *cache_stats;   /* its counters (outlive the engine) */
    /* The bytes of code object c of p in the .zxbc encoding, children left out and its file
     * named (zx_bytecode_write_code), malloc'ed, *len of them: the code object's own part of
     * cache keys.  NULL when out of memory. */
    void *(*code_bytes)(const zx_program *p, const zx_code *c, size_t *len);
    /* Nonzero: nobody needs the compile in progress (its program is being unloaded, the VM
     * destroyed).  compile looks at it between passes, before code generation and before
     * linking, and then gives up: ZX_E_INTERRUPTED, nothing published.  Owned by libzexus. */
    const _Atomic int *cancel;
} zx_jit_config;

/* Per code object statistics, filled in by compile. */
typedef struct zx_jit_code_stats {
    double compile_ms;             /* lowering + optimisation + code generation */
    uint32_t entries;              /* entry points (depth-0 instructions reachable from pc 0) */
    uint32_t helper_ops;           /* instructions lowered to a call of the interpreter's step */
    uint32_t inlined;              /* calls lowered with their callee's body inline */
    int cached;                    /* 1: loaded from the compiled-code cache, not compiled */
} zx_jit_code_stats;

typedef struct zx_jit_engine zx_jit_engine;

typedef struct zx_jit_module_api {
    uint32_t abi;                  /* JIT_ABI */
    uint32_t frame_size, task_size, code_size;   /* sizeof of the shared structs, checked */
    const char *helper_abi;        /* JIT_HELPER_ABI_TEXT as the module was built: checked by hash */
    const char *llvm_version;
    /* Create an engine (one LLJIT).  NULL with a message in err on failure. */
    zx_jit_engine *(*engine_create)(const zx_jit_config *cfg, char *err, size_t errsz);
    /* Free the engine and all code it compiled.  No compile may be running. */
    void (*engine_destroy)(zx_jit_engine *e);
    /* Lower and compile the n code objects (all of program prog) as one module and publish
     * each one's native function (release store into code->native).  Thread-safe: calls are
     * serialised inside.  On failure nothing is published, err says which code object and
     * why, and the status is ZX_E_UNSUPPORTED (ZX_E_INTERRUPTED: cfg.cancel was set).
     * stats (n entries) may be NULL. */
    zx_status (*compile)(zx_jit_engine *e, zx_program *prog, zx_code **codes, size_t n,
                         zx_jit_code_stats *stats, char *err, size_t errsz);
    /* Free every piece of code compiled for prog (its resource tracker). */
    void (*program_release)(zx_jit_engine *e, zx_program *prog);
} zx_jit_module_api;

/* The one symbol the module exports. */
#define JIT_MODULE_SYMBOL "zx_jit_module"

/* ---- libzexus side (jit/host/jit_loader.c, jit/host/jit_helpers.c) ---- */

/* The runtime helpers passed to the module (jit/host/jit_helpers.c). */
extern const zx_jit_symbol zx_jit_helpers[];
extern const size_t zx_jit_nhelpers;

/* The interpreter's side of tiering (the native function of a code object, hotness) is in
 * src/exec/tier.h; the JIT hears of hot code through the run's on_hot hook, zx_jit_hot. */

/* What the VM asks of its JIT host (a copy of the options that concern it). */
typedef struct zx_jit_options {
    zx_jit mode;                   /* ZX_JIT_AUTO, ALWAYS or STRICT (OFF makes no host) */
    int opt_level;                 /* 0..3 */
    int dump_ir, perf;             /* as zx_jit_config */
    int use_cache;                 /* use the compiled-code cache directory */
} zx_jit_options;

typedef struct zx_jit_host zx_jit_host;

/* A JIT host for one VM (the module is loaded later, on first use); NULL when out of memory. */
zx_jit_host *zx_jit_host_create(const zx_jit_options *o);
/* Stop the compiler thread and free the engine and the host.  NULL is ignored. */
void zx_jit_host_destroy(zx_jit_host *h);
/* The run's on_hot hook (src/exec/tier.h) under --jit=auto: ctx is the host; queues c. */
void zx_jit_hot(void *ctx, zx_task *t, zx_code *c);
/* A program was loaded (after verification): record ownership of its code objects, and with
 * a host under --jit=always/strict compile every code object now (h NULL: --jit=off, only the
 * ownership).  strict: a failure is an error (ZX_E_UNSUPPORTED, message in err). */
zx_status zx_jit_program_loaded(zx_jit_host *h, zx_program *p, char *err, size_t errsz);
/* The program is being destroyed: drop queued work for it and free its code.  h may be NULL. */
void zx_jit_program_unload(zx_jit_host *h, zx_program *p);
/* Version of the LLVM the module was built with, loading it if needed; NULL if unavailable.
 * h may be NULL. */
const char *zx_jit_llvm_version(zx_jit_host *h);

/* The JIT-wide figures of a VM for --stats (src/vm/stats.c formats them with each code object's
 * zx_jit_info).  All zero when no program has asked for the JIT (--jit=off). */
typedef struct zx_jit_figures {
    int module_loaded;             /* the module and its engine are ready */
    char load_error[512];          /* why they could not be made, or "" */
    double load_ms;                /* dlopen of libzexus-jit.so and its checks */
    double engine_ms;              /* creating the LLJIT (target machines, helpers) */
    uint64_t compiles;             /* calls of compile (modules; retries and failures count) */
    double compile_ms;             /* their total wall time */
} zx_jit_figures;
void zx_jit_get_figures(zx_jit_host *h, zx_jit_figures *out);

/* The compiled-code cache counters of host h (they live as long as h), and in *dir its
 * directory (NULL when the cache is off).  NULL when h is NULL (--jit=off). */
const zx_jit_cache_stats *zx_jit_cache_stats_of(zx_jit_host *h, const char **dir);

#endif
