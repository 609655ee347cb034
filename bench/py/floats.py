"""floats.py — bench/floats.zx in Python: complex float expressions in a loop."""
import sys


def fexpr(n):
    x, y, acc = 0.5, 1.25, 0.0
    for i in range(n):
        t = (i % 1000) * 0.001
        x = (x * x + t) / (1.0 + x * t + y * 0.5) - (t * 0.5) * (x - 0.25)
        y = y * 0.75 + (x - t) * (x + t) / (2.0 + t * t) + 0.125
        acc = acc + x * y - (x - y) * (x - y) * 0.0625
    return acc


n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
print(int(fexpr(n) * 1000000.0))
