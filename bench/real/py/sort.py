# sort.py — quicksort of N Park-Miller pseudo-random integers; prints a checksum.
import sys

sys.setrecursionlimit(10000)


def quicksort(a, lo, hi):
    while lo < hi:
        pivot = a[(lo + hi) // 2]
        i, j = lo, hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        if j - lo < hi - i:
            quicksort(a, lo, j)
            lo = i
        else:
            quicksort(a, i, hi)
            hi = j


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    a = []
    seed = 42
    for _ in range(n):
        seed = (seed * 16807) % 2147483647
        a.append(seed)
    quicksort(a, 0, n - 1)
    s = 0
    for i in range(n):
        if i > 0 and a[i - 1] > a[i]:
            s -= 1000000000
        s += (a[i] % 1000) * (i % 1000)
    print(s)


main()
