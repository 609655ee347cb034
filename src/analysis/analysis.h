/* analysis.h — chunks of every code object, their effect summaries and dependency DAGs (DESIGN.md §5). */
#ifndef ZX_ANALYSIS_H
#define ZX_ANALYSIS_H

#include <stdbool.h>
#include <stdint.h>

#include "bytecode/bytecode.h"
#include "zexus.h"

/*
 * The analysis of a program (docs/analysis.md has the rules with examples):
 *
 *  - every code object (the top level, each action, lambda and fork block) is cut into
 *    chunks: runs of whole statements, each starting and ending at stack depth 0, with no
 *    jump entering or leaving (a RETURN may leave: the chunk is marked);
 *  - every code object has a summary of what one call of it may do, and every chunk a
 *    summary of what running it may do, in terms of locations: variables (globals by slot,
 *    locals and cells by code object and slot; a captured variable is a location of the
 *    scope that declares it), one heap location, output;
 *  - the chunks of each code object form a DAG with an edge A -> B (A before B in program
 *    order) for every direct dependency: RAW, WAR, WAW on a variable, heap, an unresolved
 *    call, a barrier, a return;
 *  - each FORK_EXECUTION has the same kind of DAG over its blocks.
 *
 * An analysis is immutable once built and may be read from any number of threads.
 */

#define ANALYSIS_DEFAULT_CHUNK_SIZE 50
#define ANALYSIS_NONE UINT32_MAX          /* no location, no code object, no node */
#define ANALYSIS_CALLEE_BUILTIN(b) (ANALYSIS_NONE - 1u - (uint32_t)(b))
#define ANALYSIS_RECV_HEAP ANALYSIS_NONE       /* analysis_code.recv: some object, the heap */
#define ANALYSIS_RECV_THIS (ANALYSIS_NONE - 1u) /* analysis_code.recv: the method's `this` */

/* Location ids: 0 .. nglobals-1 are the globals by slot; code object i's local slot s is
 * codes[i].loc_base + s; nlocs + k is the fields of object k (analysis.obj_global: the object
 * a global holds, proved distinct from every other).  The rest of the heap is not a location
 * id: summaries carry it as flags. */

/* A set of location ids: an immutable big-endian Patricia trie whose leaves hold 64 ids as a
 * bitmap (Okasaki and Gill; Haskell's Data.IntSet).  Sets share their subtrees: the union of a
 * small set and a large one copies only the paths to the small set's leaves and keeps the rest
 * of the large one, so a code object's summary shares its callees' summaries instead of copying
 * them (a chain of N actions each writing a global of its own holds O(N) nodes in all, not
 * N*N/2 ids).  Nodes live in an arena (analysis_arena) and are freed with it; a set is a value:
 * copying the struct copies the set. */
typedef struct analysis_locnode analysis_locnode;

typedef struct analysis_locset {
    uint32_t n;                           /* number of ids */
    const analysis_locnode *root;         /* NULL: empty */
} analysis_locset;

/* In increasing order: analysis_locset_iter_init, then analysis_locset_next until false. */
typedef struct analysis_locset_iter {
    const analysis_locnode *stack[40];
    uint32_t sp, base;
    uint64_t bits;
} analysis_locset_iter;

/* Where the nodes of location sets are allocated: blocks freed all at once. */
typedef struct analysis_arena {
    struct analysis_arena_block *blocks;
    char *at, *end;
    size_t bytes;                         /* in blocks so far */
    bool oom;                             /* an allocation failed: every set made since is suspect */
} analysis_arena;

#define ANALYSIS_FX_KINDS 5               /* the bits of ZX_FX_ORDERED */

