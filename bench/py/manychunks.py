"""manychunks.py — bench/manychunks.zx in Python: 64 independent loops, then their sum."""
import sys


def work(seed, n):
    s = seed
    for i in range(n):
        s = (s * 31 + i) % 1000003
    return s


n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
print(sum(work(k, n) for k in range(1, 65)))
