/* stdlib_sys.c — the builtins with effects outside the heap: time, timestamp, sleep, random,
 * random_seed, JSON (json-c), files, hash (OpenSSL's libcrypto), to_hex/from_hex, is_main. */
#include "stdlib_sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#define JSON_MAX_DEPTH 1000      /* nesting of lists and maps, both ways (also ends a cycle) */
#define PATH_QUOTE_MAX 120       /* bytes of a path quoted in a message */

bool zx_sys_builtin(int id)
{
    switch (id) {
    case ZX_BI_time: case ZX_BI_timestamp: case ZX_BI_sleep: case ZX_BI_random: case ZX_BI_random_seed:
    case ZX_BI_json_parse: case ZX_BI_json_stringify: case ZX_BI_file_read_text: case ZX_BI_read_file:
    case ZX_BI_file_write_text: case ZX_BI_file_append: case ZX_BI_file_exists: case ZX_BI_file_read_json:
    case ZX_BI_file_write_json: case ZX_BI_file_list_dir: case ZX_BI_hash: case ZX_BI_to_hex:
    case ZX_BI_from_hex: case ZX_BI_is_main:
        return true;
    default:
        return false;
    }
}

/* ---------- results ---------- */

#define ok() zx_callres_ok()                 /* the helpers of runtime/builtins.h */
#define fail(...) zx_callres_err(__VA_ARGS__)

static zx_callres type_error(const char *fn, zx_value v) { return fail(ZX_ERR_BUILTIN_TYPE, fn, zx_type_name(v)); }

static zx_callres string_result(zx_heap *h, const char *bytes, size_t n, zx_value *out)
{
    zx_string *s = zx_string_new(h, bytes, n);
    if (!s) return fail(ZX_ERR_MEMORY);
    *out = zx_objval(s);
    return ok();
}

/* At most `max` bytes of a string for a message, cut at a code point boundary. */
static int quote_len(const char *p, size_t n, int max, const char **cut)
{
    *cut = n > (size_t)max ? "..." : "";
    if (n <= (size_t)max) return (int)n;
    int k = max;
    while (k > 0 && ((unsigned char)p[k] & 0xC0) == 0x80) k--;
    return k;
}

static zx_callres file_error(const char *fn, const char *verb, const zx_string *path, int err)
{
    const char *cut;
    int n = quote_len(path->data, path->nbytes, PATH_QUOTE_MAX, &cut);
    return fail(ZX_ERR_FILE_IO, fn, verb, n, path->data, cut, strerror(err));
}

/* ---------- the clock and sleeping ---------- */

