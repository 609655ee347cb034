/* bytecode.h — the bytecode container: code objects, constants, names, positions, programs. */
#ifndef ZX_BYTECODE_H
#define ZX_BYTECODE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytecode/index.h"
#include "bytecode/opcodes.h"
#include "runtime/value.h"

#define ZX_BYTECODE_FORMAT_VERSION 3   /* 2: module files (zx_program.files, zx_code.file); 3: exception handler tables */

/* Limits that the verifier, the assembler and the loader all enforce. */
#define ZX_MAX_LOCALS     65535   /* locals of one code object (FOR_ITER names a slot in 16 bits) */
#define ZX_MAX_CODE_DEPTH 256     /* nesting of code objects: main is depth 1 */

typedef enum zx_code_kind {
    ZX_CODE_MAIN = 0,    /* the top level: its variables are the program's globals */
    ZX_CODE_ACTION,      /* action / function NAME(...) */
    ZX_CODE_LAMBDA,      /* (x) => e */
    ZX_CODE_FORK,        /* one block of fork { } ... join: a parameterless lambda */
} zx_code_kind;

typedef struct zx_pos {
    uint32_t line, col;  /* 1-based; 0 = unknown */
} zx_pos;

/* Where a closure's captured variable i comes from when MAKE_CLOSURE runs in the parent. */
typedef struct zx_freevar {
    uint8_t from_parent_local;   /* 1: the parent's local slot `index` (a cell); 0: the parent's free var `index` */
    uint32_t index;
    char *name;
} zx_freevar;

/* One row of a code object's exception handler table: an error raised (and catchable) while
 * executing an instruction in [start, end) unwinds the operand stack to depth 0, pushes the
 * error's full text (a string) and its value (the thrown value, or the message string of a
 * runtime fault) and continues at `target`.  Rows are searched in table order, so an inner
 * `try` comes before the one around it; ranges of one row never contain its target. */
typedef struct zx_handler {
    uint32_t start, end, target;
} zx_handler;

typedef struct zx_code {
    zx_code_kind kind;
    char *name;                  /* action name; "<lambda>", "<fork>", "<main>" */
    zx_pos pos;                  /* where it is defined */
    uint32_t nparams;            /* params are locals 0..nparams-1 */
    uint32_t nlocals;            /* params + named locals + hidden temporaries */
    char **local_names;          /* nlocals names; hidden temporaries start with '$' */
    uint8_t *local_is_cell;      /* nlocals flags: captured by an inner closure, lives in a cell */
    uint32_t nfree;
    zx_freevar *free;
    uint32_t ncode;
    zx_instr *code;
    zx_pos *positions;           /* ncode source positions */
    uint32_t nconsts;
    zx_value *consts;            /* ints, floats, strings, bools, null only */
    uint32_t nchildren;
    struct zx_code **children;   /* nested actions, lambdas, fork blocks */
    uint32_t nhandlers;
    zx_handler *handlers;        /* the exception handler table (try/catch/finally/defer) */
    uint32_t max_stack;          /* computed by the verifier */
    bool oom;                    /* a builder ran out of memory: the tables are incomplete */
    /* What the verifier proved, kept for every later walker (chunker, analysis, JIT): NULL
     * until zx_verify_program succeeds, recomputed by each verification, freed with the code
     * object, never part of .zxbc. */
    int32_t *depth;              /* ncode: operand-stack depth before each instruction; -1 unreachable */
    uint8_t *pcflags;            /* ncode: ZX_PC_* facts of each instruction */
    /* Execution state, owned by the VM and JIT layers; the builders leave it zero. */
    void *_Atomic native;        /* zx_native_fn compiled for this code object, or NULL */
    _Atomic uint32_t *_Atomic field_ic; /* the interpreter's inline caches of map fields, per pc
                                      (exec/interp.c, field_ic); NULL until first used */
    zx_instr *_Atomic quick;     /* the interpreter's private copy of code with superinstructions
                                    (exec/interp.c, quicken); NULL until first run */
    _Atomic uint32_t hotness;    /* entries + loop back-edges counted by the interpreter */
    _Atomic int jit_state;       /* 0 none, 1 queued/compiling, 2 compiled, 3 failed */
    void *_Atomic jit_info;      /* zx_jit_info (jit/jit.h): what the JIT did with it, for --stats */
    struct zx_program *program;  /* the program this code belongs to (set on load) */
    uint32_t file;               /* the source file of its positions: 0 the program's source_name,
                                    k >= 1 the module file files[k - 1] (zx_code_file) */
    zx_index const_ix;           /* zx_code_add_const's index of consts (builders only) */
} zx_code;

