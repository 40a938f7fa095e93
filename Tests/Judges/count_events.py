"""Independent judge: reads a topic from the beginning with confluent-kafka (no consumer group)
and prints, as JSON, how many records it holds and how many distinct CloudEvents ids.

    count_events.py BROKERS TOPIC EXPECTED_DISTINCT [TIMEOUT_SECONDS]
"""
import json
import sys
import time

from confluent_kafka import Consumer, TopicPartition


def main() -> None:
    brokers, topic, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
    timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 120.0
    consumer = Consumer({"bootstrap.servers": brokers, "group.id": "judge-unused", "enable.auto.commit": False})
    metadata = consumer.list_topics(topic, timeout=10)
    partitions = [TopicPartition(topic, p, 0) for p in metadata.topics[topic].partitions]
    consumer.assign(partitions)
    records, ids, revisions = 0, set(), {}
    deadline = time.monotonic() + timeout
    while len(ids) < expected and time.monotonic() < deadline:
        for message in consumer.consume(num_messages=5000, timeout=0.5):
            if message.error():
                continue
            records += 1
            headers = dict(message.headers() or [])
            event_id = headers.get("ce_id", b"").decode()
            ids.add(event_id)
    consumer.close()
    print(json.dumps({"records": records, "distinct_ids": len(ids),
                      "ids_not_first_revision": sum(1 for i in ids if not i.endswith("#1"))}))


if __name__ == "__main__":
    main()