static double now_seconds(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static zx_callres do_sleep(const zx_sys_ctx *c, zx_value v)
{
    double secs;
    if (v.tag == ZX_T_INT) secs = (double)v.u.i;
    else if (v.tag == ZX_T_FLOAT) secs = v.u.f;
    else return type_error("sleep", v);
    if (!(secs >= 0)) {      /* negative or nan */
        zx_buf b;
        zx_buf_init(&b);
        if (v.tag == ZX_T_INT) zx_buf_printf(&b, "%lld", (long long)v.u.i);
        else zx_format_float(&b, v.u.f);
        zx_callres r = fail(ZX_ERR_INVALID_NUMBER, "sleep", b.data ? b.data : "?");
        zx_buf_free(&b);
        return r;
    }
    /* in slices of at most 10 ms, polling the interrupt and cancellation in between */
    double end = now_seconds(CLOCK_MONOTONIC) + secs;
    for (;;) {
        if (c->should_stop && c->should_stop(c->stop_arg)) return fail(ZX_ERR_INTERRUPTED);
        double left = end - now_seconds(CLOCK_MONOTONIC);
        if (left <= 0) break;
        if (left > 0.01) left = 0.01;
        struct timespec ts = { 0, (long)(left * 1e9) };
        nanosleep(&ts, NULL);     /* EINTR: poll again */
    }
    return ok();
}

/* ---------- the random generator: xoshiro256** (Blackman and Vigna), seeded by splitmix64 ---------- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void rng_seed(zx_sys_state *s, uint64_t seed)
{
    for (int i = 0; i < 4; i++) s->rng[i] = splitmix64(&seed);
    s->seeded = true;
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* The next 64 random bits; seeds from the clock on first use.  Called with the lock held. */
static uint64_t rng_next(zx_sys_state *s)
{
    if (!s->seeded) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        rng_seed(s, ((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec) ^ ((uint64_t)getpid() << 32));
    }
    uint64_t *r = s->rng;
    uint64_t result = rotl(r[1] * 5, 7) * 9, t = r[1] << 17;
    r[2] ^= r[0];
    r[3] ^= r[1];
    r[1] ^= r[2];
    r[0] ^= r[3];
    r[2] ^= t;
    r[3] = rotl(r[3], 45);
    return result;
}

static void rng_lock(zx_sys_state *s)
{
    while (atomic_flag_test_and_set_explicit(&s->lock, memory_order_acquire)) { }
}

static void rng_unlock(zx_sys_state *s) { atomic_flag_clear_explicit(&s->lock, memory_order_release); }

/* random(): a float in [0, 1); random(n): an int in [0, n) (n >= 1); random(x): a float in
 * [0, x) for a float x — the reference's forms (Python random.random and randint(0, n - 1)). */
static zx_callres do_random(const zx_sys_ctx *c, const zx_value *argv, int argc, zx_value *out)
{
    if (argc == 1 && argv[0].tag != ZX_T_INT && argv[0].tag != ZX_T_FLOAT) return type_error("random", argv[0]);
    if (argc == 1 && argv[0].tag == ZX_T_INT && argv[0].u.i <= 0) {
        char num[32];
        snprintf(num, sizeof num, "%lld", (long long)argv[0].u.i);
        return fail(ZX_ERR_INVALID_NUMBER, "random", num);
    }
    zx_sys_state *s = c->state;
    rng_lock(s);
    if (argc == 1 && argv[0].tag == ZX_T_INT) {
        /* unbiased: Lemire's multiply-and-reject */
        uint64_t n = (uint64_t)argv[0].u.i, x = rng_next(s);
        __uint128_t m = (__uint128_t)x * n;
        uint64_t low = (uint64_t)m;
        if (low < n) {
            uint64_t threshold = (0 - n) % n;
            while (low < threshold) {
                x = rng_next(s);
                m = (__uint128_t)x * n;
                low = (uint64_t)m;
            }
        }
        *out = zx_int((int64_t)(m >> 64));
    } else {
        double f = (double)(rng_next(s) >> 11) * 0x1.0p-53;
        *out = zx_float(argc == 1 ? f * argv[0].u.f : f);
    }
    rng_unlock(s);
    return ok();
}

static zx_callres do_random_seed(const zx_sys_ctx *c, zx_value v, zx_value *out)
{
    if (v.tag != ZX_T_INT) return type_error("random_seed", v);
    rng_lock(c->state);
    rng_seed(c->state, (uint64_t)v.u.i);
    rng_unlock(c->state);
    *out = zx_null();
    return ok();
}

/* ---------- JSON: values to json-c objects and back ---------- */

/* json-c's object for v, or NULL with *err set (NULL is also JSON null: *err tells). */
static json_object *to_json(zx_value v, int depth, const char *fn, zx_callres *err)
{
    switch (v.tag) {
    case ZX_T_NULL: return NULL;
    case ZX_T_BOOL: return json_object_new_boolean(v.u.b);
    case ZX_T_INT: return json_object_new_int64(v.u.i);
    case ZX_T_FLOAT: {
        if (!isfinite(v.u.f)) {
            *err = fail(ZX_ERR_JSON_VALUE, fn, isnan(v.u.f) ? "nan" : v.u.f > 0 ? "inf" : "-inf");
            return NULL;
        }
        zx_buf b;              /* the text print gives it (json-c would print 17 digits) */
        zx_buf_init(&b);
        zx_format_float(&b, v.u.f);
        zx_buf_put(&b, "", 1);
        json_object *o = b.data ? json_object_new_double_s(v.u.f, b.data) : NULL;
        zx_buf_free(&b);
        if (!o) *err = fail(ZX_ERR_MEMORY);
        return o;
    }
    case ZX_T_OBJ: break;
    default:
        *err = type_error(fn, v);
        return NULL;
    }
    if (depth >= JSON_MAX_DEPTH) {
        *err = fail(ZX_ERR_JSON_VALUE, fn, "lists or maps nested deeper than 1000 (or containing themselves)");
        return NULL;
    }
    if (zx_is_type(v, ZX_O_STRING)) {
        json_object *o = json_object_new_string_len(ZX_AS_STRING(v)->data, (int)ZX_AS_STRING(v)->nbytes);
        if (!o) *err = fail(ZX_ERR_MEMORY);
        return o;
    }
    if (zx_is_type(v, ZX_O_LIST)) {
        zx_list *l = ZX_AS_LIST(v);
        json_object *a = json_object_new_array_ext((int)l->len);
        if (!a) {
            *err = fail(ZX_ERR_MEMORY);
            return NULL;
        }
        for (uint32_t i = 0; i < l->len; i++) {
            err->ok = true;
            json_object *e = to_json(zx_list_get(l, i), depth + 1, fn, err);
            if ((!e && !err->ok) || json_object_array_add(a, e) != 0) {
                if (err->ok) *err = fail(ZX_ERR_MEMORY);
                json_object_put(e);
                json_object_put(a);
                return NULL;
            }
        }
        return a;
    }
    if (zx_is_type(v, ZX_O_MAP)) {
        zx_map *m = ZX_AS_MAP(v);
        json_object *o = json_object_new_object();
        if (!o) {
            *err = fail(ZX_ERR_MEMORY);
            return NULL;
        }
        for (uint32_t i = 0; i < m->len; i++) {
            zx_value k = m->entries[i].key;
            /* a key that is not a string becomes the text print gives it, as Python's json */
            zx_buf kb;
            zx_buf_init(&kb);
            if (zx_is_type(k, ZX_O_STRING)) zx_buf_put(&kb, ZX_AS_STRING(k)->data, ZX_AS_STRING(k)->nbytes);
            else zx_format_value(&kb, k);
            zx_buf_put(&kb, "", 1);
            err->ok = true;
            json_object *e = to_json(m->entries[i].value, depth + 1, fn, err);
            bool bad = (!e && !err->ok) || !kb.data || kb.truncated || json_object_object_add(o, kb.data, e) != 0;
            zx_buf_free(&kb);
            if (bad) {
                if (err->ok) *err = fail(ZX_ERR_MEMORY);
                json_object_put(o);
                return NULL;
            }
        }
        return o;
    }
    *err = fail(ZX_ERR_JSON_VALUE, fn, zx_type_name(v));
    return NULL;
}

/* v as JSON text in *b (NUL-terminated): compact, or with two-space indentation. */
static zx_callres json_text(zx_value v, bool pretty, const char *fn, zx_buf *b)
{
    zx_callres err = ok();
    json_object *o = to_json(v, 0, fn, &err);
    if (!err.ok) return err;
    int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
                (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN);
    size_t n = 0;
    const char *s = json_object_to_json_string_length(o, flags, &n);
    if (!s) {
        json_object_put(o);
        return fail(ZX_ERR_MEMORY);
    }
    zx_buf_put(b, s, n);
    zx_buf_put(b, "", 1);
    json_object_put(o);
    return b->truncated ? fail(ZX_ERR_MEMORY) : ok();
}

/* The Zexus value of a parsed json-c object (NULL is JSON null); insertion order kept. */
static zx_callres from_json(zx_heap *h, json_object *o, const char *fn, zx_value *out)
{
    switch (json_object_get_type(o)) {
    case json_type_null: *out = zx_null(); return ok();
    case json_type_boolean: *out = zx_bool(json_object_get_boolean(o)); return ok();
    case json_type_int: {
        int64_t i = json_object_get_int64(o);
        if (i == INT64_MAX && json_object_get_uint64(o) > (uint64_t)INT64_MAX) return fail(ZX_ERR_INT_OVERFLOW);
        *out = zx_int(i);
        return ok();
    }
    case json_type_double: *out = zx_float(json_object_get_double(o)); return ok();
    case json_type_string:
        return string_result(h, json_object_get_string(o), (size_t)json_object_get_string_len(o), out);
    case json_type_array: {
        size_t n = json_object_array_length(o);
        if (n > UINT32_MAX) return fail(ZX_ERR_MEMORY);
        zx_list *l = zx_list_new(h, (uint32_t)n);
        if (!l) return fail(ZX_ERR_MEMORY);
        for (size_t i = 0; i < n; i++) {
            zx_callres r = from_json(h, json_object_array_get_idx(o, i), fn, &l->items[i]);
            if (!r.ok) {
                l->len = (uint32_t)i;
                zx_obj_decref(l);
                return r;
            }
        }
        l->len = (uint32_t)n;
        zx_list_narrow(l);
        *out = zx_objval(l);
        return ok();
    }
    case json_type_object: {
        zx_map *m = zx_map_new(h, (uint32_t)json_object_object_length(o));
        if (!m) return fail(ZX_ERR_MEMORY);
        json_object_object_foreach(o, key, val) {
            zx_value v;
            zx_callres r = from_json(h, val, fn, &v);
            if (!r.ok) {
                zx_obj_decref(m);
                return r;
            }
            zx_string *k = zx_string_new(h, key, strlen(key));
            bool good = k && zx_map_set(h, m, zx_objval(k), v);
            if (k) zx_obj_decref(k);
            zx_decref(v);
            if (!good) {
                zx_obj_decref(m);
                return fail(ZX_ERR_MEMORY);
            }
        }
        *out = zx_objval(m);
        return ok();
    }
    }
    return fail(ZX_ERR_JSON_VALUE, fn, "an unknown json-c type");
}

/* Parse text[0..n) (text[n] is NUL) as one JSON value. */
static zx_callres json_parse_text(zx_heap *h, const char *text, size_t n, const char *fn, zx_value *out)
{
    if (n >= (size_t)INT32_MAX) return fail(ZX_ERR_MEMORY);
    json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
    if (!tok) return fail(ZX_ERR_MEMORY);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    /* the terminating NUL included: it ends a number at the end of the text */
    json_object *o = json_tokener_parse_ex(tok, text, (int)n + 1);
    enum json_tokener_error e = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    zx_callres r;
    if (e == json_tokener_success && end < n) {
        /* a NUL inside the text stopped the parser */
        json_object_put(o);
        e = json_tokener_error_parse_unexpected;
    }
    if (e != json_tokener_success) {
        if (end > n) end = n;
        int line = 1, col = 1;
        for (size_t i = 0; i < end; i++) {
            if (text[i] == '\n') {
                line++;
                col = 1;
            } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
                col++;
            }
        }
        const char *why = e == json_tokener_continue || e == json_tokener_error_parse_eof
                              ? "unexpected end of input" : json_tokener_error_desc(e);
        return fail(ZX_ERR_JSON_PARSE, fn, line, col, why);
    }
    r = from_json(h, o, fn, out);
    json_object_put(o);
    return r;
}

