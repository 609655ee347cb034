#!/usr/bin/env bash
# make_corpus.sh — builds the fuzz seed corpora from Zexus programs with the zexus-jit CLI.
# usage: make_corpus.sh ZEXUS_JIT OUT_DIR PROGRAM.zx...
# OUT_DIR/fuzz_source: the programs; fuzz_zxa: `zexus-jit disasm` of each; fuzz_zxbc: `zexus-jit
# compile` of each, whole and as the bare payload (fuzz_zxbc wraps its input in a header and a
# checksum, so payloads are what reach the decoder).  Programs that do not compile (the syntax
# error tests) are seeds for fuzz_source only.
set -euo pipefail
bin=${1:?usage: make_corpus.sh ZEXUS_JIT OUT_DIR PROGRAM.zx...}
out=${2:?}
shift 2
rm -rf "$out"
mkdir -p "$out/fuzz_source" "$out/fuzz_zxa" "$out/fuzz_zxbc"
for zx in "$@"; do
    # a name unique across folders: parent folder + file name
    name=$(basename "$(dirname "$zx")")_$(basename "$zx" .zx)
    cp "$zx" "$out/fuzz_source/$name.zx"
    "$bin" disasm "$zx" > "$out/fuzz_zxa/$name.zxa" 2>/dev/null || rm -f "$out/fuzz_zxa/$name.zxa"
    if "$bin" compile "$zx" -o "$out/fuzz_zxbc/$name.zxbc" 2>/dev/null; then
        size=$(stat -c %s "$out/fuzz_zxbc/$name.zxbc")
        # header: magic, version, flags, payload length (16 bytes); trailer: checksum (8 bytes)
        # (dd, not tail | head: head may exit before tail has written the trailer, and tail's
        # SIGPIPE then fails the script under pipefail, now and then)
        dd if="$out/fuzz_zxbc/$name.zxbc" of="$out/fuzz_zxbc/$name.payload" iflag=skip_bytes,count_bytes \
            skip=16 count=$((size - 24)) status=none
    else
        rm -f "$out/fuzz_zxbc/$name.zxbc"
    fi
done
touch "$out/stamp"
echo "fuzz corpora: $(ls "$out/fuzz_source" | wc -l) sources, $(ls "$out/fuzz_zxa" | wc -l) .zxa," \
     "$(ls "$out/fuzz_zxbc" | wc -l) .zxbc files and payloads"
