;; Shapes the translator fuses into superinstructions, with edge values, so the fused arms are
;; checked against the plain semantics. Expected results are in Execution/FusedOpsTests.cs.
(module
  (memory 1)
  ;; local.get a; local.get v; i32.store offset → fused store of a local at the address in a local.
  (func (export "store_ll") (param $a i32) (param $v i32) (result i32)
    (i32.store offset=4 (local.get $a) (local.get $v))
    (i32.load offset=4 (local.get $a)))
  (func (export "store_ll_huge_offset") (param $a i32) (param $v i32)
    (i32.store offset=4294967280 (local.get $a) (local.get $v)))
  ;; local.get; i32.const; op; local.set / local.tee with a negative immediate.
  (func (export "local_imm") (param $x i32) (result i32)
    (local $y i32)
    (local.set $y (i32.add (local.get $x) (i32.const -5)))
    (i32.add (local.tee $y (i32.shr_s (local.get $y) (i32.const 1))) (local.get $y)))
  ;; br_if on comparisons of locals and immediates (signed and unsigned).
  (func (export "cmp_br") (param $x i32) (param $y i32) (result i32)
    (block $lt_s (br_if $lt_s (i32.lt_s (local.get $x) (local.get $y))) (return (i32.const 0)))
    (block $gt_u (br_if $gt_u (i32.gt_u (local.get $x) (i32.const -2))) (return (i32.const 1)))
    (i32.const 2))
  ;; local.get a; local.get b; i32.div_s → fused division keeps its traps.
  (func (export "div_ll") (param $a i32) (param $b i32) (result i32)
    (i32.div_s (local.get $a) (local.get $b)))
  ;; i64 op with an immediate that needs all 64 bits.
  (func (export "i64_imm") (param $x i64) (result i64)
    (i64.xor (local.get $x) (i64.const 0x7FFF_0000_0000_FFFF))))
