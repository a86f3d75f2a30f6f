# Attack: become root. Without capabilities setuid(0) fails.
# @expect ok
# @stdout BLOCKED
import os
try:
    os.setuid(0)
    print("ROOT")
except PermissionError:
    print("BLOCKED")
