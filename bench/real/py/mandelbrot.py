# mandelbrot.py — points of a SIZE x SIZE grid that stay in the set for 50 iterations.
import sys

size = int(sys.argv[1]) if len(sys.argv) > 1 else 200


def row(y):
    inside = 0
    ci = 2.0 * y / size - 1.0
    for x in range(size):
        cr = 2.0 * x / size - 1.5
        zr = zi = 0.0
        escaped = False
        for _ in range(50):
            tr = zr * zr - zi * zi + cr
            ti = 2.0 * zr * zi + ci
            zr, zi = tr, ti
            if zr * zr + zi * zi > 4.0:
                escaped = True
                break
        if not escaped:
            inside += 1
    return inside


print(sum(row(y) for y in range(size)))
