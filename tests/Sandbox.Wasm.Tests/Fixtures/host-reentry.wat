;; A guest that calls a host function which calls back into the guest (re-entrancy), with values
;; live on the guest stack across the host call. Expected: sum(n) = n + (n-1) + ... + 1 computed through
;; n nested host->guest entries; a trap deep inside unwinds everything and the engine stays usable.
(module
  (import "host" "recurse" (func $recurse (param i32) (result i32)))
  (func (export "sum") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else
        ;; keep a value on the operand stack while the host re-enters the guest
        (i32.add (local.get $n) (call $recurse (i32.sub (local.get $n) (i32.const 1)))))))
  (func (export "boom") (param i32) (result i32) (unreachable)))
