/* pmap.c — bench/pmap.zx in C: a float-heavy function over 0..m-1 (OpenMP parallel for). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static double heavy(int64_t v, int64_t iters)
{
    double x = (double)v * 0.001, acc = 0.0;
    for (int64_t i = 0; i < iters; i++) {
        x = (x * x + 0.5) / (1.0 + x) - x * 0.125;
        acc = acc + x * (1.0 - x * 0.5);
    }
    return acc;
}

int main(int argc, char **argv)
{
    int64_t m = argc > 1 ? atoll(argv[1]) : 1000, k = argc > 2 ? atoll(argv[2]) : 2000;
    double *ys = malloc(sizeof *ys * (size_t)(m > 0 ? m : 1));
    if (!ys) return 1;
#pragma omp parallel for schedule(dynamic, 8)
    for (int64_t v = 0; v < m; v++) ys[v] = heavy(v, k);
    double total = 0.0;
    for (int64_t v = 0; v < m; v++) total = total + ys[v];
    printf("%lld\n", (long long)(total * 1000.0));
    free(ys);
    return 0;
}
