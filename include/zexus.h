/* zexus.h — the embedding API of zexus-jit: the only public header. */
#ifndef ZEXUS_H
#define ZEXUS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Everything in this header is exported; every other symbol of the library is hidden. */
#define ZX_API __attribute__((visibility("default")))

/*
 * Conventions (one rule, stated once):
 *  - Every function that can fail returns a zx_status.  Out-parameters come last and are
 *    written only on success; on failure they are left untouched and nothing is owned by the
 *    caller.
 *  - A handle returned through an out-parameter is owned by the caller, who frees it with the
 *    matching _destroy function.  Strings returned as `const char *` are borrowed: valid until
 *    the next call on the same handle.
 *  - Threading: a zx_vm and everything created from it is used by one host thread at a time
 *    (the VM runs its own worker threads internally).  Distinct VMs may be used from distinct
 *    threads with no locking.  zx_vm_interrupt is the one call that is safe from any thread at
 *    any time.
 *  - Process-wide state the library cannot avoid: LLVM's native-target initialisation (done
 *    once, on the first JIT compilation), oneTBB's thread cap (raised to the largest worker
 *    count of any live VM and lowered when they go), and with `perf` profiling on, the files
 *    /tmp/perf-PID.map and jit-PID.dump shared by every VM of the process.
 */

#define ZEXUS_VERSION_MAJOR 0
#define ZEXUS_VERSION_MINOR 1
#define ZEXUS_VERSION_PATCH 0
#define ZEXUS_VERSION_STRING "0.1.0"
/* The binary bytecode (.zxbc) format version this header describes. */
#define ZEXUS_BYTECODE_VERSION 1

typedef enum zx_status {
    ZX_OK = 0,
    ZX_E_ARGUMENT = 1,       /* a bad argument to an API call (NULL handle, bad option) */
    ZX_E_SYNTAX = 2,         /* the program does not compile (syntax or compile-time error) */
    ZX_E_IO = 3,             /* a file could not be read or written */
    ZX_E_BYTECODE = 4,       /* damaged, truncated or invalid bytecode (.zxbc or .zxa) */
    ZX_E_RUNTIME = 5,        /* the program raised a runtime error */
    ZX_E_INTERRUPTED = 6,    /* zx_vm_interrupt (or SIGINT in the CLI) stopped the run */
    ZX_E_MEMORY = 7,         /* the memory limit was exceeded, or the host is out of memory */
    ZX_E_VERSION = 8,        /* header and library versions, or bytecode versions, differ */
    ZX_E_NOT_FOUND = 9,      /* no such action or global */
    ZX_E_OUTPUT = 10,        /* the output callback reported failure (e.g. a closed pipe) */
    ZX_E_UNSUPPORTED = 11,   /* the operation is not available in this build or mode */
} zx_status;

/* A short constant description of a status ("runtime error", ...).  Never NULL. */
ZX_API const char *zx_status_str(zx_status s);

/* The library's version string, and a check that the header the caller was compiled with
 * matches the library: returns ZX_E_VERSION when the major versions differ. */
ZX_API const char *zx_version(void);
ZX_API zx_status zx_check_version(int major, int minor);
#define ZX_CHECK_VERSION() zx_check_version(ZEXUS_VERSION_MAJOR, ZEXUS_VERSION_MINOR)

typedef struct zx_vm zx_vm;
typedef struct zx_program zx_program;

typedef enum zx_mode { ZX_MODE_AUTO = 0, ZX_MODE_SEQ = 1, ZX_MODE_PAR = 2 } zx_mode;
typedef enum zx_jit { ZX_JIT_AUTO = 0, ZX_JIT_OFF = 1, ZX_JIT_ALWAYS = 2, ZX_JIT_STRICT = 3 } zx_jit;

/* Output callback: receives program output, in program order, never concurrently (calls
 * are serialised), possibly from a worker thread.  Return 0 on success; non-zero stops the
 * program with ZX_E_OUTPUT (a closed pipe, say). */
typedef int (*zx_output_fn)(void *userdata, const char *data, size_t len);

typedef struct zx_options {
    uint32_t struct_size;    /* sizeof(zx_options), set by zx_options_init */
    int workers;             /* 0: the cores the process may use */
    zx_mode mode;
    zx_jit jit;
    int opt_level;           /* 0..3, default 2 */
    int chunk_size;          /* default 50 instructions */
    int pin;                 /* 1: pin workers to cores (default), 0: don't */
    const char *topology;    /* NULL: the machine; else an hwloc synthetic spec or "xml:PATH" */
    int max_depth;           /* Zexus call-depth limit, default 10000 */
    size_t max_memory;       /* bytes of Zexus heap, 0 = unlimited */
    int use_cache;           /* 1: use the compiled-code cache (default) */
    int perf;                /* 1: write perf map and jitdump for JIT code */
    uint64_t sched_seed;     /* non-zero: seeded random scheduling (tests) */
    zx_output_fn output;     /* NULL: write to stdout */
    void *output_userdata;
    int dump_ir;             /* 1: print each compiled module's LLVM IR before and after
                                optimisation to stderr (labelled with file, code object, line) */
} zx_options;

