#!/usr/bin/env bash
# Builds the WebAssembly guests (CPython and QuickJS for wasm32-wasi) from registry sources into
# images/<name>/build/out/. Each recipe is cached by its own hash, so a warm run takes about a second.
# Not part of images/build.sh: these folders have no Dockerfile, and the guests need no Docker.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for guest in python-wasm javascript-wasm; do
    started=$(date +%s.%N)
    bash "$here/$guest/build.sh"
    awk -v a="$started" -v b="$(date +%s.%N)" -v n="$guest" 'BEGIN { printf "%s: %.1f s\n", n, b - a }'
done
