;; Hostile: proc_exit(0) then proc_exit(9). Expected: ok, exit code 0: the first exit ends the guest.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (func (export "_start") (call $proc_exit (i32.const 0)) (call $proc_exit (i32.const 9))))