/* ---------- files ---------- */

/* The path argument: a string without NUL bytes (paths are relative to the current directory). */
static zx_callres path_arg(const char *fn, zx_value v, const zx_string **out)
{
    if (!zx_is_type(v, ZX_O_STRING)) return type_error(fn, v);
    const zx_string *s = ZX_AS_STRING(v);
    if (memchr(s->data, '\0', s->nbytes)) return file_error(fn, "open", s, EINVAL);
    *out = s;
    return ok();
}

/* The whole file at path into *b (NUL-terminated). */
static zx_callres read_all(const char *fn, const zx_string *path, zx_buf *b)
{
    int fd = open(path->data, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return file_error(fn, "read", path, errno);
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return file_error(fn, "read", path, EISDIR);
    }
    char chunk[65536];
    for (;;) {
        ssize_t k = read(fd, chunk, sizeof chunk);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            int err = errno;
            close(fd);
            return file_error(fn, "read", path, err);
        }
        if (k == 0) break;
        zx_buf_put(b, chunk, (size_t)k);
        if (b->truncated || b->len >= UINT32_MAX) {
            close(fd);
            return fail(ZX_ERR_MEMORY);
        }
    }
    close(fd);
    zx_buf_put(b, "", 1);
    if (b->truncated) return fail(ZX_ERR_MEMORY);
    b->len--;
    return ok();
}

