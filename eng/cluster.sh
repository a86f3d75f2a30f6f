#!/usr/bin/env bash
# make cluster / make cluster-stop: a local cluster from nothing (issue 15, point 6). A private PostgreSQL (initdb and
# pg_ctl in the state folder, on a loopback port, never the system service), its database, CLUSTER_NODES `sandbox serve`
# nodes (default 3) on loopback ports sharing it (Sandbox:Store:Provider=postgres, a distinct Sandbox:Guard:NodeId
# each), and nginx in front of them on one loopback port, with its own configuration, pid and logs in the state folder.
#
#   bash eng/cluster.sh start    # prints the URL, the admin key's file and how to create an agent
#   bash eng/cluster.sh status   # each part's state
#   bash eng/cluster.sh stop     # nginx, then the nodes (SIGTERM: they drain), then PostgreSQL; keeps the state folder
#
# Settings (environment): CLUSTER_DIR (state folder, default artifacts/cluster), CLUSTER_NODES (1 to 9, default 3),
# CLUSTER_PORT (nginx's port, default 8090; 0 picks a free one), SANDBOX_CLI (default artifacts/sandbox/sandbox),
# CLUSTER_PROFILES (a profiles folder; default: the CLI's own), CLUSTER_PG_DURABLE (1, the default, keeps fsync on; 0 is
# for throwaway clusters in tests), CLUSTER_SERVE_ARGS (extra arguments for every node).
# Everything the tests and the benchmark need is written to $CLUSTER_DIR/cluster.env (mode 600: it holds the admin key
# and the database password), so `make test`, `make bench-cluster` and `make cluster` share this one script.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

state=$(realpath -m "${CLUSTER_DIR:-artifacts/cluster}")
nodes=${CLUSTER_NODES:-3}
cli=$(realpath -m "${SANDBOX_CLI:-artifacts/sandbox/sandbox}")
env_file=$state/cluster.env

die() { echo "cluster: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_bin() {
  local found
  found=$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n 1) \
    || die "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): apt-get install postgresql (eng/docker-up.sh does; its service need not run)"
  dirname "$found"
}

