'use strict';
// The JavaScript session kernel (see JavaScriptKernel.cs): one Node process, one global context, kept across cells.
// Sent by the host as the profile's source file; started as `sh -c 'exec 3<&0 </dev/null; exec node ...'`, so the
// cells' frames arrive on fd 3 and nothing a cell runs can read them from its stdin (fd 0 is /dev/null).
//
// A frame is `CELL <length>\n` and that many bytes of JSON: {nonce, code, stdin, outputs, files}. Each cell runs in
// the global context (top-level let/const/class persist as in the Node REPL; `await` at the top level too, through the
// REPL's own rewrite); the cell is over once its code returned, the promise it left settled, and the timers and I/O it
// started are done, as a script's run would be. Then, if asked, /tmp/outputs is handed out (marker + GNU tar on
// stdout) and emptied, and the end marker `\0SBX-END <nonce> <code>\n` is written to stderr, then stdout.
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const util = require('util');
const net = require('net');
const childProcess = require('child_process');
const { Readable } = require('stream');
const Module = require('module');
const { Buffer } = require('buffer');
const { setTimeout } = require('timers');

// The kernel's own copies of what it calls once cells run: a cell that replaces a global or patches fs (a mock, say)
// changes what its own code sees, not how the kernel frames, waits or hands out.
const { mkdirSync, openSync, closeSync, writeSync, readdirSync, rmSync } = fs;
const parseJson = JSON.parse;
const activeResources = process.getActiveResourcesInfo.bind(process);
const spawnSync = childProcess.spawnSync;

const OUTPUTS = '/tmp/outputs';

// The REPL's top-level-await rewrite (hoists declarations out of the async wrapper); needs --expose-internals.
let rewriteAwait = null;
try {
  rewriteAwait = require('internal/repl/await').processTopLevelAwait;
} catch {
  // Started without the flag: an awaiting cell runs in an async wrapper, its declarations local to it.
}

try {
  fs.unlinkSync(path.resolve(process.argv[1]));
} catch {
  // Already gone.
}
mkdirSync(OUTPUTS, { recursive: true });

// Markers and the tar go through blocking descriptions of our stdout and stderr (libuv made fds 1 and 2
// non-blocking, which a child's tar would meet as EAGAIN); the cell's own writes go through process.stdout.
function reopen(fd) {
  try {
    return openSync('/proc/self/fd/' + fd, fs.constants.O_WRONLY);
  } catch {
    return fd;
  }
}
const OUT = reopen(1);
const ERR = reopen(2);
process.stdout; // eslint-disable-line no-unused-expressions
process.stderr; // eslint-disable-line no-unused-expressions

// What the cell reads as its stdin: process.stdin, and fs.readFileSync of 0 or /dev/stdin, serve the cell's stdin.
let cellStdin = Buffer.alloc(0);
let stdinStream = null;
const readFileSync = fs.readFileSync;
const stdinNames = new Set([0, '/dev/stdin', '/proc/self/fd/0']);
fs.readFileSync = function (file, options) {
  if (stdinNames.has(file)) {
    const encoding = typeof options === 'string' ? options : options && options.encoding;
    return encoding ? cellStdin.toString(encoding) : Buffer.from(cellStdin);
  }
  return readFileSync.apply(this, arguments);
};
Object.defineProperty(process, 'stdin', {
  configurable: true,
  enumerable: true,
  get() {
    if (stdinStream === null) {
      stdinStream = Readable.from([cellStdin], { objectMode: false });
      stdinStream.fd = 0;
    }
    return stdinStream;
  },
});

// A cell's globals, as a script in /tmp has them.
globalThis.require = Module.createRequire('/tmp/main.js');
globalThis.module = { exports: {}, id: '.', filename: '/tmp/main.js', require: globalThis.require };
globalThis.exports = globalThis.module.exports;
globalThis.__filename = '/tmp/main.js';
globalThis.__dirname = '/tmp';

// process.exit in a cell ends the cell with that code, not the kernel (as SystemExit in the Python kernel).
class ExitRequest {
  constructor(code) {
    this.code = code;
  }
}
const exitKernel = process.exit.bind(process);
process.exit = function (code) {
  throw new ExitRequest(code === undefined ? process.exitCode : code);
};

let current = null;
function failed(error) {
  if (error instanceof ExitRequest) {
    if (current !== null && current.exit === null) {
      current.exit = Number(error.code ?? 0) & 0xff;
    }
    return;
  }
  let text;
  if (error instanceof Error && typeof error.stack === 'string') {
    // The kernel's own frames are not the program's business: the trace stops where the kernel called the cell.
    const lines = error.stack.split('\n');
    const kernel = lines.findIndex((line) => line.includes('(node:vm:') || line.includes('(' + __filename + ':'));
    text = (kernel > 0 ? lines.slice(0, kernel) : lines).join('\n');
  } else {
    text = 'Uncaught ' + util.inspect(error);
  }
  try {
    process.stderr.write(text + '\n');
  } catch {
    // stderr is gone: nothing to tell.
  }
  if (current !== null) {
    current.failed = true;
  }
}
// An exception in a callback or a rejection nobody handled fails the cell it belongs to, not the kernel.
process.on('uncaughtException', failed);
process.on('unhandledRejection', failed);

