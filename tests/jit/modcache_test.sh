#!/usr/bin/env bash
# The compiled-code cache works per source file (docs/cli.md, "Compiled-code cache"; issue 15):
# under --jit=strict each file's code is one module with an entry of its own, so a second run
# loads everything, an edit of one module recompiles that module's code only, and an edit that
# changes a fact another file's code was compiled on (a callee's frame, a global's guessed
# type) recompiles that code too.  Output is checked after every run; which files compiled
# is read from ZEXUS_JIT_LOG=1 lines, the entries from --stats=json.
# usage: modcache_test.sh ZEXUS_JIT
set -uo pipefail
bin=$(realpath "${1:?usage: modcache_test.sh ZEXUS_JIT}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
fails=0 passes=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { passes=$((passes + 1)); }

cat > a.zx <<'ZX'
let scale = 3
let limit = 0
export action area(r) { return scale * r * r }
export action tri(n) {
    let s = 0
    for each i in range(n) { s += i }
    return s
}
export action count_to() {
    let total = 0
    let i = 0
    while (i < limit) {
        total += i
        i += 1
    }
    return total
}
ZX
cat > b.zx <<'ZX'
use "./a.zx" as a
let base = 10
export action twice(x) { return a.area(x) * 2 + base }
ZX
cat > main.zx <<'ZX'
use "./a.zx" as a
use "./b.zx" as b
a.limit = 10
action go(n) { return b.twice(n) + a.tri(n) }
print(go(4), a.count_to())
ZX

# run WHAT EXPECTED-OUTPUT: --jit=strict with the cache in $work/cache
run() {
    XDG_CACHE_HOME=$work/cache ZEXUS_JIT_LOG=1 timeout 120 "$bin" run --jit=strict --mode=seq --stats=json main.zx \
        > out 2> err
    local rc=$?
    grep '^{' err > stats
    grep '^jit: ' err > log
    if ((rc != 0)); then
        bad "$1: exit status $rc: $(head -c 600 err)"
    elif [[ $(cat out) != "$2" ]]; then
        bad "$1: output '$(cat out)', want '$2'"
    else
        ok
    fi
}
counter() { sed -n 's/.*"jit_cache":{[^}]*"'"$1"'":\([0-9]*\).*/\1/p' stats; }
# the files whose code the last run compiled / loaded from the cache, sorted, one line
compiled() { sed -n 's/^jit: compiled \([^:]*\):.*/\1/p' log | sort -u | tr '\n' ' '; }
loaded() { sed -n 's/^jit: loaded from the cache \([^:]*\):.*/\1/p' log | sort -u | tr '\n' ' '; }
# expect WHAT COMPILED LOADED HITS MISSES
expect() {
    local what=$1
    [[ $(compiled) == "$2" ]] && ok || bad "$what: compiled the code of '$(compiled)', want '$2'"
    [[ $(loaded) == "$3" ]] && ok || bad "$what: loaded the code of '$(loaded)' from the cache, want '$3'"
    [[ $(counter hits) == "$4" && $(counter misses) == "$5" && $(counter corrupt) == 0 ]] && ok ||
        bad "$what: want $4 hits and $5 misses: $(cat stats)"
}

# one module per file: the first run compiles three, the second loads three
run "first run" "112 45"
expect "first run" "a.zx b.zx main.zx " "" 0 3
[[ $(counter writes) == 3 ]] && ok || bad "first run: want 3 entries written: $(cat stats)"
run "second run" "112 45"
expect "second run" "" "a.zx b.zx main.zx " 3 0
# --stats=json names each code object's own file
grep -q '"name":"tri","kind":"action","file":"a.zx","line":4,' stats && ok ||
    bad "--stats=json does not place tri in a.zx: $(cat stats)"

# a constant in one action of a.zx: only a.zx's code compiles
sed -i 's/let s = 0$/let s = 100/' a.zx
run "a.zx edited" "212 45"
expect "a.zx edited" "a.zx " "b.zx main.zx " 2 1
run "a.zx edited, again" "212 45"
expect "a.zx edited, again" "" "a.zx b.zx main.zx " 3 0

# b.zx's twice gets a local: main.zx's go, which calls it directly and pushes its frame, is
# compiled again (the callee's frame shape is a part of go's key); a.zx's code is not
cat > b.zx <<'ZX'
use "./a.zx" as a
let base = 10
export action twice(x) {
    let t = a.area(x) * 2
    return t + base
}
ZX
run "twice has a local more" "212 45"
expect "twice has a local more" "b.zx main.zx " "a.zx " 1 2

# the top level stores a float into a.zx's limit: count_to, which reads it in a loop and was
# compiled with an int guess for it taken from that store, is compiled again; b.zx's is not
sed -i 's/^a.limit = 10$/a.limit = 10.5/' main.zx
run "limit a float" "212 55"
expect "limit a float" "a.zx main.zx " "b.zx " 1 2

# back to the first version of every file: its entries are still there
sed -i 's/let s = 100$/let s = 0/' a.zx
sed -i 's/^a.limit = 10.5$/a.limit = 10/' main.zx
cat > b.zx <<'ZX'
use "./a.zx" as a
let base = 10
export action twice(x) { return a.area(x) * 2 + base }
ZX
run "first version again" "112 45"
expect "first version again" "" "a.zx b.zx main.zx " 3 0

# the same cache under -O0 and --jit=auto, and every mode's output against the interpreter
for opts in "-O0" "--jit=auto" "--jit=always --mode=par --workers=2" "--jit=off"; do
    # shellcheck disable=SC2086
    XDG_CACHE_HOME=$work/cache timeout 120 "$bin" run $opts main.zx > out 2> err
    [[ $? == 0 && $(cat out) == "112 45" ]] && ok || bad "$opts: '$(cat out)' $(head -c 300 err)"
done

# a small pure action inlined into its caller, which --jit=auto compiles in a module of its own:
# an edit of the callee's body alone (the caller's bytes stay the same) compiles the caller
# again, or its cached code would still compute the old body
cat > inl.zx <<'ZX'
action step(i) { return i * 2 }
action loop_it(n) {
    let s = 0
    let i = 0
    while (i < n) {
        s = s + step(i)
        i = i + 1
    }
    return s
}
let t = 0
for each r in range(300) { t = t + loop_it(20000) }
print(t)
ZX
for want in 119994000000 119994000000; do
    XDG_CACHE_HOME=$work/cache timeout 120 "$bin" run --jit=auto inl.zx > out 2> err
    [[ $? == 0 && $(cat out) == "$want" ]] && ok || bad "inlined callee: '$(cat out)', want $want $(head -c 300 err)"
done
sed -i 's/i \* 2/i * 3/' inl.zx
XDG_CACHE_HOME=$work/cache timeout 120 "$bin" run --jit=auto inl.zx > out 2> err
[[ $? == 0 && $(cat out) == 179991000000 ]] && ok ||
    bad "inlined callee edited: '$(cat out)', want 179991000000 $(head -c 300 err)"

echo "$passes passed, $fails failed"
((fails == 0))
