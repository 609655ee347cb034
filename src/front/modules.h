/* modules.h — finding and reading the files that `use` names (the compiler does the rest). */
#ifndef ZX_MODULES_H
#define ZX_MODULES_H

#include <stdbool.h>
#include <stddef.h>

/* Whether `spec` names one of the built-in modules ("math", "crypto", ...), whose members are
 * the standard library's builtins of the same names (docs/language.md, "Modules"). */
bool zx_module_builtin(const char *spec);

/* The file that `use "spec"` in the file `from` means, as a new string (the caller frees it):
 * an absolute spec as it is; otherwise spec (then spec + ".zx") relative to from's folder,
 * then, unless spec starts with "./" or "../", in each folder of ZEXUS_PATH (':'-separated),
 * in order.  The result is normalised ("a/./b/../c" -> "a/c") but stays relative when from is.
 * NULL when no such regular file exists (or out of memory). */
char *zx_module_resolve(const char *from, const char *spec);

/* The identity of a module file (its canonical path), as a new string; NULL on failure. */
char *zx_module_key(const char *path);

/* Read a whole file.  On failure returns false with strerror's message in err. */
bool zx_module_read(const char *path, char **data, size_t *len, char *err, size_t errsz);

#endif
