#!/usr/bin/env bash
# Local infrastructure for runs and tests, all on loopback:
#   PostgreSQL 15 cluster in .local/pgdata   127.0.0.1:${COALITION_PG_PORT:-55432}
#   tansu Kafka-protocol broker (memory)     127.0.0.1:${COALITION_BROKER_PORT:-59092}
# and .run/env, the sourceable settings the services, the CLI and the tests read.
#
# usage: scripts/infra.sh up|down|reset|status
set -euo pipefail
SCRIPT_NAME=infra
# shellcheck source=lib.sh disable=SC2034
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_PORT="${COALITION_PG_PORT:-55432}"
BROKER_PORT="${COALITION_BROKER_PORT:-59092}"
# PostgreSQL runs as the postgres user (it refuses root), which must reach its data, socket
# and log. When the repository sits below a folder that user cannot enter (a private temporary
# folder, a home directory), the cluster lives in a private folder named after the repository
# path instead; .run/logs/postgres.log then links to its log.
PG_HOME=""
if is_root && ! runuser -u postgres -- test -x "$ROOT" 2>/dev/null; then
    PG_HOME="${TMPDIR:-/tmp}/coalition-pg-$(printf '%s' "$ROOT" | sha1sum | cut -c1-12)"
fi
PGDATA="${PG_HOME:-$LOCAL}/pgdata"
PG_SOCKET_DIR="${PG_HOME:-$RUN}/pgsocket"
PG_LOG="${PG_HOME:-$LOGS}/postgres.log"
TANSU="$LOCAL/bin/tansu"
KCAT="$LOCAL/bin/kcat"           # Debian's kcat on our librdkafka (see setup.sh)
TANSU_PID="$RUN/tansu.pid"
TANSU_LOG="$LOGS/tansu.log"
BROKER_DEADLINE="${COALITION_BROKER_DEADLINE:-30}"

# PostgreSQL refuses to run as root: run its tools as the postgres user when we are root.
# From / so that a working directory the postgres user cannot enter does not matter.
as_pg() {
    if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}
