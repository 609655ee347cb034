#!/usr/bin/env bash
# run_api_tests.sh — install the build into a temporary prefix, then build the embedding examples
# and the API tests against the installed header and library only (pkg-config, and a small
# CMake project using find_package(zexus)), and run them.
#
# usage: run_api_tests.sh BUILD_DIR SOURCE_DIR CMAKE C_COMPILER [SANITIZE]
#   SANITIZE: the build's ZX_SANITIZE (e.g. address,undefined); the test programs get it too.
set -uo pipefail
build=$1 src=$2 cmake=$3 cc=$4 sanitize=${5:-}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/zx_api.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# ---- install ----
if ! "$cmake" --install "$build" --prefix "$prefix" > "$tmp/install.log" 2>&1; then
    cat "$tmp/install.log"
    echo "FAIL: cmake --install"
    exit 1
fi
pc=$(find "$prefix" -name zexus.pc | head -n1)
config=$(find "$prefix" -name zexusConfig.cmake | head -n1)
[[ -n $pc ]] || fail "no zexus.pc installed"
[[ -n $config ]] || fail "no zexusConfig.cmake installed"
libdir=$(dirname "$(dirname "$pc")")
for f in "$prefix/include/zexus.h" "$libdir/libzexus.a" "$libdir/libzexus.so" "$libdir/libzexus-jit.so" \
         "$prefix/bin/zexus-jit"; do
    [[ -e $f ]] || fail "not installed: ${f#$prefix/}"
done
headers=$(cd "$prefix/include" && find . -type f | sort | tr '\n' ' ')
[[ $headers == "./zexus.h " ]] && ok "zexus.h is the only header installed" || fail "installed headers: $headers"

# ---- the shared library exports the API of zexus.h and nothing else ----
exported=$(nm -D --defined-only "$libdir/libzexus.so" | awk 'NF >= 3 { print $3 }' | sed 's/@.*//' | sort -u)
declared=$(grep -oE 'ZX_API[^;]*\b(zx_[a-z0-9_]+)\(' "$prefix/include/zexus.h" |
           grep -oE 'zx_[a-z0-9_]+\($' | tr -d '(' | sort -u)
if [[ $exported == "$declared" ]]; then
    ok "libzexus.so exports exactly the $(wc -l <<< "$declared") functions of zexus.h"
else
    fail "exports differ from zexus.h (< exported only, > declared only):"
    diff <(echo "$exported") <(echo "$declared") | grep '^[<>]'
fi

