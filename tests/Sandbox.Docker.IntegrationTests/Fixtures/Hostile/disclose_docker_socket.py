# Attack: reach the Docker socket to escape. No host path is mounted, so it is not there.
# @expect ok
# @stdout BLOCKED
import os
found = [p for p in ("/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock") if os.path.exists(p)]
print("LEAKED " + " ".join(found) if found else "BLOCKED")
