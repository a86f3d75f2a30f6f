#!/usr/bin/env bash
# make bench: our backend vs `docker run --rm` with the same hardening, N Python hello-world runs each.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${BENCH_RUNS:-30}"
dotnet build bench/Sandbox.Bench -c Release --nologo -v quiet -clp:ErrorsOnly
dotnet artifacts/bin/Sandbox.Bench/release/Sandbox.Bench.dll "$n" "$(pwd)"
