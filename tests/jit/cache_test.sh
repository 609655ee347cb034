#!/usr/bin/env bash
# The JIT's compiled-code cache (docs/cli.md, "Compiled-code cache"): a second run loads
# instead of compiling and prints the same; a damaged entry is noticed, removed and compiled
# again; a directory that cannot be used is no error and prints nothing; --no-cache writes
# nothing; the directory stays within its bound.  Counters are read from --stats=json.
# usage: cache_test.sh ZEXUS_JIT PROGRAM.zx   (PROGRAM.out beside it: its expected output)
set -u
bin=${1:?usage: cache_test.sh ZEXUS_JIT PROGRAM.zx}
prog=${2:?usage: cache_test.sh ZEXUS_JIT PROGRAM.zx}
expected=${prog%.zx}.out
tmp=$(mktemp -d)
trap 'chmod -R u+rwx "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# run CACHE-HOME [OPTIONS...]: --jit=always with the stats in $tmp/stats, the log in $tmp/log
run() {
    local home=$1
    shift
    XDG_CACHE_HOME=$home ZEXUS_JIT_LOG=1 timeout 120 "$bin" run --jit=always --mode=seq "$@" --stats=json "$prog" \
        > "$tmp/out" 2> "$tmp/err"
    local rc=$?
    ((rc == 124)) && echo "(timed out after 120 s)" >> "$tmp/err"
    grep '^{' "$tmp/err" > "$tmp/stats"
    grep '^jit: ' "$tmp/err" > "$tmp/log"
    return $rc
}
# counter NAME: from the "jit_cache" object of the last run's statistics
counter() { sed -n 's/.*"jit_cache":{[^}]*"'"$1"'":\([0-9]*\).*/\1/p' "$tmp/stats"; }
# check WHAT: the last run printed the expected output
check_output() { cmp -s "$tmp/out" "$expected" || bad "$1: wrong output: $(head -c 300 "$tmp/out")"; }
entries() { find "$1" -name '*.zxo' -type f 2>/dev/null | sort; }

cache=$tmp/home
dir=$cache/zexus-jit

# ---- first run: compiles and writes; second run: loads and compiles nothing ----
run "$cache" || bad "first run failed: $(cat "$tmp/err")"
check_output "first run"
[[ $(counter misses) -ge 1 && $(counter writes) -ge 1 && $(counter hits) == 0 ]] ||
    bad "first run: expected misses and writes, no hits: $(cat "$tmp/stats")"
grep -q '"enabled":true' "$tmp/stats" || bad "first run: cache not enabled: $(cat "$tmp/stats")"
grep -q '^jit: compiled ' "$tmp/log" || bad "first run compiled nothing: $(cat "$tmp/log")"
[[ -n $(entries "$dir") ]] || bad "first run: no entry in $dir"
[[ -z $(find "$dir" -name '*.tmp*') ]] || bad "first run left temporary files: $(ls "$dir")"

run "$cache" || bad "second run failed: $(cat "$tmp/err")"
check_output "second run"
[[ $(counter hits) -ge 1 && $(counter misses) == 0 && $(counter writes) == 0 ]] ||
    bad "second run: expected hits only: $(cat "$tmp/stats")"
grep -q '^jit: compiled ' "$tmp/log" && bad "second run compiled: $(grep '^jit: compiled ' "$tmp/log")"
grep -q '^jit: loaded from the cache ' "$tmp/log" || bad "second run loaded nothing: $(cat "$tmp/log")"

# --dump-ir shows IR, so it compiles even with an entry present
run "$cache" --dump-ir || bad "--dump-ir run failed"
check_output "--dump-ir run"
grep -q 'zexus-jit IR before optimisation' "$tmp/err" || bad "--dump-ir printed no IR from a cached program"

# ---- damaged entries: flipped bytes, truncated, emptied, replaced by garbage ----
damage() {
    local f
    for f in $(entries "$dir"); do
        local size
        size=$(stat -c %s "$f")
        case $1 in
        flip) printf '\xff\x00\xa5\x5a' | dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc status=none ;;
        truncate) truncate -s $((size / 2)) "$f" ;;
        empty) : > "$f" ;;
        garbage) head -c "$size" /dev/urandom > "$f" ;;
        esac
    done
}
for how in flip truncate empty garbage; do
    damage $how
    run "$cache" || bad "$how: run failed: $(cat "$tmp/err")"
    check_output "$how"
    [[ $(counter corrupt) -ge 1 && $(counter hits) == 0 && $(counter writes) -ge 1 ]] ||
        bad "$how: expected corrupt entries recompiled and written again: $(cat "$tmp/stats")"
    grep -q '^jit: compiled ' "$tmp/log" || bad "$how: nothing was compiled again"
    run "$cache" || bad "$how: run after the repair failed"
    check_output "$how, repaired"
    [[ $(counter hits) -ge 1 && $(counter corrupt) == 0 ]] || bad "$how: the entry was not repaired: $(cat "$tmp/stats")"
done

