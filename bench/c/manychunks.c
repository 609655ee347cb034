/* manychunks.c — bench/manychunks.zx in C: 64 independent loops, then their sum (OpenMP parallel for). */
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
    int64_t n = argc > 1 ? atoll(argv[1]) : 1000, r[64], total = 0;
#pragma omp parallel for schedule(dynamic, 1)
    for (int k = 0; k < 64; k++) r[k] = work(k + 1, n);
    for (int k = 0; k < 64; k++) total += r[k];
    printf("%lld\n", (long long)total);
    return 0;
}
