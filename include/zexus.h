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
 *    threads with no locking, and their runs proceed at the same time (nothing in the library
 *    serialises them).  zx_vm_interrupt and zx_program_snapshot are the calls that are safe
 *    from any thread at any time (a program must not be destroyed meanwhile); host functions,
 *    which may run on worker threads, use values as zx_host_fn says.
 *  - Reentrancy: while a run or call of a VM is in progress (inside a host function or the
 *    output callback), the only calls allowed on that VM are zx_vm_interrupt,
 *    zx_program_snapshot (of `shared` globals, also from any other thread) and the zx_val_*
 *    functions; zx_program_run, zx_program_call, the global accessors, loading and
 *    registering return ZX_E_ARGUMENT, and destroying is undefined.
 *  - Memory: the Zexus heap of a VM (every object and its storage: what
 *    zx_options.max_memory bounds) comes from the VM's allocator zx_options.alloc (see
 *    zx_alloc_fn), or from the C library's malloc, realloc and free when that is NULL.  The
 *    rest (the VM's own bookkeeping, programs, bytecode, JIT code, LLVM, oneTBB) comes from
 *    the C library, except the blocks that hwloc binds to NUMA nodes on a machine with
 *    several: a run's global variables and the storage of large lists and maps made on
 *    workers (docs/parallel.md, "Shared state").
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
#define ZEXUS_BYTECODE_VERSION 3

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
 * matches the library: ZX_E_VERSION when the major versions differ, or when the caller's
 * minor version is newer than the library's (it may use functions the library lacks). */
ZX_API const char *zx_version(void);
ZX_API zx_status zx_check_version(int major, int minor);
#define ZX_CHECK_VERSION() zx_check_version(ZEXUS_VERSION_MAJOR, ZEXUS_VERSION_MINOR)

typedef struct zx_vm zx_vm;
typedef struct zx_program zx_program;

typedef enum zx_mode { ZX_MODE_AUTO = 0, ZX_MODE_SEQ = 1, ZX_MODE_PAR = 2 } zx_mode;
typedef enum zx_jit { ZX_JIT_AUTO = 0, ZX_JIT_OFF = 1, ZX_JIT_ALWAYS = 2, ZX_JIT_STRICT = 3 } zx_jit;

/* Output callback: receives program output, in program order, never concurrently (calls
 * are serialised), possibly from a worker thread (the one that finishes the work before it
 * in program order, or the one running the earliest top-level chunk not yet finished, which
 * streams), always before the zx_program_run or zx_program_call that produced it returns.  `data` is borrowed for the duration of the call and not NUL-terminated.  The
 * callback must not call into the VM (see "Reentrancy").  Return 0 on success; non-zero
 * stops the program with ZX_E_OUTPUT (a closed pipe, say). */
typedef int (*zx_output_fn)(void *userdata, const char *data, size_t len);

/* Allocator of a VM's Zexus heap (zx_options.alloc), with the contract of Lua's lua_Alloc:
 *  - new_size == 0: free ptr, a block of old_size bytes (ptr may be NULL: do nothing), and
 *    return NULL;
 *  - ptr == NULL (old_size is then 0): allocate new_size bytes; NULL on failure;
 *  - otherwise: resize ptr from old_size to new_size bytes, keeping the contents up to the
 *    smaller size, and return the block (it may move); NULL on failure, leaving ptr intact.
 * old_size is always the size the block was allocated or last resized with.  Blocks must be
 * aligned for any type, as malloc's are.  `ud` is zx_options.alloc_ud.
 * Thread safety: an object is made on the thread that runs the code making it and freed by
 * whichever thread drops the last reference to it (a worker; the host thread in zx_val_free,
 * zx_program_destroy or zx_vm_destroy), so the function is called from any thread of the
 * VM, concurrently, and a block may be freed or resized on another thread than the one that
 * allocated it: it must be thread-safe.  It must not call into the VM.  A failed allocation
 * is a memory error: a run stops with ZX_E_MEMORY ("memory limit exceeded"), a zx_val
 * constructor returns ZX_E_MEMORY.
 * What goes through it: the Zexus heap, i.e. every object and its storage (strings, lists
 * and their item arrays, maps and their entry and index tables, cells, closures, host
 * function values), those of zx_val_* constructors and programs' constants included.
 * What does not: the VM's own bookkeeping, programs, bytecode, JIT code, LLVM, oneTBB and
 * hwloc, and the blocks hwloc binds to NUMA nodes on a machine with several (a run's global
 * variables; the storage of lists and maps, from 256 KiB, made on pinned workers;
 * docs/parallel.md, "Shared state"). */
typedef void *(*zx_alloc_fn)(void *ud, void *ptr, size_t old_size, size_t new_size);

/* The most worker threads a VM may have (zx_options.workers, the CLI's --workers): each is
 * an OS thread with its own stack and scheduler slot, so a count far past any machine's
 * cores only costs memory and threads; zx_vm_create refuses more with ZX_E_ARGUMENT. */
#define ZX_MAX_WORKERS 1024

/* The largest Zexus call-depth limit (zx_options.max_depth, the CLI's --max-depth): every
 * thread that runs Zexus code gets a C stack that this many nested calls fit in, the same in
 * every mode and tier; zx_vm_create refuses more with ZX_E_ARGUMENT. */
#define ZX_MAX_DEPTH 100000

typedef struct zx_options {
    uint32_t struct_size;    /* sizeof(zx_options), set by zx_options_init */
    int workers;             /* 0: the cores the process may use; else 1..ZX_MAX_WORKERS */
    zx_mode mode;
    zx_jit jit;
    int opt_level;           /* 0..3, default 2 */
    int chunk_size;          /* default 50 instructions */
    int pin;                 /* 1: pin workers to cores (default), 0: don't */
    const char *topology;    /* NULL: the machine; else an hwloc synthetic spec or "xml:PATH" */
    int max_depth;           /* Zexus call-depth limit, 1..ZX_MAX_DEPTH, default 10000 */
    size_t max_memory;       /* bytes of Zexus heap, 0 = unlimited */
    int use_cache;           /* 1: use the JIT's compiled-code cache, $XDG_CACHE_HOME/zexus-jit
                                (default); 0: neither read nor write it */
    int perf;                /* 1: write perf map and jitdump for JIT code */
    uint64_t sched_seed;     /* non-zero: seeded random scheduling (tests) */
    zx_output_fn output;     /* NULL: write to stdout (a closed pipe is ZX_E_OUTPUT, another
                                write error ZX_E_IO; see docs/embedding.md) */
    void *output_userdata;
    int dump_ir;             /* 1: print each compiled module's LLVM IR before and after
                                optimisation to stderr (labelled with file, code object, line) */
    zx_alloc_fn alloc;       /* the Zexus heap's allocator (see zx_alloc_fn); NULL: malloc,
                                realloc and free.  With alloc_ud, it must stay valid until
                                zx_vm_destroy returns. */
    void *alloc_ud;          /* passed to alloc as ud; not owned */
} zx_options;

/* Fill *opts with the defaults. */
ZX_API void zx_options_init(zx_options *opts);

/* Create a VM.  opts may be NULL for the defaults; it is copied (the topology string too).
 * On success *out owns the VM.  ZX_E_VERSION when opts->struct_size is not this header's
 * sizeof(zx_options) (zx_options_init sets it); ZX_E_ARGUMENT for an option out of range
 * (workers outside 0..ZX_MAX_WORKERS, max_depth outside 1..ZX_MAX_DEPTH, opt_level outside 0..3, ...) or a topology that hwloc cannot read (a named topology is read here, not on first use). */
ZX_API zx_status zx_vm_create(const zx_options *opts, zx_vm **out);
/* Destroy a VM, every program still loaded in it and their compiled code.  Every zx_val
 * made from the VM must have been freed before (they live in its heap).  NULL is allowed. */
ZX_API void zx_vm_destroy(zx_vm *vm);

/* The message of the last failed call on this VM, formatted as the CLI prints it:
 * "FILE:LINE:COL: error: ..." for compile errors, "FILE:LINE:COL: runtime error: ..." plus
 * one "  at NAME (FILE:LINE:COL)" line per active call for runtime errors.  "" if none. */
ZX_API const char *zx_vm_last_error(const zx_vm *vm);

/* The place of the last error: its file (borrowed: valid until the next call on the VM),
 * line and column (1-based; 0 when the message names a file only, as for damaged
 * bytecode).  ZX_E_NOT_FOUND when the last call succeeded or its error has no place. */
ZX_API zx_status zx_vm_last_error_place(zx_vm *vm, const char **file, uint32_t *line, uint32_t *col);

/* Frame `index` of the last runtime error's call stack, 0 being the innermost action (the
 * top level is not a frame): the action's name and the place executing in it, borrowed
 * until the next call on the VM.  A deep recursion keeps only its 10 innermost and 10
 * outermost frames, as the message does.  ZX_E_NOT_FOUND past the last frame. */
ZX_API zx_status zx_vm_last_error_frame(zx_vm *vm, int index, const char **action, const char **file,
                                        uint32_t *line, uint32_t *col);

/* Set the program arguments seen by `args` in later runs (copied). */
ZX_API zx_status zx_vm_set_args(zx_vm *vm, int argc, const char *const *argv);

/* Stop the current or next run or call as soon as possible with ZX_E_INTERRUPTED
 * ("interrupted"): both tiers poll at every loop back-edge and call, so an endless loop
 * stops too (a host function that never returns does not).  The request is consumed when
 * that run or call returns.  Safe from any thread and from a signal handler. */
ZX_API void zx_vm_interrupt(zx_vm *vm);

/* Load a program.  `name` is the file name used in messages.  The program belongs to the VM
 * that loaded it; the caller owns the handle and destroys it with zx_program_destroy (or
 * with the VM).  On failure nothing is created and zx_vm_last_error says why: ZX_E_SYNTAX
 * (source that does not compile), ZX_E_MEMORY (the program's constants do not fit the heap's
 * limit or its allocator fails, for source, .zxa and .zxbc alike: "...: error: memory limit
 * exceeded"), ZX_E_BYTECODE (damaged or invalid .zxa/.zxbc),
 * ZX_E_VERSION (a .zxbc of another format version), ZX_E_NOT_FOUND (bytecode that uses a
 * host function this VM has not registered), ZX_E_IO (zx_program_load_file).  Host
 * functions are resolved when the program loads: register them first. */
ZX_API zx_status zx_program_load_source(zx_vm *vm, const char *name, const char *src, size_t len,
                                        zx_program **out);
ZX_API zx_status zx_program_load_assembly(zx_vm *vm, const char *name, const char *text, size_t len,
                                          zx_program **out);
ZX_API zx_status zx_program_load_bytecode(zx_vm *vm, const void *data, size_t len, zx_program **out);
/* Load by extension: .zxbc binary bytecode, .zxa text assembly, anything else source. */
ZX_API zx_status zx_program_load_file(zx_vm *vm, const char *path, zx_program **out);
/* Free a program, its compiled code and its last run's globals.  Values (zx_val) that hold
 * its actions must not be called afterwards (freeing them is fine).  NULL is allowed. */
ZX_API void zx_program_destroy(zx_program *prog);

/* Run the program's top level (again: globals are reset on each run).  Output goes to the
 * VM's output callback; on an error the output printed before it has been delivered.  The
 * run's globals (and `args`) are kept after it returns, whatever its status, until the next
 * run or zx_program_destroy: zx_program_call and the global accessors work on them.
 * ZX_E_RUNTIME, ZX_E_MEMORY, ZX_E_INTERRUPTED or ZX_E_OUTPUT with the message in
 * zx_vm_last_error; ZX_E_IO when the default output (no callback) hit a write error other
 * than a closed pipe. */
ZX_API zx_status zx_program_run(zx_program *prog);

/* ---------- values ---------- */

/* A handle to one Zexus value of a VM: null, a Boolean, an Integer, a Float, a String, a
 * List, a Map or an Action.  Every handle returned through an out-parameter is owned by the
 * caller and freed with zx_val_free; it keeps its value alive (lists and maps are shared by
 * reference, as in Zexus: a list read from a global and then pushed to is the global's list).
 * A handle may only be used with the VM it came from and must be freed before that VM is
 * destroyed.  Handles are not locked: one thread at a time per handle, and a list or map must
 * not be modified while another thread reads it.  The constructors may be called from any
 * thread (from pure host functions on workers too); they fail with ZX_E_MEMORY at the VM's
 * memory limit and ZX_E_ARGUMENT on a NULL vm or out. */
typedef struct zx_val zx_val;

typedef enum zx_type {
    ZX_TYPE_NULL = 0,
    ZX_TYPE_BOOL = 1,
    ZX_TYPE_INT = 2,
    ZX_TYPE_FLOAT = 3,
    ZX_TYPE_STRING = 4,
    ZX_TYPE_LIST = 5,
    ZX_TYPE_MAP = 6,
    ZX_TYPE_ACTION = 7,      /* an action, a lambda, a builtin or a host function */
} zx_type;

ZX_API zx_status zx_val_null(zx_vm *vm, zx_val **out);
ZX_API zx_status zx_val_bool(zx_vm *vm, int b, zx_val **out);
ZX_API zx_status zx_val_int(zx_vm *vm, int64_t i, zx_val **out);
ZX_API zx_status zx_val_float(zx_vm *vm, double d, zx_val **out);
/* A String of len bytes (copied); ZX_E_ARGUMENT unless they are valid UTF-8. */
ZX_API zx_status zx_val_string(zx_vm *vm, const char *bytes, size_t len, zx_val **out);
/* A new empty List or Map. */
ZX_API zx_status zx_val_list_new(zx_vm *vm, zx_val **out);
ZX_API zx_status zx_val_map_new(zx_vm *vm, zx_val **out);
/* A second handle to the same value (for keeping an argument of a host function). */
ZX_API zx_status zx_val_copy(const zx_val *v, zx_val **out);
/* Free a handle (the value lives on while Zexus or other handles hold it).  NULL is allowed,
 * and so is an argument handle of a host function (that does nothing). */
ZX_API void zx_val_free(zx_val *v);

/* The value's type (ZX_TYPE_NULL for a NULL handle), and its Zexus name ("Integer", ...). */
ZX_API zx_type zx_val_type(const zx_val *v);
ZX_API const char *zx_val_type_name(const zx_val *v);

/* Accessors: ZX_E_ARGUMENT when v is NULL or of another type (zx_val_as_float also accepts
 * an Integer and converts it).  The string is borrowed: NUL-terminated, valid while v is. */
ZX_API zx_status zx_val_as_bool(const zx_val *v, int *out);
ZX_API zx_status zx_val_as_int(const zx_val *v, int64_t *out);
ZX_API zx_status zx_val_as_float(const zx_val *v, double *out);
ZX_API zx_status zx_val_as_string(const zx_val *v, const char **bytes, size_t *len);

/* Lists.  get: a new handle to element i, ZX_E_ARGUMENT when i is out of range.  push and
 * set store the item's value (the caller keeps its handle).  ZX_E_ARGUMENT when list is not
 * a List; ZX_E_MEMORY at the memory limit. */
ZX_API zx_status zx_val_list_len(const zx_val *list, size_t *out);
ZX_API zx_status zx_val_list_get(const zx_val *list, size_t i, zx_val **out);
ZX_API zx_status zx_val_list_push(zx_val *list, const zx_val *item);
ZX_API zx_status zx_val_list_set(zx_val *list, size_t i, const zx_val *item);

/* Maps (insertion-ordered).  Keys are null, Booleans, numbers or Strings, else
 * ZX_E_ARGUMENT.  get: a new handle to the value, ZX_E_NOT_FOUND when the key is absent.
 * keys: a new List of the keys in insertion order. */
ZX_API zx_status zx_val_map_len(const zx_val *map, size_t *out);
ZX_API zx_status zx_val_map_get(const zx_val *map, const zx_val *key, zx_val **out);
ZX_API zx_status zx_val_map_set(zx_val *map, const zx_val *key, const zx_val *value);
ZX_API zx_status zx_val_map_keys(const zx_val *map, zx_val **out);

/* The value formatted exactly as `print` formats it; *out is malloc'ed, NUL-terminated, owned
 * by the caller (free()). */
ZX_API zx_status zx_val_to_string(const zx_val *v, char **out);

/* ---------- calling Zexus, globals ---------- */

/* Call the action (or lambda, builtin, host function) held by the global `name` of the
 * program's last run, with argc arguments (borrowed; values of this VM), on a fresh task in
 * that run's state: globals it assigns stay assigned, output goes to the output callback, the
 * VM's mode, JIT level and limits apply, and an action that was hot in the run is already
 * compiled.  On ZX_OK *result (if result is not NULL) is a new handle to the return value.
 * ZX_E_NOT_FOUND when the program has not run or no global of that name holds an action;
 * ZX_E_ARGUMENT for bad arguments; ZX_E_RUNTIME (a wrong argument count included),
 * ZX_E_MEMORY, ZX_E_INTERRUPTED, ZX_E_OUTPUT as for zx_program_run, with the message and
 * stack in zx_vm_last_error. */
ZX_API zx_status zx_program_call(zx_program *prog, const char *name, const zx_val *const *argv, int argc,
                                 zx_val **result);

/* Read or assign the global `name` of the program's last run (a top-level variable or action).
 * get: *out is a new handle; ZX_E_NOT_FOUND when the program has not run, has no global of
 * that name, or the run never assigned it.  set: the global takes value's value (the caller
 * keeps its handle), for later calls; ZX_E_NOT_FOUND when the program has not run or has no
 * global of that name (one the run never assigned may be set), ZX_E_ARGUMENT for a `const`
 * global or a value of another VM.  A later zx_program_run starts from fresh globals again. */
ZX_API zx_status zx_program_get_global(zx_program *prog, const char *name, zx_val **out);
ZX_API zx_status zx_program_set_global(zx_program *prog, const char *name, const zx_val *value);

/* Read n globals at once, as one consistent cut: out[i] is a new handle to the value of global
 * names[i], or NULL when the run has not assigned it (yet).  No update of a `shared` global
 * is ever seen half done, and the updates of one piece of parallel work (one block of
 * parallel_map elements), or of one zx_program_set_globals, are seen all or not at all.
 * The one call besides zx_vm_interrupt that is safe from any thread at any time: while a run
 * or call of the VM is in progress (on another thread, or from a host function) it reads
 * `shared` globals only, which is how a monitoring thread watches a running program's
 * counters; the lists and maps they hold may still be changing.  It never sets
 * zx_vm_last_error.  ZX_E_NOT_FOUND when the program has not run or a name is not one of its
 * globals; ZX_E_ARGUMENT for bad arguments, or a global that is not `shared` while the VM
 * runs; ZX_E_MEMORY.  On failure out is untouched. */
ZX_API zx_status zx_program_snapshot(zx_program *prog, const char *const *names, size_t n, zx_val **out);
/* Assign n globals at once (names[i] takes values[i]'s value; the caller keeps its handles),
 * as one step for zx_program_snapshot; a name given twice takes the later value.  Every
 * name is checked first: ZX_E_NOT_FOUND (the program has not run, or no such global) or
 * ZX_E_ARGUMENT (a `const` global, a value of another VM, a run in progress) assigns none. */
ZX_API zx_status zx_program_set_globals(zx_program *prog, const char *const *names, const zx_val *const *values,
                                        size_t n);

/* ---------- host functions ---------- */

/* A C function callable from Zexus.  argv holds argc borrowed handles, valid during the
 * call (keep one with zx_val_copy); the function checks argc and the types itself.  On ZX_OK
 * it sets *result to a value it made from `vm` (ownership passes to the VM; NULL means
 * null).  Any other status raises a Zexus runtime error at the call: the message is the
 * String the function may leave in *result (the VM frees it), else "host function 'NAME'
 * failed: <zx_status_str>"; ZX_E_MEMORY and ZX_E_INTERRUPTED raise those errors.
 *
 * What a host function may do: build and read values with the zx_val_* functions and `vm`;
 * nothing else on that VM but zx_vm_interrupt (see "Reentrancy").  It runs on the thread that
 * runs the calling Zexus code, which may be a worker thread. */
typedef zx_status (*zx_host_fn)(void *userdata, zx_vm *vm, const zx_val *const *argv, int argc,
                                zx_val **result);

enum {
    /* Pure: the function's result depends only on its arguments, and it has no effect that
     * Zexus code could observe or that must stay in order (no output, no state shared
     * between calls, no modifying its arguments).  The analysis then treats a call as
     * effect-free (it reads its arguments), so chunks calling it run in parallel and
     * parallel_map runs its calls on worker threads at the same time: a pure function must
     * be thread-safe.  Without this flag a call is an unknown effect: its chunk runs after
     * everything before it and before everything after it, a parallel_map calling it runs
     * sequentially, and calls are never concurrent with other Zexus code of the VM (they may
     * still run on a worker thread). */
    ZX_HOST_PURE = 1,
};

/* Register `fn` as the Zexus function `name` (an identifier that is not a builtin's name)
 * for programs loaded into this VM afterwards: in them a name that the program does not
 * declare itself refers to the host function (a program's own variable of that name hides
 * it).  userdata is passed to every call and owned by the caller; it must outlive the VM.
 * flags: 0 or ZX_HOST_PURE.  ZX_E_ARGUMENT for a bad name or flags or a name already
 * registered.  The name is copied. */
ZX_API zx_status zx_vm_register(zx_vm *vm, const char *name, zx_host_fn fn, void *userdata, unsigned flags);

/* Serialise to binary bytecode; *out is malloc'ed and owned by the caller (free()). */
ZX_API zx_status zx_program_to_bytecode(zx_program *prog, void **out, size_t *len);
/* Disassemble to .zxa text; *out is malloc'ed, NUL-terminated, owned by the caller (free()). */
ZX_API zx_status zx_program_disassemble(zx_program *prog, char **out);

/* The chunks of every code object of the program (the top level, actions, lambdas, fork
 * blocks) with their effect summaries, every direct dependency between them with its kind
 * (RAW, WAR, WAW, heap, call, barrier, return) and the variable that causes it, the
 * critical path and the parallelism (docs/analysis.md).  flags 0: a text listing;
 * ZX_CHUNKS_DOT (1): one Graphviz digraph with a cluster per code object instead;
 * ZX_CHUNKS_ALL_DEPS: the text listing also names every pair of chunks (and of fork blocks)
 * whose effects conflict, implied by others or not — quadratic in the chunks, for small
 * programs.  chunk_size <= 0 means the VM's chunk_size option.  *out is malloc'ed,
 * NUL-terminated, owned by the caller (free()).  The analysis is kept with the program and
 * reused while the chunk size stays the same. */
#define ZX_CHUNKS_DOT 1
#define ZX_CHUNKS_ALL_DEPS 2
ZX_API zx_status zx_program_chunks(zx_program *prog, int chunk_size, int flags, char **out);

/* Statistics of the VM's last run: threads used, the top-level chunk DAG (chunks, width,
 * critical path, parallelism), parallel_map and fork decisions with the reason for each one
 * that ran sequentially, per-worker busy time, speedup estimate and efficiency, worker
 * placement on the topology, the NUMA partitions of the globals, and JIT figures.  json = 0: text; 1: one JSON object.  *out is
 * malloc'ed, NUL-terminated, owned by the caller (free()). */
ZX_API zx_status zx_vm_stats(zx_vm *vm, int json, char **out);

/* A description of the library, LLVM and the topology (`topology` as in zx_options; NULL
 * for the machine) with the default worker placement, for `zexus-jit info`.  *out is
 * malloc'ed, owned by the caller (free()). */
ZX_API zx_status zx_info(const char *topology, char **out);

/* ---------- interactive sessions ---------- */

/* A session runs pieces of source one after another in one VM, as a read-eval-print loop
 * does (`zexus-jit repl`).  Each piece is compiled against the globals that the pieces
 * before it declared, keeping their slots, and runs with their current values: variables and
 * actions persist from piece to piece, and a piece may redeclare a `let` (not a `const`).
 * Nothing earlier is re-run.  An expression statement of a piece outside any action prints
 * its value as `print` formats it, unless the value is null.  A piece that does not compile changes
 * nothing; a piece that raises a runtime error (or is interrupted) keeps the assignments it
 * made before the error.  Every piece is a program of the VM (kept until the session is
 * destroyed, as the actions it defined may still be called); output, errors and the run's
 * statistics are those of zx_program_run, and the VM's options (mode, JIT, limits) apply to
 * each piece.  Analysis and parallelism are per piece: code defined by an earlier piece is
 * called as an unknown function (ordered), and a parallel_map over it runs sequentially.
 * A session is used by one thread at a time and destroyed before its VM. */
typedef struct zx_session zx_session;

/* Create a session in vm; `name` (copied; NULL: "<session>") is the file name of every piece
 * in messages. */
ZX_API zx_status zx_session_create(zx_vm *vm, const char *name, zx_session **out);
/* Compile and run one piece.  ZX_E_SYNTAX (or ZX_E_MEMORY) when it does not compile, else the
 * status of its run as zx_program_run's; zx_vm_last_error says why.  Output goes to the VM's
 * output callback. */
ZX_API zx_status zx_session_eval(zx_session *s, const char *src, size_t len);
/* The program whose run holds the session's globals (borrowed, owned by the session): for
 * zx_program_get_global, zx_program_call and the other accessors.  ZX_E_NOT_FOUND before the
 * first piece has run. */
ZX_API zx_status zx_session_program(zx_session *s, zx_program **out);
/* Destroy the session and every program it made.  NULL is allowed. */
ZX_API void zx_session_destroy(zx_session *s);

/* ---- distributed runs: parallel_map across MPI ranks (docs/distributed.md) ----
 * Every rank of an MPI job (mpirun) makes a VM with the same options and calls
 * zx_dist_start; rank 0 loads and publishes the program, runs it and calls zx_dist_end; every
 * other rank calls zx_dist_serve, which returns when rank 0 ends.  Host functions must be
 * registered alike on every rank (a map whose function, globals or input hold a host
 * function value runs on rank 0).  All four are called on the thread that owns the VM. */

/* Load the MPI module (libzexus-dist.so), initialise MPI unless the embedder did (asking for
 * MPI_THREAD_MULTIPLE) and start this rank's communication thread.  comm: a pointer to the
 * embedder's MPI_Comm to adopt (a private duplicate is taken), or NULL for MPI_COMM_WORLD.
 * *rank and *size (either may be NULL) get the rank and the size.  ZX_E_UNSUPPORTED when this
 * build has no MPI module or MPI cannot start (zx_vm_last_error says which).  A second call
 * returns the first one's rank and size. */
ZX_API zx_status zx_dist_start(zx_vm *vm, const void *comm, int *rank, int *size);
/* This rank and the size of the session; ZX_E_NOT_FOUND without a session. */
ZX_API zx_status zx_dist_rank(zx_vm *vm, int *rank, int *size);
/* Rank 0: send prog (its .zxbc bytes and the VM's args) to every other rank, which checks the
 * bytes' hash and that its build is this one's; from now on prog's parallel maps may run
 * across the ranks.  ZX_E_VERSION when a rank refuses (zx_vm_last_error names it and why). */
ZX_API zx_status zx_dist_publish(zx_program *prog);
/* Every other rank: receive the program and serve rank 0's parallel maps until rank 0 ends
 * the session; then MPI is finalised (if zx_dist_start initialised it). */
ZX_API zx_status zx_dist_serve(zx_vm *vm);
/* Rank 0: tell the other ranks to stop, finish this rank's communication and MPI.  Also done
 * by zx_vm_destroy.  No-op without a session. */
ZX_API zx_status zx_dist_end(zx_vm *vm);

#ifdef __cplusplus
}
#endif

#endif
