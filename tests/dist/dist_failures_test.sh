#!/usr/bin/env bash
# dist_failures_test.sh — what --dist does when it cannot work: no MPI module (exit 2 and a clear
# message), a rank of another build (rank 0 refuses the job, exit 2), a rank killed mid-run
# (the job ends, non-zero, with mpirun's message naming the rank; no hang).  Every run under
# `timeout -s KILL`.
# usage: dist_failures_test.sh ZEXUS_JIT [MPIRUN]   (without MPIRUN: the first check only)
set -u
bin=$1 mpirun=${2:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
echo 'print(parallel_map((v) => v + 1, range(3)))' > "$tmp/small.zx"

# 1. no MPI module: the build has none, or it cannot be loaded
if [[ -z $mpirun ]]; then
    timeout -s KILL 30 "$bin" run --dist "$tmp/small.zx" > "$tmp/out" 2> "$tmp/err"
else
    ZEXUS_DIST_MODULE=$tmp/nonexistent/libzexus-dist.so timeout -s KILL 30 "$bin" run --dist "$tmp/small.zx" > "$tmp/out" 2> "$tmp/err"
fi
rc=$?
[[ $rc == 2 ]] || bad "no module: status $rc, want 2"
grep -q -- "--dist is unavailable" "$tmp/err" || bad "no module: message: $(cat "$tmp/err")"
[[ ! -s $tmp/out ]] || bad "no module: the program ran"
[[ -z $mpirun ]] && { [[ $fails == 0 ]] && echo "ok (no MPI: --dist unavailable)"; exit $((fails > 0)); }

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export HWLOC_PLUGINS_BLACKLIST=${HWLOC_PLUGINS_BLACKLIST-gl,opencl,cuda,nvml,rsmi,levelzero}

# 2. rank 1 is "another build" (ZEXUS_DIST_BUILD_SUFFIX changes its build id)
timeout -s KILL 60 "$mpirun" -q --mca pml ob1 -n 1 "$bin" run --dist "$tmp/small.zx" : \
    -n 1 -x ZEXUS_DIST_BUILD_SUFFIX=-other "$bin" run --dist "$tmp/small.zx" > "$tmp/out" 2> "$tmp/err"
rc=$?
[[ $rc == 2 ]] || bad "build mismatch: status $rc, want 2"
grep -q "rank 1 refused the program: its zexus-jit build differs" "$tmp/err" || bad "build mismatch: message: $(cat "$tmp/err")"
[[ ! -s $tmp/out ]] || bad "build mismatch: the program ran"

# 3. rank 1 killed while it computes blocks: the job ends, no hang
cat > "$tmp/long.zx" <<'ZX'
action spin(v) {
    let s = v
    let i = 0
    while (i < 300000) {
        s = (s * 31 + i) % 1000003
        i = i + 1
    }
    return s
}
action body() {
    print(len(parallel_map(spin, range(2000))))
}
body()
ZX
( for _ in $(seq 100); do [[ -s $tmp/r1.pid ]] && break; sleep 0.1; done
  sleep 1.5; kill -9 "$(cat "$tmp/r1.pid")" 2> /dev/null ) &
killer=$!
start=$SECONDS
ZEXUS_DIST_RANK0_IDLE=1 timeout -s KILL 60 "$mpirun" -x ZEXUS_DIST_RANK0_IDLE --mca pml ob1 \
    -n 1 "$bin" run --dist --mode=par "$tmp/long.zx" : \
    -n 1 sh -c 'echo $$ > "$0"; exec "$1" run --dist --mode=par "$2"' "$tmp/r1.pid" "$bin" "$tmp/long.zx" \
    > "$tmp/out" 2> "$tmp/err"
rc=$?
wait "$killer"
[[ $rc != 0 && $rc != 137 || $((SECONDS - start)) -lt 50 ]] || bad "killed rank: the job hung (status $rc)"
[[ $rc != 0 ]] || bad "killed rank: status 0"
grep -q "rank 1 .*exited on signal 9" "$tmp/err" || bad "killed rank: message: $(head -c 600 "$tmp/err")"
[[ ! -s $tmp/out ]] || bad "killed rank: the program printed its result"

[[ $fails == 0 ]] && echo "ok"
exit $((fails > 0))
