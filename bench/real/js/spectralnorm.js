// spectralnorm.js — the spectral norm of A; prints trunc(norm * 1e9) for N = argv[2].
"use strict";
function a(i, j) {
    const ij = i + j;
    return 1.0 / ((ij * (ij + 1)) / 2 + i + 1);
}

function mulAv(n, v, av) {
    for (let i = 0; i < n; i++) {
        let s = 0.0;
        for (let j = 0; j < n; j++) s = s + a(i, j) * v[j];
        av[i] = s;
    }
}

function mulAtv(n, v, atv) {
    for (let i = 0; i < n; i++) {
        let s = 0.0;
        for (let j = 0; j < n; j++) s = s + a(j, i) * v[j];
        atv[i] = s;
    }
}

function mulAtAv(n, v, out, tmp) {
    mulAv(n, v, tmp);
    mulAtv(n, tmp, out);
}

const n = process.argv.length > 2 ? parseInt(process.argv[2], 10) : 100;
const u = [], v = [], tmp = [];
for (let i = 0; i < n; i++) { u.push(1.0); v.push(0.0); tmp.push(0.0); }
for (let k = 0; k < 10; k++) {
    mulAtAv(n, u, v, tmp);
    mulAtAv(n, v, u, tmp);
}
let vbv = 0.0, vv = 0.0;
for (let i = 0; i < n; i++) {
    vbv = vbv + u[i] * v[i];
    vv = vv + v[i] * v[i];
}
console.log(String(Math.trunc(Math.sqrt(vbv / vv) * 1000000000)));
