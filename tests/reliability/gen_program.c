/* gen_program.c — prints one random Zexus program, determined by a seed, for the differential
 * test (tests/reliability/differential.sh): every execution tier must give the interpreter's
 * stdout, stderr and exit status for it.
 *
 * usage: gen_program SEED
 *
 * The programs always terminate quickly: every loop has a counter bounded by a constant, every
 * recursion a bounded depth, lists a bounded length, and the generator keeps a static estimate
 * of the work each action does so that calls inside loops stay cheap. They compile (a compile
 * error would be the generator's bug), and they cover: int arithmetic near the 64-bit limits
 * (so `+ - * **` overflow sometimes), division and modulo by zero sometimes, floats mixed with
 * ints, variables that turn from int to float in the middle of a loop, comparisons and boolean
 * logic, if/elif/else, while with break/continue, for each over lists, maps, ranges and
 * strings, actions with parameters, bounded recursion, lambdas and closures that capture (and
 * mutate) variables by reference, lists and maps mutated in place, strings, actions called from
 * loops that write the globals the loop reads, prints of many values, big list and map
 * literals of constants, and cyclic data (self-holding lists and maps, closure/cell cycles,
 * garbage cycles made in loops) for the cycle collector, small pure actions called in loops
 * with arguments of known types (what the JIT inlines). Some programs end in
 * a runtime error on purpose (overflow, division by zero, index out of range, int() of a bad
 * float, an invalid power, a recursion deeper than the call depth limit); most (about 85%) run
 * to completion. A seed gives the same program on every platform and compiler.
 *
 * The generator tracks the static type of every variable it may use (int, number = int or
 * float, string, bool, list of ints or of numbers, map of string to int) and only writes
 * expressions that are well typed, except where it takes one of the deliberate risks above.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- random numbers (splitmix64) ---- */
static uint64_t rng_state;

static uint64_t next_u64(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int rnd(int n) { return n <= 1 ? 0 : (int)(next_u64() % (uint64_t)n); }
static int chance(int percent) { return rnd(100) < percent; }

/* ---- growing strings ---- */
typedef struct {
    char *p;
    size_t len, cap;
} Buf;

static void bput(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bput(Buf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            fprintf(stderr, "gen_program: formatting failed\n");
            exit(2);
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap - b->len <= (size_t)n)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            fprintf(stderr, "gen_program: out of memory\n");
            exit(2);
        }
        b->p = p;
        b->cap = cap;
    }
}

static const char *bstr(Buf *b) { return b->p ? b->p : ""; }
static void bfree(Buf *b) { free(b->p); b->p = NULL; b->len = b->cap = 0; }

/* ---- variables and callables the generator may use ---- */
#define T_INT 0  /* always an Integer */
#define T_NUM 1  /* an Integer or a Float */
#define T_STR 2
#define T_BOOL 3
#define T_LIST 4 /* a list of Integers, or of numbers (elem), never empty */
#define T_MAP 5  /* a map from one-letter strings to Integers */
#define T_NONE 6 /* an action that returns nothing useful */

#define LIST_CAP 40 /* the most elements a generated list can reach */
#define MAX_VARS 1024
#define MAX_FNS 128

typedef struct {
    char name[24];
    int type;
    int assignable; /* loop counters and loop variables are not */
    int maxlen;     /* lists: an upper bound of the length */
    int elem;       /* lists: T_INT or T_NUM, the type of the elements */
    int busy;       /* lists and maps being iterated: not mutated */
} Var;

#define K_PLAIN 0   /* name(args) */
#define K_BOUNDED 1 /* name((e) % bound, args...): bounded recursion */
#define K_APPLY 2   /* name(f, int): calls f, an int -> int callable */
#define K_FIELD 3   /* obj["inc"](int), a closure stored in a map */

typedef struct {
    char name[24];
    int np;
    int ptype[3];
    int ret;
    long cost; /* estimated steps of one call */
    int kind;
    int bound;
    int deep_ok; /* K_BOUNDED, linear: may be called deeper than the call depth limit */
} Fn;

static Var vars[MAX_VARS];
static int nvars;
static Fn fns[MAX_FNS];
static int nfns;
static int uniq; /* for fresh names */

/* where the generator is */
static int in_action;   /* generating the body of an action or lambda */
static long mult = 1;   /* product of the iteration bounds of the loops around here */
static long fcost;      /* steps of the current action (or the whole top level) so far */
static long fbudget;    /* what the current action (or the top level) may spend */
static int loop_depth;  /* loops around here in the current function */
static int block_depth; /* 0: the function's own statement list (may declare) */
static int indent;
static int fn_ret = T_NONE;
/* set while writing a value that is stored as a string: it may not read string variables or
 * call string actions, so strings cannot double in a loop (s = s + s) */
static int no_str_vars;
/* calls may only go to fns[0 .. fn_limit-1]: a callable calls only older ones, so no call
 * cycle (and no unbounded recursion) can form, even after callables are reassigned */
static int fn_limit = MAX_FNS;

/* risk levels of this program, in percent per opportunity */
static int p_zero; /* a divisor that may be zero */
static int p_big;  /* an operation near the 64-bit limits */
static int p_oob;  /* a list index assignment that may be out of range */
static int p_conv; /* int() of an arbitrary number, ** 0.5 of an arbitrary number */

static Buf out;

static void line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void line(const char *fmt, ...)
{
    for (int i = 0; i < indent; i++)
        bput(&out, "    ");
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);   /* a big literal's line is longer than any fixed buffer */
    va_end(ap);
    char *tmp = malloc((size_t)(n > 0 ? n : 0) + 1);
    if (!tmp) {
        fprintf(stderr, "gen_program: out of memory\n");
        exit(2);
    }
    va_start(ap, fmt);
    vsnprintf(tmp, (size_t)(n > 0 ? n : 0) + 1, fmt, ap);
    va_end(ap);
    bput(&out, "%s\n", tmp);
    free(tmp);
}

static void fresh(char *dst, const char *prefix)
{
    snprintf(dst, 24, "%s%d", prefix, uniq++);
}

static Var *add_var(const char *name, int type, int assignable)
{
    if (nvars >= MAX_VARS) {
        fprintf(stderr, "gen_program: too many variables\n");
        exit(2);
    }
    Var *v = &vars[nvars++];
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", name);
    v->type = type;
    v->assignable = assignable;
    return v;
}

static Fn *add_fn(const char *name, int np, int ret, long cost, int kind)
{
    if (nfns >= MAX_FNS) {
        fprintf(stderr, "gen_program: too many actions\n");
        exit(2);
    }
    Fn *f = &fns[nfns++];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    f->np = np;
    f->ret = ret;
    f->cost = cost;
    f->kind = kind;
    for (int i = 0; i < 3; i++)
        f->ptype[i] = T_INT;
    return f;
}

/* A random variable of type t (T_NUM accepts T_INT too); assignable_only for targets. */
static Var *pick_var(int t, int assignable_only)
{
    int cand[MAX_VARS], n = 0;
    for (int i = 0; i < nvars; i++) {
        Var *v = &vars[i];
        if (assignable_only && !v->assignable)
            continue;
        if (t == T_STR && no_str_vars && !assignable_only)
            continue;
        if (v->type == t || (t == T_NUM && v->type == T_INT && !assignable_only))
            cand[n++] = i;
    }
    return n ? &vars[cand[rnd(n)]] : NULL;
}

/* A random list whose elements are of type elem (T_NUM: any list). */
static Var *pick_list(int elem)
{
    int cand[MAX_VARS], n = 0;
    for (int i = 0; i < nvars; i++)
        if (vars[i].type == T_LIST && (elem == T_NUM || vars[i].elem == elem))
            cand[n++] = i;
    return n ? &vars[cand[rnd(n)]] : NULL;
}

/* ---- expressions ---- */
static void e_int(Buf *b, int d);
static void e_num(Buf *b, int d);
static void e_str(Buf *b, int d);
static void e_bool(Buf *b, int d);
static void e_list(Buf *b, int d, int elem);
static void e_any(Buf *b, int d);
static void e_typed(Buf *b, int t, int d);

static const char *map_keys = "abcdef";

static void small_int(Buf *b)
{
    switch (rnd(5)) {
    case 0: bput(b, "%d", rnd(3)); break;
    case 1: bput(b, "%d", rnd(10)); break;
    case 2: bput(b, "%d", rnd(100)); break;
    case 3: bput(b, "%d", 100 + rnd(100000)); break;
    default: bput(b, "-%d", 1 + rnd(20)); break;
    }
}

