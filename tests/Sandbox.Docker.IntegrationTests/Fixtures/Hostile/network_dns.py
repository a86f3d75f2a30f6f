# Attack: resolve a name (DNS exfiltration). There is no network and no AF_INET socket.
# @expect ok
# @stdout BLOCKED
import socket
try:
    socket.getaddrinfo("example.com", 80)
    print("RESOLVED")
except OSError:
    print("BLOCKED")
