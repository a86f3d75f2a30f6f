#!/usr/bin/env bash
# make bench-runtimes: the same hardened Python hello through our backend under each container runtime (runc, crun,
# runsc): sequential create+start+wait+remove p50/p99 and runs/s at concurrency 8. BENCH_RUNS sequential runs each
# (default 30), BENCH_CONCURRENT concurrent runs each (default 64); arguments narrow the runtimes (e.g. runc crun).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/Sandbox.Bench -c Release --nologo -v quiet -clp:ErrorsOnly
dotnet artifacts/bin/Sandbox.Bench/release/Sandbox.Bench.dll runtimes --repo "$(pwd)" \
  --runs "${BENCH_RUNS:-30}" --concurrent "${BENCH_CONCURRENT:-64}" "$@"
