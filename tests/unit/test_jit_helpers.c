/* test_jit_helpers.c — the helper ABI (jit/helper_abi.h): the table follows its rows, the hash sees a change. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "jit/helper_abi.h"
#include "jit/jit.h"

static const char *const row_names[] = {
#define ROW_NAME(name, ret, params) "jit_helper_" #name,
    JIT_HELPERS(ROW_NAME)
#undef ROW_NAME
};

static const unsigned row_nparams[] = {
#define ROW_NPARAMS(name, ret, params) (unsigned)sizeof((unsigned char[]){ JIT_TY_LIST params }),
    JIT_HELPERS(ROW_NPARAMS)
#undef ROW_NPARAMS
};

int main(void)
{
    /* one symbol per row, in row order, each with an address */
    CHECK(zx_jit_nhelpers == JIT_NHELPERS);
    for (size_t i = 0; i < zx_jit_nhelpers && i < JIT_NHELPERS; i++) {
        CHECK_STR(zx_jit_helpers[i].name, row_names[i]);
        CHECK(zx_jit_helpers[i].addr != NULL);
        CHECK(row_nparams[i] >= 1 && row_nparams[i] <= JIT_HELPER_MAX_PARAMS);
    }
    /* the rows' text names every helper with its types, and the hash changes with any of it */
    const char *text = JIT_HELPER_ABI_TEXT;
    CHECK(strstr(text, "binop i32 (ptr, ptr, i32, i32, i64, i32, i64, ptr);") != NULL);
    uint64_t h = jit_helper_abi_hash(text);
    char changed[4096];
    snprintf(changed, sizeof changed, "%s", text);
    char *p = strstr(changed, "binop i32 (ptr, ptr, i32");
    CHECK(p != NULL);
    if (p) p[strlen("binop i32 (ptr, ptr, ")] = 'x';   /* i32 -> x32 */
    CHECK(jit_helper_abi_hash(changed) != h);
    CHECK(jit_helper_abi_hash(text) == h);
    return CHECK_DONE();
}
