;; Attack: unbounded recursion, with a few locals per frame to eat the value stack too.
;; Expected: trap "call stack exhausted"; the host survives and the engine stays usable.
(module
  (func $down (export "down") (param i64) (result i64)
    (local i64 i64 i64)
    (i64.add (call $down (i64.add (local.get 0) (i64.const 1))) (i64.const 1)))
  (func (export "ok") (result i32) (i32.const 42))
  ;; Bounded recursion: depth(n) uses n + 1 frames, to pin the depth limit exactly.
  (func $depth (export "depth") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (i32.add (call $depth (i32.sub (local.get 0) (i32.const 1))) (i32.const 1))))))
