/* forkjoin.c — bench/forkjoin.zx in C: r parallel regions of two tiny tasks (OpenMP sections). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int64_t r = argc > 1 ? atoll(argv[1]) : 1000;
    /* volatile: the tasks must stay two real updates per region, not one folded loop. */
    volatile int64_t a = 0, b = 0;
    for (int64_t i = 0; i < r; i++) {
#pragma omp parallel sections num_threads(2)
        {
#pragma omp section
            a = a + i;
#pragma omp section
            b = b + 2 * i;
        }
    }
    printf("%lld\n", (long long)(a + b));
    return 0;
}
