;; Source of selftest.b64 (the module in base64, as the language 'wasm' takes it):
;;   wat2wasm selftest-source.wat -o /dev/stdout | base64 -w0 > selftest.b64
;; Writes a fixed line: `sandbox run --lang wasm images/wasm/selftest.b64` must print selftest.expected (doctor checks Docker images only).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "wasm self-test ok\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 18))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
