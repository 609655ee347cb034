/* engine.c — the LLJIT session of one VM: modules, pass pipelines, resource trackers, perf. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/ErrorHandling.h>
#include <llvm-c/ExecutionEngine.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/OrcEE.h>
#include <llvm-c/Support.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "jit.h"
#include "lower.h"

#define ZX_JIT_EXPORT __attribute__((visibility("default")))

struct zx_jit_engine {
    pthread_mutex_t lock;         /* serialises add-module + first lookup (TOOLCHAIN.md hazard) */
    LLVMOrcLLJITRef jit;
    LLVMOrcJITDylibRef jd;
    LLVMTargetMachineRef tm;      /* for the optimisation pipeline */
    zx_jit_config cfg;
    uint64_t next_module;
};

/* What the JIT keeps per program (zx_program.jit): its code lives under one tracker. */
typedef struct program_code {
    LLVMOrcResourceTrackerRef rt;
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
 * ZEXUS_JIT_PASSES overrides (for experiments).
 */
static const char *const pipelines[4] = {
    NULL,
    "function(sroa,early-cse,simplifycfg,instcombine,simplifycfg)",
    "function(sroa,early-cse<memssa>,simplifycfg,instcombine,correlated-propagation,"
    "simplifycfg,loop-mssa(licm),gvn,sccp,instcombine,jump-threading,dse,adce,simplifycfg)",
    "default<O3>",
};

static void dump_module(LLVMModuleRef m, zx_program *prog, zx_code **codes, char **fnames, size_t n,
                        const char *when)
{
    fprintf(stderr, "; ==== zexus-jit IR %s optimisation: %s ====\n", when, prog->source_name);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "; %s: %s %s (line %u) -> @%s\n", prog->source_name,
                codes[i]->kind == 0 ? "top level" : "code object", codes[i]->name, codes[i]->pos.line, fnames[i]);
    char *text = LLVMPrintModuleToString(m);
    fputs(text, stderr);
    LLVMDisposeMessage(text);
}

