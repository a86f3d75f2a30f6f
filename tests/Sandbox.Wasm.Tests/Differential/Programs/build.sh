#!/usr/bin/env bash
# Development-time only: rebuilds the checked-in .wasm files from the .c files beside them, so
# neither tests nor CI need clang. Needs clang-14, lld-14 and wasi-libc (images/wasm-toolchain.sh).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../../../../images/wasm-toolchain.sh"
sysroot=$(mktemp -d)
trap 'rm -rf "$sysroot"' EXIT
wasm_sysroot "$sysroot"
for c in "$here"/*.c; do
    # --stack-first: a shadow-stack overflow traps instead of overwriting data.
    clang-14 --target=wasm32-wasi "--sysroot=$sysroot" -O2 -Wall -Wextra -Wl,--stack-first -Wl,--strip-all \
        "$c" -lm -o "${c%.c}.wasm"
done
