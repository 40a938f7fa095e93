#!/usr/bin/env python3
"""The plain-Python peer of the ingestion benchmark.

Reads incident records from a Kafka topic with confluent-kafka, checks each one with a
straightforward port of the service's validator (Services/IncidentIngestion/
Normalization/IncidentValidator.swift, SPEC §4.1), and upserts the valid ones into
PostgreSQL with psycopg 3 `executemany` in batches of 1,000, committing the database
transaction and then the Kafka offsets once per batch. Invalid records are counted, not
stored. The benchmark runs it on the same records as the Swift service and reports the
ratio of the two rates.

It deliberately skips what the Swift service does beyond validation and the upsert:
no category mapping, severity or area assignment, revisions, rejected-topic records,
outbox rows or publishing to `incidents.normalized`. It is a peer for the cost of
"consume, validate, upsert", not a second implementation of the service.

Prints exactly one JSON line to stdout:
    {"records": N, "valid": V, "invalid": I, "seconds": S, "rate": N/S}
where the clock starts when the first record arrives (not at group join) and stops after
the last batch's commits. Exit status 0 when --expect records were processed, 1 when the
timeout passed first, 2 on any other failure. The consumer group must be new (it reads
from the earliest offset only when the group has none committed).

    .local/venv/bin/python Benchmarks/Peer/ingestion_peer.py --brokers 127.0.0.1:9092 \
        --topic bench.incidents.raw --group peer-$RANDOM \
        --dsn postgresql://user@127.0.0.1:5432/peer --expect 200000
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
import traceback
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import psycopg
from confluent_kafka import Consumer, KafkaException

BATCH_SIZE = 1_000

# The incident id contract (IncidentIdentity.swift): UUIDv5 of source, U+001F, external id.
INCIDENT_NAMESPACE = uuid.UUID("dbe917a7-f472-41a0-854d-39ba861a6872")

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS peer_incidents (
    id uuid PRIMARY KEY,
    source text,
    external_id text,
    category text,
    description text,
    occurred_at timestamptz,
    lat double precision,
    lon double precision,
    payload jsonb
)
"""

UPSERT = """
INSERT INTO peer_incidents (id, source, external_id, category, description, occurred_at, lat, lon, payload)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)
ON CONFLICT (id) DO UPDATE SET
    source = EXCLUDED.source,
    external_id = EXCLUDED.external_id,
    category = EXCLUDED.category,
    description = EXCLUDED.description,
    occurred_at = EXCLUDED.occurred_at,
    lat = EXCLUDED.lat,
    lon = EXCLUDED.lon,
    payload = EXCLUDED.payload
WHERE peer_incidents.payload IS DISTINCT FROM EXCLUDED.payload
"""


# ---------------------------------------------------------------------------------------
# Validation: a port of IncidentValidator.swift and RFC3339Syntax.swift.
#
# One known difference: Swift counts characters as grapheme clusters, Python as code
# points, so a text over a limit only through combining marks or emoji sequences is
# refused here and accepted there. None of the benchmark's records come near a limit.

IDENTIFIER_LENGTH = 256
SHORT_TEXT_LENGTH = 256
DESCRIPTION_LENGTH = 4_000
ATTRIBUTE_COUNT = 50
ATTRIBUTE_NAME_LENGTH = 256
ATTRIBUTE_VALUE_LENGTH = 256

# Unicode White_Space, which is what Swift's Character.isWhitespace tests (Python's
# str.isspace also counts U+001C-U+001F).
WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# General category Cc.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")

# RFC 3339 §5.6 date-time, ASCII digits only; the rest of the string is the offset.
DATE_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?(.*)",
    re.DOTALL,
)
OFFSET = re.compile(r"([+-])([0-9]{2}):([0-9]{2})")
DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_zones: dict[str, timezone] = {"Z": timezone.utc, "z": timezone.utc}

MISSING_OFFSET = "missing_offset"
INVALID_TIME = "invalid_time"


