#!/usr/bin/env bash
# Runs one Zexus program under zexus-jit and checks what a user would see: stdout byte for
# byte, the exit status, and stderr.
#
# usage: run_program.sh [RUN-OPTIONS...] ZEXUS_BIN PROGRAM.zx EXPECTED.out [ARGS...]
#
#   RUN-OPTIONS  leading arguments that start with '-' (e.g. --jit=off --mode=par --workers=2);
#                they go to `zexus-jit run` before the program. Use the --name=value form.
#   ZEXUS_BIN    the zexus-jit executable.
#   PROGRAM.zx   passed to zexus-jit exactly as given (diagnostics name the file by this path,
#                so run from the directory that makes it the path the .err file expects).
#   EXPECTED.out the exact expected stdout. Beside it, with the same base name:
#                  EXPECTED.status  expected exit status (one integer); absent: 0
#                  EXPECTED.err     exact expected stderr; absent: stderr must be empty
#                  EXPECTED.args    program arguments, one per line; used when no ARGS given
#   ARGS         arguments of the program (its `args` list).
#
# Runs `ZEXUS_BIN run RUN-OPTIONS... PROGRAM.zx ARGS...` with stdin from /dev/null, killed
# after $ZX_RUN_TIMEOUT seconds (default 300). On any mismatch it prints the command, a unified
# diff of each stream that differs, and exits 1. Needs only bash, coreutils and diff.
set -uo pipefail

usage() {
    echo "usage: run_program.sh [RUN-OPTIONS...] ZEXUS_BIN PROGRAM.zx EXPECTED.out [ARGS...]" >&2
    exit 2
}

opts=()
while [[ $# -gt 0 && $1 == -* ]]; do
    opts+=("$1")
    shift
done
[[ $# -ge 3 ]] || usage
bin=$1 program=$2 expected_out=$3
shift 3
prog_args=("$@")

base=${expected_out%.out}
[[ -x $bin ]] || { echo "run_program.sh: $bin: not an executable (is zexus-jit built?)" >&2; exit 1; }
[[ -f $program ]] || { echo "run_program.sh: $program: no such file (cwd $PWD)" >&2; exit 1; }
[[ -f $expected_out ]] || { echo "run_program.sh: $expected_out: no such file" >&2; exit 1; }

if [[ ${#prog_args[@]} -eq 0 && -f $base.args ]]; then
    mapfile -t prog_args <"$base.args"
fi

expected_status=0
if [[ -f $base.status ]]; then
    read -r expected_status <"$base.status" || true
    [[ $expected_status =~ ^[0-9]+$ ]] || { echo "run_program.sh: $base.status: not an integer" >&2; exit 1; }
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/zx-run.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

limit=${ZX_RUN_TIMEOUT:-300}
timeout -k 5 "$limit" "$bin" run "${opts[@]}" "$program" "${prog_args[@]}" \
    </dev/null >"$tmp/stdout" 2>"$tmp/stderr"
status=$?

failed=0
report_header() {
    if [[ $failed -eq 0 ]]; then
        printf 'FAIL: (cd %q &&' "$PWD"
        printf ' %q' "$bin" run "${opts[@]}" "$program" "${prog_args[@]}"
        printf ')\n'
    fi
    failed=1
}

if ! cmp -s "$expected_out" "$tmp/stdout"; then
    report_header
    echo "--- stdout differs from $expected_out:"
    diff -u --label "expected stdout" --label "actual stdout" "$expected_out" "$tmp/stdout"
fi

if [[ $status -ne $expected_status ]]; then
    report_header
    if [[ $status -eq 124 || $status -eq 137 ]]; then
        echo "--- killed after ${limit}s (exit status $status), expected $expected_status"
    else
        echo "--- exit status $status, expected $expected_status"
    fi
fi

if [[ -f $base.err ]]; then
    if ! cmp -s "$base.err" "$tmp/stderr"; then
        report_header
        echo "--- stderr differs from $base.err:"
        diff -u --label "expected stderr" --label "actual stderr" "$base.err" "$tmp/stderr"
    fi
elif [[ -s $tmp/stderr ]]; then
    report_header
    echo "--- stderr should be empty (no $base.err), but was:"
    cat "$tmp/stderr"
fi

exit "$failed"
