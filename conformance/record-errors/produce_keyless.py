#!/usr/bin/python3
"""Produces records with and without keys through confluent-kafka-python (librdkafka).

Reads one JSON request on stdin: {"bootstrap", "topic", "count", "keyless": [indices],
"oneBatch": bool, "resend": [error names]}. Every record goes to partition 0 with value "v<i>"
and key "k<i>", except the keyless ones. With oneBatch the records are queued before the first
can be sent, so they normally leave in one batch; otherwise each record is its own batch. Records
whose delivery failed with an error named in "resend" are produced once more, as an application
would. Prints one JSON answer: each record's first outcome (null or the error name), the outcome of
the resent ones, the Produce request versions librdkafka used, and the record count of each batch
it built in the first round, in order (both from its debug log), so that the caller judges each
record by the batch it really travelled in.
Every wait is bounded.
"""
import json
import os
import sys

from confluent_kafka import Producer, libversion

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from librdkafka_log import Matches, debug_logger, run_driver  # noqa: E402

TIMEOUT_S = 30


def main():
    req = json.loads(sys.stdin.read())
    versions = Matches(r"Sent ProduceRequest \(v(\d+)")
    batches = Matches(r"Produce MessageSet with (\d+) message")
    logger = debug_logger(versions, batches)
    base = {
        "bootstrap.servers": req["bootstrap"],
        "debug": "protocol,msg",
        "message.timeout.ms": 20000,
        "socket.timeout.ms": 10000,
    }
    one_batch = req["oneBatch"]
    conf = {
        **base,
        # One batch: everything is queued while the producer lingers, however slowly this process
        # runs, and flush() sends the queue at once (it does not wait out linger.ms).
        "linger.ms": 10000 if one_batch else 0,
        "batch.num.messages": 10000 if one_batch else 1,
    }
    records = [(i, None if i in req["keyless"] else f"k{i}") for i in range(req["count"])]
    first = produce_with(conf, records, logger, req["topic"], one_batch)
    first_batches = list(batches.seen)
    again = [(i, key) for i, key in records if first[i] in req.get("resend", [])]
    resent = produce_with({**base, "linger.ms": 0}, again, logger, req["topic"], False) if again else {}
    print(json.dumps({
        "librdkafka": libversion()[0],
        "produceVersions": sorted(versions.found),
        "outcomes": [first[i] for i in range(req["count"])],
        "resent": {str(i): outcome for i, outcome in resent.items()},
        "batches": first_batches,
    }))


def produce_with(conf, records, logger, topic, one_batch):
    """Produces (index, key) pairs and returns {index: None or the delivery error's name}."""
    outcomes = {}
    p = Producer(conf, logger=logger)
    # The partition's leader is known before the first record is queued, so no record waits for
    # metadata apart from the others.
    p.list_topics(topic, timeout=TIMEOUT_S)
    for index, key in records:
        p.produce(topic, value=f"v{index}".encode(), key=None if key is None else key.encode(), partition=0,
                  on_delivery=lambda err, msg, i=index: outcomes.__setitem__(i, None if err is None else err.name()))
        if not one_batch:
            p.flush(TIMEOUT_S)
    left = p.flush(TIMEOUT_S)
    if left:
        raise RuntimeError(f"{left} records still queued after {TIMEOUT_S} s")
    return outcomes


if __name__ == "__main__":
    run_driver(main)
