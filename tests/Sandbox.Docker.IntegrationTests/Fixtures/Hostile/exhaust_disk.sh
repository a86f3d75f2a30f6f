# Attack: fill the disk. /tmp is a capped tmpfs and RLIMIT_FSIZE caps any one file; the root is read-only.
# @expect ok
# @stdout BLOCKED
if dd if=/dev/zero of=/tmp/big bs=1M count=2000 2>/dev/null; then echo FILLED; else echo BLOCKED; fi
