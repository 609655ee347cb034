// sort.js — quicksort of N Park-Miller pseudo-random integers; prints a checksum.
"use strict";
function quicksort(a, lo, hi) {
    while (lo < hi) {
        const pivot = a[Math.floor((lo + hi) / 2)];
        let i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) { const t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
        }
        if (j - lo < hi - i) { quicksort(a, lo, j); lo = i; }
        else { quicksort(a, i, hi); hi = j; }
    }
}

const n = process.argv.length > 2 ? parseInt(process.argv[2], 10) : 1000;
const a = [];
let seed = 42;
for (let i = 0; i < n; i++) { seed = (seed * 16807) % 2147483647; a.push(seed); }
quicksort(a, 0, n - 1);
let sum = 0;
for (let i = 0; i < n; i++) {
    if (i > 0 && a[i - 1] > a[i]) sum -= 1000000000;
    sum += (a[i] % 1000) * (i % 1000);
}
console.log(String(sum));
