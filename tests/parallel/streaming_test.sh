#!/usr/bin/env bash
# Output of the top-level chunk DAG streams (docs/cli.md, "Where output goes"): the earliest
# chunk not yet committed writes straight to stdout, so a program that prints forever, piped
# into `head -n 3`, ends promptly and quietly with the first three lines in every mode, as a
# sequential run does.
set -uo pipefail
bin=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zx-stream.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
fails=0 passes=0

# the first statement prints forever
cat > first.zx <<'ZX'
let i = 0
while (true) {
    print("line", i)
    i += 1
}
ZX
# a long loop that prints comes after an earlier, independent chunk that computes a while
cat > after.zx <<'ZX'
action work(n) {
    let s = 0
    let k = 0
    while (k < n) {
        s = (s * 31 + k) % 1000003
        k += 1
    }
    return s
}
let a = work(200000)
let j = 0
while (true) {
    print("tick", j)
    j += 1
}
ZX
# two independent loops that print forever: the second buffers until it is cancelled
cat > two.zx <<'ZX'
let i = 0
while (true) {
    print("a", i)
    i += 1
}
let j = 0
while (true) {
    print("b", j)
    j += 1
}
ZX
# a parallel_map whose elements print, then a loop that prints forever
cat > pmap.zx <<'ZX'
action show(v) {
    print("elem", v)
    return v
}
let r = parallel_map(show, range(2))
let i = 0
while (true) {
    print("more", i)
    i += 1
}
ZX

check() {   # NAME EXPECTED-LINES... ; runs with $opts
    local name=$1
    shift
    local want
    want=$(printf '%s\n' "$@")
    timeout -k 5 20 "$bin" run "${opts[@]}" "$name.zx" 2> err.txt | head -n 3 > out.txt
    local rc=${PIPESTATUS[0]}
    if ((rc == 0)) && [[ $(cat out.txt) == "$want" && ! -s err.txt ]]; then
        passes=$((passes + 1))
    else
        echo "FAIL $name (${opts[*]}): exit status $rc (124: did not end), stdout '$(cat out.txt)'," \
             "stderr '$(head -c 200 err.txt)'"
        fails=$((fails + 1))
    fi
}

for m in "--mode=seq --jit=off" "--mode=par --workers=1 --jit=off" "--mode=par --workers=2 --jit=off" \
         "--mode=par --workers=8 --jit=off" "--mode=par --workers=2 --jit=always" \
         "--mode=par --workers=3 --jit=off --sched-seed=7"; do
    read -r -a opts <<< "$m"
    check first "line 0" "line 1" "line 2"
    check after "tick 0" "tick 1" "tick 2"
    check two "a 0" "a 1" "a 2"
    check pmap "elem 0" "elem 1" "more 0"
done

echo "streaming: $passes passed, $fails failed"
((fails == 0))
