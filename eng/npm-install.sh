#!/usr/bin/env bash
# Installs the npm clients the tests use (eng/npm/package.json) with `npm ci`, exactly as the lockfile pins them,
# into eng/npm/node_modules. Idempotent and cached: it reinstalls only when the lockfile changed since the last
# install (a stamp holds its hash), so a second run takes milliseconds and needs no network.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/npm"
stamp=node_modules/.sandbox-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x node_modules/.bin/redocly ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "npm is missing: install Node.js 20.19+ (Debian: apt-get install nodejs npm)" >&2; exit 1; }
# @redocly/cli 2.x needs Node.js 20.19+ (or 22.12+); say so here rather than fail later inside a test.
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' \
  || { echo "Node.js $(node --version) is too old: @redocly/cli needs 20.19 or later" >&2; exit 1; }
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
