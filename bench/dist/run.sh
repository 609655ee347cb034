#!/usr/bin/env bash
# run.sh — parallel_map across MPI ranks on this machine (docs/distributed.md, "Costs").
#   coarse: 64 elements of a few ms, 1 rank vs 2 and 4 ranks (one worker each; 2 ranks on
#           separate cores; 4 ranks share the cores when the machine has fewer than 4)
#   fine:   200,000 trivial elements, every block sent to rank 1 (rank 0 idle): the cost of
#           dispatching an element, its bytes both ways included
#   tcp:    the coarse map (1 vs 2 ranks) and the fine map again between two network namespaces
#           over TCP (tests/dist/netns_lib.sh; as root only, skipped otherwise)
# usage: bench/dist/run.sh [ZEXUS_JIT] [REPEATS]   (figures are the median of REPEATS runs)
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../../build/zexus-jit}
reps=${2:-5}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export HWLOC_PLUGINS_BLACKLIST=${HWLOC_PLUGINS_BLACKLIST-gl,opencl,cuda,nvml,rsmi,levelzero}
mpi=(mpirun -q --mca pml ob1 --bind-to core)

# seconds of the run itself (the first --stats line), not mpirun's start
run_s() { "$@" 2>&1 >/dev/null | sed -n 's/^mode .*, \([0-9.]*\) s$/\1/p' | head -1; }
# the distributed map's wall ms from its --stats note
map_ms() { "$@" 2>&1 >/dev/null | sed -n 's/.*distributed over .* wall \([0-9.]*\) ms;.*/\1/p' | head -1; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : "n/a")}'; }

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(mpirun --version | head -1)"
# in each tier: the interpreter's elements are ~10 ms, compiled ones ~2 ms (--jit=always
# compiles before the run; the default compiles in the background, on the rank's one core)
for jit in off always auto; do
    c1=$(for _ in $(seq "$reps"); do run_s "${mpi[@]}" -n 1 "$bin" run --dist --jit=$jit --mode=par --workers=1 --stats "$here/coarse.zx"; done | median)
    c2=$(for _ in $(seq "$reps"); do run_s "${mpi[@]}" -n 2 "$bin" run --dist --jit=$jit --mode=par --workers=1 --stats "$here/coarse.zx"; done | median)
    echo "coarse map, 64 elements, --jit=$jit: 1 rank ${c1} s, 2 ranks ${c2} s, speedup $(awk -v a="$c1" -v b="$c2" 'BEGIN {printf "%.2f", a / b}')x"
done
# four ranks: bound to cores only where there are four; otherwise unbound (ranks that share the
# machine unbound leave their workers unpinned by themselves: src/dist/dist.c, "Pinning")
bind4=(--bind-to core)
pin4=()
(( $(nproc) < 4 )) && bind4=(--bind-to none)
c4=$(for _ in $(seq "$reps"); do run_s mpirun -q --mca pml ob1 "${bind4[@]}" -n 4 "$bin" run --dist --jit=off --mode=par --workers=1 "${pin4[@]}" --stats "$here/coarse.zx"; done | median)
echo "coarse map, 64 elements, --jit=off: 4 ranks (${bind4[*]} ${pin4[*]}) ${c4} s"
loc=$(for _ in $(seq "$reps"); do run_s "$bin" run --mode=par --workers=1 --stats "$here/fine.zx"; done | median)
f2=$(for _ in $(seq "$reps"); do ZEXUS_DIST_RANK0_IDLE=1 map_ms "${mpi[@]}" -x ZEXUS_DIST_RANK0_IDLE -n 2 "$bin" run --dist --mode=par --workers=1 --stats "$here/fine.zx"; done | median)
echo "fine map, 200000 elements: the whole run on one worker ${loc} s; the map sent to rank 1: ${f2} ms," \
     "$(awk -v m="$f2" 'BEGIN {printf "%.2f", m * 1000 / 200000}') us per element"

# the same between two network namespaces, over TCP
# shellcheck source=tests/dist/netns_lib.sh
. "$here/../../tests/dist/netns_lib.sh"
tmp=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$tmp"' EXIT
if ! netns_setup "$tmp" "$(command -v mpirun)"; then
    echo "tcp: skipped (network namespaces need root and iproute2)"
    exit 0
fi
# not --bind-to core: each "host" would bind its one rank to its own first core, and both
# hosts are this machine, so both ranks would share core 0; and --pin=off below for the same
# reason: each rank, alone on its "host" as far as the launcher knows, pins to the first core
tcp=("$tmp/mpirun" -q --mca pml ob1 --bind-to none)
for jit in off always; do
    t1=$(for _ in $(seq "$reps"); do run_s "${tcp[@]}" -n 1 "$bin" run --dist --jit=$jit --mode=par --workers=1 --pin=off --stats "$here/coarse.zx"; done | median)
    t2=$(for _ in $(seq "$reps"); do run_s "${tcp[@]}" -n 2 "$bin" run --dist --jit=$jit --mode=par --workers=1 --pin=off --stats "$here/coarse.zx"; done | median)
    echo "tcp: coarse map, 64 elements, --jit=$jit: 1 rank ${t1} s, 2 ranks ${t2} s, speedup $(awk -v a="$t1" -v b="$t2" 'BEGIN {printf "%.2f", a / b}')x"
done
ft=$(for _ in $(seq "$reps"); do ZEXUS_DIST_RANK0_IDLE=1 map_ms "${tcp[@]}" -x ZEXUS_DIST_RANK0_IDLE -n 2 "$bin" run --dist --mode=par --workers=1 --pin=off --stats "$here/fine.zx"; done | median)
echo "tcp: fine map, 200000 elements sent to rank 1: ${ft} ms, $(awk -v m="$ft" 'BEGIN {printf "%.2f", m * 1000 / 200000}') us per element"
