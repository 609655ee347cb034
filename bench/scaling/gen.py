#!/usr/bin/env python3
"""Generated Zexus programs of several shapes, for measuring how analysis, planning and
running scale with the size of a program (docs/benchmarks.md, "Scaling").

    gen.py SHAPE N > prog.zx

SHAPE is one of:
  chain     N top-level loops that all update the same globals: one chain of ~2N chunks
  fan       N independent loops, each into its own global (a wide DAG)
  globals   N globals assigned and read once each (many locations, cheap statements)
  calls     a chain of N actions, each calling the next (a deep call graph)
  wchain    a chain of N actions, each writing a global of its own and calling the next (only
            the first few calls run: the chain is as deep as N for the analysis alone)
  wfan      one action calling N others, each writing a global of its own
  wactions  N small actions, each writing a global of its own, each called from the top level
  cycle     a recursion cycle of N actions, each writing a global of its own
  actions   N small actions, each called once from the top level
  fork      one fork with N blocks, every block updating the same shared variable
  forkfree  one fork with N independent blocks
N is the number of statements of that shape (roughly: each is one to three source lines).
"""
import sys


def chain(n):
    out = ["let total = 0", "let count = 0"]
    for k in range(n):
        out.append(f"for each i in range(3) {{ total = total + i + {k} }}")
        out.append("count = count + 1")
    out.append("print(total)")
    out.append("print(count)")
    return out


def fan(n):
    out = []
    for k in range(n):
        out.append(f"let g{k} = 0")
        out.append(f"for each i{k} in range(2) {{ g{k} = g{k} + i{k} }}")
    out.append(f"print(g0 + g{n - 1})")
    return out


def globals_(n):
    out = [f"let g{k} = {k}" for k in range(n)]
    out.append("let s = 0")
    for k in range(0, n, 7):
        out.append(f"s = s + g{k}")
    out.append("print(s)")
    return out


def calls(n):
    out = [f"action f{n}(x) {{ return x + 1 }}"]
    for k in range(n - 1, -1, -1):
        out.append(f"action f{k}(x) {{ return f{k + 1}(x) + 1 }}")
    out.append("print(f0(0))")
    return out


def wchain(n):
    out = [f"let g{k} = 0" for k in range(n)]
    for k in range(n - 1):
        out.append(f"action f{k}(x) {{ g{k} = g{k} + 1; if x > 0 {{ f{k + 1}(x - 1) }} }}")
    out.append(f"action f{n - 1}(x) {{ g{n - 1} = g{n - 1} + 1 }}")
    out.append("f0(50)")
    out.append("print(g0 + g50)")
    return out


def wfan(n):
    out = [f"let g{k} = 0" for k in range(n)]
    for k in range(n):
        out.append(f"action a{k}() {{ g{k} = g{k} + {k % 5 + 1} }}")
    out.append("action hub() {")
    for k in range(n):
        out.append(f"    a{k}()")
    out.append("}")
    out.append("hub()")
    out.append(f"print(g0 + g{n - 1})")
    return out


def wactions(n):
    out = [f"let g{k} = 0" for k in range(n)]
    for k in range(n):
        out.append(f"action a{k}(x) {{ g{k} = g{k} + x }}")
    for k in range(n):
        out.append(f"a{k}({k % 7 + 1})")
    out.append(f"print(g0 + g{n - 1})")
    return out


def cycle(n):
    out = [f"let g{k} = 0" for k in range(n)]
    for k in range(n):
        out.append(f"action f{k}(x) {{ g{k} = g{k} + 1; if x > 0 {{ f{(k + 1) % n}(x - 1) }} }}")
    out.append("f0(50)")
    out.append("print(g0 + g1)")
    return out


def actions(n):
    out = []
    for k in range(n):
        out.append(f"action a{k}(x) {{ return x * {k % 7 + 1} }}")
    out.append("let s = 0")
    for k in range(n):
        out.append(f"s = s + a{k}({k})")
    out.append("print(s)")
    return out


def fork(n):
    out = ["shared let hits = 0"]
    for k in range(n):
        out.append(f"fork {{ hits += {k % 3 + 1} }}")
    out.append("join")
    out.append("print(hits)")
    return out


def forkfree(n):
    out = []
    for k in range(n):
        out.append(f"let v{k} = 0")
    for k in range(n):
        out.append(f"fork {{ v{k} = {k} }}")
    out.append("join")
    out.append(f"print(v0 + v{n - 1})")
    return out


SHAPES = {"chain": chain, "fan": fan, "globals": globals_, "calls": calls, "actions": actions,
          "fork": fork, "forkfree": forkfree, "wchain": wchain, "wfan": wfan, "wactions": wactions,
          "cycle": cycle}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in SHAPES:
        sys.stderr.write(__doc__)
        sys.exit(2)
    print("\n".join(SHAPES[sys.argv[1]](int(sys.argv[2]))))
