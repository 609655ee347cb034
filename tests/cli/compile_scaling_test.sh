#!/usr/bin/env bash
# Issue #17: the front end is linear in the program.  100,000 globals, a list literal of
# 100,000 ints, a map literal of 100,000 pairs (built in pieces like lists, MAP_EXTEND) and
# 100,000 distinct string constants each compile and run within the CTest
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
# a map literal of 100,000 pairs (keys repeating across its pieces: the later value wins, the
# first place stays): the operand stack held every pair at once (no more than ~37,000 fitted),
# and the analysis' stack-origin pass kept a copy of the stack per instruction (gigabytes)
awk -v n=$n 'BEGIN { printf "let m = {"; for (k = 0; k < n; k++) printf "%s\"k%d\": %d", (k ? ", " : ""), k % 60000, k; print "}"; print "let ks = keys(m)"; print "print(len(m), m[\"k0\"], m[\"k59999\"], ks[0], ks[59999])" }' > map.zx
awk 'BEGIN { printf "let m = {\"z\": 0"; for (k = 0; k < 5000; k++) printf ", \"k%d\": %d", k % 3000, k; print "}"; print "print(len(m), m[\"k0\"], m[\"k2999\"], keys(m)[1], m[\"z\"])" }' > map5k.zx
expect globals.zx "$((n - 1))"
expect list.zx "$n $((n - 1))"
expect strings.zx "str99999 str99900"
expect map.zx "60000 60000 59999 k0 k59999"
for mode in "--jit=strict -O2" "--jit=strict -O0" "--mode=par --workers=2"; do
    # shellcheck disable=SC2086
    out=$("$bin" run --no-cache $mode map5k.zx 2>&1)
    [[ $out == "3001 3000 2999 k0 0" ]] && passes=$((passes + 1)) ||
        { echo "FAIL map5k.zx $mode: printed '$(head -c 200 <<< "$out")'"; fails=$((fails + 1)); }
done
echo "compile scaling: $passes passed, $fails failed"
((fails == 0))
