/* disasm.c — writes a program as .zxa text (the format is described in asm.c), exact enough to assemble back. */
#include "bytecode/bytecode.h"

#include <string.h>

#include "runtime/builtins.h"

/* A quoted string: printable ASCII as is, \" \\ \n \t \r, other control bytes as \xHH, bytes
 * above 0x7F as is when the whole string is valid UTF-8 and as \xHH otherwise. */
static void put_quoted(zx_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    bool utf8 = zx_utf8_valid(s, n);
    zx_buf_put(b, "\"", 1);
    size_t run = 0;   /* start of the pending run of bytes written as they are */
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        char esc[4];
        size_t elen = 0;
        if (ch == '"' || ch == '\\') { esc[0] = '\\'; esc[1] = (char)ch; elen = 2; }
        else if (ch == '\n') { esc[0] = '\\'; esc[1] = 'n'; elen = 2; }
        else if (ch == '\t') { esc[0] = '\\'; esc[1] = 't'; elen = 2; }
        else if (ch == '\r') { esc[0] = '\\'; esc[1] = 'r'; elen = 2; }
        else if (ch < 0x20 || ch == 0x7F || (ch >= 0x80 && !utf8)) {
            esc[0] = '\\'; esc[1] = 'x'; esc[2] = hex[ch >> 4]; esc[3] = hex[ch & 15]; elen = 4;
        }
        if (!elen) continue;
        zx_buf_put(b, s + run, i - run);
        zx_buf_put(b, esc, elen);
        run = i + 1;
    }
    zx_buf_put(b, s + run, n - run);
    zx_buf_put(b, "\"", 1);
}

static void put_name(zx_buf *b, const char *s)
{
    if (!s) s = "";
    put_quoted(b, s, strlen(s));
}

/* Doubles exactly and without the locale: hex floats with a 53-bit mantissa, inf, nan, and
 * nan(0xBITS) for any NaN but the two default ones. */
static void put_float(zx_buf *b, double d)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    bool neg = bits >> 63;
    int e = (int)((bits >> 52) & 0x7FF);
    uint64_t m = bits & ((1ull << 52) - 1);
    if (e == 0x7FF) {
        if (!m) zx_buf_puts(b, neg ? "-inf" : "inf");
        else if (bits == 0x7FF8000000000000ull) zx_buf_puts(b, "nan");
        else if (bits == 0xFFF8000000000000ull) zx_buf_puts(b, "-nan");
        else zx_buf_printf(b, "nan(0x%016llx)", (unsigned long long)bits);
        return;
    }
    char digits[14];
    int nd = 0;
    for (int i = 12; i >= 0; i--) digits[nd++] = hex[(m >> (4 * i)) & 15];
    while (nd > 0 && digits[nd - 1] == '0') nd--;
    zx_buf_puts(b, neg ? "-0x" : "0x");
    zx_buf_puts(b, e == 0 ? "0" : "1");
    if (nd) {
        zx_buf_put(b, ".", 1);
        zx_buf_put(b, digits, (size_t)nd);
    }
    int exp = e == 0 ? (m ? -1022 : 0) : e - 1023;
    zx_buf_printf(b, "p%+d", exp);
}

static void put_const(zx_buf *b, zx_value v)
{
    switch ((zx_tag)v.tag) {
    case ZX_T_NULL: zx_buf_puts(b, "null"); return;
    case ZX_T_BOOL: zx_buf_puts(b, v.u.b ? "bool true" : "bool false"); return;
    case ZX_T_INT: zx_buf_printf(b, "int %lld", (long long)v.u.i); return;
    case ZX_T_FLOAT:
        zx_buf_puts(b, "float ");
        put_float(b, v.u.f);
        return;
    case ZX_T_OBJ:
        if (v.u.o && v.u.o->type == ZX_O_STRING) {
            zx_buf_puts(b, "string ");
            put_quoted(b, ZX_AS_STRING(v)->data, ZX_AS_STRING(v)->nbytes);
            return;
        }
        break;
    case ZX_T_UNDEF:
        break;
    }
    zx_buf_puts(b, "invalid");   /* not a constant: the assembler rejects it */
}

