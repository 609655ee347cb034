#!/usr/bin/env bash
# Checks that tests/zexus/ is an exact copy of ../shared/zexus/ (the test material the project
# is held to), so that an update there is noticed; skipped where ../shared/zexus is absent.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared="$repo/../shared/zexus"
copy="$repo/tests/zexus"

if [[ ! -d "$shared" ]]; then
    echo "skipped: ../shared/zexus not present"
    exit 0
fi

# diff -r reports both a file that differs and a file present on one side only, so a file
# missing from the copy, a stale extra file and changed contents all fail.
if ! diff -rq "$shared" "$copy"; then
    echo "tests/zexus/ is not an exact copy of ../shared/zexus/; refresh it with:" >&2
    echo "  rm -rf tests/zexus && cp -r ../shared/zexus tests/zexus && chmod -R u+w tests/zexus" >&2
    exit 1
fi
echo "tests/zexus/ is identical to ../shared/zexus/ ($(find "$shared" -type f | wc -l) files)"
