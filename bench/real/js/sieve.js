// sieve.js — the sieve of Eratosthenes, ten times; prints the primes below N = argv[2].
"use strict";
function sieve(n) {
    const flags = [];
    for (let i = 0; i < n; i++) flags.push(true);
    flags[0] = false; flags[1] = false;
    for (let p = 2; p * p < n; p++)
        if (flags[p])
            for (let m = p * p; m < n; m += p) flags[m] = false;
    let count = 0;
    for (const f of flags) if (f) count++;
    return count;
}

const n = process.argv.length > 2 ? parseInt(process.argv[2], 10) : 1000;
let c = 0;
for (let k = 0; k < 10; k++) c = sieve(n);
console.log(String(c));
