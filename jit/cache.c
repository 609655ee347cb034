/* cache.c — the compiled-code cache (cache.h): keys, entry files, eviction. */
#include "cache.h"

#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <llvm-c/blake3.h>

#include "helper_abi.h"
#include "runtime/build_id.h"

#define CACHE_FORMAT 3
#define ENTRY_SUFFIX ".zxo"
#define MAX_NAME 4096                 /* a symbol name longer than this is damage */
#define MAX_ENTRY (1u << 30)          /* a file larger than this is damage */
#define STALE_TMP_SECONDS 3600        /* a temporary file this old was left by a crashed writer */

static const char entry_magic[8] = { 'Z', 'X', 'J', 'I', 'T', 'O', 'B', 'J' };

struct jit_cache {
    char *dir;
    zx_jit_cache_stats *counters;     /* the engine's, or own_counters */
    zx_jit_cache_stats own_counters;
    uint64_t max_bytes;
    int read_only;                    /* a write failed for lack of permission or space */
};

/* ---------- hashing ---------- */

static void hash_bytes(llvm_blake3_hasher *h, const void *p, size_t n) { llvm_blake3_hasher_update(h, p, n); }
static void hash_u32(llvm_blake3_hasher *h, uint32_t v) { hash_bytes(h, &v, sizeof v); }
static void hash_u64(llvm_blake3_hasher *h, uint64_t v) { hash_bytes(h, &v, sizeof v); }

/* Strings are length-prefixed, so that ("ab","c") and ("a","bc") differ. */
static void hash_str(llvm_blake3_hasher *h, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    hash_u64(h, s ? n : UINT64_MAX);
    hash_bytes(h, s, n);
}

/* Without a build id: the module file's contents. */
static void hash_module_file(llvm_blake3_hasher *h)
{
    Dl_info info;
    if (!dladdr((void *)hash_module_file, &info) || !info.dli_fname) {
        hash_str(h, __DATE__ " " __TIME__);
        return;
    }
    FILE *f = fopen(info.dli_fname, "rb");
    if (!f) {
        hash_str(h, __DATE__ " " __TIME__);
        return;
    }
    char buf[65536];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0) hash_bytes(h, buf, k);
    fclose(f);
}

void cache_engine_key(uint8_t out[CACHE_KEY_LEN], const char *llvm_version, const char *triple,
                      const char *cpu, const char *features, int opt_level)
{
    llvm_blake3_hasher h;
    llvm_blake3_hasher_init(&h);
    hash_str(&h, "zexus-jit compiled-code cache");
    hash_u32(&h, CACHE_FORMAT);
    hash_u32(&h, JIT_ABI);
    hash_u32(&h, (uint32_t)sizeof(zx_frame));
    hash_u32(&h, (uint32_t)sizeof(zx_task));
    hash_u32(&h, (uint32_t)sizeof(zx_code));
    /* the JIT module's build id: it changes whenever the lowering does */
    build_id b = { (uintptr_t)(void *)cache_engine_key, NULL, 0 };
    dl_iterate_phdr(find_build_id, &b);
    if (b.id) {
        hash_u64(&h, b.len);
        hash_bytes(&h, b.id, b.len);
    } else {
        hash_module_file(&h);
    }
    hash_u64(&h, jit_helper_abi_hash(JIT_HELPER_ABI_TEXT));
    hash_str(&h, llvm_version);
    hash_str(&h, triple);
    hash_str(&h, cpu);
    hash_str(&h, features);
    hash_u32(&h, (uint32_t)opt_level);
    llvm_blake3_hasher_finalize(&h, out, CACHE_KEY_LEN);
}

void cache_code_key(uint8_t out[CACHE_KEY_LEN], const void *code, size_t codelen, const void *facts,
                    size_t factslen)
{
    llvm_blake3_hasher h;
    llvm_blake3_hasher_init(&h);
    hash_str(&h, "zexus-jit code object (.zxbc) and outside facts");
    hash_u64(&h, codelen);
    hash_bytes(&h, code, codelen);
    hash_u64(&h, factslen);
    hash_bytes(&h, facts, factslen);
    llvm_blake3_hasher_finalize(&h, out, CACHE_KEY_LEN);
}

void cache_module_key(uint8_t out[CACHE_KEY_LEN], const uint8_t engine[CACHE_KEY_LEN], const char *pipeline,
                      const uint8_t (*codes)[CACHE_KEY_LEN], const char *const *names, size_t n)
{
    llvm_blake3_hasher h;
    llvm_blake3_hasher_init(&h);
    hash_bytes(&h, engine, CACHE_KEY_LEN);
    hash_str(&h, pipeline);
    hash_u64(&h, n);
    for (size_t i = 0; i < n; i++) {
        hash_str(&h, names[i]);
        hash_bytes(&h, codes[i], CACHE_KEY_LEN);
    }
    llvm_blake3_hasher_finalize(&h, out, CACHE_KEY_LEN);
}

