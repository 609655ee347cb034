#!/usr/bin/env bash
# dist_pin_test.sh — ranks that share this machine without mpirun binding them apart leave their
# workers unpinned (else every rank would pin to the same first cores: src/dist/dist.c,
# "Pinning"), and say so in --stats; ranks bound to a core each keep pinning.  Output as
# --mode=seq either way.  Every run under `timeout -s KILL`.
# usage: dist_pin_test.sh ZEXUS_JIT MPIRUN
set -u
bin=$1 mpirun=$2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export HWLOC_PLUGINS_BLACKLIST=${HWLOC_PLUGINS_BLACKLIST-gl,opencl,cuda,nvml,rsmi,levelzero}
prog=$here/../zexus/parallel/pmap.zx
want=$(timeout -s KILL 60 "$bin" run --mode=seq "$prog")
note="ranks share this machine and mpirun did not bind them to cores of their own: workers not pinned"

run() {   # run BIND...: stdout in $tmp/out, stderr in $tmp/err, status in rc
    timeout -s KILL 60 "$mpirun" -q "$@" -n 2 "$bin" run --dist --mode=par --workers=1 --stats "$prog" \
        > "$tmp/out" 2> "$tmp/err"
    rc=$?
}

run --bind-to none
[[ $rc == 0 ]] || bad "--bind-to none: status $rc: $(head -5 "$tmp/err")"
[[ $(cat "$tmp/out") == "$want" ]] || bad "--bind-to none: output differs from --mode=seq"
grep -q "2 $note" "$tmp/err" || bad "--bind-to none: no note that the workers are not pinned: $(grep -- '--dist' "$tmp/err")"

if (( $(nproc) >= 2 )); then
    run --bind-to core
    [[ $rc == 0 ]] || bad "--bind-to core: status $rc: $(head -5 "$tmp/err")"
    [[ $(cat "$tmp/out") == "$want" ]] || bad "--bind-to core: output differs from --mode=seq"
    ! grep -q "$note" "$tmp/err" || bad "--bind-to core: ranks bound to a core each were left unpinned"
fi
[[ $fails == 0 ]] && echo "ok: unbound ranks unpinned, bound ranks pinned"
exit $((fails > 0))