static void nonzero_int(Buf *b)
{
    int v = 1 + rnd(9);
    if (chance(25))
        bput(b, "(0 - %d)", v);
    else
        bput(b, "%d", v);
}

/* An expression near the 64-bit limits: overflows for some values of the small part. */
static void big_int(Buf *b, int d)
{
    static const char *const big[] = {"9223372036854775807", "9223372036854775800",
                                      "9223372036854775000", "4611686018427387904",
                                      "(0 - 9223372036854775807)", "(0 - 9223372036854775807 - 1)"};
    static const char *const root[] = {"3037000499", "3037000500", "2147483648", "4294967296"};
    Buf s = {0};
    e_int(&s, d > 1 ? 1 : d);
    switch (rnd(6)) {
    case 0: bput(b, "(%s + %s)", big[rnd(4)], bstr(&s)); break;
    case 1: bput(b, "(%s - %s)", big[4 + rnd(2)], bstr(&s)); break;
    case 2: bput(b, "(%s * (%s %% 3))", root[rnd(4)], bstr(&s)); break;
    case 3: bput(b, "((%s %% 4 + 2) ** 62)", bstr(&s)); break;
    case 4: {
        /* one rnd() per statement: the order of evaluation of arguments is unspecified, and a
         * seed must give the same program whatever the compiler */
        const char *r1 = root[rnd(4)];
        bput(b, "(%s * %s)", r1, root[rnd(4)]);
        break;
    }
    default: bput(b, "(%s / (%s %% 2 - 1))", big[5], bstr(&s)); break;
    }
    bfree(&s);
}

static int callable(const Fn *f)
{
    return f - fns < fn_limit && fcost + mult * (f->cost + 1) <= fbudget;
}

/* A call of a callable that returns ret (T_NUM accepts int-returning ones), or 0. */
static int e_call(Buf *b, int ret, int d)
{
    int cand[MAX_FNS], n = 0;
    if (ret == T_STR && no_str_vars)
        return 0;
    for (int i = 0; i < nfns; i++)
        if ((fns[i].ret == ret || (ret == T_NUM && fns[i].ret == T_INT)) && callable(&fns[i]))
            cand[n++] = i;
    if (!n)
        return 0;
    Fn *f = &fns[cand[rnd(n)]];
    fcost += mult * (f->cost + 1);
    Buf a = {0};
    switch (f->kind) {
    case K_BOUNDED:
        e_int(&a, d - 1);
        if (f->deep_ok && chance(p_conv * 2))
            /* deeper than the default --max-depth (10000): "call depth limit exceeded" */
            bput(b, "%s((%s) %% %d + 10000", f->name, bstr(&a), f->bound);
        else
            bput(b, "%s((%s) %% %d", f->name, bstr(&a), f->bound);
        for (int i = 1; i < f->np; i++) {
            a.len = 0;
            e_int(&a, d - 1);
            bput(b, ", %s", bstr(&a));
        }
        bput(b, ")");
        break;
    case K_APPLY: {
        /* an int -> int callable, or a lambda written here */
        int g[MAX_FNS], ng = 0;
        for (int i = 0; i < nfns; i++)
            if (fns[i].kind == K_PLAIN && fns[i].np == 1 && fns[i].ret == T_INT &&
                fns[i].ptype[0] == T_INT && fns[i].cost <= 20 && i < fn_limit)
                g[ng++] = i;
        e_int(&a, d - 1);
        if (ng && chance(60)) {
            bput(b, "%s(%s, %s)", f->name, fns[g[rnd(ng)]].name, bstr(&a));
        } else {
            char x[24];
            fresh(x, "x");
            int save = nvars;
            add_var(x, T_INT, 0);
            Buf body = {0};
            int save_ia = in_action;
            in_action = 1;
            e_int(&body, 2);
            in_action = save_ia;
            nvars = save;
            bput(b, "%s((%s) => %s, %s)", f->name, x, bstr(&body), bstr(&a));
            bfree(&body);
        }
        break;
    }
    case K_FIELD:
        e_int(&a, d - 1);
        bput(b, "%s[\"inc\"](%s)", f->name, bstr(&a));
        break;
    default:
        bput(b, "%s(", f->name);
        for (int i = 0; i < f->np; i++) {
            a.len = 0;
            if (f->ptype[i] == T_INT)
                e_int(&a, d - 1);
            else
                e_num(&a, d - 1);
            bput(b, "%s%s", i ? ", " : "", bstr(&a));
        }
        bput(b, ")");
        break;
    }
    bfree(&a);
    return 1;
}

static void e_int(Buf *b, int d)
{
    Buf x = {0}, y = {0};
    int k = d <= 0 ? rnd(3) : rnd(20);
    Var *v;
    switch (k) {
    case 0:
        small_int(b);
        break;
    case 1:
    case 2:
    case 3:
        if ((v = pick_var(T_INT, 0)))
            bput(b, "%s", v->name);
        else
            small_int(b);
        break;
    case 4:
    case 5:
    case 6: {
        static const char *const ops[] = {"+", "-", "*", "+", "-"};
        e_int(&x, d - 1);
        e_int(&y, d - 1);
        bput(b, "(%s %s %s)", bstr(&x), ops[rnd(5)], bstr(&y));
        break;
    }
    case 7:
        e_int(&x, d - 1);
        if (chance(p_zero)) {
            Buf z = {0};
            e_int(&z, d - 1);
            bput(&y, "(%s %% 3 - 1)", bstr(&z)); /* zero for a third of the values */
            bfree(&z);
        } else {
            nonzero_int(&y);
        }
        bput(b, "(%s %s %s)", bstr(&x), chance(50) ? "/" : "%", bstr(&y));
        break;
    case 8:
        switch (rnd(3)) {
        case 0: e_str(&x, d - 1); break;
        case 1: e_list(&x, d - 1, T_NUM); break;
        default:
            if ((v = pick_var(T_MAP, 0)))
                bput(&x, "%s", v->name);
            else
                e_list(&x, d - 1, T_NUM);
            break;
        }
        bput(b, "len(%s)", bstr(&x));
        break;
    case 9:
        e_list(&x, d - 1, T_INT);
        e_int(&y, d - 1);
        bput(b, "(%s[%s] ?? %d)", bstr(&x), bstr(&y), rnd(5));
        break;
    case 10:
        if ((v = pick_var(T_MAP, 0))) {
            if (chance(50))
                bput(b, "(%s[\"%c\"] ?? 0)", v->name, map_keys[rnd(6)]);
            else
                bput(b, "(%s.%c ?? 1)", v->name, map_keys[rnd(6)]);
        } else {
            small_int(b);
        }
        break;
    case 11:
    case 12:
        if (!e_call(b, T_INT, d))
            small_int(b);
        break;
    case 13:
        e_bool(&x, d - 1);
        e_int(&y, d - 1);
        bput(b, "(%s ? %s : ", bstr(&x), bstr(&y));
        y.len = 0;
        e_int(&y, d - 1);
        bput(b, "%s)", bstr(&y));
        break;
    case 14:
        e_int(&x, d - 1);
        bput(b, "-(%s)", bstr(&x));
        break;
    case 15:
        e_int(&x, d - 1);
        bput(b, "(%s ** %d)", bstr(&x), rnd(4));
        break;
    case 16:
        if (chance(p_big))
            big_int(b, d - 1);
        else
            bput(b, "%d", rnd(1000));
        break;
    case 17:
        if (chance(p_conv)) {
            e_num(&x, d - 1);
            bput(b, "int(%s)", bstr(&x));
        } else {
            e_int(&x, d - 1);
            bput(b, "int(%s * 1.5)", bstr(&x));
        }
        break;
    case 18: {
        e_int(&x, d - 1);
        int add = rnd(50);
        bput(b, "((%s * 7 + %d) %% %d)", bstr(&x), add, 10 + rnd(1000));
        break;
    }
    default:
        e_num(&x, d - 1);
        bput(b, "len(string(%s))", bstr(&x));
        break;
    }
    bfree(&x);
    bfree(&y);
}

