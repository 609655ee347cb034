#!/usr/bin/env bash
# Sets up zexus-jit on Debian 12: installs the packages, builds, tests, runs the demo.
#
# usage: scripts/setup.sh [COMMAND]
#   (none)    deps + build
#   deps      install the Debian packages that are missing (apt-get update first, only then)
#   build     deps, then configure and build into build/ (RelWithDebInfo, nproc jobs)
#   test      build, then ctest in build/ (every label but bench)
#   demo      build, then run examples/demo.zx in parallel with statistics
#   sanitize  deps, then build into build-asan/ with clang-19 and ASan+UBSan and run the
#             unit, conformance and errors tests there
# Every command is idempotent: run it again and it does only what is left to do.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

# Build, tests, fuzzers (clang, libFuzzer, sanitizer runtimes), profiling (perf), DAG pictures,
# benchmark charts and peers: TOOLCHAIN.md "Packages".
packages=(
    build-essential git pkg-config cmake diffutils
    llvm-19-dev libzstd-dev libtbb-dev libhwloc-dev hwloc-nox
    clang-19 libclang-rt-19-dev libfuzzer-19-dev
    linux-perf graphviz gnuplot-nox hyperfine luajit pypy3
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
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
    log "building $dir ($jobs jobs)"
    cmake --build "$dir" --parallel "$jobs"
}

cmd_build() {
    cmd_deps
    configure_and_build build
}

cmd_test() {
    cmd_build
    log "testing (all labels but bench)"
    ctest --test-dir build --output-on-failure -j2 --label-exclude bench
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
        -DZX_SANITIZE=address,undefined -DZX_TEST_TIMEOUT=900
    log "testing build-asan (labels unit, conformance, errors)"
    # UBSan only reports by default; make every finding fail its test.
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
        ctest --test-dir build-asan --output-on-failure -j2 --label-regex 'unit|conformance|errors'
}

case ${1:-all} in
    all) cmd_build ;;
    deps) cmd_deps ;;
    build) cmd_build ;;
    test) cmd_test ;;
    demo) cmd_demo ;;
    sanitize) cmd_sanitize ;;
    -h|--help|help) sed -n '2,13s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" ;;
    *) echo "setup.sh: unknown command '$1' (deps, build, test, demo, sanitize)" >&2; exit 2 ;;
esac
