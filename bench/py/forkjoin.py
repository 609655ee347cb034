"""forkjoin.py — bench/forkjoin.zx in Python: the two tiny tasks of each region, run in turn."""
import sys

r = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
a = b = 0
for i in range(r):
    a = a + i
    b = b + 2 * i
print(a + b)
