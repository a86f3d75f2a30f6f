;; Expected: rejected: a module without _start is not a WASI command.
(module (func (export "main")))
