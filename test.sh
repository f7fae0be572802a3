#!/usr/bin/env bash
# Builds Ratchet once, runs every test project, and ends with one line: "N passed, N failed[, N skipped]".
# Exits non-zero if the build fails, a test fails, or a test project does not run to the end.
#
# Needs the .NET SDK; starts PostgreSQL and Redis (installing them when root and missing). Environment:
#   CONFIGURATION              Release (default) or Debug.
#   CI                         true/1 in CI: tests that need a missing server fail instead of skipping.
#   RATCHET_TEST_HANG_TIMEOUT  how long one test may hang before its host is stopped (default 10m).
#   RATCHET_TEST_SERVERS       0 to start no PostgreSQL or Redis server (their tests then skip, or fail in CI).
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
# Throwaway PostgreSQL and Redis servers for the backends' tests: loopback only, on free high ports, with their data
# under $WORK_DIR, stopped by PID on exit. Installed with apt-get when missing and running as root. A server that
# cannot be started leaves its variable unset: its tests then skip with a reason, or fail when CI=true.
#   RATCHET_TEST_POSTGRES  an Npgsql connection string to a database the tests may use
#   RATCHET_TEST_REDIS     host:port of a Redis server the tests may use
SERVER_PROBLEMS=()

apt_updated=0
apt_install() {
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
        return 1
    fi
    if [ "$apt_updated" -eq 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$WORK_DIR/apt-update.log" 2>&1 || true
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >"$WORK_DIR/apt-install.log" 2>&1
}

# A free TCP port on 127.0.0.1 in 20000-59999: nothing answers there now.
free_port() {
    local port attempt
    for attempt in $(seq 1 50); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

# Debian keeps initdb and pg_ctl in /usr/lib/postgresql/<version>/bin, which is not on PATH: take the newest.
find_postgres_bin() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return 0
        fi
    done
    if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        dirname "$(command -v initdb)"
        return 0
    fi
    return 1
}

# PostgreSQL refuses to run as root: as root, its files belong to the postgres user and it runs as that user.
as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

POSTGRES_PID=""
start_postgres() {
    local bin port data
    if ! bin="$(find_postgres_bin)"; then
        echo "PostgreSQL not found; installing it with apt-get"
        # Installing must not create and start Debian's default cluster on port 5432: we start our own.
        if [ "$(id -u)" -eq 0 ] && [ ! -e /etc/postgresql-common/createcluster.conf ]; then
            mkdir -p /etc/postgresql-common
            echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
        fi
        apt_install postgresql || true
        bin="$(find_postgres_bin)" || { SERVER_PROBLEMS+=("PostgreSQL: not installed and apt-get could not install it"); return 1; }
    fi
    port="$(free_port)" || { SERVER_PROBLEMS+=("PostgreSQL: no free port"); return 1; }
    data="$WORK_DIR/postgres"
    mkdir -p "$data"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$data"
    fi
    if ! as_postgres "$bin/initdb" -D "$data/db" -U ratchet --auth=trust -E UTF8 --no-locale >"$WORK_DIR/postgres-initdb.log" 2>&1; then
        SERVER_PROBLEMS+=("PostgreSQL: initdb failed (see below)")
        cat "$WORK_DIR/postgres-initdb.log" >&2
        return 1
    fi
    # fsync and full_page_writes stay on: the tests check durability claims against a real configuration.
    if ! as_postgres "$bin/pg_ctl" -D "$data/db" -l "$data/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $data -c max_connections=300 -c shared_buffers=128MB" start >/dev/null; then
        SERVER_PROBLEMS+=("PostgreSQL: pg_ctl start failed (see below)")
        cat "$data/server.log" >&2 || true
        return 1
    fi
    POSTGRES_PID="$(head -n 1 "$data/db/postmaster.pid")"
    on_exit stop_postgres
    as_postgres "$bin/psql" -h 127.0.0.1 -p "$port" -U ratchet -d postgres -qc "CREATE DATABASE ratchet" >/dev/null
    export RATCHET_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=ratchet;Database=ratchet"
    echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (pid $POSTGRES_PID)"
}

stop_postgres() {
    stop_pid "$POSTGRES_PID" PostgreSQL
}

REDIS_PID=""
start_redis() {
    local port data
    if ! command -v redis-server >/dev/null; then
        echo "Redis not found; installing it with apt-get"
        apt_install redis-server || true
        command -v redis-server >/dev/null || { SERVER_PROBLEMS+=("Redis: not installed and apt-get could not install it"); return 1; }
    fi
    port="$(free_port)" || { SERVER_PROBLEMS+=("Redis: no free port"); return 1; }
    data="$WORK_DIR/redis"
    mkdir -p "$data"
    # The durability Ratchet promises on Redis needs the append-only file fsynced on every write (docs/BACKENDS.md).
    if ! redis-server --bind 127.0.0.1 --port "$port" --dir "$data" --daemonize yes --pidfile "$data/redis.pid" \
        --logfile "$data/redis.log" --appendonly yes --appendfsync always --save "" --protected-mode yes >/dev/null; then
        SERVER_PROBLEMS+=("Redis: redis-server failed to start")
        return 1
    fi
    local attempt
    for attempt in $(seq 1 100); do
        [ -s "$data/redis.pid" ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.1
    done
    if [ ! -s "$data/redis.pid" ]; then
        SERVER_PROBLEMS+=("Redis: did not come up (see below)")
        cat "$data/redis.log" >&2 || true
        return 1
    fi
    REDIS_PID="$(cat "$data/redis.pid")"
    on_exit stop_redis
    export RATCHET_TEST_REDIS="127.0.0.1:$port"
    echo "Redis $(redis-server --version | grep -o 'v=[0-9.]*' | cut -d= -f2) on 127.0.0.1:$port (pid $REDIS_PID)"
}

stop_redis() {
    stop_pid "$REDIS_PID" Redis
}

# Stops a server we started: SIGTERM (a clean shutdown), then SIGKILL after 30 seconds.
stop_pid() {
    local pid="$1" name="$2" attempt
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for attempt in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || { echo "$name stopped"; return 0; }
        sleep 0.1
    done
    echo "$name did not stop in 30 s: killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
}

if [ "${RATCHET_TEST_SERVERS:-1}" != "0" ]; then
    echo "== servers"
    # The postgres user must reach its data directory under ours.
    chmod 755 "$WORK_DIR"
    start_postgres || true
    start_redis || true
    for problem in "${SERVER_PROBLEMS[@]}"; do
        echo "server not started: $problem" >&2
    done
fi

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
