#!/usr/bin/env bash
# Builds the base image (if missing) and one image per language as sandbox/<lang>:latest.
# Called by `make images`. Cached: the legacy builder's layer cache keys each RUN on its text and each
# COPY on file contents (not mtimes), so a second run with nothing changed takes seconds.
# Usage: images/build.sh [lang...]   (default: every folder with a Dockerfile)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
base="${BASE_IMAGE:-sandbox/base:bookworm}"
export DOCKER_BUILDKIT=0 # the legacy builder: what Docker 20.10 ships without buildx

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

t0=$(now)
if [ "$base" = "sandbox/base:bookworm" ]; then
  bash "$here/base/build-base.sh" "$base"
fi

if [ "$#" -gt 0 ]; then
  langs=("$@")
else
  langs=()
  for d in "$here"/*/; do
    [ -f "$d/Dockerfile" ] && langs+=("$(basename "$d")")
  done
fi

# Publishes the C# runner into the csharp build context. Skipped when no source is newer than the
# last publish, so a warm `make images` does not pay for an MSBuild start.
publish_csharp_runner() {
  local out="$here/csharp/build/runner" stamp="$here/csharp/build/.published"
  local src="$repo/src/Sandbox.CSharpRunner"
  if [ -f "$stamp" ] && [ -z "$(find "$src" "$repo"/Directory.*.props "$repo/src/Directory.Build.props" "$repo/global.json" \
        -newer "$stamp" \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.json' \) -not -path '*/obj/*' -not -path '*/bin/*' -print -quit)" ]; then
    echo "csharp runner is up to date"
    return
  fi
  rm -rf "$out"
  DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 dotnet publish "$src/Sandbox.CSharpRunner.csproj" \
    -c Release -r linux-x64 --self-contained -o "$out" --nologo -v quiet
  touch "$stamp"
}

# Writes images/<lang>/build/packages.json from the image's own packages.sh, run inside the built image with the
# run's hardening (the list says what is there, not what the Dockerfile meant): GET /v1/languages and the tool
# description show it, and a missing-module error names it.
list_packages() {
  local lang="$1" dir="$here/$1" out="$here/$1/build/packages.json" lines
  [ -f "$dir/packages.sh" ] || { rm -f "$out"; return 0; }
  # No network, read-only, no capabilities, nobody: the same walls as a run, though the script is ours.
  lines=$(docker run --rm --network none --read-only --cap-drop ALL --security-opt no-new-privileges \
            --user 65534:65534 --tmpfs /tmp:size=16m --memory 256m --pids-limit 64 \
            --entrypoint /bin/sh "sandbox/$lang:latest" -c "$(cat "$dir/packages.sh")") \
    || { echo "listing the packages of sandbox/$lang:latest failed" >&2; exit 1; }
  printf '%s\n' "$lines" | python3 -c '
import json, sys
seen = {}
for line in sys.stdin:
    name, _, version = line.rstrip("\n").partition("\t")
    if name and version:
        seen.setdefault(name, version)
packages = [{"name": n, "version": seen[n]} for n in sorted(seen, key=str.lower)]
json.dump({"image": sys.argv[1], "packages": packages}, sys.stdout, indent=2)
print()' "sandbox/$lang:latest" > "$out.tmp" && mv "$out.tmp" "$out"
}

# sandbox-entry, once for every image: static, so it needs nothing of the image's libc; built in a temporary folder and
# installed only when its bytes changed, so the COPY layer's cache (keyed on contents) stays warm.
entry_dir=$(mktemp -d)
trap 'rm -rf "$entry_dir"' EXIT
gcc -static -O2 -Wall -Wextra -Werror -o "$entry_dir/sandbox-entry" "$here/base/sandbox-entry.c" \
  || { echo "building sandbox-entry failed (needs gcc and libc6-dev)" >&2; exit 1; }

for lang in "${langs[@]}"; do
  dir="$here/$lang"
  [ -f "$dir/Dockerfile" ] || { echo "no Dockerfile in $dir" >&2; exit 1; }
  t=$(now)
  mkdir -p "$dir/build"
  # One source for the bootstrap; install(1) fixes the mode so the COPY cache key stays stable.
  cmp -s "$entry_dir/sandbox-entry" "$dir/build/sandbox-entry" || install -m 0755 "$entry_dir/sandbox-entry" "$dir/build/sandbox-entry"
  if [ "$lang" = csharp ]; then publish_csharp_runner; fi
  log="${TMPDIR:-/tmp}/sandbox-image-$lang.log"
  if ! docker build --network host --build-arg "BASE_IMAGE=$base" -t "sandbox/$lang:latest" "$dir" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "building sandbox/$lang:latest failed (full log: $log)" >&2
    exit 1
  fi
  list_packages "$lang"
  echo "built sandbox/$lang:latest ($(since "$t"))"
done
echo "images done in $(since "$t0")"
