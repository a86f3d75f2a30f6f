# Attack: make a block device node for the host's first disk (8:0) and a character device for /dev/mem (1:1) in /tmp.
# Without CAP_MKNOD runc refuses; gVisor would create them on its tmpfs, so seccomp refuses S_IFBLK and S_IFCHR under both.
# @expect ok
# @stdout BLOCKED
import os
import stat

made = []
for name, kind, device in [("sda", stat.S_IFBLK, os.makedev(8, 0)), ("mem", stat.S_IFCHR, os.makedev(1, 1))]:
    try:
        os.mknod("/tmp/" + name, kind | 0o600, device)
        made.append(name)
    except PermissionError:
        pass
print("MADE " + " ".join(made) if made else "BLOCKED")
