# netns_lib.sh — two network namespaces joined by a veth pair play two hosts, for `--dist` over
# real TCP on one machine (tests/dist/dist_netns_test.sh, bench/dist/run.sh).  Source it, then
#   netns_setup TMPDIR MPIRUN    # 0: made; 1: cannot (not root, no `ip`), nothing left behind
# writes TMPDIR/mpirun: the real MPIRUN started in the first namespace with a hostfile of both
# (one slot each, --map-by node), an rsh agent that starts a host's daemon with `ip netns exec`
# where ssh would run, and TCP alone (btl tcp,self) over the veth's addresses.  netns_cleanup
# removes the namespaces (call it from an EXIT trap).  Addresses: 10.77.0.1 and 10.77.0.2,
# which exist only inside the namespaces.
netns_a=zxdist-a-$$ netns_b=zxdist-b-$$ netns_veth=zxd$$

netns_cleanup() {
    ip link del "${netns_veth}a" 2> /dev/null   # left in this namespace when a move failed
    ip netns del "$netns_a" 2> /dev/null
    ip netns del "$netns_b" 2> /dev/null
    return 0
}

netns_setup() {
    local tmp=$1 mpirun=$2
    if ! command -v ip > /dev/null || ! ip netns add "$netns_a" 2> /dev/null; then
        return 1
    fi
    if ! { ip netns add "$netns_b" &&
           ip link add "${netns_veth}a" type veth peer name "${netns_veth}b" &&
           ip link set "${netns_veth}a" netns "$netns_a" &&
           ip link set "${netns_veth}b" netns "$netns_b" &&
           ip netns exec "$netns_a" ip addr add 10.77.0.1/24 dev "${netns_veth}a" &&
           ip netns exec "$netns_b" ip addr add 10.77.0.2/24 dev "${netns_veth}b" &&
           ip netns exec "$netns_a" ip link set lo up &&
           ip netns exec "$netns_b" ip link set lo up &&
           ip netns exec "$netns_a" ip link set "${netns_veth}a" up &&
           ip netns exec "$netns_b" ip link set "${netns_veth}b" up; }; then
        netns_cleanup
        return 1
    fi
    printf '10.77.0.1 slots=1\n10.77.0.2 slots=1\n' > "$tmp/hosts"
    # mpirun's rsh agent: "agent HOST COMMAND..." runs COMMAND in HOST's namespace
    cat > "$tmp/agent" <<AGENT
#!/bin/sh
host=\$1; shift
case \$host in
    10.77.0.1) ns=$netns_a ;;
    10.77.0.2) ns=$netns_b ;;
    *) echo "agent: unknown host \$host" >&2; exit 1 ;;
esac
exec ip netns exec \$ns sh -c "\$*"
AGENT
    cat > "$tmp/mpirun" <<WRAP
#!/bin/sh
exec ip netns exec $netns_a "$mpirun" --hostfile "$tmp/hosts" --map-by node --mca plm_rsh_agent "$tmp/agent" \\
    --mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 "\$@"
WRAP
    chmod +x "$tmp/agent" "$tmp/mpirun"
}