static zx_callres read_text(zx_heap *h, const char *fn, zx_value p, bool json, zx_value *out)
{
    const zx_string *path;
    zx_callres r = path_arg(fn, p, &path);
    if (!r.ok) return r;
    zx_buf b;
    zx_buf_init(&b);
    r = read_all(fn, path, &b);
    const char *data = b.data ? b.data : "";
    if (r.ok && !json && !zx_utf8_valid(data, b.len)) {
        const char *cut;
        int n = quote_len(path->data, path->nbytes, PATH_QUOTE_MAX, &cut);
        r = fail(ZX_ERR_FILE_UTF8, fn, n, path->data, cut);
    }
    if (r.ok) r = json ? json_parse_text(h, data, b.len, fn, out) : string_result(h, data, b.len, out);
    zx_buf_free(&b);
    return r;
}

static zx_callres write_bytes(const char *fn, const zx_string *path, const char *data, size_t n, bool append)
{
    int fd = open(path->data, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0666);
    if (fd < 0) return file_error(fn, "write", path, errno);
    while (n > 0) {
        ssize_t k = write(fd, data, n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            int err = errno;
            close(fd);
            return file_error(fn, "write", path, err);
        }
        data += k;
        n -= (size_t)k;
    }
    if (close(fd) != 0 && errno != EINTR) return file_error(fn, "write", path, errno);
    return ok();
}

