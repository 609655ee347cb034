#!/usr/bin/env bash
# garbage.sh — damaged and random input never crashes zexus-jit: random bytes as .zx, .zxa and
# .zxbc, the test programs truncated and with bytes overwritten (source, text assembly and
# bytecode), and the fuzzers' regression inputs.  Every run must end with exit status 0, 1 or 2
# — 2 with a "FILE...: error: ..." line, 1 with a "runtime error" — and never with a signal
# (status >= 128), a sanitizer report or a hang.  Mutated programs that still run are stopped by
# --max-time, so an endless loop is a clean "time limit exceeded".
# usage: garbage.sh ZEXUS_JIT [N]   N random files of each kind, and N/20 mutations of each kind
#                                   of each program (100)
# A failing input is kept in $ZX_GARBAGE_KEEP (default: a temporary folder that is printed).
set -uo pipefail
bin=${1:?usage: garbage.sh ZEXUS_JIT [N]}
n=${2:-100}
per=$(( n / 20 > 0 ? n / 20 : 1 ))
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
keep=${ZX_GARBAGE_KEEP:-}
trap 'rm -rf "$work"' EXIT
fails=0 runs=0
declare -A by_status

# The modes a run rotates through: the interpreter, the JIT, and the parallel runtime.
modes=("--jit=off --mode=seq" "--jit=always --mode=seq" "--jit=off --mode=par --workers=2")

# try FILE MODE-INDEX: run FILE and check how it ended
try() {
    local file=$1 mode=${modes[$(($2 % ${#modes[@]}))]} rc
    runs=$((runs + 1))
    # shellcheck disable=SC2086
    timeout 60 "$bin" run $mode --max-time=3 --max-memory=256M "$file" > "$work/out" 2> "$work/err" < /dev/null
    rc=$?
    by_status[$rc]=$((${by_status[$rc]:-0} + 1))
    local why=
    if ((rc >= 124)); then
        why="exit status $rc (signal or hang)"
    elif ((rc != 0 && rc != 1 && rc != 2)); then
        why="exit status $rc"
    elif grep -qE 'Sanitizer|\.(c|h|cpp):[0-9]+:[0-9]+: runtime error:' "$work/err"; then
        why="sanitizer report"
    elif ((rc == 2)) && ! grep -qE '(^zexus-jit: |: error: )' "$work/err"; then
        why="exit status 2 without an error message"
    elif ((rc == 1)) && ! grep -q 'runtime error: ' "$work/err"; then
        why="exit status 1 without a runtime error"
    fi
    if [[ -n $why ]]; then
        fails=$((fails + 1))
        [[ -n $keep ]] || keep=$(mktemp -d "${TMPDIR:-/tmp}/zx-garbage.XXXXXX")
        local saved
        saved=$keep/$(basename "$file")
        cp "$file" "$saved"
        echo "FAIL $why: zexus-jit run $mode --max-time=3 --max-memory=256M $saved"
        head -n 8 "$work/err" | sed 's/^/    /'
    fi
}

# random bytes: sizes 1 .. 4 KiB, every kind of file
for ext in zx zxa zxbc; do
    for ((i = 0; i < n; i++)); do
        f=$work/random_$i.$ext
        head -c $((1 + (i * 997) % 4096)) /dev/urandom > "$f"
        # half of the .zxbc files start with a valid magic, to get past the first check
        if [[ $ext == zxbc ]] && ((i % 2)); then printf 'ZXBC\001\000' | dd of="$f" conv=notrunc status=none; fi
        try "$f" "$i"
    done
done

# mutations of real programs: truncated, and one byte overwritten, as source, .zxa and .zxbc
mapfile -t programs < <(ls "$root"/zexus/conformance/*.zx "$root"/zexus/parallel/*.zx "$root"/programs/*.zx)
k=0
for prog in "${programs[@]}"; do
    name=$(basename "$prog" .zx)
    cp "$prog" "$work/$name.zx"
    "$bin" disasm "$prog" > "$work/$name.zxa" 2>/dev/null || continue
    "$bin" compile "$prog" -o "$work/$name.zxbc" 2>/dev/null || continue
    for ext in zx zxa zxbc; do
        src=$work/$name.$ext
        size=$(stat -c %s "$src")
        ((size > 2)) || continue
        for ((j = 0; j < per; j++)); do
            k=$((k + 1))
            head -c $((size * (k % 7 + 1) / 8)) "$src" > "$work/cut${j}_$name.$ext"
            try "$work/cut${j}_$name.$ext" "$k"
            cp "$src" "$work/flip${j}_$name.$ext"
            pos=$(( (k * 7919) % size ))
            head -c 1 /dev/urandom | dd of="$work/flip${j}_$name.$ext" bs=1 seek="$pos" conv=notrunc status=none
            try "$work/flip${j}_$name.$ext" "$((k + 1))"
        done
    done
done

# the fuzzers' regression inputs, as the kind of file each target reads
for pair in fuzz_source:zx fuzz_zxa:zxa fuzz_zxbc:zxbc; do
    dir=$root/fuzz/regressions/${pair%%:*}
    for f in "$dir"/*; do
        [[ -f $f && $f != *.payload && $(basename "$f") != README* ]] || continue
        cp "$f" "$work/regression.${pair#*:}"
        try "$work/regression.${pair#*:}" 0
    done
done

summary=$(for s in $(printf '%s\n' "${!by_status[@]}" | sort -n); do printf 'exit %s: %s, ' "$s" "${by_status[$s]}"; done)
echo "garbage: $runs runs (${summary%, }), $fails failed"
((fails == 0))
