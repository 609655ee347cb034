#!/usr/bin/env bash
# The ways to give zexus-jit a program (docs/cli.md, "Giving the program"): FILE without `run`,
# -e CODE, `run -` (standard input), `run -e`, a #! first line, no arguments with standard
# input not a terminal, and `repl` reading standard input; each with its messages' places
# and exit statuses.
set -uo pipefail
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export XDG_CACHE_HOME=$work/cache ZEXUS_HISTORY=
fails=0 passes=0

check() {   # check NAME EXPECTED-STATUS GOT-STATUS [PATTERN FILE]
    local name=$1 want=$2 got=$3
    if [[ $got != "$want" ]]; then
        echo "FAIL $name: exit status $got, want $want"; sed 's/^/    /' err.txt 2>/dev/null
        fails=$((fails + 1)); return
    fi
    if [[ $# -ge 5 ]] && ! grep -qE -- "$4" "$5"; then
        echo "FAIL $name: '$4' not in $5:"; sed 's/^/    /' "$5"; fails=$((fails + 1)); return
    fi
    passes=$((passes + 1))
}
same() {    # same NAME FILE EXPECTED-TEXT
    if [[ $(cat "$2") != "$3" ]]; then
        echo "FAIL $1: $2 is"; sed 's/^/    /' "$2"; echo "  want"; printf '%s\n' "$3" | sed 's/^/    /'
        fails=$((fails + 1)); return
    fi
    passes=$((passes + 1))
}

printf 'print("hi", args)\n' > hello.zx
printf 'let a = 1\nprint(a / 0)\n' > oops.zx
printf 'let a = (\n' > bad.zx
mkdir sub && cp hello.zx sub/script

# FILE without `run`: a name ending in .zx, or an existing file, or a path with a '/'
"$bin" hello.zx x y > out.txt 2> err.txt; check file_zx 0 $?; same file_zx out.txt 'hi [x, y]'
"$bin" sub/script > out.txt 2> err.txt; check file_path 0 $?; same file_path out.txt 'hi []'
cp hello.zx plain; "$bin" plain > out.txt 2> err.txt; check file_existing 0 $?; same file_existing out.txt 'hi []'
"$bin" oops.zx > out.txt 2> err.txt; check file_runtime_error 1 $? '^oops.zx:2:9: runtime error: division by zero' err.txt
"$bin" bad.zx > out.txt 2> err.txt; check file_syntax_error 2 $? '^bad.zx:2:1: error: ' err.txt
"$bin" nothere.zx > out.txt 2> err.txt; check file_missing 2 $? '^nothere.zx: error: cannot open file' err.txt
"$bin" frobnicate > out.txt 2> err.txt; check not_a_file 2 $? "^zexus-jit: unknown command 'frobnicate'" err.txt
# options first, then FILE; after FILE everything is the program's
"$bin" --mode=par --workers=2 hello.zx --jit=off > out.txt 2> err.txt; check options_first 0 $?
same options_first out.txt 'hi [--jit=off]'
"$bin" --bogus hello.zx > out.txt 2> err.txt; check bad_option 2 $? "unknown option '--bogus'" err.txt

# -e CODE, with and without run, with options and ARGS
"$bin" -e 'print(6 * 7)' > out.txt 2> err.txt; check e 0 $?; same e out.txt 42
"$bin" run -e 'print(args)' a b > out.txt 2> err.txt; check run_e 0 $?; same run_e out.txt '[a, b]'
"$bin" --jit=strict -O0 -e 'print(args)' 1 > out.txt 2> err.txt; check e_options 0 $?; same e_options out.txt '[1]'
"$bin" -e 'let x = 1 / 0' > out.txt 2> err.txt; check e_runtime 1 $? '^<string>:1:11: runtime error: division by zero' err.txt
"$bin" run -e 'print(1 +)' > out.txt 2> err.txt; check e_syntax 2 $? '^<string>:1:10: error: ' err.txt
"$bin" -e > out.txt 2> err.txt; check e_missing 2 $? "^zexus-jit: -e needs the program's code" err.txt
"$bin" run hello.zx -e 'x' > out.txt 2> err.txt; check e_after_file 0 $?; same e_after_file out.txt 'hi [-e, x]'
"$bin" disasm -e 'print(1)' > out.txt 2> err.txt; check disasm_e 0 $? '^\.source "<string>"' out.txt
"$bin" repl -e 'print(1)' > out.txt 2> err.txt; check repl_e 2 $? "unexpected argument '-e'" err.txt

# run - : the program from standard input
printf 'print("in", args)\n' | "$bin" run - p q > out.txt 2> err.txt; check run_stdin 0 $?; same run_stdin out.txt 'in [p, q]'
printf 'print(1)\nprint(undefined_name)\n' | "$bin" run - > out.txt 2> err.txt
check stdin_runtime 1 $? "^<stdin>:2:7: runtime error: undefined variable 'undefined_name'" err.txt
printf 'print(1' | "$bin" run - > out.txt 2> err.txt; check stdin_syntax 2 $? '^<stdin>:1:8: error: ' err.txt
"$bin" compile hello.zx -o hello.zxbc 2> err.txt; check compile 0 $?
"$bin" run - x < hello.zxbc > out.txt 2> err.txt; check stdin_zxbc 0 $?; same stdin_zxbc out.txt 'hi [x]'
# no arguments, standard input not a terminal: the program is read from it
printf 'print("piped")\n' | "$bin" > out.txt 2> err.txt; check no_args_stdin 0 $?; same no_args_stdin out.txt piped
printf 'print("opts")\n' | "$bin" --mode=seq > out.txt 2> err.txt; check options_stdin 0 $?; same options_stdin out.txt opts

# a #! first line is a comment; a script made executable runs through env
printf '#!/usr/bin/env zexus-jit\nprint("shebang", args)\n' > script.zx
chmod +x script.zx
PATH=$(dirname "$bin"):$PATH ./script.zx 1 > out.txt 2> err.txt; check shebang 0 $?; same shebang out.txt 'shebang [1]'

# repl with standard input not a terminal: no prompts, values printed, errors do not end it
cat > session.txt <<'ZX'
let x = 1
x + 1
action f(a) {
    return a * 2
}
f(3)
print("p")
1 / 0
null
let y = @
"still here"
const c = 5
c = 6
let x = 10
x + c
if (x > 1)
{
    print("brace on the next line")
}
ZX
"$bin" repl < session.txt > out.txt 2> err.txt; check repl_piped 0 $?
same repl_piped out.txt '2
6
p
still here
15
brace on the next line'
same repl_piped_errors err.txt "<stdin>:1:3: runtime error: division by zero
<stdin>:1:9: error: unexpected character '@'
<stdin>:1:1: error: cannot assign to constant 'c'"
for opts in "--jit=off" "--jit=strict -O0" "--jit=strict -O2" "--mode=par --workers=1" "--mode=par --workers=3"; do
    "$bin" repl $opts < session.txt > out2.txt 2> err2.txt
    check "repl_piped $opts" 0 $?
    cmp -s out.txt out2.txt && cmp -s err.txt err2.txt || { echo "FAIL repl_piped $opts differs"; diff out.txt out2.txt; diff err.txt err2.txt; fails=$((fails + 1)); }
done
# unfinished input at the end is reported, the status stays 0
printf 'let z = [1,\n' | "$bin" repl > out.txt 2> err.txt; check repl_unfinished 0 $? '^<stdin>:2:1: error: ' err.txt

echo "forms: $passes passed, $fails failed"
(( fails == 0 ))
