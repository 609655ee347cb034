#!/usr/bin/env bash
# A code object of more than 2,000 instructions is compiled as a chain of functions ("pieces"
# cut at statement boundaries, jit/lower.c PIECE_CODE), so that code generation never holds a
# long top level whole, and such a top level's statements outside loops run in the interpreter
# (they run once: jit/lower.c, "Code that runs once") while its loops are compiled (issue 17).  A generated top level of some 5,000 instructions, with
# loops, branches, calls, globals changing type and chunk starts in every piece, must print
# exactly what the interpreter prints under --jit=strict at -O0 and -O2, sequentially and as a
# chunk DAG (chunks entering later pieces), and an error in the last piece must keep its place
# and trace.
# usage: pieces_test.sh ZEXUS_JIT
set -uo pipefail
bin=$(realpath "${1:?usage: pieces_test.sh ZEXUS_JIT}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
fails=0 passes=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { passes=$((passes + 1)); }

gen() {   # gen BLOCKS: the program on stdout
    echo 'let total = 0'
    echo 'let count = 0'
    echo 'let mix = 1'
    echo 'let names = []'
    echo 'action bump(x) { return x + 1 }'
    for ((k = 0; k < $1; k++)); do
        echo "for each i in range(3) { total = total + i + $k }"
        echo 'count = count + 1'
        echo "if (count % 7 == 0) { names.push(\"n\" + str(count)) } else { total = total - 1 }"
        echo "let v$k = bump(count) * 2"
        if ((k == $1 / 2)); then echo 'mix = "half"'; fi
        if ((k % 50 == 49)); then
            echo 'let j = 0'
            echo "while (j < 4) { total = total + j * v$k; j = j + 1 }"
            echo 'print(total, count, mix)'
        fi
    done
    echo 'mix = mix + "!"'
    echo 'print(total, count, len(names), mix, names[len(names) - 1])'
}

gen 300 > big.zx
{ gen 300; echo 'action fail(n) { return n / (count - count) }'; echo 'print(fail(count))'; } > bad.zx

# the program is big enough to be cut, and is cut
"$bin" run --jit=strict --no-cache --dump-ir big.zx > /dev/null 2> ir.txt
if grep -q '(piece 2)' ir.txt; then ok; else bad "no pieces in the IR of a long top level"; fi
if grep -q 'call i32 @jit_helper_run(' ir.txt; then ok; else bad "the statements outside loops are compiled"; fi
if grep -q 'call i32 @jit_helper_for_iter\|FOR_ITER' ir.txt; then ok; else bad "the loops are not compiled"; fi

for prog in big bad; do
    "$bin" run --jit=off "$prog.zx" > "$prog.want" 2> "$prog.wanterr"
    want_rc=$?
    [[ $prog == bad && $want_rc -ne 1 ]] && bad "bad.zx: the interpreter exits $want_rc, want 1"
    [[ $prog == big && $want_rc -ne 0 ]] && bad "big.zx: the interpreter exits $want_rc"
    for mode in "-O0" "-O2" "-O2 --mode=par --workers=2" "-O0 --mode=par --workers=3 --chunk-size=7"; do
        # shellcheck disable=SC2086
        "$bin" run --jit=strict --no-cache $mode "$prog.zx" > "$prog.got" 2> "$prog.goterr"
        rc=$?
        if [[ $rc -ne $want_rc ]]; then bad "$prog.zx --jit=strict $mode: exit $rc, want $want_rc"; continue; fi
        if ! cmp -s "$prog.want" "$prog.got"; then bad "$prog.zx --jit=strict $mode: stdout differs"; diff "$prog.want" "$prog.got" | head -5; continue; fi
        if ! cmp -s "$prog.wanterr" "$prog.goterr"; then bad "$prog.zx --jit=strict $mode: stderr differs"; diff "$prog.wanterr" "$prog.goterr" | head -5; continue; fi
        ok
    done
done
grep -q "division by zero" bad.wanterr && ok || bad "bad.zx: no division by zero error: $(cat bad.wanterr)"

echo "pieces: $passes passed, $fails failed"
((fails == 0))
