#!/usr/bin/env bash
# run_fuzz.sh — the CTest test of one libFuzzer target: replay its regressions, then fuzz.
# usage: run_fuzz.sh FUZZER SEED_CORPUS REGRESSIONS_DIR SECONDS
# Every file in REGRESSIONS_DIR is an input that once crashed the target and must not any more.
# The fuzzing starts from a copy of SEED_CORPUS (the seeds stay as generated) and stops after
# SECONDS; a crash, leak, timeout or failed check fails the test and leaves the input in
# $ZX_FUZZ_ARTIFACTS (default: a temporary folder that is kept) with the line that replays it.
set -uo pipefail
fuzzer=${1:?usage: run_fuzz.sh FUZZER SEED_CORPUS REGRESSIONS_DIR SECONDS}
seeds=${2:?}
regressions=${3:?}
seconds=${4:?}
name=$(basename "$fuzzer")
dict=()   # tests/fuzz/<target>.dict, the words of the format, when there is one
[[ -f $(dirname "$0")/$name.dict ]] && dict=(-dict="$(dirname "$0")/$name.dict")

shopt -s nullglob
cases=("$regressions"/*)
shopt -u nullglob
inputs=()
for f in "${cases[@]}"; do [[ -f $f && $(basename "$f") != README* ]] && inputs+=("$f"); done
if ((${#inputs[@]})); then
    echo "== $name: replaying ${#inputs[@]} regression inputs from $regressions"
    if ! "$fuzzer" -runs=1 "${inputs[@]}" > "$name.replay.log" 2>&1; then
        tail -n 40 "$name.replay.log"
        echo "FAIL: a regression input of $name crashes again"
        exit 1
    fi
fi

[[ -d $seeds ]] || { echo "FAIL: no seed corpus $seeds (build the fuzz_corpus target)"; exit 1; }
artifacts=${ZX_FUZZ_ARTIFACTS:-$(mktemp -d "${TMPDIR:-/tmp}/zx-$name.XXXXXX")}
mkdir -p "$artifacts"
corpus=$(mktemp -d "${TMPDIR:-/tmp}/zx-$name-corpus.XXXXXX")
trap 'rm -rf "$corpus"' EXIT
cp -r "$seeds"/. "$corpus"/
echo "== $name: fuzzing for $seconds s from $(ls "$corpus" | wc -l) seeds"
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 "${dict[@]}" \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" > "$name.log" 2>&1
rc=$?
grep -E '^(#[0-9]+.*(DONE|INITED)|stat::(number_of_executed_units|peak_rss_mb|new_units_added))' "$name.log" || true
if ((rc != 0)); then
    tail -n 60 "$name.log"
    echo "FAIL: $name found a failing input (exit status $rc); artifacts in $artifacts:"
    for a in "$artifacts"/*; do
        [[ -f $a ]] || continue
        echo "  $a ($(stat -c %s "$a") bytes): replay with '$fuzzer $a';"
        echo "  add it to $regressions/ once fixed"
    done
    exit 1
fi
[[ -n ${ZX_FUZZ_ARTIFACTS:-} ]] || rmdir "$artifacts" 2>/dev/null || true
echo "PASS: $name ran $seconds s without a failure"
