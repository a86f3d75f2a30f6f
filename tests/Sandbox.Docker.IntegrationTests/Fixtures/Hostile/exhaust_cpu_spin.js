// Attack: burn CPU forever in JavaScript. The CPU meter kills it at the CPU limit.
// @expect cpu_limit
// @limits cpuTimeMs=1000
for (;;) {}
