"""sumsq.py — bench/sumsq.zx in Python: the sum of i*i for i below n."""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
total = 0
for i in range(n):
    total = total + i * i
print(total)
