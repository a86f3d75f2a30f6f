;; Hostile: proc_exit(4) from the start function, during instantiation, before _start. Expected: runtime_error, exit code 4.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func $init (call $proc_exit (i32.const 4)))
  (start $init)
  (func (export "_start") unreachable))
