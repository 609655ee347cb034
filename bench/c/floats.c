/* floats.c — bench/floats.zx in C: complex float expressions in a loop. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static double fexpr(int64_t n)
{
    double x = 0.5, y = 1.25, acc = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double t = (double)(i % 1000) * 0.001;
        x = (x * x + t) / (1.0 + x * t + y * 0.5) - (t * 0.5) * (x - 0.25);
        y = y * 0.75 + (x - t) * (x + t) / (2.0 + t * t) + 0.125;
        acc = acc + x * y - (x - y) * (x - y) * 0.0625;
    }
    return acc;
}

int main(int argc, char **argv)
{
    int64_t n = argc > 1 ? atoll(argv[1]) : 100;
    printf("%lld\n", (long long)(fexpr(n) * 1000000.0));
    return 0;
}
