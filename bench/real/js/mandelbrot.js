// mandelbrot.js — points of a SIZE x SIZE grid that stay in the set for 50 iterations.
"use strict";
const size = process.argv.length > 2 ? parseInt(process.argv[2], 10) : 200;

function row(y) {
    let inside = 0;
    const ci = 2.0 * y / size - 1.0;
    for (let x = 0; x < size; x++) {
        const cr = 2.0 * x / size - 1.5;
        let zr = 0.0, zi = 0.0, escaped = false;
        for (let i = 0; i < 50; i++) {
            const tr = zr * zr - zi * zi + cr, ti = 2.0 * zr * zi + ci;
            zr = tr; zi = ti;
            if (zr * zr + zi * zi > 4.0) { escaped = true; break; }
        }
        if (!escaped) inside++;
    }
    return inside;
}

let total = 0;
for (let y = 0; y < size; y++) total += row(y);
console.log(String(total));