static zx_status compile(zx_jit_engine *e, zx_program *prog, zx_code **codes, size_t n, zx_jit_code_stats *stats,
                         char *err, size_t errsz)
{
    zx_status st = ZX_E_UNSUPPORTED;
    char what[256];
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
    uint64_t id = ++e->next_module;
    LLVMContextRef cx = LLVMContextCreate();
    char modname[64];
    snprintf(modname, sizeof modname, "zexus.%llu", (unsigned long long)id);
    LLVMModuleRef m = LLVMModuleCreateWithNameInContext(modname, cx);
    LLVMSetSourceFileName(m, prog->source_name, strlen(prog->source_name));
    LLVMSetDataLayout(m, LLVMOrcLLJITGetDataLayoutStr(e->jit));
    LLVMSetTarget(m, LLVMOrcLLJITGetTripleString(e->jit));
    double t0 = now_ms();

    for (size_t i = 0; i < n; i++) {
        char name[160];
        char clean[96];
        size_t k = 0;
        for (const char *p = codes[i]->name; *p && k + 1 < sizeof clean; p++)
            clean[k++] = (char)((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ? *p : '_');
        clean[k] = '\0';
        snprintf(name, sizeof name, "zx%llu.%zu.%s", (unsigned long long)id, i, clean);
        fnames[i] = strdup(name);
        snprintf(what, sizeof what, "%s:%s (line %u)", prog->source_name, codes[i]->name, codes[i]->pos.line);
        compiling_what = what;
        double c0 = now_ms();
        if (!fnames[i] || !zx_lower_code(m, prog, codes[i], fnames[i], &stats[i], err, errsz)) {
            char tmp[512];
            snprintf(tmp, sizeof tmp, "%s", err);
            snprintf(err, errsz, "cannot compile %s: %s", what, tmp);
            LLVMDisposeModule(m);
            LLVMContextDispose(cx);
            goto out;
        }
        stats[i].compile_ms = now_ms() - c0;
    }
    snprintf(what, sizeof what, "%s (%zu code objects)", prog->source_name, n);
    compiling_what = what;
    char *vmsg = NULL;
    if (LLVMVerifyModule(m, LLVMReturnStatusAction, &vmsg)) {
        snprintf(err, errsz, "cannot compile %s: invalid IR: %.300s", what, vmsg ? vmsg : "?");
        if (e->cfg.dump_ir) dump_module(m, prog, codes, fnames, n, "(invalid) before");
        LLVMDisposeMessage(vmsg);
        LLVMDisposeModule(m);
        LLVMContextDispose(cx);
        goto out;
    }
    LLVMDisposeMessage(vmsg);
    if (e->cfg.dump_ir) dump_module(m, prog, codes, fnames, n, "before");
    double t_lowered = now_ms();
    if (e->cfg.opt_level > 0) {
        const char *passes = getenv("ZEXUS_JIT_PASSES");
        if (!passes || !passes[0]) passes = pipelines[e->cfg.opt_level];
        LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
        LLVMErrorRef le = LLVMRunPasses(m, passes, e->tm, po);
        LLVMDisposePassBuilderOptions(po);
        if (le) {
            take_error(le, "optimisation failed", err, errsz);
            LLVMDisposeModule(m);
            LLVMContextDispose(cx);
            goto out;
        }
    }
    if (e->cfg.dump_ir) dump_module(m, prog, codes, fnames, n, "after");
    double t_optimised = now_ms();

    program_code *pc = prog->jit;
    if (!pc) {
        pc = calloc(1, sizeof *pc);
        if (!pc) {
            LLVMDisposeModule(m);
            LLVMContextDispose(cx);
            snprintf(err, errsz, "out of memory");
            goto out;
        }
        pc->rt = LLVMOrcJITDylibCreateResourceTracker(e->jd);
        prog->jit = pc;
    }
    /* Code generation with our own target machine (kept for the engine's life: creating one
     * per module costs milliseconds), then the object goes to the JIT under the program's
     * tracker. */
    LLVMMemoryBufferRef obj = NULL;
    char *emsg = NULL;
    LLVMBool bad = LLVMTargetMachineEmitToMemoryBuffer(e->tm, m, LLVMObjectFile, &emsg, &obj);
    LLVMDisposeModule(m);
    LLVMContextDispose(cx);
    if (bad) {
        snprintf(err, errsz, "code generation failed for %s: %s", what, emsg ? emsg : "?");
        LLVMDisposeMessage(emsg);
        goto out;
    }
    LLVMErrorRef le = LLVMOrcLLJITAddObjectFileWithRT(e->jit, pc->rt, obj);
    if (le) {
        take_error(le, "cannot add the compiled object", err, errsz);
        goto out;
    }
    void **addrs = calloc(n ? n : 1, sizeof *addrs);
    for (size_t i = 0; addrs && i < n; i++) {
        LLVMOrcExecutorAddress a = 0;
        le = LLVMOrcLLJITLookup(e->jit, &a, fnames[i]);
        if (le) {
            take_error(le, "cannot look up compiled code", err, errsz);
            free(addrs);
            goto out;
        }
        addrs[i] = (void *)(uintptr_t)a;
    }
    if (!addrs) goto out;
    double t_done = now_ms();
    if (e->cfg.log)
        fprintf(stderr, "jit: module %llu (%zu code objects): lower+verify %.3f ms, optimise %.3f ms, codegen+link %.3f ms\n",
                (unsigned long long)id, n, t_lowered - t0, t_optimised - t_lowered, t_done - t_optimised);
    double per = n ? (t_done - t0) / (double)n : 0;
    for (size_t i = 0; i < n; i++) {
        stats[i].compile_ms = per;
        atomic_store_explicit(&codes[i]->native, addrs[i], memory_order_release);
    }
    free(addrs);
    st = ZX_OK;
out:
    compiling_what = NULL;
    pthread_mutex_unlock(&e->lock);
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
    LLVMErrorRef le = LLVMOrcResourceTrackerRemove(pc->rt);
    if (le) LLVMConsumeError(le);
    LLVMOrcReleaseResourceTracker(pc->rt);
    pthread_mutex_unlock(&e->lock);
    free(pc);
    prog->jit = NULL;
}

ZX_JIT_EXPORT const zx_jit_module_api zx_jit_module = {
    .abi = ZX_JIT_ABI,
    .frame_size = sizeof(zx_frame),
    .task_size = sizeof(zx_task),
    .code_size = sizeof(zx_code),
    .llvm_version = LLVM_VERSION_STRING,
    .engine_create = engine_create,
    .engine_destroy = engine_destroy,
    .compile = compile,
    .program_release = program_release,
};
