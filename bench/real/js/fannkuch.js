// fannkuch.js — fannkuch-redux; prints the checksum and the most flips for N = argv[2].
"use strict";
function fannkuch(n) {
    const perm1 = [], perm = [], count = [];
    for (let i = 0; i < n; i++) { perm1.push(i); perm.push(0); count.push(0); }
    let maxFlips = 0, checksum = 0, permCount = 0, r = n;
    for (;;) {
        while (r !== 1) { count[r - 1] = r; r--; }
        for (let i = 0; i < n; i++) perm[i] = perm1[i];
        let flips = 0, k = perm[0];
        while (k !== 0) {
            for (let lo = 0, hi = k; lo < hi; lo++, hi--) { const t = perm[lo]; perm[lo] = perm[hi]; perm[hi] = t; }
            flips++;
            k = perm[0];
        }
        if (flips > maxFlips) maxFlips = flips;
        checksum += permCount % 2 === 0 ? flips : -flips;
        for (;;) {
            if (r === n) return [checksum, maxFlips];
            const p0 = perm1[0];
            for (let j = 0; j < r; j++) perm1[j] = perm1[j + 1];
            perm1[r] = p0;
            count[r]--;
            if (count[r] > 0) break;
            r++;
        }
        permCount++;
    }
}

const res = fannkuch(process.argv.length > 2 ? parseInt(process.argv[2], 10) : 7);
console.log(res[0] + " " + res[1]);
