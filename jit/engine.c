/* engine.c — the LLJIT session of one VM: modules, pass pipelines, resource trackers, perf. */
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/ErrorHandling.h>
#include <llvm-c/ExecutionEngine.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Object.h>
#include <llvm-c/Orc.h>
#include <llvm-c/OrcEE.h>
#include <llvm-c/Support.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "analyze.h"
#include "cache.h"
#include "helper_abi.h"
#include "jit.h"
#include "lower.h"

#define JIT_EXPORT __attribute__((visibility("default")))

struct zx_jit_engine {
    pthread_mutex_t lock;         /* serialises add-module + first lookup (TOOLCHAIN.md hazard) */
    LLVMOrcLLJITRef jit;
    LLVMOrcJITDylibRef jd;
    LLVMTargetMachineRef tm;      /* for the optimisation pipeline */
    LLVMTargetMachineRef tm0;     /* -O0 code generation for modules past the bound (made on
                                     first use; see bound_optimisation) */
    zx_jit_config cfg;
    uint64_t next_module;
    jit_cache *cache;              /* compiled-code cache (jit/cache.h), NULL when off */
    uint8_t cache_key[CACHE_KEY_LEN];   /* the engine's part of every cache key */
    uint32_t next_program;
};

/* What the JIT keeps per program (zx_program.jit): its code lives under one tracker. */
typedef struct program_code {
    /* one tracker per object added to the JIT, all removed with the program.  Not one tracker
     * with each object's transferred to it: LLVM 19's ObjectLinkingLayer::handleTransferResources
     * keeps a reference into its allocation map across an insertion that may grow the map, and
     * then reserves a vector of a size read from freed memory (std::length_error, the process
     * aborts; about one run in ten of tests/api/test_api_memory.c, its 1,100 programs) */
    LLVMOrcResourceTrackerRef *rts;
    size_t nrts, caprts;
    uint32_t serial;              /* 1 for the engine's first program, 2 for the next ... */
} program_code;

/*
 * LLVM's fatal-error handler is process-wide (LLVMInstallFatalErrorHandler), so the name of
 * the code object being compiled is kept per thread for it; LLVM exits the process after the
 * handler returns.  Errors that LLVM reports as values never get here: they become statuses.
 */
static _Thread_local const char *compiling_what;

static void fatal_handler(const char *reason)
{
    fprintf(stderr, "zexus-jit: fatal LLVM error while compiling %s: %s\n",
            compiling_what ? compiling_what : "(no code object)", reason);
}

static pthread_once_t llvm_once = PTHREAD_ONCE_INIT;

static void llvm_init(void)
{
    LLVMInitializeNativeTarget();
    LLVMInitializeNativeAsmPrinter();
    LLVMInstallFatalErrorHandler(fatal_handler);
}

static void take_error(LLVMErrorRef e, const char *what, char *err, size_t errsz)
{
    char *msg = LLVMGetErrorMessage(e);
    snprintf(err, errsz, "%s: %s", what, msg);
    LLVMDisposeErrorMessage(msg);
}

static LLVMTargetMachineRef host_tm(int opt_level, char *err, size_t errsz)
{
    char *triple = LLVMGetDefaultTargetTriple();
    char *cpu = LLVMGetHostCPUName();
    char *features = LLVMGetHostCPUFeatures();
    LLVMTargetRef target;
    char *msg = NULL;
    LLVMTargetMachineRef tm = NULL;
    if (LLVMGetTargetFromTriple(triple, &target, &msg)) {
        snprintf(err, errsz, "no target for %s: %s", triple, msg ? msg : "?");
        LLVMDisposeMessage(msg);
    } else {
        static const LLVMCodeGenOptLevel levels[] = { LLVMCodeGenLevelNone, LLVMCodeGenLevelLess,
                                                      LLVMCodeGenLevelDefault, LLVMCodeGenLevelAggressive };
        tm = LLVMCreateTargetMachine(target, triple, cpu, features, levels[opt_level], LLVMRelocPIC,
                                     LLVMCodeModelJITDefault);
        if (!tm) snprintf(err, errsz, "cannot create a target machine for %s", triple);
    }
    LLVMDisposeMessage(triple);
    LLVMDisposeMessage(cpu);
    LLVMDisposeMessage(features);
    return tm;
}

static LLVMOrcObjectLayerRef perf_layer(void *ctx, LLVMOrcExecutionSessionRef es, const char *triple)
{
    (void)ctx;
    (void)triple;
    LLVMOrcObjectLayerRef l = LLVMOrcCreateRTDyldObjectLinkingLayerWithSectionMemoryManager(es);
    LLVMJITEventListenerRef perf = LLVMCreatePerfJITEventListener();
    if (perf) LLVMOrcRTDyldObjectLinkingLayerRegisterJITEventListener(l, perf);
    LLVMJITEventListenerRef gdb = LLVMCreateGDBRegistrationListener();
    if (gdb) LLVMOrcRTDyldObjectLinkingLayerRegisterJITEventListener(l, gdb);
    return l;
}

static void engine_destroy(zx_jit_engine *e);

