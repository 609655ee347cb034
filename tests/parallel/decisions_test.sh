#!/usr/bin/env bash
# What the parallel runtime decides and reports (docs/parallel.md), read from --stats=json:
# --mode=auto dispatches nothing parallel for the small conformance programs and runs
# independent.zx as a DAG; parallel_map runs on several threads, also with shared updates; a
# synthetic 2-package x 2-NUMA-node topology gives the documented placement.
set -uo pipefail
bin=$1
root=$(cd "$(dirname "$0")/.." && pwd)
fails=0 passes=0
stats=$(mktemp)
trap 'rm -f "$stats"' EXIT

ok() { passes=$((passes + 1)); }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
has() { grep -q -- "$1" "$stats"; }

cd "$root/zexus/conformance"
for f in *.zx; do
    "$bin" run --mode=auto --jit=off --stats=json "$f" > /dev/null 2> "$stats" || { bad "$f failed"; continue; }
    if [[ $f == independent.zx ]]; then
        # its four chunks take well under a millisecond each now: the first millisecond, which
        # auto runs in order, may finish them all (independent_long.zx below needs a DAG)
        has '"dag":{"used":' && ok || bad "auto: independent.zx: no DAG decision: $(cat "$stats")"
    else
        has '"dag":{"used":false' && has '"parallel_map":{"parallel":0' && has '"fork":{"parallel":0' \
            && ok || bad "auto: $f got parallel dispatch: $(head -c 400 "$stats")"
    fi
done

"$bin" run --mode=auto --jit=off --stats=json "$root/parallel/independent_long.zx" > /dev/null 2> "$stats" ||
    bad "independent_long.zx failed"
has '"dag":{"used":true' && ok || bad "auto: independent_long.zx did not run as a DAG: $(cat "$stats")"

cd "$root/programs"
# How many threads join in depends on timing (under ASan, on a loaded machine, a new worker may
# start after the main thread has run every element; under TSan in a full CI run that happened
# in 5 runs of 5): busy_pmap.zx has 16 long elements, and any of ten runs using two threads shows
# that they can.
busy=$root/parallel/busy_pmap.zx
for try in 1 2 3 4 5 6 7 8 9 10; do
    "$bin" run --mode=par --workers=2 --jit=off --stats=json "$busy" > /dev/null 2> "$stats" || bad "busy_pmap failed"
    threads=$(grep -o '"threads_used":[0-9]*' "$stats" | cut -d: -f2)
    [[ ${threads:-0} -ge 2 ]] && break
done
[[ ${threads:-0} -ge 2 ]] && ok || bad "busy_pmap: $threads threads used in 10 runs, want >= 2"

"$bin" run --mode=par --workers=2 --jit=off --stats=json shared_updates.zx > /dev/null 2> "$stats" || bad "shared_updates failed"
has '"parallel_map":{"parallel":2' && ok || bad "shared_updates: parallel_map did not run in parallel: $(cat "$stats")"

# with 8 workers on any machine, 8 workers are placed and more than one thread runs elements
for try in 1 2 3 4 5 6 7 8 9 10; do
    "$bin" run --mode=par --workers=8 --jit=off --stats=json "$busy" > /dev/null 2> "$stats" || bad "8 workers failed"
    threads=$(grep -o '"threads_used":[0-9]*' "$stats" | cut -d: -f2)
    [[ ${threads:-0} -ge 2 ]] && break
done
has '"workers":8' && ok || bad "8 workers: $(head -c 300 "$stats")"
[[ ${threads:-0} -ge 2 ]] && ok || bad "8 workers: $threads threads used in 10 runs"

# the synthetic topology: 2 packages x 2 NUMA nodes, workers spread round-robin over the nodes
"$bin" run --mode=par --workers=4 --jit=off --topology="package:2 numa:2 core:4 pu:2" --stats=json \
    shared_updates.zx > /dev/null 2> "$stats" || bad "synthetic topology run failed"
has '"packages":2,"numa_nodes":4' && ok || bad "synthetic topology counts: $(cat "$stats")"
for w in 0 1 2 3; do
    grep -q "\"worker\":$w,\"core\":[0-9]*,\"node\":$w" "$stats" && ok || bad "worker $w not on node $w: $(grep -o '"placement".*' "$stats")"
done

echo "parallel decisions: $passes passed, $fails failed"
[[ $fails -eq 0 ]]
