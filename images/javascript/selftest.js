// Self-test of the javascript image: the runtime, modules, promises and a worker thread.
const { Worker } = require('node:worker_threads');
const crypto = require('node:crypto');
const fs = require('node:fs');

console.log('node', Number(process.versions.node.split('.')[0]) >= 18);
console.log('sum', [1, 2, 3, 4].reduce((a, b) => a + b, 0));
console.log('json', JSON.stringify({ a: [1, 'two'], b: null }));
console.log('sha256', crypto.createHash('sha256').update('sandbox').digest('hex').slice(0, 16));
fs.writeFileSync('/tmp/out.txt', 'written');
console.log('fs', fs.readFileSync('/tmp/out.txt', 'utf8'), process.cwd());
console.log('unicode', 'h\u00e9llo \u2713');
// No setuid or setgid program where programs live (the Dockerfile strips them; selftest.sh checks the whole image).
const setid = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []).reduce((n, e) => {
  const p = `${dir}/${e.name}`;
  return n + (e.isDirectory() ? setid(p) : e.isFile() && (fs.lstatSync(p).mode & 0o6000) !== 0 ? 1 : 0);
}, 0);
console.log('setid', ['/usr/bin', '/usr/sbin', '/usr/libexec', '/usr/local', '/opt'].reduce((n, d) => n + setid(d), 0));
(async () => {
  const value = await new Promise((resolve) => setTimeout(() => resolve(42), 10));
  console.log('promise', value);
  const fromWorker = await new Promise((resolve, reject) => {
    const w = new Worker('require("node:worker_threads").parentPort.postMessage(6 * 7)', { eval: true });
    w.once('message', resolve);
    w.once('error', reject);
  });
  console.log('worker', fromWorker);
})();