static zx_jit_engine *engine_create(const zx_jit_config *cfg, char *err, size_t errsz)
{
    pthread_once(&llvm_once, llvm_init);
    zx_jit_engine *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&e->lock, NULL);
    e->cfg = *cfg;
    int ol = cfg->opt_level < 0 ? 0 : cfg->opt_level > 3 ? 3 : cfg->opt_level;
    e->cfg.opt_level = ol;
    e->tm = host_tm(ol, err, errsz);
    LLVMTargetMachineRef jit_tm = e->tm ? host_tm(ol, err, errsz) : NULL;
    if (!jit_tm) goto fail;

    LLVMOrcLLJITBuilderRef builder = LLVMOrcCreateLLJITBuilder();
    LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(builder, LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(jit_tm));
    if (cfg->perf) LLVMOrcLLJITBuilderSetObjectLinkingLayerCreator(builder, perf_layer, NULL);
    LLVMErrorRef le = LLVMOrcCreateLLJIT(&e->jit, builder);
    if (le) {
        take_error(le, "cannot create the LLJIT", err, errsz);
        goto fail;
    }
    e->jd = LLVMOrcLLJITGetMainJITDylib(e->jit);

    /* runtime helpers by name: absolute symbols, so no -rdynamic and no addresses in objects */
    LLVMOrcCSymbolMapPair *pairs = calloc(cfg->nhelpers ? cfg->nhelpers : 1, sizeof *pairs);
    if (!pairs) goto fail;
    for (size_t i = 0; i < cfg->nhelpers; i++) {
        pairs[i].Name = LLVMOrcLLJITMangleAndIntern(e->jit, cfg->helpers[i].name);
        pairs[i].Sym.Address = (LLVMOrcExecutorAddress)(uintptr_t)cfg->helpers[i].addr;
        pairs[i].Sym.Flags.GenericFlags = LLVMJITSymbolGenericFlagsExported | LLVMJITSymbolGenericFlagsCallable;
        pairs[i].Sym.Flags.TargetFlags = 0;
    }
    le = LLVMOrcJITDylibDefine(e->jd, LLVMOrcAbsoluteSymbols(pairs, cfg->nhelpers));
    free(pairs);
    if (le) {
        take_error(le, "cannot define the runtime helpers", err, errsz);
        goto fail;
    }
    /* O2 code may call memcpy/memset and libm */
    LLVMOrcDefinitionGeneratorRef gen;
    le = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(&gen, LLVMOrcLLJITGetGlobalPrefix(e->jit), NULL, NULL);
    if (le) {
        take_error(le, "cannot search the process for symbols", err, errsz);
        goto fail;
    }
    LLVMOrcJITDylibAddGenerator(e->jd, gen);
    if (cfg->cache_dir) {
        e->cache = cache_open(cfg->cache_dir, cfg->cache_stats);
        char *cpu = LLVMGetHostCPUName(), *features = LLVMGetHostCPUFeatures();
        cache_engine_key(e->cache_key, LLVM_VERSION_STRING, LLVMOrcLLJITGetTripleString(e->jit), cpu, features, ol);
        LLVMDisposeMessage(cpu);
        LLVMDisposeMessage(features);
    }
    return e;
fail:
    engine_destroy(e);
    return NULL;
}

