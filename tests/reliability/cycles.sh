#!/usr/bin/env bash
# cycles.sh — unreachable cycles and dead nested containers are freed during the run, so
# --max-memory measures live data (docs/architecture.md, "Memory"), in every tier and mode:
#   1. garbage reproducers, each under a --max-memory limit far below what they allocate in
#      all (a run that keeps its garbage fails with "memory limit exceeded"): a list that
#      contains itself made and dropped in a loop; a local recursive helper (its closure and
#      cell reference each other) called in a loop; binary trees of 2-element lists built and
#      dropped; the same garbage made in fork blocks and in independent top-level chunks (on
#      worker threads), with live cyclic data that must survive every collection; and
#      bench/real's binary-trees program (47 MB allocated, 1.2 MB live) under 6M in 9 modes;
#   2. the collector never frees anything live: every program of tests/programs and the shared
#      conformance programs run with ZX_GC_STRESS=1 (a collection at every store of a
#      container into a container or cell) in the interpreter, the JIT and the parallel runtime
#      and must print exactly their .out.
# usage: cycles.sh ZEXUS_JIT [MODES]   MODES: "all" (default) or "quick" (fewer modes in part 2)
set -uo pipefail
bin=${1:?usage: cycles.sh ZEXUS_JIT [all|quick]}
which=${2:-all}
[[ $bin == /* ]] || bin=$PWD/$bin
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0 passes=0
modes=("--jit=off --mode=seq" "--jit=strict -O0 --mode=seq" "--jit=strict -O2 --mode=seq"
       "--jit=off --mode=par --workers=1" "--jit=off --mode=par --workers=2"
       "--jit=strict -O2 --mode=par --workers=3" "--jit=off --mode=par --workers=8")

cat > "$work/selfref.zx" <<'ZX'
let keep = [0]
keep.push(keep)
let i = 0
while (i < 400000) {
    let a = [i, "x"]
    a.push(a)
    i = i + 1
}
print(len(keep[1][1][1]), keep[1][1][0])
ZX
cat > "$work/closure.zx" <<'ZX'
action outer(n) {
    action helper(k) {
        if (k <= 0) {
            return 0
        }
        return helper(k - 1) + 1
    }
    return helper(n)
}
let i = 0
let s = 0
while (i < 300000) {
    s = s + outer(2)
    i = i + 1
}
print(s)
ZX
cat > "$work/trees.zx" <<'ZX'
action make(d) {
    if (d == 0) {
        return [null, null]
    }
    return [make(d - 1), make(d - 1)]
}
action count(t) {
    if (t[0] == null) {
        return 1
    }
    return 1 + count(t[0]) + count(t[1])
}
let total = 0
let i = 0
while (i < 12) {
    total = total + count(make(14))
    i = i + 1
}
print(total)
ZX
cat > "$work/workers.zx" <<'ZX'
action churn(n) {
    let i = 0
    let m = {"self": null}
    while (i < n) {
        let a = [i]
        a.push(a)
        let b = {"peer": a}
        a.push(b)
        i = i + 1
    }
    m["self"] = m
    return m
}
let x = null
let y = null
fork {
    x = churn(150000)
}
fork {
    y = churn(150000)
}
join
let p = churn(150000)
let q = churn(150000)
print(x["self"]["self"] == x, len(y), len(p), len(q["self"]))
ZX
declare -A want=([selfref]="2 0" [closure]="600000" [trees]="393204" [workers]="true 1 1 1")

for name in selfref closure trees workers; do
    for mode in "${modes[@]}"; do
        # shellcheck disable=SC2086
        timeout 300 "$bin" run $mode --max-memory=16M "$work/$name.zx" > "$work/out" 2> "$work/err" < /dev/null
        rc=$?
        got=$(cat "$work/out")
        if ((rc != 0)) || [[ $got != "${want[$name]}" ]]; then
            echo "FAIL $name ($mode --max-memory=16M): exit status $rc, printed '$got', want '${want[$name]}'"
            head -n 3 "$work/err" | sed 's/^/    /'
            fails=$((fails + 1))
        else
            passes=$((passes + 1))
        fi
    done
done

# The binary-trees program of bench/real (a long-lived tree, a stretch tree and 5 * 2^14 short
# ones, 47 MB allocated in all, under 1.2 MB live at once) under --max-memory=6M in every tier:
# dead trees are freed as they die, not one level per collection (issue 14).
tree_modes=("${modes[@]}" "--jit=always --mode=seq" "--jit=auto --mode=par --workers=2")
for mode in "${tree_modes[@]}"; do
    # shellcheck disable=SC2086
    got=$(timeout 300 "$bin" run $mode --max-memory=6M "$root/../bench/real/zx/binarytrees.zx" 12 2> "$work/err" < /dev/null)
    rc=$?
    if ((rc != 0)) || [[ $got != 674478 ]]; then
        echo "FAIL binarytrees 12 ($mode --max-memory=6M): exit status $rc, printed '$got', want '674478'"
        head -n 3 "$work/err" | sed 's/^/    /'
        fails=$((fails + 1))
    else
        passes=$((passes + 1))
    fi
done

# Part 2: collect at every candidate store; the programs' output must not change.
stress_modes=("--jit=off --mode=seq" "--jit=strict -O0 --mode=seq" "--jit=strict -O2 --mode=seq"
              "--jit=off --mode=par --workers=2" "--jit=strict -O2 --mode=par --workers=3")
[[ $which == quick ]] && stress_modes=("--jit=off --mode=seq" "--jit=strict -O2 --mode=par --workers=2")
progs=("$root"/programs/*.zx "$root"/zexus/conformance/*.zx "$root"/zexus/parallel/*.zx)
for zx in "${progs[@]}"; do
    [[ -f $zx && -f ${zx%.zx}.out ]] || continue
    for mode in "${stress_modes[@]}"; do
        # shellcheck disable=SC2086
        if ! (cd "$(dirname "$zx")" && ZX_GC_STRESS=1 bash "$root/run_program.sh" $mode "$bin" \
                "$(basename "$zx")" "${zx%.zx}.out") > "$work/log" 2>&1; then
            echo "FAIL ZX_GC_STRESS=1 $mode $zx"
            head -n 20 "$work/log" | sed 's/^/    /'
            fails=$((fails + 1))
        else
            passes=$((passes + 1))
        fi
    done
done

echo "cycles.sh: $passes passed, $fails failed"
((fails == 0))