static void float_lit(Buf *b)
{
    static const char *const lits[] = {"0.5", "1.25", "2.0", "0.1", "0.2", "3.75", "10.5",
                                       "100.0", "1.0", "0.0", "7.125", "1000000.5",
                                       "9007199254740992.0", "0.333", "123456789.75"};
    bput(b, "%s", lits[rnd(15)]);
}

static void e_num(Buf *b, int d)
{
    Buf x = {0}, y = {0};
    int k = d <= 0 ? rnd(3) : rnd(15);
    Var *v;
    switch (k) {
    case 0:
        float_lit(b);
        break;
    case 1:
    case 2:
        if ((v = pick_var(T_NUM, 0)))
            bput(b, "%s", v->name);
        else
            float_lit(b);
        break;
    case 3:
    case 4:
        e_int(b, d - 1);
        break;
    case 5:
    case 6: {
        static const char *const ops[] = {"+", "-", "*"};
        e_num(&x, d - 1);
        e_num(&y, d - 1);
        bput(b, "(%s %s %s)", bstr(&x), ops[rnd(3)], bstr(&y));
        break;
    }
    case 7:
        e_num(&x, d - 1);
        if (chance(p_zero)) {
            Buf z = {0};
            e_int(&z, d - 1);
            bput(&y, "(float(%s %% 2) - 1.0)", bstr(&z));
            bfree(&z);
        } else if (chance(50))
            nonzero_int(&y);
        else
            bput(&y, "%s", chance(50) ? "2.5" : "0.25");
        bput(b, "(%s %s %s)", bstr(&x), chance(50) ? "/" : "%", bstr(&y));
        break;
    case 8:
        e_int(&x, d - 1);
        bput(b, "float(%s)", bstr(&x));
        break;
    case 9:
        if (!e_call(b, T_NUM, d))
            float_lit(b);
        break;
    case 10:
        e_bool(&x, d - 1);
        e_num(&y, d - 1);
        bput(b, "(%s ? %s : ", bstr(&x), bstr(&y));
        y.len = 0;
        e_num(&y, d - 1);
        bput(b, "%s)", bstr(&y));
        break;
    case 11:
        e_num(&x, d - 1);
        if (chance(p_conv))
            bput(b, "(%s ** 0.5)", bstr(&x));
        else
            bput(b, "(%s ** %d)", bstr(&x), rnd(3));
        break;
    case 12:
        e_num(&x, d - 1);
        bput(b, "-(%s)", bstr(&x));
        break;
    case 13:
        e_list(&x, d - 1, T_NUM);
        e_int(&y, d - 1);
        bput(b, "(%s[%s] ?? 0.5)", bstr(&x), bstr(&y));
        break;
    default:
        e_int(&x, d - 1);
        bput(b, "(%s + 0.5)", bstr(&x));
        break;
    }
    bfree(&x);
    bfree(&y);
}

static void str_lit(Buf *b)
{
    static const char *const lits[] = {"a", "xy", "hello", "", "Zx", "h\u00e9llo", " ", "q\\tr",
                                       "line\\n2", "\\\"q\\\"", "10", "-"};
    bput(b, "\"%s\"", lits[rnd(12)]);
}

static void e_str(Buf *b, int d)
{
    Buf x = {0}, y = {0};
    int k = d <= 0 ? rnd(2) : rnd(10);
    Var *v;
    switch (k) {
    case 0:
        str_lit(b);
        break;
    case 1:
    case 2:
        if ((v = pick_var(T_STR, 0)))
            bput(b, "%s", v->name);
        else
            str_lit(b);
        break;
    case 3:
        e_str(&x, d - 1);
        e_str(&y, d - 1);
        bput(b, "(%s + %s)", bstr(&x), bstr(&y));
        break;
    case 4:
        switch (rnd(4)) {
        case 0: e_num(&x, d - 1); break;
        case 1: e_int(&x, d - 1); break;
        case 2: e_list(&x, d - 1, T_NUM); break;
        default: e_bool(&x, d - 1); break;
        }
        bput(b, "string(%s)", bstr(&x));
        break;
    case 5:
        str_lit(&x);
        bput(b, "(%s * %d)", bstr(&x), rnd(4));
        break;
    case 6:
        e_str(&x, d - 1);
        e_int(&y, d - 1);
        bput(b, "(%s[%s] ?? \"?\")", bstr(&x), bstr(&y));
        break;
    case 7:
        e_num(&x, d - 1);
        bput(b, "type(%s)", bstr(&x));
        break;
    case 8:
        if (!e_call(b, T_STR, d))
            str_lit(b);
        break;
    default:
        e_bool(&x, d - 1);
        e_str(&y, d - 1);
        bput(b, "(%s ? %s : \"no\")", bstr(&x), bstr(&y));
        break;
    }
    bfree(&x);
    bfree(&y);
}

static void e_bool(Buf *b, int d)
{
    Buf x = {0}, y = {0};
    int k = d <= 0 ? rnd(2) : rnd(12);
    Var *v;
    static const char *const cmp[] = {"<", ">", "<=", ">=", "==", "!="};
    switch (k) {
    case 0:
        bput(b, "%s", chance(50) ? "true" : "false");
        break;
    case 1:
    case 2:
        e_num(&x, d - 1);
        e_num(&y, d - 1);
        bput(b, "(%s %s %s)", bstr(&x), cmp[rnd(6)], bstr(&y));
        break;
    case 3:
        e_int(&x, d - 1);
        e_int(&y, d - 1);
        bput(b, "(%s %s %s)", bstr(&x), cmp[rnd(6)], bstr(&y));
        break;
    case 4:
        e_str(&x, d - 1);
        e_str(&y, d - 1);
        bput(b, "(%s %s %s)", bstr(&x), cmp[rnd(6)], bstr(&y));
        break;
    case 5:
        e_bool(&x, d - 1);
        bput(b, "!(%s)", bstr(&x));
        break;
    case 6:
    case 7:
        e_bool(&x, d - 1);
        e_bool(&y, d - 1);
        bput(b, "(%s %s %s)", bstr(&x), chance(50) ? "&&" : "||", bstr(&y));
        break;
    case 8:
        if ((v = pick_var(T_MAP, 0)))
            bput(b, "%s.has(\"%c\")", v->name, map_keys[rnd(6)]);
        else
            bput(b, "true");
        break;
    case 9:
        e_list(&x, d - 1, T_NUM);
        if (chance(50)) {
            bput(b, "%s.is_empty()", bstr(&x));
        } else {
            e_list(&y, d - 1, T_NUM);
            bput(b, "(%s == %s)", bstr(&x), bstr(&y));
        }
        break;
    case 10:
        if ((v = pick_var(T_BOOL, 0)))
            bput(b, "%s", v->name);
        else
            bput(b, "false");
        break;
    default:
        e_int(&x, d - 1);
        bput(b, "(%s %% 2 == 0)", bstr(&x));
        break;
    }
    bfree(&x);
    bfree(&y);
}

static void e_list(Buf *b, int d, int elem)
{
    Var *v;
    if (chance(65) && (v = pick_list(elem))) {
        bput(b, "%s", v->name);
        return;
    }
    if (chance(30)) {
        bput(b, "range(%d)", rnd(6));
        return;
    }
    bput(b, "[");
    int n = rnd(4);
    for (int i = 0; i < n; i++) {
        Buf x = {0};
        e_typed(&x, elem, d - 1);
        bput(b, "%s%s", i ? ", " : "", bstr(&x));
        bfree(&x);
    }
    bput(b, "]");
}

static void e_any(Buf *b, int d)
{
    Var *v;
    switch (rnd(9)) {
    case 0: case 1: e_int(b, d); break;
    case 2: case 3: e_num(b, d); break;
    case 4: e_str(b, d); break;
    case 5: e_bool(b, d); break;
    case 6: e_list(b, d, T_NUM); break;
    case 7:
        if ((v = pick_var(T_MAP, 0)))
            bput(b, "%s", v->name);
        else
            e_int(b, d);
        break;
    default:
        if (nfns && chance(30))
            bput(b, "%s", fns[rnd(nfns)].name);
        else
            e_num(b, d);
        break;
    }
}

static void e_typed(Buf *b, int t, int d)
{
    switch (t) {
    case T_INT: e_int(b, d); break;
    case T_NUM: e_num(b, d); break;
    case T_STR: e_str(b, d); break;
    case T_BOOL: e_bool(b, d); break;
    default: e_int(b, d); break;
    }
}