/*
 * Per-instruction facts the verifier records in zx_code.pcflags.  A jump (an OPF_JUMPS row,
 * reachable or not) from i to t spans i+1 .. t-1 when t > i, and t+1 .. i when t <= i.
 */
enum zx_pc_flags {
    ZX_PC_TARGET    = 1 << 0,  /* some jump lands here */
    ZX_PC_SPANNED   = 1 << 1,  /* strictly inside some jump's span: control may come back
                                  past it or jump over it, so no chunk ends here */
    ZX_PC_BOUNDARY  = 1 << 2,  /* a statement boundary, where a chunk may start and the one
                                  before it end: reachable at depth 0, not spanned, and the
                                  instruction before it lacks OPF_JOINS_NEXT; pc 0 is one.  A
                                  run [s, e) between two boundaries (e = ncode allowed) is
                                  entered only at s and left only at e or by RETURN */
    ZX_PC_BACK_EDGE = 1 << 3,  /* jumps backward (a <= pc): the bottom of a loop */
};

typedef struct zx_global {
    char *name;
    uint8_t is_const;
    uint8_t is_shared;           /* declared with `shared let` */
} zx_global;

typedef struct zx_program {
    char *source_name;           /* the path as given, or the name recorded in a .zxbc */
    uint32_t nfiles;             /* the module files bundled in it (`use`), in loading order */
    char **files;                /* their source names, for error places */
    uint32_t nglobals;
    zx_global *globals;
    zx_code *main;
    zx_heap *heap;               /* owns the constant strings */
    bool oom;                    /* a builder ran out of memory: the globals are incomplete */
    /* Set by the VM that loaded the program (vm.c); the builders leave them zero. */
    struct zx_vm *vm;
    struct zx_program *vm_prev, *vm_next;
    void *plan;                  /* the runs' plan (analysis/plan.h), owned by the VM layer */
    void *hosts;                 /* host functions' purity as loaded (analysis_hosts), VM-owned */
    void *jit;                   /* compiled code, owned by the JIT layer */
    struct zx_run *state;        /* the last run's globals and args, kept for calls (vm.c) */
    zx_index global_ix;          /* zx_program_add_global's index of globals by name */
} zx_program;

/* ---- building (compiler, assembler, loader) ----
 * Out of memory: _new returns NULL; an append leaves the table as it was, sets the object's
 * sticky `oom` and returns the table's count (not an element: don't write through it). */
zx_program *zx_program_new(const char *source_name, zx_heap *heap);
void zx_program_free(zx_program *p);   /* frees every code object and constant */
zx_code *zx_code_new(zx_code_kind kind, const char *name);
void zx_code_free(zx_code *c);
/* Append an instruction; returns its index. */
uint32_t zx_code_emit(zx_code *c, uint16_t op, uint32_t a, uint16_t b, zx_pos pos);
/* Add a constant (deduplicated by kind and value); takes a new reference; returns its index. */
uint32_t zx_code_add_const(zx_code *c, zx_value v);
uint32_t zx_code_add_local(zx_code *c, const char *name);
uint32_t zx_code_add_child(zx_code *c, zx_code *child);
uint32_t zx_code_add_free(zx_code *c, const char *name, bool from_parent_local, uint32_t index);
/* Append a handler row (start, end, target); returns its index. */
uint32_t zx_code_add_handler(zx_code *c, uint32_t start, uint32_t end, uint32_t target);
/* The first handler row whose range holds pc, or NULL. */
const zx_handler *zx_code_handler_at(const zx_code *c, uint32_t pc);
uint32_t zx_program_add_global(zx_program *p, const char *name);  /* existing slot if present */
/* Append a module file's source name; returns its file index (1-based: code->file). */
uint32_t zx_program_add_file(zx_program *p, const char *name);
/* The source name of code object c's positions (c->file, or p's source_name when it is 0 or
 * out of range). */
