/* cache.h — the compiled-code cache: object files on disk, keyed by all the code depends on. */
#ifndef JIT_CACHE_H
#define JIT_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "jit.h"

/*
 * One entry is the object file of one compiled module (every code object of a batch) with
 * the symbol name and statistics of each code object.  Its key is a BLAKE3 hash of
 *   - the engine: cache format, JIT_ABI, the shared struct sizes, the module's build id
 *     (so a rebuilt lowering never reuses old code), the helper ABI (jit/helper_abi.h), the
 *     LLVM version, target triple, host CPU name and features, and the optimisation level;
 *   - the pass pipeline (ZEXUS_JIT_PASSES may change it);
 *   - the whole program's canonical .zxbc bytes (src/bytecode/zxbc.c: every code object's
 *     instructions, constants, locals, cells, free variables, children, source positions;
 *     the globals), so that anything lowering reads from any code object is covered, and a
 *     field that code objects gain is covered as soon as the format holds it;
 *   - which code objects of the program the module holds, and their functions' symbol names
 *     (the engine makes them unique in its JITDylib; an object defines the names it was
 *     compiled with, so a hit always defines the names this process asks for).
 * The native code does not depend on the chunk size (end_pc is an argument) nor on runtime
 * types (the analysis starts from pc 0 with parameters of any type), so neither is a part.
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
    uint32_t *entries, *helper_ops;   /* their zx_jit_code_stats */
    void *obj;                     /* the object file */
    size_t objsize;
} jit_cache_entry;

/* The engine's part of every key.  pipeline NULL at -O0. */
void cache_engine_key(uint8_t out[CACHE_KEY_LEN], const char *llvm_version, const char *triple,
                      const char *cpu, const char *features, int opt_level);
/* The program's part: a hash of its canonical .zxbc bytes (zx_jit_config.program_bytes). */
void cache_program_key(uint8_t out[CACHE_KEY_LEN], const void *zxbc, size_t len);
/* The key of one module: engine, pipeline, program, and for each of its code objects its
 * preorder index in the program and its function's symbol name. */
void cache_module_key(uint8_t out[CACHE_KEY_LEN], const uint8_t engine[CACHE_KEY_LEN],
                      const char *pipeline, const uint8_t program[CACHE_KEY_LEN], const uint32_t *index,
                      const char *const *names, size_t n);

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
