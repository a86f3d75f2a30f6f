#!/usr/bin/env bash
# Installs Docker, gVisor, debootstrap, PostgreSQL and nginx from Debian if missing, writes the daemon configuration of
# ../shared/ENVIRONMENT.md and starts dockerd if it does not answer. Shared by `.ci/run` and `make run`.
# Idempotent: on a warm machine it takes about a second.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export DEBIAN_FRONTEND=noninteractive
docker_sock=/var/run/docker.sock
docker_log=/var/log/dockerd.log

phase_started=0
phase() { phase_name=$1; phase_started=$(date +%s.%N); echo "::: $phase_name"; }
phase_done() { awk -v a="$phase_started" -v b="$(date +%s.%N)" -v n="$phase_name" 'BEGIN { printf "::: %s took %.1f s\n", n, b - a }'; }
ping_docker() { curl -sf --max-time 2 --unix-socket "$docker_sock" http://localhost/_ping >/dev/null 2>&1; }

[ "$(id -u)" -eq 0 ] || { echo ".ci/run must run as root (it installs packages and starts dockerd)" >&2; exit 1; }

phase "packages"
# command -> Debian package that provides it; apt runs only when something is missing.
declare -A wanted=([dockerd]=docker.io [docker]=docker.io [runsc]=runsc [debootstrap]=debootstrap
                   [make]=make [curl]=curl [python3]=python3 [gcc]=gcc [awk]=gawk
                   [bwrap]=bubblewrap [setpriv]=util-linux     # the WebAssembly worker's sandbox (src/Sandbox.Wasm/Backend/WorkerLauncher.cs)
                   [promtool]=prometheus                       # lints /metrics in make test (its service is kept from starting, as dockerd's)
                   [crun]=crun                                 # a third OCI runtime next to runc and runsc (issue 13: measured; the shipped profiles use it)
                   [chromium]=chromium                         # the console's browser tests (tests/…/OperatorConsole) drive it through Playwright
                   [nginx]=nginx)                              # make cluster's load balancer (eng/cluster.sh runs its own; the system service is kept from starting)
missing=()
for cmd in "${!wanted[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${wanted[$cmd]}")
done
# PostgreSQL's server binaries are off PATH (/usr/lib/postgresql/VERSION/bin): the PostgreSQL store's tests start a
# private server of their own with initdb and pg_ctl from there. Its system service is kept from starting, as dockerd's.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
# images/build.sh links sandbox-entry statically (it runs in every image, whatever libc the image has).
compgen -G '/usr/lib/*/libc.a' >/dev/null || missing+=(libc6-dev)
if [ "${#missing[@]}" -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "installing: ${missing[*]}"
  apt-get update -q
  # Keep the packages' maintainer scripts from starting dockerd with Debian's default configuration
  # (a bridge and iptables, which this machine cannot have); this script starts it configured.
  policy=/usr/sbin/policy-rc.d created_policy=false
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy"
    created_policy=true
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get install -y -q --no-install-recommends "${missing[@]}"
  if $created_policy; then rm -f "$policy"; trap - EXIT; fi
else
  echo "docker, runsc, crun, debootstrap, bubblewrap, promtool, chromium, postgresql, nginx and the build tools are installed"
fi
command -v dotnet >/dev/null 2>&1 || { echo "the .NET SDK (see global.json) is not on PATH; it does not come from Debian" >&2; exit 1; }
phase_done

phase "dockerd"
# Exactly the configuration of ../shared/ENVIRONMENT.md: no bridge (there is no network to give
# containers), no iptables, and gVisor registered with our seccomp profile applied inside it.
# crun is registered too, so a profile or a benchmark can choose it by name.
daemon_json='{ "bridge": "none", "iptables": false,
  "runtimes": { "runsc": { "path": "/usr/bin/runsc",
                           "runtimeArgs": ["--network=none", "--oci-seccomp"] },
                "crun": { "path": "/usr/bin/crun" } } }'
# crun refuses a hybrid cgroup layout whose cgroup2 mount holds a controller ("cgroups in hybrid mode not
# supported"): here the unified mount holds hugetlb. Binding hugetlb to a v1 hierarchy of its own empties it.
if [ -d /sys/fs/cgroup/unified ] && grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null \
   && ! mountpoint -q /sys/fs/cgroup/hugetlb; then
  mkdir -p /sys/fs/cgroup/hugetlb
  mount -t cgroup -o hugetlb none /sys/fs/cgroup/hugetlb && echo "mounted the hugetlb cgroup v1 hierarchy (for crun)"
fi
mkdir -p /etc/docker
config_changed=false
if [ "$(cat /etc/docker/daemon.json 2>/dev/null || true)" != "$daemon_json" ]; then
  printf '%s\n' "$daemon_json" > /etc/docker/daemon.json
  config_changed=true
  echo "wrote /etc/docker/daemon.json"
fi
if $config_changed && ping_docker; then
  # bridge and iptables are not reloadable: a daemon started with another configuration must restart.
  echo "daemon.json changed: stopping the running dockerd"
  pid=$(cat /var/run/docker.pid 2>/dev/null || true)
  if [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; then
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  fi
fi
if ping_docker; then
  echo "dockerd is running"
else
  echo "starting dockerd (log: $docker_log)"
  setsid dockerd >>"$docker_log" 2>&1 < /dev/null &
  for _ in $(seq 1 60); do
    ping_docker && break
    sleep 1
  done
  if ! ping_docker; then
    echo "dockerd did not answer GET /_ping within 60 s; last lines of $docker_log:" >&2
    tail -n 40 "$docker_log" >&2 || true
    exit 1
  fi
fi
docker info --format '{{.ServerVersion}} {{.Driver}} cgroup v{{.CgroupVersion}} runtimes: {{range $k, $v := .Runtimes}}{{$k}} {{end}}'
docker info --format '{{range $k, $v := .Runtimes}}{{$k}} {{end}}' | grep -qw runsc \
  || { echo "dockerd does not know the runsc runtime; check /etc/docker/daemon.json" >&2; exit 1; }
phase_done