typedef struct analysis_summary {
    analysis_locset reads;                /* loads of variables */
    analysis_locset writes;               /* stores of variables */
    analysis_locset updates;              /* `shared` globals updated with op= (SHARED_WRITE) */
    bool reads_heap;                      /* reads an element, a length, formats a list ... */
    bool writes_heap;                     /* index assignment, push, pop */
    /* A method's effects on the fields of its own receiver (`this`), kept apart while `this`
     * provably goes nowhere but into field accesses and method calls: a call site turns them
     * into its receiver's location, or into the heap.  Only summaries of code objects carry
     * them; chunk summaries never do. */
    bool this_reads, this_writes;
    bool calls_unknown;                   /* calls something the analysis cannot resolve */
    bool may_raise;
    bool has_output;                      /* print: ordered by output buffers, never an edge */
    bool loops_or_recurses;               /* a loop, parallel_map, or recursion, transitively */
    uint64_t cost;                        /* estimated instructions executed (saturating) */
    /* Effects with no location of their own (ZX_FX_ORDERED of runtime/builtins.h: files, the
     * clock, the random state, sleeping): any two code paths that both have one are ordered
     * (DEP_EFFECT).  fx_builtin[k] names a builtin with effect k (analysis_fx_bit), id + 1. */
    unsigned ordered_fx;
    uint16_t fx_builtin[ANALYSIS_FX_KINDS];
} analysis_summary;

enum analysis_chunk_flags {
    CHUNK_HAS_LOOP      = 1 << 0,         /* contains a backward jump */
    CHUNK_CALLS_UNKNOWN = 1 << 1,         /* ordered after every earlier chunk, before every later */
    CHUNK_HAS_RETURN    = 1 << 2,         /* may leave the code object: later chunks wait for it */
    CHUNK_IS_BARRIER    = 1 << 3,         /* contains BARRIER_SYNC: a fence */
    CHUNK_OUTPUT        = 1 << 4,         /* prints */
    CHUNK_IS_FORK       = 1 << 5,         /* contains FORK_EXECUTION + JOIN_WORKERS */
    CHUNK_HEAVY         = 1 << 6,         /* costly statement standing alone (loop, costly call) */
};

typedef struct analysis_chunk {
    uint32_t start, end;                  /* instructions [start, end) */
    uint32_t first_line, last_line;       /* source lines covered; 0 when unknown */
    uint64_t cost;
    unsigned flags;                       /* analysis_chunk_flags */
    analysis_summary eff;                 /* what running the chunk may do (callees included) */
} analysis_chunk;

typedef enum analysis_dep_kind {
    DEP_RAW = 0,                          /* B reads a variable A writes */
    DEP_WAR,                              /* B writes a variable A reads */
    DEP_WAW,                              /* both write a variable */
    DEP_HEAP,                             /* one writes the heap, the other touches it */
    DEP_CALL,                             /* one calls something unresolved */
    DEP_BARRIER,                          /* a barrier lies between them (edges to/from it) */
    DEP_RETURN,                           /* A may return: B runs only if it did not */
    DEP_EFFECT,                           /* both touch files, the clock, the random state or sleep */
    DEP_KIND_COUNT
} analysis_dep_kind;

typedef struct analysis_edge {
    uint32_t from, to;                    /* node ids, from < to */
    uint32_t kind;                        /* analysis_dep_kind */
    uint32_t loc;                         /* the variable that causes it, or ANALYSIS_NONE */
} analysis_edge;

/* A DAG over nodes 0..n-1 numbered in program order (every edge goes forward). */
typedef struct analysis_dag {
    uint32_t n;
    /* For the scheduler: successors in CSR form, transitively reduced (an edge implied by a
     * path of others is left out), and the predecessor counts that go with them. */
    uint32_t *succ_offsets;               /* n + 1 */
    uint32_t *succs;
    uint32_t *npreds;                     /* n */
    /* For display: every direct dependency with its kind and location, sorted by (from, to). */
    uint32_t nedges;
    analysis_edge *edges;
    uint64_t work;                        /* sum of node costs */
    uint64_t critical_path;               /* largest sum of costs along a path */
    double parallelism;                   /* work / critical_path (1 for an empty DAG) */
    uint32_t npath;
    uint32_t *path;                       /* one critical path, node ids in order */
} analysis_dag;

typedef struct analysis_fork {
    uint32_t pc;                          /* the FORK_EXECUTION instruction */
    uint32_t nblocks;
    uint32_t *blocks;                     /* code ids of the blocks, in order */
    analysis_dag dag;                     /* nodes are the blocks */
} analysis_fork;

