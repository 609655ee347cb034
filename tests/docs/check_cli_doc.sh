#!/usr/bin/env bash
# docs/cli.md must mention every option that `zexus-jit --help` prints, as a whole word, outside
# its code blocks (so a pasted copy of the help text does not count as describing an option).
# usage: check_cli_doc.sh ZEXUS_JIT_BINARY [DOC]
set -euo pipefail
bin=${1:?usage: check_cli_doc.sh ZEXUS_JIT_BINARY [DOC]}
doc=${2:-$(cd "$(dirname "$0")/../.." && pwd)/docs/cli.md}
[[ -r $doc ]] || { echo "cannot read $doc"; exit 1; }

prose=$(awk '/^[[:space:]]*```/ { code = !code; next } !code' "$doc")
help=$("$bin" --help) || { echo "'$bin --help' failed"; exit 1; }
# Every token that starts with - or -- after a non-word character: --mode, -O0, -o, --help ...
opts=$(printf '%s\n' "$help" | grep -oE '(^|[^A-Za-z0-9-])--?[A-Za-z][A-Za-z0-9-]*' |
       sed -E 's/^[^-]*//' | sort -u)
nopts=$(printf '%s\n' "$opts" | grep -c . || true)
if (( nopts < 10 )); then
    echo "found only $nopts options in the output of '$bin --help': the extraction is broken"
    printf '%s\n' "$help"
    exit 1
fi
missing=()
for opt in $opts; do
    grep -qE -- "(^|[^A-Za-z0-9-])${opt}([^A-Za-z0-9-]|\$)" <<< "$prose" || missing+=("$opt")
done
if (( ${#missing[@]} )); then
    echo "options printed by 'zexus-jit --help' but not mentioned in $doc (outside code blocks):"
    printf '  %s\n' "${missing[@]}"
    exit 1
fi
echo "$doc mentions all $nopts options of zexus-jit --help"
