/* errors.c — the runtime errors table of errors.h, as formats the helpers fill in. */
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const err_format[ZX_ERR_COUNT] = {
#define ZX_ERR_ROW(id, status, fmt) [ZX_ERR_##id] = fmt,
    ZX_ERRORS(ZX_ERR_ROW)
#undef ZX_ERR_ROW
};

const char *zx_err_format(zx_err id)
{
    return id > ZX_ERR_NONE && id < ZX_ERR_COUNT ? err_format[id] : NULL;
}

static int err_vprintf(char *buf, size_t n, zx_err id, va_list ap)
{
    const char *fmt = zx_err_format(id);
    if (!fmt) return snprintf(buf, n, "unknown error %d", (int)id);
    /* the format is a row of the table, not data; tests/unit/test_errors.c checks every row */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    return vsnprintf(buf, n, fmt, ap);
#pragma GCC diagnostic pop
}

int zx_err_printf(char *buf, size_t n, zx_err id, ...)
{
    va_list ap;
    va_start(ap, id);
    int r = err_vprintf(buf, n, id, ap);
    va_end(ap);
    return r;
}

bool zx_error_vset(zx_error *e, zx_err id, va_list ap)
{
    e->id = id;
    err_vprintf(e->msg, sizeof e->msg, id, ap);
    return false;
}

bool zx_error_set(zx_error *e, zx_err id, ...)
{
    va_list ap;
    va_start(ap, id);
    zx_error_vset(e, id, ap);
    va_end(ap);
    return false;
}
