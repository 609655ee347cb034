#!/usr/bin/env bash
# smoke_test.sh — bench/run.sh --quick writes a complete, valid report (CTest bench.smoke).
# usage: smoke_test.sh ZEXUS_JIT OUT_DIR
# Checks the report's sections and rows and that every implementation agreed on the checksums;
# it asserts nothing about the times (the machines are shared and noisy).
set -uo pipefail
bin=${1:?usage: smoke_test.sh ZEXUS_JIT OUT_DIR}
out=${2:?}
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$out"
mkdir -p "$out"
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

bash "$here/run.sh" --quick --runs 1 --zexus "$bin" --out "$out" > "$out/run.log" 2>&1
rc=$?
((rc == 0)) || { tail -n 30 "$out/run.log"; bad "bench/run.sh --quick exited with $rc"; }
md=$out/benchmarks.md
[[ -s $md ]] || { bad "no report $md"; exit 1; }
for section in '^# Benchmarks' '^## Machine' '^## Goals' '^## Results' '^### arith-200' '^### hello' \
               '^## JIT compile latency' '^## Start-up' '^## Commands'; do
    grep -qE "$section" "$md" || bad "the report has no '$section'"
done
for row in '^\| interp \| [0-9.]+ \| [0-9.]+–[0-9.]+ \|' '^\| jit \| [0-9.]+ \|' '^\| par2 \| [0-9.]+ \|' \
           '^\| auto1 \| [0-9.]+ \|' '^\| CPU \| ' '^\| hello world start-up'; do
    grep -qE "$row" "$md" || bad "the report has no row matching /$row/"
done
grep -qE 'MISMATCH|FAILED' "$md" && bad "a row failed or printed another checksum: $(grep -E 'MISMATCH|FAILED' "$md" | head -n 3)"
grep -q 'zexus-jit run --jit=off --mode=seq bench/arith.zx 200' "$md" || bad "the report does not list the exact commands"
if command -v gnuplot >/dev/null; then
    [[ $(head -c 8 "$out/benchmarks.png" 2>/dev/null | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] ||
        bad "no PNG chart $out/benchmarks.png"
    grep -q '!\[.*\](benchmarks.png)' "$md" || bad "the report does not show the chart"
fi
((fails == 0)) && echo "bench smoke: the report in $md is complete"
((fails == 0))
