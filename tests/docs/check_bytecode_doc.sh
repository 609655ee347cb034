#!/usr/bin/env bash
# docs/bytecode.md must document every opcode of src/bytecode/opcodes.h with its number, and no other:
# each OPDEF(NAME, number, ...) row needs a table row "| `NAME` | number | ..." in the doc.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
header=$root/src/bytecode/opcodes.h
doc=$root/docs/bytecode.md
[[ -r $header ]] || { echo "cannot read $header"; exit 1; }
[[ -r $doc ]] || { echo "cannot read $doc"; exit 1; }

# "NAME number" per opcode, from the X-macro rows of the table.
want=$(grep -oE 'OPDEF\([[:space:]]*[A-Z][A-Z0-9_]*[[:space:]]*,[[:space:]]*[0-9]+[[:space:]]*,' "$header" |
       sed -E 's/OPDEF\([[:space:]]*([A-Z0-9_]+)[[:space:]]*,[[:space:]]*([0-9]+).*/\1 \2/' | sort -u)
# "NAME number" per opcode row of the doc: a table row whose first cell is `NAME` and whose
# second cell is a number.
have=$(grep -E '^\|[[:space:]]*`[A-Z][A-Z0-9_]*`[[:space:]]*\|[[:space:]]*[0-9]+[[:space:]]*\|' "$doc" |
       sed -E 's/^\|[[:space:]]*`([A-Z0-9_]+)`[[:space:]]*\|[[:space:]]*([0-9]+).*/\1 \2/' | sort -u)

nwant=$(printf '%s\n' "$want" | grep -c . || true)
if (( nwant < 10 )); then
    echo "found only $nwant OPDEF rows in $header: the extraction is broken"
    exit 1
fi
fails=0
missing=$(comm -23 <(printf '%s\n' "$want") <(printf '%s\n' "$have"))
extra=$(comm -13 <(printf '%s\n' "$want") <(printf '%s\n' "$have"))
if [[ -n $missing ]]; then
    echo "opcodes of src/bytecode/opcodes.h without a row '| \`NAME\` | number |' in docs/bytecode.md:"
    sed 's/^/  /' <<< "$missing"
    fails=1
fi
if [[ -n $extra ]]; then
    echo "rows of docs/bytecode.md for opcodes that src/bytecode/opcodes.h does not define (name, number):"
    sed 's/^/  /' <<< "$extra"
    fails=1
fi
(( fails == 0 )) && echo "docs/bytecode.md documents all $nwant opcodes"
exit $fails
