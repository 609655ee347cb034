#!/usr/bin/env bash
# run.sh — runs every benchmark in every mode and against its peers; writes the report.
#
# usage: bench/run.sh [--quick] [--runs N] [--out DIR] [--zexus PATH] [--max-workers N] [--keep]
#   --quick          a small subset at small sizes, 3 runs (a smoke test: seconds, not minutes)
#   --runs N         timed runs per row (5); rows that take under ~0.1 s get 4N
#   --out DIR        where benchmarks.md and benchmarks.png go (docs/)
#   --zexus PATH     the zexus-jit executable ($ZEXUS_JIT, else build/zexus-jit)
#   --max-workers N  parallel rows use 1..N workers (4)
#   --keep           keep the work directory (raw timings in results.tsv, the JSON of hyperfine)
#
# Every implementation of a benchmark must print the same checksum; a row that differs, fails
# or times out is marked in the report and makes the exit status 1 (the report is still
# written). Timing uses hyperfine when installed, else a loop over `date +%s%N`.
# Peers: C (gcc -O2; -fopenmp for the parallel programs), LuaJIT, PyPy and CPython, each only
# where installed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

quick=0
runs=5
out=$repo/docs
zx=${ZEXUS_JIT:-$repo/build/zexus-jit}
max_workers=4
keep=0
while (($#)); do
    case $1 in
        --quick) quick=1 ;;
        --runs) runs=${2:?--runs needs a number}; shift ;;
        --runs=*) runs=${1#*=} ;;
        --out) out=${2:?--out needs a directory}; shift ;;
        --out=*) out=${1#*=} ;;
        --zexus) zx=${2:?--zexus needs a path}; shift ;;
        --zexus=*) zx=${1#*=} ;;
        --max-workers) max_workers=${2:?--max-workers needs a number}; shift ;;
        --max-workers=*) max_workers=${1#*=} ;;
        --keep) keep=1 ;;
        -h|--help) sed -n '4,16s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: bad --runs '$runs'" >&2; exit 2; }