static void indent(zx_buf *b, int level)
{
    for (int i = 0; i < level; i++) zx_buf_put(b, "  ", 2);
}

/* Pads the current line to column `col` (counted from the last newline). */
static void pad_to(zx_buf *b, size_t col)
{
    size_t start = b->len;
    while (start > 0 && b->data[start - 1] != '\n') start--;
    size_t have = b->len - start;
    do zx_buf_put(b, " ", 1); while (++have < col);
}

static const char *kind_name(zx_code_kind k)
{
    switch (k) {
    case ZX_CODE_MAIN: return "main";
    case ZX_CODE_ACTION: return "action";
    case ZX_CODE_LAMBDA: return "lambda";
    case ZX_CODE_FORK: return "fork";
    }
    return NULL;
}

/* A comment naming what the operands of `in` refer to, when they are in range. */
static void put_operand_note(zx_buf *b, const zx_program *p, const zx_code *c, const zx_instr *in, int level)
{
    const zx_opinfo *info = zx_op_info(in->op);
    const char *name = NULL;
    switch (info->kind) {
    case OPK_CONST: case OPK_METHOD:
        if (in->a < c->nconsts && c->consts) {
            pad_to(b, (size_t)level * 2 + 50);
            zx_buf_puts(b, "; ");
            put_const(b, c->consts[in->a]);
        }
        return;
    case OPK_GLOBAL:
        if (in->a < p->nglobals && p->globals) name = p->globals[in->a].name;
        break;
    case OPK_LOCAL:
        if (in->a < c->nlocals && c->local_names) name = c->local_names[in->a];
        break;
    case OPK_ITER:
        if (in->b < c->nlocals && c->local_names) name = c->local_names[in->b];
        break;
    case OPK_FREE:
        if (in->a < c->nfree && c->free) name = c->free[in->a].name;
        break;
    case OPK_CHILD:
        if (in->a < c->nchildren && c->children && c->children[in->a]) name = c->children[in->a]->name;
        break;
    case OPK_NONE: case OPK_JUMP: case OPK_ARGC: case OPK_COUNT: case OPK_BUILTIN:
    case OPK_FORK: case OPK_FLAG:
        return;
    }
    if (!name) return;
    pad_to(b, (size_t)level * 2 + 50);
    zx_buf_puts(b, "; ");
    put_name(b, name);
}

static void put_instr(zx_buf *b, const zx_program *p, const zx_code *c, uint32_t pc, int level)
{
    const zx_instr *in = &c->code[pc];
    const zx_opinfo *info = zx_op_info(in->op);
    indent(b, level + 1);
    zx_buf_printf(b, "%5u: ", pc);
    if (!info) {   /* not an opcode: written so that the assembler refuses it */
        zx_buf_printf(b, "?%u %u %u\n", (unsigned)in->op, in->a, (unsigned)in->b);
        return;
    }
    zx_buf_puts(b, info->name);
    int n = zx_op_operand_count(in->op);
    if (in->b) n = 2;
    else if (in->a && n < 1) n = 1;
    if (n >= 1) {
        const char *bi = info->kind == OPK_BUILTIN ? zx_builtin_name((int)(in->a > 255 ? 255 : in->a)) : NULL;
        if (bi) zx_buf_printf(b, " %s", bi);
        else zx_buf_printf(b, " %u", in->a);
    }
    if (n >= 2) {
        const zx_opinfo *op = in->op == OP_SHARED_WRITE ? zx_op_info(in->b) : NULL;
        if (op) zx_buf_printf(b, " %s", op->name);
        else zx_buf_printf(b, " %u", (unsigned)in->b);
    }
    zx_pos pos = c->positions ? c->positions[pc] : (zx_pos){ 0, 0 };
    pad_to(b, (size_t)level * 2 + 36);
    zx_buf_printf(b, "@%u:%u", pos.line, pos.col);
    put_operand_note(b, p, c, in, level);
    zx_buf_put(b, "\n", 1);
}