typedef struct analysis_code {
    zx_code *code;
    uint32_t id;                          /* index in analysis.codes (preorder; main is 0) */
    uint32_t parent;                      /* code id, ANALYSIS_NONE for main */
    uint32_t loc_base;                    /* location id of local slot 0 */
    uint32_t nchunks;
    analysis_chunk *chunks;
    analysis_dag dag;                     /* nodes are the chunks */
    uint32_t nforks;
    analysis_fork *forks;
    /* What one call may do, callees included; the code object's own plain (non-cell) locals
     * are left out: no other activation can see them. */
    analysis_summary summary;
    /* Reads of the globals that hold an action defined once by the top level (analysis.fixed)
     * by this code object's own instructions, sorted.  They are left out of `summary` and of
     * the chunks' summaries of every code object but the top level: no code object but the top
     * level writes such a global, so only the top level's chunks can conflict on one, and those
     * get the reads of everything they call (deps_add_fixed_reads).  Kept out, a chain of N
     * actions each calling the next holds N locations in all, not N*N/2. */
    analysis_locset fixed_reads;
    bool recursive;                       /* in a cycle of the call graph */
    char *pmap_reason;                    /* why it may not run as a parallel_map function; NULL: it may */
    /* Per instruction: the code id a CALL_TOP / PARALLEL_MAP calls; ANALYSIS_CALLEE_BUILTIN(b)
     * when it calls builtin b; ANALYSIS_NONE when it is unresolved or not a call. */
    uint32_t *callee;
    /* Per instruction, for field reads and stores, method calls and PRINT: whose fields the
     * receiver's are: an object location (nlocs + k), ANALYSIS_RECV_THIS (this method's own
     * receiver), or ANALYSIS_RECV_HEAP (any object: the heap).  NULL: the heap everywhere. */
    uint32_t *recv;
    /* Scratch for the builders, freed before analysis_build returns. */
    uint32_t *loop_depth;                 /* loops enclosing each instruction */
    uint64_t *site_cost;                  /* cost of each instruction, its callees included */
    analysis_summary local;               /* the code's own instructions, no callees */
    /* The top level only: some local may be live from one chunk into another (bytecode not
     * made by the compiler), so its chunks cannot run in frames of their own (no DAG).  When
     * false, the top level's locals (the compiler's loop temporaries) are private to each
     * chunk and left out of the chunks' summaries. */
    bool locals_cross_chunks;
} analysis_code;

/* The purity of the VM's host functions as the program saw them when it was loaded (made by
 * src/vm/host.c): their names in registration order and a bit per name.  The analysis reads
 * it, and never the VM's table: a LOAD_HOST of a pure host function is a call without effects. */
typedef struct analysis_hosts {
    uint32_t n;
    const char *const *names;             /* n names, borrowed from the VM's table */
    const uint8_t *pure;                  /* bitmap: bit k set when host k is ZX_HOST_PURE */
} analysis_hosts;

typedef struct analysis {
    zx_program *prog;
    const analysis_hosts *hosts;          /* borrowed, for the build only (NULL: none is pure) */
    int chunk_size;
    uint32_t ncodes;
    analysis_code *codes;
    uint32_t nlocs;                       /* number of variable location ids */
    uint32_t *loc_code;                   /* nlocs: owning code id of a location (ANALYSIS_NONE: global) */
    uint32_t hash_cap;                    /* zx_code pointer -> code id, open addressing */
    uint32_t *hash;
    struct deps_scratch *deps_scratch;    /* the DAG builder's per-location state, for the build only */
    /* Class methods (code objects "Class.name"), sorted by name: CALL_METHOD of a name calls one
     * of those with that name (deps.c, analysis_method_callees). */
    uint32_t nmeths;
    const char **meth_name;               /* the name after the last '.', borrowed from the code */
    uint32_t *meth_id;                    /* their code ids, in the same order */
    /* Objects told apart: object k is the one global obj_global[k] holds, its fields location
     * nlocs + k.  Such a global is stored once, by the top level, with a new instance, and
     * neither it nor any method's `this` ever goes anywhere but into field accesses and method
     * calls, so nothing else can reach that instance's fields (deps_find_objects). */
    uint32_t nobjs;
    uint32_t *obj_global;
    uint32_t *obj_site;                   /* nglobals: scratch of the build (deps.c) */
    analysis_arena arena;                 /* the nodes of every location set of the analysis */
    /* nlocs: 1 when some code object other than the location's owner may store into it
     * (STORE_FREE), except a fork block storing into its own parent's local.  A location that
     * does not escape is written only by its owner's activation or by the blocks of a fork that
     * activation runs, so undoing a fork block needs only the values it had in that frame. */
    uint8_t *loc_escapes;
    /* nlocs: 1 for a global that is not `shared`, that has exactly one store in the program, a
     * STORE_NAME of the top level's own code, and that store stores an action (a closure): its
     * reads are kept in analysis_code.fixed_reads, not in the summaries. */
    uint8_t *fixed;
} analysis;