pg_owned_dir() {   # mkdir owned by the user the server runs as
    mkdir -p "$1"
    if is_root; then chown postgres:postgres "$1"; fi
}
pg_running() {
    [ -f "$PGDATA/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1
}
tansu_pid() {
    local pid; pid=$(read_pid "$TANSU_PID")
    if pid_alive "$pid" "$TANSU"; then echo "$pid"; fi
}
psql_admin() {
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -d postgres "$@"
}

# ---------------------------------------------------------------------------------------------
pg_up() {
    [ -x "$PG_BIN/pg_ctl" ] || die "PostgreSQL 15 binaries not found in $PG_BIN: run make setup"
    mkdir -p "$LOGS"
    pg_owned_dir "$PG_SOCKET_DIR"
    if [ ! -f "$PG_LOG" ]; then : >"$PG_LOG"; fi
    if [ -n "$PG_HOME" ]; then
        pg_owned_dir "$PG_HOME"
        chmod 700 "$PG_HOME"
        [ -f "$PG_LOG" ] || : >"$PG_LOG"
        ln -sfn "$PG_LOG" "$LOGS/postgres.log"
    fi
    if is_root; then chown postgres:postgres "$PG_LOG"; fi

    if [ ! -f "$PGDATA/PG_VERSION" ]; then
        say "initializing PostgreSQL 15 cluster in ${PGDATA#"$ROOT/"}"
        rm -rf "$PGDATA"
        mkdir -p "$LOCAL"
        pg_owned_dir "$PGDATA"
        chmod 700 "$PGDATA"
        as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >>"$PG_LOG" 2>&1 ||
            die "initdb failed (log: $PG_LOG)"
        # Local development cluster: loopback only, trust auth (initdb -A trust), enough
        # connections for tests that run in parallel.
        as_pg tee -a "$PGDATA/postgresql.conf" >/dev/null <<'EOF'

# --- coalition local cluster (scripts/infra.sh); port and socket folder come from pg_ctl -o
listen_addresses = '127.0.0.1'
max_connections = 200
log_line_prefix = '%m [%p] %q%u@%d '
EOF
    fi

    if pg_running; then
        say "PostgreSQL already running (127.0.0.1:$PG_PORT)"
    else
        if port_open "$PG_PORT"; then
            die "port $PG_PORT is already in use by another process: stop it or set COALITION_PG_PORT"
        fi
        say "starting PostgreSQL on 127.0.0.1:$PG_PORT"
        as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PG_LOG" -w -t 60 \
            -o "-p $PG_PORT -k '$PG_SOCKET_DIR' -c listen_addresses=127.0.0.1" start >/dev/null ||
            die "PostgreSQL did not start (log: $PG_LOG)"
    fi

    # Role and database the services and tests use (superuser: tests create databases).
    local has_role has_db
    has_role=$(psql_admin -tAc "select 1 from pg_roles where rolname = 'coalition'") ||
        die "cannot connect to PostgreSQL through $PG_SOCKET_DIR port $PG_PORT (log: $PG_LOG)"
    [ "$has_role" = "1" ] || psql_admin -c "create role coalition login superuser"
    has_db=$(psql_admin -tAc "select 1 from pg_database where datname = 'coalition'")
    [ "$has_db" = "1" ] || psql_admin -c "create database coalition owner coalition"
}

pg_down() {
    if pg_running; then
        say "stopping PostgreSQL"
        as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" stop -m fast -w -t 60 >/dev/null ||
            die "pg_ctl stop failed (log: $PG_LOG)"
    fi
}

# ---------------------------------------------------------------------------------------------
broker_ready() {
    port_open "$BROKER_PORT" &&
        timeout 10 "$KCAT" -b "127.0.0.1:$BROKER_PORT" -L -m 3 >/dev/null 2>&1
}

tansu_up() {
    [ -x "$TANSU" ] || die "$TANSU not found: run make setup"
    [ -x "$KCAT" ] || die "$KCAT not found: run make setup"
    mkdir -p "$LOGS"
    local pid; pid=$(tansu_pid)
    if [ -n "$pid" ]; then
        say "tansu broker already running (pid $pid, 127.0.0.1:$BROKER_PORT)"
    else
        rm -f "$TANSU_PID"
        if port_open "$BROKER_PORT"; then
            die "port $BROKER_PORT is already in use by another process: stop it or set COALITION_BROKER_PORT"
        fi
        say "starting tansu broker on 127.0.0.1:$BROKER_PORT (memory storage)"
        printf '\n==== %s starting tansu broker on 127.0.0.1:%s\n' "$(date -Is)" "$BROKER_PORT" >>"$TANSU_LOG"
        # A session of its own (Ctrl-C in a terminal does not reach it: `down` stops it by pid);
        # the process writes its own pid before exec'ing the broker.
        # shellcheck disable=SC2016  # expanded by the inner shell
        setsid -f bash -c 'echo $$ >"$1"; shift; exec nohup "$@"' _ "$TANSU_PID" \
            "$TANSU" broker \
            --listener-url "tcp://127.0.0.1:$BROKER_PORT" \
            --advertised-listener-url "tcp://127.0.0.1:$BROKER_PORT" \
            --storage-engine memory://tansu/ \
            >>"$TANSU_LOG" 2>&1 </dev/null
    fi

    local deadline=$(( $(date +%s) + BROKER_DEADLINE ))
    until broker_ready; do
        pid=$(read_pid "$TANSU_PID")
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            die "tansu broker exited during start-up (log: $TANSU_LOG): $(tail -n 1 "$TANSU_LOG" 2>/dev/null)"
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            die "tansu broker not answering metadata requests on 127.0.0.1:$BROKER_PORT after ${BROKER_DEADLINE}s (log: $TANSU_LOG)"
        fi
        sleep 0.2
    done
}

tansu_down() {
    local pid; pid=$(tansu_pid)
    if [ -n "$pid" ]; then
        say "stopping tansu broker (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    fi
    rm -f "$TANSU_PID"
}

# ---------------------------------------------------------------------------------------------
write_env() {
    local token_file="$RUN/operator-token"
    if [ ! -s "$token_file" ]; then
        (umask 077; openssl rand -hex 24 >"$token_file") ||
            die "could not generate the operator token: install openssl"
    fi
    local token; token=$(tr -dc '0-9a-f' <"$token_file")
    local tmp="$RUN/env.tmp"
    (umask 077; cat >"$tmp" <<EOF
# Written by scripts/infra.sh up; source it: . .run/env
export COALITION_REPO_ROOT=$ROOT
export COALITION_KAFKA_BROKERS=127.0.0.1:$BROKER_PORT
export COALITION_DATABASE_URL=postgresql://coalition@127.0.0.1:$PG_PORT/coalition
export COALITION_TOPIC_PREFIX=
export COALITION_OPERATOR_TOKEN=$token
export COALITION_INGESTION_URL=http://127.0.0.1:8081
export COALITION_FANOUT_URL=http://127.0.0.1:8082
export COALITION_SCHEDULER_URL=http://127.0.0.1:8083
export COALITION_METRICS_URL=http://127.0.0.1:8084
export COALITION_PG_BIN=$PG_BIN
export COALITION_PYTHON=$LOCAL/venv/bin/python
export COALITION_TANSU_BIN=$TANSU
export COALITION_KCAT=$KCAT
EOF
    )
    mv -f "$tmp" "$RUN/env"
}

# ---------------------------------------------------------------------------------------------
cmd_up() {
    mkdir -p "$RUN" "$LOGS" "$PIDS"
    pg_up
    tansu_up
    write_env
    say "up: PostgreSQL 127.0.0.1:$PG_PORT, broker 127.0.0.1:$BROKER_PORT, settings in .run/env"
}

cmd_down() {
    tansu_down
    pg_down
    say "down"
}

cmd_reset() {
    if [ -x "$ROOT/scripts/services.sh" ]; then "$ROOT/scripts/services.sh" stop || true; fi
    cmd_down
    say "deleting ${PGDATA#"$ROOT/"} and .run"
    rm -rf "$PGDATA" "$RUN"
    if [ -n "$PG_HOME" ]; then rm -rf "$PG_HOME"; fi
}

cmd_status() {
    local ok=0 pid
    if pg_running; then
        echo "postgres  running  127.0.0.1:$PG_PORT  data ${PGDATA#"$ROOT/"}"
    else
        echo "postgres  stopped"; ok=1
    fi
    pid=$(tansu_pid)
    if [ -n "$pid" ] && broker_ready; then
        echo "broker    running  127.0.0.1:$BROKER_PORT  pid $pid"
    elif [ -n "$pid" ]; then
        echo "broker    not answering  pid $pid (log: .run/logs/tansu.log)"; ok=1
    else
        echo "broker    stopped"; ok=1
    fi
    return "$ok"
}

case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    reset) cmd_reset ;;
    status) cmd_status ;;
    *) echo "usage: scripts/infra.sh up|down|reset|status" >&2; exit 2 ;;
esac