/* ---------- the directory ---------- */

/* mkdir -p, new directories private (the XDG base directory rule). */
static int make_dirs(const char *path)
{
    char *p = strdup(path);
    if (!p) return 0;
    int ok = 1;
    for (char *s = p + 1; ok; s++) {
        if (*s != '/' && *s != '\0') continue;
        char c = *s;
        *s = '\0';
        struct stat st;
        /* The cache directory itself must be a real directory, not a symlink to one: entries
         * are written and evicted there, so it must be the place the user named.  Components
         * above it (a symlinked $HOME) may be links. */
        int last = c == '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) ok = 0;
        else if ((last ? lstat(p, &st) : stat(p, &st)) != 0 || !S_ISDIR(st.st_mode)) ok = 0;
        *s = c;
        if (c == '\0') break;
    }
    free(p);
    return ok;
}

jit_cache *cache_open(const char *dir, zx_jit_cache_stats *counters)
{
    if (!dir || dir[0] != '/' || !make_dirs(dir)) return NULL;
    jit_cache *c = calloc(1, sizeof *c);
    if (!c || !(c->dir = strdup(dir))) {
        free(c);
        return NULL;
    }
    c->counters = counters ? counters : &c->own_counters;
    c->max_bytes = CACHE_MAX_BYTES;
    const char *max = getenv("ZEXUS_JIT_CACHE_MAX");
    if (max && max[0]) {
        char *end;
        unsigned long long v = strtoull(max, &end, 10);
        if (*end == '\0') c->max_bytes = v;
    }
    atomic_store(&c->counters->enabled, 1);
    return c;
}

void cache_close(jit_cache *c)
{
    if (!c) return;
    free(c->dir);
    free(c);
}

static void count(_Atomic uint64_t *counter)
{
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

static void entry_path(const jit_cache *c, const uint8_t key[CACHE_KEY_LEN], char *out, size_t outsz)
{
    int k = snprintf(out, outsz, "%s/", c->dir);
    for (int i = 0; i < CACHE_KEY_LEN && k > 0 && (size_t)k + 3 < outsz; i++)
        k += snprintf(out + k, outsz - (size_t)k, "%02x", key[i]);
    if (k > 0 && (size_t)k < outsz) snprintf(out + k, outsz - (size_t)k, "%s", ENTRY_SUFFIX);
}

/* ---------- entries ----------
 *
 *   magic[8] format:u32 n:u32 key[32] objsize:u64
 *   n x { entries:u32 helper_ops:u32 inlined:u32 namelen:u32 name[namelen] }
 *   object[objsize]
 *   checksum[32]      BLAKE3 of everything before it
 *
 * Integers are in the host's byte order: the CPU is part of the key anyway.
 */

typedef struct reader {
    const uint8_t *p, *end;
} reader;

static int rd(reader *r, void *out, size_t n)
{
    if ((size_t)(r->end - r->p) < n) return 0;
    memcpy(out, r->p, n);
    r->p += n;
    return 1;
}

void cache_entry_free(jit_cache_entry *e)
{
    if (!e) return;
    for (size_t i = 0; e->names && i < e->n; i++) free(e->names[i]);
    free(e->names);
    free(e->entries);
    free(e->helper_ops);
    free(e->inlined);
    free(e->obj);
    memset(e, 0, sizeof *e);
}

static int parse_entry(const uint8_t *data, size_t size, const uint8_t key[CACHE_KEY_LEN], size_t n,
                       jit_cache_entry *e)
{
    if (size < sizeof entry_magic + CACHE_KEY_LEN) return 0;
    uint8_t sum[CACHE_KEY_LEN];
    llvm_blake3_hasher h;
    llvm_blake3_hasher_init(&h);
    llvm_blake3_hasher_update(&h, data, size - CACHE_KEY_LEN);
    llvm_blake3_hasher_finalize(&h, sum, sizeof sum);
    if (memcmp(sum, data + size - CACHE_KEY_LEN, sizeof sum) != 0) return 0;

    reader r = { data, data + size - CACHE_KEY_LEN };
    char magic[sizeof entry_magic];
    uint32_t format, count_n;
    uint8_t k[CACHE_KEY_LEN];
    uint64_t objsize;
    if (!rd(&r, magic, sizeof magic) || memcmp(magic, entry_magic, sizeof magic) != 0) return 0;
    if (!rd(&r, &format, sizeof format) || format != CACHE_FORMAT) return 0;
    if (!rd(&r, &count_n, sizeof count_n) || count_n != n) return 0;
    if (!rd(&r, k, sizeof k) || memcmp(k, key, sizeof k) != 0) return 0;
    if (!rd(&r, &objsize, sizeof objsize) || objsize == 0 || objsize > (uint64_t)(r.end - r.p)) return 0;
    e->n = n;
    e->names = calloc(n ? n : 1, sizeof *e->names);
    e->entries = calloc(n ? n : 1, sizeof *e->entries);
    e->helper_ops = calloc(n ? n : 1, sizeof *e->helper_ops);
    e->inlined = calloc(n ? n : 1, sizeof *e->inlined);
    if (!e->names || !e->entries || !e->helper_ops || !e->inlined) return 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t len;
        if (!rd(&r, &e->entries[i], sizeof(uint32_t)) || !rd(&r, &e->helper_ops[i], sizeof(uint32_t)) ||
            !rd(&r, &e->inlined[i], sizeof(uint32_t)) || !rd(&r, &len, sizeof len) || len == 0 ||
            len > MAX_NAME || (size_t)(r.end - r.p) < len)
            return 0;
        if (!(e->names[i] = malloc(len + 1))) return 0;
        rd(&r, e->names[i], len);
        e->names[i][len] = '\0';
        if (strlen(e->names[i]) != len) return 0;
    }
    if ((uint64_t)(r.end - r.p) != objsize) return 0;
    if (!(e->obj = malloc(objsize))) return 0;
    rd(&r, e->obj, objsize);
    e->objsize = objsize;
    return 1;
}