/* Fill *opts with the defaults. */
ZX_API void zx_options_init(zx_options *opts);

/* Create a VM.  opts may be NULL for the defaults; it is copied (the topology string too).
 * On success *out owns the VM. */
ZX_API zx_status zx_vm_create(const zx_options *opts, zx_vm **out);
/* Destroy a VM and every program still loaded in it.  NULL is allowed. */
ZX_API void zx_vm_destroy(zx_vm *vm);

/* The message of the last failed call on this VM, formatted as the CLI prints it:
 * "FILE:LINE:COL: error: ..." for compile errors, "FILE:LINE:COL: runtime error: ..." plus
 * one "  at NAME (FILE:LINE:COL)" line per active call for runtime errors.  "" if none. */
ZX_API const char *zx_vm_last_error(const zx_vm *vm);

/* Set the program arguments seen by `args` in later runs (copied). */
ZX_API zx_status zx_vm_set_args(zx_vm *vm, int argc, const char *const *argv);

/* Stop the current or next run as soon as possible with ZX_E_INTERRUPTED ("interrupted").
 * Safe from any thread and from a signal handler. */
ZX_API void zx_vm_interrupt(zx_vm *vm);

/* Load a program.  `name` is the file name used in messages.  The program belongs to the VM
 * that loaded it; the caller owns the handle and destroys it with zx_program_destroy (or
 * with the VM).  On failure nothing is created and zx_vm_last_error says why. */
ZX_API zx_status zx_program_load_source(zx_vm *vm, const char *name, const char *src, size_t len,
                                        zx_program **out);
ZX_API zx_status zx_program_load_assembly(zx_vm *vm, const char *name, const char *text, size_t len,
                                          zx_program **out);
ZX_API zx_status zx_program_load_bytecode(zx_vm *vm, const void *data, size_t len, zx_program **out);
/* Load by extension: .zxbc binary bytecode, .zxa text assembly, anything else source. */
ZX_API zx_status zx_program_load_file(zx_vm *vm, const char *path, zx_program **out);
/* Free a program and its compiled code.  NULL is allowed. */
ZX_API void zx_program_destroy(zx_program *prog);

/* Run the program's top level (again: globals are reset on each run).  Output goes to the
 * VM's output callback; on an error the output printed before it has been delivered. */
ZX_API zx_status zx_program_run(zx_program *prog);

/* Serialise to binary bytecode; *out is malloc'ed and owned by the caller (free()). */
ZX_API zx_status zx_program_to_bytecode(zx_program *prog, void **out, size_t *len);
/* Disassemble to .zxa text; *out is malloc'ed, NUL-terminated, owned by the caller (free()). */
ZX_API zx_status zx_program_disassemble(zx_program *prog, char **out);

/* The chunks of every code object of the program (the top level, actions, lambdas, fork
 * blocks) with their effect summaries, every direct dependency between them with its kind
 * (RAW, WAR, WAW, heap, call, barrier, return) and the variable that causes it, the
 * critical path and the parallelism (docs/analysis.md).  dot = 0: a text listing; dot = 1:
 * one Graphviz digraph with a cluster per code object.  chunk_size <= 0 means the VM's
 * chunk_size option.  *out is malloc'ed, NUL-terminated, owned by the caller (free()).  The
 * analysis is kept with the program and reused while the chunk size stays the same. */
ZX_API zx_status zx_program_chunks(zx_program *prog, int chunk_size, int dot, char **out);

/* Statistics of the VM's last run: threads used, the top-level chunk DAG (chunks, width,
 * critical path, parallelism), parallel_map and fork decisions with the reason for each one
 * that ran sequentially, per-worker busy time, speedup estimate and efficiency, worker
 * placement on the topology, and JIT figures.  json = 0: text; 1: one JSON object.  *out is
 * malloc'ed, NUL-terminated, owned by the caller (free()). */
ZX_API zx_status zx_vm_stats(zx_vm *vm, int json, char **out);

/* A description of the library, LLVM and the topology (`topology` as in zx_options; NULL
 * for the machine) with the default worker placement, for `zexus-jit info`.  *out is
 * malloc'ed, owned by the caller (free()). */
ZX_API zx_status zx_info(const char *topology, char **out);

#ifdef __cplusplus
}
#endif

#endif
