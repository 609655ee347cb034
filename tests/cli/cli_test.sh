#!/usr/bin/env bash
# The command-line contract (docs/cli.md): bytecode round trips, damaged input, usage errors,
# program arguments, SIGINT and closed pipes — each with its message and exit status.
set -uo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fails=0 passes=0

check() {   # check NAME EXPECTED-STATUS GOT-STATUS [PATTERN FILE]
    local name=$1 want=$2 got=$3
    if [[ $got != "$want" ]]; then
        echo "FAIL $name: exit status $got, want $want"; fails=$((fails + 1)); return
    fi
    if [[ $# -ge 5 ]] && ! grep -qE -- "$4" "$5"; then
        echo "FAIL $name: '$4' not in $5:"; sed 's/^/    /' "$5"; fails=$((fails + 1)); return
    fi
    passes=$((passes + 1))
}

cat > prog.zx <<'ZX'
action sq(v) { return v * v }
let total = 0
for each i in range(10) { total += sq(i) }
print(total)
print(args)
ZX

# run, with program arguments
"$bin" run prog.zx a "b c" > out.txt 2> err.txt; check run_args 0 $? '^\[a, b c\]$' out.txt
grep -qx 285 out.txt || { echo "FAIL run_args: no 285"; fails=$((fails + 1)); }
# options after FILE belong to the program
"$bin" run prog.zx --mode=seq > out.txt 2> err.txt; check args_not_options 0 $? '^\[--mode=seq\]$' out.txt

# compile → run → disasm → assemble round trip
"$bin" compile prog.zx -o prog.zxbc 2> err.txt; check compile 0 $?
"$bin" run prog.zxbc > out2.txt 2> err.txt; check run_zxbc 0 $?
head -1 out2.txt | grep -qx 285 || { echo "FAIL run_zxbc output"; fails=$((fails + 1)); }
"$bin" disasm prog.zx > prog.zxa 2> err.txt; check disasm 0 $?
"$bin" run prog.zxa > out3.txt 2> err.txt; check run_zxa 0 $?
cmp -s out2.txt out3.txt || { echo "FAIL zxa output differs"; fails=$((fails + 1)); }
"$bin" disasm prog.zxa > prog2.zxa 2> err.txt; check disasm_zxa 0 $?
cmp -s prog.zxa prog2.zxa || { echo "FAIL disasm(assemble(disasm)) differs"; fails=$((fails + 1)); }
"$bin" disasm prog.zxbc > prog3.zxa 2> err.txt; check disasm_zxbc 0 $?
cmp -s prog.zxa prog3.zxa || { echo "FAIL disasm of .zxbc differs"; fails=$((fails + 1)); }

# damaged and truncated bytecode: a clear error, exit 2, no crash
size=$(stat -c %s prog.zxbc)
head -c $((size / 2)) prog.zxbc > trunc.zxbc
"$bin" run trunc.zxbc > out.txt 2> err.txt; check truncated 2 $? '^trunc.zxbc: error: .*(truncated|checksum)' err.txt
cp prog.zxbc flip.zxbc
printf '\xff' | dd of=flip.zxbc bs=1 seek=$((size / 2)) conv=notrunc status=none
"$bin" run flip.zxbc > out.txt 2> err.txt; check damaged 2 $? '^flip.zxbc: error: .*checksum' err.txt
printf 'not bytecode at all' > junk.zxbc
"$bin" run junk.zxbc > out.txt 2> err.txt; check bad_magic 2 $? '^junk.zxbc: error: ' err.txt
: > empty.zxbc
"$bin" run empty.zxbc > out.txt 2> err.txt; check empty_zxbc 2 $? '^empty.zxbc: error: ' err.txt

# invalid assembly
printf 'this is not assembly\n' > bad.zxa
"$bin" run bad.zxa > out.txt 2> err.txt; check bad_zxa 2 $? '^bad.zxa:[0-9]+:[0-9]+: error: ' err.txt

# missing file, unreadable input
"$bin" run missing.zx > out.txt 2> err.txt; check missing 2 $? '^missing.zx: error: cannot open file: No such file' err.txt
"$bin" run . > out.txt 2> err.txt; check directory 2 $? 'error: ' err.txt

# usage errors
# no command and no FILE, standard input not a terminal: the program is read from it
"$bin" < /dev/null > out.txt 2> err.txt; check no_command 0 $?
[[ -s out.txt || -s err.txt ]] && { echo "FAIL no_command: output for an empty program"; fails=$((fails + 1)); }
"$bin" frobnicate x.zx > out.txt 2> err.txt; check bad_command 2 $? "unknown command 'frobnicate'" err.txt
"$bin" run --mode=fast prog.zx > out.txt 2> err.txt; check bad_mode 2 $? "bad --mode 'fast'" err.txt
"$bin" run --workers=0 prog.zx > out.txt 2> err.txt; check bad_workers 2 $? "bad --workers" err.txt
"$bin" run --bogus prog.zx > out.txt 2> err.txt; check bad_option 2 $? "unknown option '--bogus'" err.txt
"$bin" run > out.txt 2> err.txt; check no_file 2 $? 'missing FILE' err.txt
"$bin" compile prog.zx > out.txt 2> err.txt; check compile_no_o 2 $? 'compile needs -o' err.txt
"$bin" run --max-depth 50 prog.zx > out.txt 2> err.txt; check spaced_value 0 $?
"$bin" --help > out.txt 2> err.txt; check help 0 $? '^usage: zexus-jit ' out.txt
"$bin" run --help > out.txt 2> err.txt; check run_help 0 $? '^usage: zexus-jit ' out.txt
"$bin" info --help > out.txt 2> err.txt; check info_help 0 $? '^usage: zexus-jit ' out.txt
"$bin" run -o x.zxbc prog.zx > out.txt 2> err.txt; check run_o 2 $? '-o is only for compile' err.txt
[[ ! -e x.zxbc ]] || { echo "FAIL run_o wrote x.zxbc"; fails=$((fails + 1)); }
# a topology that hwloc cannot read is a usage error even where the run never needs workers
"$bin" run --mode=seq --topology=bogus prog.zx > out.txt 2> err.txt; check bad_topology 2 $? "bad --topology 'bogus'" err.txt
[[ ! -s out.txt ]] || { echo "FAIL bad_topology ran the program"; fails=$((fails + 1)); }
"$bin" info > out.txt 2> err.txt; check info 0 $? '^JIT: LLVM 19\.' out.txt
"$bin" --version > out.txt 2> err.txt; check version 0 $? '^zexus-jit [0-9]+\.[0-9]+\.[0-9]+' out.txt

# --max-depth: a fixed Zexus call depth, the same message whatever the limit
printf 'action d(n) { return d(n + 1) }\nd(0)\n' > deep.zx
"$bin" run --max-depth=100 deep.zx > out.txt 2> err.txt; check max_depth 1 $? 'call depth limit exceeded' err.txt
grep -q '\.\.\. 80 more calls' err.txt || { echo "FAIL max_depth trace"; cat err.txt; fails=$((fails + 1)); }

# --max-memory
printf 'let xs = []\nwhile (true) { xs.push("some text that takes room") }\n' > hog.zx
"$bin" run --max-memory=16M hog.zx > out.txt 2> err.txt; check max_memory 1 $? '^hog.zx:2:[0-9]+: runtime error: memory limit exceeded' err.txt

# SIGINT: what was printed is flushed, then "interrupted", exit 130
printf 'print("started")\nlet i = 0\nwhile (true) { i = i + 1 }\n' > spin.zx
"$bin" run spin.zx > out.txt 2> err.txt &
pid=$!
for _ in $(seq 50); do grep -q started out.txt 2>/dev/null && break; sleep 0.1; done
sleep 0.3
kill -INT $pid
wait $pid; check sigint 130 $? 'runtime error: interrupted' err.txt
grep -qx started out.txt || { echo "FAIL sigint: output not flushed"; fails=$((fails + 1)); }

# a closed pipe ends the program quietly
printf 'let i = 0\nwhile (i < 1000000) { print(i); i = i + 1 }\n' > chatty.zx
"$bin" run chatty.zx 2> err.txt | head -1 > out.txt
check closed_pipe 0 "${PIPESTATUS[0]}"
[[ -s err.txt ]] && { echo "FAIL closed_pipe: stderr not empty:"; cat err.txt; fails=$((fails + 1)); }
grep -qx 0 out.txt || { echo "FAIL closed_pipe output"; fails=$((fails + 1)); }

echo "cli: $passes passed, $fails failed"
[[ $fails -eq 0 ]]
