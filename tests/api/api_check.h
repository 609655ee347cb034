/* api_check.h — the assertions of the API tests (tests/api), which see zexus.h and libc only. */
#ifndef API_CHECK_H
#define API_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zexus.h>

static int api_failures;

#define CHECK(cond) do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            api_failures++; \
        } \
    } while (0)

/* A call that must return status `want`; on a mismatch the VM's message is shown. */
#define CHECK_ST(vm, call, want) do { \
        zx_status st_ = (call); \
        if (st_ != (want)) { \
            fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d (%s)\n  last error: %s\n", __FILE__, \
                    __LINE__, #call, (int)st_, zx_status_str(st_), (int)(want), zx_status_str(want), \
                    (vm) ? zx_vm_last_error(vm) : ""); \
            api_failures++; \
        } \
    } while (0)

#define CHECK_CONTAINS(hay, needle) do { \
        const char *h_ = (hay); \
        if (!h_ || !strstr(h_, (needle))) { \
            fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, h_ ? h_ : "(null)", \
                    (needle)); \
            api_failures++; \
        } \
    } while (0)

#define CHECK_STR(got, want) do { \
        const char *g_ = (got); \
        if (!g_ || strcmp(g_, (want)) != 0) { \
            fprintf(stderr, "%s:%d: got \"%s\", expected \"%s\"\n", __FILE__, __LINE__, g_ ? g_ : "(null)", (want)); \
            api_failures++; \
        } \
    } while (0)

__attribute__((unused)) static int api_report(const char *name)
{
    if (api_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, api_failures);
        return 1;
    }
    printf("%s: ok\n", name);
    return 0;
}

/* Output captured by an output callback. */
typedef struct api_capture {
    char buf[65536];
    size_t len;
    int fail;                     /* non-zero: report failure to the VM */
} api_capture;

__attribute__((unused)) static int api_capture_output(void *ud, const char *data, size_t len)
{
    api_capture *c = ud;
    if (c->fail) return 1;
    if (c->len + len >= sizeof c->buf) len = sizeof c->buf - 1 - c->len;
    memcpy(c->buf + c->len, data, len);
    c->len += len;
    c->buf[c->len] = '\0';
    return 0;
}

#endif
