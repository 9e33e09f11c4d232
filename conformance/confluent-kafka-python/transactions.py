#!/usr/bin/python3
"""confluent-kafka-python (librdkafka) transactions, as the transactional conformance test drives them.

Reads one JSON request on stdin ({"op", "bootstrap", ...}), does it with the client's public API
and prints one JSON answer on stdout; on failure prints {"error": ...} and exits 1.
Ops:
  transactions: {"topic", "transactionalId", "transactions": [{"values": [...], "commit": bool}]}
      one producer runs the transactions in order (each value to partition i % partitions).
  consume: {"topic", "partitions", "isolation"} every message from the beginning to the end of
      each partition, with its partition and offset; control records are never surfaced by the
      client, so any that leaked would show as messages.
  zombie: {"topic", "transactionalId"} a producer opens a transaction and writes "zombie"; a
      second producer with the same transactional id starts (fencing the first), writes "fresh"
      and commits; the first then tries to commit. Answers the first's error.
Every wait is bounded.
"""
import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition

TIMEOUT_S = 30


def producer(req, txn_id):
    return Producer({
        "bootstrap.servers": req["bootstrap"],
        "transactional.id": txn_id,
        "enable.idempotence": True,
        "transaction.timeout.ms": 30000,
        "linger.ms": 5,
    })


def op_transactions(req):
    p = producer(req, req["transactionalId"])
    p.init_transactions(TIMEOUT_S)
    parts = req.get("partitions", 1)
    for t in req["transactions"]:
        p.begin_transaction()
        for i, v in enumerate(t["values"]):
            p.produce(req["topic"], value=v.encode(), key=v.encode(), partition=i % parts)
        p.flush(TIMEOUT_S)
        if t["commit"]:
            p.commit_transaction(TIMEOUT_S)
        else:
            p.abort_transaction(TIMEOUT_S)
    return {}


def op_consume(req):
    c = Consumer({
        "bootstrap.servers": req["bootstrap"],
        "group.id": "txn-conformance-reader",
        "enable.auto.commit": False,
        "isolation.level": req["isolation"],
        "enable.partition.eof": True,
    })
    parts = req["partitions"]
    c.assign([TopicPartition(req["topic"], p, OFFSET_BEGINNING) for p in range(parts)])
    out = []
    eof = set()
    deadline = time.time() + TIMEOUT_S
    while len(eof) < parts and time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error() is not None:
            if m.error().code() == KafkaError._PARTITION_EOF:
                eof.add(m.partition())
                continue
            raise RuntimeError(str(m.error()))
        out.append({"partition": m.partition(), "offset": m.offset(), "value": None if m.value() is None else m.value().decode()})
    c.close()
    if len(eof) < parts:
        raise RuntimeError(f"end of {parts - len(eof)} partitions not reached in {TIMEOUT_S} s")
    return {"messages": out}


def op_zombie(req):
    old = producer(req, req["transactionalId"])
    old.init_transactions(TIMEOUT_S)
    old.begin_transaction()
    old.produce(req["topic"], value=b"zombie", partition=0)
    old.flush(TIMEOUT_S)
    fresh = producer(req, req["transactionalId"])
    fresh.init_transactions(TIMEOUT_S)
    fresh.begin_transaction()
    fresh.produce(req["topic"], value=b"fresh", partition=0)
    fresh.flush(TIMEOUT_S)
    fresh.commit_transaction(TIMEOUT_S)
    try:
        old.produce(req["topic"], value=b"zombie-2", partition=0)
        old.flush(TIMEOUT_S)
        old.commit_transaction(TIMEOUT_S)
    except KafkaException as e:
        err = e.args[0]
        return {"fenced": True, "name": err.name(), "fatal": err.fatal(), "abortable": err.txn_requires_abort()}
    return {"fenced": False}


OPS = {"transactions": op_transactions, "consume": op_consume, "zombie": op_zombie}

if __name__ == "__main__":
    try:
        req = json.loads(sys.stdin.read())
        print(json.dumps(OPS[req["op"]](req)))
    except Exception as e:  # the answer names what failed
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
        sys.exit(1)