stop_cluster() {
  # nginx first, so no request reaches a node that is draining.
  if alive "$state/nginx/nginx.pid"; then
    local pid; pid=$(cat "$state/nginx/nginx.pid")
    kill -QUIT "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null || true
    echo "cluster: nginx stopped"
  fi
  # Every node at once: SIGTERM lets each drain (running runs finish within its grace period); killed after 40 s.
  local pids=()
  for pidfile in "$state"/nodes/*/serve.pid; do
    alive "$pidfile" && { pids+=("$(cat "$pidfile")"); kill -TERM "$(cat "$pidfile")" 2>/dev/null || true; }
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 400); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "cluster: node process $pid did not stop within 40 s of SIGTERM; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  [ "${#pids[@]}" -eq 0 ] || echo "cluster: ${#pids[@]} node(s) stopped"
  if [ -f "$state/pg/data/postmaster.pid" ]; then
    as_postgres "$(pg_bin)/pg_ctl" stop -D "$state/pg/data" -m fast -w -t 30 >/dev/null && echo "cluster: PostgreSQL stopped"
  fi
}

status_cluster() {
  [ -f "$env_file" ] || { echo "cluster: no cluster in $state (make cluster starts one)"; return 1; }
  # shellcheck source=/dev/null
  . "$env_file"
  local bad=0
  if as_postgres "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$CLUSTER_PG_PORT"; then echo "postgres  127.0.0.1:$CLUSTER_PG_PORT up"; else echo "postgres  127.0.0.1:$CLUSTER_PG_PORT DOWN"; bad=1; fi
  for url in $CLUSTER_NODE_URLS; do
    local code; code=$(curl -s --noproxy '*' --max-time 5 -o /dev/null -w '%{http_code}' "$url/readyz" || true)
    echo "node      $url readyz $code"; [ "$code" = 200 ] || bad=1
  done
  local code; code=$(curl -s --noproxy '*' --max-time 5 -o /dev/null -w '%{http_code}' "$CLUSTER_URL/healthz" || true)
  echo "nginx     $CLUSTER_URL healthz $code"; [ "$code" = 200 ] || bad=1
  return "$bad"
}

start_cluster() {
  [[ "$nodes" =~ ^[1-9]$ ]] || die "CLUSTER_NODES is '$nodes'; use 1 to 9"
  [ -x "$cli" ] || die "$cli is missing; run make build (or set SANDBOX_CLI)"
  command -v nginx >/dev/null || die "nginx is not installed: apt-get install nginx (eng/docker-up.sh does; its service need not run)"
  local bin; bin=$(pg_bin)
  if [ -f "$env_file" ] && status_cluster >/dev/null 2>&1; then
    echo "cluster: already running in $state"; print_usage; return 0
  fi
  stop_cluster >/dev/null 2>&1 || true
  rm -rf "$state"
  # Owner-only (plus traversal for postgres when we are root): the folder holds the password and the admin key.
  mkdir -p "$state" && chmod 711 "$state"

  local port=${CLUSTER_PORT:-8090}
  [ "$port" != 0 ] || port=$(free_port)
  local pg_port; pg_port=$(free_port)
  local password admin_key
  password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  admin_key=sbx_admin_cluster_$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')

  echo "cluster: PostgreSQL ($bin) on 127.0.0.1:$pg_port"
  mkdir -p "$state/pg" && chmod 700 "$state/pg"
  [ "$(id -u)" -ne 0 ] || chown postgres:postgres "$state/pg"  # PostgreSQL refuses to run as root
  printf '%s\n' "$password" > "$state/pg/password" && chmod 644 "$state/pg/password"  # inside a 700 folder
  [ "$(id -u)" -ne 0 ] || chown postgres:postgres "$state/pg/password"
  # Password authentication even on loopback: other users of the machine must not reach the cluster's database.
  as_postgres "$bin/initdb" -D "$state/pg/data" -U sandbox --pwfile "$state/pg/password" --auth scram-sha-256 \
    -E UTF8 --locale C --no-sync >"$state/pg/initdb.log" 2>&1 || { cat "$state/pg/initdb.log" >&2; die "initdb failed"; }
  rm -f "$state/pg/password"
  local durable=on
  [ "${CLUSTER_PG_DURABLE:-1}" = 1 ] || durable=off
  cat >>"$state/pg/data/postgresql.conf" <<EOF

# make cluster's own server: loopback only, its socket in its own folder, no system service involved.
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$state/pg'
max_connections = 200
shared_buffers = 64MB
# make bench-cluster reads the database's share of a run from here (time in each statement, commits included).
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track_utility = on
# Off only for throwaway clusters (CLUSTER_PG_DURABLE=0, the tests): a crash may lose the last commits.
fsync = $durable
synchronous_commit = $durable
full_page_writes = $durable
EOF
  as_postgres "$bin/pg_ctl" start -D "$state/pg/data" -l "$state/pg/server.log" -w -t 60 >/dev/null \
    || { tail -n 20 "$state/pg/server.log" >&2; die "PostgreSQL did not start"; }
  PGPASSWORD=$password "$bin/psql" -q -h 127.0.0.1 -p "$pg_port" -U sandbox -d postgres -v ON_ERROR_STOP=1 \
    -c 'CREATE DATABASE sandbox' >/dev/null
  PGPASSWORD=$password "$bin/psql" -q -h 127.0.0.1 -p "$pg_port" -U sandbox -d sandbox -v ON_ERROR_STOP=1 \
    -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' >/dev/null
  local connection="Host=127.0.0.1;Port=$pg_port;Database=sandbox;Username=sandbox;Password=$password"

  local profiles_args=()
  [ -z "${CLUSTER_PROFILES:-}" ] || profiles_args=(--profiles "$(realpath "$CLUSTER_PROFILES")")
  local serve_args=()
  read -ra serve_args <<< "${CLUSTER_SERVE_ARGS:-}"
  local urls=() upstreams=""
  for i in $(seq 1 "$nodes"); do
    local node_port; node_port=$(free_port)
    local dir=$state/nodes/node-$i
    mkdir -p "$dir"
    # The store's settings come from the environment, never the command line: the connection string holds a password.
    Sandbox__Store__Provider=postgres Sandbox__Store__ConnectionString="$connection" Sandbox__Guard__NodeId="node-$i" \
      Sandbox__Guard__AdminKey="$admin_key" SANDBOX_DATA="$dir/data" \
      setsid "$cli" serve --urls "http://127.0.0.1:$node_port" "${profiles_args[@]}" "${serve_args[@]}" \
      >"$dir/serve.log" 2>&1 < /dev/null &
    echo $! > "$dir/serve.pid"
    urls+=("http://127.0.0.1:$node_port")
    # Passive health checks (open-source nginx has no active ones): a node that refuses connections or answers 502/503
    # is taken out for 5 s after one failure, and requests not yet sent to it go to the next node.
    upstreams+="        server 127.0.0.1:$node_port max_fails=1 fail_timeout=5s;"$'\n'
  done
  echo "cluster: $nodes node(s) starting: ${urls[*]}"
  for i in $(seq 1 "$nodes"); do
    local url=${urls[$((i - 1))]} dir=$state/nodes/node-$i ok=
    for _ in $(seq 600); do
      alive "$dir/serve.pid" || { tail -n 30 "$dir/serve.log" >&2; die "node-$i exited during start-up (log: $dir/serve.log)"; }
      curl -sf --noproxy '*' --max-time 2 -o /dev/null "$url/healthz" && { ok=1; break; }
      sleep 0.1
    done
    [ -n "$ok" ] || { tail -n 30 "$dir/serve.log" >&2; die "node-$i did not answer /healthz within 60 s"; }
  done

  mkdir -p "$state/nginx/temp"
  local user_line=""
  if [ "$(id -u)" -eq 0 ]; then
    # Workers drop root; only the temp folder is theirs to write.
    user_line="user nobody nogroup;"
    chown nobody:nogroup "$state/nginx/temp"
  fi
  cat >"$state/nginx/nginx.conf" <<EOF
# make cluster's nginx: its own pid, logs and temp files in the state folder; never the system service.
$user_line
worker_processes 1;
pid $state/nginx/nginx.pid;
error_log $state/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log $state/nginx/access.log;
    client_body_temp_path $state/nginx/temp/body;
    proxy_temp_path $state/nginx/temp/proxy;
    fastcgi_temp_path $state/nginx/temp/fastcgi;
    uwsgi_temp_path $state/nginx/temp/uwsgi;
    scgi_temp_path $state/nginx/temp/scgi;

    upstream sandbox_nodes {
$upstreams        # Kept-alive connections to the nodes: a run's POST does not pay a new TCP handshake.
        keepalive 32;
    }

    server {
        # Loopback only: this cluster is for this machine.
        listen 127.0.0.1:$port;
        # The nodes enforce their own body limit (Sandbox:MaxRequestBodyBytes) and answer it as problem+json; nginx
        # streams the body through instead of buffering it to disk first.
        client_max_body_size 0;
        proxy_request_buffering off;

        location / {
            proxy_pass http://sandbox_nodes;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            # Server-Sent Events (GET /v1/runs/{id}/events) must reach the client as each event is written.
            proxy_buffering off;
            proxy_cache off;
            # A synchronous POST /v1/runs answers when its run ends, and an event stream stays open as long as its run.
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
            # A node that refuses the connection, or answers 502/503, is skipped. POSTs already sent are never resent to
            # another node (nginx's default for non-idempotent methods): a run must not start twice.
            # http_404: a run is held by the node that admitted it, so its GET, events and DELETE reaching another node
            # go on to the next until the holder answers (a 404 never counts against a node's health; every node is
            # tried once at most). Claiming and stored reads on every node (issue 15, point 2) make this a fallback.
            proxy_next_upstream error timeout http_502 http_503 http_404;
            proxy_next_upstream_tries $nodes;
        }
    }
}
EOF
  nginx -p "$state/nginx" -c "$state/nginx/nginx.conf" -e "$state/nginx/error.log" -t -q \
    || die "nginx refused its configuration ($state/nginx/nginx.conf)"
  nginx -p "$state/nginx" -c "$state/nginx/nginx.conf" -e "$state/nginx/error.log" \
    || die "nginx did not start (port $port taken? CLUSTER_PORT picks another; log: $state/nginx/error.log)"
  local ok=
  for _ in $(seq 100); do curl -sf --noproxy '*' --max-time 2 -o /dev/null "http://127.0.0.1:$port/healthz" && { ok=1; break; }; sleep 0.1; done
  [ -n "$ok" ] || die "nginx on 127.0.0.1:$port did not answer /healthz (log: $state/nginx/error.log)"

  (
    umask 077
    cat >"$env_file" <<EOF
# make cluster's settings: '. $env_file' points the CLI (sandbox agents, sandbox audit verify) at the cluster's store.
CLUSTER_URL=http://127.0.0.1:$port
CLUSTER_NODE_URLS="${urls[*]}"
CLUSTER_PG_PORT=$pg_port
CLUSTER_PG_BIN=$bin
CLUSTER_ADMIN_KEY=$admin_key
export Sandbox__Store__Provider=postgres
export Sandbox__Store__ConnectionString="$connection"
EOF
  )
  for i in $(seq 1 "$nodes"); do
    local code; code=$(curl -s --noproxy '*' --max-time 10 -o /dev/null -w '%{http_code}' "${urls[$((i - 1))]}/readyz" || true)
    [ "$code" = 200 ] || echo "cluster: warning: node-$i's /readyz answers $code (missing images? make images guests); see ${urls[$((i - 1))]}/readyz"
  done
  print_usage
}

print_usage() {
  # shellcheck source=/dev/null
  . "$env_file"
  cat <<EOF

cluster: $nodes node(s) behind nginx at $CLUSTER_URL (state and logs: $state)
  nodes:     $CLUSTER_NODE_URLS
  database:  PostgreSQL on 127.0.0.1:$CLUSTER_PG_PORT, database sandbox (settings in $env_file)
  admin key: in $env_file (CLUSTER_ADMIN_KEY), for /admin/v1 and /console

Create an agent (the store is shared, so any node takes its key) and run something through nginx:
  . $env_file
  KEY=\$($cli agents create my-agent --profile python --json | sed -n 's/^  "key": "\(.*\)",\?\$/\1/p')
  curl -s $CLUSTER_URL/v1/runs -H "authorization: Bearer \$KEY" -H 'content-type: application/json' \\
    -d '{"language": "python", "code": "print(1+1)", "purpose": "hello cluster"}'
Stop it: make cluster-stop
EOF
}

case "${1:-start}" in
  start) start_cluster ;;
  stop) stop_cluster ;;
  status) status_cluster ;;
  *) die "usage: eng/cluster.sh start|stop|status" ;;
esac
