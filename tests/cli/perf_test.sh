#!/usr/bin/env bash
# --perf (docs/profiling.md): a run under --jit=strict --perf writes /tmp/perf-PID.map with one
# well-formed, named line per compiled code object (counted from --stats=json), and a jitdump
# with the same names under $JITDUMPDIR; a run without --perf writes no map.
# usage: perf_test.sh ZEXUS_JIT_BINARY
set -uo pipefail
bin=$1
work=$(mktemp -d)
pids=()
cleanup() {
    rm -rf "$work"
    for p in "${pids[@]}"; do rm -f "/tmp/perf-$p.map"; done
}
trap cleanup EXIT
fails=0 passes=0
ok() { passes=$((passes + 1)); }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

cat > "$work/prof.zx" <<'EOF'
action fib(n) {
    if (n < 2) { return n }
    return fib(n - 1) + fib(n - 2)
}
action sumsq(k) {
    let s = 0
    let i = 0
    while (i < k) {
        s += i * i
        i += 1
    }
    return s
}
action twice(f, x) {
    return f(f(x))
}
let sq = (x) => x * x
let a = 0
let b = 0
fork { a = fib(15) }
fork { b = sumsq(100) }
join
print(a, b, twice(sq, 3))
EOF

# Runs the program in $work with the given options; sets pid (the process's, which names its
# map) and leaves its output in out.txt and stats.json.
run() {
    (cd "$work" && exec env JITDUMPDIR="$work/dump" "$bin" run "$@" prof.zx > out.txt 2> stats.json) &
    pid=$!
    pids+=("$pid")
    wait "$pid"
    status=$?
}

run --jit=strict --perf --stats=json
[[ $status -eq 0 ]] && ok || bad "run --perf: exit status $status: $(cat "$work/stats.json")"
[[ $(cat "$work/out.txt") == "610 328350 81" ]] && ok || bad "run --perf: output $(cat "$work/out.txt")"
map=/tmp/perf-$pid.map
compiled=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))["jit"]; print(j["compiled"])' \
           "$work/stats.json" 2> /dev/null)
# the top level, fib, sumsq, twice, the lambda and two fork blocks
[[ $compiled == 7 ]] && ok || bad "--stats=json reports '$compiled' compiled code objects, want 7"
if [[ -f $map ]]; then
    ok
    # one line per code object, and one per function compiled beside them: int versions, call
    # stubs, the entry guard
    lines=$(grep -c ' zx:prof\.zx:.*:code [0-9]*$' "$map")
    [[ $lines -eq ${compiled:-0} ]] && ok || bad "$map has $lines code object lines, want $compiled:"$'\n'"$(cat "$map")"
    form='^[0-9a-f]+ [0-9a-f]+ (zx:prof\.zx:(top level|action [a-z]+|lambda|fork block):line [0-9]+:code [0-9]+( \(int arguments\))?|zx:call [a-z]+ \(code [0-9]+ of the module(, int arguments)?\)|zx\.guard)$'
    malformed=$(grep -cvE "$form" "$map")
    [[ $malformed -eq 0 ]] && ok || bad "$map has $malformed malformed lines:"$'\n'"$(cat "$map")"
    for name in 'zx:prof.zx:top level:line 1:code 0' 'zx:prof.zx:action fib:line 1:code 1' \
                'zx:prof.zx:action sumsq:line 5:code 2' 'zx:prof.zx:action twice:line 14:code 3' \
                'zx:prof.zx:lambda:line 17:code 4' 'zx:prof.zx:fork block:line 20:code 5' \
                'zx:prof.zx:fork block:line 21:code 6'; do
        n=$(cut -d' ' -f3- "$map" | grep -cxF "$name")
        [[ $n -eq 1 ]] && ok || bad "'$name' appears $n times in $map"
    done
    # functions that are not looked up are named too: fib's int version runs fib(15)
    n=$(cut -d' ' -f3- "$map" | grep -cxF 'zx:prof.zx:action fib:line 1:code 1 (int arguments)')
    [[ $n -eq 1 ]] && ok || bad "fib's int version appears $n times in $map"
    # sizes are non-zero and the code ranges do not overlap
    python3 - "$map" <<'EOF' && ok || bad "$map: bad ranges: $(cat "$map")"
import sys
r = sorted((int(a, 16), int(s, 16)) for a, s, _ in (l.split(' ', 2) for l in open(sys.argv[1])))
assert all(s > 0 for _, s in r), r
assert all(a1 + s1 <= a2 for (a1, s1), (a2, _) in zip(r, r[1:])), r
EOF
else
    bad "no perf map $map"
fi
dump=$(find "$work/dump" -name "jit-$pid.dump" 2> /dev/null | head -1)
if [[ -n $dump ]]; then
    grep -qaF 'zx:prof.zx:action fib:line 1:code 1' "$dump" && ok || bad "the jitdump $dump does not name fib"
else
    bad "no jitdump jit-$pid.dump under \$JITDUMPDIR/.debug/jit"
fi

run --jit=strict
[[ $status -eq 0 ]] && ok || bad "run without --perf: exit status $status"
[[ ! -e /tmp/perf-$pid.map ]] && ok || bad "a run without --perf wrote /tmp/perf-$pid.map"

echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
