#!/usr/bin/env bash
# QuickJS 2021-03-27 for wasm32-wasi. Debian does not package QuickJS; the npm package qjsc@0.3.0
# ships its full C sources (deps/quickjs_2021_03_27/), fetched here with npm at build time and
# never committed. Our main.c replaces quickjs-libc.c (which needs fork and signals).
# Output: build/out/qjs.wasm (stripped, WebAssembly 1.0, wasi_snapshot_preview1 imports only).
# Idempotent: a second run with the same recipe returns at once (build/out/.stamp holds the hash).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../wasm-toolchain.sh"

out=$here/build/out
hash=$(wasm_recipe_hash "${BASH_SOURCE[0]}" "$here/main.c")
if ! wasm_needs_rebuild "$out" "$hash"; then
    echo "javascript-wasm: up to date ($out)"
    exit 0
fi

wasm_toolchain_install
command -v npm >/dev/null || { echo "javascript-wasm: npm is needed to fetch qjsc@0.3.0" >&2; exit 1; }

work=$here/build/src
rm -rf "$work" "$out"
mkdir -p "$work" "$out"
cd "$work"
tarball=$(npm pack qjsc@0.3.0 --silent)
tar xzf "$tarball"
src=$work/package/deps/quickjs_2021_03_27
[[ $(cat "$src/VERSION") == 2021-03-27 ]] || { echo "javascript-wasm: unexpected QuickJS version" >&2; exit 1; }

# Patch 1: Atomics need OS threads; WASI preview1 has none.
perl -0pi -e 's/#if !defined\(EMSCRIPTEN\)\n#define CONFIG_ATOMICS/#if !defined(EMSCRIPTEN) && !defined(__wasi__)\n#define CONFIG_ATOMICS/' "$src/quickjs.c"
grep -q '!defined(__wasi__)' "$src/quickjs.c" || { echo "javascript-wasm: patch 1 did not apply" >&2; exit 1; }
# Patch 2: wasi-libc defines malloc_usable_size but declares it nowhere, and its fenv.h has only
# round-to-nearest. With these values fesetround() fails and rounding stays to-nearest, which only
# affects the last digit of a few toPrecision/toFixed results.
perl -0pi -e 's/#include <fenv.h>\n/#include <fenv.h>\n#if defined(__wasi__)\nsize_t malloc_usable_size(void *ptr);\n#define FE_DOWNWARD 0x400\n#define FE_UPWARD 0x800\n#endif\n/' "$src/quickjs.c"
grep -q 'define FE_UPWARD' "$src/quickjs.c" || { echo "javascript-wasm: patch 2 did not apply" >&2; exit 1; }

sysroot=$work/sysroot
wasm_sysroot "$sysroot"
cflags=(--target=wasm32-wasi "--sysroot=$sysroot" -O2 -D_GNU_SOURCE '-DCONFIG_VERSION="2021-03-27"' -DCONFIG_BIGNUM
    -funsigned-char -Wno-everything "-I$src")
objs=() pids=()
for c in "$src"/{quickjs,libregexp,libunicode,cutils,libbf}.c "$here/main.c"; do
    o=$work/$(basename "$c" .c).o
    clang-14 "${cflags[@]}" -c "$c" -o "$o" &
    objs+=("$o") pids+=($!)
done
# One wait per compiler: a bare `wait` would report success even when one of them failed.
for pid in "${pids[@]}"; do wait "$pid"; done
# --stack-first: a shadow-stack overflow runs into address 0 and traps instead of silently
# overwriting the data section. 1 MiB of stack is above main.c's JS_SetMaxStackSize default.
clang-14 "${cflags[@]}" -Wl,--stack-first -Wl,-z,stack-size=1048576 -Wl,--strip-all \
    "${objs[@]}" -lm -o "$out/qjs.wasm"

if wasm-objdump -j Import -x "$out/qjs.wasm" | grep -- '<-' | grep -v 'wasi_snapshot_preview1\.' >&2; then
    echo "javascript-wasm: unexpected imports" >&2
    exit 1
fi
echo "$hash" >"$out/.stamp"
echo "javascript-wasm: built $out/qjs.wasm ($(stat -c %s "$out/qjs.wasm") bytes)"
