#!/usr/bin/python3
"""A librdkafka consumer in a rack (client.rack), for the fetch-from-follower test.

Reads one JSON request on stdin: {"bootstrap", "topic", "rack", "count", "group"}. Consumes the
topic from the beginning until "count" records arrived or 60 s passed, and prints one JSON
answer: the values read, and the broker ids librdkafka fetched from (from its protocol debug log).
"""
import json
import os
import sys
import time

from confluent_kafka import Consumer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from librdkafka_log import Matches, debug_logger, run_driver  # noqa: E402

TIMEOUT_S = 60


def main():
    req = json.loads(sys.stdin.read())
    # e.g. "... [thrd:127.0.0.1:34001/bootstrap]: 127.0.0.1:34001/2: Sent FetchRequest (v11, ...)"
    fetched_from = Matches(r"/(\d+): Sent FetchRequest")
    logger = debug_logger(fetched_from)
    c = Consumer({
        "bootstrap.servers": req["bootstrap"],
        "group.id": req["group"],
        "client.rack": req["rack"],
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "fetch.wait.max.ms": 200,
        "debug": "protocol",
    }, logger=logger)
    c.subscribe([req["topic"]])
    values = []
    deadline = time.time() + TIMEOUT_S
    try:
        while len(values) < req["count"] and time.time() < deadline:
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            values.append(m.value().decode())
    finally:
        c.close()
    print(json.dumps({"values": values, "fetchedFrom": sorted(fetched_from.found)}))


if __name__ == "__main__":
    run_driver(main)
