#!/usr/bin/env bash
# dist_embed_test.sh — the embedding API's distributed run (examples/embed_dist.c): under
# mpirun -n 2, with every block sent to rank 1, it prints what it prints alone, and the map
# calling a host function registered on every rank really ran on rank 1.
# usage: dist_embed_test.sh EMBED_DIST MODULE MPIRUN
set -u
prog=$1 module=$2 mpirun=$3
export ZEXUS_DIST_MODULE=$module
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
timeout -s KILL 60 "$mpirun" -q --mca pml ob1 -n 1 -x ZEXUS_DIST_MODULE "$prog" > "$tmp/one.out" 2> "$tmp/one.err" \
    || bad "one rank: $(cat "$tmp/one.err")"
EMBED_DIST_STATS=1 ZEXUS_DIST_RANK0_IDLE=1 timeout -s KILL 120 "$mpirun" -q --mca pml ob1 -n 2 -x ZEXUS_DIST_MODULE \
    -x ZEXUS_DIST_RANK0_IDLE -x EMBED_DIST_STATS "$prog" > "$tmp/two.out" 2> "$tmp/two.err" \
    || bad "two ranks: $(head -c 600 "$tmp/two.err")"
grep -q "longest chain below 20001 starts at 17647 with 278 steps" "$tmp/one.out" || bad "one rank printed: $(cat "$tmp/one.out")"
cmp -s "$tmp/one.out" "$tmp/two.out" || bad "two ranks printed: $(cat "$tmp/two.out")"
grep -q "distributed over 2 ranks: [0-9]* blocks of [0-9]*, [1-9][0-9]* ran remotely" "$tmp/two.err" \
    || bad "the map did not run on rank 1: $(grep parallel_map "$tmp/two.err")"
[[ $fails == 0 ]] && echo ok
exit $((fails > 0))
