// Promise jobs run after the script: ordering of microtasks, async/await, rejections that are handled.
const log = [];
const sleep = (v) => Promise.resolve(v);
async function worker(id) { log.push(`start ${id}`); const v = await sleep(id * 10); log.push(`end ${id}`); return v; }
Promise.all([worker(1), worker(2), worker(3)]).then((vs) => { log.push(`all ${vs}`); print(log.join('; ')); });
Promise.reject(new Error('caught later')).catch((e) => print('handled:', e.message));
(async () => { try { await Promise.reject(new TypeError('inner')); } catch (e) { print('try/await caught', e.name); } })();
Promise.resolve().then(() => print('microtask'));
print('sync done');
