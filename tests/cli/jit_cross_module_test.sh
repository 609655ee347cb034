#!/usr/bin/env bash
# Calls between code objects compiled in different modules (jit/lower.c, emit_direct_call: the
# callee's published native function): --jit=auto compiles each hot action alone, and
# --jit=strict puts a big top level (JIT_BIG_CODE) in a module of its own.  Output, errors,
# their call lines and the depth limit are those of the interpreter.
# usage: jit_cross_module_test.sh ZEXUS_JIT_BINARY
set -uo pipefail
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0 passes=0
ok() { passes=$((passes + 1)); }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
cd "$work" || exit 2

cat > calls.zx <<'EOF2'
action a(i, j) {
    let ij = i + j
    return 1.0 / ((ij * (ij + 1)) / 2 + i + 1)
}
action row(n, v, out) {
    let i = 0
    while (i < n) {
        let s = 0.0
        let j = 0
        while (j < n) {
            s = s + a(i, j) * v[j]
            j = j + 1
        }
        out[i] = s
        i = i + 1
    }
}
action down(k) {
    if (k == 0) { return 0 }
    return down2(k - 1) + 1
}
action down2(k) { return down(k) }
let n = int(args[0])
let v = []
let out = []
for each i in range(n) {
    v.push(1.0)
    out.push(0.0)
}
for each r in range(4) { row(n, v, out) }
print(int(out[0] * 1000000), int(out[n - 1] * 1000000))
print(down(500))
action boom(x) { return 10 / x }
action call_boom(k, x) {
    if (k == 0) { return boom(x) }
    return call_boom(k - 1, x)
}
let t = 0
let acc = 0
while (t < 3000) {
    acc = acc + call_boom(3 + t % 2, t + 1)
    t = t + 1
}
print(acc)
if (args[1] == "depth") { print(down(100000)) } else { print(call_boom(5, 0)) }
EOF2

run_cmp() {   # NAME ARGS...: output, stderr and status equal to --jit=off's
    local name=$1
    shift
    "$bin" run --jit=off "$@" > off.out 2> off.err; local st0=$?
    for mode in "--jit=auto" "--jit=strict -O0" "--jit=strict -O2"; do
        # shellcheck disable=SC2086
        "$bin" run $mode "$@" > m.out 2> m.err; local st=$?
        if [[ $st -eq $st0 ]] && cmp -s off.out m.out && cmp -s off.err m.err; then ok
        else bad "$name $mode: status $st (want $st0): $(diff off.out m.out | head -5) $(diff off.err m.err | head -5)"; fi
    done
}
run_cmp calls calls.zx 300 depth
grep -q "call depth limit exceeded" off.err && ok || bad "calls: no depth error: $(cat off.err)"
run_cmp calls_error calls.zx 200 trace
grep -q "at call_boom" off.err && ok || bad "calls: no trace: $(cat off.err)"

# a big top level (a module of its own under --jit=strict) calling actions in a loop
{
    echo 'action f(x, y) { return x * 2 + y }'
    echo 'action g(m) { m.k = m.k + 1; return m.k }'
    for i in $(seq 1 300); do echo "let v$i = f($i, 1)"; done
    echo 'let m = {k: 0}'
    echo 'let s = 0'
    echo 'let i = 0'
    echo 'while (i < 5000) { s = s + f(i, v7) + g(m); i = i + 1 }'
    echo 'print(s, v300, m)'
    echo 'action down(k) { if (k == 0) { return 0 } return down(k - 1) + 1 }'
    echo 'i = 0'
    echo 'while (i < 3) { print(down(200 * i)); i = i + 1 }'
    echo 'if (args[0] == "depth") { print(down(100000)) }'
    echo 'print(g(5))'
} > big.zx
run_cmp big_depth big.zx depth
grep -q "call depth limit exceeded" off.err && ok || bad "big: no depth error: $(cat off.err)"
run_cmp big_trace big.zx trace
grep -q "at g (big.zx" off.err && ok || bad "big: no trace: $(cat off.err)"

echo "jit_cross_module: $passes passed, $fails failed"
((fails == 0))
