#!/usr/bin/env bash
# corpus_reference.sh — run every .zx program of a Zexus checkout with the reference's own
# tree-walker (python3 -m zexus run --no-vm, from the program's folder) and keep what it prints,
# so scripts/corpus.sh --compare can tell which programs zexus-jit runs *to the same output*.
# The reference prints a banner of status lines first; everything up to and including its
# "Validating syntax..." line is dropped.  A measurement for people, not a test.
# usage: scripts/corpus_reference.sh CHECKOUT OUTDIR [SECONDS_PER_PROGRAM]
set -uo pipefail
root=$(realpath "${1:?usage: corpus_reference.sh CHECKOUT OUTDIR [SECONDS]}")
out=$(realpath -m "${2:?usage: corpus_reference.sh CHECKOUT OUTDIR [SECONDS]}")
secs=${3:-20}
mkdir -p "$out"
: > "$out/status.tsv"
while IFS= read -r -d '' f; do
    rel=${f#"$root"/}
    key=${rel//\//__}
    (cd "$(dirname "$f")" && PYTHONPATH="$root/src" timeout "$secs" python3 -m zexus run --no-vm \
        "$(basename "$f")" < /dev/null > "$out/$key.raw" 2> "$out/$key.err")
    rc=$?
    # Drop the banner (up to the "Validating syntax" line) when there is one.
    if grep -q 'Validating syntax' "$out/$key.raw"; then
        sed '1,/Validating syntax/d' "$out/$key.raw" > "$out/$key.out"
    else
        cp "$out/$key.raw" "$out/$key.out"
    fi
    rm -f "$out/$key.raw"
    printf '%s\t%s\n' "$rc" "$rel" >> "$out/status.tsv"
done < <(find "$root" -name '*.zx' -not -path '*/.git/*' -print0 | sort -z)
echo "reference: $(awk -F'\t' '$1 == 0' "$out/status.tsv" | wc -l) of $(wc -l < "$out/status.tsv") exit 0 (outputs: $out)"
