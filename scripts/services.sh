#!/usr/bin/env bash
# The four services, detached, from the release build (.build/release), on loopback:
#   incident-ingestion 8081, alert-fanout 8082, meeting-scheduler 8083, metrics-aggregator 8084
# (ports taken from the base URLs in .run/env). Pid files in .run/pids, logs in .run/logs.
#
# usage: scripts/services.sh start|stop|restart|status [service...]
set -euo pipefail
SCRIPT_NAME=services
# shellcheck source=lib.sh disable=SC2034
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BIN_DIR="${COALITION_BIN_DIR:-$ROOT/.build/release}"
ALL_SERVICES=(incident-ingestion alert-fanout meeting-scheduler metrics-aggregator)
START_DEADLINE="${COALITION_START_DEADLINE:-30}"
STOP_GRACE=15

# Base URL variable of each service in .run/env.
url_var() {
    case "$1" in
        incident-ingestion) echo COALITION_INGESTION_URL ;;
        alert-fanout) echo COALITION_FANOUT_URL ;;
        meeting-scheduler) echo COALITION_SCHEDULER_URL ;;
        metrics-aggregator) echo COALITION_METRICS_URL ;;
        *) die "unknown service '$1' (known: ${ALL_SERVICES[*]})" ;;
    esac
}
default_port() {
    case "$1" in
        incident-ingestion) echo 8081 ;;
        alert-fanout) echo 8082 ;;
        meeting-scheduler) echo 8083 ;;
        metrics-aggregator) echo 8084 ;;
    esac
}
service_port() {
    local var url; var=$(url_var "$1"); url="${!var:-}"
    if [ -n "$url" ]; then url="${url%/}"; echo "${url##*:}"; else default_port "$1"; fi
}
service_pid() {
    local pid; pid=$(read_pid "$PIDS/$1.pid")
    if pid_alive "$pid" "$1"; then echo "$pid"; fi
}
healthy() { curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$1/healthz" 2>/dev/null; }

cmd_start() {
    load_env
    local missing=() name
    for name in "$@"; do
        url_var "$name" >/dev/null
        [ -x "$BIN_DIR/$name" ] || missing+=("$name")
    done
    [ "${#missing[@]}" -eq 0 ] ||
        die "service binaries missing in ${BIN_DIR#"$ROOT/"}: ${missing[*]} -- build them with 'make build' (swift build -c release)"
    mkdir -p "$PIDS" "$LOGS"

    # Which ones to start; refuse before starting anything if a port is taken.
    local to_start=() started=() pid port
    for name in "$@"; do
        port=$(service_port "$name")
        pid=$(service_pid "$name")
        if [ -n "$pid" ]; then
            say "$name already running (pid $pid, port $port)"
            continue
        fi
        if port_open "$port"; then
            die "port $port for $name is already in use by another process: stop it first (ss -ltnp | grep :$port)"
        fi
        to_start+=("$name")
    done

    for name in "${to_start[@]}"; do
        port=$(service_port "$name")
        rm -f "$PIDS/$name.pid"
        printf '\n==== %s starting %s on 127.0.0.1:%s\n' "$(date -Is)" "$name" "$port" >>"$LOGS/$name.log"
        # A session of its own (Ctrl-C in the terminal does not reach it: `stop` sends SIGTERM);
        # the process writes its own pid before exec'ing the service.
        # shellcheck disable=SC2016  # expanded by the inner shell
        # Local development delivers webhooks to receivers on this machine: loopback and plain
        # http are allowed here (and only here; a deployment keeps the defaults, which refuse them).
        # MALLOC_ARENA_MAX: glibc otherwise gives each busy thread its own malloc arena and
        # rarely returns their memory (most of a service's resident memory; see the README).
        setsid -f env COALITION_HTTP_HOST=127.0.0.1 COALITION_HTTP_PORT="$port" MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX-2}" \
            COALITION_FANOUT_ALLOWED_NETWORKS="${COALITION_FANOUT_ALLOWED_NETWORKS-127.0.0.0/8}" \
            COALITION_FANOUT_ALLOW_HTTP_WEBHOOKS="${COALITION_FANOUT_ALLOW_HTTP_WEBHOOKS-true}" \
            COALITION_FANOUT_GROUP_WAIT="${COALITION_FANOUT_GROUP_WAIT-2s}" \
            bash -c 'echo $$ >"$1"; shift; exec nohup "$@"' _ "$PIDS/$name.pid" \
            "$BIN_DIR/$name" >>"$LOGS/$name.log" 2>&1 </dev/null
        started+=("$name")
        say "started $name on 127.0.0.1:$port (log .run/logs/$name.log)"
    done

    # Wait until each one answers GET /healthz; fail early if one exits.
    local deadline=$(( $(date +%s) + START_DEADLINE ))
    for name in "${started[@]}"; do
        port=$(service_port "$name")
        until healthy "$port"; do
            pid=$(read_pid "$PIDS/$name.pid")
            if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
                die "$name exited during start-up (log .run/logs/$name.log): $(tail -n 1 "$LOGS/$name.log" 2>/dev/null)"
            fi
            if [ "$(date +%s)" -ge "$deadline" ]; then
                die "$name does not answer GET http://127.0.0.1:$port/healthz after ${START_DEADLINE}s (log .run/logs/$name.log)"
            fi
            sleep 0.2
        done
    done
    [ "${#started[@]}" -eq 0 ] || say "healthy: ${started[*]}"
}

cmd_stop() {
    local name pid signalled=() waited=0
    for name in "$@"; do
        pid=$(service_pid "$name")
        if [ -n "$pid" ]; then
            kill -TERM "$pid" 2>/dev/null || true
            signalled+=("$name:$pid")
            say "stopping $name (pid $pid)"
        fi
    done
    local entry alive
    while :; do
        alive=()
        for entry in "${signalled[@]}"; do
            kill -0 "${entry#*:}" 2>/dev/null && alive+=("$entry")
        done
        [ "${#alive[@]}" -gt 0 ] || break
        if [ "$waited" -ge $(( STOP_GRACE * 5 )) ]; then
            for entry in "${alive[@]}"; do
                say "${entry%%:*} did not stop within ${STOP_GRACE}s: SIGKILL"
                kill -KILL "${entry#*:}" 2>/dev/null || true
            done
            break
        fi
        sleep 0.2
        waited=$((waited + 1))
    done
    for name in "$@"; do rm -f "$PIDS/$name.pid"; done
}

cmd_status() {
    [ -f "$RUN/env" ] && load_env
    local name pid port ok=0
    for name in "$@"; do
        port=$(service_port "$name")
        pid=$(service_pid "$name")
        if [ -z "$pid" ]; then
            printf '%-20s stopped\n' "$name"; ok=1
        elif healthy "$port"; then
            printf '%-20s running  127.0.0.1:%s  pid %s\n' "$name" "$port" "$pid"
        else
            printf '%-20s not healthy  127.0.0.1:%s  pid %s (log .run/logs/%s.log)\n' "$name" "$port" "$pid" "$name"; ok=1
        fi
    done
    return "$ok"
}

cmd="${1:-}"
[ "$#" -gt 0 ] && shift
[ "$#" -gt 0 ] || set -- "${ALL_SERVICES[@]}"
case "$cmd" in
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    restart) cmd_stop "$@"; cmd_start "$@" ;;
    status) cmd_status "$@" ;;
    *) echo "usage: scripts/services.sh start|stop|restart|status [service...]" >&2; exit 2 ;;
esac
