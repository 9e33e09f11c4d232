#!/usr/bin/python3
"""confluent-kafka-python (librdkafka) as the conformance suite drives it.

Reads one JSON request on stdin ({"op", "bootstrap", ...}), does it with the client's public API
and prints one JSON answer on stdout; on failure prints {"error": ...} and exits 1. The ops and
their shapes are those of conformance/harness/process-driver.ts. Every wait is bounded.
"""
import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

TIMEOUT_S = 15


def admin(req):
    return AdminClient({"bootstrap.servers": req["bootstrap"], "socket.timeout.ms": 10000})


def op_metadata(req):
    md = admin(req).list_topics(req["topic"], timeout=TIMEOUT_S)
    topic = md.topics[req["topic"]]
    if topic.error is not None:
        raise RuntimeError(f"topic error: {topic.error}")
    brokers = [{"nodeId": b.id, "host": b.host, "port": b.port} for b in md.brokers.values()]
    return {"brokers": brokers, "partitions": sorted(topic.partitions.keys())}


def op_create_topics(req):
    new = [NewTopic(t["name"], num_partitions=t["partitions"], replication_factor=1) for t in req["topics"]]
    a = admin(req)  # keep the handle alive until the futures resolve
    for future in a.create_topics(new, operation_timeout=10, request_timeout=TIMEOUT_S).values():
        future.result(timeout=TIMEOUT_S)
    return {}


def op_describe_topics(req):
    # This client's describe is list_topics (Metadata); describe_topics came in later releases.
    a = admin(req)
    out = []
    for name in req["topics"]:
        t = a.list_topics(name, timeout=TIMEOUT_S).topics[name]
        if t.error is not None:
            raise RuntimeError(f"{name}: {t.error}")
        out.append({"name": name, "partitions": len(t.partitions)})
    return {"topics": out}


def op_delete_topics(req):
    a = admin(req)
    for future in a.delete_topics(req["topics"], operation_timeout=10, request_timeout=TIMEOUT_S).values():
        future.result(timeout=TIMEOUT_S)
    return {}


def op_produce(req):
    conf = {
        "bootstrap.servers": req["bootstrap"],
        "acks": "all" if req["acks"] == -1 else str(req["acks"]),
        "compression.type": req["compression"],
        "enable.idempotence": req["idempotent"],
        "linger.ms": 5,
        "message.timeout.ms": TIMEOUT_S * 1000,
    }
    producer = Producer(conf)
    errors = []
    delivered = [0]

    def on_delivery(err, _msg):
        if err is not None:
            errors.append(str(err))
        else:
            delivered[0] += 1

    for r in req["records"]:
        kwargs = {"key": r["key"], "value": r["value"], "partition": r["partition"], "headers": list(r["headers"].items()), "on_delivery": on_delivery}
        if r.get("timestamp") is not None:
            kwargs["timestamp"] = r["timestamp"]
        producer.produce(req["topic"], **kwargs)
    left = producer.flush(TIMEOUT_S)
    if left or errors:
        raise RuntimeError(f"{left} records undelivered, errors: {errors[:3]}")
    return {"sent": delivered[0]}


def decode_headers(msg):
    return {k: (v.decode() if v is not None else "") for k, v in (msg.headers() or [])}


def op_consume(req):
    # Manual assignment: group.id must be set but no group is joined and nothing is committed.
    consumer = Consumer({
        "bootstrap.servers": req["bootstrap"],
        "group.id": "conformance-unused",
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        "fetch.wait.max.ms": 50,
    })
    consumer.assign([TopicPartition(req["topic"], p, OFFSET_BEGINNING) for p in range(req["partitions"])])
    at_end = set()
    records = []
    deadline = time.monotonic() + TIMEOUT_S
    while len(at_end) < req["partitions"] and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error() is not None:
            if msg.error().code() == KafkaError._PARTITION_EOF:
                at_end.add(msg.partition())
                continue
            raise RuntimeError(str(msg.error()))
        at_end.discard(msg.partition())
        records.append({
            "partition": msg.partition(),
            "offset": msg.offset(),
            "key": msg.key().decode() if msg.key() is not None else None,
            "value": msg.value().decode() if msg.value() is not None else None,
            "headers": decode_headers(msg),
            "timestamp": msg.timestamp()[1],
        })
    consumer.close()
    if len(at_end) < req["partitions"]:
        raise RuntimeError(f"reached the end of {len(at_end)} of {req['partitions']} partitions in {TIMEOUT_S} s")
    return {"records": records}


def op_group_consume(req):
    # Subscribes in a new group: no committed offsets, so auto.offset.reset decides the start.
    conf = {
        "bootstrap.servers": req["bootstrap"],
        "group.id": req["group"],
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 500,
        "fetch.wait.max.ms": 50,
    }
    if req.get("assignor"):
        conf["partition.assignment.strategy"] = req["assignor"]
    consumer = Consumer(conf)
    consumer.subscribe([req["topic"]])
    records = []
    deadline = time.monotonic() + TIMEOUT_S
    while len(records) < req["expected"] and time.monotonic() < deadline:
        msg = consumer.poll(0.2)
        if msg is None:
            continue
        if msg.error() is not None:
            raise RuntimeError(str(msg.error()))
        records.append({
            "partition": msg.partition(),
            "offset": msg.offset(),
            "key": msg.key().decode() if msg.key() is not None else None,
            "value": msg.value().decode() if msg.value() is not None else None,
            "headers": decode_headers(msg),
        })
    if len(records) < req["expected"]:
        consumer.close()
        raise RuntimeError(f"consumed {len(records)} of {req['expected']} records in {TIMEOUT_S} s")
    consumer.commit(asynchronous=False)
    consumer.close()
    return {"records": records}


def op_offset_for_time(req):
    consumer = Consumer({"bootstrap.servers": req["bootstrap"], "group.id": "conformance-unused", "enable.auto.commit": False})
    [tp] = consumer.offsets_for_times([TopicPartition(req["topic"], req["partition"], req["timestamp"])], timeout=TIMEOUT_S)
    consumer.close()
    if tp.error is not None:
        raise RuntimeError(str(tp.error))
    return {"offset": tp.offset}


OPS = {
    "metadata": op_metadata,
    "create-topics": op_create_topics,
    "describe-topics": op_describe_topics,
    "delete-topics": op_delete_topics,
    "produce": op_produce,
    "consume": op_consume,
    "offset-for-time": op_offset_for_time,
    "group-consume": op_group_consume,
}


def main():
    try:
        req = json.load(sys.stdin)
        print(json.dumps(OPS[req["op"]](req)))
    except Exception as err:  # the suite reads the message; the exit status marks the failure
        print(json.dumps({"error": f"{type(err).__name__}: {err}"}))
        sys.exit(1)


if __name__ == "__main__":
    main()
