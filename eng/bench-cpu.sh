#!/usr/bin/env bash
# make bench-cpu: where concurrency 8's CPU goes, per run, for `sandbox serve` with its warm pool (Docker, Python hello)
# against the floor bench-api holds it to (the python profile's hardened spec with `true` as its program, created, started,
# waited for and removed, 8 at a time), each part apart: dockerd, containerd, the shims and runtimes they start, the
# containers, the service, and the client. Needs root and cgroup v1's cpuacct (this machine's Docker).
# dockerd and containerd are moved into a cpuacct cgroup of their own for the measurement (the shims and runtimes they
# start then follow them), and back where they were at the end; cpuacct only counts, it limits nothing.
# BENCH_CPU_RUNS (160) runs and floor containers; arguments go to the service (e.g. --Sandbox:MaxConcurrentRuns=4).
set -euo pipefail
cd "$(dirname "$0")/.."
cli=${SANDBOX_CLI:-artifacts/sandbox/sandbox}
[ -x "$cli" ] || { echo "bench-cpu: $cli is missing; run make build" >&2; exit 1; }
acct=/sys/fs/cgroup/cpuacct
[ -f "$acct/cpuacct.usage" ] || { echo "bench-cpu: no cgroup v1 cpuacct hierarchy at $acct" >&2; exit 1; }
n=${BENCH_CPU_RUNS:-160}
dotnet build bench/Sandbox.Bench.Api -c Release --nologo -v quiet -clp:ErrorsOnly
dotnet build bench/Sandbox.Bench -c Release --nologo -v quiet -clp:ErrorsOnly
bench=(dotnet artifacts/bin/Sandbox.Bench.Api/release/Sandbox.Bench.Api.dll)

