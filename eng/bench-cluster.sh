#!/usr/bin/env bash
# make bench-cluster: make cluster's cluster (eng/cluster.sh: PostgreSQL, N sandbox serve nodes, nginx) at 1, 2 and 3
# nodes in turn, each driven through nginx by the API bench client (bench/Sandbox.Bench.Api: Python print('hello'),
# Docker with its warm pool, closed loop at a fixed concurrency), with the database's share of each run measured from
# PostgreSQL's own pg_stat_statements (time executing statements, commits and the write lock's waits included) over
# exactly the measured runs. Prints numbers; not a timed test.
# BENCH_CLUSTER_NODES (default "1 2 3"), BENCH_CLUSTER_ARGS for the client (default "--concurrency 4 --requests 40").
set -euo pipefail
cd "$(dirname "$0")/.."
cli=$(realpath -m "${SANDBOX_CLI:-artifacts/sandbox/sandbox}")
[ -x "$cli" ] || { echo "bench-cluster: $cli is missing; run make build" >&2; exit 1; }
dotnet build bench/Sandbox.Bench.Api -c Release --nologo -v quiet -clp:ErrorsOnly
bench=(dotnet artifacts/bin/Sandbox.Bench.Api/release/Sandbox.Bench.Api.dll)
read -ra levels <<< "${BENCH_CLUSTER_NODES:-1 2 3}"
read -ra client_args <<< "${BENCH_CLUSTER_ARGS:---concurrency 4 --requests 40}"

work=$(mktemp -d -t sandbox-bench-cluster.XXXXXX)
chmod 711 "$work"   # traversable by the postgres user the cluster's server runs as (when root)
current=
cleanup() {
  [ -z "$current" ] || CLUSTER_DIR=$current bash eng/cluster.sh stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

psql_cluster() { # sql: one row, fields separated by '|'
  PGPASSWORD=${Sandbox__Store__ConnectionString##*Password=} "$CLUSTER_PG_BIN/psql" -qAt -h 127.0.0.1 -p "$CLUSTER_PG_PORT" \
    -U sandbox -d sandbox -v ON_ERROR_STOP=1 -c "$1"
}

echo "bench-cluster: $(nproc) cores; nodes share this machine's CPU and one dockerd; load: ${client_args[*]} through nginx"
for n in "${levels[@]}"; do
  echo
  echo "== $n node(s) =="
  current=$work/cluster-$n
  CLUSTER_DIR=$current CLUSTER_NODES=$n CLUSTER_PORT=0 SANDBOX_CLI=$cli bash eng/cluster.sh start >"$work/start-$n.log" 2>&1 \
    || { cat "$work/start-$n.log" >&2; exit 1; }
  # shellcheck source=/dev/null
  . "$current/cluster.env"
  # Caps far above the load, so the numbers are the nodes' and the store's, never the guard's 429s.
  SANDBOX_API_KEY=$("$cli" agents create bench --profile python --rate 100000 --concurrency 256 --daily-runs 10000000 \
    --daily-cpu-seconds 8640000 --json | sed -n 's/^  "key": "\(.*\)",\?$/\1/p')
  [ -n "$SANDBOX_API_KEY" ] || { echo "bench-cluster: could not create the bench's agent" >&2; exit 1; }
  export SANDBOX_API_KEY
  # Warm every node's pool and connections (round-robin reaches each), then count only what follows.
  "${bench[@]}" --url "$CLUSTER_URL" --concurrency "$n" --requests $((n * 4)) --warmup 0 >/dev/null
  psql_cluster "SELECT pg_stat_statements_reset()" >/dev/null
  read -r commits_before < <(psql_cluster "SELECT xact_commit FROM pg_stat_database WHERE datname = 'sandbox'")
  "${bench[@]}" --url "$CLUSTER_URL" "${client_args[@]}" --warmup 0 | tee "$work/client-$n.txt"
  read -r commits_after < <(psql_cluster "SELECT xact_commit FROM pg_stat_database WHERE datname = 'sandbox'")
  runs=$(awk '$1 ~ /^[0-9]+$/ && NF >= 9 { ok += $3 } END { print ok + 0 }' "$work/client-$n.txt")
  # Statement time over every statement of the window (the nodes' 200 ms watchers included: they are part of the load);
  # the write lock's own line is the time writers waited for one another.
  IFS='|' read -r db_ms calls lock_ms < <(psql_cluster "SELECT round(sum(total_exec_time)::numeric, 1), sum(calls),
      round(coalesce(sum(total_exec_time) FILTER (WHERE query LIKE '%pg_advisory_xact_lock%'), 0)::numeric, 1)
    FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'sandbox')")
  awk -v n="$n" -v runs="$runs" -v db="$db_ms" -v calls="$calls" -v lock="$lock_ms" -v commits=$((commits_after - commits_before)) '
    $1 ~ /^[0-9]+$/ && NF >= 9 { rps = $6; p50 = $7; p99 = $8 }
    END { if (runs == 0) exit 1;
          printf "%d %s %s %s %.1f %.1f %.1f %.1f %.1f\n", n, rps, p50, p99, db / runs, lock / runs, calls / runs, commits / runs, 100 * (db / runs) / p50 }' \
    "$work/client-$n.txt" >> "$work/summary.txt"
  CLUSTER_DIR=$current bash eng/cluster.sh stop >/dev/null
  current=
done

echo
echo "summary (client side through nginx; database from pg_stat_statements over the measured runs only)"
printf '%5s %7s %7s %7s %11s %13s %10s %12s %13s\n' nodes runs/s "p50 ms" "p99 ms" "db ms/run" "lock ms/run" "stmts/run" "commits/run" "db % of p50"
awk '{ printf "%5s %7s %7s %7s %11s %13s %10s %12s %12s%%\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }' "$work/summary.txt"
echo "db ms/run: time PostgreSQL spent executing statements (the write lock's waits and the commits included) per measured run;"
echo "it leaves out the round trips between node and server. commits/run: transactions committed per run, watchers' included."
