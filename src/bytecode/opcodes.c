/* opcodes.c — lookups over the opcode table of opcodes.h. */
#include "bytecode/opcodes.h"

#include <string.h>

const zx_opinfo zx_opinfo_table[] = {
#define ZX_OP_ROW(name, num, pops, pushes, kind, flags) { #name, num, pops, pushes, kind, flags },
    ZX_OPCODES(ZX_OP_ROW)
#undef ZX_OP_ROW
};
const int zx_opinfo_count = (int)(sizeof zx_opinfo_table / sizeof zx_opinfo_table[0]);

/* Row position of every opcode, and a direct map from opcode number to row + 1. */
enum {
#define ZX_OP_ROWIDX(name, num, pops, pushes, kind, flags) ZX_OPROW_##name,
    ZX_OPCODES(ZX_OP_ROWIDX)
#undef ZX_OP_ROWIDX
};
#define ZX_OP_MAXNUM 512
static const uint8_t zx_op_row[ZX_OP_MAXNUM] = {
#define ZX_OP_MAP(name, num, pops, pushes, kind, flags) [num] = ZX_OPROW_##name + 1,
    ZX_OPCODES(ZX_OP_MAP)
#undef ZX_OP_MAP
};

const zx_opinfo *zx_op_info(unsigned op)
{
    if (op >= ZX_OP_MAXNUM || zx_op_row[op] == 0) return NULL;
    return &zx_opinfo_table[zx_op_row[op] - 1];
}

int zx_op_by_name(const char *name)
{
    for (int i = 0; i < zx_opinfo_count; i++)
        if (strcmp(zx_opinfo_table[i].name, name) == 0) return zx_opinfo_table[i].number;
    return -1;
}

void zx_op_stack_effect(const zx_instr *in, int *pops, int *pushes)
{
    const zx_opinfo *info = zx_op_info(in->op);
    *pops = info ? info->pops : 0;
    *pushes = info ? info->pushes : 0;
    switch (in->op) {     /* only the rows whose effect depends on the operands */
    case OP_CALL_TOP:     *pops = (int)in->a + 1; break;
    case OP_CALL_BUILTIN: *pops = in->b; break;
    case OP_CALL_METHOD:  *pops = in->b + 1; break;
    case OP_BUILD_LIST:   *pops = (int)in->a; break;
    case OP_BUILD_MAP:    *pops = 2 * (int)in->a; break;
    case OP_PRINT:        *pops = (int)in->a; break;
    case OP_ASSERT:       *pops = in->a ? 2 : 1; break;
    default: break;
    }
}
