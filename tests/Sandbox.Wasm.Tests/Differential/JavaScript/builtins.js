// JSON, RegExp, Map/Set, typed arrays, Number formatting, string methods, BigInt, Math.
const data = { name: 'sandbox', list: [1, 2.5, 'three', null, true], nested: { deep: [{ k: 'v' }] } };
const text = JSON.stringify(data, null, 2);
print(text.length, JSON.stringify(JSON.parse(text)) === JSON.stringify(data));
const re = /(\d{4})-(\d{2})-(\d{2})/g;
print('dates: 2021-03-27 and 1999-12-31'.replace(re, '$3/$2/$1'), [...'a1b22c333'.matchAll(/\d+/g)].map(m => m[0]));
print(/(?<word>\p{L}+)/u.exec('42 Grüße!').groups.word, 'x'.padStart(4, 'ab'), 'Mixed Case'.toUpperCase());
const m = new Map([[1, 'one'], [2, 'two']]); m.set(3, 'three'); m.delete(1);
const s = new Set('mississippi');
print([...m.entries()].flat().join('|'), [...s].join(''), s.size);
const f64 = new Float64Array([1.5, -2.25, 1e300]); const u8 = new Uint8Array(f64.buffer);
print(u8.length, u8.slice(0, 8).join(','), new Int32Array([2 ** 31 - 1, -1]).map(v => v + 1).join(','));
print((1234.5678).toFixed(2), (0.000001234).toPrecision(3), (255).toString(16), (1e21).toString(), Number('0x1f'), parseFloat('3.14abc'));
print(2n ** 100n, BigInt.asUintN(64, -1n), (123456789012345678901234567890n % 97n).toString());
print(Math.max(...[1, 5, 3]), Math.hypot(3, 4), Math.clz32(1), Math.imul(0xffffffff, 5), Math.sign(-3), Math.cbrt(27));
print(Array.from({ length: 5 }, (_, i) => i * i), [1, [2, [3, [4]]]].flat(Infinity), Object.entries({ p: 1, q: 2 }));
print(encodeURIComponent('a b&c/é'), escape('ä'), String.fromCodePoint(0x1F600).length, 'abc'.localeCompare('abd'));
