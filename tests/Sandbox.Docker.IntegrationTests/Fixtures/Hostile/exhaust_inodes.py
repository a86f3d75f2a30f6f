# Attack: exhaust inodes with empty files. The tmpfs has an inode cap.
# @expect ok
# gVisor's own tmpfs does not apply nr_inodes; creating files is slow there, so the CPU limit ends the loop first.
# @expect-runsc cpu_limit
# @stdout BLOCKED
import os
try:
    for i in range(1_000_000):
        open(f"/tmp/f{i}", "w").close()
    print("EXHAUSTED")
except OSError:
    print("BLOCKED")
