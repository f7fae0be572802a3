#!/usr/bin/env bash
# Builds Ratchet once, runs every test project, and ends with one line: "N passed, N failed[, N skipped]".
# Exits non-zero if the build fails, a test fails, or a test project does not run to the end.
#
# Needs only the .NET SDK. Environment:
#   CONFIGURATION              Release (default) or Debug.
#   CI                         true/1 in CI: tests that need a missing server fail instead of skipping.
#   RATCHET_TEST_HANG_TIMEOUT  how long one test may hang before its host is stopped (default 10m).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

CONFIGURATION="${CONFIGURATION:-Release}"
HANG_TIMEOUT="${RATCHET_TEST_HANG_TIMEOUT:-10m}"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# --- Temp dir and cleanup ------------------------------------------------------------------------
# Everything a run creates (test results, the tests' temp stores, later the servers' data directories) lives
# under one directory that the EXIT trap removes, whatever way the script ends.
WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/ratchet-test.XXXXXX")"
CLEANUP_STEPS=()

# Registers a command to run on exit, last registered first (a server started later is stopped first).
on_exit() {
    CLEANUP_STEPS=("$1" "${CLEANUP_STEPS[@]}")
}

cleanup() {
    local status=$?
    local step
    for step in "${CLEANUP_STEPS[@]}"; do
        eval "$step" >&2 || echo "cleanup step failed: $step" >&2
    done
    rm -rf "$WORK_DIR"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Test environment ------------------------------------------------------------------------------
# Tests find their servers and scratch space through RATCHET_TEST_* variables, never through fixed paths or ports.
export RATCHET_TEST_DIR="$WORK_DIR"
mkdir -p "$WORK_DIR/tmp" "$WORK_DIR/results"

# --- Test servers ----------------------------------------------------------------------------------
# None yet. The PostgreSQL and Redis backends (later issues) add here:
#   start_postgres: initdb + pg_ctl start on a free port under "$WORK_DIR/postgres", then
#                   export RATCHET_TEST_POSTGRES="Host=127.0.0.1;Port=...;Username=...;Database=..."
#                   and on_exit "stop_postgres".
#   start_redis:    redis-server --port ... --dir "$WORK_DIR/redis" --daemonize yes, then
#                   export RATCHET_TEST_REDIS="127.0.0.1:..." and on_exit "stop_redis".
# Without these variables the backends' conformance tests skip with a reason (outside CI) or fail (CI=true).

# --- Build -----------------------------------------------------------------------------------------
echo "== build ($CONFIGURATION)"
if ! dotnet build Ratchet.slnx -c "$CONFIGURATION" --disable-build-servers; then
    echo "build failed: no tests ran (counted as 1 failure)"
    echo "0 passed, 1 failed"
    exit 1
fi

# --- Test projects ---------------------------------------------------------------------------------
# Every project in the solution that references the test SDK. The conformance library and helper programs
# (such as the SQLite multi-process writer) do not, and are built above for the projects that use them.
mapfile -t PROJECTS < <(
    grep -o 'Path="[^"]*\.csproj"' Ratchet.slnx | sed 's/^Path="//; s/"$//' | while read -r project; do
        if grep -q 'Microsoft.NET.Test.Sdk' "$project"; then
            echo "$project"
        fi
    done
)

if [ "${#PROJECTS[@]}" -eq 0 ]; then
    echo "no test projects found in Ratchet.slnx (counted as 1 failure)"
    echo "0 passed, 1 failed"
    exit 1
fi

# Reads one attribute of the <Counters> element of a TRX file.
trx_count() {
    local file="$1" name="$2"
    grep -o "<Counters [^>]*>" "$file" | head -n 1 | grep -o " $name=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0
}

total_passed=0
total_failed=0
total_skipped=0
summary=()

for project in "${PROJECTS[@]}"; do
    name="$(basename "$project" .csproj)"
    trx="$WORK_DIR/results/$name.trx"
    echo
    echo "== test $name"
    exit_code=0
    TMPDIR="$WORK_DIR/tmp" dotnet test "$project" -c "$CONFIGURATION" --no-build --disable-build-servers \
        --logger "trx;LogFileName=$trx" --results-directory "$WORK_DIR/results" \
        --blame-hang-timeout "$HANG_TIMEOUT" --blame-hang-dump-type none || exit_code=$?

    if [ ! -f "$trx" ]; then
        summary+=("$name: did not run (dotnet test exited $exit_code, no results): counted as 1 failure")
        total_failed=$((total_failed + 1))
        continue
    fi

    total=$(trx_count "$trx" total)
    executed=$(trx_count "$trx" executed)
    passed=$(trx_count "$trx" passed)
    failed=$(( $(trx_count "$trx" failed) + $(trx_count "$trx" error) + $(trx_count "$trx" timeout) + $(trx_count "$trx" aborted) ))
    skipped=$((total - executed))

    if [ "$exit_code" -ne 0 ] && [ "$failed" -eq 0 ]; then
        # The host crashed or hung after the tests it reported: the run is not complete.
        summary+=("$name: $passed passed, $failed failed, $skipped skipped; run aborted (exit $exit_code): counted as 1 failure")
        failed=1
    elif [ "$failed" -gt 0 ]; then
        summary+=("$name: $passed passed, $failed failed, $skipped skipped: FAILED")
    else
        summary+=("$name: $passed passed, $failed failed, $skipped skipped")
    fi

    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
    total_skipped=$((total_skipped + skipped))
done

echo
echo "== results"
for line in "${summary[@]}"; do
    echo "$line"
done

result="$total_passed passed, $total_failed failed"
if [ "$total_skipped" -gt 0 ]; then
    result="$result, $total_skipped skipped"
fi
echo "$result"

if [ "$total_failed" -gt 0 ]; then
    exit 1
fi
