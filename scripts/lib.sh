# Shared helpers for the scripts in this folder. Source it; do not run it.
# shellcheck shell=bash disable=SC2034  # the variables are used by the scripts that source this

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.local"
RUN="$ROOT/.run"
LOGS="$RUN/logs"
PIDS="$RUN/pids"
PG_BIN="${COALITION_PG_BIN:-/usr/lib/postgresql/15/bin}"

# Short progress lines on stderr, prefixed with the script name.
say() { printf '[%s] %s\n' "${SCRIPT_NAME:-coalition}" "$*" >&2; }
# One clear line saying what is wrong and how to fix it, then exit 1.
die() { printf '[%s] ERROR: %s\n' "${SCRIPT_NAME:-coalition}" "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Is process $1 alive and is its command line containing $2?
# Guards against a stale pid file whose number was reused by another process.
pid_alive() {
    local pid="$1" needle="${2:-}"
    [ -n "$pid" ] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    if [ -n "$needle" ] && [ -r "/proc/$pid/cmdline" ]; then
        tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$needle" || return 1
    fi
    return 0
}

# The pid stored in file $1 (empty if none).
read_pid() { [ -s "$1" ] && tr -dc '0-9' <"$1" || true; }

# Does something accept TCP connections on 127.0.0.1:$1?
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Load .run/env (written by `scripts/infra.sh up`) into the environment.
load_env() {
    [ -f "$RUN/env" ] || die "$RUN/env not found: start the infrastructure first with 'make infra-up' (scripts/infra.sh up)"
    # shellcheck disable=SC1091
    . "$RUN/env"
}
