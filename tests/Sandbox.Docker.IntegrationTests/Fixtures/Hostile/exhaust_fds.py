# Attack: exhaust file descriptors. RLIMIT_NOFILE stops it inside the sandbox.
# @expect ok
# @stdout BLOCKED
import os
fds = []
try:
    for _ in range(100_000):
        fds.append(os.open("/dev/null", os.O_RDONLY))
    print("EXHAUSTED")
except OSError:
    print("BLOCKED")
