#!/usr/bin/env bash
# `make run` demo, second part: the alert fan-out at work. A local webhook receiver plays a
# precinct's dispatch system; the precinct subscribes to severity >= 3 everywhere; twenty rows
# of the SFPD export are replayed through the ingestion API as if reported now (historical
# incidents are deliberately not alerted); then it shows what the receiver got, the
# deliveries, and the public CAP feed.
set -euo pipefail
SCRIPT_NAME=demo
# shellcheck source=lib.sh disable=SC2034
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_env

CLI="${COALITION_BIN_DIR:-$ROOT/.build/release}/coalition"
PYTHON="${COALITION_PYTHON:-$ROOT/.local/venv/bin/python}"
DATA="${COALITION_DEMO_DATA:-$ROOT/Datasets}"
RECORD="$RUN/demo-webhooks.jsonl"
: >"$RECORD"

# The receiver lives as long as `make run` (services.sh stop does not know it; the EXIT trap does).
"$PYTHON" "$ROOT/Tests/Judges/webhook_receiver.py" --record "$RECORD" >"$RUN/demo-receiver.out" 2>&1 &
mkdir -p "$PIDS"
echo $! >"$PIDS/demo-receiver.pid"
port=""
for _ in $(seq 1 50); do
    port=$(sed -n 's/^listening //p' "$RUN/demo-receiver.out" 2>/dev/null || true)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || die "the demo webhook receiver did not start ($RUN/demo-receiver.out)"
say "demo webhook receiver on 127.0.0.1:$port (records in ${RECORD#"$ROOT/"})"

stakeholder=$("$CLI" stakeholders add --name "Demo precinct (dispatch webhook)" --role law_enforcement \
    --webhook "http://127.0.0.1:$port/dispatch" --allow-http | sed -n 's/^stakeholder \([0-9a-f-]*\).*/\1/p')
"$CLI" subscriptions add --stakeholder "$stakeholder" --min-severity 3 >/dev/null
echo "$stakeholder" >"$RUN/demo-precinct.id"
say "stakeholder $stakeholder subscribed to severity >= 3 incidents everywhere"

# Twenty SFPD rows, replayed as reported now (new external ids, so each is a new incident).
body=$("$PYTHON" - "$DATA/sf_police_incident_reports_2018-12.csv" <<'PY'
import csv, datetime, json, sys, uuid
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
rows = []
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        if not row["Latitude"] or not row["Incident Category"]:
            continue
        rows.append({
            "source": "sfpd-incidents", "external_id": "demo-live-" + uuid.uuid4().hex[:12],
            "category": row["Incident Category"], "description": row["Incident Description"],
            "occurred_at": now, "location": {"lat": float(row["Latitude"]), "lon": float(row["Longitude"]), "address": row["Intersection"]},
            "area_hint": row["Analysis Neighborhood"], "attributes": {"replayed_from": row["Incident ID"]},
        })
        if len(rows) == 20:
            break
print(json.dumps({"incidents": rows}))
PY
)
curl -fsS -m 30 -o /dev/null -X POST -H "Authorization: Bearer $COALITION_OPERATOR_TOKEN" -H 'Content-Type: application/json' \
    --data "$body" "$COALITION_INGESTION_URL/v1/incidents" || die "the ingestion API refused the replayed incidents"
say "replayed 20 SFPD incidents as live through POST /v1/incidents; waiting for notifications"
for _ in $(seq 1 60); do
    [ -s "$RECORD" ] && break
    sleep 1
done
sleep 3
"$PYTHON" - "$RECORD" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
alerts = [a for l in lines for a in json.loads(l["body"]).get("alerts", [])]
print(f"[demo] the precinct's webhook received {len(lines)} notification(s) carrying {len(alerts)} alert(s); "
      f"signatures present: {all(l['webhook_signature'] for l in lines)}")
for a in alerts[:5]:
    i = a["incident"]
    print(f"[demo]   {i['category']:<20} severity {i['severity']}  area {i['area_id']:<28} {i.get('description', '(withheld)')[:50]}")
PY
curl -fsS -m 10 -H "Authorization: Bearer $COALITION_OPERATOR_TOKEN" "$COALITION_FANOUT_URL/v1/deliveries?limit=1000" |
    "$PYTHON" -c 'import json,sys,collections; d=json.load(sys.stdin)["deliveries"]; print("[demo] deliveries by state:", dict(collections.Counter(x["state"] for x in d)))'
entries=$(curl -fsS -m 10 "$COALITION_FANOUT_URL/v1/cap/alerts.xml" | grep -c '<entry>' || true)
say "public CAP 1.2 feed: $entries entr(y/ies) at $COALITION_FANOUT_URL/v1/cap/alerts.xml"