/* ---- statements ---- */
static void stmts(int n, int d);
static void stmt(int d);
static void st_reassign_callable(void);

static void step(void) { fcost += mult; }

static void st_print(void)
{
    Buf b = {0};
    int n = rnd(3) == 0 ? 1 : 1 + rnd(6);
    for (int i = 0; i < n; i++) {
        Buf x = {0};
        e_any(&x, 2);
        bput(&b, "%s%s", i ? ", " : "", bstr(&x));
        bfree(&x);
    }
    if (n == 1 && chance(15))
        line("print %s", bstr(&b));
    else
        line("print(%s)", bstr(&b));
    bfree(&b);
    step();
}

static void st_assign(void)
{
    static const int types[] = {T_INT, T_INT, T_NUM, T_NUM, T_STR, T_BOOL};
    int t = types[rnd(6)];
    Var *v = pick_var(t, 1);
    if (!v) {
        st_print();
        return;
    }
    Buf x = {0};
    if (t == T_INT && chance(25)) {
        static const char *const ops[] = {"+=", "-=", "*="};
        e_int(&x, 2);
        line("%s %s %s", v->name, ops[rnd(3)], bstr(&x));
    } else if (t == T_INT && chance(20)) {
        /* a bounded update, so loops keep their values in range */
        e_int(&x, 1);
        int m = 2 + rnd(30);
        line("%s = (%s * %d + %s) %% %d", v->name, v->name, m, bstr(&x), 97 + rnd(10000));
    } else if (t == T_NUM && chance(25)) {
        static const char *const ops[] = {"+=", "-=", "*=", "/="};
        int o = rnd(4);
        if (o == 3)
            nonzero_int(&x);
        else
            e_num(&x, 2);
        line("%s %s %s", v->name, ops[o], bstr(&x));
    } else if (t == T_STR && chance(40)) {
        str_lit(&x);
        line("%s = %s + %s", v->name, v->name, bstr(&x));
    } else {
        no_str_vars = t == T_STR;
        e_typed(&x, t, 2 + chance(30));
        no_str_vars = 0;
        line("%s = %s", v->name, bstr(&x));
    }
    bfree(&x);
    step();
}

static void st_let(void)
{
    static const int types[] = {T_INT, T_INT, T_NUM, T_STR, T_BOOL};
    int t = types[rnd(5)];
    char name[24];
    fresh(name, "v");
    Buf x = {0};
    no_str_vars = t == T_STR;
    e_typed(&x, t, 2 + chance(30));
    no_str_vars = 0;
    line("let %s = %s", name, bstr(&x));
    bfree(&x);
    add_var(name, t, 1);
    step();
}

static void block(int n, int d)
{
    int save = nvars;
    indent++;
    block_depth++;
    stmts(n, d);
    block_depth--;
    indent--;
    nvars = save; /* what the block declared may not have run */
}

static void st_if(int d)
{
    Buf c = {0};
    e_bool(&c, 2);
    line("if (%s) {", bstr(&c));
    step();
    block(1 + rnd(3), d - 1);
    int elifs = rnd(3) / 2;
    for (int i = 0; i < elifs; i++) {
        c.len = 0;
        e_bool(&c, 2);
        line("} %s (%s) {", chance(80) ? "elif" : "else if", bstr(&c));
        block(1 + rnd(2), d - 1);
    }
    if (chance(60)) {
        line("} else {");
        block(1 + rnd(2), d - 1);
    }
    line("}");
    bfree(&c);
}

/* try / catch / finally and throw (issue 15): a block that may fail (runtime faults the
 * p_* knobs allow, or an explicit throw of a value of any type), caught and printed, or
 * passed on through a finally block; a defer now and then */
static void st_try(int d)
{
    char e[24];
    fresh(e, "e");
    Buf c = {0}, x = {0};
    int form = rnd(4);   /* 0, 1: catch; 2: catch and finally; 3: finally only */
    if (chance(15)) {
        line("defer { print(\"deferred\", %d) }", rnd(100));
        step();
    }
    line("try {");
    step();
    block(1 + rnd(3), d - 1);
    if (chance(60)) {
        e_bool(&c, 2);
        e_any(&x, 2);
        line("    if (%s) { throw %s }", bstr(&c), bstr(&x));
    }
    if (form <= 2) {
        line("} catch (%s) {", e);
        line("    print(\"caught\", %s)", e);
        if (chance(30)) block(1, d - 1);
    }
    if (form >= 2) {
        line("} finally {");
        block(1 + rnd(2), d - 1);
    }
    line("}");
    bfree(&c);
    bfree(&x);
}

static int loop_bound(int want)
{
    long cap = in_action ? 60 : 600;
    while (want > 1 && mult * want > cap)
        want /= 2;
    return want;
}

/* while with a counter that is incremented first, so continue cannot skip it */
static void st_while(int d)
{
    int k = loop_bound(2 + rnd(14));
    char i[24];
    fresh(i, "i");
    line("let %s = 0", i);
    Buf c = {0};
    int form = rnd(3);
    if (form == 0) {
        line("while (%s < %d) {", i, k);
    } else if (form == 1) {
        e_bool(&c, 1);
        line("while (%s < %d && (%s || %s < %d)) {", i, k, bstr(&c), i, k / 2 + 1);
    } else {
        line("while (true) {");
    }
    indent++;
    line("%s = %s + 1", i, i);
    if (form == 2)
        line("if (%s > %d) { break }", i, k);
    indent--;
    add_var(i, T_INT, 0);
    long save_mult = mult;
    mult *= k;
    loop_depth++;
    step();
    block(1 + rnd(3), d - 1);
    loop_depth--;
    mult = save_mult;
    line("}");
    bfree(&c);
}

static void st_foreach(int d)
{
    char v[24], ix[24];
    fresh(v, "e");
    fresh(ix, "k");
    int what = rnd(5);
    Var *coll = NULL;
    int n;
    Buf c = {0};
    int save = nvars;
    if (what <= 1) {
        Var *lv = pick_list(T_NUM);
        int elem = T_INT;
        if (lv && chance(75)) {
            elem = lv->elem;
            coll = lv;
            bput(&c, "%s", lv->name);
            n = lv->maxlen > 0 ? LIST_CAP : 4;
        } else {
            n = rnd(6);
            bput(&c, "range(%d, %d)", rnd(3), n + 2);
            n += 2;
        }
        if (mult * n > (in_action ? 200 : 2400)) {
            bfree(&c);
            st_assign();
            return;
        }
        if (chance(40)) {
            line("for each %s, %s in %s {", ix, v, bstr(&c));
            add_var(ix, T_INT, 0);
        } else {
            line("for each %s in %s {", v, bstr(&c));
        }
        add_var(v, elem, 0);
    } else if (what <= 3) {
        coll = pick_var(T_MAP, 0);
        if (!coll) {
            st_assign();
            return;
        }
        n = 6 + 6;
        if (mult * n > (in_action ? 200 : 2400)) {
            st_assign();
            return;
        }
        if (chance(50)) {
            line("for each %s, %s in %s {", ix, v, coll->name);
            add_var(v, T_INT, 0);
        } else {
            line("for each %s in %s {", ix, coll->name);
        }
        add_var(ix, T_STR, 0);
    } else {
        e_str(&c, 1);
        n = 24;
        if (mult * n > (in_action ? 200 : 2400)) {
            bfree(&c);
            st_assign();
            return;
        }
        line("for each %s in %s {", v, bstr(&c));
        add_var(v, T_STR, 0);
    }
    bfree(&c);
    if (coll)
        coll->busy++;
    long save_mult = mult;
    mult *= n;
    loop_depth++;
    step();
    block(1 + rnd(3), d - 1);
    loop_depth--;
    mult = save_mult;
    if (coll)
        coll->busy--;
    line("}");
    nvars = save; /* the loop variables are unset when the loop did not run */
}