function evaluate(code) {
  let script;
  let rewritten = false;
  const options = { filename: 'cell' };
  try {
    script = new vm.Script(code, options);
  } catch (error) {
    if (!(error instanceof SyntaxError) || !/\bawait\b/.test(code)) {
      throw error;
    }
    let wrapped = null;
    try {
      wrapped = rewriteAwait !== null ? rewriteAwait(code) : '(async () => {\n' + code + '\n})()';
    } catch {
      wrapped = null;
    }
    if (wrapped === null) {
      throw error;
    }
    script = new vm.Script(wrapped, options);
    rewritten = rewriteAwait !== null;
  }
  const value = script.runInThisContext({ displayErrors: false });
  return rewritten ? Promise.resolve(value).then((result) => (result ? result.value : undefined)) : value;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Waits until the cell's timers and I/O are done: the event loop holds no more than it did before the cell.
async function settle(baseline) {
  let wait = 0;
  while (current.exit === null && activeResources().length > baseline) {
    await sleep(wait);
    wait = Math.min(wait + 1, 10);
  }
}

function flushed(stream) {
  return new Promise((resolve) => {
    try {
      if (stream.destroyed || stream.writableEnded) {
        resolve();
      } else {
        stream.write('', () => resolve());
      }
    } catch {
      resolve();
    }
  });
}

function writeAll(fd, bytes) {
  for (let at = 0; at < bytes.length;) {
    try {
      at += writeSync(fd, bytes, at);
    } catch (error) {
      if (error.code !== 'EAGAIN') {
        throw error;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

// As the run's outputs step: if the folder holds anything, a marker and a GNU tar of it (links kept as links, never
// followed, names sorted) go to stdout ahead of the cell's end marker; then the folder is emptied.
function handOut(nonce) {
  let top;
  try {
    top = readdirSync(OUTPUTS).sort();
  } catch {
    mkdirSync(OUTPUTS, { recursive: true });
    return;
  }
  if (top.length === 0) {
    return;
  }
  writeAll(OUT, Buffer.from('\x1eSANDBOX-OUTPUTS ' + nonce + '\n', 'latin1'));
  spawnSync('tar', ['-C', OUTPUTS, '--format=gnu', '--hard-dereference', '--sort=name', '-cf', '-', '.'], {
    stdio: ['ignore', OUT, 'ignore'],
  });
  for (const name of top) {
    rmSync(path.join(OUTPUTS, name), { recursive: true, force: true });
  }
}

function writeFiles(files) {
  for (const file of files || []) {
    // Paths were validated on the host (relative, no '..'); they land under /tmp whatever the cell's cwd is.
    const target = path.join('/tmp', file.path);
    mkdirSync(path.dirname(target), { recursive: true });
    const fd = openSync(target, 'w');
    try {
      writeAll(fd, Buffer.from(file.content, 'utf8'));
    } finally {
      closeSync(fd);
    }
  }
}

async function run(cell) {
  cellStdin = Buffer.from(cell.stdin || '', 'utf8');
  stdinStream = null;
  process.exitCode = undefined;
  current = { failed: false, exit: null };
  const baseline = activeResources().length;
  try {
    // A file that cannot be written (the cell filled /tmp, say) fails this cell, not the kernel.
    writeFiles(cell.files);
    let value = evaluate(cell.code);
    if (value !== null && (typeof value === 'object' || typeof value === 'function') && typeof value.then === 'function') {
      value = await value;
    }
    if (value !== undefined) {
      process.stdout.write(util.inspect(value) + '\n');
    }
    await settle(baseline);
  } catch (error) {
    failed(error);
  }
  const outcome = current;
  current = null;
  if (outcome.exit !== null) {
    return outcome.exit;
  }
  return outcome.failed ? 1 : Number(process.exitCode ?? 0) & 0xff;
}

async function main() {
  let frames;
  try {
    frames = new net.Socket({ fd: 3, readable: true, writable: false });
  } catch {
    writeAll(ERR, Buffer.from('sandbox-kernel: no frame stream on fd 3\n'));
    exitKernel(125);
  }
  let buffered = Buffer.alloc(0);
  let waiting = null;
  let ended = false;
  const wake = () => {
    const resolve = waiting;
    waiting = null;
    if (resolve !== null) {
      resolve();
    }
  };
  frames.on('data', (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    wake();
  });
  frames.on('end', () => {
    ended = true;
    wake();
  });
  // The host closed our stdin (the session ended, or the service died): the kernel's work is over.
  frames.on('error', () => exitKernel(0));
  const more = () => new Promise((resolve) => {
    if (ended) {
      exitKernel(0);
    }
    waiting = resolve;
  });

  for (;;) {
    let newline;
    while ((newline = buffered.indexOf(10)) < 0) {
      await more();
    }
    const header = buffered.subarray(0, newline).toString('latin1').split(' ');
    buffered = buffered.subarray(newline + 1);
    if (header.length !== 2 || header[0] !== 'CELL' || !/^[0-9]+$/.test(header[1])) {
      writeAll(ERR, Buffer.from('sandbox-kernel: bad frame header\n'));
      exitKernel(125);
    }
    const length = Number(header[1]);
    while (buffered.length < length) {
      await more();
    }
    const cell = parseJson(buffered.subarray(0, length).toString('utf8'));
    buffered = buffered.subarray(length);
    const marker = '\0SBX-END ' + cell.nonce + ' ';
    let code = 1;
    try {
      code = await run(cell);
    } catch (error) {
      // Not the cell's error (run catches those): still end the cell, so the host is not left waiting.
      writeAll(ERR, Buffer.from('sandbox-kernel: ' + String(error && error.message) + '\n'));
    }
    await flushed(process.stdout);
    await flushed(process.stderr);
    if (cell.outputs) {
      try {
        handOut(cell.nonce);
      } catch (error) {
        writeAll(ERR, Buffer.from('sandbox-kernel: the files in /tmp/outputs were not handed out: ' + error.message + '\n'));
      }
    }
    writeAll(ERR, Buffer.from(marker + '0\n', 'latin1'));
    writeAll(OUT, Buffer.from(marker + code + '\n', 'latin1'));
  }
}

main();
