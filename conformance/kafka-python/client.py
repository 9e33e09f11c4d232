#!/usr/bin/python3
"""kafka-python as the conformance suite drives it.

Reads one JSON request on stdin ({"op", "bootstrap", ...}), does it with the client's public API
and prints one JSON answer on stdout; on failure prints {"error": ...} and exits 1. The ops and
their shapes are those of conformance/harness/process-driver.ts. kafka-python picks its API
versions by guessing the broker's release from ApiVersions, so no api_version is forced here.
Every wait is bounded.
"""
import json
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

TIMEOUT_S = 15
TIMEOUT_MS = TIMEOUT_S * 1000


def admin(req):
    return KafkaAdminClient(bootstrap_servers=req["bootstrap"], request_timeout_ms=TIMEOUT_MS)


def consumer(req, **extra):
    return KafkaConsumer(bootstrap_servers=req["bootstrap"], group_id=None, enable_auto_commit=False, request_timeout_ms=TIMEOUT_MS + 1000, **extra)


def op_metadata(req):
    a = admin(req)
    cluster = a.describe_cluster()
    [topic] = a.describe_topics([req["topic"]])
    a.close()
    if topic["error_code"] != 0:
        raise RuntimeError(f"topic error {topic['error_code']}")
    brokers = [{"nodeId": b["node_id"], "host": b["host"], "port": b["port"]} for b in cluster["brokers"]]
    return {"brokers": brokers, "partitions": sorted(p["partition"] for p in topic["partitions"])}


def check_errors(pairs):
    bad = [(name, code) for name, code, *_ in pairs if code != 0]
    if bad:
        raise RuntimeError(f"errors: {bad}")


def op_create_topics(req):
    a = admin(req)
    response = a.create_topics([NewTopic(t["name"], t["partitions"], 1) for t in req["topics"]], timeout_ms=10000)
    a.close()
    check_errors(response.topic_errors)
    return {}


def op_describe_topics(req):
    a = admin(req)
    topics = a.describe_topics(req["topics"])
    a.close()
    for t in topics:
        if t["error_code"] != 0:
            raise RuntimeError(f"{t['topic']}: error {t['error_code']}")
    return {"topics": [{"name": t["topic"], "partitions": len(t["partitions"])} for t in topics]}


def op_delete_topics(req):
    a = admin(req)
    response = a.delete_topics(req["topics"], timeout_ms=10000)
    a.close()
    check_errors(response.topic_error_codes)
    return {}


def op_produce(req):
    if req["idempotent"]:
        raise RuntimeError("kafka-python has no idempotent producer")
    producer = KafkaProducer(
        bootstrap_servers=req["bootstrap"],
        acks="all" if req["acks"] == -1 else req["acks"],
        compression_type=None if req["compression"] == "none" else req["compression"],
        linger_ms=5,
        request_timeout_ms=TIMEOUT_MS,
    )
    futures = []
    for r in req["records"]:
        headers = [(k, v.encode()) for k, v in r["headers"].items()]
        futures.append(producer.send(req["topic"], key=r["key"].encode(), value=r["value"].encode(), partition=r["partition"], headers=headers, timestamp_ms=r.get("timestamp")))
    producer.flush(timeout=TIMEOUT_S)
    for f in futures:
        f.get(timeout=TIMEOUT_S)  # raises the send's error, if any
    producer.close(timeout=TIMEOUT_S)
    return {"sent": len(futures)}


def op_consume(req):
    c = consumer(req, fetch_max_wait_ms=50)
    tps = [TopicPartition(req["topic"], p) for p in range(req["partitions"])]
    c.assign(tps)
    for tp in tps:
        c.seek(tp, 0)
    end = c.end_offsets(tps)
    records = []
    deadline = time.monotonic() + TIMEOUT_S
    while any(c.position(tp) < end[tp] for tp in tps) and time.monotonic() < deadline:
        for tp, messages in c.poll(timeout_ms=200).items():
            for m in messages:
                records.append({
                    "partition": m.partition,
                    "offset": m.offset,
                    "key": m.key.decode() if m.key is not None else None,
                    "value": m.value.decode() if m.value is not None else None,
                    "headers": {k: (v.decode() if v is not None else "") for k, v in m.headers},
                    "timestamp": m.timestamp,
                })
    left = {tp.partition: (c.position(tp), end[tp]) for tp in tps if c.position(tp) < end[tp]}
    c.close()
    if left:
        raise RuntimeError(f"not read to the end in {TIMEOUT_S} s: partition -> (position, end) {left}")
    return {"records": records}


def op_group_consume(req):
    # A new group: no committed offsets, so auto_offset_reset decides the start.
    c = KafkaConsumer(
        req["topic"],
        bootstrap_servers=req["bootstrap"],
        group_id=req["group"],
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=500,
        fetch_max_wait_ms=50,
        request_timeout_ms=TIMEOUT_MS + 1000,
    )
    records = []
    deadline = time.monotonic() + TIMEOUT_S
    while len(records) < req["expected"] and time.monotonic() < deadline:
        for _tp, messages in c.poll(timeout_ms=200).items():
            for m in messages:
                records.append({
                    "partition": m.partition,
                    "offset": m.offset,
                    "key": m.key.decode() if m.key is not None else None,
                    "value": m.value.decode() if m.value is not None else None,
                    "headers": {k: (v.decode() if v is not None else "") for k, v in m.headers},
                })
    if len(records) < req["expected"]:
        c.close(autocommit=False)
        raise RuntimeError(f"consumed {len(records)} of {req['expected']} records in {TIMEOUT_S} s")
    c.commit()
    c.close(autocommit=False)
    return {"records": records}


def op_offset_for_time(req):
    c = consumer(req)
    tp = TopicPartition(req["topic"], req["partition"])
    found = c.offsets_for_times({tp: req["timestamp"]})[tp]
    c.close()
    return {"offset": -1 if found is None else found.offset}


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