static void st_list(void)
{
    Var *l = pick_list(T_NUM);
    if (!l) {
        st_print();
        return;
    }
    Buf x = {0}, y = {0};
    int k = rnd(6);
    if (k == 0 && !in_action && !l->busy && l->maxlen + mult <= LIST_CAP) {
        e_typed(&x, l->elem, 2);
        line("%s.push(%s)", l->name, bstr(&x));
        l->maxlen += (int)mult;
    } else if (k == 1 && !in_action && !l->busy && l->maxlen + mult <= LIST_CAP) {
        e_typed(&x, l->elem, 2);
        line("print(%s.push(%s))", l->name, bstr(&x));
        l->maxlen += (int)mult;
    } else if (k == 2 && !l->busy) {
        line("if (len(%s) > 1) {", l->name);
        line("    print(%s.pop())", l->name);
        line("}");
    } else if (k == 3 && chance(p_oob)) {
        e_int(&x, 1);
        e_typed(&y, l->elem, 2);
        line("%s[%s] = %s", l->name, bstr(&x), bstr(&y));
    } else if (k == 4) {
        e_int(&x, 1);
        e_typed(&y, l->elem, 2);
        line("%s[(%s) %% len(%s)] += %s", l->name, bstr(&x), l->name, bstr(&y));
    } else {
        e_int(&x, 1);
        e_typed(&y, l->elem, 2);
        line("%s[(%s) %% len(%s)] = %s", l->name, bstr(&x), l->name, bstr(&y));
    }
    bfree(&x);
    bfree(&y);
    step();
}

static void st_map(void)
{
    Var *m = pick_var(T_MAP, 0);
    if (!m || m->busy) {
        st_assign();
        return;
    }
    Buf x = {0};
    char key = map_keys[rnd(6)];
    e_int(&x, 2);
    if (chance(50))
        line("%s[\"%c\"] = %s", m->name, key, bstr(&x));
    else
        line("%s[\"%c\"] = (%s[\"%c\"] ?? 0) + %s", m->name, key, m->name, key, bstr(&x));
    if (chance(20))
        line("print(%s, %s.keys(), %s.values())", m->name, m->name, m->name);
    bfree(&x);
    step();
}

/* A big list or map literal of constants (issue 12: the JIT lowers such literals as data, and
 * their -O2 compile time once grew faster than their size): mostly 8..40 elements, sometimes
 * hundreds, rarely 1,500; mixed constant types, now and then a computed first element, a
 * repeated map key; one element read back and the length printed. */
static void st_big_literal(void)
{
    int r = rnd(100), n = r < 70 ? 8 + rnd(33) : r < 95 ? 40 + rnd(260) : 300 + rnd(1200);
    Buf b = {0}, x = {0};
    int map = chance(35);
    bput(&b, map ? "{" : "[");
    for (int i = 0; i < n; i++) {
        if (i) bput(&b, ", ");
        if (map) bput(&b, "\"k%d\": ", chance(3) ? rnd(i + 1) : i);
        if (i == 0 && chance(15)) {
            e_int(&x, 1);
            bput(&b, "%s", bstr(&x));
            continue;
        }
        switch (rnd(6)) {
        case 0: case 1: bput(&b, "%d", rnd(2000) - 1000); break;
        case 2: bput(&b, "%d.%d", rnd(100), rnd(10)); break;
        case 3: bput(&b, "\"s%d\"", rnd(50)); break;
        case 4: bput(&b, "%s", chance(50) ? "true" : "false"); break;
        default: bput(&b, "%s", chance(50) ? "null" : "-7"); break;
        }
    }
    bput(&b, map ? "}" : "]");
    if (map)
        line("print(len(%s), (%s[\"k%d\"] ?? \"none\"))", bstr(&b), bstr(&b), rnd(n));
    else
        line("print(len(%s), %s[%d])", bstr(&b), bstr(&b), rnd(n));
    bfree(&b);
    bfree(&x);
    step();
}

static void st_call(void)
{
    int cand[MAX_FNS], n = 0;
    for (int i = 0; i < nfns; i++)
        if (callable(&fns[i]))
            cand[n++] = i;
    if (!n) {
        st_print();
        return;
    }
    Fn *f = &fns[cand[rnd(n)]];
    Buf b = {0};
    if (f->ret == T_NONE) {
        /* plain, int parameters */
        fcost += mult * (f->cost + 1);
        bput(&b, "%s(", f->name);
        for (int i = 0; i < f->np; i++) {
            Buf a = {0};
            e_int(&a, 2);
            bput(&b, "%s%s", i ? ", " : "", bstr(&a));
            bfree(&a);
        }
        bput(&b, ")");
        line("%s", bstr(&b));
    } else {
        e_call(&b, f->ret, 2);
        if (chance(50))
            line("print(%s)", bstr(&b));
        else
            line("%s", bstr(&b));
    }
    bfree(&b);
    step();
}

static void st_jump(void)
{
    Buf c = {0};
    e_bool(&c, 2);
    if (loop_depth && chance(60))
        line("if (%s) { %s }", bstr(&c), chance(50) ? "break" : "continue");
    else if (in_action && fn_ret != T_NONE) {
        Buf r = {0};
        no_str_vars = fn_ret == T_STR;
        e_typed(&r, fn_ret, 2);
        no_str_vars = 0;
        line("if (%s) { return %s }", bstr(&c), bstr(&r));
        bfree(&r);
    } else if (in_action) {
        line("if (%s) { return }", bstr(&c));
    } else {
        line("assert (%s) || true", bstr(&c));
    }
    bfree(&c);
    step();
}

static void stmt(int d)
{
    int k = rnd(21);
    if (d <= 0 && k >= 8 && k <= 11)
        k = rnd(8);
    switch (k) {
    case 0: case 1: case 2: st_print(); break;
    case 3: case 4: case 5: st_assign(); break;
    case 6:
        if (block_depth == 0)
            st_let();
        else
            st_assign();
        break;
    case 7: st_call(); break;
    case 8: case 9: st_if(d); break;
    case 10: st_while(d); break;
    case 11: st_foreach(d); break;
    case 12: case 13: st_list(); break;
    case 14: st_map(); break;
    case 15: case 16: st_jump(); break;
    case 17: st_big_literal(); break;
    case 18:
        if (d > 0)
            st_try(d);
        else
            st_print();
        break;
    case 20: st_reassign_callable(); break;
    default:
        if (loop_depth)
            st_jump();
        else
            st_print();
        break;
    }
}

static void stmts(int n, int d)
{
    for (int i = 0; i < n; i++)
        stmt(d);
}

/* ---- actions ---- */

/* state of the function being generated, saved around an action's body */
typedef struct {
    int in_action, loop_depth, block_depth, fn_ret, nvars;
    long mult, fcost, fbudget;
} Fstate;

static Fstate enter_fn(int ret, long budget)
{
    Fstate s = {in_action, loop_depth, block_depth, fn_ret, nvars, mult, fcost, fbudget};
    in_action = 1;
    loop_depth = 0;
    block_depth = 0;
    fn_ret = ret;
    mult = 1;
    fcost = 0;
    fbudget = budget;
    indent++;
    return s;
}

static long leave_fn(Fstate s)
{
    long cost = fcost + 1;
    indent--;
    in_action = s.in_action;
    loop_depth = s.loop_depth;
    block_depth = s.block_depth;
    fn_ret = s.fn_ret;
    nvars = s.nvars;
    mult = s.mult;
    fcost = s.fcost;
    fbudget = s.fbudget;
    return cost;
}

/* action with 1-3 int or number parameters, statements, a return */
static void gen_plain_action(void)
{
    static const int rets[] = {T_INT, T_INT, T_NUM, T_STR, T_NONE};
    int ret = rets[rnd(5)];
    char name[24];
    fresh(name, "f");
    int np = 1 + rnd(3);
    char pn[3][24];
    int pt[3];
    Buf hdr = {0};
    for (int i = 0; i < np; i++) {
        fresh(pn[i], "p");
        pt[i] = chance(70) ? T_INT : T_NUM;
        bput(&hdr, "%s%s", i ? ", " : "", pn[i]);
    }
    line("action %s(%s) {", name, bstr(&hdr));
    bfree(&hdr);
    Fstate s = enter_fn(ret, 400);
    for (int i = 0; i < np; i++)
        add_var(pn[i], pt[i], 1);
    stmts(1 + rnd(4), 2);
    if (ret != T_NONE) {
        Buf r = {0};
        no_str_vars = ret == T_STR;
        e_typed(&r, ret, 3);
        no_str_vars = 0;
        line("return %s", bstr(&r));
        bfree(&r);
    }
    long cost = leave_fn(s);
    line("}");
    Fn *f = add_fn(name, np, ret, cost, K_PLAIN);
    for (int i = 0; i < np; i++)
        f->ptype[i] = pt[i];
}

