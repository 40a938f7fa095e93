#!/usr/bin/env bash
# `make run` demo, last part: what the metrics aggregator made of everything above, read back
# through its HTTP API as a dashboard would. Monthly incident counts of the three real
# datasets, the busiest categories and areas of New York's March, 311 response times, trends,
# hotspot episodes, the fan-out's deliveries and the scheduler's meetings as metrics. A
# handful of perceived-safety answers, marked as demo answers (no public survey dataset ships
# with Coalition), go through feedback.responses as a survey tool would send them. Then a few
# seconds of the live stream.
set -euo pipefail
SCRIPT_NAME=demo
# shellcheck source=lib.sh disable=SC2034
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_env

PYTHON="${COALITION_PYTHON:-$ROOT/.local/venv/bin/python}"
KCAT="${COALITION_KCAT:-$ROOT/.local/bin/kcat}"
PSQL="${COALITION_PG_BIN:-/usr/lib/postgresql/15/bin}/psql"

incidents=$("$PSQL" -X -A -t -d "$COALITION_DATABASE_URL" -c "SELECT count(*) FROM incidents")
say "waiting for the aggregator to count all $incidents stored incidents"
counted=0
for _ in $(seq 1 120); do
    counted=$("$PYTHON" - "$COALITION_METRICS_URL" <<'PY'
import json, sys, urllib.request
url = sys.argv[1] + "/v1/metrics/incidents?granularity=month&from=2015-01-01T00:00:00Z&to=2027-12-01T00:00:00Z"
series = json.load(urllib.request.urlopen(url))["series"]
print(sum(point["count"] or 0 for point in series))
PY
) || counted=0
    [ "$counted" -ge "$incidents" ] && break
    sleep 1
done
[ "$counted" -ge "$incidents" ] || say "WARNING: only $counted of $incidents counted so far; showing what there is"

# Demo perceived-safety answers (not real survey data), sent as CloudEvents like a survey tool.
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
answers=$("$PYTHON" - "$now" <<'PY'
import json, random, sys
random.seed(7)
for index in range(24):
    area = ["mission", "tenderloin", "bayview"][index % 3]
    role = ["resident", "business", "school"][index % 3]
    answer = {"response_id": f"demo-{index}", "area": area, "score": random.randint(2, 5), "responded_at": sys.argv[1], "role": role}
    print(area + "\t" + json.dumps(answer))
PY
)
printf '%s\n' "$answers" | while IFS=$'\t' read -r area answer; do
    printf '%s' "$answer" | "$KCAT" -q -P -b "$COALITION_KAFKA_BROKERS" -t "${COALITION_TOPIC_PREFIX}feedback.responses" -k "$area" \
        -H ce_specversion=1.0 -H "ce_id=$(cat /proc/sys/kernel/random/uuid)" -H ce_source=/demo/survey \
        -H ce_type=coalition.feedback.v1 -H content-type=application/json
done
say "sent 24 demo perceived-safety answers to feedback.responses"
sleep 2

"$PYTHON" - "$COALITION_METRICS_URL" "$COALITION_OPERATOR_TOKEN" <<'PY'
import datetime, json, sys, urllib.parse, urllib.request

base, token = sys.argv[1], sys.argv[2]

def get(path, operator=False):
    request = urllib.request.Request(base + path)
    if operator:
        request.add_header("Authorization", "Bearer " + token)
    return json.load(urllib.request.urlopen(request))

def series(metric, operator=False, **query):
    return get(f"/v1/metrics/{metric}?" + urllib.parse.urlencode(query), operator)["series"]

def line(text=""):
    print("[demo]   " + text)

line("incidents per month (all areas):")
for point in series("incidents", granularity="month", **{"from": "2015-01-01T00:00:00Z", "to": "2027-12-01T00:00:00Z"}):
    if point["count"]:
        line(f"  {point['window_start'][:7]}  {point['count']:>6}")

march = {"granularity": "month", "from": "2025-03-01T00:00:00Z", "to": "2025-04-01T00:00:00Z"}
categories = [d["category"] for d in get("/v1/dimensions?metric=incidents")["dimensions"] if d.get("area") == "*" and d.get("category") not in (None, "*")]
counts = []
for category in sorted(set(categories)):
    for point in series("incidents", category=category, **march):
        if point["count"]:
            counts.append((point["count"], category))
