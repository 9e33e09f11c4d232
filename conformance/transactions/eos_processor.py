#!/usr/bin/python3
"""A consume-transform-produce processor with librdkafka's transactions (confluent-kafka-python).

Usage: eos_processor.py BOOTSTRAP INPUT OUTPUT GROUP TRANSACTIONAL_ID PARTITIONS

Starts where GROUP's committed offsets on INPUT say (read_committed), reads batches, writes each
record transformed ("out:" + value, same key and partition) to OUTPUT and commits the batch's
input positions in the same transaction (send_offsets_to_transaction), so every input record is
in OUTPUT's committed data exactly once however often the process is killed. No group membership:
the partitions are assigned, so a restart waits for no rebalance; the previous incarnation is
fenced by init_transactions (same transactional id). One JSON line per event on stdout:
{"event": "sent"} once a batch is produced and flushed inside the open transaction (the test kills
there), {"event": "committed", "records": n} after a commit, {"event": "done"} at the end of the
input. Every wait is bounded.
"""
import json
import sys

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition

TIMEOUT_S = 30


def say(event, **kw):
    print(json.dumps({"event": event, **kw}), flush=True)


def main():
    bootstrap, src, dst, group, txn_id, partitions = sys.argv[1:7]
    partitions = int(partitions)
    producer = Producer({
        "bootstrap.servers": bootstrap,
        "transactional.id": txn_id,
        "enable.idempotence": True,
        "linger.ms": 5,
        "transaction.timeout.ms": 60000,
    })
    producer.init_transactions(TIMEOUT_S)
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
        "auto.offset.reset": "earliest",
        "enable.partition.eof": True,
    })
    committed = consumer.committed([TopicPartition(src, p) for p in range(partitions)], timeout=TIMEOUT_S)
    start = [TopicPartition(src, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_BEGINNING) for tp in committed]
    consumer.assign(start)
    say("started", offsets=[tp.offset for tp in committed])
    at_eof = set()
    while True:
        msgs = consumer.consume(num_messages=50, timeout=1)
        records = []
        for m in msgs:
            if m.error() is not None:
                if m.error().code() == KafkaError._PARTITION_EOF:
                    at_eof.add(m.partition())
                    continue
                raise RuntimeError(str(m.error()))
            at_eof.discard(m.partition())
            records.append(m)
        if not records:
            if len(at_eof) == partitions:
                say("done")
                break
            continue
        producer.begin_transaction()
        for m in records:
            producer.produce(dst, key=m.key(), value=b"out:" + m.value(), partition=m.partition())
        producer.flush(TIMEOUT_S)
        say("sent", records=len(records))
        positions = [tp for tp in consumer.position(consumer.assignment()) if tp.offset >= 0]
        producer.send_offsets_to_transaction(positions, consumer.consumer_group_metadata(), TIMEOUT_S)
        producer.commit_transaction(TIMEOUT_S)
        say("committed", records=len(records))
    consumer.close()


if __name__ == "__main__":
    main()
