# sieve.py — the sieve of Eratosthenes, ten times; prints the primes below N = argv[1].
import sys


def sieve(n):
    flags = [True] * n
    flags[0] = flags[1] = False
    p = 2
    while p * p < n:
        if flags[p]:
            for m in range(p * p, n, p):
                flags[m] = False
        p += 1
    count = 0
    for f in flags:
        if f:
            count += 1
    return count


n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
c = 0
for _ in range(10):
    c = sieve(n)
print(c)
