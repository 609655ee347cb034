/* modules.c — where `use "path"` finds its file: relative to the importing file, then ZEXUS_PATH. */
#include "front/modules.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The reference's built-in modules that map onto our standard library (the others, e.g.
 * "zexus-network" or "stdlib/http", are left out: docs/language.md). */
static const char *const builtin_modules[] = {
    "math", "crypto", "json", "string", "time", "datetime", "random", "fs", "os", "sys",
    "stdlib/math", "stdlib/crypto", "stdlib/json", "stdlib/string", "stdlib/time",
    "stdlib/datetime", "stdlib/random", "stdlib/fs", "stdlib/os", "stdlib/sys",
    "zexus-math", "math/core",
};

bool zx_module_builtin(const char *spec)
{
    for (size_t i = 0; i < sizeof builtin_modules / sizeof builtin_modules[0]; i++)
        if (strcmp(spec, builtin_modules[i]) == 0) return true;
    return false;
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* dir + "/" + spec with "." components dropped and "x/.." pairs folded (a leading ".." stays). */
static char *join_normal(const char *dir, size_t dirlen, const char *spec, const char *ext)
{
    size_t n = dirlen + strlen(spec) + strlen(ext) + 3;
    char *in = malloc(n), *out = malloc(n);
    if (!in || !out) {
        free(in);
        free(out);
        return NULL;
    }
    if (dirlen) snprintf(in, n, "%.*s/%s%s", (int)dirlen, dir, spec, ext);
    else snprintf(in, n, "%s%s", spec, ext);
    bool abs = in[0] == '/';
    size_t o = 0, kept = 0;   /* kept: components in out that a ".." may fold */
    if (abs) out[o++] = '/';
    for (char *save = NULL, *c = strtok_r(in, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, ".") == 0) continue;
        if (strcmp(c, "..") == 0 && kept > 0) {
            while (o > 0 && out[o - 1] != '/') o--;   /* drop the last component */
            if (o > (abs ? 1u : 0u)) o--;             /* and its slash */
            else o = abs ? 1 : 0;
            kept--;
            continue;
        }
        if (o > 0 && out[o - 1] != '/') out[o++] = '/';
        size_t cl = strlen(c);
        memcpy(out + o, c, cl);
        o += cl;
        if (strcmp(c, "..") != 0) kept++;
    }
    out[o] = '\0';
    free(in);
    if (o == 0) {
        free(out);
        return strdup(".");
    }
    return out;
}

static char *try_in(const char *dir, size_t dirlen, const char *spec)
{
    static const char *const exts[] = { "", ".zx" };
    size_t sl = strlen(spec);
    for (int e = 0; e < 2; e++) {
        if (e == 1 && sl >= 3 && strcmp(spec + sl - 3, ".zx") == 0) break;
        char *path = join_normal(dir, dirlen, spec, exts[e]);
        if (!path) return NULL;
        if (is_file(path)) return path;
        free(path);
    }
    return NULL;
}

char *zx_module_resolve(const char *from, const char *spec)
{
    if (spec[0] == '/') return is_file(spec) ? join_normal("", 0, spec, "") : NULL;
    const char *slash = from ? strrchr(from, '/') : NULL;
    size_t dirlen = slash ? (size_t)(slash - from) + (slash == from) : 0;
    char *path = try_in(from ? from : "", dirlen, spec);
    if (path) return path;
    if (strncmp(spec, "./", 2) == 0 || strncmp(spec, "../", 3) == 0) return NULL;
    const char *zp = getenv("ZEXUS_PATH");
    while (zp && *zp) {
        const char *end = strchr(zp, ':');
        size_t len = end ? (size_t)(end - zp) : strlen(zp);
        if (len && (path = try_in(zp, len, spec))) return path;
        zp = end ? end + 1 : NULL;
    }
    return NULL;
}

char *zx_module_key(const char *path) { return realpath(path, NULL); }

bool zx_module_read(const char *path, char **data, size_t *len, char *err, size_t errsz)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;
    if (!f) goto fail;
    for (;;) {
        if (cap - n < 65536) {
            size_t ncap = cap ? cap * 2 : 65536;
            char *q = realloc(buf, ncap + 1);
            if (!q) {
                errno = ENOMEM;
                goto fail;
            }
            buf = q;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) goto fail;
    fclose(f);
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return true;
fail:
    snprintf(err, errsz, "%s", strerror(errno ? errno : EIO));
    if (f) fclose(f);
    free(buf);
    return false;
}
