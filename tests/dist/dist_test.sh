#!/usr/bin/env bash
# dist_test.sh — `zexus-jit run --dist` under `mpirun -n N` prints exactly what `--mode=seq`
# prints: stdout, stderr and exit status, byte for byte, for every program given (errors
# included).  One mpirun per program (about a second each); every run under `timeout -s KILL`.
# usage: dist_test.sh ZEXUS_JIT MPIRUN N [--idle-rank0] PROGRAM...
set -u
bin=$1 mpirun=$2 n=$3
shift 3
env_args=()
if [[ ${1:-} == --idle-rank0 ]]; then
    # rank 0's workers take no block: every block that can be sent runs on another rank
    export ZEXUS_DIST_RANK0_IDLE=1
    env_args=(-x ZEXUS_DIST_RANK0_IDLE)
    shift
fi
# Open MPI as root (CI containers) and more ranks than cores
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export HWLOC_PLUGINS_BLACKLIST=${HWLOC_PLUGINS_BLACKLIST-gl,opencl,cuda,nvml,rsmi,levelzero}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
for prog in "$@"; do
    dir=$(dirname "$prog") name=$(basename "$prog")
    args=()
    [[ -f $dir/${name%.zx}.args ]] && mapfile -t args < "$dir/${name%.zx}.args"
    (cd "$dir" && timeout -s KILL 60 "$bin" run --mode=seq "$name" "${args[@]}" > "$tmp/seq.out" 2> "$tmp/seq.err")
    seq_rc=$?
    (cd "$dir" && timeout -s KILL 120 "$mpirun" -q -n "$n" "${env_args[@]}" --mca pml ob1 \
        "$bin" run --dist --mode=par "$name" "${args[@]}" > "$tmp/dist.out" 2> "$tmp/dist.err")
    dist_rc=$?
    if [[ $seq_rc != "$dist_rc" ]] || ! cmp -s "$tmp/seq.out" "$tmp/dist.out" || ! cmp -s "$tmp/seq.err" "$tmp/dist.err"; then
        echo "FAIL: $prog with mpirun -n $n: status $dist_rc (sequential: $seq_rc)"
        diff "$tmp/seq.out" "$tmp/dist.out" | head -10
        diff "$tmp/seq.err" "$tmp/dist.err" | head -10
        fails=$((fails + 1))
    else
        echo "ok: $prog (-n $n, status $dist_rc)"
    fi
done
[[ $fails == 0 ]] || { echo "$fails program(s) differ"; exit 1; }
