;; Hostile counts for the WASI layer (issue 17), all within guest memory so only a count cap can stop them.
;; poll_many (attack: one poll_oneoff with `count` subscriptions; the issue's 5.5M reached 865 MB of host memory).
;;   Expected: EINVAL (28) past the host's cap of subscriptions per call, before anything is allocated.
;; write_many (attack: one fd_write with `count` iovecs). Expected: EINVAL (28) past IOV_MAX (1024), like writev.
;; Memory is zero: subscriptions are relative clocks of 0 ns (ready at once), iovecs are empty buffers.
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 200)
  ;; Subscriptions at 0, events after them, the event count in the last 4 bytes of memory.
  (func (export "poll_many") (param $count i32) (result i32)
    (call $poll (i32.const 0) (i32.mul (local.get $count) (i32.const 48)) (local.get $count) (i32.const 13107196)))
  (func (export "write_many") (param $count i32) (result i32)
    (call $fd_write (i32.const 1) (i32.const 0) (local.get $count) (i32.const 13107196))))
