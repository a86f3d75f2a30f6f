;; Attack: grow a table without bound.
;; Expected: table.grow returns -1 once the host cap (MaxTableElements) is reached.
(module
  (table $t (export "table") 1 funcref)
  (func (export "grow") (param i32) (result i32) (table.grow $t (ref.null func) (local.get 0)))
  (func (export "size") (result i32) (table.size $t)))
