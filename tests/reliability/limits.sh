#!/usr/bin/env bash
# limits.sh — the limits end a run with a clean runtime error in every tier and mode: call
# depth (--max-depth), memory (--max-memory), time (--max-time); and a closed output pipe ends
# it quietly.  Each case checks the exit status, the message and what was printed before.
# usage: limits.sh ZEXUS_JIT
set -uo pipefail
bin=${1:?usage: limits.sh ZEXUS_JIT}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fails=0 passes=0
modes=("--jit=off --mode=seq" "--jit=always --mode=seq" "--jit=off --mode=par --workers=2"
       "--jit=always --mode=par --workers=3")

# expect NAME STATUS STDOUT-LINE STDERR-PATTERN -- RUN-OPTIONS... FILE
# (an empty STDOUT-LINE is not checked; the STDERR-PATTERN "" means stderr must be empty)
expect() {
    local name=$1 status=$2 out=$3 pattern=$4
    shift 5
    timeout 120 "$bin" run "$@" > out.txt 2> err.txt < /dev/null
    local rc=$?
    if ((rc != status)); then
        echo "FAIL $name ($*): exit status $rc, want $status"; head -n 5 err.txt | sed 's/^/    /'
        fails=$((fails + 1)); return
    fi
    if [[ -n $out ]] && [[ $(head -n 1 out.txt) != "$out" ]]; then
        echo "FAIL $name ($*): stdout starts '$(head -n 1 out.txt)', want '$out'"; fails=$((fails + 1)); return
    fi
    local err_ok=1
    if [[ -z $pattern ]]; then
        [[ -s err.txt ]] && err_ok=0
    else
        head -n 1 err.txt | grep -qE -- "$pattern" || err_ok=0
    fi
    if ((!err_ok)); then
        echo "FAIL $name ($*): stderr does not start with /$pattern/:"; head -n 3 err.txt | sed 's/^/    /'
        fails=$((fails + 1)); return
    fi
    passes=$((passes + 1))
}

cat > deep.zx <<'ZX'
print("before")
action down(n) { return down(n + 1) }
print(down(0))
ZX
cat > deep_pmap.zx <<'ZX'
print("before")
action down(n) { return down(n + 1) }
print(parallel_map((v) => down(v), range(8)))
ZX
cat > deep_fork.zx <<'ZX'
print("before")
action down(n) { return down(n + 1) }
let a = 0
let b = 0
fork { a = down(1) }
fork { b = 2 }
join
print(a + b)
ZX
cat > depth40.zx <<'ZX'
action down(n) { if (n == 0) { return 0 } return 1 + down(n - 1) }
print(down(40))
ZX
cat > huge_range.zx <<'ZX'
print("before")
let xs = range(100000000)
print(len(xs))
ZX
cat > huge_string.zx <<'ZX'
print("before")
let s = "x"
while (true) { s = s + s }
ZX
cat > huge_push.zx <<'ZX'
print("before")
action grow(v) {
    let xs = []
    while (true) { xs.push(v) }
    return xs
}
print(len(parallel_map(grow, range(4))))
ZX
cat > spin.zx <<'ZX'
print("before")
let i = 0
while (true) { i = i + 1 }
ZX
cat > spin_calls.zx <<'ZX'
print("before")
action f(n) { return n + 1 }
let i = 0
while (true) { i = f(i) }
ZX
cat > spin_fork.zx <<'ZX'
print("before")
let a = 0
let b = 0
fork { while (true) { a = a + 1 } }
fork { while (true) { b = b + 1 } }
join
ZX
cat > spin_pmap.zx <<'ZX'
print("before")
action spin(v) {
    let i = v
    while (true) { i = i + 1 }
    return i
}
print(parallel_map(spin, range(16)))
ZX
# element 0 fails last in time but first in order: a later element's failure (which raises
# the run's cancel hint) must not stop it early
cat > first_error.zx <<'ZX'
print("before")
action slow(v) {
    let s = 1
    let i = 0
    while (i < 2000000) { s = (s * 31 + i) % 1000003; i = i + 1 }
    return 10 / (s - s)
}
action elem(v) {
    if (v == 0) { return slow(v) }
    return 10 / (v - 5)
}
print(parallel_map(elem, range(8)))
ZX
cat > lines.zx <<'ZX'
let i = 0
while (i < 2000000) { print(i); i = i + 1 }
ZX

