#!/usr/bin/env bash
# same_limits.sh — a limit gives the same result in every tier and mode (issue #12, defects 2
# and 3): deep recursion through parallel_map and fork blocks under the call-depth limit, at
# the default limit and at the largest (ZX_MAX_DEPTH), and work that holds memory under
# --max-memory with any worker count.  Each case runs in 12 modes and must give exactly the
# stdout, stderr and exit status of the sequential interpreter (and that status is checked).
# usage: same_limits.sh ZEXUS_JIT [--sanitized]
# --sanitized (the ASan/UBSan build): five of the modes, both tiers and sequential and parallel,
# since the 100,000-level runs take minutes each there.
set -uo pipefail
bin=${1:?usage: same_limits.sh ZEXUS_JIT [--sanitized]}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fails=0 passes=0
max_depth=100000      # ZX_MAX_DEPTH in include/zexus.h
modes=("--jit=off --mode=seq" "--jit=off --mode=par --workers=1" "--jit=off --mode=par --workers=2"
       "--jit=off --mode=par --workers=3" "--jit=off --mode=par --workers=8" "--jit=strict -O0"
       "--jit=strict -O2" "--jit=strict -O2 --mode=par --workers=1" "--jit=strict -O2 --mode=par --workers=2"
       "--jit=always --mode=seq" "--jit=always -O0 --mode=par --workers=3" "--jit=auto")
if [[ ${2:-} == --sanitized ]]; then
    modes=("--jit=off --mode=seq" "--jit=off --mode=par --workers=2" "--jit=off --mode=par --workers=8"
           "--jit=strict -O2" "--jit=always -O0 --mode=par --workers=3")
fi

# same NAME STATUS FILE [OPTIONS...]: every mode as the first, whose exit status is STATUS
same() {
    local name=$1 status=$2 file=$3
    shift 3
    local i=0 m
    for m in "${modes[@]}"; do
        # shellcheck disable=SC2086
        timeout 300 "$bin" run --no-cache "$@" $m "$file" > "out.$i" 2> "err.$i" < /dev/null
        echo $? > "rc.$i"
        i=$((i + 1))
    done
    if [[ $(cat rc.0) != "$status" ]]; then
        echo "FAIL $name: exit status $(cat rc.0) with ${modes[0]}, want $status"; head -n 3 err.0 | sed 's/^/    /'
        fails=$((fails + 1)); return
    fi
    local bad=0
    for ((i = 1; i < ${#modes[@]}; i++)); do
        if ! cmp -s rc.0 "rc.$i" || ! cmp -s out.0 "out.$i" || ! cmp -s err.0 "err.$i"; then
            echo "FAIL $name: ${modes[$i]} differs from ${modes[0]} (status $(cat "rc.$i") / $(cat rc.0))"
            diff err.0 "err.$i" | head -n 6 | sed 's/^/    /'
            diff out.0 "out.$i" | head -n 4 | sed 's/^/    /'
            bad=1
        fi
    done
    if ((bad)); then fails=$((fails + 1)); else passes=$((passes + 1)); fi
}

cat > pmap_deep.zx <<'ZX'
action down(n) {
    if n == 0 { return 0 }
    let r = parallel_map((x) => down(x), [n - 1, 0])
    return r[0] + r[1] + 1
}
print(down(4900))
ZX
cat > fork_deep.zx <<'ZX'
action deep(n) {
    if n == 0 { return 0 }
    let a = 0
    let b = 0
    fork { a = deep(n - 1) }
    fork { b = 1 }
    join
    return a + b
}
print(deep(3000))
ZX
cat > pmap_endless.zx <<'ZX'
action down(n) {
    if n < 0 { return 0 }
    if n % 1000 == 0 { print(n) }
    let r = parallel_map((x) => down(x), [n + 1, -1])
    return r[0]
}
down(0)
ZX
cat > fork_endless.zx <<'ZX'
action deep(n) {
    if n % 1000 == 0 { print(n) }
    let a = 0
    let b = 0
    fork { a = deep(n + 1) }
    fork { b = 1 }
    join
    return a + b
}
deep(0)
ZX
# range(2000000) is an int list of 16 MB (8 bytes an item, runtime/value.h zx_list_kind)
cat > pmap_memory.zx <<'ZX'
action build(n) {
    let xs = range(n)
    return len(xs)
}
print(parallel_map((k) => build(2000000), [1, 2, 3, 4, 5, 6]))
ZX
cat > top_memory.zx <<'ZX'
action build(n) {
    let xs = range(n)
    let t = 0
    for each x in xs { t = t + x }
    return t
}
print("start")
let a = build(2000000)
let b = build(2000000)
let c = build(2000000)
print(a + b + c)
ZX
cat > top_memory_fails.zx <<'ZX'
action build(n) {
    let xs = range(n)
    return len(xs)
}
print("start")
let a = build(2000000)
let b = build(2000000)
let c = build(8000000)
let d = build(2000000)
print(a + b + c + d)
ZX
cat > fork_memory.zx <<'ZX'
action build(n) {
    let xs = range(n)
    let t = 0
    for each x in xs { t = t + x }
    return t
}
print("start")
let a = 0
let b = 0
let c = 0
fork { a = build(2000000) }
fork { b = build(2000000); print("b") }
fork { c = build(2000000) }
join
print(a + b + c)
action inner() {
    let p = 0
    let q = 0
    let r = 0
    fork { p = build(2000000); print("p") }
    fork { q = build(2000000); print("q") }
    fork { r = build(2000000); print("r") }
    join
    return p + q + r
}
print(inner())
ZX
cat > fork_memory_fails.zx <<'ZX'
action build(n) {
    let xs = range(n)
    return len(xs)
}
action inner() {
    let p = 0
    let q = 0
    let r = 0
    fork { p = build(2000000); print("p") }
    fork { q = build(8000000); print("q") }
    fork { r = build(2000000); print("r") }
    join
    return p + q + r
}
print("start")
print(inner())
ZX

same "4,900 levels through parallel_map (9,800 calls)" 0 pmap_deep.zx
same "3,000 levels through fork blocks" 0 fork_deep.zx
same "endless recursion through parallel_map, default limit" 1 pmap_endless.zx
same "endless recursion through parallel_map, --max-depth=$max_depth" 1 pmap_endless.zx --max-depth=$max_depth
same "endless recursion through fork blocks, --max-depth=10000" 1 fork_endless.zx --max-depth=10000
same "16 MB parallel_map elements under --max-memory=40M" 0 pmap_memory.zx --max-memory=40M
same "three 16 MB top-level chunks under --max-memory=40M" 0 top_memory.zx --max-memory=40M
same "a top-level chunk that never fits" 1 top_memory_fails.zx --max-memory=40M
same "three 16 MB fork blocks (globals, captured variables) under --max-memory=40M" 0 fork_memory.zx --max-memory=40M
same "a fork block that never fits" 1 fork_memory_fails.zx --max-memory=40M

# the bound of --max-depth
"$bin" run --max-depth=$((max_depth + 1)) pmap_deep.zx > out.txt 2> err.txt
rc=$?
if ((rc != 2)) || ! grep -q "bad --max-depth '$((max_depth + 1))' (1 to $max_depth)" err.txt; then
    echo "FAIL --max-depth=$((max_depth + 1)): exit status $rc, want 2 and the bound in the message"; cat err.txt
    fails=$((fails + 1))
else
    passes=$((passes + 1))
fi

echo "same_limits: $passes passed, $fails failed"
((fails == 0))
