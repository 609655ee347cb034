/* cache.h — the compiled-code cache: object files on disk, keyed by all the code depends on. */
#ifndef JIT_CACHE_H
#define JIT_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "jit.h"

/*
 * One entry is the object file of one compiled module (the code objects of one batch: under
 * --jit=always/strict those of one source file, or one big code object; under --jit=auto one
 * hot code object) with the symbol name and statistics of each code object.  Its key is a
 * BLAKE3 hash of
 *   - the engine: cache format, JIT_ABI, the shared struct sizes, the module's build id
 *     (so a rebuilt lowering never reuses old code), the helper ABI (jit/helper_abi.h), the
 *     LLVM version, target triple, host CPU name and features, and the optimisation level;
 *   - the pass pipeline (ZEXUS_JIT_PASSES may change it);
 *   - for each code object of the module, in order, its function's symbol name (the engine
 *     makes them unique in its JITDylib; an object defines the names it was compiled with, so
 *     a hit always defines the names this process asks for) and its code key: a hash of
 *       . its own bytes in the .zxbc encoding (zx_bytecode_write_code: kind, name, position,
 *         file by name, locals, cells, free variables, constants, instructions with their
 *         source positions, handlers, the number of children; a field that code objects gain
 *         is covered as soon as the format holds it), and
 *       . every fact lowering reads from outside it (analyze_outside_facts: the flags of the
 *         globals it names, the tags guessed for them from the top level, each direct call's
 *         callee with its place and frame shape).
 * Nothing else of the program is a part, so a module's entry stays valid when another file,
 * or code of the same file that it does not read, changes.  The native code does not depend
 * on the chunk size (end_pc is an argument) nor on runtime types (the analysis starts from pc
 * 0 with parameters of any type), so neither is a part.
 *
 * Files are written to a temporary name and renamed, checksummed with BLAKE3 over the whole
 * entry: a damaged entry is counted as corrupt, removed, and the module is compiled again.
 * The directory is bounded (CACHE_MAX_BYTES, oldest mtime evicted first; a hit refreshes
 * the mtime).  A directory that cannot be created turns the cache off; one that cannot be
 * written is only read.  Nothing is ever printed.  Not thread-safe: the engine serialises.
 */
#define CACHE_KEY_LEN 32
#define CACHE_MAX_BYTES (64u << 20)

typedef struct jit_cache jit_cache;

typedef struct jit_cache_entry {
    size_t n;                      /* code objects */
    char **names;                  /* their symbols in the object */
    uint32_t *entries, *helper_ops, *inlined;   /* their zx_jit_code_stats */
    void *obj;                     /* the object file */
    size_t objsize;
} jit_cache_entry;

/* The engine's part of every key.  pipeline NULL at -O0. */
void cache_engine_key(uint8_t out[CACHE_KEY_LEN], const char *llvm_version, const char *triple,
                      const char *cpu, const char *features, int opt_level);
/* A code object's part: its own bytes (zx_jit_config.code_bytes) and the facts lowering reads
 * outside it (analyze_outside_facts). */
void cache_code_key(uint8_t out[CACHE_KEY_LEN], const void *code, size_t codelen, const void *facts,
                    size_t factslen);
/* The key of one module: engine, pipeline, and for each of its n code objects its function's
 * symbol name and its code key. */
void cache_module_key(uint8_t out[CACHE_KEY_LEN], const uint8_t engine[CACHE_KEY_LEN], const char *pipeline,
                      const uint8_t (*codes)[CACHE_KEY_LEN], const char *const *names, size_t n);

/* Open the cache in dir (created if missing), counting into counters.  NULL (cache off) when
 * dir is NULL or cannot be created; ZEXUS_JIT_CACHE_MAX (bytes) overrides the bound. */
jit_cache *cache_open(const char *dir, zx_jit_cache_stats *counters);
void cache_close(jit_cache *c);
/* 1 and *out filled (free with cache_entry_free) when a valid entry of n code objects is
 * stored under key: a hit.  0 otherwise: a miss, and a damaged entry is removed. */
int cache_load(jit_cache *c, const uint8_t key[CACHE_KEY_LEN], size_t n, jit_cache_entry *out);
/* Store e under key; failures are silent (a directory that cannot be written stops writes). */
void cache_store(jit_cache *c, const uint8_t key[CACHE_KEY_LEN], const jit_cache_entry *e);
/* The entry under key passed its checksum but LLVM rejected it: count it as corrupt, remove it. */
void cache_reject(jit_cache *c, const uint8_t key[CACHE_KEY_LEN]);
void cache_entry_free(jit_cache_entry *e);

#endif
