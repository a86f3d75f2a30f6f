;; Tier-up by interpreted work (WasmEngineOptions.CompileFuelThreshold): $run calls $busy and $cheap equally often;
;; $busy loops in its own body, $cheap does almost nothing, and $run's own work is a few instructions per call it makes.
;; Expected: only $busy burns enough fuel in its own body to be compiled.
(module
  (func $busy (param $n i32) (result i64)
    (local $acc i64)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $n))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $acc))
  (func $cheap (param i32) (result i64)
    (i64.extend_i32_u (local.get 0)))
  (func (export "run") (param $calls i32) (param $n i32) (result i64)
    (local $total i64)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $calls)))
        (local.set $total (i64.add (local.get $total) (call $busy (local.get $n))))
        (local.set $total (i64.add (local.get $total) (call $cheap (local.get $n))))
        (local.set $calls (i32.sub (local.get $calls) (i32.const 1)))
        (br $next)))
    (local.get $total)))
