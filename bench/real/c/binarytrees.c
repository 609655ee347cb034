/* binarytrees.c — allocate and walk many binary trees (malloc/free per node); prints the sum of
 * every check for MAXDEPTH = argv[1]. */
#include <stdio.h>
#include <stdlib.h>

typedef struct node { struct node *l, *r; } node;

static node *make(int d)
{
    node *t = malloc(sizeof *t);
    if (d == 0) {
        t->l = t->r = NULL;
    } else {
        t->l = make(d - 1);
        t->r = make(d - 1);
    }
    return t;
}

static long check(const node *t)
{
    if (!t->l) return 1;
    return 1 + check(t->l) + check(t->r);
}

static void drop(node *t)
{
    if (t->l) { drop(t->l); drop(t->r); }
    free(t);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10;
    int max_depth = n < 6 ? 6 : n;
    node *s = make(max_depth + 1);
    long total = check(s);
    drop(s);
    node *long_lived = make(max_depth);
    for (int d = 4; d <= max_depth; d += 2) {
        long iters = 1L << (max_depth - d + 4);
        for (long i = 0; i < iters; i++) {
            node *t = make(d);
            total += check(t);
            drop(t);
        }
    }
    total += check(long_lived);
    drop(long_lived);
    printf("%ld\n", total);
    return 0;
}
