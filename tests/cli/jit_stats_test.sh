#!/usr/bin/env bash
# The JIT part of --stats (docs/cli.md#statistics): under --jit=always, --stats=json is valid
# JSON whose "jit" object lists every code object of the program, compiled, with its place and
# compile figures; --jit=off lists them interpreted; --jit=auto compiles the hot action only,
# and a run that ends within the warm-up never loads the JIT module;
# a JIT module that cannot be loaded is named; the text form has a JIT summary.
# usage: jit_stats_test.sh ZEXUS_JIT_BINARY
set -uo pipefail
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0 passes=0
ok() { passes=$((passes + 1)); }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

cat > "$work/st.zx" <<'EOF'
action hot(k) {
    let s = 0
    let i = 0
    while (i < k) {
        s += i % 7
        i += 1
    }
    return s
}
action cold(x) {
    return x + 1
}
let inc = (x) => x + 1
print(hot(int(args[0])), cold(1), inc(2))
EOF
cd "$work"

# check NAME MODE EXPRESSION: EXPRESSION (python, over j = the "jit" object) holds for the
# --stats=json of a run under --jit=MODE
check() {
    local name=$1 mode=$2 expr=$3
    if python3 - "$work/$mode.json" "$expr" <<'EOF'; then ok; else bad "$name: $expr does not hold:"; cat "$work/$mode.json"; fi
import json, sys
j = json.load(open(sys.argv[1]))["jit"]
code = {c["name"]: c for c in j["code"]}
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)
EOF
}

for mode in always off auto; do
    "$bin" run --jit=$mode --stats=json st.zx 3000000 > out.txt 2> $mode.json
    [[ $? -eq 0 && $(cat out.txt) == "8999994 2 3" ]] && ok || bad "--jit=$mode: run failed: $(cat out.txt $mode.json)"
    python3 -m json.tool $mode.json > /dev/null && ok || bad "--jit=$mode: --stats=json is not valid JSON: $(cat $mode.json)"
done

check listed always 'sorted(code) == ["<lambda>", "<main>", "cold", "hot"] and j["code_objects"] == 4'
check all_compiled always 'all(c["tier"] == "compiled" for c in j["code"]) and j["compiled"] == 4'
check figures always 'all(c["compile_ms"] >= 0 and c["entries"] >= 1 and c["helper_ops"] >= 0 for c in j["code"])'
check places always 'code["hot"]["file"] == "st.zx" and code["hot"]["line"] == 1 and code["hot"]["kind"] == "action"
                     and code["cold"]["line"] == 10 and code["<lambda>"]["kind"] == "lambda"
                     and code["<main>"]["kind"] == "top level" and code["<main>"]["index"] == 0'
check totals always 'j["mode"] == "always" and j["module"]["loaded"] and j["module"]["error"] is None
                     and j["module"]["load_ms"] > 0 and j["compiles"] >= 1 and j["compile_ms"] > 0'
check no_exits always 'j["side_exits"] == 0 and all(c["side_exits"] == [] for c in j["code"])'
check off off 'j["mode"] == "off" and not j["module"]["loaded"] and j["compiled"] == 0
               and all(c["tier"] == "interpreted" for c in j["code"])'
# auto: the loop of hot() passes the threshold and stays hot past the warm-up (compiled, or
# still queued when the compiler is slow); cold() and the lambda run once and stay cold
check auto_hot auto 'code["hot"]["tier"] in ("queued", "compiled") and code["cold"]["tier"] == "interpreted"
                     and code["<lambda>"]["tier"] == "interpreted" and j["module"]["loaded"]'
# auto, a quick run (5000 iterations: well under the 20 ms warm-up): hot, but LLVM never loads
"$bin" run --jit=auto --stats=json st.zx 5000 > out.txt 2> quick.json
[[ $? -eq 0 && $(cat out.txt) == "14995 2 3" ]] && ok || bad "quick auto run failed: $(cat out.txt quick.json)"
check quick_auto quick 'not j["module"]["loaded"] and j["compiles"] == 0 and code["hot"]["tier"] == "interpreted"'

# a JIT module that cannot be loaded: --jit=always interprets everything and says why
ZEXUS_JIT_MODULE=$work/none.so "$bin" run --jit=always --stats=json st.zx 5000 > out.txt 2> nomodule.json
[[ $? -eq 0 && $(cat out.txt) == "14995 2 3" ]] && ok || bad "no module: run failed: $(cat out.txt nomodule.json)"
check no_module nomodule 'not j["module"]["loaded"] and "cannot load the JIT module" in j["module"]["error"]
                          and j["interpreted"] == 4 and j["compiled"] == 0'

"$bin" run --jit=always --stats st.zx 5000 > /dev/null 2> text.txt
grep -qE '^jit: always at -O2, module loaded in [0-9.]+ ms \(dlopen [0-9.]+ ms, LLJIT [0-9.]+ ms\)$' text.txt \
    && ok || bad "text: no JIT header line: $(cat text.txt)"
grep -qE '^  4 code objects: 4 compiled, 0 queued, 0 failed, 0 interpreted; [0-9]+ modules? compiled in [0-9.]+ ms; 0 side exits$' \
    text.txt && ok || bad "text: no JIT summary line: $(cat text.txt)"

# calls of a small pure action with proven int arguments get its body inline (jit/lower.c,
# emit_inline_call): counted per caller; a call whose argument may be anything is not
cat > "$work/inl.zx" <<'EOF'
action a(i, j) {
    let ij = i + j
    return 1.0 / ((ij * (ij + 1)) / 2 + i + 1)
}
action rows(n) {
    let s = 0.0
    let i = 0
    while (i < n) {
        s = s + a(i, 1)
        i = i + 1
    }
    return s
}
action any(x) { return a(x, 2) }
print(rows(100), any(3), any(0.5))
EOF
"$bin" run --jit=always --no-cache --stats=json inl.zx > out.txt 2> inl.json
[[ $? -eq 0 && $(cat out.txt) == "1.202613122534412 0.05263157894736842 0.1702127659574468" ]] && ok || bad "inlined calls: run failed: $(cat out.txt inl.json)"
check inlined inl 'code["rows"]["inlined"] == 1 and code["any"]["inlined"] == 0 and code["a"]["inlined"] == 0
                   and code["<main>"]["inlined"] == 0'
"$bin" run --jit=always --no-cache --stats inl.zx > /dev/null 2> inl.txt
grep -qE "^  1 call with the callee's body inline \(small pure actions\)$" inl.txt && ok ||
    bad "text: no line on inlined calls: $(cat inl.txt)"
grep -q "body inline" text.txt && bad "text: inlined calls where none are: $(cat text.txt)" || ok

echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
