#!/usr/bin/env bash
# What the analysis proves about objects (docs/parallel.md, "Objects"), read from `chunks` and
# --stats: loops and fork blocks that call mutating methods on two instances, each held by a
# global stored once with a new instance, are independent; on one instance they are ordered by
# its fields; an alias (`let b = a`), an instance put in a list, or a method that lets `this`
# go somewhere makes the instances one heap location again; a parallel_map whose function only
# reads objects (fields, read-only methods) runs in parallel, one that calls a mutating method
# runs sequentially.  Every program prints the same in --mode=par as in --mode=seq.
set -uo pipefail
bin=$1
fails=0 passes=0
dir=$(mktemp -d "${TMPDIR:-/tmp}/zx-objects.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1

ok() { passes=$((passes + 1)); }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

account='contract Account {
    state balance = 0
    action deposit(x) { this.balance = this.balance + x }
    action get() { return this.balance }
}'
prog() { { echo "$account"; cat; } > "$1.zx"; }
# the dependencies and independent sets that `chunks` lists for a program
deps() { "$bin" chunks "$1.zx" | grep -E '^    (chunk|block) [0-9]+ -> |independent|^  fork at' > "$1.deps"; }
has() { grep -q -- "$2" "$1.deps" && ok || bad "$1: no '$2' in: $(cat "$1.deps")"; }
hasnt() { grep -q -- "$2" "$1.deps" && bad "$1: '$2' in: $(cat "$1.deps")" || ok; }
same_output() {
    local want got
    want=$("$bin" run --mode=seq --jit=off "$1.zx" 2>&1)
    for m in "--jit=off --mode=par --workers=2" "--jit=off --mode=par --workers=8" "--jit=strict --mode=par --workers=2"; do
        got=$("$bin" run $m "$1.zx" 2>&1)
        [[ $got == "$want" ]] && ok || bad "$1 ($m): printed '$got', sequential '$want'"
    done
}

# distinct instances: the loops (chunks 3 and 4) are independent; the print reads both
prog distinct <<'EOF'
let a = Account()
let b = Account()
for each i in range(0, 1000) { a.deposit(i) }
for each j in range(0, 1000) { b.deposit(j) }
print(a.get(), b.get())
EOF
deps distinct
has distinct 'independent: 2 chunks (3, 4)'
has distinct "chunk 3 -> chunk 5: RAW on fields of 'a'"
has distinct "chunk 4 -> chunk 5: RAW on fields of 'b'"
hasnt distinct 'chunk 3 -> chunk 4'
same_output distinct
"$bin" run --mode=par --workers=2 --stats distinct.zx > /dev/null 2> distinct.stats
grep -q 'DAG width 2' distinct.stats && ok || bad "distinct: $(grep 'top level' distinct.stats)"

# one instance, two loops: ordered by its fields
prog same <<'EOF'
let a = Account()
let b = Account()
for each i in range(0, 1000) { a.deposit(i) }
for each j in range(0, 1000) { a.deposit(j) }
print(a.get(), b.get())
EOF
deps same
has same "chunk 3 -> chunk 4: RAW on fields of 'a'"
same_output same

# an alias: one heap location, the loops ordered
prog alias <<'EOF'
let a = Account()
let b = a
for each i in range(0, 1000) { a.deposit(i) }
for each j in range(0, 1000) { b.deposit(j) }
print(a.get(), b.get())
EOF
deps alias
has alias 'chunk 3 -> chunk 4: heap'
hasnt alias 'fields of'
same_output alias

# an instance kept in a list is reachable from elsewhere: b's loop is a heap write
prog listed <<'EOF'
let a = Account()
let b = Account()
let xs = [b]
for each i in range(0, 1000) { a.deposit(i) }
for each j in range(0, 1000) { xs[0].deposit(1); b.deposit(j) }
print(a.get(), b.get())
EOF
deps listed
has listed "chunk 4 -> chunk 6: RAW on fields of 'a'"
has listed 'chunk 4 -> chunk 5: heap'
hasnt listed "fields of 'b'"
same_output listed

# fork blocks: distinct instances run together, the same one in order
prog forks <<'EOF'
let a = Account()
let b = Account()
fork { for each i in range(0, 1000) { a.deposit(i) } } fork { for each j in range(0, 1000) { b.deposit(j) } } join
fork { a.deposit(1) } fork { a.deposit(2) } join
print(a.get(), b.get())
EOF
deps forks
has forks 'independent: 2 blocks (0, 1)'
has forks "block 0 -> block 1: RAW on fields of 'a'"
same_output forks

# a method that lets `this` go (into a list) makes every instance one heap location
cat > leak.zx <<'EOF'
let registry = []
contract Account {
    state balance = 0
    action deposit(x) { this.balance = this.balance + x }
    action enrol() { registry.push(this) }
}
let a = Account()
let b = Account()
a.enrol()
for each i in range(0, 1000) { a.deposit(i) }
for each j in range(0, 1000) { registry[0].deposit(1); b.deposit(j) }
print(a.balance, b.balance)
EOF
deps leak
has leak 'chunk 4 -> chunk 5: heap'
hasnt leak 'fields of'
same_output leak

# parallel_map: reading objects (fields, read-only methods) runs in parallel; a method that
# writes fields runs sequentially, and --stats says why
prog pmap <<'EOF'
let a = Account()
a.deposit(5)
let accounts = [Account(), Account()]
print(parallel_map(k => a.get() * k + a.balance, range(0, 100))[99])
print(parallel_map(acc => acc.get() + acc.balance, accounts))
print(parallel_map(acc => acc.deposit(1), accounts), accounts[0].get())
EOF
"$bin" run --mode=par --workers=2 --stats pmap.zx > pmap.out 2> pmap.stats || bad "pmap failed: $(cat pmap.stats)"
grep -q 'parallel_map: 2 parallel' pmap.stats && ok || bad "pmap: $(grep parallel_map pmap.stats)"
grep -q "pmap.zx:11:7 ran sequentially: it may change a list or map (index assignment, push or pop) or an object's fields" \
    pmap.stats && ok || bad "pmap: $(cat pmap.stats)"
same_output pmap

# a loop that writes a list and then a field of a told-apart instance: the field keeps only
# its own access off the heap, the list write before it stays a heap write
prog mixed <<'EOF'
let xs = [0]
let a = Account()
for each i in range(0, 1000) { xs[0] = i; a.balance = i }
let t = 0
for each j in range(0, 1000) { t = t + xs[0] }
print(t, a.get())
EOF
deps mixed
has mixed 'chunk 2 -> chunk 4: heap'
has mixed "chunk 2 -> chunk 5: RAW on fields of 'a'"
same_output mixed

echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
