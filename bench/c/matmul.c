/* matmul.c — bench/matmul.zx in C: naive multiply of two n x n integer matrices. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int64_t n = argc > 1 ? atoll(argv[1]) : 20;
    int64_t *a = malloc(sizeof *a * n * n), *b = malloc(sizeof *b * n * n);
    if (!a || !b) return 1;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++) {
            a[i * n + j] = (i + j) % 7;
            b[i * n + j] = (i * j) % 5;
        }
    int64_t total = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++) {
            int64_t acc = 0;
            for (int64_t k = 0; k < n; k++) acc += a[i * n + k] * b[k * n + j];
            total += acc * (j + 1);
        }
    printf("%lld\n", (long long)total);
    free(a);
    free(b);
    return 0;
}
