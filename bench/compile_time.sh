#!/usr/bin/env bash
# compile_time.sh — JIT compile time against program size (docs/architecture.md, "Compile
# time"): list literals of 250..4,000 constants, map literals of 400 and 1,600 entries and a
# generated program of mixed statements (bench/gen_mixed.py), each under --jit=strict at -O0 and
# -O2, without the compiled-code cache.  Prints one line per case: the compile time from the
# JIT line of --stats, the run's wall and user seconds, and the interpreter's wall seconds.
# usage: compile_time.sh ZEXUS_JIT [TIMEOUT_SECONDS (120)]
set -uo pipefail
bin=${1:?usage: compile_time.sh ZEXUS_JIT [TIMEOUT]}
limit=${2:-120}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
import sys
d = sys.argv[1]
for n in (250, 500, 1000, 2000, 4000):
    open("%s/list%d.zx" % (d, n), "w").write(
        "let xs = [" + ", ".join(str(i) for i in range(n)) + "]\nprint(len(xs), xs[%d])\n" % (n - 1))
for n in (400, 1600):
    open("%s/map%d.zx" % (d, n), "w").write(
        "let m = {" + ", ".join('"k%d": %d' % (i, i) for i in range(n)) + "}\nprint(len(m))\n")
PY
for n in 150 600; do python3 "$here/gen_mixed.py" $n > "$work/mixed$n.zx"; done
printf '%-10s %-4s %12s %9s %9s %9s\n' case opt compile_ms wall_s user_s interp_s
for f in list250 list500 list1000 list2000 list4000 map400 map1600 mixed150 mixed600; do
    /usr/bin/time -f '%e' -o "$work/itime" "$bin" run --jit=off "$work/$f.zx" >/dev/null 2>&1
    interp=$(cat "$work/itime")
    for o in 0 2; do
        /usr/bin/time -f '%e %U' -o "$work/time" timeout "$limit" "$bin" run --jit=strict -O$o --no-cache --stats \
            "$work/$f.zx" >/dev/null 2>"$work/err"
        rc=$?
        ms=$(grep -o 'compiled in [0-9.]* ms' "$work/err" | awk '{s += $3} END {printf "%.0f", s}')
        [ $rc -eq 124 ] && ms=">${limit}s"
        read -r wall user < <(tail -1 "$work/time")
        printf '%-10s -O%-2s %12s %9s %9s %9s\n' "$f" $o "$ms" "$wall" "$user" "$interp"
    done
done