static void engine_destroy(zx_jit_engine *e)
{
    if (!e) return;
    if (e->jit) {
        LLVMErrorRef le = LLVMOrcDisposeLLJIT(e->jit);
        if (le) LLVMConsumeError(le);
    }
    if (e->tm) LLVMDisposeTargetMachine(e->tm);
    if (e->tm0) LLVMDisposeTargetMachine(e->tm0);
    cache_close(e->cache);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * Pass pipelines.  A module holds one function per code object and nothing to inline, so
 * LLVM's module-level default pipelines mostly cost time; -O1/-O2 run a function pipeline
 * that does what our IR needs (allocas to SSA, constant tags folded, redundant loads and
 * branches removed, loop-invariant code hoisted).  -O3 is LLVM's own default<O3>.
 * ZEXUS_JIT_PASSES overrides (for experiments).  A bare "instcombine" in a textual pipeline
 * checks that one iteration reached a fixpoint and is a fatal error (the process exits) when
 * it did not, which some of our IR provokes; LLVM's own pipelines turn that check off too.
 */
static const char *const pipelines[4] = {
    NULL,
    "function(sroa,early-cse,simplifycfg,instcombine<no-verify-fixpoint>,simplifycfg)",
    "function(sroa,early-cse<memssa>,simplifycfg,instcombine<no-verify-fixpoint>,correlated-propagation,"
    "simplifycfg,loop-mssa(licm),gvn,sccp,instcombine<no-verify-fixpoint>,jump-threading,dse,adce,simplifycfg)",
    "default<O3>",
};

/* Whether the compile in progress is no longer wanted (zx_jit_config.cancel). */
static bool cancelled(const zx_jit_engine *e)
{
    return e->cfg.cancel && atomic_load_explicit(e->cfg.cancel, memory_order_relaxed);
}

/*
 * Run a pipeline over m, stopping early when the compile is cancelled.  A module of more than
 * SPLIT_PIPELINE_INSTS instructions runs our own function pipelines one pass at a time (the
 * analyses are computed anew for each run, a few milliseconds), so a VM that exits waits for
 * one pass at most, never for the whole pipeline; a small module (or -O3, ZEXUS_JIT_PASSES)
 * runs it in one go.  1 when it ran to the end, 0 with err set.
 */
#define SPLIT_PIPELINE_INSTS 2000

static int run_pipeline(zx_jit_engine *e, LLVMModuleRef m, const char *passes, uint64_t ninsts, char *err,
                        size_t errsz)
{
    const char *prefix = "function(";
    size_t plen = strlen(passes);
    int split = ninsts > SPLIT_PIPELINE_INSTS && e->cfg.cancel && strncmp(passes, prefix, 9) == 0 &&
                passes[plen - 1] == ')' && plen < 4096;
    char one[4200];
    const char *p = passes + 9, *end = passes + plen - 1;
    do {
        const char *run = passes;
        if (split) {
            /* the next top-level pass of function(...): up to a comma outside <> and () */
            const char *q = p;
            int nest = 0;
            for (; q < end && (nest > 0 || *q != ','); q++) nest += (*q == '(' || *q == '<') - (*q == ')' || *q == '>');
            snprintf(one, sizeof one, "function(%.*s)", (int)(q - p), p);
            run = one;
            p = q < end ? q + 1 : end;
        }
        if (cancelled(e)) {
            snprintf(err, errsz, "compilation cancelled");
            return 0;
        }
        LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
        LLVMErrorRef le = LLVMRunPasses(m, run, e->tm, po);
        LLVMDisposePassBuilderOptions(po);
        if (le) {
            take_error(le, "optimisation failed", err, errsz);
            return 0;
        }
    } while (split && p < end);
    return 1;
}

/* The file of c's code (zx_code.file; zx_code_file in libzexus, which the module does not link)
 * as an index 0..nfiles. */
static uint32_t file_of(const zx_program *prog, const zx_code *c)
{
    return c->file <= prog->nfiles ? c->file : 0;
}

static const char *file_name(const zx_program *prog, uint32_t file)
{
    return file ? prog->files[file - 1] : prog->source_name;
}

static void dump_module(LLVMModuleRef m, zx_program *prog, zx_code **codes, char **fnames, size_t n,
                        const char *when)
{
    fprintf(stderr, "; ==== zexus-jit IR %s optimisation: %s ====\n", when,
            n ? file_name(prog, file_of(prog, codes[0])) : prog->source_name);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "; %s: %s %s (line %u) -> @%s\n", file_name(prog, file_of(prog, codes[i])),
                codes[i]->kind == 0 ? "top level" : "code object", codes[i]->name, codes[i]->pos.line, fnames[i]);
    char *text = LLVMPrintModuleToString(m);
    fputs(text, stderr);
    LLVMDisposeMessage(text);
}

/* k: c's index among the code objects of file `file` in the preorder walk from `at`
 * (`zexus-jit disasm` order). */
static bool index_in_file(const zx_program *prog, const zx_code *at, const zx_code *c, uint32_t file, uint32_t *k)
{
    if (at == c) return true;
    if (file_of(prog, at) == file) ++*k;
    for (uint32_t i = 0; i < at->nchildren; i++)
        if (index_in_file(prog, at->children[i], c, file, k)) return true;
    return false;
}

/*
 * The name of a code object's native function, which perf (jitdump and /tmp/perf-PID.map) and
 * gdb show: "zx:FILE:WHAT:line N:code K", FILE the source file of its code (the program's, or
 * a module's), WHAT "top level", "action NAME", "lambda" or "fork block", N the line it is
 * defined on and K its index among the code objects of its file.  Nothing in it depends on
 * other files, so the name, like the compiled-code cache's key that holds it, stays the same
 * when another module changes.  One JITDylib holds every program of the engine, so from the
 * second program on ":program P" keeps names of programs with the same file apart; a file
 * whose name another file of the program has too (a hand-written .zxa) adds ":file F".
 * Control characters in a path become '?' (a perf map line ends at a newline); a path longer
 * than 200 bytes keeps its last 200 and adds a hash of the whole path.
 */
