;; Hostile: asks for 4 GiB at once, is refused, exits 1 like malloc failing. Expected: memory_limit, exit code 1.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (if (i32.eq (memory.grow (i32.const 65535)) (i32.const -1))
      (then (call $proc_exit (i32.const 1))))))
