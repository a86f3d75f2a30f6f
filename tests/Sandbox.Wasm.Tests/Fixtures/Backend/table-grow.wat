;; Hostile: table.grow by 2^31 - 1 entries. Expected: ok, exit 0: the grow is refused (-1) and nothing is allocated.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (table $t 1 funcref)
  (memory (export "memory") 1)
  (func (export "_start")
    (call $proc_exit (i32.ne (table.grow $t (ref.null func) (i32.const 0x7FFFFFFF)) (i32.const -1)))))
