// Closures, classes, generators, destructuring, spread, getters, symbols, labelled loops.
class Shape { constructor(n) { this.n = n; } get area() { return 0; } toString() { return `${this.constructor.name}(${this.area.toFixed(3)})`; } }
class Circle extends Shape { constructor(r) { super('circle'); this.r = r; } get area() { return Math.PI * this.r ** 2; } }
class Square extends Shape { constructor(s) { super('square'); this.s = s; } get area() { return this.s * this.s; } }
const shapes = [new Circle(1), new Square(3), new Circle(2.5)];
print(shapes.join(' '), shapes.reduce((a, s) => a + s.area, 0).toFixed(6));
function* fib() { let [a, b] = [0n, 1n]; for (;;) { yield a; [a, b] = [b, a + b]; } }
const seq = []; for (const f of fib()) { if (seq.length === 90) break; seq.push(f); }
print(seq.slice(-3).join(','), typeof seq[0]);
const counter = (() => { let c = 0; return { inc: () => ++c, get value() { return c; } }; })();
for (let i = 0; i < 5; i++) counter.inc();
print('counter', counter.value);
const { a, b: [x, ...rest], ...others } = { a: 1, b: [2, 3, 4], c: 5, d: 6 };
print(a, x, rest, JSON.stringify(others));
outer: for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) { if (i * j === 6) { print('found', i, j); break outer; } }
const sym = Symbol('tag'); const o = { [sym]: 1, plain: 2 };
print(Object.keys(o), Object.getOwnPropertySymbols(o).length, sym.toString());
print([3, 1, 10, 2].sort(), [3, 1, 10, 2].sort((p, q) => p - q), [..."héllo"].reverse().join(''));
