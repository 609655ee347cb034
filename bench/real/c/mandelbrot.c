/* mandelbrot.c — points of a SIZE x SIZE grid that stay in the set for 50 iterations. */
#include <stdio.h>
#include <stdlib.h>

static long size;

static long row(long y)
{
    long inside = 0;
    double ci = 2.0 * y / size - 1.0;
    for (long x = 0; x < size; x++) {
        double cr = 2.0 * x / size - 1.5, zr = 0.0, zi = 0.0;
        int escaped = 0;
        for (int i = 0; i < 50; i++) {
            double tr = zr * zr - zi * zi + cr, ti = 2.0 * zr * zi + ci;
            zr = tr;
            zi = ti;
            if (zr * zr + zi * zi > 4.0) { escaped = 1; break; }
        }
        if (!escaped) inside++;
    }
    return inside;
}

int main(int argc, char **argv)
{
    size = argc > 1 ? atol(argv[1]) : 200;
    long total = 0;
    for (long y = 0; y < size; y++) total += row(y);
    printf("%ld\n", total);
    return 0;
}