# ---- not a regular file where an entry should be: a FIFO, a directory, a symlink ----
# Opening a FIFO for reading blocks until a writer comes: the run hung before any output
# (--jit=always) or at exit (--jit=auto, whose compiles finish there).  Each is refused
# like a damaged entry, compiled again, and left where it is: never opened blocking,
# never followed, never deleted or replaced.
other=$tmp/elsewhere
mkdir -p "$other"
nonregular() {   # nonregular HOW: put that kind of thing at every entry's path
    local f
    for f in $(entries "$dir"); do
        case $1 in
        fifo) rm -f "$f" && mkfifo "$f" ;;
        directory) rm -f "$f" && mkdir "$f" ;;
        symlink) mv "$f" "$other/" && ln -s "$other/$(basename "$f")" "$f" ;;
        esac
        echo "$f"
    done > "$tmp/replaced"
}
still_there() {  # still_there HOW: every replaced path still holds what was put there
    local f
    while read -r f; do
        case $1 in
        fifo) [[ -p $f ]] ;;
        directory) [[ -d $f && ! -L $f ]] ;;
        symlink) [[ -L $f && -f $other/$(basename "$f") ]] ;;
        esac || bad "$1: $f was removed or replaced: $(ls -l "$f" 2>&1)"
    done < "$tmp/replaced"
}
for how in fifo directory symlink; do
    rm -rf "$dir" "${other:?}"/*
    run "$cache" || bad "$how: populating run failed: $(cat "$tmp/err")"
    nonregular $how
    [[ -s $tmp/replaced ]] || bad "$how: no entry to replace"
    for jit in always auto; do
        run "$cache" --jit=$jit || bad "$how, --jit=$jit: run failed (status $?): $(cat "$tmp/err")"
        check_output "$how, --jit=$jit"
        still_there $how
    done
    run "$cache"
    [[ $(counter corrupt) -ge 1 && $(counter hits) == 0 ]] ||
        bad "$how: expected the entries refused as corrupt: $(cat "$tmp/stats")"
done
rm -rf "$dir" "${other:?}"/*

# ---- directories that cannot be used: no message, same output ----
quiet_run() {   # quiet_run WHAT CACHE-HOME [OPTIONS...]: no --stats, stderr must stay empty
    local what=$1 home=$2
    shift 2
    XDG_CACHE_HOME=$home timeout 120 "$bin" run --jit=always "$@" "$prog" > "$tmp/out" 2> "$tmp/err" ||
        bad "$what: run failed (status $?)"
    check_output "$what"
    [[ -s $tmp/err ]] && bad "$what: printed to stderr: $(head -c 300 "$tmp/err")"
}
quiet_run "XDG_CACHE_HOME=/proc/nonexistent" /proc/nonexistent
: > "$tmp/a-file"
quiet_run "XDG_CACHE_HOME is a file" "$tmp/a-file"
# the cache directory itself a FIFO, or a symlink to a directory elsewhere: not used
odd=$tmp/odd
mkdir -p "$odd"
mkfifo "$odd/zexus-jit"
quiet_run "cache directory is a FIFO" "$odd"
[[ -p $odd/zexus-jit ]] || bad "the FIFO in place of the cache directory was replaced"
rm -f "$odd/zexus-jit"
ln -s "$other" "$odd/zexus-jit"
quiet_run "cache directory is a symlink" "$odd"
[[ -z $(ls -A "$other") ]] || bad "an entry was written through the symlinked cache directory: $(ls -A "$other")"
run /proc/nonexistent
grep -q '"jit_cache":{"enabled":false' "$tmp/stats" || bad "/proc/nonexistent: cache not reported off: $(cat "$tmp/stats")"
# a directory that is there but read-only is read, never written (root writes anyway: skip)
if [[ $(id -u) != 0 ]]; then
    ro=$tmp/ro
    mkdir -p "$ro/zexus-jit"
    chmod 555 "$ro/zexus-jit"
    quiet_run "read-only cache directory" "$ro"
    [[ -z $(ls -A "$ro/zexus-jit") ]] || bad "read-only directory was written: $(ls -A "$ro/zexus-jit")"
    chmod 755 "$ro/zexus-jit"
fi

# ---- --no-cache: nothing read or written ----
fresh=$tmp/fresh
run "$fresh" --no-cache || bad "--no-cache run failed"
check_output "--no-cache"
[[ -e $fresh ]] && bad "--no-cache created $(find "$fresh")"
grep -q '"jit_cache":{"enabled":false,"dir":null' "$tmp/stats" || bad "--no-cache: cache not reported off: $(cat "$tmp/stats")"
run "$cache" --no-cache
[[ $(counter hits) == 0 ]] || bad "--no-cache read the cache: $(cat "$tmp/stats")"

# ---- the bound: with room for about one entry, a second one evicts the first ----
small=$tmp/small
run "$small" -O0 || bad "-O0 run failed"
size=$(stat -c %s $(entries "$small/zexus-jit") | awk '{ s += $1 } END { print s }')
ZEXUS_JIT_CACHE_MAX=$((size * 3 / 2)) run "$small" -O2 || bad "-O2 run failed"
check_output "bounded cache"
[[ $(counter evicted) -ge 1 ]] || bad "nothing evicted over the bound: $(cat "$tmp/stats")"
total=$(stat -c %s $(entries "$small/zexus-jit") | awk '{ s += $1 } END { print s + 0 }')
[[ $total -le $((size * 3 / 2)) ]] || bad "cache holds $total bytes, over its bound $((size * 3 / 2))"
run "$small" -O2
[[ $(counter hits) -ge 1 ]] || bad "the newest entry was evicted: $(cat "$tmp/stats")"

if ((fails)); then
    echo "$fails failure(s)"
    exit 1
fi
echo "cache test passed"
