#!/usr/bin/env bash
# make examples: prepares Docker and the images, then runs a few example programs through the CLI and shows
# what each run returned. (The HTTP service comes later; until then the CLI is the way in.)
set -uo pipefail
cd "$(dirname "$0")/.."
bash eng/docker-up.sh || exit 1
make --no-print-directory images || exit 1
cli=artifacts/sandbox/sandbox
show() { # title, then sandbox run arguments
  local title="$1"; shift
  echo; echo "### $title"; echo "\$ sandbox run $*"
  "$cli" run "$@"; echo "(exit code $?)"
}
show "Python with numpy" --lang python examples/hello.py
show "C: compiled in one sandbox, run in another" --lang c examples/primes.c
echo "the quick brown fox" > artifacts/stdin.txt
show "bash reading stdin" --lang bash --stdin artifacts/stdin.txt examples/wordcount.sh
show "JavaScript under gVisor" --lang javascript --profile javascript-gvisor --stdin artifacts/stdin.txt examples/greet.js
show "C# script" --lang csharp examples/squares.csx
echo; echo "### A runaway loop, as JSON: the CPU limit kills it"
echo "\$ sandbox run --lang python --json examples/runaway.py"
"$cli" run --lang python --json examples/runaway.py | grep -E '"(status|limitBreach|limit|value|observed|cpuMs|message)"'
echo; "$cli" doctor --no-selftests
