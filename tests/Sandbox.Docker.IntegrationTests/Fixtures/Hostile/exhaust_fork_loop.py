# Attack: fork until the host runs out of processes. PidsLimit makes fork fail inside the sandbox.
# @expect ok
# Under gVisor the sandbox kernel's own threads count against pids.max, so exhausting it ends the whole
# sandbox (exit 2, no output) instead of failing fork inside: still contained, reported as runtime_error.
# @expect-runsc runtime_error
# @stdout PIDS_CAPPED
import os, sys
children = []
try:
    for _ in range(10000):
        pid = os.fork()
        if pid == 0:
            import time; time.sleep(30); os._exit(0)
        children.append(pid)
    print("FORKED", len(children))
except OSError:
    print("PIDS_CAPPED")
sys.stdout.flush()
os._exit(0)
