# Attack: open a TCP connection (only ever to loopback here). AF_INET sockets are denied by seccomp.
# @expect ok
# @stdout BLOCKED
import socket
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(1)
    s.connect(("127.0.0.1", 80))
    print("CONNECTED")
except OSError:
    print("BLOCKED")
