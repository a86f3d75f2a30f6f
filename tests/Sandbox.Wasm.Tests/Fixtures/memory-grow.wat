;; Attack: grow linear memory without bound.
;; Expected: memory.grow returns -1 once the host cap (MaxMemoryPages) is reached, and the memory
;; records that the cap refused a grow; below the cap it returns the old size in pages.
(module
  (memory (export "memory") 1)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "grow_forever") (result i32)
    (local $pages i32)
    (block $refused
      (loop $again
        (br_if $refused (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
        (local.set $pages (i32.add (local.get $pages) (i32.const 1)))
        (br $again)))
    (local.get $pages)))
