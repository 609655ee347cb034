"""arith.py — bench/arith.zx in Python: four independent integer loops."""
import sys


def work(seed, n):
    s = seed
    for i in range(n):
        s = (s * 31 + i) % 1000003
    return s


n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
print(work(1, n) + work(2, n) + work(3, n) + work(4, n))
