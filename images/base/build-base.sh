#!/usr/bin/env bash
# Builds the offline base image (sandbox/base) from Debian's packages with debootstrap.
# There is no image registry here, so every language image starts FROM this one. The mirror is taken
# from the host's own apt configuration so that nothing but Debian's registry is contacted.
set -euo pipefail
name="${1:-sandbox/base:bookworm}"
if docker image inspect "$name" >/dev/null 2>&1; then
  echo "base image $name exists"; exit 0
fi
mirror="${DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror=$(grep -hoE '^(URIs:|deb) +\S+' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
           | awk '{print $2}' | grep -v security | head -n1 || true)
fi
[ -n "$mirror" ] || { echo "no Debian mirror found in apt sources; set DEBIAN_MIRROR" >&2; exit 1; }
root=$(mktemp -d /var/tmp/sandbox-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "debootstrap bookworm from the host's Debian mirror into $root"
debootstrap --variant=minbase bookworm "$root" "$mirror" >/dev/null
# Keep the image small and free of caches that would differ between builds.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import - "$name" >/dev/null
echo "built $name"
