// An uncaught exception: message and stack on stderr, exit code 1, and earlier output still flushed.
print('before');
function fail(depth) { if (depth === 0) throw new RangeError('deliberate'); return fail(depth - 1); }
fail(3);
print('never');
