#!/usr/bin/env bash
# Where a run's globals live (docs/parallel.md, "Shared state"), read from --stats=json: under
# the synthetic 2-package x 2-NUMA-node topology the placement is the one the rule gives for
# partitions.zx, and the output is the sequential run's in every mode; numa_heap.zx's large
# lists and maps, whose storage is node-bound, give the sequential output too.
set -uo pipefail
bin=$1
cd "$(dirname "$0")"
fails=0 passes=0
stats=$(mktemp)
trap 'rm -f "$stats"' EXIT
topo="package:2 numa:2 core:2 pu:1"

ok() { passes=$((passes + 1)); }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
has() { grep -qF -- "$1" "$stats"; }
partitions() { grep -o '"partitions":.*' "$stats" | head -c 1200; }

want=$("$bin" run --mode=seq --jit=off partitions.zx) || bad "the sequential run failed"
[[ $want == $'199990000 399980000 599970000 799960000\n60000 1 3' ]] && ok || bad "sequential output: $want"

run() {   # run OPTIONS...: the output must be the sequential one; statistics to $stats
    local out
    out=$("$bin" run "$@" --stats=json partitions.zx 2> "$stats") || { bad "run $* failed: $(head -c 300 "$stats")"; return; }
    [[ $out == "$want" ]] && ok || bad "run $*: output differs: $out"
}

# 8 workers on 4 nodes: chunks spread over the nodes level by level (see placement.h); each
# loop's globals in its chunk's node, `both` (loops on nodes 0 and 1), the fork-written
# `forked` and the shared `total` in home
for w in 8 4; do
    run --mode=par --workers=$w --jit=off --topology="$topo"
    has '"nodes_in_use":[0,1,2,3],"chunk_nodes":[0,0,1,3,2,1,3,2,1,0,2,1,3,2]' && ok || bad "$w workers: chunk nodes: $(partitions)"
    has '{"partition":"node 0","node":0,"memory":"plain","bytes":192,"variables":["a","bump","i","p"]}' && ok || bad "$w workers: node 0: $(partitions)"
    has '{"partition":"node 1","node":1,"memory":"plain","bytes":128,"variables":["c","k","q"]}' && ok || bad "$w workers: node 1: $(partitions)"
    has '{"partition":"node 2","node":2,"memory":"plain","bytes":64,"variables":["d","m"]}' && ok || bad "$w workers: node 2: $(partitions)"
    has '{"partition":"node 3","node":3,"memory":"plain","bytes":64,"variables":["b","j"]}' && ok || bad "$w workers: node 3: $(partitions)"
    has '{"partition":"home","node":null,"memory":"plain","bytes":192,"variables":["both","forked","total"]}' && ok || bad "$w workers: home: $(partitions)"
done
# two workers use nodes 0 and 1 only
run --mode=par --workers=2 --jit=off --topology="$topo"
has '"nodes_in_use":[0,1],' && ok || bad "2 workers: $(partitions)"
has '"variables":["a","c","bump","i","k","p"]' && has '"variables":["b","d","j","m","q"]' && ok || bad "2 workers: $(partitions)"
# compiled code reads and writes the globals through the same slots
run --mode=par --workers=8 --jit=strict -O2 --topology="$topo"
has '"variables":["both","forked","total"]' && ok || bad "jit: $(partitions)"
run --mode=auto --workers=3 --jit=strict -O0 --topology="$topo"
# sequential, and unpinned workers: one home partition holds everything
for opts in "--mode=seq" "--mode=par --pin=off --workers=4"; do
    run $opts --jit=off --topology="$topo"
    has '"nodes_in_use":[],"chunk_nodes":[],"list":[{"partition":"home","node":null,"memory":"plain","bytes":320,' && ok || bad "$opts: $(partitions)"
done
# the text statistics: one line
"$bin" run --mode=par --workers=8 --jit=off --topology="$topo" --stats partitions.zx > /dev/null 2> "$stats" || bad "text stats run failed"
has 'partitions: node 0 (plain, 192 B): a, bump, i, p; node 1 (plain, 128 B): c, k, q; node 2 (plain, 64 B): d, m; node 3 (plain, 64 B): b, j; home (plain, 192 B): both, forked, total' \
    && ok || bad "text: $(grep partitions "$stats")"

# large lists and maps made on workers of different nodes (bound storage), used everywhere
heap_want=$("$bin" run --mode=seq --jit=off numa_heap.zx) || bad "numa_heap: the sequential run failed"
for opts in "--workers=2 --jit=off" "--workers=8 --jit=off" "--workers=8 --jit=strict"; do
    out=$("$bin" run --mode=par $opts --topology="$topo" numa_heap.zx 2>&1) && [[ $out == "$heap_want" ]] \
        && ok || bad "numa_heap $opts: $out"
done

echo "partitions: $passes passed, $fails failed"
[[ $fails -eq 0 ]]
