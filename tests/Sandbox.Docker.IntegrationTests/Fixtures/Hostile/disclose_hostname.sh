# Attack: learn the container id or host name. The host name is a fixed "sandbox".
# @expect ok
# @stdout sandbox
cat /proc/sys/kernel/hostname
