// wordcount.js — make a text of N pseudo-random words, split it and count the words in a Map;
// prints the distinct words and sum(count * length).
"use strict";
const syl = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "ve", "da",
             "xo", "bu", "fe", "gi", "ho", "ju", "ly", "qu", "ze", "wa"];
const n = process.argv.length > 2 ? parseInt(process.argv[2], 10) : 1000;
const words = [];
let seed = 7;
for (let i = 0; i < n; i++) {
    seed = (seed * 16807) % 2147483647;
    const r = seed % 8000;
    let w = syl[r % 20] + syl[Math.floor(r / 20) % 20];
    if (r >= 400) w = w + syl[Math.floor(r / 400) % 20];
    words.push(w);
}
const text = words.join(" ");
const counts = new Map();
for (const w of text.split(" ")) counts.set(w, (counts.get(w) || 0) + 1);
let distinct = 0, weighted = 0;
for (const [w, c] of counts) { distinct++; weighted += c * w.length; }
console.log(distinct + " " + weighted);
