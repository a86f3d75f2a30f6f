# Shared by images/python-wasm/build.sh and images/javascript-wasm/build.sh (sourced, not run).
# Everything comes from Debian's registry: the wasm32 toolchain from apt, guest sources from
# `apt-get source` (deb-src for the same mirror the host already uses) or npm.

# wasm_needs_rebuild <out-dir> <hash>: true unless <out-dir>/.stamp holds <hash>, so a warm run
# does nothing at all (no apt, no network).
wasm_needs_rebuild() {
    [[ ! -f "$1/.stamp" || "$(cat "$1/.stamp")" != "$2" ]]
}

# wasm_recipe_hash <files...>: the cache key. Any edit to the recipe (script, patches, our main.c,
# this helper) rebuilds; nothing else does.
wasm_recipe_hash() {
    cat "$@" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1
}

wasm_apt_install() {
    local missing=()
    for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
    ((${#missing[@]} == 0)) && return 0
    echo "apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The compiler, linker, libc and builtins for wasm32-wasi, plus wabt/binaryen for inspection.
wasm_toolchain_install() {
    wasm_apt_install clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 wabt binaryen
}

# wasm_enable_deb_src: add deb-src entries for the host's own Debian mirror (read from
# /etc/apt/sources.list and sources.list.d; no host name is written down here), for the
# distribution's main suites only, so third-party repositories are left alone.
wasm_enable_deb_src() {
    local target=/etc/apt/sources.list.d/sandbox-deb-src.sources
    [[ -f $target ]] && return 0
    local codename
    codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
    local entries
    entries=$(
        {
            # One-line format: "deb [opts] URI suite components..."
            cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk -v c="$codename" '
                $1 == "deb" {
                    i = 2; opts = ""
                    if ($2 ~ /^\[/) { while ($i !~ /\]$/) { opts = opts " " $i; i++ } opts = opts " " $i; i++ }
                    if ($(i + 1) != c) next
                    comps = ""; for (j = i + 2; j <= NF; j++) comps = comps " " $j
                    signed = ""
                    if (match(opts, /signed-by=[^] ]+/)) signed = substr(opts, RSTART + 10, RLENGTH - 10)
                    printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents:%s\n", $i, c, comps
                    if (signed != "") printf "Signed-By: %s\n", signed
                    print ""
                }'
            # deb822 format: stanzas separated by blank lines.
            cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v c="$codename" '
                function flush() {
                    if (types ~ /(^| )deb( |$)/ && uris != "" && (" " suites " ") ~ (" " c " ")) {
                        printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n", uris, c, comps
                        if (signed != "") printf "Signed-By: %s\n", signed
                        print ""
                    }
                    types = uris = suites = comps = signed = ""
                }
                /^[ \t]*$/ { flush(); next }
                /^#/ { next }
                /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
                /^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
                /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
                /^Components:/ { sub(/^Components:[ \t]*/, ""); comps = $0 }
                /^Signed-By:/ { sub(/^Signed-By:[ \t]*/, ""); signed = $0 }
                END { flush() }'
        } | awk 'BEGIN { RS = ""; ORS = "\n\n" } !seen[$0]++'
    )
    if [[ -z $entries ]]; then
        echo "no Debian '$codename' entry in the apt sources to derive a deb-src line from" >&2
        return 1
    fi
    printf '%s\n' "$entries" >"$target"
    apt-get update -qq
}

# wasm_sysroot <dir>: a clean sysroot holding only wasi-libc, so clang never sees host headers.
wasm_sysroot() {
    mkdir -p "$1/include" "$1/lib"
    ln -sfn /usr/include/wasm32-wasi "$1/include/wasm32-wasi"
    ln -sfn /usr/lib/wasm32-wasi "$1/lib/wasm32-wasi"
}
