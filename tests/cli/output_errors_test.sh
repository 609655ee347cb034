#!/usr/bin/env bash
# Standard output that fails or stalls (issue #12, defects 8 and 6b): a full device (/dev/full)
# is reported with exit 1 whether the output is streamed, written at exit, or followed by a
# runtime error; a closed pipe still ends the run quietly; a reader that stops reading does
# not make the run deaf to SIGINT (exit 130) or --max-time (exit 1).
set -uo pipefail
bin=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fails=0 passes=0

expect() {   # expect NAME PATTERN FILE
    if grep -qE -- "$2" "$3"; then passes=$((passes + 1)); return; fi
    echo "FAIL $1: '$2' not in $3:"; sed 's/^/    /' "$3"; fails=$((fails + 1))
}
status() {   # status NAME WANT GOT
    if [[ $3 == "$2" ]]; then passes=$((passes + 1)); return; fi
    echo "FAIL $1: exit status $3, want $2"; fails=$((fails + 1))
}
within() {   # within NAME MAX_SECONDS START_NS
    local ms=$(( ($(date +%s%N) - $3) / 1000000 ))
    if (( ms <= $2 * 1000 )); then passes=$((passes + 1)); return; fi
    echo "FAIL $1: took ${ms} ms, want at most $2 s"; fails=$((fails + 1))
}

printf 'print("hi")\n' > short.zx
printf 'print("hi")\nlet z = 0\nprint(1 / z)\n' > raises.zx
printf 'let i = 0\nwhile i < 100000 {\n  print("line", i)\n  i = i + 1\n}\n' > large.zx
printf 'while true {\n  print("a line of output that fills the pipe")\n}\n' > forever.zx

[[ -w /dev/full ]] || { echo "skipped: no /dev/full"; exit 0; }
for jit in off always; do
    # buffered output written only by the final flush at exit
    timeout -s KILL 20 "$bin" run --jit=$jit short.zx > /dev/full 2> err.txt; status "full_short_$jit" 1 $?
    expect "full_short_$jit" '^short\.zx: error writing standard output: No space left on device$' err.txt
    # the write error and the program's own runtime error after it: both reported
    timeout -s KILL 20 "$bin" run --jit=$jit raises.zx > /dev/full 2> err.txt; status "full_raises_$jit" 1 $?
    expect "full_raises_$jit" 'error writing standard output: No space left on device' err.txt
    expect "full_raises_$jit" 'raises\.zx:3:[0-9]+: runtime error: division by zero' err.txt
    # streamed output: the first failed write stops the run
    timeout -s KILL 20 "$bin" run --jit=$jit large.zx > /dev/full 2> err.txt; status "full_large_$jit" 1 $?
    expect "full_large_$jit" '^large\.zx: error writing standard output: No space left on device$' err.txt
done
for mode in seq par; do
    timeout -s KILL 20 "$bin" run --mode=$mode large.zx > /dev/full 2> err.txt; status "full_large_$mode" 1 $?
    expect "full_large_$mode" 'error writing standard output: No space left on device' err.txt
done

# a closed pipe (EPIPE) still ends the run quietly, exit 0
timeout -s KILL 20 "$bin" run forever.zx 2> err.txt | head -c1 > /dev/null
status closed_pipe 0 "${PIPESTATUS[0]}"
[[ -s err.txt ]] && { echo "FAIL closed_pipe: stderr not empty:"; cat err.txt; fails=$((fails + 1)); }

# a stalled reader: the pipe fills and write() would block for good
for jit in off always; do
    start=$(date +%s%N)
    { timeout -s KILL 10 "$bin" run --jit=$jit forever.zx 2> err.txt & pid=$!
      sleep 0.5; kill -INT $pid; wait $pid; echo $? > rc.txt; } | sleep 3
    status "stalled_sigint_$jit" 130 "$(cat rc.txt)"
    expect "stalled_sigint_$jit" 'runtime error: interrupted' err.txt
    # the pipeline lasts as long as `sleep 3`; the run itself must end well before
    within "stalled_sigint_$jit" 4 "$start"
done
mkfifo stall
# a reader that opens the FIFO and never reads, kept open for longer than the bound below
{ exec 3< stall; sleep 6; } &
reader=$!
start=$(date +%s%N)
timeout -s KILL 10 "$bin" run --max-time=1 forever.zx > stall 2> err.txt; status stalled_max_time 1 $?
within stalled_max_time 4 "$start"
expect stalled_max_time 'runtime error: time limit exceeded' err.txt
kill "$reader" 2> /dev/null; wait "$reader" 2> /dev/null

echo "$passes passed, $fails failed"
(( fails == 0 ))
