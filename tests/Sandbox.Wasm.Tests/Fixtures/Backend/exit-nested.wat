;; Hostile: proc_exit(5) three calls deep, with work after it that must never run. Expected: runtime_error, exit code 5.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (func $c (call $proc_exit (i32.const 5)) unreachable)
  (func $b (call $c) unreachable)
  (func $a (call $b) unreachable)
  (func (export "_start") (call $a) unreachable))