static void put_code(zx_buf *b, const zx_program *p, const zx_code *c, int level, long child_index)
{
    indent(b, level);
    const char *kind = kind_name(c->kind);
    if (kind) zx_buf_printf(b, ".code %s ", kind);
    else zx_buf_printf(b, ".code %u ", (unsigned)c->kind);   /* not a kind: the assembler rejects it */
    put_name(b, c->name);
    zx_buf_printf(b, " @%u:%u", c->pos.line, c->pos.col);
    if (child_index >= 0) zx_buf_printf(b, "  ; child %ld", child_index);
    zx_buf_put(b, "\n", 1);

    if (c->file) {
        indent(b, level + 1);
        zx_buf_printf(b, ".infile %u\n", c->file);
    }
    indent(b, level + 1);
    zx_buf_printf(b, ".params %u\n", c->nparams);
    for (uint32_t i = 0; i < c->nlocals; i++) {
        indent(b, level + 1);
        zx_buf_puts(b, ".local ");
        put_name(b, c->local_names ? c->local_names[i] : NULL);
        if (c->local_is_cell && c->local_is_cell[i]) zx_buf_puts(b, " cell");
        pad_to(b, (size_t)level * 2 + 36);
        zx_buf_printf(b, "; local %u\n", i);
    }
    for (uint32_t i = 0; i < c->nfree; i++) {
        indent(b, level + 1);
        zx_buf_puts(b, ".free ");
        put_name(b, c->free[i].name);
        zx_buf_printf(b, " %s %u", c->free[i].from_parent_local ? "local" : "free", c->free[i].index);
        pad_to(b, (size_t)level * 2 + 36);
        zx_buf_printf(b, "; free %u\n", i);
    }
    for (uint32_t i = 0; i < c->nhandlers; i++) {
        indent(b, level + 1);
        zx_buf_printf(b, ".handler %u %u %u", c->handlers[i].start, c->handlers[i].end, c->handlers[i].target);
        pad_to(b, (size_t)level * 2 + 36);
        zx_buf_printf(b, "; handler %u: errors in %u..%u continue at %u\n", i, c->handlers[i].start,
                      c->handlers[i].end - 1, c->handlers[i].target);
    }
    for (uint32_t i = 0; i < c->nconsts; i++) {
        indent(b, level + 1);
        zx_buf_puts(b, ".const ");
        put_const(b, c->consts[i]);
        pad_to(b, (size_t)level * 2 + 36);
        zx_buf_printf(b, "; const %u", i);
        if (c->consts[i].tag == ZX_T_FLOAT) {   /* the decimal value, for the reader */
            zx_buf_puts(b, " = ");
            zx_format_float(b, c->consts[i].u.f);
        }
        zx_buf_put(b, "\n", 1);
    }
    for (uint32_t pc = 0; pc < c->ncode; pc++) put_instr(b, p, c, pc, level);
    for (uint32_t i = 0; i < c->nchildren; i++)
        if (c->children[i]) put_code(b, p, c->children[i], level + 1, (long)i);
    indent(b, level);
    zx_buf_puts(b, ".end\n");
}

void zx_disassemble(const zx_program *p, zx_buf *out)
{
    zx_buf_puts(out, "; zexus bytecode assembly\n.zxa 1\n.source ");
    put_name(out, p->source_name);
    zx_buf_put(out, "\n", 1);
    for (uint32_t i = 0; i < p->nfiles; i++) {
        zx_buf_puts(out, ".file ");
        put_name(out, p->files[i]);
        pad_to(out, 36);
        zx_buf_printf(out, "; file %u\n", i + 1);
    }
    for (uint32_t i = 0; i < p->nglobals; i++) {
        zx_buf_puts(out, ".global ");
        put_name(out, p->globals[i].name);
        if (p->globals[i].is_const) zx_buf_puts(out, " const");
        if (p->globals[i].is_shared) zx_buf_puts(out, " shared");
        pad_to(out, 36);
        zx_buf_printf(out, "; global %u\n", i);
    }
    if (p->main) put_code(out, p, p->main, 0, -1);
}
