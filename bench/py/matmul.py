"""matmul.py — bench/matmul.zx in Python: naive multiply of two n x n integer matrices (lists)."""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
a = [[(i + j) % 7 for j in range(n)] for i in range(n)]
b = [[(i * j) % 5 for j in range(n)] for i in range(n)]
total = 0
for i in range(n):
    ai = a[i]
    for j in range(n):
        acc = 0
        for k in range(n):
            acc += ai[k] * b[k][j]
        total += acc * (j + 1)
print(total)
