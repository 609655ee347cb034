#!/usr/bin/env bash
# `zexus-jit chunks` (docs/analysis.md): on independent.zx the four work() calls are four
# independent chunks, in the listing and in the --dot graph; usage errors exit 2.
set -uo pipefail
bin=$1
prog=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0 passes=0

expect() {   # expect NAME PATTERN FILE
    if grep -qE -- "$2" "$3"; then passes=$((passes + 1)); return; fi
    echo "FAIL $1: '$2' not in $3:"; sed 's/^/    /' "$3"; fails=$((fails + 1))
}
status() {   # status NAME WANT GOT
    if [[ $3 == "$2" ]]; then passes=$((passes + 1)); return; fi
    echo "FAIL $1: exit status $3, want $2"; fails=$((fails + 1))
}

"$bin" chunks "$prog" > "$work/list.txt" 2> "$work/err.txt"; status listing 0 $?
expect independent 'independent: 4 chunks \(1, 2, 3, 4\) with no path between any two' "$work/list.txt"
expect raw_edge "chunk 0 -> chunk 1: RAW on global 'work'" "$work/list.txt"
expect raw_total "chunk 4 -> chunk 5: RAW on global 'd'" "$work/list.txt"
expect parallelism '^  parallelism: 3\.[5-9]' "$work/list.txt"
# the four calls stand alone: exactly one line each
for line in 11 12 13 14; do expect "alone_$line" "line $line, cost [0-9]+, stands alone" "$work/list.txt"; done

"$bin" chunks --chunk-size=1 "$prog" > "$work/small.txt" 2>&1; status chunk_size 0 $?
expect chunk_size_header 'chunk size 1' "$work/small.txt"
expect chunk_size_width 'independent: [4-9] chunks' "$work/small.txt"

"$bin" chunks --dot "$prog" > "$work/g.dot" 2> "$work/err.txt"; status dot 0 $?
expect dot_header '^digraph chunks \{' "$work/g.dot"
n=$(grep -c 'c0_[0-9]* \[label="chunk [0-9]*\\nline 1[1-4]\\ncostly call"' "$work/g.dot")
status dot_four_costly_chunks 4 "$n"
n=$(grep -cE 'c0_0 -> c0_[1-4] \[label="RAW work"\]' "$work/g.dot")
status dot_four_edges_from_the_action 4 "$n"
if command -v dot > /dev/null; then
    dot -Tsvg "$work/g.dot" > /dev/null 2> "$work/err.txt"; status dot_renders 0 $?
fi

"$bin" chunks > /dev/null 2> "$work/err.txt"; status missing_file 2 $?
"$bin" run --dot "$prog" > /dev/null 2> "$work/err.txt"; status dot_only_for_chunks 2 $?
"$bin" chunks "$work/none.zx" > /dev/null 2> "$work/err.txt"; status unreadable 2 $?

echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
