#!/usr/bin/env bash
# dist_netns_test.sh — `run --dist` over real TCP: two network namespaces (made here, joined by a
# veth pair, addresses only inside them) play two hosts; mpirun starts rank 1's daemon in the
# other namespace through an rsh agent instead of ssh, and the ranks talk over TCP alone
# (btl tcp,self).  The programs print exactly what --mode=seq prints (dist_test.sh).  Skipped
# with a message where namespaces cannot be made (not root, no `ip`).
# usage: dist_netns_test.sh ZEXUS_JIT MPIRUN PROGRAM...
set -u
bin=$1 mpirun=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
ns_a=zxdist-a-$$ ns_b=zxdist-b-$$ veth=zxd$$
tmp=$(mktemp -d)
cleanup() {
    ip netns del "$ns_a" 2> /dev/null
    ip netns del "$ns_b" 2> /dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
if ! command -v ip > /dev/null || ! ip netns add "$ns_a" 2> /dev/null; then
    echo "skipped: cannot make network namespaces here (needs root and iproute2)"
    exit 0
fi
set -e
ip netns add "$ns_b"
ip link add "${veth}a" type veth peer name "${veth}b"
ip link set "${veth}a" netns "$ns_a"
ip link set "${veth}b" netns "$ns_b"
ip netns exec "$ns_a" ip addr add 10.77.0.1/24 dev "${veth}a"
ip netns exec "$ns_b" ip addr add 10.77.0.2/24 dev "${veth}b"
for side in a b; do
    ns=$([[ $side == a ]] && echo "$ns_a" || echo "$ns_b")
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" ip link set "${veth}$side" up
done
set +e
printf '10.77.0.1 slots=1\n10.77.0.2 slots=1\n' > "$tmp/hosts"
# mpirun's rsh agent: "agent HOST COMMAND..." runs COMMAND in HOST's namespace
cat > "$tmp/agent" <<AGENT
#!/bin/sh
host=\$1; shift
case \$host in
    10.77.0.1) ns=$ns_a ;;
    10.77.0.2) ns=$ns_b ;;
    *) echo "agent: unknown host \$host" >&2; exit 1 ;;
esac
exec ip netns exec \$ns sh -c "\$*"
AGENT
# the "mpirun" dist_test.sh calls: the real one, in namespace a, with the hosts and TCP only
cat > "$tmp/mpirun" <<WRAP
#!/bin/sh
exec ip netns exec $ns_a "$mpirun" --hostfile "$tmp/hosts" --map-by node --mca plm_rsh_agent "$tmp/agent" \
    --mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 "\$@"
WRAP
chmod +x "$tmp/agent" "$tmp/mpirun"
bash "$here/dist_test.sh" "$bin" "$tmp/mpirun" 2 --idle-rank0 "$@"