def parse_time(text: str) -> datetime | str:
    """The instant `text` names, or the error code (`missing_offset`, `invalid_time`)."""
    match = DATE_TIME.fullmatch(text)
    if match is None:
        return INVALID_TIME
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    if not 1 <= month <= 12:
        return INVALID_TIME
    days = DAYS_IN_MONTH[month - 1]
    if month == 2 and ((year % 4 == 0 and year % 100 != 0) or year % 400 == 0):
        days = 29
    # Leap seconds (:60) are refused: the platform's dates cannot represent them.
    if not (1 <= day <= days and hour <= 23 and minute <= 59 and second <= 59):
        return INVALID_TIME
    rest = match.group(8)
    if rest == "":
        return MISSING_OFFSET
    zone = _zones.get(rest)
    if zone is None:
        offset = OFFSET.fullmatch(rest)
        if offset is None:
            return INVALID_TIME
        hours, minutes = int(offset.group(2)), int(offset.group(3))
        if hours > 23 or minutes > 59:
            return INVALID_TIME
        delta = timedelta(hours=hours, minutes=minutes)
        zone = timezone(-delta if offset.group(1) == "-" else delta)
        _zones[rest] = zone
    fraction = match.group(7)
    microsecond = int(fraction[:6].ljust(6, "0")) if fraction else 0
    try:
        return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=zone)
    except ValueError:  # year 0000
        return INVALID_TIME


