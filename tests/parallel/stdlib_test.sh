#!/usr/bin/env bash
# The effect columns of the standard library as the analysis reads them (runtime/builtins.h):
# parallel_map over functions calling pure builtins (split, trim, len, ...) runs in parallel,
# one calling map/reduce (which call functions) or changing a list runs in order with its
# reason in --stats; and the parallel runs of tests/programs/stdlib_parallel.zx print exactly
# what the sequential run prints.
set -uo pipefail
bin=$1
root=$(cd "$(dirname "$0")/.." && pwd)
fails=0 passes=0
stats=$(mktemp)
out=$(mktemp)
trap 'rm -f "$stats" "$out"' EXIT

ok() { passes=$((passes + 1)); }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
has() { grep -q -- "$1" "$stats"; }

cd "$root/programs"
prog=stdlib_parallel.zx
for jit in off strict; do
    "$bin" run --mode=par --workers=2 --jit=$jit --stats=json "$prog" > "$out" 2> "$stats" || bad "$prog failed (jit $jit)"
    cmp -s "$out" stdlib_parallel.out && ok || bad "$prog: parallel output differs (jit $jit)"
    # shape (line 27) and count_words (line 29) call only pure builtins
    has '"parallel_map":{"parallel":2' && ok || bad "pure builtins did not keep parallel_map parallel: $(head -c 600 "$stats")"
    has 'stdlib_parallel.zx:27:[0-9]* ran sequentially' && bad "shape ran sequentially" || ok
    has 'stdlib_parallel.zx:29:[0-9]* ran sequentially' && bad "count_words ran sequentially" || ok
    has 'stdlib_parallel.zx:24:7 ran sequentially: it calls a function that the analysis cannot resolve' \
        && ok || bad "reduce inside parallel_map not ordered: $(head -c 600 "$stats")"
    has 'stdlib_parallel.zx:25:10 ran sequentially: it may change a list or map' \
        && ok || bad "push inside parallel_map not ordered: $(head -c 600 "$stats")"
    has '"fork":{"parallel":1' && ok || bad "fork blocks with disjoint builtins did not run in parallel: $(head -c 600 "$stats")"
done

echo "stdlib parallel decisions: $passes passed, $fails failed"
[[ $fails -eq 0 ]]
