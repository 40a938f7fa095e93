#!/usr/bin/env bash
# Brings the platform up on top of running infrastructure and a release build:
# migrations, topics, the four services, then waits until `coalition status` is happy.
# Used by `make up` and scripts/run.sh (`make run`).
set -euo pipefail
SCRIPT_NAME=up
# shellcheck source=lib.sh disable=SC2034
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BIN_DIR="${COALITION_BIN_DIR:-$ROOT/.build/release}"
CLI="$BIN_DIR/coalition"
STATUS_DEADLINE="${COALITION_STATUS_DEADLINE:-60}"

load_env
[ -x "$CLI" ] || die "${CLI#"$ROOT/"} not found: build it with 'make build' (swift build -c release)"

say "applying database migrations"
"$CLI" migrate || die "'coalition migrate' failed (database $COALITION_DATABASE_URL)"
say "creating Kafka topics"
"$CLI" topics create || die "'coalition topics create' failed (brokers $COALITION_KAFKA_BROKERS)"
"$ROOT/scripts/services.sh" start

say "waiting for 'coalition status' (up to ${STATUS_DEADLINE}s)"
deadline=$(( $(date +%s) + STATUS_DEADLINE ))
until out=$("$CLI" status 2>&1); do
    if [ "$(date +%s)" -ge "$deadline" ]; then
        printf '%s\n' "$out" >&2
        die "'coalition status' still failing after ${STATUS_DEADLINE}s: see .run/logs/*.log"
    fi
    sleep 1
done
printf '%s\n' "$out"
say "up: ingestion $COALITION_INGESTION_URL, fan-out $COALITION_FANOUT_URL, scheduler $COALITION_SCHEDULER_URL, metrics $COALITION_METRICS_URL (settings in .run/env)"
