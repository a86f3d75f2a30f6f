// A CPU-bound loop: a small sieve and string building, enough to run millions of guest instructions.
const n = 20000;
const composite = new Uint8Array(n);
let count = 0;
for (let i = 2; i < n; i++) { if (composite[i]) continue; count++; for (let j = i * i; j < n; j += i) composite[j] = 1; }
let h = 0;
for (let i = 0; i < 20000; i++) h = (Math.imul(h, 31) + (i % 251)) | 0;
const words = []; for (let i = 0; i < 200; i++) words.push(i.toString(36));
print('primes', count, 'hash', h, 'words', words.join('').length);
