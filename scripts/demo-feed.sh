#!/usr/bin/env bash
# `make run` demo: registers the three sources shipped with Coalition and feeds the real
# datasets in Datasets/ through the ingestion path (validation, normalization, store,
# outbox → incidents.normalized), then shows a few canonical incidents from the topic.
set -euo pipefail
SCRIPT_NAME=demo
# shellcheck source=lib.sh disable=SC2034
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_env

CLI="${COALITION_BIN_DIR:-$ROOT/.build/release}/coalition"
DATA="${COALITION_DEMO_DATA:-$ROOT/Datasets}"
[ -d "$DATA" ] || die "demo data folder $DATA not found"

feed() {
    local source=$1 name=$2 timezone=$3 file=$4
    if ! "$CLI" sources list | cut -f1 | grep -qx "$source"; then
        "$CLI" sources add --id "$source" --name "$name" --timezone "$timezone" | head -n 1
    fi
    say "importing $file as $source"
    "$CLI" import csv --mapping "$source" "$DATA/$file"
}

feed nyc-311 "NYC 311 (animal complaints)" America/New_York nyc_311_animal_complaints_2025-03.csv
feed sfpd-incidents "San Francisco Police incident reports" America/Los_Angeles sf_police_incident_reports_2018-12.csv
feed seattle-911 "Seattle Police 911 incident response" America/Los_Angeles seattle_911_incident_response_2016-03-25.csv

for source in nyc-311 sfpd-incidents seattle-911; do
    unmapped=$("$CLI" sources unmapped "$source")
    say "$source: $unmapped" 
done
say "three canonical incidents from incidents.normalized (coalition tail):"
timeout 60 "$CLI" tail incidents.normalized --from-beginning --max 3 || say "(nothing on incidents.normalized yet)"
