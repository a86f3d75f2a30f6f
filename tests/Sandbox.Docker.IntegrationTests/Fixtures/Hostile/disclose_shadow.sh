# Attack: read password hashes. The program runs as nobody and cannot read /etc/shadow.
# @expect ok
# @stdout BLOCKED
if cat /etc/shadow >/dev/null 2>&1; then echo LEAKED; else echo BLOCKED; fi
