#!/usr/bin/env bash
# Files, the clock, the random state and sleeping are never reordered (docs/parallel.md,
# "Effects that keep their order"): a program that writes, appends and reads files and draws
# seeded random numbers inside parallel_map, fork blocks and top-level chunks prints the same
# bytes and leaves the same files under --mode=par (1, 2, 3, 8 workers; interpreter and JIT) as
# under --mode=seq; --stats names the builtin that ordered each; a pure parallel_map still runs
# in parallel; sleep ends at --max-time and SIGINT; file errors name the path and the reason;
# file_list_dir lists sorted.  Everything is written in a temporary folder, removed at the end.
set -uo pipefail
bin=$1
fails=0 passes=0
dir=$(mktemp -d "${TMPDIR:-/tmp}/zx-effects.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1

ok() { passes=$((passes + 1)); }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

cat > prog.zx <<'EOF'
random_seed(11)
file_write_text("log.txt", "start\n")
action step(x) {
    file_append("log.txt", "element " + string(x) + " drew " + string(random(1000)))
    let t = time()
    return x * 10
}
print(parallel_map(step, range(24)))
action square(x) { return x * x }
print(parallel_map(square, range(64)))
let a = 0
let b = 0
let c = 0
fork {
    file_append("log.txt", "block 1")
    a = random(100)
}
fork {
    sleep(0.01)
    file_append("log.txt", "block 2")
    b = random(100)
}
fork {
    c = len(file_read_text("log.txt"))
    file_write_json("data.json", {"a": a, "b": b, "c": c, "list": [1, 2.5, "x"]})
}
join
print(a, b, c)
let back = file_read_json("data.json")
print(back)
let t1 = time()
let t2 = time()
print(t2 >= t1)
file_append("log.txt", "end " + string(random(1000)))
print(file_read_text("log.txt"))
print(parallel_map(random, [10, 10, 10, 10]))
EOF

"$bin" run --mode=seq prog.zx > want.out 2> want.err || bad "seq run failed: $(cat want.err)"
cp log.txt want.log
cp data.json want.json
[[ $(grep -c '^element' want.log) -eq 24 ]] && ok || bad "seq run: log has $(grep -c '^element' want.log) elements"

for w in 1 2 3 8; do
    for jit in "--jit=off" "--jit=strict -O2"; do
        rm -f log.txt data.json
        # shellcheck disable=SC2086
        "$bin" run --mode=par --workers=$w $jit --stats prog.zx > got.out 2> got.err \
            || { bad "par w=$w $jit failed: $(head -5 got.err)"; continue; }
        cmp -s want.out got.out && ok || bad "par w=$w $jit: stdout differs: $(diff want.out got.out | head -5)"
        cmp -s want.log log.txt && ok || bad "par w=$w $jit: log.txt differs: $(diff want.log log.txt | head -5)"
        cmp -s want.json data.json && ok || bad "par w=$w $jit: data.json differs"
    done
done

# the reasons, named by builtin
rm -f log.txt data.json
"$bin" run --mode=par --workers=2 --jit=off --stats=json prog.zx > /dev/null 2> stats.json || bad "stats run failed"
has() { grep -q -- "$1" stats.json && ok || bad "stats lack '$1': $(grep -o '"sequential_because":\[[^]]*\]' stats.json)"; }
has 'parallel_map at prog.zx:8:7 ran sequentially: it writes files (file_append), reads the clock (time), uses the random state (random)'
has 'parallel_map at prog.zx:36:7 ran sequentially: it uses the random state (random)'
has 'fork at prog.zx:14:1: block 1 and block 2 run in order: block 1 writes files (file_append), uses the random state (random); block 2 writes files (file_append), uses the random state (random), sleeps (sleep)'
has 'top level: line 1 and line 8 run in order: line 1 writes files (file_write_text), uses the random state (random_seed); line 8 writes files (file_append), reads the clock (time), uses the random state (random)'
# the pure one still runs in parallel
grep -q '"parallel_map":{"parallel":1' stats.json && ok || bad "the pure parallel_map did not run in parallel: $(head -c 300 stats.json)"
# `chunks` names the effect edges
"$bin" chunks prog.zx > chunks.txt 2>&1 || bad "chunks failed"
grep -q ': effect' chunks.txt && ok || bad "chunks shows no effect edge: $(head -20 chunks.txt)"

# sleep ends at --max-time (also inside parallel work) and at SIGINT
printf 'print("a")\nsleep(60)\nprint("b")\n' > sleep.zx
start=$(date +%s%N)
"$bin" run --max-time=0.3 sleep.zx > s.out 2> s.err
st=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[[ $st -eq 1 && $ms -lt 5000 ]] && grep -q 'time limit exceeded' s.err && ok \
    || bad "sleep under --max-time: status $st after $ms ms: $(cat s.err)"
printf 'action f(x) {\n    sleep(60)\n    return x\n}\nprint(parallel_map(f, [1, 2, 3, 4]))\n' > sleep2.zx
start=$(date +%s%N)
"$bin" run --mode=par --workers=2 --max-time=0.3 sleep2.zx > s.out 2> s.err
st=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[[ $st -eq 1 && $ms -lt 5000 ]] && ok || bad "sleep in parallel_map under --max-time: status $st after $ms ms"
"$bin" run sleep.zx > s.out 2> s.err &
pid=$!
sleep 0.3
kill -INT "$pid"
wait "$pid"
st=$?
[[ $st -eq 130 ]] && grep -q 'interrupted' s.err && ok || bad "sleep at SIGINT: status $st: $(cat s.err)"

# file errors: the path and strerror's text; a directory listing, sorted
mkdir -p sub/inner
: > sub/b.txt
: > sub/a.txt
printf 'print(file_list_dir("sub"))\nprint(file_write_text("sub/inner", "x"))\n' > files.zx
"$bin" run files.zx > f.out 2> f.err
[[ $(cat f.out) == '[a.txt, b.txt, inner]' ]] && ok || bad "file_list_dir: $(cat f.out)"
grep -q "file_write_text(): cannot write 'sub/inner': Is a directory" f.err && ok || bad "write to a directory: $(cat f.err)"
printf 'file_append("no/such/dir/x.txt", "x")\n' > files2.zx
"$bin" run files2.zx > /dev/null 2> f.err
grep -q "files2.zx:1:1: runtime error: file_append(): cannot write 'no/such/dir/x.txt': No such file or directory" f.err \
    && ok || bad "append to a missing folder: $(cat f.err)"

echo "effects order: $passes passed, $fails failed"
[[ $fails -eq 0 ]]