# ---- the CLI is a client of zexus.h and libc alone (and of libedit, for its session) ----
libc_headers='assert|ctype|errno|fcntl|float|inttypes|limits|locale|math|pthread|setjmp|signal|stdarg|stdatomic|stdbool|stddef|stdint|stdio|stdlib|string|strings|time|unistd|wchar|sys/[a-z]+'
cli_files=("$src"/src/cli/*.[ch])
bad_includes=$(grep -hE '^[[:space:]]*#[[:space:]]*include' "${cli_files[@]}" |
               grep -vE "^[[:space:]]*#[[:space:]]*include[[:space:]]*(\"zexus\\.h\"|<zexus\\.h>|\"cli\\.h\"|<histedit\\.h>|<($libc_headers)\\.h>)")
nincludes=$(grep -hcE '^[[:space:]]*#[[:space:]]*include' "$src/src/cli/main.c")
if [[ -z $bad_includes && $nincludes -gt 0 ]]; then
    ok "src/cli includes only zexus.h, its own cli.h, libedit's histedit.h and libc headers"
else
    fail "src/cli includes more than zexus.h, cli.h, histedit.h and libc: $bad_includes"
fi

# ---- the installed CLI finds the installed JIT module ----
printf 'action sq(x) { return x * x }\nprint(sq(7))\n' > "$tmp/hello.zx"
out=$(env -u ZEXUS_JIT_MODULE "$prefix/bin/zexus-jit" run --jit=strict "$tmp/hello.zx" 2>&1)
[[ $out == 49 ]] && ok "installed zexus-jit run --jit=strict" || fail "installed zexus-jit --jit=strict: $out"

# ---- build with pkg-config ----
export PKG_CONFIG_PATH=$(dirname "$pc")
flags=(-std=c11 -g -O1 -Wall -Wextra -Werror -Wstrict-prototypes)
san_flags=()
[[ -n $sanitize ]] && san_flags=(-fsanitize="$sanitize" -fno-omit-frame-pointer)
read -r -a pc_cflags <<< "$(pkg-config --cflags zexus)"
read -r -a pc_libs <<< "$(pkg-config --libs zexus)"
[[ ${pc_libs[*]} == *-lzexus* ]] || fail "pkg-config --libs zexus: ${pc_libs[*]}"
programs=("$src"/examples/*.c "$src"/tests/api/test_*.c)
mkdir -p "$tmp/pc"
for c in "${programs[@]}"; do
    name=$(basename "$c" .c)
    if ! "$cc" "${flags[@]}" "${san_flags[@]}" "${pc_cflags[@]}" -I"$src/tests/api" "$c" -o "$tmp/pc/$name" \
            "${pc_libs[@]}" -Wl,-rpath,"$libdir" -lm -lpthread 2> "$tmp/pc/$name.log"; then
        cat "$tmp/pc/$name.log"
        fail "build $name with pkg-config"
    fi
done
ok "built ${#programs[@]} programs with pkg-config"

# ---- build with find_package(zexus) ----
mkdir -p "$tmp/consumer"
cat > "$tmp/consumer/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.16)
project(zexus_consumer C)
find_package(zexus 0.1 REQUIRED)
add_executable(embed_call_loop "$src/examples/embed_call_loop.c")
target_link_libraries(embed_call_loop PRIVATE zexus::zexus)
add_executable(embed_host_pure "$src/examples/embed_host_pure.c")
target_link_libraries(embed_host_pure PRIVATE zexus::zexus m)
if(NOT TARGET zexus::zexus_static)
  message(FATAL_ERROR "find_package(zexus) gave no zexus::zexus_static")
endif()
add_executable(embed_output_static "$src/examples/embed_output.c")
target_link_libraries(embed_output_static PRIVATE zexus::zexus_static)
EOF
if "$cmake" -S "$tmp/consumer" -B "$tmp/consumer/build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
        -DCMAKE_C_FLAGS="${san_flags[*]}" -DCMAKE_EXE_LINKER_FLAGS="${san_flags[*]}" > "$tmp/consumer.log" 2>&1 &&
   "$cmake" --build "$tmp/consumer/build" >> "$tmp/consumer.log" 2>&1; then
    ok "built a CMake project with find_package(zexus): zexus::zexus and zexus::zexus_static"
else
    cat "$tmp/consumer.log"
    fail "the find_package(zexus) project"
fi

# ---- run: examples with their expected output, then the API tests ----
# The installed library's programs compile into a cache of their own, empty at the start:
# the build tree's shared test cache is written and evicted by every other test running
# beside this one, and test_api_memory alone adds a thousand entries.
export XDG_CACHE_HOME="$tmp/cache"
mkdir -p "$XDG_CACHE_HOME"
expect() {   # expect NAME BINARY PATTERN...: runs BINARY, every PATTERN must be a line of its output
    local name=$1 bin=$2
    shift 2
    [[ -x $bin ]] || { fail "$name: not built"; return; }
    local out
    out=$("$bin" 2>&1)
    local rc=$?
    (( rc == 0 )) || { echo "$out"; fail "$name exited with $rc"; return; }
    for want in "$@"; do
        grep -qxF -- "$want" <<< "$out" || { echo "$out"; fail "$name: no line '$want'"; return; }
    done
    ok "$name"
}
for dir in pc consumer/build; do
    expect "$dir/embed_call_loop" "$tmp/$dir/embed_call_loop" "after 10: mean 38" \
        "history (10): [1, 4, 9, 16, 25, 36, 49, 64, 81, 100]" "mean 38.5 of 10"
    expect "$dir/embed_host_pure" "$tmp/$dir/embed_host_pure" \
        "longest chain below 10001 starts at 6171 with 261 steps" "[5.0, 13.0, 17.0]" \
        "parallel_maps that ran in parallel: 2"
done
for bin in "$tmp/pc/embed_output" "$tmp/consumer/build/embed_output_static"; do
    expect "${bin#$tmp/}" "$bin" "fib(20) = 6765" "squares: [1, 4, 9, 16, 25]" "args: [one, two]"
done
expect pc/embed_interrupt "$tmp/pc/embed_interrupt" "run: interrupted" "the loop ran a while"
for t in "$tmp"/pc/test_*; do
    [[ $t == *.log ]] && continue
    name=$(basename "$t")
    args=()
    [[ -n $sanitize && $name == test_api_memory ]] && args=(--sanitized)
    if "$t" "${args[@]}"; then ok "$name"; else fail "$name"; fi
done

if (( fails )); then
    echo "$fails failure(s)"
    exit 1
fi
echo "all API tests passed"
