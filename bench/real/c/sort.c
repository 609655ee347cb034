/* sort.c — quicksort of N Park-Miller pseudo-random integers; prints a checksum. */
#include <stdio.h>
#include <stdlib.h>

static void quicksort(long *a, long lo, long hi)
{
    while (lo < hi) {
        long pivot = a[(lo + hi) / 2], i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) { long t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
        }
        if (j - lo < hi - i) { quicksort(a, lo, j); lo = i; }
        else { quicksort(a, i, hi); hi = j; }
    }
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    long *a = malloc(n * sizeof *a), seed = 42;
    for (long i = 0; i < n; i++) { seed = (seed * 16807) % 2147483647; a[i] = seed; }
    quicksort(a, 0, n - 1);
    long sum = 0;
    for (long i = 0; i < n; i++) {
        if (i > 0 && a[i - 1] > a[i]) sum -= 1000000000;
        sum += (a[i] % 1000) * (i % 1000);
    }
    printf("%ld\n", sum);
    free(a);
    return 0;
}