const char *zx_code_file(const zx_program *p, const zx_code *c);
/* Append without looking for an equal entry: the loader and the assembler keep a program's
 * tables exactly as written (the verifier rejects duplicate global names). */
uint32_t zx_code_push_const(zx_code *c, zx_value v);     /* takes a new reference */
uint32_t zx_program_push_global(zx_program *p, const char *name);
/* Did a builder run out of memory on c or a code object under it / anywhere in p? */
bool zx_code_oom(const zx_code *c);
bool zx_program_oom(const zx_program *p);
/* Operands of opcode `op` that carry meaning: 0 (none), 1 (a) or 2 (a and b); -1 when op is
 * not an opcode.  Unused operands are 0 in a verified program. */
int zx_op_operand_count(unsigned op);
/* Make equal constant strings of all p's code objects one object, with its hash computed: a
 * map built from one code object's literal and read with `m.k` in another then has the very
 * key object the reader's constant is, which the JIT's inline caches compare by address.
 * Called once on load, before anything runs; out of memory leaves the rest as they are. */
void zx_program_intern_strings(zx_program *p);

/* ---- checking ---- */
/* Verify every code object of p: operand ranges, jump targets, stack depth consistent at
 * every instruction and never negative, RETURN at the end of every path, children's kinds.
 * Sets max_stack and the per-instruction facts depth and pcflags.  On failure writes a message naming code object and instruction to err
 * (errsz bytes) and returns false.  After success the interpreter and the JIT may assume
 * every property checked here. */
bool zx_verify_program(zx_program *p, char *err, size_t errsz);

/* ---- text assembly (.zxa) ---- */
/* Disassemble to text that zx_assemble reads back into an identical program. */
void zx_disassemble(const zx_program *p, zx_buf *out);
/* Assemble .zxa text; on failure returns NULL and writes "NAME:LINE:COL: error: ..." to err. */
zx_program *zx_assemble(const char *text, size_t len, const char *source_name, zx_heap *heap,
                        char *err, size_t errsz);
/* The same, and *oom (if not NULL) says whether it failed because an allocation failed (the
 * heap's limit or malloc) rather than because the text is wrong. */
zx_program *zx_assemble_ex(const char *text, size_t len, const char *source_name, zx_heap *heap,
                           char *err, size_t errsz, bool *oom);

/* ---- binary bytecode (.zxbc) ---- */
/* Serialise (magic "ZXBC", format version, payload, checksum). */
void zx_bytecode_write(const zx_program *p, zx_buf *out);
/* One code object of p in the same encoding, but with its file as the file's name (not its
 * index in p's table) and its children only counted, not written: what the JIT's compiled-code
 * cache keys a code object's own part on (jit/cache.h), which stays the same when other code
 * objects or other files change. */
void zx_bytecode_write_code(const zx_program *p, const zx_code *c, zx_buf *out);
/* Load and check; NULL on a damaged, truncated or wrong-version file with a message in err.
 * The caller still runs zx_verify_program. */
zx_program *zx_bytecode_read(const uint8_t *data, size_t len, zx_heap *heap, char *err, size_t errsz);
/* The same, and *oom (if not NULL) says whether it failed because an allocation failed rather
 * than because the file is damaged. */
zx_program *zx_bytecode_read_ex(const uint8_t *data, size_t len, zx_heap *heap, char *err, size_t errsz,
                                bool *oom);
/* The checksum zx_bytecode_write stores (over the payload): exposed for the fuzz target. */
uint64_t zx_bytecode_checksum(const uint8_t *data, size_t len);

#endif