static char *native_name(const zx_program *prog, const zx_code *c, uint32_t serial)
{
    uint32_t fi = file_of(prog, c);
    const char *file = file_name(prog, fi);
    size_t flen = strlen(file);
    char extra[64] = "";
    size_t at = 0;
    if (flen > 200) {
        uint32_t h = 2166136261u;   /* FNV-1a */
        for (size_t i = 0; i < flen; i++) h = (h ^ (unsigned char)file[i]) * 16777619u;
        at += (size_t)snprintf(extra + at, sizeof extra - at, ":path %08x", h);
        file += flen - 200;
    }
    for (uint32_t f = 0; f <= prog->nfiles; f++) {
        if (f == fi || strcmp(file_name(prog, f), file_name(prog, fi)) != 0) continue;
        at += (size_t)snprintf(extra + at, sizeof extra - at, ":file %u", fi);
        break;
    }
    if (serial > 1) snprintf(extra + at, sizeof extra - at, ":program %u", serial);
    char what[160];
    switch (c->kind) {
    case ZX_CODE_MAIN: snprintf(what, sizeof what, "top level"); break;
    case ZX_CODE_ACTION: snprintf(what, sizeof what, "action %.100s", c->name); break;
    case ZX_CODE_LAMBDA: snprintf(what, sizeof what, "lambda"); break;
    case ZX_CODE_FORK: snprintf(what, sizeof what, "fork block"); break;
    default: snprintf(what, sizeof what, "code object %.100s", c->name); break;
    }
    uint32_t k = 0;
    if (!prog->main || !index_in_file(prog, prog->main, c, fi, &k)) k = UINT32_MAX;
    char name[600];
    snprintf(name, sizeof name, "zx:%s:%s:line %u:code %u%s", file, what, c->pos.line, k, extra);
    for (char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
    return strdup(name);
}

/*
 * perf's map of JIT code, /tmp/perf-PID.map: one "START SIZE NAME" line (hex, no 0x) per
 * native function.  The first engine of the process that profiles truncates what an earlier
 * process with the same pid left; after that every VM of the process appends, one write()
 * per line so that lines never interleave.
 */
static pthread_once_t perf_map_once = PTHREAD_ONCE_INIT;

static void perf_map_path(char *path, size_t n)
{
    snprintf(path, n, "/tmp/perf-%ld.map", (long)getpid());
}

static void perf_map_truncate(void)
{
    char path[64];
    perf_map_path(path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) close(fd);
}

static void perf_map_write(char **fnames, void **addrs, const uint64_t *sizes, size_t n)
{
    pthread_once(&perf_map_once, perf_map_truncate);
    char path[64];
    perf_map_path(path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return;   /* profiling is best effort: the run goes on without the map */
    for (size_t i = 0; i < n; i++) {
        char line[600];
        int len = snprintf(line, sizeof line, "%llx %llx %s\n", (unsigned long long)(uintptr_t)addrs[i],
                           (unsigned long long)sizes[i], fnames[i]);
        if (len > 0 && (size_t)len < sizeof line && write(fd, line, (size_t)len) != len) break;
    }
    close(fd);
}

/*
 * What the perf map needs of an object and the JIT's lookup does not give: the size of each
 * fnames[i], and the functions that are not looked up (int versions, pieces, call stubs,
 * zx.guard) with their place relative to a looked-up function in the same section, whose
 * address the lookup gives.
 */
typedef struct perf_syms {
    uint64_t *sizes;          /* per fnames[i]: its size, 0 if not found */
    uint64_t *off;            /* per fnames[i]: its offset in its section */
    const void **sect;        /* per fnames[i]: its section (its contents' address) */
    size_t nextra, cap;
    struct perf_extra { char *name; uint64_t off, size; const void *sect; } *extra;
} perf_syms;

static void perf_syms_free(perf_syms *ps)
{
    for (size_t k = 0; k < ps->nextra; k++) free(ps->extra[k].name);
    free(ps->extra);
    free(ps->sizes);
    free(ps->off);
    free(ps->sect);
    memset(ps, 0, sizeof *ps);
}

static int perf_syms_read(LLVMMemoryBufferRef obj, char **fnames, size_t n, perf_syms *ps)
{
    memset(ps, 0, sizeof *ps);
    ps->sizes = calloc(n ? n : 1, sizeof *ps->sizes);
    ps->off = calloc(n ? n : 1, sizeof *ps->off);
    ps->sect = calloc(n ? n : 1, sizeof *ps->sect);
    if (!ps->sizes || !ps->off || !ps->sect) return 0;
    char *msg = NULL;
    LLVMBinaryRef bin = LLVMCreateBinary(obj, NULL, &msg);
    LLVMDisposeMessage(msg);
    if (!bin) return 1;
    LLVMSymbolIteratorRef si = LLVMObjectFileCopySymbolIterator(bin);
    LLVMSectionIteratorRef sec = LLVMObjectFileCopySectionIterator(bin);
    for (; si && sec && !LLVMObjectFileIsSymbolIteratorAtEnd(bin, si); LLVMMoveToNextSymbol(si)) {
        const char *name = LLVMGetSymbolName(si);
        uint64_t size = LLVMGetSymbolSize(si);
        if (!name || !name[0] || !size) continue;
        LLVMMoveToContainingSection(sec, si);
        if (LLVMObjectFileIsSectionIteratorAtEnd(bin, sec)) continue;
        const void *where = LLVMGetSectionContents(sec);
        uint64_t off = LLVMGetSymbolAddress(si) - LLVMGetSectionAddress(sec);
        size_t i = 0;
        while (i < n && strcmp(name, fnames[i]) != 0) i++;
        if (i < n) {
            ps->sizes[i] = size;
            ps->off[i] = off;
            ps->sect[i] = where;
            continue;
        }
        if (ps->nextra == ps->cap) {
            size_t cap = ps->cap ? 2 * ps->cap : 16;
            struct perf_extra *x = realloc(ps->extra, cap * sizeof *x);
            if (!x) break;
            ps->extra = x;
            ps->cap = cap;
        }
        char *copy = strdup(name);
        if (!copy) break;
        ps->extra[ps->nextra++] = (struct perf_extra){ copy, off, size, where };
    }
    if (sec) LLVMDisposeSectionIterator(sec);
    if (si) LLVMDisposeSymbolIterator(si);
    LLVMDisposeBinary(bin);
    return 1;
}

/* The map's lines for the functions of one object: fnames at addrs, and the others placed
 * by a looked-up function of their section (data symbols share no section with one). */
static void perf_map_object(char **fnames, void **addrs, size_t n, const perf_syms *ps)
{
    perf_map_write(fnames, addrs, ps->sizes, n);
    if (!ps->nextra) return;
    char **names = malloc(ps->nextra * sizeof *names);
    void **at = malloc(ps->nextra * sizeof *at);
    uint64_t *sizes = malloc(ps->nextra * sizeof *sizes);
    size_t m = 0;
    /* one anchor per section: the first looked-up function in it */
    for (size_t k = 0; names && at && sizes && k < ps->nextra; k++) {
        const struct perf_extra *x = &ps->extra[k];
        size_t i = 0;
        while (i < n && (!ps->sizes[i] || ps->sect[i] != x->sect || !addrs[i])) i++;
        if (i == n) continue;
        names[m] = x->name;
        at[m] = (char *)addrs[i] - ps->off[i] + x->off;
        sizes[m++] = x->size;
    }
    if (m) perf_map_write(names, at, sizes, m);
    free(names);
    free(at);
    free(sizes);
}

/* The pass pipeline of the engine's level (NULL at -O0); ZEXUS_JIT_PASSES replaces it. */
static const char *pipeline(const zx_jit_engine *e)
{
    if (e->cfg.opt_level == 0) return NULL;
    const char *passes = getenv("ZEXUS_JIT_PASSES");
    return passes && passes[0] ? passes : pipelines[e->cfg.opt_level];
}

#define WHAT_SIZE 256

/*
 * The optimiser's work per function is bounded: past OPT_MAX_INSTS instructions (as lowered)
 * a function gets LLVM's optnone, so the pass pipeline skips it, and its module is generated
 * by an -O0 target machine (fast instruction selection and register allocation: optnone
 * alone leaves the greedy allocator, which is what grows fastest).  The loader compiles such
 * big code objects in modules of their own (jit_loader.c, JIT_BIG_CODE), so the others keep
 * full code generation.  Below the bound the
 * time of the -O2 pipeline and code generation grows faster than the function (register
 * allocation and the scheduler over a long straight top level: a 1,200-line program's top
 * level took 11 s at -O2 and 1.2 s at -O0); above it compile time grows with the size.  What
 * such a function loses is speed of code that runs once per statement, as a rule (a long top
 * level); loops are in actions or short code objects, which stay optimised.  Code that loops
 * (the lowerer marks its function "zexus-loops") gets twice the bound: a loop body of a few
 * dozen lines of field reads and updates is that big once every path and reference count is
 * spelled out (nbody's `advance`, 14,200 instructions: 5.6 s of run at -O0, 1.27 s at -O2 for
 * 2.8 s of compile, once, and cached), and the time it runs pays for the compile, which a
 * straight top level's does not.
 * ZEXUS_JIT_OPT_MAX_INSTS=N overrides the bound (for measurements; 0: no bound; code that
 * loops gets 2N).
 */
#define OPT_MAX_INSTS 12000

static uint64_t count_insts(LLVMValueRef fn)
{
    uint64_t n = 0;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) n++;
    return n;
}

/* Mark the functions of m past the bound optnone (and noinline, which optnone requires);
 * returns how many. */
static uint64_t module_insts(LLVMModuleRef m)
{
    uint64_t n = 0;
    for (LLVMValueRef fn = LLVMGetFirstFunction(m); fn; fn = LLVMGetNextFunction(fn)) n += count_insts(fn);
    return n;
}

static unsigned bound_optimisation(LLVMModuleRef m)
{
    uint64_t max = OPT_MAX_INSTS;
    const char *env = getenv("ZEXUS_JIT_OPT_MAX_INSTS");
    if (env && env[0]) max = strtoull(env, NULL, 10);
    if (max == 0) return 0;
    LLVMContextRef cx = LLVMGetModuleContext(m);
    unsigned optnone = LLVMGetEnumAttributeKindForName("optnone", 7);
    unsigned noinline = LLVMGetEnumAttributeKindForName("noinline", 8);
    unsigned nbig = 0;
    for (LLVMValueRef fn = LLVMGetFirstFunction(m); fn; fn = LLVMGetNextFunction(fn)) {
        int loops = LLVMGetStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, "zexus-loops", 11) != NULL;
        if (LLVMIsDeclaration(fn)) continue;
        /* a piece of a big code object (lower.c, PIECE_CODE) counts the whole code object */
        LLVMAttributeRef whole = LLVMGetStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, "zexus-code-insts", 16);
        unsigned len = 0;
        const char *v = whole ? LLVMGetStringAttributeValue(whole, &len) : NULL;
        uint64_t size = 0;
        if (v) {
            for (unsigned k = 0; k < len && v[k] >= '0' && v[k] <= '9'; k++) size = size * 10 + (uint64_t)(v[k] - '0');
        } else {
            size = count_insts(fn);
        }
        if (size <= (loops ? 2 * max : max)) continue;
        LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(cx, optnone, 0));
        LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(cx, noinline, 0));
        nbig++;
    }
    return nbig;
}

