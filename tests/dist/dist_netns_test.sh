#!/usr/bin/env bash
# dist_netns_test.sh — `run --dist` over real TCP: two network namespaces (made here, joined by a
# veth pair, addresses only inside them: netns_lib.sh) play two hosts; mpirun starts rank 1's
# daemon in the other namespace through an rsh agent instead of ssh, and the ranks talk over
# TCP alone (btl tcp,self).  The programs print exactly what --mode=seq prints (dist_test.sh).
# Skipped with a message where namespaces cannot be made (not root, no `ip`).
# usage: dist_netns_test.sh ZEXUS_JIT MPIRUN PROGRAM...
set -u
bin=$1 mpirun=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/dist/netns_lib.sh
. "$here/netns_lib.sh"
tmp=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$tmp"' EXIT
if ! netns_setup "$tmp" "$mpirun"; then
    echo "skipped: cannot make network namespaces here (needs root and iproute2)"
    exit 0
fi
bash "$here/dist_test.sh" "$bin" "$tmp/mpirun" 2 --idle-rank0 "$@"
