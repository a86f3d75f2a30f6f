;; Decodes but does not validate (the body leaves no i32). Built with wat2wasm --no-check. Expected: rejected.
(module (func (export "_start") (result i32)))
