/* test_parser.c — unit tests of lexer.c and parser.c: tree shapes, positions and every syntax error. */
#include <stdarg.h>
#include <stdlib.h>

#include "front/ast.h"
#include "check.h"

/* ---------- a compact S-expression form of a tree ---------- */

typedef struct dump {
    char buf[8192];
    size_t n;
    bool pos;   /* append @LINE:COL to every node */
} dump;

static void out(dump *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(dump *d, const char *fmt, ...)
{
    if (d->n >= sizeof d->buf) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(d->buf + d->n, sizeof d->buf - d->n, fmt, ap);
    va_end(ap);
    if (k > 0) d->n += (size_t)k;
    if (d->n >= sizeof d->buf) d->n = sizeof d->buf - 1;
}

static const char *op_name(int op)
{
    switch (op) {
    case OP_ADD: return "+";
    case OP_SUB: return "-";
    case OP_MUL: return "*";
    case OP_DIV: return "/";
    case OP_MOD: return "%";
    case OP_POW: return "**";
    case OP_EQ: return "==";
    case OP_NEQ: return "!=";
    case OP_LT: return "<";
    case OP_GT: return ">";
    case OP_LTE: return "<=";
    case OP_GTE: return ">=";
    case OP_NEG: return "neg";
    case OP_NOT: return "!";
    default: return "?";
    }
}

static void dump_node(dump *d, const zx_node *n);

static void dump_items(dump *d, const zx_node *n)
{
    for (size_t k = 0; k < n->n; k++) {
        out(d, " ");
        dump_node(d, n->items[k]);
    }
}

static void dump_opt(dump *d, const zx_node *n)
{
    if (!n) return;
    out(d, " ");
    dump_node(d, n);
}

static void dump_params(dump *d, const zx_node *n)
{
    out(d, " (");
    for (size_t k = 0; k < n->nparams; k++) out(d, "%s%s", k ? " " : "", n->params[k]);
    out(d, ")");
}

static void dump_node(dump *d, const zx_node *n)
{
    if (!n) {
        out(d, "NULL");
        return;
    }
    switch (n->kind) {
    case N_TRY:
        out(d, "(try ");
        dump_node(d, n->a);
        out(d, " catch %s ", n->name ? n->name : "-");
        dump_node(d, n->b);
        out(d, " finally ");
        dump_node(d, n->c);
        out(d, ")");
        break;
    case N_THROW: out(d, "(throw "); dump_node(d, n->a); out(d, ")"); break;
    case N_DEFER: out(d, "(defer "); dump_node(d, n->b); out(d, ")"); break;
    case N_INT: out(d, "%lld", (long long)n->ival); break;
    case N_FLOAT: out(d, "%.17gf", n->fval); break;
    case N_STRING:
        out(d, "\"");
        for (size_t k = 0; k < n->slen; k++) {
            unsigned char c = (unsigned char)n->str[k];
            if (c == '\n') out(d, "\\n");
            else if (c == '\t') out(d, "\\t");
            else if (c < 0x20) out(d, "\\x%02x", c);
            else out(d, "%c", c);
        }
        out(d, "\"");
        break;
    case N_BOOL: out(d, "%s", n->ival ? "true" : "false"); break;
    case N_NULL: out(d, "null"); break;
    case N_NAME: out(d, "%s", n->name); break;
    case N_LIST: out(d, "[list"); dump_items(d, n); out(d, "]"); break;
    case N_MAP: out(d, "{map"); dump_items(d, n); out(d, "}"); break;
    case N_UNARY: out(d, "(%s ", op_name(n->op)); dump_node(d, n->a); out(d, ")"); break;
    case N_BINARY: case N_AND: case N_OR: case N_NULLISH:
        out(d, "(%s ", n->kind == N_AND ? "&&" : n->kind == N_OR ? "||" : n->kind == N_NULLISH ? "??"
                       : op_name(n->op));
        dump_node(d, n->a);
        out(d, " ");
        dump_node(d, n->b);
        out(d, ")");
        break;
    case N_TERNARY:
        out(d, "(? ");
        dump_node(d, n->a);
        out(d, " ");
        dump_node(d, n->b);
        out(d, " ");
        dump_node(d, n->c);
        out(d, ")");
        break;
    case N_CALL: out(d, "(call "); dump_node(d, n->a); dump_items(d, n); out(d, ")"); break;
    case N_METHOD_CALL:
        out(d, "(method %s ", n->name);
        dump_node(d, n->a);
        dump_items(d, n);
        out(d, ")");
        break;
    case N_INDEX:
        out(d, "(index ");
        dump_node(d, n->a);
        out(d, " ");
        dump_node(d, n->b);
        out(d, ")");
        break;
    case N_MEMBER: out(d, "(. "); dump_node(d, n->a); out(d, " %s)", n->name); break;
    case N_SLICE:
        out(d, "(slice ");
        dump_node(d, n->a);
        out(d, " ");
        dump_node(d, n->b);
        out(d, " ");
        dump_node(d, n->c);
        out(d, ")");
        break;
    case N_INTERP: out(d, "(interp"); dump_items(d, n); out(d, ")"); break;
    case N_USE:
        out(d, "(use \"%s\"%s%s", n->str, n->name ? " as " : "", n->name ? n->name : "");
        if (n->ival) dump_params(d, n);
        out(d, ")");
        break;
    case N_EXPORT: out(d, "(export"); dump_params(d, n); out(d, ")"); break;
    case N_MODULE: out(d, "(%s %s ", n->ival ? "package" : "module", n->name); dump_node(d, n->b); out(d, ")"); break;
    case N_NEW_NAMED: out(d, "(new %s ", n->name); dump_node(d, n->b); out(d, ")"); break;
    case N_CLASS: out(d, "(class%lld %s", (long long)n->ival, n->name); dump_items(d, n); out(d, ")"); break;
    case N_LAMBDA:
        out(d, "(lambda");
        dump_params(d, n);
        dump_opt(d, n->a);
        dump_opt(d, n->b);
        out(d, ")");
        break;
    case N_LET:
        out(d, "(%s %s ", n->is_const ? "const" : n->is_shared ? "shared" : "let", n->name);
        dump_node(d, n->a);
        out(d, ")");
        break;
    case N_ASSIGN:
        out(d, "(%s= ", n->op ? op_name(n->op) : "");
        dump_node(d, n->a);
        out(d, " ");
        dump_node(d, n->b);
        out(d, ")");
        break;
    case N_EXPR_STMT: out(d, "(expr "); dump_node(d, n->a); out(d, ")"); break;
    case N_PRINT: out(d, "(print"); dump_items(d, n); out(d, ")"); break;
    case N_IF:
        out(d, "(if ");
        dump_node(d, n->a);
        out(d, " ");
        dump_node(d, n->b);
        dump_opt(d, n->c);
        out(d, ")");
        break;
    case N_WHILE:
        out(d, "(while ");
        dump_node(d, n->a);
        out(d, " ");
        dump_node(d, n->b);
        out(d, ")");
        break;
    case N_FOR_EACH:
        out(d, "(for %s%s%s ", n->name, n->name2 ? " " : "", n->name2 ? n->name2 : "");
        dump_node(d, n->a);
        out(d, " ");
        dump_node(d, n->b);
        out(d, ")");
        break;
    case N_BREAK: out(d, "break"); break;
    case N_CONTINUE: out(d, "continue"); break;
    case N_RETURN: out(d, "(return"); dump_opt(d, n->a); out(d, ")"); break;
    case N_ACTION:
        out(d, "(action %s", n->name);
        dump_params(d, n);
        dump_opt(d, n->b);
        out(d, ")");
        break;
    case N_ASSERT: out(d, "(assert "); dump_node(d, n->a); dump_opt(d, n->b); out(d, ")"); break;
    case N_BLOCK: out(d, "(block"); dump_items(d, n); out(d, ")"); break;
    case N_FORK: out(d, "(fork"); dump_items(d, n); out(d, ")"); break;
    case N_BARRIER: out(d, "barrier"); break;
    case N_MATCH:
        out(d, "(%s ", n->ival == ZX_MATCH_EXPR ? "match" : n->ival == ZX_MATCH_STMT ? "match-stmt" : "pattern");
        dump_node(d, n->a);
        dump_items(d, n);
        out(d, ")");
        break;
    case N_MATCH_ARM:
        out(d, "(%s", n->ival == ZX_ARM_ANY ? "_" : n->ival == ZX_ARM_BIND ? "bind" : "is");
        dump_opt(d, n->a);
        dump_opt(d, n->b);
        out(d, ")");
        break;
    case N_ENUM: out(d, "(enum %s ", n->name); dump_node(d, n->a); out(d, ")"); break;
    case N_PROGRAM:
        for (size_t k = 0; k < n->n; k++) {
            if (k) out(d, " ");
            dump_node(d, n->items[k]);
        }
        break;
    }
    if (d->pos && n->kind != N_PROGRAM) out(d, "@%u:%u", n->pos.line, n->pos.col);
}

static char got[8192];

/* The tree of src, dumped; or "ERROR: message". */
static const char *parse_dump(const char *src, size_t len, bool pos)
{
    char err[256] = "x";
    zx_node *prog = zx_parse(src, len, "t.zx", err, sizeof err);
    if (!prog) {
        snprintf(got, sizeof got, "ERROR: %s", err);
        return got;
    }
    dump d = { .n = 0, .pos = pos };
    dump_node(&d, prog);
    snprintf(got, sizeof got, "%s", d.buf);
    if (err[0]) snprintf(got, sizeof got, "ERROR written on success: %s", err);
    zx_ast_free(prog);
    return got;
}

#define TREE(src, want) CHECK_STR(parse_dump((src), strlen(src), false), (want))
#define POS(src, want) CHECK_STR(parse_dump((src), strlen(src), true), (want))
#define ERR(src, want) CHECK_STR(parse_dump((src), strlen(src), false), "ERROR: t.zx:" want)
#define ERRN(src, n, want) CHECK_STR(parse_dump((src), (n), false), "ERROR: t.zx:" want)

/* ---------- tests ---------- */

static void test_precedence(void)
{
    TREE("1 + 2 * 3", "(expr (+ 1 (* 2 3)))");
    TREE("(1 + 2) * 3", "(expr (* (+ 1 2) 3))");
    TREE("10 - 4 - 3", "(expr (- (- 10 4) 3))");
    TREE("2 * 3 % 4", "(expr (% (* 2 3) 4))");
    TREE("-7 * 2 + 1", "(expr (+ (* (neg 7) 2) 1))");
    TREE("2 ** 3 ** 2", "(expr (** 2 (** 3 2)))");
    TREE("-2 ** 2", "(expr (neg (** 2 2)))");
    TREE("2 ** -1", "(expr (** 2 (neg 1)))");
    TREE("2 * 3 ** 2", "(expr (* 2 (** 3 2)))");
    TREE("a ?? b || c", "(expr (?? a (|| b c)))");
    TREE("a || b && c", "(expr (|| a (&& b c)))");
    TREE("a && b == c", "(expr (&& a (== b c)))");
    TREE("a == b < c", "(expr (== a (< b c)))");
    TREE("a != b >= c + 1", "(expr (!= a (>= b (+ c 1))))");
    TREE("a <= b > c", "(expr (> (<= a b) c))");
    TREE("!a && !b", "(expr (&& (! a) (! b)))");
    TREE("!!a", "(expr (! (! a)))");
    TREE("- -a", "(expr (neg (neg a)))");
    TREE("x > 3 ? \"big\" : \"small\"", "(expr (? (> x 3) \"big\" \"small\"))");
    TREE("a ? b : c ? d : e", "(expr (? a b (? c d e)))");
    TREE("a ?? b ?? c", "(expr (?? (?? a b) c))");
    TREE("a ?? b ? c : d", "(expr (? (?? a b) c d))");
    TREE("a ? b ?? c : d ?? e", "(expr (? a (?? b c) (?? d e)))");
    TREE("-x.y", "(expr (neg (. x y)))");
    TREE("-f(1) ** 2", "(expr (neg (** (call f 1) 2)))");
}

static void test_postfix(void)
{
    TREE("f(x)", "(expr (call f x))");
    TREE("f()", "(expr (call f))");
    TREE("f(1, 2,)", "(expr (call f 1 2))");
    TREE("fs[0](0)", "(expr (call (index fs 0) 0))");
    TREE("make()()", "(expr (call (call make)))");
    TREE("grid[1][0]", "(expr (index (index grid 1) 0))");
    TREE("m.k", "(expr (. m k))");
    TREE("m.a.b", "(expr (. (. m a) b))");
    TREE("xs.push(4)", "(expr (method push xs 4))");
    TREE("m.keys().x", "(expr (. (method keys m) x))");
    TREE("m.if", "(expr (. m if))");
    TREE("print(1)(2)", "(print (call 1 2))");   /* print e, where e is a call of (1) */
    TREE("let p = print", "(let p print)");
    TREE("let f = (x) => print(x)", "(let f (lambda (x) (call print x)))");
}

static void test_literals(void)
{
    TREE("0", "(expr 0)");
    TREE("9223372036854775807", "(expr 9223372036854775807)");
    ERR("let x = 9223372036854775808", "1:9: error: integer literal too large");
    ERR("99999999999999999999999", "1:1: error: integer literal too large");
    TREE("-9223372036854775807", "(expr (neg 9223372036854775807))");
    TREE("1.5", "(expr 1.5f)");
    TREE("0.1", "(expr 0.10000000000000001f)");
    TREE("007", "(expr 7)");
    TREE("1.x", "(expr (. 1 x))");
    ERR("0x10", "1:1: error: invalid number literal '0x10'");
    ERR("1e5", "1:1: error: invalid number literal '1e5'");
    ERR("1.5e3", "1:1: error: invalid number literal '1.5e3'");
    ERR("1_000", "1:1: error: invalid number literal '1_000'");
    TREE("true false null", "ERROR: t.zx:1:6: error: unexpected 'false'");
    TREE("[true, false, null]", "(expr [list true false null])");
    TREE("\"a\\n\\t\\\"\\\\b\"", "(expr \"a\\n\\t\"\\b\")");
    TREE("\"héllo\"", "(expr \"héllo\")");
    TREE("\"\"", "(expr \"\")");
    ERR("\"a\\qb\"", "1:3: error: invalid escape '\\q'");
    TREE("\"a\\rb\\'\\$\"", "(expr \"a\\x0db'$\")");
    ERR("\"a\\u0041\"", "1:3: error: invalid escape '\\u'");
    ERR("\"\\é\"", "1:2: error: invalid escape '\\é'");
    ERR("let s = \"abc", "1:9: error: unterminated string");
    ERR("let s = \"abc\nprint(s)", "1:9: error: unterminated string");
    ERR("let s = \"abc\\", "1:9: error: unterminated string");
    TREE("[]", "(expr [list])");
    TREE("[1, 2,]", "(expr [list 1 2])");
    TREE("[\n1,\n2\n]", "(expr [list 1 2])");
    ERR("[1, 2", "1:6: error: expected ']' to close the '[' opened at 1:1");
    ERR("[1 2]", "1:4: error: expected ']' to close the '[' opened at 1:1");
    ERR("[,]", "1:2: error: unexpected ','");
}

static void test_maps(void)
{
    TREE("let m = {\"a\": 1, b: \"x\", 3: true, 1.5: null, -2: 0, true: 1,}",
         "(let m {map \"a\" 1 \"b\" \"x\" 3 true 1.5f null -2 0 true 1})");
    TREE("{}", "(expr {map})");
    TREE("let m = {\n  a: 1,\n  b: 2\n}", "(let m {map \"a\" 1 \"b\" 2})");
    TREE("let m = {a: {b: [1]}}", "(let m {map \"a\" {map \"b\" [list 1]}})");
    TREE("f({k: 1})", "(expr (call f {map \"k\" 1}))");
    ERR("let m = {a 1}", "1:12: error: expected ':' after the map key, found '1'");
    ERR("let m = {f(): 1}", "1:11: error: expected ':' after the map key, found '('");
    ERR("let m = {[1]: 1}", "1:10: error: expected a map key, found '['");
    TREE("let m = {if: 1, action: 2}", "(let m {map \"if\" 1 \"action\" 2})");
    ERR("let m = {null: 1}", "1:10: error: expected a map key, found 'null'");
    ERR("let m = {a: 1", "1:14: error: expected '}' to close the '{' opened at 1:9");
}

static void test_statements(void)
{
    TREE("let x = 1", "(let x 1)");
    TREE("const C = 2", "(const C 2)");
    TREE("shared let total = 0", "(shared total 0)");
    TREE("let x : integer = 10", "(let x 10)");
    TREE("let x = 1; let y = 2;", "(let x 1) (let y 2)");
    TREE(";;\n\n;let x = 1;;", "(let x 1)");
    TREE("x = 1", "(= x 1)");
    TREE("x += 1\nx -= 2\nx *= 3\nx /= 4\nx %= 5\nx **= 6",
         "(+= x 1) (-= x 2) (*= x 3) (/= x 4) (%= x 5) (**= x 6)");
    TREE("xs[i] = v", "(= (index xs i) v)");
    TREE("xs[f()] += 1", "(+= (index xs (call f)) 1)");
    TREE("m.k = v", "(= (. m k) v)");
    TREE("grid[0][1] = 9", "(= (index (index grid 0) 1) 9)");
    TREE("print(1)", "(print 1)");
    TREE("print 1", "(print 1)");
    TREE("print()", "(print)");
    TREE("print", "(print)");
    TREE("print(a, b, c)", "(print a b c)");
    TREE("print(\n  a,\n  b\n)", "(print a b)");
    TREE("print (1 + 2) * 3", "(print (* (+ 1 2) 3))");
    TREE("print (x) => x", "(print (lambda (x) x))");
    TREE("print() ; print(2)", "(print) (print 2)");
    ERR("print(1, 2) 3", "1:13: error: unexpected '3'");
    ERR("print() x", "1:9: error: unexpected 'x'");
    TREE("assert x", "(assert x)");
    TREE("assert x > 0, \"must be positive\"", "(assert (> x 0) \"must be positive\")");
    TREE("assert(x)", "(assert x)");
    TREE("assert(x, \"m\")", "(assert x \"m\")");
    TREE("assert (x) || y, \"m\"", "(assert (|| x y) \"m\")");
    TREE("assert(\n  x == 1,\n  \"m\"\n)", "(assert (== x 1) \"m\")");
    ERR("assert()", "1:7: error: assert takes a condition and an optional message");
    ERR("assert(a, b, c)", "1:7: error: assert takes a condition and an optional message");
    ERR("assert", "1:7: error: unexpected end of input");
    ERR("assert x,", "1:10: error: unexpected end of input");
    TREE("f(1)", "(expr (call f 1))");
    TREE("while (i < 10) { i += 1 }", "(while (< i 10) (block (+= i 1)))");
    TREE("while i < 10 {\n i += 1\n}", "(while (< i 10) (block (+= i 1)))");
    TREE("for each v in xs { print(v) }", "(for v xs (block (print v)))");
    TREE("for each i, v in [1, 2] {}", "(for i v [list 1 2] (block))");
    TREE("for each k in {a: 1} { }", "(for k {map \"a\" 1} (block))");
    TREE("action add(a, b) { return a + b }", "(action add (a b) (block (return (+ a b))))");
    TREE("function twice(x) {\n  return x * 2\n}", "(action twice (x) (block (return (* x 2))))");
    TREE("action f(x: integer, y: float) -> integer { return }", "(action f (x y) (block (return)))");
    TREE("action f() {}", "(action f () (block))");
    TREE("action f() { return; }", "(action f () (block (return)))");
    TREE("action f()\n{\n}", "(action f () (block))");
    TREE("if flag { print(\"flag\") }", "(if flag (block (print \"flag\")))");
    TREE("if x {} print(1)", "(if x (block)) (print 1)");
}

static void test_if_chains(void)
{
    TREE("if (n < 0) { a } elif (n == 0) { b } elif n < 10 { c } else { d }",
         "(if (< n 0) (block (expr a)) (if (== n 0) (block (expr b)) (if (< n 10) (block (expr c)) (block (expr d)))))");
    TREE("if a { } else if b { } else { }", "(if a (block) (if b (block) (block)))");
    TREE("if x > 10 && x < 20 {\n    print(\"teens\")\n}",
         "(if (&& (> x 10) (< x 20)) (block (print \"teens\")))");
    TREE("if (!(x == 15)) {} else {}", "(if (! (== x 15)) (block) (block))");
    TREE("if a {\n}\nelse {\n}", "(if a (block) (block))");
    TREE("if a {\n}\n\nelif b {\n}", "(if a (block) (if b (block)))");
    TREE("if a {}\nprint(1)", "(if a (block)) (print 1)");
    TREE("if x == {} { }", "(if (== x {map}) (block))");
    ERR("if x print(1)", "1:6: error: expected '{', found 'print'");
    ERR("if x {", "1:7: error: expected '}' to close the block opened at 1:6");
    ERR("if x {\n  print(1)\n", "3:1: error: expected '}' to close the block opened at 1:6");
    ERR("else { }", "1:1: error: unexpected 'else'");
    ERR("if a {} else print(1)", "1:14: error: expected '{', found 'print'");
}

static void test_newlines(void)
{
    TREE("let x = 1 +\n  2", "(let x (+ 1 2))");
    TREE("let x = a &&\n b ||\n c", "(let x (|| (&& a b) c))");
    TREE("let x = (1\n+ 2)", "(let x (+ 1 2))");
    TREE("let x = 1\n+ 2", "ERROR: t.zx:2:1: error: unexpected '+'");
    TREE("let x = 1\n- 2", "(let x 1) (expr (neg 2))");
    TREE("f(1,\n2)", "(expr (call f 1 2))");
    TREE("f(\n1\n,\n2\n)", "(expr (call f 1 2))");
    TREE("let x =\n 5", "(let x 5)");
    TREE("x +=\n 5", "(+= x 5)");
    TREE("let t = c ?\n 1 :\n 2", "(let t (? c 1 2))");
    TREE("xs[\n0\n]", "(expr (index xs 0))");
    TREE("let a = 1 let b = 2", "ERROR: t.zx:1:11: error: unexpected 'let'");
    TREE("f\n(1)", "(expr f) (expr 1)");
    TREE("(f\n(1))", "(expr (call f 1))");
    TREE("a\n.b", "ERROR: t.zx:2:1: error: unexpected '.'");
    /* a block inside an expression bracket: newlines end statements again inside it */
    TREE("f((x) => {\n  let y = x\n  return y\n}, 2)",
         "(expr (call f (lambda (x) (block (let y x) (return y))) 2))");
    TREE("f((x) => {\n  let y = x\n  return y\n}\n, 2)",
         "(expr (call f (lambda (x) (block (let y x) (return y))) 2))");
    ERR("f((x) => { let y = x return y })", "1:22: error: unexpected 'return'");
    /* \r\n line ends and a multi-line block comment end statements too */
    TREE("let a = 1\r\nlet b = 2\r\n", "(let a 1) (let b 2)");
    TREE("let a = 1 /* one\n two */ let b = 2", "(let a 1) (let b 2)");
    TREE("let a = 1 /* one */ + 2", "(let a (+ 1 2))");
}

static void test_comments(void)
{
    TREE("# a comment\nlet x = 1 # trailing\n// another\nlet y = 2 // trailing", "(let x 1) (let y 2)");
    TREE("/* block */ let x = /* inline */ 1", "(let x 1)");
    TREE("let x = 4 // 2", "(let x 4)");
    TREE("# only a comment", "");
    TREE("", "");
    TREE("\n\n\n", "");
    TREE("/* é ünïcödé */ print(\"ok\") # ñ", "(print \"ok\")");
    ERR("let x = 1 /* never closed\n\n", "1:11: error: unterminated comment");
    TREE("/**/", "");
    TREE("/* a */* 2", "ERROR: t.zx:1:8: error: unexpected '*'");
}

static void test_lambdas(void)
{
    TREE("let sq = (v) => v * v", "(let sq (lambda (v) (* v v)))");
    TREE("let add = (a, b) => a + b", "(let add (lambda (a b) (+ a b)))");
    TREE("let k = () => 42", "(let k (lambda () 42))");
    TREE("let k = (x: integer) => x", "(let k (lambda (x) x))");
    TREE("let k = (x) => { return x }", "(let k (lambda (x) (block (return x))))");
    TREE("let k = (x) =>\n x", "(let k (lambda (x) x))");
    TREE("let k = (x) => (y) => x + y", "(let k (lambda (x) (lambda (y) (+ x y))))");
    TREE("let k = (x) => x ? 1 : 2", "(let k (lambda (x) (? x 1 2)))");
    TREE("parallel_map((v) => v * v, range(10))",
         "(expr (call parallel_map (lambda (v) (* v v)) (call range 10)))");
    TREE("fs.push((v) => v + k)", "(expr (method push fs (lambda (v) (+ v k))))");
    /* parentheses that are not a parameter list */
    TREE("let p = (x)", "(let p x)");
    TREE("let p = (x) + 1", "(let p (+ x 1))");
    TREE("let p = (a, b)", "ERROR: t.zx:1:11: error: expected ')' to close the '(' opened at 1:9");
    TREE("let p = (1) => 2", "ERROR: t.zx:1:13: error: unexpected '=>'");
    ERR("let p = ()", "1:10: error: unexpected ')'");
    ERR("let p = (x, x) => x", "1:13: error: duplicate parameter 'x'");
    ERR("let p = (x) => ", "1:16: error: unexpected end of input");
}

/* Issue 13's everyday syntax: the forms real Zexus programs use beyond the core. */
static void test_everyday_syntax(void)
{
    TREE("for x in xs {}", "(for x xs (block))");
    TREE("for i, v in xs {}", "(for i v xs (block))");
    TREE("let a = 1, b = a + 1", "(block (let a 1) (let b (+ a 1)))");
    TREE("const A = 1,\n B = 2", "(block (const A 1) (const B 2))");
    TREE("var v = 3", "(let v 3)");
    TREE("var = 3", "(= var 3)");
    TREE("let x : 5", "(let x 5)");
    TREE("let x : y", "(let x y)");
    TREE("let m: Map<string, List<integer>> = {}", "(let m {map})");
    TREE("let m: integer[]? = null", "(let m null)");
    TREE("action f() -> (float, List<integer>) { }", "(action f () (block))");
    TREE("a and b or not c", "(expr (|| (&& a b) (! c)))");
    TREE("let f = x => x + 1", "(let f (lambda (x) (+ x 1)))");
    TREE("let f = lambda(x) => x", "(let f (lambda (x) x))");
    TREE("let f = lambda(x) { return x }", "(let f (lambda (x) (block (return x))))");
    TREE("let f = lambda x, y: x + y", "(let f (lambda (x y) (+ x y)))");
    TREE("let f = lambda: 1", "(let f (lambda () 1))");
    TREE("let f = (a, b) => { return a }", "(let f (lambda (a b) (block (return a))))");
    TREE("g(function(a) { return a }, action() {})",
         "(expr (call g (lambda (a) (block (return a))) (lambda () (block))))");
    TREE("action f { }", "(action f () (block))");
    TREE("public inline action f() { }", "(action f () (block))");
    TREE("let public = 1", "(let public 1)");
    TREE("action f(a: integer, b: List<string>) -> Map<string, integer> { }", "(action f (a b) (block))");
    TREE("\"a${x}b${y + 1}\"", "(expr (interp \"a\" x \"b\" (+ y 1) \"\"))");
    TREE("\"${ {k: \"}\"} }\"", "(expr (interp \"\" {map \"k\" \"}\"} \"\"))");
    TREE("'a${x}\\q'", "(expr \"a${x}q\")");
    TREE("\"\"\"a\n\"b\"\"\"", "(expr \"a\\n\"b\")");
    TREE("'''it's'''", "(expr \"it's\")");
    TREE("/* a /* b */ c */ x", "(expr x)");
    TREE("#!/usr/bin/env zexus-jit\nx", "(expr x)");
    TREE("xs[1:2]", "(expr (slice xs 1 2))");
    TREE("xs[:n - 1]", "(expr (slice xs NULL (- n 1)))");
    TREE("xs[a:]", "(expr (slice xs a NULL))");
    TREE("xs[:]", "(expr (slice xs NULL NULL))");
    TREE("join(xs, \"-\")", "(expr (call join xs \"-\"))");
    ERR("join", "1:1: error: unexpected 'join'");
    ERR("\"a${x\"", "1:3: error: unterminated '${' in a string (no '}')");
    ERR("\"a${}\"", "1:5: error: unexpected '}'");
    ERR("\"a${x y}\"", "1:7: error: expected '}' to close the '${' at 1:3, found 'y'");
    ERR("\"\"\"abc", "1:1: error: unterminated triple-quoted string");
    ERR("/* a /* b */", "1:1: error: unterminated comment");
    ERR("xs[1:2] = 3", "1:9: error: invalid assignment target");
    ERR("let f = lambda x 1", "1:18: error: expected '=>', ':' or '{' after the lambda's parameters, found '1'");
    ERR("let x : = 1", "1:9: error: expected a type name, found '='");
}

static void test_keywords_and_names(void)
{
    ERR("let if = 1", "1:5: error: expected a variable name, found 'if'");
    ERR("let fork = 1", "1:5: error: expected a variable name, found 'fork'");
    ERR("let 5 = 1", "1:5: error: expected a variable name, found '5'");
    ERR("let x 1", "1:7: error: expected '=', found '1'");
    ERR("let x", "1:6: error: expected '=', found end of input");
    ERR("let x : = 1", "1:9: error: expected a type name, found '='");
    ERR("shared const x = 1", "1:8: error: expected 'let' after 'shared', found 'const'");
    ERR("let parallel_map = 1", "1:5: error: 'parallel_map' is a reserved name");
    ERR("parallel_map = 1", "1:1: error: 'parallel_map' is a reserved name");
    ERR("parallel_map += 1", "1:1: error: 'parallel_map' is a reserved name");
    ERR("action parallel_map() {}", "1:8: error: 'parallel_map' is a reserved name");
    ERR("action f(parallel_map) {}", "1:10: error: 'parallel_map' is a reserved name");
    ERR("for each parallel_map in xs {}", "1:10: error: 'parallel_map' is a reserved name");
    TREE("let r = parallel_map(f, xs)", "(let r (call parallel_map f xs))");
    TREE("let len2 = len", "(let len2 len)");
    ERR("1 = 2", "1:3: error: invalid assignment target");
    ERR("f() = 2", "1:5: error: invalid assignment target");
    ERR("a + b += 2", "1:7: error: invalid assignment target");
    ERR("x = y = 1", "1:7: error: unexpected '='");
    ERR("action 5 {}", "1:8: error: expected '{', found '5'");
    ERR("action f 5 {}", "1:10: error: expected '(' or '{' after the action name, found '5'");
    ERR("action f(a b) {}", "1:12: error: expected ')' to close the '(' opened at 1:9");
    ERR("action f(1) {}", "1:10: error: expected a parameter name, found '1'");
    ERR("action f(a, a) {}", "1:13: error: duplicate parameter 'a'");
    ERR("for 5 in xs {}", "1:5: error: expected a loop variable name, found '5'");
    ERR("for each v of xs {}", "1:12: error: expected 'in', found 'of'");
    ERR("for each i, i in xs {}", "1:13: error: duplicate loop variable 'i'");
    ERR("for each in xs {}", "1:10: error: expected a loop variable name, found 'in'");
    ERR("x.", "1:3: error: expected a name after '.', found end of input");
    ERR("x.1", "1:3: error: expected a name after '.', found '1'");
    ERR("c ? 1", "1:6: error: expected ':' in the conditional expression, found end of input");
    ERR("join", "1:1: error: unexpected 'join'");
    ERR("in", "1:1: error: unexpected 'in'");
    ERR("}", "1:1: error: unexpected '}'");
    ERR("f(1", "1:4: error: expected ')' to close the '(' opened at 1:2");
    ERR("(1 + 2", "1:7: error: expected ')' to close the '(' opened at 1:1");
    ERR("f(1))", "1:5: error: unexpected ')'");
    ERR("let x = ", "1:9: error: unexpected end of input");
    ERR("let x = \"s\" \"t\"", "1:13: error: unexpected string literal");
    ERR("let x = 1 +", "1:12: error: unexpected end of input");
}

static void test_jumps(void)
{
    ERR("break", "1:1: error: 'break' outside a loop");
    ERR("if x { continue }", "1:8: error: 'continue' outside a loop");
    ERR("return 1", "1:1: error: 'return' outside an action");
    ERR("if x {\n  return\n}", "2:3: error: 'return' outside an action");
    ERR("while x { action f() { break } }", "1:24: error: 'break' outside a loop");
    ERR("while x { let f = () => { continue } }", "1:27: error: 'continue' outside a loop");
    TREE("while x { if y { break } else { continue } }",
         "(while x (block (if y (block break) (block continue))))");
    TREE("for each v in xs { while a { break } continue }",
         "(for v xs (block (while a (block break)) continue))");
    TREE("action f() { while x { return 1 } }", "(action f () (block (while x (block (return 1)))))");
    TREE("let f = () => { return 1 }", "(let f (lambda () (block (return 1))))");
    ERR("action f() { break }", "1:14: error: 'break' outside a loop");
}

static void test_fork(void)
{
    TREE("fork { a = 1 } fork { b = 2 } join", "(fork (block (= a 1)) (block (= b 2)))");
    TREE("fork {\n  a = 1\n}\nfork {\n  b = 2\n}\n\nfork { }\njoin\nprint(a)",
         "(fork (block (= a 1)) (block (= b 2)) (block)) (print a)");
    TREE("fork { } ; fork { } ; join", "(fork (block) (block))");
    TREE("fork { fork {} fork {} join } fork {} join", "(fork (block (fork (block) (block))) (block))");
    POS("fork { }\nfork { }\njoin", "(fork (block)@1:1 (block)@2:1)@1:1");
    ERR("fork { a = 1 } join", "1:16: error: a fork needs at least two blocks");
    ERR("fork { a = 1 } fork { b = 1 }", "1:30: error: expected 'join' to close the fork opened at 1:1");
    ERR("fork { } fork { }\nprint(1)\njoin", "2:1: error: expected 'join' to close the fork opened at 1:1");
    ERR("fork { } print(1) fork { } join", "1:10: error: expected 'join' to close the fork opened at 1:1");
    ERR("fork print(1)", "1:6: error: expected '{', found 'print'");
    ERR("let x = 1\nfork {\n  fork { } join\n} fork { } join",
        "3:12: error: a fork needs at least two blocks");
    /* barrier */
    TREE("barrier", "barrier");
    TREE("let a = 1\nbarrier\nlet b = 2", "(let a 1) barrier (let b 2)");
    TREE("action f() { barrier }", "(action f () (block barrier))");
    ERR("fork { barrier } fork { } join", "1:8: error: 'barrier' inside a fork block");
    ERR("fork { } fork { if x { while y { barrier } } } join", "1:34: error: 'barrier' inside a fork block");
    ERR("fork { } fork { fork { barrier } fork { } join } join", "1:24: error: 'barrier' inside a fork block");
    TREE("fork { action g() { barrier } } fork { let h = () => { barrier } } join",
         "(fork (block (action g () (block barrier))) (block (let h (lambda () (block barrier)))))");
    /* return / break / continue must not leave a fork block */
    ERR("action f() { fork { return 1 } fork { } join }", "1:21: error: 'return' cannot leave a fork block");
    ERR("fork { return } fork { } join", "1:8: error: 'return' cannot leave a fork block");
    ERR("while x { fork { break } fork { } join }", "1:18: error: 'break' cannot leave a fork block");
    ERR("while x { fork { } fork { if y { continue } } join }",
        "1:34: error: 'continue' cannot leave a fork block");
    TREE("fork { while x { break } } fork { for each v in xs { continue } } join",
         "(fork (block (while x (block break))) (block (for v xs (block continue))))");
    TREE("fork { action g() { return 1 } } fork { let h = () => { return 2 } } join",
         "(fork (block (action g () (block (return 1)))) (block (let h (lambda () (block (return 2))))))");
    TREE("while x { fork { } fork { } join\nbreak }", "(while x (block (fork (block) (block)) break))");
}

static void test_positions(void)
{
    POS("let x = 1 + 2 * 3", "(let x (+ 1@1:9 (* 2@1:13 3@1:17)@1:15)@1:11)@1:1");
    POS("x += 1", "(+= x@1:1 1@1:6)@1:3");
    POS("xs[i] = v", "(= (index xs@1:1 i@1:4)@1:3 v@1:9)@1:1");
    POS("  f(a)(b)", "(expr (call (call f@1:3 a@1:5)@1:3 b@1:8)@1:3)@1:3");
    POS("m.k.push(1)", "(expr (method push (. m@1:1 k)@1:3 1@1:10)@1:5)@1:1");
    POS("print(-x)", "(print (neg x@1:8)@1:7)@1:1");
    POS("a ?? b", "(expr (?? a@1:1 b@1:6)@1:3)@1:1");
    POS("c ? 1 : 2", "(expr (? c@1:1 1@1:5 2@1:9)@1:3)@1:1");
    POS("let f = (x) => x", "(let f (lambda (x) x@1:16)@1:9)@1:1");
    POS("if a {\n} elif b {\n}", "(if a@1:4 (block)@1:6 (if b@2:8 (block)@2:10)@2:3)@1:1");
    POS("let s = \"é\" + \"ü\"", "(let s (+ \"é\"@1:9 \"ü\"@1:15)@1:13)@1:1");
    POS("\t let v = [1]", "(let v [list 1@1:12]@1:11)@1:3");
    POS("/* é */ x", "(expr x@1:9)@1:9");
    POS("for each i, v in xs {\n  assert v, \"m\"\n}",
        "(for i v xs@1:18 (block (assert v@2:10 \"m\"@2:13)@2:3)@1:21)@1:1");
    POS("\xEF\xBB\xBFx", "(expr x@1:1)@1:1");
    ERR("let é = 1", "1:5: error: unexpected character U+00E9");
    ERR("let s = \"ü\" + é", "1:15: error: unexpected character U+00E9");
    ERR("x = 1\n  y = 2 $", "2:9: error: unexpected character '$'");
}

static void test_bad_bytes(void)
{
    ERRN("let x = 1\0", 10, "1:10: error: unexpected character U+0000");
    ERRN("\"a\0b\"", 5, "1:3: error: unexpected character U+0000");
    ERRN("# c\0mment", 9, "1:4: error: unexpected character U+0000");
    ERR("let x = \"\xff\"", "1:10: error: invalid UTF-8");
    ERR("# \xc3\x28\n", "1:3: error: invalid UTF-8");
    ERR("\xed\xa0\x80", "1:1: error: invalid UTF-8");          /* a surrogate */
    ERR("\"\xc0\xaf\"", "1:2: error: invalid UTF-8");           /* an overlong '/' */
    ERR("\"\xf4\x90\x80\x80\"", "1:2: error: invalid UTF-8");   /* above U+10FFFF */
    ERR("\"abc\xe2\x82", "1:5: error: invalid UTF-8");          /* truncated at the end */
    ERR("x = 1 & 2", "1:7: error: unexpected character '&'");
    ERR("x = 1 | 2", "1:7: error: unexpected character '|'");
    ERR("x = @", "1:5: error: unexpected character '@'");
    ERR("x = 'a", "1:5: error: unterminated string");
    ERR("x = \x01", "1:5: error: unexpected character U+0001");
    ERR("x = +1", "1:5: error: unexpected '+'");
    /* the first error in the text wins, lexical or not */
    ERR("let = 1\n\"unterminated", "1:5: error: expected a variable name, found '='");
    ERR("let x = 1 \"unterminated\nlet = 1", "1:11: error: unterminated string");
    /* a NULL or empty source, and an err buffer that is NULL or too small */
    CHECK_STR(parse_dump("", 0, false), "");
    zx_node *prog = zx_parse(NULL, 0, NULL, NULL, 0);
    CHECK(prog && prog->kind == N_PROGRAM && prog->n == 0);
    zx_ast_free(prog);
    CHECK(zx_parse("break", 5, "t.zx", NULL, 0) == NULL);
    char small[8];
    CHECK(zx_parse("break", 5, "t.zx", small, sizeof small) == NULL);
    CHECK_STR(small, "t.zx:1:");
    char err[128];
    CHECK(zx_parse("break", 5, NULL, err, sizeof err) == NULL);
    CHECK_STR(err, "<input>:1:1: error: 'break' outside a loop");
}

/* A text of n copies of open, then mid, then n copies of close. */
static char *nest(const char *open, const char *mid, const char *close, int n)
{
    size_t lo = strlen(open), lm = strlen(mid), lc = strlen(close);
    char *s = malloc((lo + lc) * (size_t)n + lm + 1), *q = s;
    for (int k = 0; k < n; k++, q += lo) memcpy(q, open, lo);
    memcpy(q, mid, lm);
    q += lm;
    for (int k = 0; k < n; k++, q += lc) memcpy(q, close, lc);
    *q = '\0';
    return s;
}

static const char *first_line(const char *s)
{
    static char line[256];
    snprintf(line, sizeof line, "%s", s);
    char *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    return line;
}

static void check_deep(const char *open, const char *mid, const char *close, int ok_n, int bad_n)
{
    char *s = nest(open, mid, close, ok_n);
    const char *r = parse_dump(s, strlen(s), false);
    CHECK(strncmp(r, "ERROR", 5) != 0);
    if (strncmp(r, "ERROR", 5) == 0) fprintf(stderr, "  depth %d of %s: %s\n", ok_n, open, first_line(r));
    free(s);
    s = nest(open, mid, close, bad_n);
    r = parse_dump(s, strlen(s), false);
    CHECK(strstr(r, "error: nesting too deep") != NULL);
    if (!strstr(r, "nesting too deep")) fprintf(stderr, "  depth %d of %s: %s\n", bad_n, open, first_line(r));
    free(s);
}

static void test_nesting(void)
{
    check_deep("(", "1", ")", 900, 100000);
    check_deep("[", "1", "]", 900, 100000);
    check_deep("{a: ", "1", "}", 900, 100000);
    check_deep("-", "1", "", 900, 100000);
    check_deep("!", "1", "", 900, 100000);
    check_deep("f(", "1", ")", 400, 100000);
    check_deep("2 ** ", "1", "", 400, 100000);
    check_deep("if x {\n", "", "}\n", 900, 100000);
    check_deep("while x {\n", "", "}\n", 900, 100000);
    check_deep("(y) => ", "1", "", 900, 100000);
    check_deep("1 + ", "1", "", 900, 100000);          /* a long left-associative chain */
    check_deep("", "f", "()", 900, 100000);
    check_deep("", "x", ".k", 900, 100000);
    check_deep("", "x", "[0]", 900, 100000);
    check_deep("a ?? ", "b", "", 900, 100000);
    check_deep("a ? b : ", "c", "", 900, 100000);
    /* an elif chain: each elif nests the tree one level */
    char *s = nest("", "if a {}", "\nelif b {}", 100000);
    CHECK(strstr(parse_dump(s, strlen(s), false), "nesting too deep") != NULL);
    free(s);
    s = nest("", "if a {}", "\nelif b {}", 900);
    CHECK(strncmp(parse_dump(s, strlen(s), false), "ERROR", 5) != 0);
    free(s);
    /* many statements, a long list and a long flat program are not nesting */
    s = nest("", "", "print(1)\n", 50000);
    CHECK(strncmp(parse_dump(s, strlen(s), false), "(print 1) (print 1) (print 1)", 29) == 0);
    free(s);
}

/* Every prefix of a valid program is parsed or rejected cleanly (the sanitizers watch). */
static void test_prefixes(void)
{
    const char *prog =
        "# prefixes\naction f(a, b: integer) -> integer {\n  let m = {k: [1, 2.5, \"s\\n\"], \"j\": null}\n"
        "  if a > b && !(a == 0) { return a ?? b } elif a < 0 { return -a ** 2 } else { return m.k[0] }\n"
        "}\nfor each i, v in [1, 2] { while true { break } }\nfork { let x = (y) => y * 2 } fork { print(x) } join\n"
        "shared let t = 0\nt += 1 /* c */\nassert t == 1, \"msg\"\nprint(f(1, 2), xs.push(3))\nbarrier\n";
    size_t n = strlen(prog);
    int ok = 0;
    for (size_t k = 0; k <= n; k++) {
        char err[256] = "";
        zx_node *t = zx_parse(prog, k, "t.zx", err, sizeof err);
        if (t) ok++;
        CHECK(t || strncmp(err, "t.zx:", 5) == 0);
        zx_ast_free(t);
    }
    CHECK(ok > 10);
    char err[256];
    zx_node *t = zx_parse(prog, n, "t.zx", err, sizeof err);
    CHECK(t != NULL);
    if (!t) fprintf(stderr, "  %s\n", err);
    zx_ast_free(t);
}

static void test_match_enum(void)
{
    TREE("let r = match x { 1 => \"a\", n => n, _ => null }",
         "(let r (match x (is 1 \"a\") (bind (lambda (n) n)) (_ null)))");
    TREE("match x {\n  case -1: print(1)\n  default: { y = 2 }\n}",
         "(match-stmt x (is (neg 1) (print 1)) (_ (block (= y 2))))");
    TREE("match x { 1 => {a: 1}, Color.RED => {} }",
         "(match-stmt x (is 1 (expr {map \"a\" 1})) (is (. Color RED) (expr {map})))");
    TREE("pattern v { limit => print \"l\"; default => print \"d\" }",
         "(pattern v (is limit (print \"l\")) (_ (print \"d\")))");
    TREE("match x { k => print(k) }", "(match-stmt x (bind (lambda (k) (block (print k)))))");
    /* contextual: names where no `match SUBJECT {` follows */
    TREE("let match = 1\nmatch.real\nif match { }\nf(match(1), match)",
         "(let match 1) (expr (. match real)) (if match (block)) (expr (call f (call match 1) match))");
    TREE("enum E { A, B = -5, C = \"c\", D }", "(enum E {map \"A\" 0 \"B\" -5 \"C\" \"c\" \"D\" 3})");
    ERR("let r = match x { 1 => { print(1) } }", "1:24: error: the arms of a match used as a value are expressions, not blocks");
    ERR("match x { }", "1:1: error: a match needs at least one arm");
    ERR("match x { 1 \"a\" }", "1:13: error: expected '=>' after the pattern, found string literal");
    ERR("match x { P(a) => 1 }", "1:11: error: constructor patterns ('P'(...)) are not supported");
    ERR("while true { match x { n => break } }", "1:29: error: 'break' cannot leave a match arm that binds a name");
    ERR("enum E { A, A }", "1:13: error: duplicate enum member 'A'");
    ERR("enum E { A = 1.5 }", "1:14: error: expected an integer or a string as the member's value, found '1.5'");
}

static void test_colon_blocks(void)
{
    TREE("if a:\n    b\n    c\nelse:\n    d\ne",
         "(if a (block (expr b) (expr c)) (block (expr d))) (expr e)");
    TREE("action f(x):\n  if x: return 1\n  return 2\n", "(action f (x) (block (if x (block (return 1))) (return 2)))");
    TREE("if a:\n  if b:\n    c\nelse:\n  d", "(if a (block (if b (block (expr c)))) (block (expr d)))");
    TREE("let f = action(v): return v\nprint f(1)", "(let f (lambda (v) (block (return v)))) (print (call f 1))");
    ERR("if a:\nb", "2:1: error: expected an indented block after the ':' at 1:5");
    ERR("if a:\n  b\n    c", "3:5: error: unexpected indentation: the block after the ':' at 1:5 is at column 3");
}

int main(void)
{
    test_precedence();
    test_postfix();
    test_literals();
    test_maps();
    test_statements();
    test_if_chains();
    test_newlines();
    test_comments();
    test_lambdas();
    test_everyday_syntax();
    test_keywords_and_names();
    test_jumps();
    test_fork();
    test_positions();
    test_bad_bytes();
    test_nesting();
    test_prefixes();
    test_match_enum();
    test_colon_blocks();
    return CHECK_DONE();
}
