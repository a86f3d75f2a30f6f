// Reference runner: executes a WASI preview1 guest under Node's V8 (node:wasi), for the
// differential tests and bench/Sandbox.Bench.Wasm. Arguments are passed one per argv entry
// (callers use ProcessStartInfo.ArgumentList, so nothing here is parsed by a shell):
//
//   node run-wasi.mjs [--dir GUEST=HOST]... [--env K=V]... [--repeat N] [--invoke EXPORT ARG] GUEST.wasm [GUEST ARGS...]
//
// Default: run _start once with this process's stdin/stdout/stderr; exit with the guest's code.
// --repeat N: run N times with the guest's stdout sent to /dev/null, then print one JSON line
//   {"compileMs":..,"runsMs":[..],"cpuMs":[..],"exitCode":..} (the module is compiled once, as our engine
//   does; cpuMs is this process's CPU time per run, V8's compiler threads included).
// --invoke EXPORT ARG: instead of _start, call EXPORT(ARG) (an i32 kernel) and print its result
//   as unsigned decimal; with --repeat the JSON line also holds "result".
import { readFileSync, openSync, closeSync } from 'node:fs';
import { WASI } from 'node:wasi';
import { performance } from 'node:perf_hooks';

const argv = process.argv.slice(2);
const preopens = {};
const env = {};
let repeat = 0;
let invoke = null;
while (argv.length > 0 && argv[0].startsWith('--')) {
  const flag = argv.shift();
  if (flag === '--dir') {
    const spec = argv.shift();
    const eq = spec.indexOf('=');
    preopens[spec.slice(0, eq)] = spec.slice(eq + 1);
  } else if (flag === '--env') {
    const spec = argv.shift();
    const eq = spec.indexOf('=');
    env[spec.slice(0, eq)] = spec.slice(eq + 1);
  } else if (flag === '--repeat') {
    repeat = Number(argv.shift());
  } else if (flag === '--invoke') {
    invoke = { name: argv.shift(), arg: Number(argv.shift()) };
  } else {
    console.error(`unknown option ${flag}`);
    process.exit(2);
  }
}
const wasmPath = argv[0];
const guestArgs = argv.slice(1);

const compileStart = performance.now();
const module = new WebAssembly.Module(readFileSync(wasmPath));
const compileMs = performance.now() - compileStart;

function runOnce(stdoutFd) {
  const wasi = new WASI({
    version: 'preview1',
    args: [wasmPath.split('/').pop().replace(/\.wasm$/, ''), ...guestArgs],
    env,
    preopens,
    returnOnExit: true,
    stdout: stdoutFd,
  });
  const imports = WebAssembly.Module.imports(module).length > 0 ? wasi.getImportObject() : {};
  const instance = new WebAssembly.Instance(module, imports);
  if (invoke) {
    return { exitCode: 0, result: instance.exports[invoke.name](invoke.arg) >>> 0 };
  }
  return { exitCode: wasi.start(instance), result: undefined };
}

if (repeat <= 0) {
  const { exitCode, result } = runOnce(1);
  if (result !== undefined) console.log(String(result));
  process.exitCode = exitCode;
} else {
  const devNull = openSync('/dev/null', 'w');
  const runsMs = [];
  const cpuMs = [];
  let last = null;
  for (let i = 0; i < repeat; i++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    last = runOnce(devNull);
    const cpu = process.cpuUsage(cpuStart);
    runsMs.push(performance.now() - start);
    cpuMs.push((cpu.user + cpu.system) / 1000);
  }
  closeSync(devNull);
  console.log(JSON.stringify({ compileMs, runsMs, cpuMs, exitCode: last.exitCode, result: last.result }));
}
