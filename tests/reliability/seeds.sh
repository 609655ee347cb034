#!/usr/bin/env bash
# seeds.sh — parallel output never depends on scheduling: every parallel program, under the
# seeded random scheduler, for many seeds and worker counts, prints exactly its expected output;
# and under a synthetic 2-package x 2-NUMA-node topology its workers are placed round-robin over
# the 4 nodes, as `zexus-jit info` shows.
# usage: seeds.sh ZEXUS_JIT [EXTRA-RUN-OPTIONS...]   (e.g. --jit=off for the TSan build)
# Environment: ZX_SEEDS (seeds per worker count, 10), ZX_SEED_BASE (the first seed, 1).
set -uo pipefail
bin=${1:?usage: seeds.sh ZEXUS_JIT [EXTRA-RUN-OPTIONS...]}
shift
extra=("$@")
root=$(cd "$(dirname "$0")/.." && pwd)
nseeds=${ZX_SEEDS:-10}
base=${ZX_SEED_BASE:-1}
topology="package:2 numa:2 core:4 pu:2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0 runs=0

programs=("$root"/zexus/parallel/*.zx "$root"/zexus/conformance/independent.zx)

# run DIR FILE EXPECTED OPTIONS...: one run, compared with EXPECTED (stdout, exit status 0)
run() {
    local dir=$1 file=$2 expected=$3
    shift 3
    runs=$((runs + 1))
    (cd "$dir" && timeout 300 "$bin" run "$@" "${extra[@]}" "$file" > "$work/out" 2> "$work/err")
    local rc=$?
    if ((rc != 0)) || ! cmp -s "$work/out" "$expected"; then
        fails=$((fails + 1))
        echo "FAIL $file: zexus-jit run $* ${extra[*]} $file (exit status $rc)"
        diff "$expected" "$work/out" | head -n 10 | sed 's/^/    /'
        head -n 5 "$work/err" | sed 's/^/    stderr: /'
        return 1
    fi
}

for prog in "${programs[@]}"; do
    dir=$(dirname "$prog")
    file=$(basename "$prog")
    expected=$dir/${file%.zx}.out
    for w in 2 3 8; do
        for ((s = base; s < base + nseeds; s++)); do
            run "$dir" "$file" "$expected" --mode=par --workers=$w --sched-seed=$s
        done
    done
done

# Placement on the synthetic topology: the stats' placement of W workers must be the first W
# lines of `info`'s placement, and those spread round-robin over the 4 NUMA nodes.
"$bin" info --topology="$topology" > "$work/info" || { echo "FAIL: zexus-jit info --topology"; exit 1; }
want_nodes=$(sed -n 's/^.*\([0-9][0-9]*\) NUMA nodes.*$/\1/p' "$work/info")
[[ $want_nodes == 4 ]] || { echo "FAIL: info shows '$want_nodes' NUMA nodes for $topology, want 4"; fails=$((fails + 1)); }
for w in 2 3 8; do
    for prog in "${programs[@]}"; do
        dir=$(dirname "$prog")
        file=$(basename "$prog")
        run "$dir" "$file" "$dir/${file%.zx}.out" --mode=par --workers=$w --sched-seed=$w \
            --topology="$topology" --stats=json || continue
        grep -q '"numa_nodes":4' "$work/err" || { echo "FAIL $file, $w workers: stats do not show 4 NUMA nodes"; fails=$((fails + 1)); }
        got=$(grep -o '{"worker":[0-9]*,"core":[0-9]*,"node":[0-9]*' "$work/err" |
              sed 's/{"worker":\([0-9]*\),"core":\([0-9]*\),"node":\([0-9]*\)/\1 \2 \3/')
        want=$(sed -n 's/^ *worker \([0-9]*\) -> core \([0-9]*\) (.*NUMA node \([0-9]*\)$/\1 \2 \3/p' "$work/info" | head -n "$w")
        if [[ $got != "$want" ]]; then
            echo "FAIL $file, $w workers: placement in --stats=json differs from zexus-jit info:"
            diff <(echo "$want") <(echo "$got") | sed 's/^/    /'
            fails=$((fails + 1))
        fi
        nodes=$(awk '{ print $3 }' <<< "$got" | tr '\n' ' ')
        round_robin=$(for ((i = 0; i < w; i++)); do printf '%d ' $((i % 4)); done)
        [[ $nodes == "$round_robin" ]] || { echo "FAIL $file, $w workers: nodes $nodes, want $round_robin"; fails=$((fails + 1)); }
    done
done

echo "seeds: $runs runs ($nseeds seeds x workers 2, 3, 8 x ${#programs[@]} programs, plus the topology), $fails failed"
((fails == 0))