dockerd=$(pgrep -xo dockerd) containerd=$(pgrep -xo containerd)
daemons=$acct/sandbox-bench-daemons
mkdir -p "$daemons"
home_of() { sed -n 's/^[0-9]*:\([^:]*,\)\?cpuacct\(,[^:]*\)\?:\(.*\)$/\3/p' "/proc/$1/cgroup"; }
dockerd_home=$(home_of "$dockerd") containerd_home=$(home_of "$containerd")
work=$(mktemp -d -t sandbox-bench-cpu.XXXXXX)
pid= client=
cleanup() {
  [ -z "$client" ] || kill -TERM "$client" 2>/dev/null || true
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  # Back where they were; shims started meanwhile stay in ours until they exit, and then it is removed (only when empty).
  echo "$dockerd" > "$acct$dockerd_home/cgroup.procs" 2>/dev/null || true
  echo "$containerd" > "$acct$containerd_home/cgroup.procs" 2>/dev/null || true
  rmdir "$daemons" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
echo "$dockerd" > "$daemons/cgroup.procs"
echo "$containerd" > "$daemons/cgroup.procs"

hz=$(getconf CLK_TCK)
ms_of_proc() { awk -v hz="$hz" '{ printf "%d", ($14 + $15) * 1000 / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# The kernel's own threads (children of kthreadd: journal commits, block I/O, deferred work), ms of CPU so far.
kernel_ms() { cat /proc/[0-9]*/stat 2>/dev/null | awk -v hz="$hz" '$4 == 2 { t += $14 + $15 } END { printf "%d", t * 1000 / hz }'; }
# machine, daemons (all), dockerd, containerd, containers, service, kernel threads: ms of CPU so far
snapshot() {
  echo "$(awk -v hz="$hz" '/^cpu /{ printf "%d", ($2 + $3 + $4 + $7 + $8) * 1000 / hz }' /proc/stat)" \
    "$(( $(cat "$daemons/cpuacct.usage") / 1000000 ))" "$(ms_of_proc "$dockerd")" "$(ms_of_proc "$containerd")" \
    "$(( $(cat "$acct/sandbox/cpuacct.usage" 2>/dev/null || echo 0) / 1000000 ))" "$( [ -n "$pid" ] && ms_of_proc "$pid" || echo 0)" \
    "$(kernel_ms)"
}
# $1 label, $2 snapshot before, $3 after, $4 the client's ms
row() {
  read -r m0 d0 k0 c0 x0 s0 t0 <<< "$2"; read -r m1 d1 k1 c1 x1 s1 t1 <<< "$3"
  awk -v l="$1" -v n="$n" -v m=$((m1 - m0)) -v d=$((d1 - d0)) -v k=$((k1 - k0)) -v c=$((c1 - c0)) -v x=$((x1 - x0)) -v s=$((s1 - s0)) -v t=$((t1 - t0)) -v cl="$4" \
    'BEGIN { printf "%-26s %8.1f %8.1f %10.1f %12.1f %10.1f %8.1f %8.1f %7.1f %8.1f\n", l, k / n, c / n, (d - k - c) / n, x / n, s / n, cl / n, t / n, (d + x + s + cl + t) / n, m / n }'
}
floor() {
  local before after
  before=$(snapshot)
  rate=$(perf_ms "$work/floor.stat" dotnet artifacts/bin/Sandbox.Bench/release/Sandbox.Bench.dll create-start-remove "$n" 8 "$(pwd)")
  after=$(snapshot)
  row "floor $1 ($rate/s)" "$before" "$after" "$(cat "$work/floor.stat")"
}
# Runs a command, printing its output, and writes the ms of CPU it used (its children included) to $1.
perf_ms() {
  local out=$1; shift
  /usr/bin/time -f '%U %S' -o "$out.time" "$@"
  awk '{ printf "%d", ($1 + $2) * 1000 }' "$out.time" > "$out"
}

header() { printf '%-26s %8s %8s %10s %12s %10s %8s %8s %7s %8s\n' "per run or container, ms" dockerd containerd "shims+rt" containers service client kernel "sum" machine; }
echo "bench-cpu: $n runs at concurrency 8 and $n floor containers 8 at a time; load average $(cut -d' ' -f1-3 /proc/loadavg)"
header
floor before

SANDBOX_API_KEY=$("$cli" agents create bench --profile python --rate 100000 --concurrency 256 \
  --daily-runs 10000000 --daily-cpu-seconds 8640000 --json --data "$work/data" | sed -n 's/^  "key": "\(.*\)",\?$/\1/p')
[ -n "$SANDBOX_API_KEY" ] || { echo "bench-cpu: could not create the bench's agent" >&2; exit 1; }
export SANDBOX_API_KEY
port=$("${bench[@]}" free-port)
url="http://127.0.0.1:$port"
# Loopback only; the data folder is ours and goes away with the run.
"$cli" serve --urls "$url" "--Sandbox:DataDirectory=$work/data" "$@" > "$work/service.log" 2>&1 &
pid=$!
for _ in $(seq 120); do curl -sf --noproxy '*' --max-time 5 -o /dev/null "$url/readyz" && break; sleep 0.5; done
curl -sf --noproxy '*' --max-time 5 -o /dev/null "$url/readyz" || { echo "bench-cpu: the service did not become ready" >&2; tail -n 40 "$work/service.log" >&2; exit 1; }

# The client's warm-up (40 sequential, 40 at concurrency 8) is left out: the window opens once it printed its warm-up line
# (the client then waits for a full pool) and closes when it printed the level's row.
# The client's CPU: its whole life from time(1), less what it had used when the window opened.
/usr/bin/time -f '%U %S' -o "$work/client.time" "${bench[@]}" --url "$url" --concurrency 8 --requests "$n" --interval-ms 0 --warmup 40 > "$work/client.txt" &
client=$!
until grep -q '^warm-up:' "$work/client.txt"; do kill -0 "$client" 2>/dev/null || { cat "$work/client.txt"; exit 1; }; sleep 0.05; done
sleep 0.3
before=$(snapshot) client_before=$(ms_of_proc "$(pgrep -P "$client" | head -n 1)")
until grep -qE '^ +8 ' "$work/client.txt"; do kill -0 "$client" 2>/dev/null || { cat "$work/client.txt"; exit 1; }; sleep 0.02; done
after=$(snapshot)
wait "$client" || true
client=
client_after=$(awk '{ printf "%d", ($1 + $2) * 1000 }' "$work/client.time")
level=$(grep -E '^ +8 ' "$work/client.txt" | awk '{ printf "%s runs/s, p50 %s ms, p99 %s ms, %s ok, %s errors, pool hit/miss %s", $7, $8, $9, $4, $6, $12 }')
row "warm, concurrency 8" "$before" "$after" "$((client_after - client_before))"
problems=$(grep -cE '^\[[0-9:]+ (ERR|FTL)\]' "$work/service.log" || true)
kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=
floor after
echo
echo "warm, concurrency 8: $level; the service logged $problems errors; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "shims+rt: containerd-shim and the runtime (runc, crun), counted with the daemons that started them. kernel: the kernel's"
echo "threads (journal, block I/O, deferred work), whoever caused them. sum: the parts named."
echo "machine: every process on it, other work included. The floor's client is a fresh .NET process (its start-up included)."
echo "The daemons and /sandbox are the machine's: containers others make meanwhile (tests, other services) are counted too."