/* linear recursion rec(n, acc), or tree recursion fib(n) */
static void gen_recursive_action(void)
{
    char name[24], n[24], acc[24];
    fresh(name, "rec");
    fresh(n, "n");
    fresh(acc, "acc");
    if (chance(50)) {
        int bound = 8 + rnd(8);
        line("action %s(%s) {", name, n);
        line("    if (%s < 2) { return %s }", n, n);
        line("    return %s(%s - 1) + %s(%s - 2)", name, n, name, n);
        line("}");
        Fn *f = add_fn(name, 1, T_INT, 2L << (bound * 7 / 10), K_BOUNDED);
        f->bound = bound;
        return;
    }
    int bound = 5 + rnd(40);
    line("action %s(%s, %s) {", name, n, acc);
    line("    if (%s <= 0) { return %s }", n, acc);
    Fstate s = enter_fn(T_INT, 30);
    add_var(n, T_INT, 0);
    add_var(acc, T_INT, 1);
    if (chance(50))
        stmts(1 + rnd(2), 1);
    Buf x = {0};
    e_int(&x, 1);
    if (chance(50))
        line("return %s(%s - 1, (%s * 3 + %s) %% 1000003)", name, n, acc, bstr(&x));
    else
        line("return %s(%s - 1, %s + %s) + %s", name, n, acc, bstr(&x), n);
    bfree(&x);
    long cost = leave_fn(s);
    line("}");
    Fn *f = add_fn(name, 2, T_INT, cost * (bound + 1), K_BOUNDED);
    f->bound = bound;
    f->deep_ok = cost <= 30;
}

/* a closure factory: the returned action (or a map holding it) mutates its captured total */
static void gen_closure_factory(void)
{
    char mk[24], tot[24], st[24], dd[24], start[24];
    fresh(mk, "mk");
    fresh(tot, "tot");
    fresh(st, "step");
    fresh(dd, "d");
    fresh(start, "s");
    int as_map = chance(40);
    line("action %s(%s) {", mk, start);
    line("    let %s = %s", tot, start);
    line("    action %s(%s) {", st, dd);
    static const char *const upd[] = {"%s = %s + %s", "%s = (%s * 2 + %s) %% 10007", "%s = %s - %s"};
    char fmt[64];
    snprintf(fmt, sizeof fmt, "        %s", upd[rnd(3)]);
    line(fmt, tot, tot, dd);
    line("        return %s", tot);
    line("    }");
    if (as_map)
        line("    return {\"inc\": %s, \"get\": () => %s}", st, tot);
    else
        line("    return %s", st);
    line("}");
    int copies = 1 + rnd(2);
    for (int i = 0; i < copies; i++) {
        char inst[24];
        fresh(inst, "acc");
        Buf x = {0};
        small_int(&x);
        line("let %s = %s(%s)", inst, mk, bstr(&x));
        bfree(&x);
        add_fn(inst, 1, T_INT, 3, as_map ? K_FIELD : K_PLAIN);
        if (as_map && chance(70))
            line("print(%s[\"inc\"](1), %s[\"get\"]())", inst, inst);
    }
}

/* a lambda capturing globals by reference */
static void gen_lambda(void)
{
    char name[24], a[24], bb[24];
    fresh(name, "lam");
    fresh(a, "a");
    fresh(bb, "b");
    int np = 1 + rnd(2);
    int save = nvars;
    add_var(a, T_INT, 0);
    if (np == 2)
        add_var(bb, T_INT, 0);
    int ret = chance(75) ? T_INT : T_NUM;
    Fstate s = enter_fn(ret, 20);
    indent--;
    Buf body = {0};
    e_typed(&body, ret, 3);
    indent++;
    long cost = leave_fn(s);
    nvars = save;
    if (np == 2)
        line("let %s = (%s, %s) => %s", name, a, bb, bstr(&body));
    else
        line("let %s = (%s) => %s", name, a, bstr(&body));
    bfree(&body);
    add_fn(name, np, ret, cost, K_PLAIN);
}

static void gen_apply_action(void)
{
    char name[24], f[24], v[24];
    fresh(name, "apply");
    fresh(f, "fn");
    fresh(v, "val");
    line("action %s(%s, %s) {", name, f, v);
    line("    return %s(%s(%s))", f, f, v);
    line("}");
    add_fn(name, 2, T_INT, 50, K_APPLY);
}


/* an action whose int parameters start an int that turns into a float mid-loop (the JIT's int
 * version of an action starts from int parameters) */
static void gen_int_to_float_action(void)
{
    char name[24], n[24], st[24], x[24], i[24];
    fresh(name, "tf");
    fresh(n, "n");
    fresh(st, "st");
    fresh(x, "x");
    fresh(i, "i");
    int at = 1 + rnd(12);
    line("action %s(%s, %s) {", name, n, st);
    line("    let %s = %s", x, st);
    line("    let %s = 0", i);
    line("    while (%s < %s) {", i, n);
    line("        %s = %s + 1", i, i);
    static const char *const turn[] = {"%s = %s + 0.5", "%s = %s * 1.0", "%s = %s / 4.0",
                                       "%s = float(%s)", "%s = %s %% 2.5"};
    char fmt[96];
    snprintf(fmt, sizeof fmt, "        if (%s == %d) { %s }", i, at, turn[rnd(5)]);
    line(fmt, x, x);
    static const char *const upd[] = {"%s = %s * 2 - %s", "%s = (%s + %s) %% 997", "%s = %s - %s * %s",
                                      "%s = %s + %s / 3"};
    int u = rnd(4);
    snprintf(fmt, sizeof fmt, "        %s", upd[u]);
    if (u == 2)
        line(fmt, x, x, i, i);
    else
        line(fmt, x, x, i);
    if (chance(50))
        line("        if (%s > 100000) { break }", x);
    line("        print(%s, %s)", i, x);
    line("    }");
    line("    return %s", x);
    line("}");
    Fn *f = add_fn(name, 2, T_NUM, 15 * 3, K_BOUNDED);
    f->bound = 15;
}

/* an action whose loop calls a local closure that mutates the action's captured locals */
static void gen_local_closure_action(void)
{
    char name[24], n[24], tot[24], add[24], v[24], i[24], lam[24], y[24];
    fresh(name, "cl");
    fresh(n, "n");
    fresh(tot, "tot");
    fresh(add, "add");
    fresh(v, "v");
    fresh(i, "i");
    fresh(lam, "lam");
    fresh(y, "y");
    Var *g = pick_var(T_INT, 0);
    line("action %s(%s) {", name, n);
    line("    let %s = %d", tot, rnd(10));
    line("    let %s = 0", i);
    line("    action %s(%s) {", add, v);
    static const char *const upd[] = {"%s = %s + %s", "%s = (%s * 3 + %s) %% 1009", "%s = %s - %s"};
    char fmt[96];
    snprintf(fmt, sizeof fmt, "        %s", upd[rnd(3)]);
    line(fmt, tot, tot, v);
    line("        return %s", tot);
    line("    }");
    line("    while (%s < %s) {", i, n);
    line("        %s = %s + 1", i, i);
    switch (rnd(3)) {
    case 0:
        line("        let %s = (%s) => %s + %s * %s", lam, y, y, i, tot);
        line("        %s(%s(%s %% 5))", add, lam, i);
        break;
    case 1:
        line("        %s(%s)", add, i);
        line("        if (%s %% 2 == 0) { continue }", tot);
        break;
    default:
        line("        %s = %s + %s(%s) %% 7", tot, tot, add, g ? g->name : "1");
        break;
    }
    line("        print(%s, %s)", i, tot);
    line("    }");
    line("    return %s", tot);
    line("}");
    Fn *f = add_fn(name, 1, T_INT, 12 * 8, K_BOUNDED);
    f->bound = 12;
}

