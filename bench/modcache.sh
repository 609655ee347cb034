#!/usr/bin/env bash
# modcache.sh — the compiled-code cache per source file (docs/benchmarks.md, "Compiled-code
# cache per file"): a main file and two modules of N actions each (loops, calls within and
# across files), run under --jit=strict cold (empty cache), warm (a second run) and after an
# edit of one constant in one action of one module.  Prints, per case, the median over RUNS
# runs of the JIT time from --stats (the "modules compiled in ... ms" figure: lowering,
# optimisation, code generation and cache loads), of the run's wall and user CPU seconds, and
# the modules compiled / loaded from the cache.
# usage: modcache.sh ZEXUS_JIT [N (40)] [RUNS (5)] [OPT (-O2)]
set -uo pipefail
bin=$(realpath "${1:?usage: modcache.sh ZEXUS_JIT [N] [RUNS] [OPT]}")
n=${2:-40}
runs=${3:-5}
opt=${4:--O2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2

# gen DIR K: the program with constant K in module m1's action f1_3
gen() {
    mkdir -p "$1"
    python3 - "$1" "$n" "$2" <<'PY'
import sys
d, n, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def actions(p, n, k=None):
    out = []
    for i in range(n):
        m = k if (p == "f1" and i == 3) else 13 + i % 5
        out.append("export action %s_%d(n) {\n    let s = 0\n    let i = 0\n    while (i < n) {\n"
                   "        s += (i * %d + %d) %% %d\n        i += 1\n    }\n    return s\n}\n" % (p, i, 7 + i, i, m))
    body = " + ".join("%s_%d(n)" % (p, i) for i in range(n))
    out.append("export action run_%s(n) { return %s }\n" % (p, body))
    return "".join(out)
open(d + "/m1.zx", "w").write("let w1 = 3\n" + actions("f1", n, k))
open(d + "/m2.zx", "w").write("use \"./m1.zx\" as m1\nlet w2 = 5\n" + actions("f2", n) +
                              "export action both(n) { return run_f2(n) + m1.run_f1(n) }\n")
open(d + "/main.zx", "w").write("use \"./m1.zx\" as m1\nuse \"./m2.zx\" as m2\n" + actions("g", n).replace("export ", "") +
                                "print(m2.both(1000) + run_g(1000))\n")
PY
}
gen orig 13
gen edited 11
mkdir -p prog

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# one RUN CACHE DIR: a run of DIR/main.zx; appends "ms wall compiled loaded" to $work/rows
one() {
    XDG_CACHE_HOME=$1 ZEXUS_JIT_LOG=1 /usr/bin/time -f '%e %U' -o time "$bin" run --jit=strict "$opt" --stats "$2/main.zx" \
        > out 2> err || { echo "run failed: $(head -c 300 err)"; exit 1; }
    local ms comp load
    ms=$(grep -o 'compiled in [0-9.]* ms' err | awk '{print $3}')
    comp=$(grep -c '^jit: module .*: lower+verify' err)
    load=$(grep -c '^jit: module .*: from the cache' err)
    echo "$ms $(tail -1 time) $comp $load" >> rows
}
# report CASE: the medians of the rows
report() {
    printf '%-14s %10s %8s %8s %9s %7s\n' "$1" "$(cut -d' ' -f1 rows | median)" "$(cut -d' ' -f2 rows | median)" \
        "$(cut -d' ' -f3 rows | median)" "$(cut -d' ' -f4 rows | median)" "$(cut -d' ' -f5 rows | median)"
    rm -f rows
}

printf '%-14s %10s %8s %8s %9s %7s\n' case jit_ms wall_s user_s compiled loaded
cache=$work/cache
cp orig/*.zx prog/
for ((r = 0; r < runs; r++)); do rm -rf "$cache"; one "$cache" prog; done
report cold
for ((r = 0; r < runs; r++)); do one "$cache" prog; done
report warm
for ((r = 0; r < runs; r++)); do
    rm -rf "$cache"
    cp orig/m1.zx prog/
    one "$cache" prog
    rm -f rows
    cp edited/m1.zx prog/       # the same program, one constant of m1.zx's f1_3 changed
    one "$cache" prog
    cat rows >> edits
done
mv edits rows
report "m1.zx edited"
[[ $(cat out) =~ ^[0-9]+$ ]] || echo "unexpected output: $(cat out)"