/* Read the whole file at path into a new buffer; -1 when there is none (or it cannot be
 * read), READ_NOT_REGULAR when something else than a regular file is there (a FIFO, a
 * directory, a device, a socket, a symlink), 0 when it is unreasonably large (damage), 1
 * with *data and *size.  Opening never blocks: O_NONBLOCK so that a FIFO without a writer
 * opens at once (a blocking open waits for one forever), O_NOFOLLOW so that a link is
 * refused rather than followed; the type is then checked on the opened descriptor, so
 * nothing can be swapped in between. */
#define READ_NOT_REGULAR (-2)
static int read_file(const char *path, uint64_t max, uint8_t **data, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY);
    if (fd < 0) return errno == ELOOP || errno == ENXIO ? READ_NOT_REGULAR : -1;
    struct stat st;
    int rc = -1;
    if (fstat(fd, &st) != 0) {
        rc = -1;
    } else if (!S_ISREG(st.st_mode)) {
        rc = READ_NOT_REGULAR;
    } else {
        rc = 0;
        if ((uint64_t)st.st_size <= max && st.st_size > 0) {
            uint8_t *buf = malloc((size_t)st.st_size);
            size_t got = 0;
            ssize_t k = 1;
            while (buf && got < (size_t)st.st_size && k > 0) {
                k = read(fd, buf + got, (size_t)st.st_size - got);
                if (k > 0) got += (size_t)k;
                else if (k < 0 && errno == EINTR) k = 1;
            }
            if (buf && got == (size_t)st.st_size) {
                *data = buf;
                *size = got;
                rc = 1;
                futimens(fd, NULL);   /* a hit is recent use: evicted last */
            } else if (!buf) {
                rc = -1;              /* out of memory is no damage */
            } else {
                free(buf);
            }
        }
    }
    close(fd);
    return rc;
}

int cache_load(jit_cache *c, const uint8_t key[CACHE_KEY_LEN], size_t n, jit_cache_entry *out)
{
    memset(out, 0, sizeof *out);
    if (!c) return 0;
    char path[4096];
    entry_path(c, key, path, sizeof path);
    uint8_t *data = NULL;
    size_t size = 0;
    int rc = read_file(path, MAX_ENTRY, &data, &size);
    if (rc > 0 && parse_entry(data, size, key, n, out)) {
        free(data);
        count(&c->counters->hits);
        return 1;
    }
    free(data);
    cache_entry_free(out);
    if (rc >= 0) {
        count(&c->counters->corrupt);
        unlink(path);
    } else if (rc == READ_NOT_REGULAR) {
        count(&c->counters->corrupt);   /* rejected, but not ours to delete */
    }
    count(&c->counters->misses);
    return 0;
}

/* Whether path names a regular file itself (not a link to one): the only kind of thing the
 * cache deletes or replaces. */
static int is_regular(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

void cache_reject(jit_cache *c, const uint8_t key[CACHE_KEY_LEN])
{
    if (!c) return;
    char path[4096];
    entry_path(c, key, path, sizeof path);
    if (is_regular(path)) unlink(path);
    count(&c->counters->corrupt);
}

typedef struct file_info {
    char *name;
    off_t size;
    struct timespec mtime;
} file_info;

static int older_first(const void *a, const void *b)
{
    const file_info *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec) return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec) return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Keep the directory's entries (and temporary files) within max_bytes, oldest mtime first;
 * temporary files a crashed writer left behind go whatever the size. */