for m in "${modes[@]}"; do
    read -r -a mo <<< "$m"
    expect "depth" 1 before '^deep\.zx:[0-9]+:[0-9]+: runtime error: call depth limit exceeded$' -- "${mo[@]}" deep.zx
    expect "depth in parallel_map" 1 before '^deep_pmap\.zx:.*: runtime error: call depth limit exceeded' -- "${mo[@]}" deep_pmap.zx
    expect "depth in fork" 1 before '^deep_fork\.zx:.*: runtime error: call depth limit exceeded' -- "${mo[@]}" deep_fork.zx
    # down(40) is 41 nested calls of down; the top level is not a call
    expect "--max-depth=41 fits down(40)" 0 40 '' -- "${mo[@]}" --max-depth=41 depth40.zx
    expect "--max-depth=40 does not" 1 '' '^depth40\.zx:.*: runtime error: call depth limit exceeded$' -- "${mo[@]}" --max-depth=40 depth40.zx
    expect "first error in parallel_map" 1 before '^first_error\.zx:6:[0-9]+: runtime error: division by zero \(in parallel_map element 0\)$' -- "${mo[@]}" first_error.zx
    expect "memory: range" 1 before '^huge_range\.zx:2:[0-9]+: runtime error: memory limit exceeded$' -- "${mo[@]}" --max-memory=64M huge_range.zx
    expect "memory: string" 1 before '^huge_string\.zx:3:[0-9]+: runtime error: memory limit exceeded$' -- "${mo[@]}" --max-memory=64M huge_string.zx
    expect "memory: push in parallel_map" 1 before '^huge_push\.zx:.*: runtime error: memory limit exceeded' -- "${mo[@]}" --max-memory=64M huge_push.zx
    expect "time: loop" 1 before '^spin\.zx:3:[0-9]+: runtime error: time limit exceeded$' -- "${mo[@]}" --max-time=0.5 spin.zx
    expect "time: calls" 1 before '^spin_calls\.zx:.*: runtime error: time limit exceeded$' -- "${mo[@]}" --max-time=0.5 spin_calls.zx
    expect "time: fork" 1 before '^spin_fork\.zx:.*: runtime error: time limit exceeded$' -- "${mo[@]}" --max-time=0.5 spin_fork.zx
    expect "time: parallel_map" 1 before '^spin_pmap\.zx:.*: runtime error: time limit exceeded' -- "${mo[@]}" --max-time=0.5 spin_pmap.zx
done
expect "time: a run that ends in time" 0 40 '' -- --max-time=60 depth40.zx
expect "bad --max-time" 2 '' "^zexus-jit: bad --max-time '0'" -- --max-time=0 depth40.zx

# A closed pipe ends the program quietly: exit status 0, nothing on stderr.
for m in "--jit=off --mode=seq" "--jit=always --mode=seq"; do
    read -r -a mo <<< "$m"
    "$bin" run "${mo[@]}" lines.zx 2> err.txt | head -n 1 > out.txt
    rc=${PIPESTATUS[0]}
    if ((rc == 0)) && [[ $(cat out.txt) == 0 && ! -s err.txt ]]; then
        passes=$((passes + 1))
    else
        echo "FAIL closed pipe ($m): exit status $rc, stdout '$(cat out.txt)', stderr '$(head -c 200 err.txt)'"
        fails=$((fails + 1))
    fi
done

echo "limits: $passes passed, $fails failed"
((fails == 0))
