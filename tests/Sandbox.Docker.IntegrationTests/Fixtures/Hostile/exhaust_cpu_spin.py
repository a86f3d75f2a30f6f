# Attack: burn CPU forever. The cgroup CPU meter kills it at the CPU limit, before the wall clock.
# @expect cpu_limit
# @limits cpuTimeMs=1000
while True:
    pass
