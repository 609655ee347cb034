// binarytrees.js — allocate and walk many binary trees of 2-element arrays; prints the sum of
// every check for MAXDEPTH = argv[2].
"use strict";
function make(d) {
    if (d === 0) return [null, null];
    return [make(d - 1), make(d - 1)];
}

function check(t) {
    if (t[0] === null) return 1;
    return 1 + check(t[0]) + check(t[1]);
}

const n = process.argv.length > 2 ? parseInt(process.argv[2], 10) : 10;
const maxDepth = Math.max(6, n);
let total = check(make(maxDepth + 1));
const longLived = make(maxDepth);
for (let d = 4; d <= maxDepth; d += 2) {
    const iters = 2 ** (maxDepth - d + 4);
    for (let i = 0; i < iters; i++) total = total + check(make(d));
}
total = total + check(longLived);
console.log(String(total));
