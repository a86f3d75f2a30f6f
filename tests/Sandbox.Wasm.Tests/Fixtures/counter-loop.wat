;; Attack: a loop that never ends, counting its iterations in an exported global.
;; Expected: trap "out of fuel" when fuel runs out (at the same count for the same fuel), or
;; trap "interrupted" when the host requests an interrupt from another thread.
(module
  (global $count (export "count") (mut i64) (i64.const 0))
  (func (export "run")
    (loop $again
      (global.set $count (i64.add (global.get $count) (i64.const 1)))
      (br $again))))
