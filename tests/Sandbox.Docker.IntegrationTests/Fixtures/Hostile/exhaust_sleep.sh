# Attack: hold a sandbox forever without using CPU. Only the wall clock catches this.
# @expect timeout
# @limits wallTimeMs=1000
sleep 1000
