#!/usr/bin/env bash
# Sets up zexus-jit on Debian 12: installs the packages, builds, tests, runs the demo.
#
# usage: scripts/setup.sh [COMMAND]
#   (none)    deps + build
#   deps      install the Debian packages that are missing (apt-get update first, only then)
#   build     deps, then configure and build into build/ (RelWithDebInfo, nproc jobs)
#   check     build, then ctest in build/ (every label but bench)
#   sanitize  deps, then build into build-asan/ with clang-19, ASan+UBSan and the libFuzzer
#             targets, and run the unit, conformance, errors and fuzz tests there
#   tsan      deps, then build into build-tsan/ with clang-19 and TSan, and run the tests that
#             use threads (interpreter only: JIT-compiled code is not instrumented)
#   test      check, sanitize and tsan, one after the other, with the time each took: what
#             CI runs (.ci/run)
#   demo      build, then run examples/demo.zx in parallel with statistics
# Every command is idempotent: run it again and it does only what is left to do.  ccache, when
# installed, caches compilations across build folders and runs.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

# Build, tests, fuzzers (clang, libFuzzer, sanitizer runtimes), profiling (perf), DAG pictures,
# benchmark charts and peers: TOOLCHAIN.md "Packages".
packages=(
    build-essential git pkg-config cmake diffutils libedit-dev
    llvm-19-dev libzstd-dev libtbb-dev libhwloc-dev hwloc-nox
    clang-19 libclang-rt-19-dev libfuzzer-19-dev
    linux-perf graphviz gnuplot-nox hyperfine luajit pypy3 ccache
    lua5.4 nodejs
    libjson-c-dev libssl-dev
    libopenmpi-dev openmpi-bin
)

jobs=$(nproc)

log() { printf '==> %s\n' "$*" >&2; }

as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "setup.sh: need root (or sudo) to run: $*" >&2
        exit 1
    fi
}

cmd_deps() {
    local missing=() p
    for p in "${packages[@]}"; do
        if [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) != installed ]]; then
            missing+=("$p")
        fi
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        log "packages: all ${#packages[@]} installed"
        return
    fi
    log "installing: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" </dev/null
}

# configure_and_build DIR [CMAKE-ARGS...]
configure_and_build() {
    local dir=$1
    shift
    log "configuring $dir"
    local launcher=()
    if command -v ccache >/dev/null 2>&1; then
        launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    fi
    # every configuration is warnings-clean, and CI keeps it so
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZX_WERROR=ON "${launcher[@]}" "$@"
    log "building $dir ($jobs jobs)"
    cmake --build "$dir" --parallel "$jobs"
}

cmd_build() {
    cmd_deps
    configure_and_build build
}

cmd_check() {
    cmd_build
    log "testing build (all labels but bench)"
    ctest --test-dir build --output-on-failure -j"$jobs" --label-exclude '^bench$'
}

# timed COMMAND: runs `setup.sh COMMAND` in a new shell (so that `set -e` holds inside it),
# logs how long it took, and remembers it for the summary.
timings=()
timed() {
    local t0=$SECONDS rc=0
    bash "${BASH_SOURCE[0]}" "$1" || rc=$?
    timings+=("$(printf '%-9s %4d s  %s' "$1" $((SECONDS - t0)) "$([[ $rc == 0 ]] && echo ok || echo "FAILED ($rc)")")")
    return $rc
}

# Every configuration runs even when an earlier one failed; the status says whether all passed.
cmd_test() {
    local failed=0
    timed check || failed=1
    timed sanitize || failed=1
    timed tsan || failed=1
    log "summary (total ${SECONDS} s):"
    printf '    %s\n' "${timings[@]}" >&2
    return $failed
}

cmd_demo() {
    cmd_build
    log "zexus-jit run --mode=par --stats examples/demo.zx"
    build/zexus-jit run --mode=par --stats examples/demo.zx
}

cmd_sanitize() {
    cmd_deps
    # The compiler is fixed when build-asan/ is first configured; these flags agree with it.
    configure_and_build build-asan -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
        -DZX_SANITIZE=address,undefined -DZX_TEST_TIMEOUT=900 -DZX_FUZZ=ON -DZX_FUZZ_SECONDS=60
    log "testing build-asan (labels unit, conformance, errors, diff, fuzz, api)"
    # UBSan only reports by default; make every finding fail its test.
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
        ctest --test-dir build-asan --output-on-failure -j"$jobs" --label-regex '^(unit|conformance|errors|diff|fuzz|api)$'
}

# The tests that run threads: every program in the parallel modes (par1..par8 use --jit=off),
# the runtime's decisions and placement, the seeded scheduler (--jit=off under TSan), and the
# scheduler's, topology's and partitions' unit tests.
tsan_tests='\.par[0-9]+\.|^parallel\.|^reliability\.seeds$|^unit\.test_(sched|topology|partition)$'

cmd_tsan() {
    cmd_deps
    configure_and_build build-tsan -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
        -DZX_SANITIZE=thread -DZX_TEST_TIMEOUT=900
    log "testing build-tsan (the tests that use threads, --jit=off)"
    # oneTBB is not instrumented: tests/tsan.supp explains the suppressions, and
    # tests/tsan-symbolizer why the symbolizer's stderr is dropped.
    TSAN_OPTIONS=${TSAN_OPTIONS:-suppressions=$repo/tests/tsan.supp:history_size=7:halt_on_error=1:second_deadlock_stack=1:external_symbolizer_path=$repo/tests/tsan-symbolizer/llvm-symbolizer} \
        ctest --test-dir build-tsan --output-on-failure -j"$jobs" --tests-regex "$tsan_tests"
}

case ${1:-all} in
    all) cmd_build ;;
    deps) cmd_deps ;;
    build) cmd_build ;;
    check) cmd_check ;;
    test) cmd_test ;;
    demo) cmd_demo ;;
    sanitize) cmd_sanitize ;;
    tsan) cmd_tsan ;;
    -h|--help|help) sed -n '2,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" ;;
    *) echo "setup.sh: unknown command '$1' (deps, build, check, test, demo, sanitize, tsan)" >&2; exit 2 ;;
esac
