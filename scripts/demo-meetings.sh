#!/usr/bin/env bash
# `make run` demo, third part: the meeting scheduler at work. Two more coalition members (a
# community organisation and the district supervisor's office) join the precinct from the
# alerts demo, a community centre is added as a venue, and a weekly coalition meeting for the
# Mission is requested: the scheduler picks the quarter-hour slot where all three roles can
# attend, books the venue, and the invitations (with their .ics) reach the members' webhooks
# through the alert fan-out. Runs after scripts/demo-alerts.sh, whose receiver it reuses.
set -euo pipefail
SCRIPT_NAME=demo
# shellcheck source=lib.sh disable=SC2034
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_env

CLI="${COALITION_BIN_DIR:-$ROOT/.build/release}/coalition"
PYTHON="${COALITION_PYTHON:-$ROOT/.local/venv/bin/python}"
RECORD="$RUN/demo-webhooks.jsonl"
port=$(sed -n 's/^listening //p' "$RUN/demo-receiver.out" 2>/dev/null || true)
[ -n "$port" ] || die "the demo webhook receiver is not running (run scripts/demo-alerts.sh first)"

member() { # name role -> stakeholder id, with a webhook to the demo receiver
    "$CLI" stakeholders add --name "$1" --role "$2" --timezone America/Los_Angeles \
        --webhook "http://127.0.0.1:$port/$2" --allow-http | sed -n 's/^stakeholder \([0-9a-f-]*\).*/\1/p'
}
precinct=$(cat "$RUN/demo-precinct.id" 2>/dev/null || true)
[ -n "$precinct" ] || die "the demo precinct from scripts/demo-alerts.sh is missing"
community=$(member "Mission Neighbors United" community_org)
supervisor=$(member "District 9 Supervisor's office" local_government)
"$CLI" meetings add-venue --name "Mission community centre" --area mission --capacity 40 --accessible \
    --timezone America/Los_Angeles --opens 09:00 --closes 21:00 >/dev/null
say "members: precinct $precinct, community organisation $community, supervisor's office $supervisor; venue added"

# Next week, Monday to Friday, 17:00-21:00 local: the scheduler picks the first slot all can attend.
read -r from to < <("$PYTHON" - <<'PY'
import datetime, zoneinfo
zone = zoneinfo.ZoneInfo("America/Los_Angeles")
today = datetime.datetime.now(zone).date()
monday = today + datetime.timedelta(days=7 - today.weekday())
start = datetime.datetime.combine(monday, datetime.time(17, 0), zone)
end = datetime.datetime.combine(monday + datetime.timedelta(days=4), datetime.time(21, 0), zone)
print(start.isoformat(), end.isoformat())
PY
)
meeting=$("$CLI" meetings request --title "Mission safety coalition" --area mission --duration 90 --from "$from" --to "$to" \
    --timezone America/Los_Angeles --invite "$precinct" --invite "$community" --invite "$supervisor" \
    --need law_enforcement=1 --need community_org=1 --need local_government=1 --venue-capacity 20 --accessible \
    --rrule "FREQ=WEEKLY;COUNT=4") || die "the meeting request failed"
printf '%s\n' "$meeting" | sed 's/^/[demo]   /' >&2
id=$(printf '%s\n' "$meeting" | sed -n 's/^meeting \([0-9a-f-]*\).*/\1/p' | head -1)
say "its calendar (RFC 5545, with VTIMEZONE): $COALITION_SCHEDULER_URL/v1/meetings/$id.ics"

say "waiting for the invitations to reach the members' webhooks (through alerts.requested and the fan-out)"
for _ in $(seq 1 60); do
    invitations=$("$PYTHON" - "$RECORD" <<'PY'
import json, sys
count = 0
for line in open(sys.argv[1]):
    if line.strip():
        body = json.loads(json.loads(line)["body"])
        count += sum(1 for a in body.get("alerts", []) if a.get("kind") == "meeting_invitation")
print(count)
PY
)
    [ "$invitations" -ge 3 ] && break
    sleep 1
done
say "meeting invitations received by webhook: $invitations (precinct, community organisation, supervisor's office)"
