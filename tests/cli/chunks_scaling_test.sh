#!/usr/bin/env bash
# Issue #17: the analysis and planning are linear in the program.  A chain of 5,000
# conflicting chunks (2,500 loops that all update the same globals, each followed by a
# counter update) is analysed, planned and listed well within the CTest timeout (a pairwise
# analysis took minutes and gigabytes), the listing is linear (fewer than 10 lines a chunk),
# and --stats gives the DAG's width (two chains: the loops and the counter).
set -uo pipefail
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0 passes=0
check() {   # check NAME CONDITION-STATUS DETAIL
    if [[ $2 == 0 ]]; then passes=$((passes + 1)); return; fi
    echo "FAIL $1: $3"; fails=$((fails + 1))
}

chain() {   # chain N FILE: N loops and N counter updates, 2N+1 chunks in two chains
    {
        echo "let total = 0"
        echo "let count = 0"
        for ((k = 0; k < $1; k++)); do
            echo "for each i in range(3) { total = total + i + $k }"
            echo "count = count + 1"
        done
        echo "print(total, count)"
    } > "$2"
}
want() { echo "$((3 * $1 + 3 * $1 * ($1 - 1) / 2)) $1"; }

n=2500
chain $n "$work/chain.zx"
start=$(date +%s%N)
"$bin" chunks "$work/chain.zx" > "$work/list.txt" 2> "$work/err.txt"
check chunks_status $? "exit status $(cat "$work/err.txt")"
chunks=$(grep -c '^  chunk [0-9]*:' "$work/list.txt")
lines=$(wc -l < "$work/list.txt")
[[ $chunks -ge $((2 * n)) ]]; check chunk_count $? "$chunks chunks, want at least $((2 * n))"
[[ $lines -lt $((10 * chunks)) ]]; check listing_linear $? "$lines lines for $chunks chunks"
edges=$(grep -c '^    chunk [0-9]* -> chunk [0-9]*:' "$work/list.txt")
[[ $edges -lt $((4 * chunks)) ]]; check edges_linear $? "$edges edges for $chunks chunks"
grep -q '^  independent: 2 chunks' "$work/list.txt"; check listing_width $? "$(grep '^  independent' "$work/list.txt")"

"$bin" run --mode=auto --jit=off --workers=2 --stats "$work/chain.zx" > "$work/out.txt" 2> "$work/stats.txt"
check run_auto $? "exit status: $(tail -3 "$work/stats.txt")"
[[ $(cat "$work/out.txt") == "$(want $n)" ]]; check output_auto $? "printed '$(cat "$work/out.txt")', want '$(want $n)'"
grep -q "top level: $chunks chunks, DAG width 2," "$work/stats.txt"
check width_auto $? "$(grep 'top level' "$work/stats.txt")"
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
echo "chain of $chunks chunks: listing and --mode=auto in $elapsed ms"

# --mode=par runs the DAG: smaller, since every chunk's frame has a slot for each of the top
# level's locals (two loop temporaries per loop), which is the runtime's, not the plan's, cost
n=300
chain $n "$work/small.zx"
"$bin" run --mode=par --jit=off --workers=2 --stats "$work/small.zx" > "$work/out.txt" 2> "$work/stats.txt"
check run_par $? "exit status: $(tail -3 "$work/stats.txt")"
[[ $(cat "$work/out.txt") == "$(want $n)" ]]; check output_par $? "printed '$(cat "$work/out.txt")', want '$(want $n)'"
grep -q "top level: $((2 * n + 1)) chunks, DAG width 2," "$work/stats.txt"
check width_par $? "$(grep 'top level' "$work/stats.txt")"

echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
