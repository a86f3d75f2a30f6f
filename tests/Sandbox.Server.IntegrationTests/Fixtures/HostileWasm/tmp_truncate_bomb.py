# Attack: write 40 files of 16 MiB into /tmp and truncate each to 0. Each stays under fileSizeBytes and the
# total stays under tmpBytes (64 MiB) by logical size, but truncation kept the arrays: the in-process engine
# grew the service by 640 MB.
# @expect ok
# @stdout truncated 40
import os
block = b"x" * (1 << 20)
for i in range(40):
    path = "/tmp/f%d" % i
    with open(path, "wb") as f:
        for _ in range(16):
            f.write(block)
    os.truncate(path, 0)
print("truncated", i + 1)
