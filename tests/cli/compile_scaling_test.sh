#!/usr/bin/env bash
# Issue #17: the front end is linear in the program.  100,000 globals, a list literal of
# 100,000 ints and 100,000 distinct string constants each compile and run within the CTest
# timeout (the compiler's constant, global and name lookups used to scan their tables: 50,000
# globals took 64 s, so 100,000 would take minutes; linear they take about a second), and each
# prints what it should.
set -uo pipefail
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fails=0 passes=0
n=100000
awk -v n=$n 'BEGIN { for (k = 0; k < n; k++) printf "let g%d = %d\n", k, k; printf "print(g%d + g0)\n", n - 1 }' > globals.zx
awk -v n=$n 'BEGIN { printf "let xs = ["; for (k = 0; k < n; k++) printf "%s%d", (k ? ", " : ""), k; print "]"; print "print(len(xs), xs[" n - 1 "])" }' > list.zx
awk -v n=$n 'BEGIN { for (k = 0; k < n; k++) printf "let s%d = \"str%d\"\n", k % 100, k; print "print(s99, s0)" }' > strings.zx
expect() {   # expect FILE OUTPUT
    local out
    out=$("$bin" run --jit=off "$1" 2>&1) || { echo "FAIL $1: exit status $?: $(head -c 200 <<< "$out")"; fails=$((fails + 1)); return; }
    [[ $out == "$2" ]] && passes=$((passes + 1)) || { echo "FAIL $1: printed '$out', want '$2'"; fails=$((fails + 1)); }
    "$bin" compile "$1" -o "$1.zxbc" && [[ -s $1.zxbc ]] && passes=$((passes + 1)) ||
        { echo "FAIL compile $1"; fails=$((fails + 1)); }
}
expect globals.zx "$((n - 1))"
expect list.zx "$n $((n - 1))"
expect strings.zx "str99999 str99900"
echo "compile scaling: $passes passed, $fails failed"
((fails == 0))
