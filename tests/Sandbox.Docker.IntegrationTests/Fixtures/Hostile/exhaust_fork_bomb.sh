# Attack: the classic bash fork bomb, with the parent staying alive. PidsLimit caps the processes
# (forks fail with "Resource temporarily unavailable"); the wall clock ends it.
# @expect timeout
# Under gVisor exhausting pids.max ends the whole sandbox at once (exit 2): contained, reported as runtime_error.
# @expect-runsc runtime_error
# @limits wallTimeMs=2000
bomb() { bomb | bomb & }
bomb 2>/dev/null
sleep 30