/* a callable variable reassigned: to an older callable of the same shape, or to a new lambda */
static void st_reassign_callable(void)
{
    int cand[MAX_FNS], n = 0;
    for (int i = 0; i < nfns; i++)
        if (fns[i].kind == K_PLAIN)
            cand[n++] = i;
    if (!n) {
        st_print();
        return;
    }
    int a = cand[rnd(n)];
    Fn *f = &fns[a];
    for (int b = 0; b < a; b++) {
        Fn *o = &fns[b];
        if (o->kind == K_PLAIN && o->np == f->np && o->ret == f->ret && o->cost <= f->cost &&
            !memcmp(o->ptype, f->ptype, sizeof o->ptype) && chance(50)) {
            line("%s = %s", f->name, o->name);
            step();
            return;
        }
    }
    if (f->ret != T_INT && f->ret != T_NUM) {
        st_print();
        return;
    }
    /* a new lambda: it may call only what is older than f, within f's cost */
    char pn[3][24];
    Buf hdr = {0};
    int save = nvars;
    for (int i = 0; i < f->np; i++) {
        fresh(pn[i], "q");
        bput(&hdr, "%s%s", i ? ", " : "", pn[i]);
        add_var(pn[i], f->ptype[i], 0);
    }
    int save_limit = fn_limit;
    fn_limit = a;
    long c = fcost;
    Fstate s = enter_fn(f->ret, f->cost - 1);
    Buf body = {0};
    e_typed(&body, f->ret, 2);
    leave_fn(s);
    fn_limit = save_limit;
    nvars = save;
    line("%s = (%s) => %s", f->name, bstr(&hdr), bstr(&body));
    fcost = c;
    bfree(&hdr);
    bfree(&body);
    step();
}

/* ---- top-level snippets for the required situations ---- */

/* a variable that is an int for some iterations and a float after, printed every time */
static void snip_int_to_float(void)
{
    char x[24], i[24];
    fresh(x, "w");
    fresh(i, "i");
    int k = 10 + rnd(40);
    int at = 1 + rnd(k);
    line("let %s = %d", x, rnd(10));
    line("let %s = 0", i);
    line("while (%s < %d) {", i, k);
    line("    %s = %s + 1", i, i);
    static const char *const turn[] = {"%s = %s + 0.5", "%s = %s * 1.0", "%s = %s / 2.0",
                                       "%s = float(%s)", "%s = %s - 0.25"};
    char fmt[64];
    snprintf(fmt, sizeof fmt, "    if (%s == %d) { %s }", i, at, turn[rnd(5)]);
    line(fmt, x, x);
    static const char *const upd[] = {"%s = %s + %s", "%s = %s * 2 - %s", "%s = (%s + %s) %% 1000",
                                      "%s = %s - %s * 3"};
    snprintf(fmt, sizeof fmt, "    %s", upd[rnd(4)]);
    line(fmt, x, x, i);
    if (chance(50))
        line("    print(%s)", x);
    else
        line("    print(%s, type(%s), %s > %d)", x, x, x, rnd(100));
    line("}");
    add_var(x, T_NUM, 1);
    fcost += k * 3;
}

/* a loop whose condition and body read globals that an action called in it writes */
/* Limits (issue #12): recursion through parallel_map elements or fork blocks, run under a
 * --max-depth just below, at or above what it needs, or parallel_map elements that each hold
 * 16 MB under a --max-memory that fits one or two of them at a time.  The options go in an
 * "# options:" line that differential.sh passes to every run; every tier and mode must stop at
 * the same call (or succeed) with the same output. */
static char limit_opts[64];

static void snip_limits(void)
{
    char name[24];
    fresh(name, "deep");
    int kind = rnd(3);
    if (kind == 2) {
        int mb = 24 + rnd(3) * 12;        /* 24, 36 or 48 MB: fits 1, 2 or 3 elements at once */
        snprintf(limit_opts, sizeof limit_opts, "--max-memory=%dM", mb);
        line("print(parallel_map((k) => len(range(1000000)) + k, [1, 2, 3, 4, 5, 6]))");
        return;
    }
    int levels = 60 + rnd(400);
    /* the top level calls name(levels) at depth 1; each level adds the element or block frame
     * and the next call: name(0) runs at depth 2 * levels + 1 */
    int max_depth = 2 * levels + rnd(3);
    snprintf(limit_opts, sizeof limit_opts, "--max-depth=%d", max_depth);
    line("action %s(n) {", name);
    line("    if n <= 0 { return 0 }");
    if (kind == 0) {
        line("    let r = parallel_map((x) => %s(x), [n - 1, 0])", name);
        line("    return r[0] + r[1] + 1");
    } else {
        line("    let a = 0");
        line("    let b = 0");
        line("    fork { a = %s(n - 1) }", name);
        line("    fork { b = n %% 7 }");
        line("    join");
        line("    return a + b");
    }
    line("}");
    line("print(%s(%d))", name, levels);
}

static void snip_writer_loop(void)
{
    Var *g = pick_var(T_INT, 1);
    if (!g)
        return;
    char w[24], d[24], cnt[24], i[24];
    fresh(w, "bump");
    fresh(d, "d");
    fresh(cnt, "count");
    fresh(i, "i");
    line("let %s = 0", cnt);
    line("action %s(%s) {", w, d);
    line("    %s = %s + %s", g->name, g->name, d);
    line("    %s = %s + 1", cnt, cnt);
    if (chance(50))
        line("    if (%s %% 3 == 0) { return }", cnt);
    line("    %s = %s * 1", g->name, g->name);
    line("}");
    int k = 5 + rnd(20);
    int limit = rnd(1000);
    line("let %s = 0", i);
    line("while (%s < %d && %s < %d) {", i, k, g->name, limit);
    line("    %s = %s + 1", i, i);
    line("    %s(%s %% 7 + %d)", w, i, rnd(20));
    line("    if (%s %% 4 == 1) { continue }", g->name);
    line("    print(%s, %s, %s)", i, g->name, cnt);
    line("}");
    line("print(\"after\", %s, %s)", g->name, cnt);
    add_var(cnt, T_INT, 1);
    fcost += k * 6;
}

/* An expression over the names nm[0..n) (ints or floats) and constants, for the body of a
 * small pure action: what the JIT may inline at a call with proven argument types. */
static void pure_expr(Buf *b, int n, char nm[][24], int d)
{
    if (d <= 0 || chance(30)) {
        int k = rnd(10);
        if (k < 5) bput(b, "%s", nm[rnd(n)]);
        else if (k < 8) bput(b, "%d", rnd(9) - 2);
        else if (k < 9 || !chance(p_big * 4)) float_lit(b);
        else bput(b, "%s", chance(50) ? "9223372036854775800" : "3037000499");
        return;
    }
    static const char *const ops[] = {"+", "-", "*", "/", "%", "+", "*", "-"};
    if (chance(10)) {
        bput(b, "-(");
        pure_expr(b, n, nm, d - 1);
        bput(b, ")");
        return;
    }
    const char *op = ops[rnd(8)];
    bput(b, "(");
    pure_expr(b, n, nm, d - 1);
    bput(b, " %s ", op);
    if ((op[0] == '/' || op[0] == '%') && !chance(p_zero * 4))
        bput(b, "%d", 1 + rnd(9));   /* a divisor that may be zero: a risk taken now and then */
    else
        pure_expr(b, n, nm, d - 1);
    bput(b, ")");
}

/* A small pure action called in a loop with arguments whose types are known (the loop counter,
 * constants): the JIT inlines its body (jit/lower.c, emit_inline_call), where an overflow or a
 * division by zero must still raise from the callee, with its trace. */
static void snip_inline(void)
{
    char name[24], drv[24], i[24], nm[4][24];
    fresh(name, "pure");
    fresh(drv, "drive");
    fresh(i, "i");
    int np = 1 + rnd(3);
    Buf hdr = {0};
    for (int k = 0; k < np; k++) {
        fresh(nm[k], "q");
        bput(&hdr, "%s%s", k ? ", " : "", nm[k]);
    }
    line("action %s(%s) {", name, bstr(&hdr));
    bfree(&hdr);
    snprintf(nm[np], 24, "t");
    Buf e = {0};
    pure_expr(&e, np, nm, 2);
    line("    let t = %s", bstr(&e));
    bfree(&e);
    if (chance(60)) {
        Buf c1 = {0}, c2 = {0}, t1 = {0};
        pure_expr(&c1, np + 1, nm, 1);
        pure_expr(&c2, np + 1, nm, 1);
        pure_expr(&t1, np + 1, nm, 2);
        static const char *const cmp[] = {"<", "<=", ">", ">=", "==", "!="};
        line("    if (%s %s %s) { t = %s }", bstr(&c1), cmp[rnd(6)], bstr(&c2), bstr(&t1));
        bfree(&c1);
        bfree(&c2);
        bfree(&t1);
    }
    Buf r = {0};
    pure_expr(&r, np + 1, nm, 2);
    line("    return %s", bstr(&r));
    bfree(&r);
    line("}");
    int k = 3 + rnd(20);
    line("action %s() {", drv);
    line("    let %s = 0", i);
    line("    while (%s < %d) {", i, k);
    Buf args = {0};
    for (int a = 0; a < np; a++) {
        bput(&args, "%s", a ? ", " : "");
        switch (rnd(5)) {
        case 0: bput(&args, "%s", i); break;
        case 1: bput(&args, "%s - %d", i, rnd(k)); break;
        case 2: bput(&args, "%d", rnd(7) - 3); break;
        case 3: float_lit(&args); break;
        default: bput(&args, "%s * 0.5", i); break;
        }
    }
    line("        print(%s, %s(%s))", i, name, bstr(&args));
    bfree(&args);
    line("        %s = %s + 1", i, i);
    line("    }");
    line("}");
    line("%s()", drv);
    fcost += k * 8;
}