static void evict(jit_cache *c)
{
    DIR *d = opendir(c->dir);
    if (!d) return;
    int dfd = dirfd(d);
    file_info *files = NULL;
    size_t nfiles = 0, cap = 0;
    uint64_t total = 0;
    time_t now = time(NULL);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        int is_entry = len > strlen(ENTRY_SUFFIX) && strcmp(de->d_name + len - strlen(ENTRY_SUFFIX), ENTRY_SUFFIX) == 0;
        int is_tmp = strstr(de->d_name, ENTRY_SUFFIX ".tmp") != NULL;
        if (!is_entry && !is_tmp) continue;
        struct stat st;
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
        if (is_tmp && now - st.st_mtim.tv_sec > STALE_TMP_SECONDS) {
            unlinkat(dfd, de->d_name, 0);
            continue;
        }
        if (nfiles == cap) {
            size_t ncap = cap ? 2 * cap : 64;
            file_info *f = realloc(files, ncap * sizeof *f);
            if (!f) break;
            files = f;
            cap = ncap;
        }
        if (!(files[nfiles].name = strdup(de->d_name))) break;
        files[nfiles].size = st.st_size;
        files[nfiles].mtime = st.st_mtim;
        total += (uint64_t)st.st_size;
        nfiles++;
    }
    if (total > c->max_bytes) {
        qsort(files, nfiles, sizeof *files, older_first);
        for (size_t i = 0; i < nfiles && total > c->max_bytes; i++) {
            if (unlinkat(dfd, files[i].name, 0) == 0) count(&c->counters->evicted);
            total -= (uint64_t)files[i].size;
        }
    }
    for (size_t i = 0; i < nfiles; i++) free(files[i].name);
    free(files);
    closedir(d);
}

static int write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t k = write(fd, b, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return 0;
        b += k;
        n -= (size_t)k;
    }
    return 1;
}

void cache_store(jit_cache *c, const uint8_t key[CACHE_KEY_LEN], const jit_cache_entry *e)
{
    if (!c || c->read_only) return;
    /* the entry in memory first: one write, and the checksum over exactly what is written */
    size_t size = sizeof entry_magic + 2 * sizeof(uint32_t) + CACHE_KEY_LEN + sizeof(uint64_t);
    for (size_t i = 0; i < e->n; i++) size += 4 * sizeof(uint32_t) + strlen(e->names[i]);
    size += e->objsize + CACHE_KEY_LEN;
    if (size > c->max_bytes) return;   /* it would evict everything, itself included */
    uint8_t *buf = malloc(size), *p = buf;
    if (!buf) return;
#define PUT(src, len) (memcpy(p, (src), (len)), p += (len))
    uint32_t format = CACHE_FORMAT, n = (uint32_t)e->n;
    uint64_t objsize = e->objsize;
    PUT(entry_magic, sizeof entry_magic);
    PUT(&format, sizeof format);
    PUT(&n, sizeof n);
    PUT(key, CACHE_KEY_LEN);
    PUT(&objsize, sizeof objsize);
    for (size_t i = 0; i < e->n; i++) {
        uint32_t len = (uint32_t)strlen(e->names[i]);
        PUT(&e->entries[i], sizeof(uint32_t));
        PUT(&e->helper_ops[i], sizeof(uint32_t));
        PUT(&e->inlined[i], sizeof(uint32_t));
        PUT(&len, sizeof len);
        PUT(e->names[i], len);
    }
    PUT(e->obj, e->objsize);
#undef PUT
    llvm_blake3_hasher h;
    llvm_blake3_hasher_init(&h);
    llvm_blake3_hasher_update(&h, buf, (size_t)(p - buf));
    llvm_blake3_hasher_finalize(&h, p, CACHE_KEY_LEN);

    /* a private temporary name in the same directory, then rename: readers (other processes
     * too) see the whole entry or none */
    static _Atomic unsigned serial;
    char path[4096], tmp[4200];
    entry_path(c, key, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp%ld-%u", path, (long)getpid(), atomic_fetch_add(&serial, 1u));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
    int ok = fd >= 0;
    if (!ok && (errno == EACCES || errno == EROFS || errno == EPERM || errno == ENOSPC || errno == EDQUOT))
        c->read_only = 1;
    if (ok) {
        ok = write_all(fd, buf, size);
        if (!ok && (errno == ENOSPC || errno == EDQUOT)) c->read_only = 1;
        if (close(fd) != 0) ok = 0;
        /* rename replaces whatever is at path: only an entry (or nothing) may be replaced */
        struct stat st;
        if (ok && lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) ok = 0;
        if (ok && rename(tmp, path) != 0) ok = 0;
        if (!ok) unlink(tmp);
    }
    free(buf);
    if (!ok) return;
    count(&c->counters->writes);
    evict(c);
}
