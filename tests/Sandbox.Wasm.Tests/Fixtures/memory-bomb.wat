;; Attack: declare a huge initial memory (4 GiB) so instantiation allocates it.
;; Expected: instantiation refused with WasmLinkException naming MaxMemoryPages; nothing allocated.
(module (memory 65536))