/* closures made in a loop all see the one loop variable */
static void snip_closures_in_loop(void)
{
    char fs[24], j[24], x[24];
    fresh(fs, "fs");
    fresh(j, "j");
    fresh(x, "x");
    Var *g = pick_var(T_INT, 0);
    int k = 2 + rnd(4);
    line("let %s = []", fs);
    line("let %s = 0", j);
    line("while (%s < %d) {", j, k);
    line("    %s = %s + 1", j, j);
    line("    %s.push((%s) => %s * %s + %s)", fs, x, x, j, g ? g->name : "1");
    line("}");
    line("print(%s[0](2), %s[%d](3), len(%s))", fs, fs, k - 1, fs);
    fcost += k * 3;
}

/* cyclic data: a list and a map that hold themselves (live to the end, printed), a local
 * recursive helper (its closure and cell hold each other), and garbage cycles made in a loop,
 * so the cycle collector runs with live cycles around (under ZX_GC_STRESS at every store) */
static void snip_cycles(void)
{
    char a[24], m[24], h[24], rec[24], k[24], n[24], i[24], s[24], g[24], gm[24];
    fresh(a, "cya");
    fresh(m, "cym");
    fresh(h, "cyh");
    fresh(rec, "rec");
    fresh(k, "k");
    fresh(n, "n");
    fresh(i, "cyi");
    fresh(s, "cys");
    fresh(g, "gar");
    fresh(gm, "garm");
    Var *v = pick_var(T_INT, 0);
    int iters = 1 + rnd(300);
    line("let %s = [%d, \"%c\"]", a, rnd(100), map_keys[rnd(6)]);
    line("%s.push(%s)", a, a);
    line("let %s = {\"n\": %d}", m, rnd(10));
    line("%s[\"self\"] = %s", m, m);
    if (chance(50)) line("%s[\"list\"] = %s", m, a);
    line("action %s(%s) {", h, n);
    line("    action %s(%s) {", rec, k);
    line("        if (%s <= 0) { return 0 }", k);
    line("        return %s(%s - 1) + %s", rec, k, k);
    line("    }");
    line("    return %s(%s)", rec, n);
    line("}");
    line("let %s = 0", i);
    line("let %s = 0", s);
    line("while (%s < %d) {", i, iters);
    line("    let %s = [%s]", g, i);
    line("    %s.push(%s)", g, g);
    line("    let %s = {\"g\": %s}", gm, g);
    line("    %s.push(%s)", g, gm);
    if (chance(50)) line("    %s[\"m\"] = %s", gm, m);
    line("    %s = %s + %s(%s %% 5) + len(%s[1])", s, s, h, i, g);
    line("    %s = %s + 1", i, i);
    line("}");
    line("print(%s, %s, %s[\"self\"][\"self\"][\"n\"], %s%s)", a, s, m, v ? v->name : "0", v ? " % 7" : "");
    line("print(%s)", m);
    fcost += (long)iters * 12;
}

static void gen_globals(void)
{
    int nint = 3 + rnd(3), nnum = 1 + rnd(3), nstr = 1 + rnd(2);
    for (int i = 0; i < nint; i++) {
        char name[24];
        fresh(name, "g");
        Buf x = {0};
        if (chance(p_big / 2 + 5))
            bput(&x, "%s", chance(50) ? "9223372036854775800" : "3037000499");
        else
            small_int(&x);
        line("let %s = %s", name, bstr(&x));
        bfree(&x);
        add_var(name, T_INT, 1);
    }
    for (int i = 0; i < nnum; i++) {
        char name[24];
        fresh(name, "h");
        Buf x = {0};
        float_lit(&x);
        line("let %s = %s", name, bstr(&x));
        bfree(&x);
        add_var(name, T_NUM, 1);
    }
    for (int i = 0; i < nstr; i++) {
        char name[24];
        fresh(name, "s");
        Buf x = {0};
        str_lit(&x);
        line("let %s = %s", name, bstr(&x));
        bfree(&x);
        add_var(name, T_STR, 1);
    }
    {
        char name[24];
        fresh(name, "flag");
        line("let %s = %s", name, chance(50) ? "true" : "false");
        add_var(name, T_BOOL, 1);
    }
    int nlist = 1 + rnd(2);
    for (int i = 0; i < nlist; i++) {
        char name[24];
        fresh(name, "xs");
        int n = 1 + rnd(5);
        int elem = chance(35) ? T_NUM : T_INT;
        Buf x = {0};
        for (int j = 0; j < n; j++) {
            bput(&x, "%s", j ? ", " : "");
            if (elem == T_NUM && chance(50))
                float_lit(&x);
            else
                small_int(&x);
        }
        line("let %s = [%s]", name, bstr(&x));
        bfree(&x);
        Var *v = add_var(name, T_LIST, 0);
        v->maxlen = n;
        v->elem = elem;
    }
    {
        char name[24];
        fresh(name, "m");
        int a = rnd(10);
        line("let %s = {\"a\": %d, \"c\": %d}", name, a, rnd(100));
        add_var(name, T_MAP, 0);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_program SEED\n");
        return 2;
    }
    char *end;
    unsigned long long seed = strtoull(argv[1], &end, 10);
    if (*end || end == argv[1]) {
        fprintf(stderr, "gen_program: bad seed '%s'\n", argv[1]);
        return 2;
    }
    rng_state = seed * 0x2545f4914f6cdd1dULL + 1;
    for (int i = 0; i < 4; i++)
        next_u64();

    /* most programs take few risks; some take many */
    int level = rnd(10);
    p_zero = level < 6 ? 2 : 6;
    p_big = level < 6 ? 2 : 12;
    p_oob = level < 6 ? 3 : 20;
    p_conv = level < 6 ? 2 : 10;

    fbudget = 20000;
    bput(&out, "# generated by gen_program %llu\n", seed);
    gen_globals();
    int nact = 1 + rnd(4);
    for (int i = 0; i < nact; i++) {
        switch (rnd(8)) {
        case 0: case 1: gen_plain_action(); break;
        case 2: gen_recursive_action(); break;
        case 3: gen_closure_factory(); break;
        case 4: gen_lambda(); break;
        case 5: gen_int_to_float_action(); break;
        case 6: gen_local_closure_action(); break;
        default: gen_apply_action(); break;
        }
    }
    int n = 6 + rnd(14);
    for (int i = 0; i < n; i++) {
        int k = rnd(30);
        if (k == 0)
            snip_int_to_float();
        else if (k == 1)
            snip_writer_loop();
        else if (k == 2)
            snip_closures_in_loop();
        else if (k == 3)
            gen_plain_action();
        else if (k == 4)
            gen_lambda();
        else
            stmt(3);
    }
    /* every program has one of each of the situations that matter most */
    snip_int_to_float();
    snip_writer_loop();
    snip_cycles();
    if (rnd(4) == 0) snip_limits();
    /* after everything else, so that the rest of each seed's program stays what it was */
    snip_inline();
    {
        Buf b = {0};
        for (int i = 0; i < nvars; i++)
            bput(&b, "%s%s", i ? ", " : "", vars[i].name);
        if (nvars)
            line("print(%s)", bstr(&b));
        bfree(&b);
    }
    if (limit_opts[0]) printf("# options: %s\n", limit_opts);
    fwrite(bstr(&out), 1, out.len, stdout);
    bfree(&out);
    return fflush(stdout) == 0 ? 0 : 1;
}