/* Lower codes[0..n) as one module with functions fnames, optimise it and generate its object
 * file.  times[0], times[1]: when lowering and optimisation ended.  what: the caller's buffer
 * for the fatal-error handler's label (it stays set while the object is linked).  NULL on
 * failure (err). */
static LLVMMemoryBufferRef build_object(zx_jit_engine *e, zx_program *prog, zx_code **codes, char **fnames,
                                        size_t n, uint64_t id, zx_jit_code_stats *stats, double times[2],
                                        char what[WHAT_SIZE], char *err, size_t errsz)
{
    LLVMContextRef cx = LLVMContextCreate();
    /* names of values and blocks are for --dump-ir only: without them a long function's IR
     * takes about a third less memory and time */
    if (!e->cfg.dump_ir) LLVMContextSetDiscardValueNames(cx, 1);
    char modname[64];
    snprintf(modname, sizeof modname, "zexus.%llu", (unsigned long long)id);
    LLVMModuleRef m = LLVMModuleCreateWithNameInContext(modname, cx);
    const char *source = n ? file_name(prog, file_of(prog, codes[0])) : prog->source_name;
    LLVMSetSourceFileName(m, source, strlen(source));
    LLVMSetDataLayout(m, LLVMOrcLLJITGetDataLayoutStr(e->jit));
    LLVMSetTarget(m, LLVMOrcLLJITGetTripleString(e->jit));

    for (size_t i = 0; i < n; i++) {
        snprintf(what, WHAT_SIZE, "%s:%s (line %u)", file_name(prog, file_of(prog, codes[i])), codes[i]->name,
                 codes[i]->pos.line);
        compiling_what = what;
        double c0 = now_ms();
        if (!lower_code(m, prog, codes[i], fnames[i], codes, n, &stats[i], err, errsz)) {
            char tmp[512];
            snprintf(tmp, sizeof tmp, "%s", err);
            snprintf(err, errsz, "cannot compile %s: %s", what, tmp);
            LLVMDisposeModule(m);
            LLVMContextDispose(cx);
            return NULL;
        }
        stats[i].compile_ms = now_ms() - c0;
    }
    snprintf(what, WHAT_SIZE, "%s (%zu code objects)", source, n);
    compiling_what = what;
    char *vmsg = NULL;
    if (LLVMVerifyModule(m, LLVMReturnStatusAction, &vmsg)) {
        snprintf(err, errsz, "cannot compile %s: invalid IR: %.300s", what, vmsg ? vmsg : "?");
        if (e->cfg.dump_ir) dump_module(m, prog, codes, fnames, n, "(invalid) before");
        LLVMDisposeMessage(vmsg);
        LLVMDisposeModule(m);
        LLVMContextDispose(cx);
        return NULL;
    }
    LLVMDisposeMessage(vmsg);
    if (e->cfg.dump_ir) dump_module(m, prog, codes, fnames, n, "before");
    times[0] = now_ms();
    const char *passes = pipeline(e);
    LLVMTargetMachineRef tm = e->tm;
    if (passes) {
        unsigned nbig = bound_optimisation(m);
        if (nbig && !e->tm0) {
            char tmerr[256];
            e->tm0 = host_tm(0, tmerr, sizeof tmerr);
        }
        if (nbig && e->tm0) tm = e->tm0;
        if (nbig && e->cfg.log)
            fprintf(stderr, "jit: module %llu: %u function(s) over %d instructions compiled as at -O0\n",
                    (unsigned long long)id, nbig, OPT_MAX_INSTS);
    }
    if (passes && !run_pipeline(e, m, passes, module_insts(m), err, errsz)) {
        LLVMDisposeModule(m);
        LLVMContextDispose(cx);
        return NULL;
    }
    if (e->cfg.dump_ir) dump_module(m, prog, codes, fnames, n, "after");
    times[1] = now_ms();
    if (cancelled(e)) {
        snprintf(err, errsz, "compilation cancelled");
        LLVMDisposeModule(m);
        LLVMContextDispose(cx);
        return NULL;
    }

    /* Code generation with our own target machine (kept for the engine's life: creating one
     * per module costs milliseconds), then the object goes to the JIT under the program's
     * tracker. */
    LLVMMemoryBufferRef obj = NULL;
    char *emsg = NULL;
    LLVMBool bad = LLVMTargetMachineEmitToMemoryBuffer(tm, m, LLVMObjectFile, &emsg, &obj);
    LLVMDisposeModule(m);
    LLVMContextDispose(cx);
    if (bad) {
        snprintf(err, errsz, "code generation failed for %s: %s", what, emsg ? emsg : "?");
        LLVMDisposeMessage(emsg);
        return NULL;
    }
    return obj;
}

