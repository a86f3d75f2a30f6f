#!/usr/bin/env bash
# make bench-api: `sandbox serve` on a free loopback port, driven over HTTP by a separate client process
# (bench/Sandbox.Bench.Api), three times side by side: Docker with its warm pool (the default settings), Docker cold
# (pool off) and python-wasm; prints throughput, p50/p99 latency, ok/429/error counts and warm-pool hits/misses of each
# at concurrency 1 back to back, concurrency 1 paced (one request per 250 ms: below the pool's exhaustion) and
# concurrency 8, the daemon's own container rates (create+start+remove, and create+remove) measured in the same run, and a
# summary.
# BENCH_API_ARGS go to the client (e.g. "--concurrency 1,8 --requests 20,80 --interval-ms 250,0 --warmup 5"; the default's
# 40 warm-up runs, sequential and then as many again at the highest level's concurrency, let the service's tiered JIT
# settle, so the levels measure it warm),
# BENCH_API_SERVE_ARGS to every service (e.g. "--Sandbox:MaxConcurrentRuns=4 --Sandbox:MaxQueueLength=16"),
# BENCH_API_MODES picks the services ("warm cold wasm session"; session: the cell x + 1 in one warm Python session;
# session-javascript and session-bash, not run by default: the same cell in a warm Node context or shell). Exits non-zero if a service does not start or every request fails.
set -euo pipefail
cd "$(dirname "$0")/.."
# SANDBOX_CLI picks another build of the service, e.g. an older one for a before/after comparison.
cli=${SANDBOX_CLI:-artifacts/sandbox/sandbox}
[ -x "$cli" ] || { echo "bench-api: $cli is missing; run make build" >&2; exit 1; }
dotnet build bench/Sandbox.Bench.Api -c Release --nologo -v quiet -clp:ErrorsOnly
dotnet build bench/Sandbox.Bench -c Release --nologo -v quiet -clp:ErrorsOnly
bench=(dotnet artifacts/bin/Sandbox.Bench.Api/release/Sandbox.Bench.Api.dll)
read -ra client_args <<< "${BENCH_API_ARGS:---concurrency 1,1,8 --requests 30,30,80 --interval-ms 0,250,0 --warmup 40}"
read -ra serve_args <<< "${BENCH_API_SERVE_ARGS:-}"
read -ra modes <<< "${BENCH_API_MODES:-warm cold wasm session}"

work=$(mktemp -d -t sandbox-bench-api.XXXXXX)
pid= client=
# SIGTERM lets the host drain (running runs finish, queued ones are cancelled); a service that hangs is killed after 30 s.
stop_service() {
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  local started status=0
  started=$(date +%s%N)
  kill -TERM "$pid"
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "bench-api: the service did not stop within 30 s of SIGTERM; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || status=$?
  echo "bench-api: service stopped (exit $status) $(( ($(date +%s%N) - started) / 1000000 )) ms after SIGTERM"
  pid=
}
cleanup() {
  [ -z "$client" ] || kill -TERM "$client" 2>/dev/null || true
  stop_service
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Every /v1 call acts for an agent: one of the bench's own, in the bench's own store, with caps far above any load
# level here, so the numbers are the runner's and never the guard's 429s.
SANDBOX_API_KEY=$("$cli" agents create bench --profile python,python-wasm,javascript,bash --rate 100000 --concurrency 256 \
  --daily-runs 10000000 --daily-cpu-seconds 8640000 --json --data "$work/data" | sed -n 's/^  "key": "\(.*\)",\?$/\1/p')
[ -n "$SANDBOX_API_KEY" ] || { echo "bench-api: could not create the bench's agent" >&2; exit 1; }
export SANDBOX_API_KEY

# One service and one client run: $1 names it, $2 is extra client arguments, the rest goes to the service.
run_mode() {
  local label=$1 extra=$2
  shift 2
  port=$("${bench[@]}" free-port)
  url="http://127.0.0.1:$port"
  # Loopback only; the data folder (logs) is ours and goes away with the run.
  "$cli" serve --urls "$url" "--Sandbox:DataDirectory=$work/data" "${serve_args[@]}" "$@" >"$work/service.log" 2>&1 &
  pid=$!

  ready=
  for _ in $(seq 120); do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" || true
      pid=
      echo "bench-api: the service exited during start-up; its log:" >&2
      tail -n 40 "$work/service.log" >&2
      exit 1
    fi
    if curl -sf --noproxy '*' --max-time 5 -o "$work/readyz.json" "$url/readyz"; then ready=1; break; fi
    sleep 0.5
  done
  if [ -z "$ready" ]; then
    echo "bench-api: $url/readyz did not answer 200 within 60 s; last answer and log:" >&2
    curl -s --noproxy '*' --max-time 5 "$url/readyz" >&2 || true
    echo >&2
    tail -n 40 "$work/service.log" >&2
    exit 1
  fi

  # In the background with `wait`, so an INT or TERM sent to this script is handled at once, not after the client ends.
  status=0
  # shellcheck disable=SC2086 # $extra is a word list on purpose
  "${bench[@]}" --url "$url" "${client_args[@]}" $extra >"$work/$label.txt" &
  client=$!
  wait "$client" || status=$?
  client=
  cat "$work/$label.txt"
  # The service's own CPU over its whole life (start-up, warm-up, levels, pool refills): on two cores it is taken from the runs.
  cpu_ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
  echo "bench-api: the service used $(awk -v t="$cpu_ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }') s of CPU in all"
  problems=$(grep -cE '^\[[0-9:]+ (ERR|FTL)\]' "$work/service.log" || true)
  [ "$problems" = 0 ] || { echo "bench-api: the service logged $problems errors; the first:"; grep -m 5 -E '^\[[0-9:]+ (ERR|FTL)\]' "$work/service.log"; }
  stop_service
  return "$status"
}

