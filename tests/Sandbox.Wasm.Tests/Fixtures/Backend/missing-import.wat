;; Expected: rejected: imports a function no host provides, so nothing can run.
(module
  (import "env" "host_secret" (func $secret (result i32)))
  (func (export "_start") (drop (call $secret))))
