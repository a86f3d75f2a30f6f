# Attack: a setuid copy of a shell in /tmp. /tmp is nosuid and noexec, and no-new-privileges holds anyway.
# @expect ok
# @stdout BLOCKED
cp /bin/bash /tmp/sh 2>/dev/null && chmod 4755 /tmp/sh 2>/dev/null
if /tmp/sh -p -c 'id -u' 2>/dev/null | grep -qx 0; then echo ROOT; else echo BLOCKED; fi
