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

/* n + the operand terms of a pops/pushes formula (ZX_SE_*); `a` is capped so that an
 * unverified count cannot overflow an int (the verifier rejects counts over 2^24). */
static int eval_effect(int f, const zx_instr *in)
{
    int a = in->a < (1u << 28) ? (int)in->a : 1 << 28;
    int n = f & 0xff;
    if (f & ZX_SE_A) n += a;
    if (f & ZX_SE_2A) n += 2 * a;
    if (f & ZX_SE_B) n += in->b;
    return n;
}

void zx_op_stack_effect(const zx_instr *in, int *pops, int *pushes)
{
    const zx_opinfo *info = zx_op_info(in->op);
    *pops = info ? eval_effect(info->pops, in) : 0;
    *pushes = info ? eval_effect(info->pushes, in) : 0;
}

int zx_op_successors(const zx_instr *in, uint32_t pc, uint32_t succ[2])
{
    const zx_opinfo *info = zx_op_info(in->op);
    int n = 0;
    if (!info) return 0;
    if (info->flags & OPF_JUMPS) succ[n++] = in->a;
    if (!(info->flags & OPF_ENDS)) succ[n++] = pc + 1;
    return n;
}

int zx_op_edge_keeps(const zx_instr *in, int i)
{
    const zx_opinfo *info = zx_op_info(in->op);
    return i == 0 && info && (info->flags & OPF_EXIT_KEEPS);
}
