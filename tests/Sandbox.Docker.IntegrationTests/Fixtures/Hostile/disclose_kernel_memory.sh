# Attack: read kernel memory and keys through /proc. Docker's default masked paths hide them.
# @expect ok
# @stdout BLOCKED
leaked=0
for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do
  if [ -s "$f" ] && head -c 1 "$f" >/dev/null 2>&1 && [ -n "$(head -c 16 "$f" 2>/dev/null)" ]; then leaked=1; echo "readable $f" >&2; fi
done
[ "$leaked" = 0 ] && echo BLOCKED || echo LEAKED