/* ---- analysis.c: building, lookups, names ---- */

/* Analyse a verified program with chunks of up to chunk_size instructions (<= 0: the default).
 * NULL when out of memory.  The result does not change the program. */
analysis *analysis_build(zx_program *p, int chunk_size);
/* The same, with the host functions in `hosts` known (NULL: no host function is pure). */
analysis *analysis_build_hosts(zx_program *p, int chunk_size, const analysis_hosts *hosts);
/* True when the string constant `name` names a pure host function of the analysis' hosts. */
bool analysis_host_is_pure(const analysis *a, zx_value name);
/* True when host function k (its builtin id less ZX_BI_COUNT) is pure in `hosts`. */
bool analysis_host_index_pure(const analysis_hosts *hosts, uint32_t k);
void analysis_free(analysis *a);
/* The analysis of a code object of the program, or NULL. */
const analysis_code *analysis_code_of(const analysis *a, const zx_code *c);
/* True when `fn` may run as the function of a parallel_map in parallel (DESIGN.md §4): it
 * writes nothing but its own locals and `shared` variables through op=, and reads no shared
 * variable.  Otherwise *reason (borrowed from the analysis) says why. */
bool analysis_pmap_parallel_ok(const analysis_code *fn, const char **reason);
/* The class methods a CALL_METHOD at pc of code object ac may call: their count, and *ids
 * pointing at their code ids (borrowed). */
uint32_t analysis_method_callees(const analysis *a, const analysis_code *ac, uint32_t pc, const uint32_t **ids);
/* "global 'x'", "local 'i' of action 'work'", "captured variable 'c' of action 'make'",
 * "fields of 'a'". */
void analysis_loc_describe(const analysis *a, uint32_t loc, char *buf, size_t size);
/* The bare variable name of a location ("x"). */
const char *analysis_loc_name(const analysis *a, uint32_t loc);
const char *analysis_dep_kind_name(int kind);   /* "RAW", "WAR", ..., "barrier" */
/* The effect bit (ZX_FX_*) of ordered effect kind k < ANALYSIS_FX_KINDS. */
unsigned analysis_fx_bit(int k);
/* The ordered effects of s in words, each with a builtin that has it: "writes files
 * (file_write_text), reads the clock (time)"; "" when it has none. */
void analysis_fx_describe(const analysis_summary *s, char *buf, size_t size);
/* True when the DAG has a path from node `from` to node `to` (from == to included). */
bool analysis_dag_reaches(const analysis_dag *d, uint32_t from, uint32_t to);
/* The width of the DAG: a set of nodes with no path between any two of them, in increasing
 * order, into set[] (room for d->n).  Returns its size (0 only for an empty DAG or when
 * memory runs out).  Exact (the largest such set, Dilworth) up to ANALYSIS_WIDTH_EXACT_MAX
 * nodes; above, the largest set of nodes at the same depth, in linear time: exact for chains,
 * fans and layers between fences, a lower bound in general. */
#define ANALYSIS_WIDTH_EXACT_MAX 512u
uint32_t analysis_dag_width(const analysis_dag *d, uint32_t *set);

