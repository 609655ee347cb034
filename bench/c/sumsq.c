/* sumsq.c — bench/sumsq.zx in C: the sum of i*i for i below n. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int64_t n = argc > 1 ? atoll(argv[1]) : 1000000, total = 0;
    for (int64_t i = 0; i < n; i++) total += i * i;
    printf("%lld\n", (long long)total);
    return 0;
}
