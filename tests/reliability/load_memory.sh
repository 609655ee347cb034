#!/usr/bin/env bash
# load_memory.sh — a memory limit reached while compiling the source or loading .zxbc/.zxa (the
# string constants live on the limited heap) is a clean load error in every command and mode: exit status 1,
# "FILE:LINE:COL: error: memory limit exceeded", nothing run, no file written -- never an abort.
# usage: load_memory.sh ZEXUS_JIT
set -uo pipefail
bin=${1:?usage: load_memory.sh ZEXUS_JIT}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fails=0 passes=0
modes=("--jit=off --mode=seq" "--jit=always --mode=seq" "--jit=off --mode=par --workers=2"
       "--jit=auto --mode=par --workers=3")

# expect NAME STATUS STDOUT STDERR-PATTERN -- COMMAND OPTIONS... FILE...
# (STDOUT is the whole of standard output; STDERR-PATTERN "" means stderr must be empty)
expect() {
    local name=$1 status=$2 out=$3 pattern=$4
    shift 5
    timeout 120 "$bin" "$@" > out.txt 2> err.txt < /dev/null
    local rc=$?
    if ((rc != status)); then
        echo "FAIL $name ($*): exit status $rc, want $status"; head -n 5 err.txt | sed 's/^/    /'
        fails=$((fails + 1)); return
    fi
    if [[ $(cat out.txt) != "$out" ]]; then
        echo "FAIL $name ($*): stdout '$(head -c 200 out.txt)', want '$out'"; fails=$((fails + 1)); return
    fi
    if [[ -z $pattern && -s err.txt ]] || { [[ -n $pattern ]] && ! grep -qE -- "$pattern" err.txt; } ||
       (($(wc -l < err.txt) > 1)); then
        echo "FAIL $name ($*): stderr is not one line matching /$pattern/:"; head -n 3 err.txt | sed 's/^/    /'
        fails=$((fails + 1)); return
    fi
    passes=$((passes + 1))
}

printf 'let a = "hello"\nlet b = "world"\nprint(a + b)\n' > two_strings.zx
# A 2 MB string literal
{ printf 'print("start")\nlet s = "'; head -c 2000000 /dev/zero | tr '\0' x; printf '"\nprint(len(s))\n'; } > big_literal.zx

for m in "${modes[@]}"; do
    read -r -a mo <<< "$m"
    # each of the two strings takes 31 bytes (runtime/value.h, zx_string): 48 holds one of them
    expect "two strings, 48 bytes" 1 '' '^two_strings\.zx:[12]:[0-9]+: error: memory limit exceeded$' -- \
        run "${mo[@]}" --max-memory=48 two_strings.zx
    expect "two strings fit" 0 helloworld '' -- run "${mo[@]}" --max-memory=1M two_strings.zx
    expect "2 MB literal, 1M" 1 '' '^big_literal\.zx:2:9: error: memory limit exceeded$' -- \
        run "${mo[@]}" --max-memory=1M big_literal.zx
done
expect "2 MB literal fits 16M" 0 $'start\n2000000' '' -- run --max-memory=16M big_literal.zx
expect "compile, 1M" 1 '' '^big_literal\.zx:2:9: error: memory limit exceeded$' -- \
    compile --max-memory=1M big_literal.zx -o big.zxbc
if [[ -e big.zxbc ]]; then echo "FAIL compile, 1M: wrote big.zxbc"; fails=$((fails + 1)); fi
expect "compile fits" 0 '' '' -- compile --max-memory=16M big_literal.zx -o big.zxbc
expect "its bytecode runs" 0 $'start\n2000000' '' -- run big.zxbc
# the same limit while loading bytecode or assembly is a memory error too, not damage (exit 2)
"$bin" disasm big.zxbc > big.zxa 2> /dev/null || { echo "FAIL disasm big.zxbc"; fails=$((fails + 1)); }
for m in "${modes[@]}"; do
    read -r -a mo <<< "$m"
    expect ".zxbc, 1M" 1 '' '^big\.zxbc: error: memory limit exceeded$' -- run "${mo[@]}" --max-memory=1M big.zxbc
    expect ".zxa, 1M" 1 '' '^big\.zxa:[0-9]+:[0-9]+: error: memory limit exceeded$' -- \
        run "${mo[@]}" --max-memory=1M big.zxa
done
expect ".zxa fits" 0 $'start\n2000000' '' -- run --max-memory=16M big.zxa

echo "load_memory: $passes passed, $fails failed"
((fails == 0))