/* Location sets and summaries (shared by the builders).  The functions that make a set take
 * the arena for its new nodes and return false when out of memory (the set is then unchanged). */
void analysis_arena_free(analysis_arena *ar);
bool analysis_locset_add(analysis_arena *ar, analysis_locset *s, uint32_t id);
/* s = s | o, sharing o's subtrees where s has nothing. */
bool analysis_locset_union(analysis_arena *ar, analysis_locset *s, const analysis_locset *o);
/* out = x & y. */
bool analysis_locset_inter(analysis_arena *ar, analysis_locset *out, const analysis_locset *x,
                           const analysis_locset *y);
/* s = s | ids[0..n-1] (sorted, without duplicates). */
bool analysis_locset_add_sorted(analysis_arena *ar, analysis_locset *s, const uint32_t *ids, uint32_t n);
/* s less the ids in [lo, hi). */
bool analysis_locset_drop_range(analysis_arena *ar, analysis_locset *s, uint32_t lo, uint32_t hi);
bool analysis_locset_has(const analysis_locset *s, uint32_t id);
/* Smallest id in both sets, or ANALYSIS_NONE (no allocation). */
uint32_t analysis_locset_common(const analysis_locset *x, const analysis_locset *y);
void analysis_locset_iter_init(analysis_locset_iter *it, const analysis_locset *s);
bool analysis_locset_next(analysis_locset_iter *it, uint32_t *id);
bool analysis_summary_union(analysis_arena *ar, analysis_summary *s, const analysis_summary *o);
/* Saturating cost arithmetic. */
uint64_t analysis_cost_add(uint64_t x, uint64_t y);
uint64_t analysis_cost_mul(uint64_t x, uint64_t y);
/* Fill the CSR, predecessor counts, work, critical path and parallelism of a DAG whose
 * nodes and edges are set, with node costs cost[0..n-1]. */
bool analysis_dag_finish(analysis_dag *d, const uint64_t *cost);
void analysis_dag_free(analysis_dag *d);

/* ---- chunker.c: statements and chunks ---- */

/* Loop nesting of every instruction; false when the code object was not verified (the
 * chunker and the analysis use the verifier's depth and boundary facts). */
bool chunker_scan(analysis_code *ac);
/* Cut the code object into chunks (needs the callee summaries: deps_summarize first). */
bool chunker_split(analysis *a, analysis_code *ac);

/* ---- deps.c: call resolution, summaries, dependencies ---- */

/* Resolve the callee of every call site of every code object (and fill a->fixed, and the
 * candidates of a->obj_site). */
bool deps_resolve_calls(analysis *a);
/* The class methods by name, the objects told apart and every code object's recv. */
bool deps_find_objects(analysis *a);
/* Add to every chunk of the top level the reads of fixed globals by all that it calls. */
bool deps_add_fixed_reads(analysis *a, analysis_code *main_code);
/* Every variable one call of ac may read, callees included: its summary's reads and the fixed
 * globals that ac and its callees read, sorted, into *ids (malloc'ed, the caller frees it) and *n. */
bool analysis_reads_closure(const analysis *a, const analysis_code *ac, uint32_t **ids, uint32_t *n);
/* Each code object's own effects, then the interprocedural summaries (fixpoint over the
 * call graph, recursion included), costs and the parallel_map verdicts. */
bool deps_summarize(analysis *a);
/* The effects of instructions [start, end) of a code object, callees included. */
bool deps_range_effects(analysis *a, const analysis_code *ac, uint32_t start, uint32_t end,
                        analysis_summary *out);
/* The chunk DAG of a code object and the block DAGs of its forks: per location, edges from the
 * last writer and from the readers since it (linear in the accesses; docs/analysis.md §4). */
bool deps_build_dags(analysis *a, analysis_code *ac);
void deps_scratch_free(analysis *a);
/* Fill a->loc_escapes. */
bool deps_mark_escapes(analysis *a);
/* The first dependency of B on an earlier A from their summaries (ANALYSIS_NONE: none);
 * *loc gets the variable when there is one. */
uint32_t deps_conflict(const analysis_summary *A, const analysis_summary *B, uint32_t *loc);

#endif