/*
 * The object goes to the JIT under a tracker of its own, kept in the program's list once every
 * function is found: when linking fails, removing that tracker takes the object's symbols out
 * again, so the module can be compiled anew under the same names (a cached object that LLVM
 * rejects).  Takes obj.  addrs[i]: fnames[i]'s code.
 */
static int add_object(zx_jit_engine *e, program_code *pc, LLVMMemoryBufferRef obj, char **fnames, size_t n,
                      void **addrs, char *err, size_t errsz)
{
    if (pc->nrts == pc->caprts) {
        size_t cap = pc->caprts ? 2 * pc->caprts : 4;
        LLVMOrcResourceTrackerRef *grown = realloc(pc->rts, cap * sizeof *grown);
        if (!grown) {
            LLVMDisposeMemoryBuffer(obj);
            snprintf(err, errsz, "out of memory");
            return 0;
        }
        pc->rts = grown;
        pc->caprts = cap;
    }
    LLVMOrcResourceTrackerRef rt = LLVMOrcJITDylibCreateResourceTracker(e->jd);
    LLVMErrorRef le = LLVMOrcLLJITAddObjectFileWithRT(e->jit, rt, obj);
    if (le) {
        take_error(le, "cannot add the compiled object", err, errsz);
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        LLVMOrcExecutorAddress a = 0;
        le = LLVMOrcLLJITLookup(e->jit, &a, fnames[i]);
        if (le) {
            take_error(le, "cannot look up compiled code", err, errsz);
            goto fail;
        }
        addrs[i] = (void *)(uintptr_t)a;
    }
    pc->rts[pc->nrts++] = rt;   /* removed with the program (program_release) */
    return 1;
fail:
    le = LLVMOrcResourceTrackerRemove(rt);
    if (le) LLVMConsumeError(le);
    LLVMOrcReleaseResourceTracker(rt);
    return 0;
}