def _number(value: Any) -> float | None:
    """A JSON number as a float; None for anything else, booleans included."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _blank(text: str) -> bool:
    return not text.strip(WHITESPACE)


class Checker:
    """Collects field errors while reading fields, like the Swift `Checker`."""

    __slots__ = ("errors",)

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []

    def fail(self, field: str, code: str) -> None:
        self.errors.append((field, code))

    def storable(self, text: str, field: str) -> bool:
        # PostgreSQL text cannot hold U+0000.
        if "\x00" in text:
            self.fail(field, "invalid_characters")
            return False
        return True

    def identifier(self, value: Any, field: str) -> str | None:
        if value is None:
            self.fail(field, "required")
            return None
        if not isinstance(value, str):
            self.fail(field, "wrong_type")
            return None
        if _blank(value):
            self.fail(field, "empty")
            return None
        if len(value) > IDENTIFIER_LENGTH:
            self.fail(field, "too_long")
            return None
        if not self.storable(value, field):
            return None
        return value

    def optional_text(self, value: Any, field: str, max_length: int) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(field, "wrong_type")
            return None
        if len(value) > max_length:
            self.fail(field, "too_long")
            return None
        if not self.storable(value, field):
            return None
        return value

    def time(self, value: Any, field: str, required: bool) -> datetime | None:
        if value is None:
            if required:
                self.fail(field, "required")
            return None
        if not isinstance(value, str):
            self.fail(field, "wrong_type")
            return None
        parsed = parse_time(value)
        if isinstance(parsed, str):
            self.fail(field, parsed)
            return None
        return parsed

    def coordinate(self, value: Any, field: str, limit: float) -> float | None:
        if value is None:
            return None
        number = _number(value)
        if number is None:
            self.fail(field, "wrong_type")
            return None
        if not -limit <= number <= limit:
            self.fail(field, "out_of_range")
            return None
        return number

    def location(self, value: Any, hint: Any) -> tuple[dict[str, Any] | None, str | None]:
        location = None
        coordinates_given = False
        if value is not None:
            if isinstance(value, dict):
                lat_value = value.get("lat")
                lon_value = value.get("lon")
                coordinates_given = lat_value is not None or lon_value is not None
                lat = self.coordinate(lat_value, "location.lat", 90.0)
                lon = self.coordinate(lon_value, "location.lon", 180.0)
                if lat_value is not None and lon_value is None:
                    self.fail("location.lon", "required")
                if lon_value is not None and lat_value is None:
                    self.fail("location.lat", "required")
                address = self.optional_text(value.get("address"), "location.address", SHORT_TEXT_LENGTH)
                has_coordinates = False
                if lat is not None and lon is not None:
                    if lat == 0 and lon == 0:
                        self.fail("location", "null_island")
                    else:
                        has_coordinates = True
                if has_coordinates or address is not None:
                    location = {}
                    if has_coordinates:
                        location["lat"] = lat
                        location["lon"] = lon
                    if address is not None:
                        location["address"] = address
            else:
                self.fail("location", "wrong_type")
                coordinates_given = True

        area_hint = self.optional_text(hint, "area_hint", SHORT_TEXT_LENGTH)
        if not coordinates_given:
            if area_hint is not None and _blank(area_hint):
                self.fail("area_hint", "empty")
            elif hint is None:
                self.fail("location", "required")
        return location, area_hint

    def severity(self, value: Any) -> int | None:
        if value is None:
            return None
        number = _number(value)
        if number is None:
            self.fail("severity", "wrong_type")
            return None
        if math.isfinite(number) and not number.is_integer():
            self.fail("severity", "not_an_integer")
            return None
        if not 1 <= number <= 5:
            self.fail("severity", "out_of_range")
            return None
        return int(number)

    def attributes(self, value: Any) -> dict[str, str] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            self.fail("attributes", "wrong_type")
            return None
        if len(value) > ATTRIBUTE_COUNT:
            self.fail("attributes", "too_many")
            return None
        attributes = {}
        for name in sorted(value):
            member = value[name]
            if member is None:
                continue
            field = "attributes." + name
            if not name:
                self.fail("attributes", "empty")
                continue
            if len(name) > ATTRIBUTE_NAME_LENGTH:
                self.fail("attributes", "too_long")
                continue
            if not isinstance(member, str):
                self.fail(field, "not_a_string")
                continue
            if len(member) > ATTRIBUTE_VALUE_LENGTH:
                self.fail(field, "too_long")
                continue
            if not (self.storable(name, "attributes") and self.storable(member, field)):
                continue
            attributes[name] = member
        return attributes


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def validate(raw: bytes | None) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """The incident's fields, nulls dropped (None when refused), and the field errors."""
    try:
        document = json.loads(raw or b"", parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        return None, [("", "invalid_json")]
    if not isinstance(document, dict):
        return None, [("", "wrong_type")]

    check = Checker()
    get = document.get
    source = check.identifier(get("source"), "source")
    if source is not None and CONTROL.search(source):
        check.fail("source", "invalid_characters")
    external_id = check.identifier(get("external_id"), "external_id")
    category = check.identifier(get("category"), "category")
    description = check.optional_text(get("description"), "description", DESCRIPTION_LENGTH)
    occurred_at = check.time(get("occurred_at"), "occurred_at", required=True)
    reported_at = check.time(get("reported_at"), "reported_at", required=False)
    closed_at = check.time(get("closed_at"), "closed_at", required=False)
    updated_at = check.time(get("updated_at"), "updated_at", required=False)
    status = check.optional_text(get("status"), "status", SHORT_TEXT_LENGTH)
    location, area_hint = check.location(get("location"), get("area_hint"))
    severity = check.severity(get("severity"))
    attributes = check.attributes(get("attributes"))
    if check.errors:
        return None, check.errors

    incident: dict[str, Any] = {
        "source": source,
        "external_id": external_id,
        "category": category,
        "occurred_at": occurred_at,
    }
    for key, value in (
        ("description", description),
        ("reported_at", reported_at),
        ("closed_at", closed_at),
        ("updated_at", updated_at),
        ("status", status),
        ("location", location),
        ("area_hint", area_hint),
        ("severity", severity),
        ("attributes", attributes),
    ):
        if value is not None:
            incident[key] = value
    return incident, []


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def to_row(incident: dict[str, Any]) -> tuple[Any, ...] | None:
    """The upsert's parameters, or None when a text cannot be sent to PostgreSQL (a lone
    UTF-16 surrogate from a `\\ud800` escape, which Python's JSON decoder lets through)."""
    payload = json.dumps(incident, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    try:
        payload.encode("utf-8")
    except UnicodeEncodeError:
        return None
    location = incident.get("location") or {}
    source, external_id = incident["source"], incident["external_id"]
    return (
        uuid.uuid5(INCIDENT_NAMESPACE, f"{source}\x1f{external_id}"),
        source,
        external_id,
        incident["category"],
        incident.get("description"),
        incident["occurred_at"],
        location.get("lat"),
        location.get("lon"),
        payload,
    )


# ---------------------------------------------------------------------------------------
# The pipeline


def run(args: argparse.Namespace) -> int:
    deadline = time.monotonic() + args.timeout
    consumer = Consumer(
        {
            "bootstrap.servers": args.brokers,
            "group.id": args.group,
            "client.id": "coalition-ingestion-peer",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    reasons: Counter[str] = Counter()
    records = valid = invalid = 0
    started: float | None = None
    finished: float | None = None
    try:
        with psycopg.connect(args.dsn, autocommit=False) as connection:
            with connection.cursor() as cursor:
                cursor.execute(CREATE_TABLE)
            connection.commit()
            consumer.subscribe([args.topic])

            with connection.cursor() as cursor:
                while records < args.expect:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    messages = consumer.consume(
                        num_messages=min(BATCH_SIZE, args.expect - records), timeout=min(1.0, remaining)
                    )
                    rows = []
                    received = 0
                    for message in messages:
                        error = message.error()
                        if error is not None:
                            if error.fatal():
                                raise KafkaException(error)
                            # Anything else (a broker restart, a topic not yet created) is
                            # reported and waited out, up to the timeout.
                            print(f"ingestion_peer: kafka: {error}", file=sys.stderr)
                            continue
                        if started is None:
                            started = time.monotonic()
                        received += 1
                        incident, errors = validate(message.value())
                        row = to_row(incident) if incident is not None else None
                        if row is None:
                            invalid += 1
                            reasons[f"{errors[0][0] or '(body)'} {errors[0][1]}" if errors else "(body) invalid_characters"] += 1
                        else:
                            rows.append(row)
                    if received == 0:
                        continue
                    if rows:
                        cursor.executemany(UPSERT, rows)
                    connection.commit()
                    consumer.commit(asynchronous=False)
                    records += received
                    valid += len(rows)
                    finished = time.monotonic()
    finally:
        consumer.close()

    seconds = (finished - started) if started is not None and finished is not None else 0.0
    result = {
        "records": records,
        "valid": valid,
        "invalid": invalid,
        "seconds": round(seconds, 3),
        "rate": round(records / seconds, 1) if seconds > 0 else 0.0,
    }
    print(json.dumps(result), flush=True)
    if reasons:
        summary = ", ".join(f"{reason}: {count}" for reason, count in reasons.most_common())
        print(f"ingestion_peer: invalid records by first error: {summary}", file=sys.stderr)
    if records < args.expect:
        print(f"ingestion_peer: timed out after {args.timeout:g} s with {records} of {args.expect} records", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--brokers", required=True, help="Kafka bootstrap servers, HOST:PORT[,HOST:PORT...]")
    parser.add_argument("--topic", required=True, help="the topic of raw incident records")
    parser.add_argument("--group", required=True, help="a new consumer group id")
    parser.add_argument("--dsn", required=True, help="PostgreSQL connection string (postgresql://...)")
    parser.add_argument("--expect", required=True, type=int, help="stop after this many records (valid + invalid)")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds (default 600)")
    args = parser.parse_args(argv)
    if args.expect < 0 or args.timeout <= 0:
        parser.error("--expect must be >= 0 and --timeout > 0")
    try:
        return run(args)
    except KeyboardInterrupt:
        return 2
    except Exception:
        traceback.print_exc()
        return 2


if __name__ == "__main__":
    sys.exit(main())
