;; WASI preview1 basics, plus two attacks.
;; _start: writes "hello\n" to stdout, then proc_exit(argc). Expected: stdout "hello\n", exit code = argc.
;; bad_iov (attack: iovec pointing past the end of memory). Expected: fd_write returns EFAULT (21), host unharmed.
;; bad_iov_count (attack: iovec count of 2^32-1). Expected: EFAULT, no huge allocation or loop.
;; flood (attack: unbounded stdout). Expected: stdout kept at MaxStdoutBytes, StdoutTruncated, stopped by fuel.
;; unsupported: path_open answers ENOSYS (52).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello\n")
  (func $hello (result i32)
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 6))
    (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
  (func (export "_start")
    (drop (call $hello))
    (drop (call $args_sizes_get (i32.const 32) (i32.const 36)))
    (call $proc_exit (i32.load (i32.const 32))))
  (func (export "bad_iov") (result i32)
    (i32.store (i32.const 0) (i32.const 65530))
    (i32.store (i32.const 4) (i32.const 100))
    (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
  (func (export "bad_iov_count") (result i32)
    (call $fd_write (i32.const 1) (i32.const 0) (i32.const -1) (i32.const 8)))
  (func (export "flood")
    (loop $again
      (drop (call $hello))
      (br $again)))
  (func (export "unsupported") (result i32)
    (call $path_open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 5) (i32.const 0)
      (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 40))))