/* analyze_put_fn into a growing buffer */
typedef struct fact_buf {
    uint8_t *data;
    size_t len, cap;
    int oom;
} fact_buf;

static void fact_put(void *ctx, const void *bytes, size_t n)
{
    fact_buf *b = ctx;
    if (b->oom || n == 0) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        uint8_t *grown = realloc(b->data, cap);
        if (!grown) {
            b->oom = 1;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, bytes, n);
    b->len += n;
}

/* The cache key of the module of codes[0..n) with functions fnames: for each code object its
 * name and its own bytes with what lowering reads outside it (jit/cache.h).  The names are a
 * part: they are what makes symbols unique in the JITDylib (native_name), and a cached object
 * defines exactly the names it was compiled with.  0: no key (out of memory), no cache. */
static int module_key(zx_jit_engine *e, zx_program *prog, zx_code **codes, char **fnames, size_t n,
                      uint8_t key[CACHE_KEY_LEN])
{
    if (!e->cfg.code_bytes) return 0;
    uint8_t (*ck)[CACHE_KEY_LEN] = calloc(n ? n : 1, sizeof *ck);
    int ok = ck != NULL;
    fact_buf facts = { NULL, 0, 0, 0 };
    for (size_t i = 0; ok && i < n; i++) {
        size_t len = 0;
        void *bytes = e->cfg.code_bytes(prog, codes[i], &len);
        facts.len = 0;
        ok = bytes && analyze_outside_facts(prog, codes[i], codes, n, fact_put, &facts) && !facts.oom;
        if (ok) cache_code_key(ck[i], bytes, len, facts.data, facts.len);
        free(bytes);
    }
    if (ok) cache_module_key(key, e->cache_key, pipeline(e), (const uint8_t (*)[CACHE_KEY_LEN])ck,
                             (const char *const *)fnames, n);
    free(facts.data);
    free(ck);
    return ok;
}

/* A cache hit: the object, with each code object's statistics.  NULL on a miss. */
static LLVMMemoryBufferRef cached_object(zx_jit_engine *e, const uint8_t key[CACHE_KEY_LEN], char **fnames,
                                         size_t n, zx_jit_code_stats *stats)
{
    jit_cache_entry ce;
    if (!cache_load(e->cache, key, n, &ce)) return NULL;
    LLVMMemoryBufferRef obj = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(ce.names[i], fnames[i]) != 0) goto out;   /* the key covers names: damage */
    obj = LLVMCreateMemoryBufferWithMemoryRangeCopy(ce.obj, ce.objsize, "zexus-jit cache");
    for (size_t i = 0; obj && i < n; i++) {
        stats[i].entries = ce.entries[i];
        stats[i].helper_ops = ce.helper_ops[i];
        stats[i].inlined = ce.inlined[i];
        stats[i].cached = 1;
    }
out:
    if (!obj) cache_reject(e->cache, key);
    cache_entry_free(&ce);
    return obj;
}

/* Store the object file (obj, size) of a module that was just compiled and linked. */
static void cache_object(zx_jit_engine *e, const uint8_t key[CACHE_KEY_LEN], char **fnames, size_t n,
                         const zx_jit_code_stats *stats, void *obj, size_t size)
{
    jit_cache_entry ce;
    memset(&ce, 0, sizeof ce);
    ce.n = n;
    ce.names = fnames;
    ce.entries = calloc(n ? n : 1, sizeof *ce.entries);
    ce.helper_ops = calloc(n ? n : 1, sizeof *ce.helper_ops);
    ce.inlined = calloc(n ? n : 1, sizeof *ce.inlined);
    if (ce.entries && ce.helper_ops && ce.inlined) {
        for (size_t i = 0; i < n; i++) {
            ce.entries[i] = stats[i].entries;
            ce.helper_ops[i] = stats[i].helper_ops;
            ce.inlined[i] = stats[i].inlined;
        }
        ce.obj = obj;
        ce.objsize = size;
        cache_store(e->cache, key, &ce);
    }
    free(ce.entries);
    free(ce.helper_ops);
    free(ce.inlined);
}

