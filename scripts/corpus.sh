#!/usr/bin/env bash
# corpus.sh — run every .zx program of a Zexus checkout (e.g. the reference repository,
# Zaidux/zexus-interpreter) with zexus-jit, each from its own folder, and summarise: how many
# exit 0, and the most common first errors.  A measurement for people, not a test.
# With --compare REFOUT (outputs kept by scripts/corpus_reference.sh) it also counts the programs
# whose stdout is exactly the reference's, and lists those that exit 0 with another output.
# usage: scripts/corpus.sh [--compare REFOUT] ZEXUS_JIT CHECKOUT [OUTDIR] [-- extra run options]
set -uo pipefail
refout=
if [[ ${1:-} == --compare ]]; then refout=$(realpath "${2:?--compare needs a folder}"); shift 2; fi
bin=$(realpath "${1:?usage: corpus.sh ZEXUS_JIT CHECKOUT [OUTDIR]}")
root=$(realpath "${2:?usage: corpus.sh ZEXUS_JIT CHECKOUT [OUTDIR]}")
out=${3:-$(mktemp -d)}
shift 3 2>/dev/null || shift $#
[[ ${1:-} == -- ]] && shift
mkdir -p "$out"
: > "$out/results.tsv"
n=0 okn=0
while IFS= read -r -d '' f; do
    n=$((n + 1))
    dir=$(dirname "$f") name=$(basename "$f")
    rel=${f#"$root"/}
    log="$out/logs/${rel//\//__}"
    mkdir -p "$out/logs"
    (cd "$dir" && timeout 10 "$bin" run "$@" "$name" < /dev/null > "$log.out" 2> "$log.err")
    rc=$?
    ((rc == 0)) && okn=$((okn + 1))
    first=$(grep -m1 -E 'error' "$log.err" | sed -E 's/^[^ ]*:[0-9]+:[0-9]+: //' | cut -c1-100)
    same=-
    if [[ -n $refout && -f "$refout/${rel//\//__}.out" ]]; then
        cmp -s "$log.out" "$refout/${rel//\//__}.out" && same=same || same=differs
    fi
    printf '%s\t%s\t%s\t%s\n' "$rc" "$rel" "$first" "$same" >> "$out/results.tsv"
done < <(find "$root" -name '*.zx' -not -path '*/.git/*' -print0 | sort -z)
echo "corpus: $okn of $n programs exit 0 (results: $out/results.tsv)"
if [[ -n $refout ]]; then
    echo "same stdout as the reference: $(awk -F'\t' '$4 == "same"' "$out/results.tsv" | wc -l)" \
         "(exit 0 and same: $(awk -F'\t' '$1 == 0 && $4 == "same"' "$out/results.tsv" | wc -l))"
    echo "exit 0 but another stdout than the reference:"
    awk -F'\t' '$1 == 0 && $4 == "differs" {print "  " $2}' "$out/results.tsv"
fi
echo "exit statuses:"; cut -f1 "$out/results.tsv" | sort | uniq -c | sort -rn
echo "most common first errors:"
awk -F'\t' '$1 != 0 {print $3}' "$out/results.tsv" | sed -E "s/'[^']*'/'…'/g" | sort | uniq -c | sort -rn | head -25
