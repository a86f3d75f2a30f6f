#!/usr/bin/env bash
# The test command behind `make test`: unit tests, then the integration suite against the real Docker
# daemon under runc, again under crun and again under runsc (gVisor), then under runc and runsc with a warm pool. It
# ends with one line "N passed, N failed, N skipped" summed from the TRX results of every project, so a run that
# executed no test is visible as such.
set -uo pipefail
cd "$(dirname "$0")/.."
mode="${1:-all}"
results="artifacts/test-results"
rm -rf "$results" && mkdir -p "$results"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

echo "== generated code"
# Generated files are checked against their generators: a hand edit to a *.g.cs, or a generator change not rerun, fails here.
for generator in src/Sandbox.Wasm/Execution/generate_dispatch.py src/Sandbox.Wasm/Execution/generate_jit_ops.py; do
  python3 "$generator" --check || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
done

echo "== npm clients"
# The third-party clients the tests drive the service with (@redocly/cli lints the OpenAPI document): npm ci from
# eng/npm's lockfile, skipped when that lockfile is already installed.
bash eng/npm-install.sh || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }

echo "== build"
dotnet build Sandbox.sln -c Release --nologo -v quiet -clp:ErrorsOnly || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }

status=0
run_project() { # project, label, extra env...
  local project="$1" label="$2"; shift 2
  echo "== $label"
  # A hung test is killed after 10 minutes and reported (with a dump of where it hung), never waited on forever.
  env "$@" dotnet test "$project" -c Release --no-build --nologo --blame-hang-timeout 10m \
      --logger "trx;LogFileName=$label.trx" --results-directory "$results" || status=1
}

if [ "$mode" = all ] || [ "$mode" = unit ]; then
  for p in tests/*/*.csproj; do
    case "$p" in *IntegrationTests*) continue ;; esac
    run_project "$p" "$(basename "$p" .csproj)"
  done
fi
if [ "$mode" = all ] || [ "$mode" = integration ]; then
  for p in tests/*IntegrationTests/*.csproj; do
    name=$(basename "$p" .csproj)
    run_project "$p" "$name-runc" SANDBOX_TEST_RUNTIME=runc
    # The containment suite runs again under crun and under gVisor; the service's suite tests the service, not the runtime, so once is enough.
    # It runs once more under runc and under gVisor with a warm pool of two per profile, so every run of the default
    # limits is a claimed container: containment must hold on the warm path as on the cold one.
    case "$name" in Sandbox.Docker.*)
      run_project "$p" "$name-crun" SANDBOX_TEST_RUNTIME=crun
      run_project "$p" "$name-runsc" SANDBOX_TEST_RUNTIME=runsc
      run_project "$p" "$name-runc-pool" SANDBOX_TEST_RUNTIME=runc SANDBOX_TEST_WARM_POOL=2
      run_project "$p" "$name-runsc-pool" SANDBOX_TEST_RUNTIME=runsc SANDBOX_TEST_WARM_POOL=2 ;;
    esac
  done
fi

# Sum the counters of every TRX file: <Counters total=".." passed=".." failed=".." ... notExecuted=".." />
read -r passed failed skipped < <(
  cat "$results"/*.trx 2>/dev/null | grep -o '<Counters [^>]*>' | awk '
    { for (i = 1; i <= NF; i++) { split($i, kv, "="); gsub(/"|\/|>/, "", kv[2]);
        if (kv[1] == "passed") p += kv[2]; if (kv[1] == "failed" || kv[1] == "error" || kv[1] == "timeout" || kv[1] == "aborted") f += kv[2];
        if (kv[1] == "notExecuted") s += kv[2] } }
    END { printf "%d %d %d\n", p, f, s }')
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi   # a project that crashed before writing TRX still fails the run
if [ "$passed" -eq 0 ]; then status=1; fi                             # executing no test at all is a failure
# The fuzzer's totals (requests by status class, 5xx, RSS before/after, audited runs, audit verify): a passing test's output is not shown.
if [ -f "$results/fuzz-summary.txt" ]; then cat "$results/fuzz-summary.txt"; fi
# Name every failed test again at the very end, so a CI log cut down to its tail still says which one failed.
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  grep -o '<UnitTestResult [^>]*outcome="\(Failed\|Timeout\|Aborted\|Error\)"[^>]*>' "$trx" \
    | grep -o 'testName="[^"]*"' | sed "s/^testName=/FAILED [$(basename "$trx" .trx)] /"
  # A fixture that throws in its set-up or clean-up (the Docker suites' leftover check) is no test: the console says
  # only "TestPipelineException", and its message (which containers were left) is in the TRX's output. Print it.
  grep -A1 'Assembly fixture type .* threw\|Collection fixture type .* threw' "$trx" \
    | grep -v '^--$' | sed "s/^/FIXTURE [$(basename "$trx" .trx)] /"
done
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
