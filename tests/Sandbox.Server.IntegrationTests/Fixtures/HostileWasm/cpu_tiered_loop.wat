;; Attack on the CPU limit's meaning: a hot loop that the engine compiles to IL. With fuel calibrated on the
;; interpreter as the CPU limit, a C program was stopped as cpu_limit after 825 ms of a 5 000 ms budget once the
;; IL tier ran it. The limit is now the worker cgroup's CPU time: the run gets its whole budget, within 10 %.
;; @expect cpu_limit
(module
  (func (export "_start")
    (local $x i64)
    (loop $spin
      (local.set $x (i64.add (i64.mul (local.get $x) (i64.const 6364136223846793005)) (i64.const 1442695040888963407)))
      (br $spin))))