line("March 2025, categories over all areas: " + ", ".join(f"{c} {n}" for n, c in sorted(counts, reverse=True)[:5]))
areas = sorted({d["area"] for d in get("/v1/dimensions?metric=incidents")["dimensions"] if d.get("category") == "*" and d.get("area") not in ("*", None)})
busiest = []
for area in areas:
    for point in series("incidents", area=area, **march):
        if point["count"]:
            busiest.append((point["count"], area))
line("March 2025, busiest areas: " + ", ".join(f"{a} {n}" for n, a in sorted(busiest, reverse=True)[:5])
     + (" (no area polygons or area hints are loaded in this demo: `coalition areas import` assigns areas)" if [a for _, a in busiest] == ["unassigned"] else ""))

for point in series("response-times", **march):
    if point["count"]:
        hours = lambda s: f"{s / 3600:.1f} h" if s is not None else "-"
        line(f"March 2025 response times (reported → closed, {point['count']} closed): p50 {hours(point['p50_seconds'])}, "
             f"p90 {hours(point['p90_seconds'])}, mean {hours(point['mean_seconds'])}")

# Trends as of the last day of New York's month that has incidents.
days = [p for p in series("incidents", granularity="day", **{"from": "2025-03-01T00:00:00Z", "to": "2025-04-01T00:00:00Z"}) if p["count"]]
reference = days[-1]["window_start"] if days else "2025-03-31T12:00:00Z"
trends = get("/v1/trends?" + urllib.parse.urlencode({"at": reference}))
def change(comparison):
    value = comparison["change"]
    return f"{comparison['current']} vs {comparison['previous']}" + (f" ({value:+.0%})" if value is not None else "")
line(f"trends to {trends['reference_day']}: week over week {change(trends['week_over_week'])}, "
     f"28 days {change(trends['last_28_days'])}, year to date {change(trends['year_to_date'])}")

hotspots = get("/v1/hotspots?state=all", operator=True)["hotspots"]
line(f"hotspot episodes: {len(hotspots)} (latest phase of each)" + "".join(
    f"\n[demo]     cell {h['cell']} ({h['area']}) from {h['started_at'][:10]}: {h['phase']}, {h['count_7d']} in 7 days, "
    f"{h['baseline_28d']:.1f} expected, p = {h['p_value']:.1e}" for h in hotspots[:5]))

today = datetime.datetime.now(datetime.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
window = {"granularity": "day", "from": (today - datetime.timedelta(days=1)).isoformat(), "to": (today + datetime.timedelta(days=2)).isoformat()}
for point in series("alerts", operator=True, **window):
    latency = point.get("latency_p50_ms")
    line(f"alerts {point['window_start'][:10]}: {point['delivered']} delivered, {point['failed']} failed, "
         f"{point['suppressed_deliveries']} suppressed, {point['cancelled']} cancelled; p50 latency {latency:.0f} ms" if latency is not None else
         f"alerts {point['window_start'][:10]}: {point['count']} deliveries")
weeks = {"granularity": "week", "from": today.isoformat(), "to": (today + datetime.timedelta(days=35)).isoformat()}
for point in series("engagement", operator=True, **weeks):
    if point["count"]:
        line(f"engagement, week of {point['window_start'][:10]}: {point['meetings_scheduled']} meeting(s), {point['invitations']} invitations, "
             f"{point['rsvps_accepted']} accepted")
for point in series("perceived-safety", operator=True, granularity="day", **{"from": window["from"], "to": window["to"]}):
    if point["count"]:
        line(f"perceived safety (demo answers), {point['window_start'][:10]}: mean {point['mean_score']:.2f} of 5 over {point['responses']} answers")
PY

say "three seconds of the live stream ($COALITION_METRICS_URL/v1/stream, resumable with Last-Event-ID):"
events=$(curl -sN --max-time 3 -H "Last-Event-ID: 0" "$COALITION_METRICS_URL/v1/stream" | grep -c '^id: ' || true)
say "  $events metric updates replayed from the start of the stream's history"