[[ $max_workers =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: bad --max-workers '$max_workers'" >&2; exit 2; }
if [[ ! -x $zx ]]; then
    echo "run.sh: no zexus-jit at $zx: build it (scripts/setup.sh build) or pass --zexus PATH" >&2
    exit 2
fi
zx=$(cd "$(dirname "$zx")" && pwd)/$(basename "$zx")
((quick)) && [[ $runs == 5 ]] && runs=3
mkdir -p "$out"
out=$(cd "$out" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/zx-bench.XXXXXX")
cleanup() { if ((keep)); then echo "run.sh: work directory kept: $work" >&2; else rm -rf "$work"; fi; }
trap cleanup EXIT

log() { printf '[bench] %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

ncores=$(nproc)
started=$(date +%s)

# ---- the implementations ----
timer=loop
have hyperfine && timer=hyperfine
cc=${CC_BENCH:-gcc}
have_c=0; have_omp=0
if have "$cc"; then
    mkdir -p "$work/c"
    have_c=1
    for src in "$here"/c/*.c; do
        name=$(basename "$src" .c)
        "$cc" -O2 -Wno-unknown-pragmas -o "$work/c/$name" "$src" || have_c=0
    done
    if echo 'int main(void){return 0;}' | "$cc" -fopenmp -x c -o "$work/c/omp-probe" - 2>/dev/null; then
        have_omp=1
        for src in "$here"/c/*.c; do
            name=$(basename "$src" .c)
            "$cc" -O2 -fopenmp -o "$work/c/$name-omp" "$src" || have_omp=0
        done
    fi
fi
luajit_bin=; have luajit && luajit_bin=$(command -v luajit)
pypy_bin=; have pypy3 && pypy_bin=$(command -v pypy3)
# The real interpreter, not a version manager's shim script (pyenv's costs ~30 ms a start).
cpython_bin=
if have python3; then
    cpython_bin=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || command -v python3)
fi

# ---- the benchmarks: name, program, its arguments, class, what rows it gets ----
# class: tiny (the Phase 6 report's sizes, timed 4x as often), large (about a second).
# flags: par (parallel rows: 1..max workers, OpenMP), auto (the --mode=auto vs --mode=seq rows),
#        ref (only zexus-jit: compared with the reference's own figures).
if ((quick)); then
    max_workers=$((max_workers < 2 ? max_workers : 2))
    benches=(
        "arith-200|arith|200|tiny|par auto"
        "fib-20|fib|20|tiny|"
        "forkjoin-1000|forkjoin|1000|tiny|par"
        "hello|hello||tiny|"
    )
else
    benches=(
        "arith-200|arith|200|tiny|par auto"
        "matmul-20|matmul|20|tiny|auto"
        "floats-100|floats|100|tiny|auto"
        "arith-20M|arith|20000000|large|par"
        "matmul-300|matmul|300|large|"
        "floats-20M|floats|20000000|large|"
        "fib-30|fib|30|large|"
        "pmap-2000x10000|pmap|2000 10000|large|par"
        "manychunks-64x500k|manychunks|500000|large|par"
        "forkjoin-20000|forkjoin|20000|large|par"
        "hello|hello||tiny|"
        "ref-sumsq-1M|sumsq|1000000|large|ref"
        "ref-fib-25|fib|25|large|ref"
        "ref-matmul-60|matmul|60|large|ref"
    )
fi

results=$work/results.tsv
: > "$results"
failures=0

# quantiles TIMES...: prints "median q1 q3" (linear interpolation between order statistics).
quantiles() {
    printf '%s\n' "$@" | sort -g | awk '
        { v[NR] = $1 }
        function q(p,   h, lo) { h = (NR - 1) * p + 1; lo = int(h); return lo >= NR ? v[NR] : v[lo] + (h - lo) * (v[lo + 1] - v[lo]) }
        END { printf "%.6f %.6f %.6f\n", q(0.5), q(0.25), q(0.75) }'
}

# time_cmd N ENV-ASSIGNMENTS... -- CMD...: prints N wall times in seconds, one a line.
time_cmd() {
    local n=$1; shift
    local envs=()
    while [[ $1 != -- ]]; do envs+=("$1"); shift; done
    shift
    if [[ $timer == hyperfine ]]; then
        local json=$work/hf.json quoted=() a
        for a in "$@"; do quoted+=("$(printf '%q' "$a")"); done
        env "${envs[@]}" hyperfine -N --style none --runs "$n" --export-json "$json" -- "${quoted[*]}" >/dev/null 2>&1 ||
            return 1
        tr -d ' \n' < "$json" | sed -n 's/.*"times":\[\([^]]*\)\].*/\1/p' | tr ',' '\n'
    else
        local i t0 t1
        for ((i = 0; i < n; i++)); do
            t0=$(date +%s%N)
            env "${envs[@]}" "$@" >/dev/null 2>&1 || return 1
            t1=$(date +%s%N)
            awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", (b - a) / 1e9 }'
        done
    fi
}

declare -A expect   # bench -> the checksum of its first row

# row BENCH IMPL LABEL WORKERS CLASS ENV-ASSIGNMENTS... -- CMD...
row() {
    local bench=$1 impl=$2 label=$3 workers=$4 class=$5
    shift 5
    local envs=()
    while [[ $1 != -- ]]; do envs+=("$1"); shift; done
    shift
    local n=$runs status=ok sum rc=0 shown
    [[ $class == tiny ]] && n=$((runs * 4))
    shown="${envs[*]}${envs[*]:+ }$*"
    shown=${shown//$zx/zexus-jit}
    shown=${shown//$work\/c\//c\/}
    shown=${shown//$here\//bench\/}
    shown=${shown//$repo\//}
    # One run outside the timing checks the result (and warms the caches).
    local t0 t1
    t0=$(date +%s%N)
    sum=$(env "${envs[@]}" timeout 600 "$@" 2>"$work/stderr" | tail -n 1) || rc=$?
    t1=$(date +%s%N)
    if ((rc != 0)); then
        status="FAILED(exit $rc)"
        log "$bench $label: exit status $rc: $(head -c 300 "$work/stderr")"
    elif [[ -z ${expect[$bench]:-} ]]; then
        expect[$bench]=$sum
    elif [[ $sum != "${expect[$bench]}" ]]; then
        status="MISMATCH"
        log "$bench $label: printed '$sum', expected '${expect[$bench]}'"
    fi
    local q="- - -"
    if [[ $status == ok ]]; then
        local times
        if times=$(time_cmd "$n" "${envs[@]}" -- "$@") && [[ -n $times ]]; then
            # shellcheck disable=SC2086
            q=$(quantiles $times)
        else
            status="FAILED(timing)"
        fi
    fi
    # zexus-jit's own time for the run (--stats=json wall_s: no process start-up, no compiling
    # before the run), as many times again, for the rows that take under 2 s.
    local inner=-
    if [[ $status == ok && $impl == zexus-jit ]] && (((t1 - t0) < 2000000000)); then
        local walls=() i w
        for ((i = 0; i < n; i++)); do
            w=$(env "${envs[@]}" "$1" "$2" --stats=json "${@:3}" 2>&1 >/dev/null |
                sed -n 's/.*"wall_s":\([0-9.]*\).*/\1/p')
            [[ -n $w ]] && walls+=("$w")
        done
        ((${#walls[@]})) && inner=$(quantiles "${walls[@]}" | cut -d' ' -f1)
    fi
    [[ $status == ok ]] || failures=$((failures + 1))
    read -r med q1 q3 <<< "$q"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$bench" "$impl" "$label" "$workers" \
        "$n" "$med" "$q1" "$q3" "${sum:--}" "$status" "$shown" "$inner" >> "$results"
    log "$(printf '%-20s %-10s %-8s %s s (run %s s)' "$bench" "$impl" "$label" "$med" "$inner")"
}

# ---- run ----
log "zexus-jit: $zx; timer: $timer; runs: $runs (4x for tiny rows); workers 1..$max_workers"
for spec in "${benches[@]}"; do
    IFS='|' read -r bench prog pargs class flags <<< "$spec"
    read -r -a av <<< "$pargs"
    zxp=$here/$prog.zx
    if [[ " $flags " == *" ref "* ]]; then
        row "$bench" zexus-jit interp - "$class" -- "$zx" run --jit=off --mode=seq "$zxp" "${av[@]}"
        row "$bench" zexus-jit default - "$class" -- "$zx" run "$zxp" "${av[@]}"
        continue
    fi
    if ((have_c)); then
        row "$bench" C c - "$class" -- "$work/c/$prog" "${av[@]}"
    fi
    row "$bench" zexus-jit interp - "$class" -- "$zx" run --jit=off --mode=seq "$zxp" "${av[@]}"
    row "$bench" zexus-jit jit - "$class" -- "$zx" run --jit=always --mode=seq "$zxp" "${av[@]}"
    row "$bench" zexus-jit default - "$class" -- "$zx" run "$zxp" "${av[@]}"
    if [[ " $flags " == *" par "* ]]; then
        for ((w = 1; w <= max_workers; w++)); do
            row "$bench" zexus-jit "par$w" "$w" "$class" -- "$zx" run --jit=always --mode=par --workers=$w "$zxp" "${av[@]}"
        done
        row "$bench" zexus-jit "ipar$ncores" "$ncores" "$class" -- "$zx" run --jit=off --mode=par --workers=$ncores "$zxp" "${av[@]}"
        if ((have_omp)); then
            for ((w = 1; w <= max_workers; w++)); do
                row "$bench" C "omp$w" "$w" "$class" OMP_NUM_THREADS=$w -- "$work/c/$prog-omp" "${av[@]}"
            done
        fi
    fi
    if [[ " $flags " == *" auto "* ]]; then
        row "$bench" zexus-jit seq - "$class" -- "$zx" run --mode=seq "$zxp" "${av[@]}"
        for ((w = 1; w <= max_workers; w++)); do
            row "$bench" zexus-jit "auto$w" "$w" "$class" -- "$zx" run --mode=auto --workers=$w "$zxp" "${av[@]}"
        done
    fi
    [[ -n $luajit_bin ]] && row "$bench" LuaJIT luajit - "$class" -- "$luajit_bin" "$here/lua/$prog.lua" "${av[@]}"
    [[ -n $pypy_bin ]] && row "$bench" PyPy pypy3 - "$class" -- "$pypy_bin" "$here/py/$prog.py" "${av[@]}"
    [[ -n $cpython_bin ]] && row "$bench" CPython python3 - "$class" -- "$cpython_bin" "$here/py/$prog.py" "${av[@]}"
done

# ---- JIT compile latency: ZEXUS_JIT_LOG=1 names every compiled code object and its time
# (--no-cache: a cached module would be loaded, not compiled) ----
compile_log=$work/compile.log
: > "$compile_log"
for prog in arith matmul floats fib pmap manychunks forkjoin; do
    [[ -f $here/$prog.zx ]] || continue
    for o in -O0 -O2; do
        ZEXUS_JIT_LOG=1 "$zx" run --jit=always --no-cache --mode=seq $o "$here/$prog.zx" 2>&1 >/dev/null |
            sed -n "s/^jit: compiled [^ ]*:\([^ ]*\) (line [0-9]*) at \(-O[0-3]\): \([0-9.]*\) ms.*/$prog \1 \2 \3/p" \
            >> "$compile_log" || true
    done
done

elapsed=$(($(date +%s) - started))
log "measured in ${elapsed} s; writing the report"
export ZX_BENCH_RUNS=$runs ZX_BENCH_QUICK=$quick ZX_BENCH_TIMER=$timer ZX_BENCH_ELAPSED=$elapsed
export ZX_BENCH_NCORES=$ncores ZX_BENCH_MAXW=$max_workers ZX_BENCH_FAILURES=$failures
bash "$here/report.sh" "$results" "$compile_log" "$zx" "$out"
log "wrote $out/benchmarks.md$([[ -f $out/benchmarks.png ]] && echo " and $out/benchmarks.png")"
if ((failures)); then
    log "$failures rows failed or printed a different checksum"
    exit 1
fi
