#!/usr/bin/env bash
# CPython 3.11 for wasm32-wasi from Debian's own source package (no WASI SDK download: Debian's
# clang-14, lld-14, wasi-libc and wasm32 builtins stand in for it). Output, in build/out/:
#   python.wasm                       stripped, WebAssembly 1.0, wasi_snapshot_preview1 imports only
#   usr-local/lib/python311.zip        the stdlib (pyc only); preopen usr-local as /usr/local
#   usr-local/lib/python3.11/os.py     the marker getpath looks for
#   usr-local/lib/python3.11/lib-dynload/   empty (no dynamic loading on WASI)
# Idempotent: a second run with the same recipe returns at once (build/out/.stamp holds the hash).
# Cold: about 2.5 min on 2 idle cores; the source trees stay in build/src for inspection.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../wasm-toolchain.sh"

out=$here/build/out
hash=$(wasm_recipe_hash "${BASH_SOURCE[0]}" "$here/guest-paths.py")
if ! wasm_needs_rebuild "$out" "$hash"; then
    echo "python-wasm: up to date ($out)"
    exit 0
fi

wasm_toolchain_install
# configure runs the build Python for freezing and must match the sources (Debian's 3.11.2).
wasm_apt_install python3.11 dpkg-dev make
wasm_enable_deb_src

work=$here/build/src
rm -rf "$work" "$out"
mkdir -p "$work"
cd "$work"
# Compiler chatter goes to a log; a failing step prints its tail, so CI output stays readable.
log=$work/build.log
step() { "$@" >>"$log" 2>&1 || { echo "python-wasm: failed: $*" >&2; tail -n 60 "$log" >&2; exit 1; }; }
# Debian's package, with Debian's patches applied (that is where its security fixes live).
step apt-get source -qq python3.11 zlib
py_src=$(find "$work" -maxdepth 1 -type d -name 'python3.11-*' | head -n1)
zlib_src=$(find "$work" -maxdepth 1 -type d -name 'zlib-*' | head -n1)

# A stand-in for the WASI SDK layout that Tools/wasm/wasi-env expects.
sdk=$work/wasi-sdk
mkdir -p "$sdk/bin" "$sdk/share"
wasm_sysroot "$sdk/share/wasi-sysroot"
# -ffile-prefix-map: __FILE__ in asserts and fatal errors names /usr/local/src, not this checkout.
for tool in clang clang++; do
    printf '#!/bin/sh\nexec clang-14 --target=wasm32-wasi -ffile-prefix-map=%s=/usr/local/src "$@"\n' "$work" >"$sdk/bin/$tool"
done
printf '#!/bin/sh\nexec clang-14 --target=wasm32-wasi -E "$@"\n' >"$sdk/bin/clang-cpp"
ln -sf /usr/bin/wasm-ld-14 "$sdk/bin/wasm-ld"
ln -sf /usr/bin/llvm-ar-14 "$sdk/bin/llvm-ar"
ln -sf /usr/bin/llvm-ranlib-14 "$sdk/bin/ranlib"
chmod +x "$sdk/bin/clang" "$sdk/bin/clang++" "$sdk/bin/clang-cpp"
cc="$sdk/bin/clang --sysroot=$sdk/share/wasi-sysroot"
jobs=$(nproc)

# zlib, static, for the zlib module and a deflated stdlib zip. Its own configure probes for shared
# libraries, so compile the library sources directly.
zlib_out=$work/zlib-wasm
mkdir -p "$zlib_out/include" "$zlib_out/lib"
(
    cd "$zlib_src"
    objs=()
    for c in adler32 compress crc32 deflate gzclose gzlib gzread gzwrite infback inffast inflate inftrees trees uncompr zutil; do
        step $cc -O2 -D_LARGEFILE64_SOURCE=1 -c "$c.c" -o "$zlib_out/$c.o"
        objs+=("$zlib_out/$c.o")
    done
    llvm-ar-14 rcs "$zlib_out/lib/libz.a" "${objs[@]}"
    cp zlib.h zconf.h "$zlib_out/include/"
)

build=$work/cpython-wasi
mkdir -p "$build"
cd "$build"
export WASI_SDK_PATH=$sdk
export CONFIG_SITE=$py_src/Tools/wasm/config.site-wasm32-wasi
export ZLIB_CFLAGS="-I$zlib_out/include" ZLIB_LIBS="-L$zlib_out/lib -lz"
# configure by a relative path: srcdir (compiled into getpath as VPATH, and into sysconfig) then names no host folder.
step "$py_src/Tools/wasm/wasi-env" "../$(basename "$py_src")/configure" \
    --host=wasm32-unknown-wasi --build="$("$py_src/config.guess")" \
    --with-build-python=/usr/bin/python3.11 \
    --prefix=/usr/local --disable-test-modules
step "$py_src/Tools/wasm/wasi-env" make -j"$jobs" all
step "$py_src/Tools/wasm/wasi-env" make wasm_stdlib

mkdir -p "$out/usr-local/lib/python3.11/lib-dynload"
llvm-strip-14 -o "$out/python.wasm" python.wasm
# The zip's code objects name the guest's paths, not this checkout's: tracebacks must not show the build machine.
step /usr/bin/python3.11 "$here/guest-paths.py" usr/local/lib/python311.zip "$out/usr-local/lib/python311.zip" /usr/local/lib/python311.zip "$work"
# grep -c reads to the end: with pipefail, grep -q would stop early and the SIGPIPE would hide a match.
if grep -a -q -F "$work" "$out/python.wasm" || [ "$(unzip -p "$out/usr-local/lib/python311.zip" | grep -a -c -F "$work")" != 0 ]; then
    echo "python-wasm: the guest still names a build path ($work)" >&2
    exit 1
fi
cp usr/local/lib/python3.11/os.py "$out/usr-local/lib/python3.11/"

# The guest must import nothing but WASI preview1, or our host cannot link it.
if wasm-objdump -j Import -x "$out/python.wasm" | grep -- '<-' | grep -v 'wasi_snapshot_preview1\.' >&2; then
    echo "python-wasm: unexpected imports" >&2
    exit 1
fi
echo "$hash" >"$out/.stamp"
echo "python-wasm: built $out/python.wasm ($(stat -c %s "$out/python.wasm") bytes)"
