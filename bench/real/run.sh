#!/usr/bin/env bash
# run.sh — the real-programs suite: eight classic programs, each in Zexus, C, Lua, Python and
# JavaScript, timed side by side on this machine; prints a Markdown report with each program's
# time as a multiple of C and the geometric mean per runtime.
#
# usage: bench/real/run.sh [--quick] [--runs N] [--zexus PATH] [--only NAME[,NAME...]]
#   --quick   small sizes, 1 run (a smoke test that every implementation prints the same checksum)
#   --runs N  timed runs per row (5); the report uses the median wall time
#
# Runtimes (each only where installed): C (gcc -O2), zexus-jit --jit=always / default / --jit=off,
# LuaJIT, Lua 5.4, PyPy, Node, CPython. Every implementation of a program must print the same
# checksum; a row that differs or fails is marked and makes the exit status 1.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
zx=${ZEXUS_JIT:-$repo/build/zexus-jit}
runs=5 quick=0 only=
while (($#)); do
    case $1 in
        --quick) quick=1 ;;
        --runs) runs=${2:?}; shift ;;
        --zexus) zx=${2:?}; shift ;;
        --only) only=${2:?}; shift ;;
        -h|--help) sed -n '2,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift
done
((quick)) && runs=1
have() { command -v "$1" >/dev/null 2>&1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/zx-real.XXXXXX")
trap 'rm -rf "$work"' EXIT

# name | full size | quick size
programs=(
    "nbody|1000000|1000"
    "spectralnorm|1000|50"
    "binarytrees|15|6"
    "fannkuch|10|6"
    "mandelbrot|1000|60"
    "wordcount|2000000|5000"
    "sieve|5000000|10000"
    "sort|2000000|5000"
)
python_bin=; have python3 && python_bin=$(python3 -c 'import sys; print(sys.executable)')
# label|command prefix (the program path and size follow)
runtimes=("C|$work/c/%s")
runtimes+=("zexus-jit --jit=always|$zx run --jit=always $here/zx/%s.zx")
runtimes+=("zexus-jit default|$zx run $here/zx/%s.zx")
runtimes+=("zexus-jit --jit=off|$zx run --jit=off $here/zx/%s.zx")
have luajit && runtimes+=("LuaJIT|luajit $here/lua/%s.lua")
have lua5.4 && runtimes+=("Lua 5.4|lua5.4 $here/lua/%s.lua")
have pypy3 && runtimes+=("PyPy|pypy3 $here/py/%s.py")
have node && runtimes+=("Node|node $here/js/%s.js")
[[ -n $python_bin ]] && runtimes+=("CPython|$python_bin $here/py/%s.py")

mkdir -p "$work/c"
for src in "$here"/c/*.c; do gcc -O2 -o "$work/c/$(basename "$src" .c)" "$src" -lm || exit 2; done

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
results=$work/results.tsv
failures=0
for spec in "${programs[@]}"; do
    IFS='|' read -r name size qsize <<< "$spec"
    [[ -n $only && ",$only," != *",$name,"* ]] && continue
    ((quick)) && size=$qsize
    expect=
    for rt in "${runtimes[@]}"; do
        label=${rt%%|*}
        # shellcheck disable=SC2059
        cmd=$(printf "${rt#*|}" "$name")
        read -r -a argv <<< "$cmd"
        sum=$(timeout 600 "${argv[@]}" "$size" 2> "$work/err" | tail -n 1)
        rc=$?
        status=ok
        if ((rc != 0)); then status="failed (exit $rc)"
        elif [[ -z $expect ]]; then expect=$sum
        elif [[ $sum != "$expect" ]]; then status="wrong checksum '$sum'"
        fi
        t=-
        if [[ $status == ok ]]; then
            if have hyperfine; then
                hyperfine -N --style none --runs "$runs" --export-json "$work/hf.json" -- "$cmd $size" > /dev/null 2>&1
                t=$(tr -d ' \n' < "$work/hf.json" | sed -n 's/.*"times":\[\([^]]*\)\].*/\1/p' | tr ',' '\n' | median)
            else
                for ((i = 0; i < runs; i++)); do
                    t0=$(date +%s%N); "${argv[@]}" "$size" > /dev/null 2>&1; t1=$(date +%s%N)
                    echo $(((t1 - t0) / 1000))e-6
                done | median > "$work/t"; t=$(cat "$work/t")
            fi
        else
            failures=$((failures + 1))
            echo "run.sh: $name, $label: $status $(head -c 200 "$work/err")" >&2
        fi
        printf '%s\t%s\t%s\t%s\n' "$name" "$label" "$t" "$status" >> "$results"
        printf '[real] %-13s %-24s %8s s  %s\n' "$name" "$label" "$t" "$status" >&2
    done
done

# The report: seconds per program and runtime, then x C per runtime with the geometric mean.
python3 - "$results" "$quick" <<'PY'
import math, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
progs, rts = [], []
t = {}
for name, label, secs, status in rows:
    if name not in progs: progs.append(name)
    if label not in rts: rts.append(label)
    t[name, label] = float(secs) if status == "ok" else None
print("| program | " + " | ".join(rts) + " |")
print("|---|" + "---:|" * len(rts))
for p in progs:
    cells = []
    for r in rts:
        v, c = t.get((p, r)), t.get((p, "C"))
        cells.append("-" if v is None else (f"{v:.3f} s" if r == "C" or not c else f"{v / c:.1f}x"))
    print(f"| {p} | " + " | ".join(cells) + " |")
print()
print("| runtime | geomean x C | worst x C |")
print("|---|---:|---:|")
for r in rts:
    if r == "C": continue
    xs = [(t[p, r] / t[p, "C"], p) for p in progs if t.get((p, r)) and t.get((p, "C"))]
    if not xs: continue
    g = math.exp(sum(math.log(x) for x, _ in xs) / len(xs))
    w = max(xs)
    print(f"| {r} | {g:.1f} | {w[0]:.1f} ({w[1]}) |")
PY
exit $((failures > 0))
