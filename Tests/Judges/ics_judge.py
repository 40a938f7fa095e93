"""Independent judge: parses RFC 5545 calendars with the `icalendar` library and expands
their recurrences with `recurring-ical-events`, so the scheduler's .ics output is checked
by code that shares nothing with it.

    ics_judge.py FILE_OR_URL [FILE_OR_URL ...] --from RFC3339 --to RFC3339

Prints one JSON line and exits 0 when every calendar parsed, 1 otherwise:

    {"calendars": [{"source", "method", "timezones": [TZID, ...],
                    "events": [{"uid", "sequence", "status", "summary", "dtstart_tzid",
                                "rrule", "exdates": [UTC ISO, ...], "attendees": N}],
                    "occurrences": [{"uid", "start", "end"}]}],   # UTC ISO 8601, sorted
     "errors": ["...", ...]}

Checks beyond parsing: VERSION:2.0 and PRODID present; every TZID a DTSTART/DTEND/EXDATE
names has a VTIMEZONE in the same calendar; every content line is at most 75 octets and
ends with CRLF.
"""
import argparse
import datetime
import json
import sys
import urllib.request

import icalendar
import recurring_ical_events


def load(source):
    if source.startswith("http://") or source.startswith("https://"):
        with urllib.request.urlopen(source, timeout=30) as response:
            return response.read()
    with open(source, "rb") as handle:
        return handle.read()


def utc(value):
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise ValueError(f"floating time {value} where a zoned time was expected")
        return value.astimezone(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def check(source, start, end, errors):
    raw = load(source)
    for number, line in enumerate(raw.split(b"\r\n")[:-1], 1):
        if len(line) > 75:
            errors.append(f"{source}: line {number} is {len(line)} octets")
        if b"\n" in line:
            errors.append(f"{source}: line {number} ends with a bare LF")
    if not raw.endswith(b"\r\n"):
        errors.append(f"{source}: the last line does not end with CRLF")
    calendar = icalendar.Calendar.from_ical(raw)
    for required in ("VERSION", "PRODID"):
        if required not in calendar:
            errors.append(f"{source}: {required} is missing")
    zones = [str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")]
    events = []
    for event in calendar.walk("VEVENT"):
        tzid = event["DTSTART"].params.get("TZID")
        for name in ("DTSTART", "DTEND"):
            zone = event[name].params.get("TZID") if name in event else None
            if zone and zone not in zones:
                errors.append(f"{source}: {name} names TZID {zone} without a VTIMEZONE")
        exdates = []
        for item in event.get("EXDATE", []) if isinstance(event.get("EXDATE"), list) else [event.get("EXDATE")] if "EXDATE" in event else []:
            zone = item.params.get("TZID")
            if zone and zone not in zones:
                errors.append(f"{source}: EXDATE names TZID {zone} without a VTIMEZONE")
            exdates += [utc(d.dt) for d in item.dts]
        events.append({
            "uid": str(event["UID"]),
            "sequence": int(event.get("SEQUENCE", 0)),
            "status": str(event.get("STATUS", "")),
            "summary": str(event.get("SUMMARY", "")),
            "dtstart_tzid": tzid,
            "rrule": event["RRULE"].to_ical().decode() if "RRULE" in event else None,
            "exdates": sorted(exdates),
            "attendees": len(event.get("ATTENDEE", [])) if isinstance(event.get("ATTENDEE"), list) else (1 if "ATTENDEE" in event else 0),
        })
    occurrences = [
        {"uid": str(item["UID"]), "start": utc(item["DTSTART"].dt), "end": utc(item["DTEND"].dt)}
        for item in recurring_ical_events.of(calendar).between(start, end)
    ]
    occurrences.sort(key=lambda item: (item["start"], item["uid"]))
    return {"source": source, "method": str(calendar.get("METHOD", "")) or None, "timezones": zones, "events": events,
            "occurrences": occurrences}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("sources", nargs="+")
    parser.add_argument("--from", dest="start", required=True)
    parser.add_argument("--to", dest="end", required=True)
    arguments = parser.parse_args()
    start = datetime.datetime.fromisoformat(arguments.start.replace("Z", "+00:00"))
    end = datetime.datetime.fromisoformat(arguments.end.replace("Z", "+00:00"))
    errors, calendars = [], []
    for source in arguments.sources:
        try:
            calendars.append(check(source, start, end, errors))
        except Exception as error:  # noqa: BLE001 - every failure is reported, not raised
            errors.append(f"{source}: {type(error).__name__}: {error}")
    print(json.dumps({"calendars": calendars, "errors": errors}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
