;; Fuel determinism across calls: a recursive function bumps a counter on every call.
;; Expected: with the same fuel, the counter stops at the same value on every run.
(module
  (global $calls (export "calls") (mut i32) (i32.const 0))
  (func $f (export "f") (param i32) (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $f (i32.sub (local.get 0) (i32.const 1)))
                     (call $f (i32.sub (local.get 0) (i32.const 2))))))))
