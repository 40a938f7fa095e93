"""Independent judge: reads and writes CloudEvents on Kafka with the CloudEvents Python SDK
and confluent-kafka, so our binding is checked by code we did not write.

    cloudevents_judge.py read BROKERS TOPIC              print the first event as JSON
    cloudevents_judge.py write-structured BROKERS TOPIC  send one structured-mode event
"""
import json
import sys
import uuid
from datetime import datetime, timezone

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition


def read(brokers: str, topic: str) -> None:
    consumer = Consumer({
        "bootstrap.servers": brokers,
        "group.id": f"judge-{uuid.uuid4()}",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    })
    # Assign rather than subscribe: no group join, the judge reads partition 0 from the start.
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    try:
        for _ in range(600):  # bounded: at most ~60 s
            message = consumer.poll(0.1)
            if message is None or message.error():
                continue
            headers = {k: v for k, v in (message.headers() or [])}
            event = ce_kafka.from_binary(
                ce_kafka.KafkaMessage(headers=headers, key=message.key(), value=message.value()),
                JSONFormat())
            print(json.dumps({
                "id": event.get_id(),
                "source": event.get_source(),
                "type": event.get_type(),
                "specversion": event.get_specversion(),
                "subject": event.get_subject(),
                "time": event.get_time().isoformat() if event.get_time() else None,
                "datacontenttype": event.get_datacontenttype(),
                "data": event.get_data(),
            }, sort_keys=True))
            return
        sys.exit("no record arrived")
    finally:
        consumer.close()


def write_structured(brokers: str, topic: str) -> None:
    event = CloudEvent(
        {"id": "judge-1", "source": "/judge", "type": "coalition.test.v1", "subject": "s-1",
         "time": datetime(2025, 3, 14, 5, 20, tzinfo=timezone.utc), "datacontenttype": "application/json"},
        {"answer": 42, "text": "structured"})
    message = ce_kafka.to_structured(event, JSONFormat())
    producer = Producer({"bootstrap.servers": brokers})
    producer.produce(topic, value=message.value, key=b"judge", headers=list(message.headers.items()))
    if producer.flush(30) != 0:
        sys.exit("structured event not delivered")


if __name__ == "__main__":
    command, brokers, topic = sys.argv[1:4]
    {"read": read, "write-structured": write_structured}[command](brokers, topic)
