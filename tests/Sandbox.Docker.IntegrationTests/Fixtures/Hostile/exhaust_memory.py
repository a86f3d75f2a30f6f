# Attack: allocate far more memory than allowed. The cgroup OOM-kills the program.
# @expect memory_limit
chunks = []
while True:
    chunks.append(bytearray(16 * 1024 * 1024))