/* file_write_text(path, text), file_append(path, text) (which adds a newline, as the
 * reference), file_write_json(path, value): true on success. */
static zx_callres write_file(const char *fn, int id, const zx_value *argv, zx_value *out)
{
    const zx_string *path;
    zx_callres r = path_arg(fn, argv[0], &path);
    if (!r.ok) return r;
    zx_buf b;
    zx_buf_init(&b);
    if (id == ZX_BI_file_write_json) {
        r = json_text(argv[1], true, fn, &b);
        if (r.ok) r = write_bytes(fn, path, b.data, b.len - 1, false);
    } else if (!zx_is_type(argv[1], ZX_O_STRING)) {
        r = type_error(fn, argv[1]);
    } else {
        const zx_string *s = ZX_AS_STRING(argv[1]);
        if (id == ZX_BI_file_append) {
            zx_buf_put(&b, s->data, s->nbytes);
            zx_buf_put(&b, "\n", 1);
            r = b.truncated ? fail(ZX_ERR_MEMORY) : write_bytes(fn, path, b.data, b.len, true);
        } else {
            r = write_bytes(fn, path, s->data, s->nbytes, false);
        }
    }
    zx_buf_free(&b);
    if (r.ok) *out = zx_bool(true);
    return r;
}

static int name_cmp(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

/* The names in a directory but . and .., sorted by their bytes. */
static zx_callres list_dir(zx_heap *h, zx_value p, zx_value *out)
{
    const char *fn = "file_list_dir";
    const zx_string *path;
    zx_callres r = path_arg(fn, p, &path);
    if (!r.ok) return r;
    DIR *d = opendir(path->data);
    if (!d) return file_error(fn, "list", path, errno);
    char **names = NULL;
    size_t n = 0, cap = 0;
    r = ok();
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) {
                r = fail(ZX_ERR_MEMORY);
                break;
            }
            names = nn;
        }
        if (!(names[n] = strdup(e->d_name))) {
            r = fail(ZX_ERR_MEMORY);
            break;
        }
        n++;
    }
    if (r.ok && errno) r = file_error(fn, "list", path, errno);
    closedir(d);
    zx_list *l = NULL;
    if (r.ok && n < UINT32_MAX) {
        qsort(names, n, sizeof *names, name_cmp);
        l = zx_list_new(h, (uint32_t)n);
        if (!l) r = fail(ZX_ERR_MEMORY);
    }
    for (size_t i = 0; i < n; i++) {
        if (l && r.ok) {
            zx_string *s = zx_string_new(h, names[i], strlen(names[i]));
            if (s) l->items[l->len++] = zx_objval(s);
            else r = fail(ZX_ERR_MEMORY);
        }
        free(names[i]);
    }
    free(names);
    if (!r.ok) {
        if (l) zx_obj_decref(l);
        return r;
    }
    *out = zx_objval(l);
    return ok();
}

