# Attack: plant a binary or edit system files. The root filesystem is read-only.
# @expect ok
# @stdout BLOCKED
if echo x > /usr/local/bin/evil 2>/dev/null || echo 'root2::0:0::/:/bin/sh' >> /etc/passwd 2>/dev/null; then echo WRITTEN; else echo BLOCKED; fi
