;; Hostile: spins forever. Expected: cpu_limit (fuel runs out), or timeout when the wall clock is shorter.
(module
  (func (export "_start") (loop $spin (br $spin))))
