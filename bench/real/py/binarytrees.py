# binarytrees.py — allocate and walk many binary trees of 2-element lists; prints the sum of
# every check for MAXDEPTH = argv[1].
import sys


def make(d):
    if d == 0:
        return [None, None]
    return [make(d - 1), make(d - 1)]


def check(t):
    if t[0] is None:
        return 1
    return 1 + check(t[0]) + check(t[1])


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    max_depth = max(6, n)
    total = check(make(max_depth + 1))
    long_lived = make(max_depth)
    for d in range(4, max_depth + 1, 2):
        iters = 2 ** (max_depth - d + 4)
        for _ in range(iters):
            total = total + check(make(d))
    total = total + check(long_lived)
    print(total)


main()
