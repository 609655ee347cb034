/* sieve.c — the sieve of Eratosthenes, ten times; prints the primes below N = argv[1]. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static long sieve(long n)
{
    bool *flags = malloc(n * sizeof *flags);
    for (long i = 0; i < n; i++) flags[i] = true;
    flags[0] = flags[1] = false;
    for (long p = 2; p * p < n; p++)
        if (flags[p])
            for (long m = p * p; m < n; m += p) flags[m] = false;
    long count = 0;
    for (long i = 0; i < n; i++) count += flags[i];
    free(flags);
    return count;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    long c = 0;
    for (int k = 0; k < 10; k++) c = sieve(n);
    printf("%ld\n", c);
    return 0;
}
