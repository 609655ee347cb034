#!/usr/bin/env bash
# differential.sh — differential testing of the execution tiers: random Zexus programs, one per
# seed (tests/reliability/gen_program.c), each run in the interpreter and in every other tier;
# every tier must give exactly the interpreter's stdout, stderr and exit status (runtime errors
# included: a program may end in one on purpose).
# usage: differential.sh ZEXUS_JIT GEN_PROGRAM
# Environment: ZX_DIFF_SEEDS (how many seeds, 20), ZX_DIFF_BASE (the first seed, 1),
#              ZX_DIFF_KEEP (where failing programs are kept, default a new directory in $TMPDIR).
# A mismatch prints `FAIL seed S, tier T: …` with a diff of each stream that differs, and keeps
# the program as <keep>/seed-S.zx (rerun it with the commands printed).
# Odd seeds run every tier with ZX_GC_STRESS=1 (a cycle collection at every candidate store).
set -uo pipefail
bin=${1:?usage: differential.sh ZEXUS_JIT GEN_PROGRAM}
gen=${2:?usage: differential.sh ZEXUS_JIT GEN_PROGRAM}
nseeds=${ZX_DIFF_SEEDS:-20}
base=${ZX_DIFF_BASE:-1}
[[ $nseeds =~ ^[0-9]+$ && $base =~ ^[0-9]+$ ]] || { echo "differential.sh: ZX_DIFF_SEEDS and ZX_DIFF_BASE must be integers" >&2; exit 2; }
[[ -x $bin ]] || { echo "differential.sh: $bin: not an executable" >&2; exit 2; }
[[ -x $gen ]] || { echo "differential.sh: $gen: not an executable" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/zx-diff.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
keep=${ZX_DIFF_KEEP:-}

# The reference, then the tiers compared with it ("name:options of zexus-jit run"). The JIT tiers
# use --jit=strict, so a code object the JIT cannot compile is an error there, not a silent
# fallback to the interpreter (--jit=strict compiles every generated construct); the parallel
# tier uses --jit=always, what a user would choose.
# --no-cache: thousands of one-off programs must not fill the compiled-code cache.
reference="--jit=off --mode=seq"
tiers=(
    "jit0:--jit=strict -O0 --mode=seq"
    "jit2:--jit=strict -O2 --mode=seq"
    "par2:--jit=always -O2 --mode=par --workers=2"
)

# Every run is bounded: generated programs finish in well under a second, so a run that takes
# 60 s is a hang (reported as a mismatch, exit status 124).
run() { # OUTPUT-PREFIX OPTIONS...
    local prefix=$1
    shift
    (cd "$work" && ZX_GC_STRESS=${gc_stress:-0} timeout -k 5 60 "$bin" run "$@" --no-cache prog.zx </dev/null \
        >"$prefix.out" 2>"$prefix.err")
    echo $? >"$prefix.status"
}

fails=0 completed=0 errored=0 runs=0
start=$SECONDS
for ((seed = base; seed < base + nseeds; seed++)); do
    if ! "$gen" "$seed" >"$work/prog.zx"; then
        echo "FAIL seed $seed: gen_program failed"
        fails=$((fails + 1))
        continue
    fi
    # a program may ask for limits (gen_program's snip_limits): every run gets them
    limit_opts=$(sed -n 's/^# options: //p' "$work/prog.zx" | head -n 1)
    read -ra ref_opts <<<"$reference $limit_opts"
    run "$work/ref" "${ref_opts[@]}"
    runs=$((runs + 1))
    ref_status=$(<"$work/ref.status")
    case $ref_status in
    0) completed=$((completed + 1)) ;;
    1) errored=$((errored + 1)) ;;
    *)
        # 2 would be a compile error: the generator's bug, not a tier's
        echo "FAIL seed $seed: the interpreter exited with status $ref_status"
        sed 's/^/    stderr: /' "$work/ref.err" | head -n 5
        ;;
    esac
    seed_failed=$(( ref_status > 1 ))
    for entry in "${tiers[@]}"; do
        name=${entry%%:*}
        read -ra opts <<<"${entry#*:} $limit_opts"
        # odd seeds: the tiers collect cycles at every candidate store (ZX_GC_STRESS), so a
        # collection that freed something live shows as a difference from the interpreter
        gc_stress=$((seed % 2)) run "$work/tier" "${opts[@]}"
        runs=$((runs + 1))
        bad=()
        cmp -s "$work/ref.out" "$work/tier.out" || bad+=(out)
        cmp -s "$work/ref.err" "$work/tier.err" || bad+=(err)
        cmp -s "$work/ref.status" "$work/tier.status" || bad+=(status)
        ((${#bad[@]} == 0)) && continue
        seed_failed=1
        echo "FAIL seed $seed, tier $name (zexus-jit run ${entry#*:} $limit_opts --no-cache): ${bad[*]} differ from the interpreter ($reference)"
        for s in "${bad[@]}"; do
            echo "  --- $s: interpreter / +++ $name"
            diff -u "$work/ref.$s" "$work/tier.$s" | tail -n +3 | head -n 20 | sed 's/^/    /'
        done
    done
    if ((seed_failed)); then
        fails=$((fails + 1))
        if [[ -z $keep ]]; then
            keep=$(mktemp -d "${TMPDIR:-/tmp}/zx-diff-failed.XXXXXX")
        fi
        mkdir -p "$keep"
        cp "$work/prog.zx" "$keep/seed-$seed.zx"
        echo "  program kept: $keep/seed-$seed.zx (also: $gen $seed)"
    fi
done

echo "differential: seeds $base..$((base + nseeds - 1)): $nseeds programs ($completed completed, $errored ended in a runtime error), $runs runs in $((SECONDS - start)) s, $fails failed"
if ((fails)); then
    echo "differential: failing programs kept in $keep"
fi
((fails == 0))
