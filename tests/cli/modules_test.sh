#!/usr/bin/env bash
# Programs of several files (docs/language.md, "Modules"): run from another working directory,
# found along ZEXUS_PATH, bundled into one .zxbc that runs without its sources, and a damaged
# multi-module .zxbc rejected cleanly (every byte of the payload changed in turn, with the
# checksum made right again so the change reaches the decoder).
set -uo pipefail
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fails=0 passes=0

check() {   # check NAME EXPECTED-STATUS GOT-STATUS [PATTERN FILE]
    local name=$1 want=$2 got=$3
    if [[ $got != "$want" ]]; then
        echo "FAIL $name: exit status $got, want $want"; sed 's/^/    /' err.txt; fails=$((fails + 1)); return
    fi
    if [[ $# -ge 5 ]] && ! grep -qE -- "$4" "$5"; then
        echo "FAIL $name: '$4' not in $5:"; sed 's/^/    /' "$5"; fails=$((fails + 1)); return
    fi
    passes=$((passes + 1))
}

mkdir -p proj/lib proj/sub shared elsewhere
cat > proj/main.zx <<'ZX'
use "./lib/util.zx" as util
use { greet } from "lib/util.zx"
use "common.zx" as common
print(util.double(21), greet("ann"), common.NAME)
print(util.fail_if(false))
ZX
cat > proj/lib/util.zx <<'ZX'
use "../sub/base.zx" as base
export action double(x) { return base.twice(x) }
export action greet(n) { return "hi " + n }
export action fail_if(c) {
    if (c) { return 1 / 0 }
    return "fine"
}
ZX
cat > proj/sub/base.zx <<'ZX'
action twice(x) { return x * 2 }
ZX
cat > shared/common.zx <<'ZX'
let NAME = "common"
ZX
printf '42 hi ann common\nfine\n' > want.txt

# relative to the importing file, whatever the working directory; then along ZEXUS_PATH
(cd elsewhere && ZEXUS_PATH="$work/nothing:$work/shared" "$bin" run ../proj/main.zx > ../out.txt 2> ../err.txt)
check run_elsewhere 0 $?
cmp -s out.txt want.txt || { echo "FAIL run_elsewhere output"; cat out.txt; fails=$((fails + 1)); }
ZEXUS_PATH="$work/shared" "$bin" run "$work/proj/main.zx" > out.txt 2> err.txt; check run_absolute 0 $?
cmp -s out.txt want.txt || { echo "FAIL run_absolute output"; fails=$((fails + 1)); }
(cd proj && ZEXUS_PATH="$work/shared" "$bin" run --jit=strict --mode=par --workers=2 main.zx > ../out.txt 2> ../err.txt)
check run_jit_par 0 $?
cmp -s out.txt want.txt || { echo "FAIL run_jit_par output"; fails=$((fails + 1)); }
(cd proj && env -u ZEXUS_PATH "$bin" run main.zx > ../out.txt 2> ../err.txt)
check no_search_path 2 $? "^main.zx:3:1: error: module 'common.zx' not found" err.txt

# a file that uses itself, directly or through another, is an import cycle
printf 'print(1)\nuse "./loop.zx" as me\n' > loop.zx
"$bin" run loop.zx > out.txt 2> err.txt; check self_cycle 2 $? '^loop.zx:2:1: error: import cycle: loop.zx -> loop.zx$' err.txt
[[ -s out.txt ]] && { echo "FAIL self_cycle printed"; fails=$((fails + 1)); }

# one bundled file: runs anywhere, names each module's file in its errors
(cd proj && ZEXUS_PATH="$work/shared" "$bin" compile main.zx -o ../bundle.zxbc 2> ../err.txt)
check compile_bundle 0 $?
mv bundle.zxbc elsewhere/ && mv proj proj.gone && mv shared shared.gone
(cd elsewhere && "$bin" run bundle.zxbc > ../out.txt 2> ../err.txt); check run_bundle 0 $?
cmp -s out.txt want.txt || { echo "FAIL run_bundle output"; fails=$((fails + 1)); }
"$bin" disasm elsewhere/bundle.zxbc > bundle.zxa 2> err.txt; check disasm_bundle 0 $? '^\.file "lib/util.zx"' bundle.zxa
"$bin" run bundle.zxa > out.txt 2> err.txt; check run_bundle_zxa 0 $?
cmp -s out.txt want.txt || { echo "FAIL run_bundle_zxa output"; fails=$((fails + 1)); }
sed 's/util.fail_if(false)/util.fail_if(true)/' proj.gone/main.zx > proj.gone/main2.zx
(cd proj.gone && ZEXUS_PATH="$work/shared.gone" "$bin" compile main2.zx -o ../fail.zxbc 2> ../err.txt)
check compile_fail_bundle 0 $?
"$bin" run fail.zxbc > out.txt 2> err.txt
check bundle_error_place 1 $? '^lib/util.zx:5:23: runtime error: division by zero' err.txt
grep -q '^  at fail_if (lib/util.zx:5:23)$' err.txt || { echo "FAIL bundle trace"; cat err.txt; fails=$((fails + 1)); }

# a damaged bundle: each payload byte changed in turn (checksum fixed), never a crash
if command -v python3 > /dev/null; then
    python3 - "$bin" elsewhere/bundle.zxbc <<'PY' > damage.txt 2>&1; st=$?
import subprocess, sys, struct
binary, path = sys.argv[1], sys.argv[2]
data = open(path, 'rb').read()
payload = bytearray(data[16:-8])
def fnv(b):
    h = 14695981039346656037
    for x in b:
        h = ((h ^ x) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h
bad = 0
step = max(1, len(payload) // 80)
for i in range(0, len(payload), step):
    for val in (payload[i] ^ 0xFF, payload[i] ^ 0x01):
        p = bytearray(payload)
        p[i] = val
        f = data[:16] + bytes(p) + struct.pack('<Q', fnv(p))
        open('d.zxbc', 'wb').write(f)
        try:   # a changed constant may make a valid program that runs long: not a failure
            r = subprocess.run([binary, 'run', 'd.zxbc'], capture_output=True, timeout=20)
        except subprocess.TimeoutExpired:
            continue
        if r.returncode not in (0, 1, 2) or (r.returncode == 2 and b'error' not in r.stderr):
            print('byte', i, 'value', val, 'status', r.returncode, r.stderr[-300:])
            bad += 1
print('damaged runs: bad', bad)
PY
    check damaged_bundle 0 $st "damaged runs: bad 0" damage.txt || true; [[ $st -ne 0 ]] && cat damage.txt
fi

echo "modules: $passes passed, $fails failed"
[[ $fails -eq 0 ]]