/* ---------- hashes and hex ---------- */

/* hash(data, algorithm = "SHA256"): the lowercase hex digest of the UTF-8 of data (a string),
 * or of the text print gives any other value. */
static zx_callres do_hash(zx_heap *h, const zx_value *argv, int argc, zx_value *out)
{
    static const struct { const char *name; const EVP_MD *(*md)(void); } algos[] = {
        { "SHA256", EVP_sha256 }, { "SHA512", EVP_sha512 }, { "SHA3-256", EVP_sha3_256 },
        { "SHA3-512", EVP_sha3_512 }, { "BLAKE2B", EVP_blake2b512 }, { "BLAKE2S", EVP_blake2s256 },
    };
    const EVP_MD *md = EVP_sha256();
    if (argc == 2) {
        if (!zx_is_type(argv[1], ZX_O_STRING)) return type_error("hash", argv[1]);
        const zx_string *a = ZX_AS_STRING(argv[1]);
        md = NULL;
        for (size_t i = 0; i < sizeof algos / sizeof algos[0] && !md; i++)
            if (strlen(algos[i].name) == a->nbytes && strncasecmp(algos[i].name, a->data, a->nbytes) == 0)
                md = algos[i].md();
        if (!md) {
            const char *cut;
            return fail(ZX_ERR_HASH_ALGO, quote_len(a->data, a->nbytes, 40, &cut), a->data);
        }
    }
    zx_buf b;
    zx_buf_init(&b);
    const char *data;
    size_t n;
    if (zx_is_type(argv[0], ZX_O_STRING)) {
        data = ZX_AS_STRING(argv[0])->data;
        n = ZX_AS_STRING(argv[0])->nbytes;
    } else {
        zx_format_value(&b, argv[0]);
        data = b.data ? b.data : "";
        n = b.len;
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dn = 0;
    bool good = !b.truncated && EVP_Digest(data, n, digest, &dn, md, NULL) == 1;
    zx_buf_free(&b);
    if (!good) return fail(ZX_ERR_MEMORY);
    char hex[2 * EVP_MAX_MD_SIZE];
    for (unsigned i = 0; i < dn; i++) {
        hex[2 * i] = "0123456789abcdef"[digest[i] >> 4];
        hex[2 * i + 1] = "0123456789abcdef"[digest[i] & 15];
    }
    return string_result(h, hex, 2 * (size_t)dn, out);
}

/* to_hex(n): Python's hex(): "0xff", "-0x1". */
static zx_callres do_to_hex(zx_heap *h, zx_value v, zx_value *out)
{
    if (v.tag != ZX_T_INT) return type_error("to_hex", v);
    uint64_t m = v.u.i < 0 ? (uint64_t)0 - (uint64_t)v.u.i : (uint64_t)v.u.i;
    char text[24];
    int n = snprintf(text, sizeof text, "%s0x%llx", v.u.i < 0 ? "-" : "", (unsigned long long)m);
    return string_result(h, text, (size_t)n, out);
}

/* from_hex(s): Python's int(s, 16): blanks around, a sign, an optional 0x, hex digits with
 * single underscores between them. */
static zx_callres do_from_hex(zx_value v, zx_value *out)
{
    if (!zx_is_type(v, ZX_O_STRING)) return type_error("from_hex", v);
    const zx_string *s = ZX_AS_STRING(v);
    const char *p = s->data, *end = s->data + s->nbytes;
    while (p < end && (*p == ' ' || (*p >= '\t' && *p <= '\r'))) p++;
    while (end > p && (end[-1] == ' ' || (end[-1] >= '\t' && end[-1] <= '\r'))) end--;
    bool neg = false;
    if (p < end && (*p == '+' || *p == '-')) neg = *p++ == '-';
    if (end - p >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        p += 2;
        if (p < end && *p == '_') p++;
    }
    uint64_t acc = 0;
    bool any = false, prev_us = false;
    for (; p < end; p++) {
        int d;
        if (*p == '_' && any && !prev_us) {
            prev_us = true;
            continue;
        }
        if (*p >= '0' && *p <= '9') d = *p - '0';
        else if (*p >= 'a' && *p <= 'f') d = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F') d = *p - 'A' + 10;
        else break;
        if (acc > (UINT64_MAX >> 4)) return fail(ZX_ERR_INT_OVERFLOW);
        acc = acc << 4 | (uint64_t)d;
        any = true;
        prev_us = false;
    }
    if (!any || prev_us || p != end) {
        const char *cut;
        int n = quote_len(s->data, s->nbytes, 96, &cut);
        return fail(ZX_ERR_INVALID_STRING, "from_hex", n, s->data, cut);
    }
    if (neg ? acc > (uint64_t)INT64_MAX + 1 : acc > (uint64_t)INT64_MAX) return fail(ZX_ERR_INT_OVERFLOW);
    *out = zx_int(neg ? (int64_t)((uint64_t)0 - acc) : (int64_t)acc);
    return ok();
}

/* ---------- the entry ---------- */

zx_callres zx_sys_call(const zx_sys_ctx *c, int id, const zx_value *argv, int argc, zx_value *out)
{
    zx_heap *h = c->heap;
    switch (id) {
    case ZX_BI_time:
        *out = zx_int((int64_t)(now_seconds(CLOCK_REALTIME) * 1000.0));
        return ok();
    case ZX_BI_timestamp: {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        *out = zx_int((int64_t)ts.tv_sec);
        return ok();
    }
    case ZX_BI_sleep: {
        zx_callres r = do_sleep(c, argv[0]);
        if (r.ok) *out = zx_null();
        return r;
    }
    case ZX_BI_random: return do_random(c, argv, argc, out);
    case ZX_BI_random_seed: return do_random_seed(c, argv[0], out);
    case ZX_BI_json_parse:
        if (!zx_is_type(argv[0], ZX_O_STRING)) return type_error("json_parse", argv[0]);
        return json_parse_text(h, ZX_AS_STRING(argv[0])->data, ZX_AS_STRING(argv[0])->nbytes, "json_parse", out);
    case ZX_BI_json_stringify: {
        zx_buf b;
        zx_buf_init(&b);
        zx_callres r = json_text(argv[0], argc == 2 && zx_truthy(argv[1]), "json_stringify", &b);
        if (r.ok) r = string_result(h, b.data, b.len - 1, out);
        zx_buf_free(&b);
        return r;
    }
    case ZX_BI_file_read_text: return read_text(h, "file_read_text", argv[0], false, out);
    case ZX_BI_read_file: return read_text(h, "read_file", argv[0], false, out);
    case ZX_BI_file_read_json: return read_text(h, "file_read_json", argv[0], true, out);
    case ZX_BI_file_write_text: return write_file("file_write_text", id, argv, out);
    case ZX_BI_file_append: return write_file("file_append", id, argv, out);
    case ZX_BI_file_write_json: return write_file("file_write_json", id, argv, out);
    case ZX_BI_file_exists: {
        const zx_string *path;
        zx_callres r = path_arg("file_exists", argv[0], &path);
        if (!r.ok) return r;
        struct stat st;
        *out = zx_bool(stat(path->data, &st) == 0);
        return ok();
    }
    case ZX_BI_file_list_dir: return list_dir(h, argv[0], out);
    case ZX_BI_hash: return do_hash(h, argv, argc, out);
    case ZX_BI_to_hex: return do_to_hex(h, argv[0], out);
    case ZX_BI_from_hex: return do_from_hex(argv[0], out);
    case ZX_BI_is_main:
        *out = zx_bool(true);     /* the program being run (there is no `use` yet) */
        return ok();
    default:
        return fail(ZX_ERR_UNKNOWN_BUILTIN, id);
    }
}