# The floors a fresh-container-per-run service is held to, measured now, on this machine, beside the service's levels
# (8 at a time through the Engine API): how fast this daemon makes whole sandboxes (the python profile's hardened spec
# with `true` as its program: created, started, waited for and removed), the rate no service that gives every run a
# fresh container can pass for long; and how fast it creates and removes containers it never starts (its bookkeeping).
floor() { dotnet artifacts/bin/Sandbox.Bench/release/Sandbox.Bench.dll "$@"; }
rate_start=$(floor create-start-remove 80 8 "$(pwd)")
rate=$(floor create-remove 80 8)
echo "bench-api: the daemon's container create+start+remove rate now: $rate_start containers/s (80, 8 at a time, hardened spec, Engine API)"
echo "bench-api: the daemon's container create+remove rate now (never started): $rate containers/s (80, 8 at a time, Engine API)"

failed=0
for mode in "${modes[@]}"; do
  echo
  case "$mode" in
    warm) echo "== docker, warm pool (default settings) =="; run_mode warm "" || failed=1 ;;
    cold) echo "== docker, cold (pool off) =="; run_mode cold "" --Sandbox:WarmPool:MaxContainers=0 || failed=1 ;;
    wasm) echo "== python-wasm =="; run_mode wasm "--backend wasm" --Sandbox:WarmPool:MaxContainers=0 || failed=1 ;;
    # A cell in a warm session (one at a time by design): the same client, the cell x + 1 instead of a run.
    session) echo "== docker, a warm Python session (cell x + 1) =="; run_mode session "--session python --concurrency 1 --requests 50 --interval-ms 0" --Sandbox:WarmPool:MaxContainers=0 || failed=1 ;;
    session-javascript) echo "== docker, a warm JavaScript session (cell x + 1) =="; run_mode session-javascript "--session javascript --concurrency 1 --requests 50 --interval-ms 0" --Sandbox:WarmPool:MaxContainers=0 || failed=1 ;;
    session-bash) echo "== docker, a warm bash session (cell echo \$((x + 1))) =="; run_mode session-bash "--session bash --concurrency 1 --requests 50 --interval-ms 0" --Sandbox:WarmPool:MaxContainers=0 || failed=1 ;;
    *) echo "bench-api: unknown mode '$mode' (warm, cold, wasm, session, session-javascript, session-bash)" >&2; exit 2 ;;
  esac
done

echo
# Measured again after the levels, so a floor taken on a machine that got busier or quieter meanwhile shows it.
rate_start_after=$(floor create-start-remove 80 8 "$(pwd)")
echo "summary (client side; create+start+remove floor $rate_start/s before the levels, $rate_start_after/s after; create+remove, never started, $rate/s)"
printf '%-18s %11s %7s %7s %8s %8s %13s\n' path concurrency "pace ms" runs/s "p50 ms" "p99 ms" "pool hit/miss"
for mode in "${modes[@]}"; do
  [ -f "$work/$mode.txt" ] || continue
  awk -v m="$mode" '$1 ~ /^[0-9]+$/ && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ && NF >= 12 { printf "%-18s %11s %7s %7s %8s %8s %13s\n", m, $1, $2, $7, $8, $9, $12 }' "$work/$mode.txt"
done
exit "$failed"
