;; Attack: a loop whose body is one 16 MiB memory.fill, so each iteration is a few instructions but
;; millions of bytes of work. Expected: fuel is charged per 64 bytes filled, so a budget of 1,000,000
;; stops it ("out of fuel") after a handful of iterations instead of letting it run for minutes.
;; probe_grow: memory.grow(-1) with little fuel must still just return -1.
(module
  (memory 256)
  (func (export "fill_forever")
    (loop $again
      (memory.fill (i32.const 0) (i32.const 7) (i32.const 16777216))
      (br $again)))
  (func (export "probe_grow") (result i32) (memory.grow (i32.const -1))))
