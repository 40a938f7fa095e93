"""The peer of the metrics benchmark: quixstreams counting incident events into tumbling
one-hour windows by area x category, on the same topic the aggregator read, in the same run.

usage: quixstreams_peer.py BROKERS TOPIC EVENTS STATE_DIR

Reads TOPIC from the beginning in a new consumer group, re-keys every record by
"<area_id>/<category>" (group_by, through a repartition topic) and counts it into its
event-time hour (occurred_at). The grace period is ten years: like the aggregator, it counts
late events instead of dropping them. Prints one JSON line once EVENTS records have been
counted: {"events", "seconds" (from the first record counted), "events_per_second"}.
"""
import json
import sys
import time
import uuid
from datetime import datetime, timedelta

from quixstreams import Application


def main() -> None:
    brokers, topic_name, expected, state_dir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    app = Application(
        broker_address=brokers,
        consumer_group="quixstreams-peer-" + uuid.uuid4().hex[:8],
        auto_offset_reset="earliest",
        state_dir=state_dir,
        use_changelog_topics=False,
        loglevel="ERROR",
    )

    def occurred_at(value, headers, timestamp, timestamp_type) -> int:
        return int(datetime.fromisoformat(value["occurred_at"]).timestamp() * 1000)

    topic = app.topic(topic_name, value_deserializer="json", timestamp_extractor=occurred_at)
    counted = {"n": 0, "first": None}

    def tick(window):
        if counted["first"] is None:
            counted["first"] = time.monotonic()
        counted["n"] += 1
        if counted["n"] == expected:
            seconds = time.monotonic() - counted["first"]
            print(json.dumps({"events": counted["n"], "seconds": seconds, "events_per_second": counted["n"] / seconds}), flush=True)
            app.stop()
        return window

    frame = app.dataframe(topic)
    frame = frame.group_by(lambda value: value["area_id"] + "/" + value["category"], name="area_category")
    frame = frame.tumbling_window(timedelta(hours=1), grace_ms=timedelta(days=3650)).count().current()
    frame = frame.update(tick)
    app.run()


if __name__ == "__main__":
    main()
