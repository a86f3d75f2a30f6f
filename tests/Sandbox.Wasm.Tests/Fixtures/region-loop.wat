;; Attack: a loop whose body, split into several regions, crosses region boundaries millions of times; a region
;; entering the next by a call that is not a tail call would leave one host frame per crossing.
;; Expected: run(n) returns n * 9 (eight adds and one call per iteration) in constant host stack, even on a small thread.
(module
  ;; Called once per iteration: a compiled entry is where the engine probes the host stack, so frames left behind by the
  ;; region handover trap CallStackExhausted here instead of overflowing the stack and ending the process.
  (func $step (param i64) (result i64)
    (i64.add (local.get 0) (i64.const 1)))
  (func (export "run") (param $n i32) (result i64)
    (local $acc i64)
    (local $i i32)
    (loop $again
      (local.set $acc (i64.add (local.get $acc) (i64.const 1)))
      (local.set $acc (i64.add (local.get $acc) (i64.const 1)))
      (local.set $acc (i64.add (local.get $acc) (i64.const 1)))
      (local.set $acc (i64.add (local.get $acc) (i64.const 1)))
      (local.set $acc (call $step (local.get $acc)))
      (local.set $acc (i64.add (local.get $acc) (i64.const 1)))
      (local.set $acc (i64.add (local.get $acc) (i64.const 1)))
      (local.set $acc (i64.add (local.get $acc) (i64.const 1)))
      (local.set $acc (i64.add (local.get $acc) (i64.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc)))