static zx_status compile(zx_jit_engine *e, zx_program *prog, zx_code **codes, size_t n, zx_jit_code_stats *stats,
                         char *err, size_t errsz)
{
    zx_status st = ZX_E_UNSUPPORTED;
    char what[WHAT_SIZE];
    char **fnames = calloc(n ? n : 1, sizeof *fnames);
    zx_jit_code_stats *local_stats = stats ? NULL : calloc(n ? n : 1, sizeof *local_stats);
    if (!stats) stats = local_stats;
    if (!fnames || !stats) {
        free(fnames);
        free(local_stats);
        snprintf(err, errsz, "out of memory");
        return ZX_E_MEMORY;
    }
    pthread_mutex_lock(&e->lock);
    perf_syms psyms = { 0 };
    int have_syms = 0;
    void *copy = NULL;            /* the new object, to be cached once it links */
    size_t copysz = 0;
    program_code *pc = prog->jit;
    if (!pc) {
        pc = calloc(1, sizeof *pc);
        if (!pc) {
            snprintf(err, errsz, "out of memory");
            goto out;
        }
        pc->serial = ++e->next_program;
        prog->jit = pc;
    }
    uint64_t id = ++e->next_module;
    for (size_t i = 0; i < n; i++) {
        fnames[i] = native_name(prog, codes[i], pc->serial);
        if (!fnames[i]) {
            snprintf(err, errsz, "out of memory");
            goto out;
        }
    }
    double t0 = now_ms(), times[2] = { 0, 0 };
    uint8_t key[CACHE_KEY_LEN];
    int keyed = e->cache && module_key(e, prog, codes, fnames, n, key);
    /* --dump-ir asks to see the IR: it always compiles (and refreshes the entry) */
    LLVMMemoryBufferRef obj = keyed && !e->cfg.dump_ir ? cached_object(e, key, fnames, n, stats) : NULL;
    int cached = obj != NULL;
    if (!cached) {
        obj = build_object(e, prog, codes, fnames, n, id, stats, times, what, err, errsz);
        if (!obj) goto out;
    }
    if (e->cfg.perf) {
        /* read before the JIT takes the object */
        have_syms = perf_syms_read(obj, fnames, n, &psyms);
    }
    if (cancelled(e)) {
        LLVMDisposeMemoryBuffer(obj);
        snprintf(err, errsz, "compilation cancelled");
        goto out;
    }
    void **addrs = calloc(n ? n : 1, sizeof *addrs);
    if (!addrs) {
        LLVMDisposeMemoryBuffer(obj);
        snprintf(err, errsz, "out of memory");
        goto out;
    }
    if (keyed && !cached && (copy = malloc(copysz = LLVMGetBufferSize(obj))))
        memcpy(copy, LLVMGetBufferStart(obj), copysz);
    if (!add_object(e, pc, obj, fnames, n, addrs, err, errsz)) {
        if (!cached) {
            free(addrs);
            goto out;
        }
        /* a cached object LLVM rejects: count it as damage and compile the module after all */
        cache_reject(e->cache, key);
        for (size_t i = 0; i < n; i++) stats[i].cached = 0;
        cached = 0;
        obj = build_object(e, prog, codes, fnames, n, id, stats, times, what, err, errsz);
        if (obj && e->cfg.perf) {
            perf_syms_free(&psyms);
            have_syms = perf_syms_read(obj, fnames, n, &psyms);
        }
        if (!obj || !add_object(e, pc, obj, fnames, n, addrs, err, errsz)) {
            free(addrs);
            goto out;
        }
    }
    if (have_syms) perf_map_object(fnames, addrs, n, &psyms);
    if (copy) cache_object(e, key, fnames, n, stats, copy, copysz);
    double t_done = now_ms();
    if (e->cfg.log && cached)
        fprintf(stderr, "jit: module %llu (%zu code objects): from the cache, load+link %.3f ms\n",
                (unsigned long long)id, n, t_done - t0);
    else if (e->cfg.log)
        fprintf(stderr, "jit: module %llu (%zu code objects): lower+verify %.3f ms, optimise %.3f ms, codegen+link %.3f ms\n",
                (unsigned long long)id, n, times[0] - t0, times[1] - times[0], t_done - times[1]);
    double per = n ? (t_done - t0) / (double)n : 0;
    for (size_t i = 0; i < n; i++) {
        stats[i].compile_ms = per;
        atomic_store_explicit(&codes[i]->native, addrs[i], memory_order_release);
    }
    free(addrs);
    st = ZX_OK;
out:
    if (st != ZX_OK && cancelled(e)) st = ZX_E_INTERRUPTED;
    compiling_what = NULL;
    pthread_mutex_unlock(&e->lock);
    perf_syms_free(&psyms);
    free(copy);
    for (size_t i = 0; i < n; i++) free(fnames[i]);
    free(fnames);
    free(local_stats);
    return st;
}

static void program_release(zx_jit_engine *e, zx_program *prog)
{
    program_code *pc = prog->jit;
    if (!pc) return;
    pthread_mutex_lock(&e->lock);
    for (size_t i = 0; i < pc->nrts; i++) {
        LLVMErrorRef le = LLVMOrcResourceTrackerRemove(pc->rts[i]);
        if (le) LLVMConsumeError(le);
        LLVMOrcReleaseResourceTracker(pc->rts[i]);
    }
    pthread_mutex_unlock(&e->lock);
    free(pc->rts);
    free(pc);
    prog->jit = NULL;
}

JIT_EXPORT const zx_jit_module_api zx_jit_module = {
    .abi = JIT_ABI,
    .frame_size = sizeof(zx_frame),
    .task_size = sizeof(zx_task),
    .code_size = sizeof(zx_code),
    .helper_abi = JIT_HELPER_ABI_TEXT,
    .llvm_version = LLVM_VERSION_STRING,
    .engine_create = engine_create,
    .engine_destroy = engine_destroy,
    .compile = compile,
    .program_release = program_release,
};
