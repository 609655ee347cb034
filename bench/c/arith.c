/* arith.c — bench/arith.zx in C: four independent integer loops (OpenMP sections with -fopenmp). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int64_t work(int64_t seed, int64_t n)
{
    int64_t s = seed;
    for (int64_t i = 0; i < n; i++) s = (s * 31 + i) % 1000003;
    return s;
}

int main(int argc, char **argv)
{
    int64_t n = argc > 1 ? atoll(argv[1]) : 200;
    int64_t r[4];
#pragma omp parallel for schedule(static, 1)
    for (int k = 0; k < 4; k++) r[k] = work(k + 1, n);
    printf("%lld\n", (long long)(r[0] + r[1] + r[2] + r[3]));
    return 0;
}
