"""pmap.py — bench/pmap.zx in Python: a float-heavy function over 0..m-1 (sequential map)."""
import sys


def heavy(v, iters):
    x, acc = v * 0.001, 0.0
    for _ in range(iters):
        x = (x * x + 0.5) / (1.0 + x) - x * 0.125
        acc = acc + x * (1.0 - x * 0.5)
    return acc


m = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
k = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
total = 0.0
for y in map(lambda v: heavy(v, k), range(m)):
    total = total + y
print(int(total * 1000.0))
