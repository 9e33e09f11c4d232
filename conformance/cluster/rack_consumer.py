#!/usr/bin/python3
"""A librdkafka consumer in a rack (client.rack), for the fetch-from-follower test.

Reads one JSON request on stdin: {"bootstrap", "topic", "rack", "count", "group"}. Consumes the
topic from the beginning until "count" records arrived or 60 s passed, and prints one JSON
answer: the values read, and the broker ids librdkafka fetched from (from its "fetch" debug log).
"""
import json
import logging
import re
import sys
import time

from confluent_kafka import Consumer

TIMEOUT_S = 60


class FetchBrokers(logging.Handler):
    """Collects the broker ids librdkafka reports sending Fetch requests to."""

    # e.g. "... [thrd:127.0.0.1:34001/bootstrap]: 127.0.0.1:34001/2: Sent FetchRequest (v11, ...)"
    PATTERN = re.compile(r"/(\d+): Sent FetchRequest")

    def __init__(self):
        super().__init__()
        self.brokers = set()

    def emit(self, record):
        m = self.PATTERN.search(record.getMessage())
        if m:
            self.brokers.add(int(m.group(1)))


def main():
    req = json.loads(sys.stdin.read())
    handler = FetchBrokers()
    logger = logging.getLogger("librdkafka")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
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
    print(json.dumps({"values": values, "fetchedFrom": sorted(handler.brokers)}))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # the harness reads the error from the last line
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
        sys.exit(1)
