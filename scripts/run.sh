#!/usr/bin/env bash
# `make run`: everything in the foreground. Starts the infrastructure and the services (what
# was not already running), feeds the demo dataset (unless DEMO=0), then shows a live summary
# every few seconds until Ctrl-C, and stops what it started (services, then infrastructure).
# Expects `make setup build` to have run (the Makefile does that first).
set -euo pipefail
SCRIPT_NAME=run
# shellcheck source=lib.sh disable=SC2034
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BIN_DIR="${COALITION_BIN_DIR:-$ROOT/.build/release}"
CLI="$BIN_DIR/coalition"
DEMO="${DEMO:-1}"
INTERVAL="${COALITION_SUMMARY_INTERVAL:-5}"
SERVICES=(incident-ingestion alert-fanout meeting-scheduler metrics-aggregator)

# What was already running before us stays running when we leave.
infra_was_up=0
services_were_up=0
"$ROOT/scripts/infra.sh" status >/dev/null 2>&1 && infra_was_up=1
"$ROOT/scripts/services.sh" status >/dev/null 2>&1 && services_were_up=1

cleaning=0
cleanup() {
    local rc=$?
    [ "$cleaning" -eq 0 ] || return 0
    cleaning=1
    trap '' INT TERM   # a second Ctrl-C must not cut the shutdown short (children inherit this)
    echo
    if [ -f "$PIDS/demo-receiver.pid" ]; then
        kill "$(cat "$PIDS/demo-receiver.pid")" 2>/dev/null || true
        rm -f "$PIDS/demo-receiver.pid"
    fi
    if [ "$services_were_up" -eq 0 ]; then
        say "stopping the services"
        "$ROOT/scripts/services.sh" stop || true
    else
        say "leaving the services running (they were running before 'make run')"
    fi
    if [ "$infra_was_up" -eq 0 ]; then
        say "stopping the infrastructure"
        "$ROOT/scripts/infra.sh" down || true
    else
        say "leaving the infrastructure running (it was running before 'make run')"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$ROOT/scripts/infra.sh" up
"$ROOT/scripts/up.sh"
load_env

if [ "$DEMO" != "0" ]; then
    if [ -x "$ROOT/scripts/demo-feed.sh" ] || [ -f "$ROOT/scripts/demo-feed.sh" ]; then
        say "feeding the demo dataset (scripts/demo-feed.sh; DEMO=0 skips this)"
        bash "$ROOT/scripts/demo-feed.sh" || say "WARNING: scripts/demo-feed.sh failed (exit $?); the services keep running"
        say "showing the alert fan-out (scripts/demo-alerts.sh)"
        if bash "$ROOT/scripts/demo-alerts.sh"; then
            say "showing the meeting scheduler (scripts/demo-meetings.sh)"
            bash "$ROOT/scripts/demo-meetings.sh" || say "WARNING: scripts/demo-meetings.sh failed (exit $?); the services keep running"
            say "showing the metrics (scripts/demo-metrics.sh)"
            bash "$ROOT/scripts/demo-metrics.sh" || say "WARNING: scripts/demo-metrics.sh failed (exit $?); the services keep running"
        else
            say "WARNING: scripts/demo-alerts.sh failed (exit $?); the services keep running"
        fi
    else
        say "no demo feed yet (scripts/demo-feed.sh missing): nothing fed"
    fi
fi

summary() {
    local name
    printf '==== %s   (Ctrl-C stops what make run started)\n' "$(date '+%Y-%m-%d %H:%M:%S')"
    "$CLI" status 2>&1 || echo "(coalition status: exit $?)"
    echo
    for name in "${SERVICES[@]}"; do
        echo "---- $name (.run/logs/$name.log)"
        tail -n 3 "$LOGS/$name.log" 2>/dev/null | cut -c1-200 || true
    done
    echo
    echo "ingestion $COALITION_INGESTION_URL  fan-out $COALITION_FANOUT_URL  scheduler $COALITION_SCHEDULER_URL  metrics $COALITION_METRICS_URL"
}

say "live summary every ${INTERVAL}s; Ctrl-C to stop"
while :; do
    if [ -t 1 ]; then
        out=$(summary)
        printf '\033[H\033[2J%s\n' "$out"
    else
        summary
    fi
    sleep "$INTERVAL"
done
