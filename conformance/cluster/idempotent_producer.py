#!/usr/bin/python3
"""An idempotent acks=all librdkafka producer that writes until told to stop, for failover tests.

argv[1] is a JSON object: {"bootstrap", "topic", "partitions", "intervalMs", "debug"}; "debug", when
set, is librdkafka's debug contexts (e.g. "eos,broker,protocol,msg"), logged on stderr. Record n goes to
partition n % partitions with the value "<partition>:<k>", k counting the records of that
partition from 0, so a reader can tell gaps, duplicates and reordering per partition.

stdout carries one JSON object per line:
  {"ack": k, "p": partition, "o": offset, "s": ms, "t": ms}  a successful delivery report
                                                          (s: when produce() took it, t: now)
  {"fail": k, "p": partition, "err": ..., "t": ms}        a failed delivery report
  {"error": name, "fatal": bool, "retriable": bool, "t": ms}  an error the client reported
  {"done": {...}}                                          the last line, a summary
Any line on stdin (or its end) stops producing; the producer then flushes (bounded) and exits.
"""
import json
import sys
import threading
import time

from confluent_kafka import KafkaException, Producer

FLUSH_S = 90


def now_ms():
    return int(time.time() * 1000)


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    req = json.loads(sys.argv[1])
    partitions = int(req["partitions"])
    interval = float(req.get("intervalMs", 2)) / 1000.0
    stop = threading.Event()

    def watch_stdin():
        sys.stdin.readline()
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()

    def on_error(err):
        emit({"error": err.name(), "str": err.str(), "fatal": err.fatal(), "retriable": err.retriable(), "t": now_ms()})

    config = {
        "bootstrap.servers": req["bootstrap"],
        "enable.idempotence": True,
        "acks": "all",
        # Long enough to ride out a leader's death, its fencing and its restart.
        "message.timeout.ms": 120000,
        "request.timeout.ms": 10000,
        "linger.ms": 5,
        "retry.backoff.ms": 100,
        "reconnect.backoff.ms": 100,
        "reconnect.backoff.max.ms": 1000,
        "topic.metadata.refresh.interval.ms": 1000,
        "error_cb": on_error,
    }
    if req.get("debug"):
        config["debug"] = req["debug"]
    producer = Producer(config)

    counts = [0] * partitions
    summary = {"produced": 0, "acked": 0, "failed": 0}

    def report(err, msg):
        p = msg.partition()
        k = int(msg.value().decode().split(":")[1])
        if err is None:
            summary["acked"] += 1
            # The record's CreateTime is the moment produce() took it.
            emit({"ack": k, "p": p, "o": msg.offset(), "s": msg.timestamp()[1], "t": now_ms()})
        else:
            summary["failed"] += 1
            emit({"fail": k, "p": p, "err": err.name(), "fatal": err.fatal(), "retriable": err.retriable(), "t": now_ms()})

    n = 0
    fatal = None
    while not stop.is_set():
        p = n % partitions
        value = f"{p}:{counts[p]}"
        try:
            producer.produce(req["topic"], value=value.encode(), partition=p, on_delivery=report)
        except BufferError:
            producer.poll(0.1)
            continue
        except KafkaException as e:
            fatal = str(e)
            err = e.args[0]
            # Told at once: the test stops waiting for acknowledgements that cannot come.
            emit({"error": err.name(), "str": err.str(), "fatal": True, "retriable": False, "t": now_ms()})
            break
        counts[p] += 1
        n += 1
        summary["produced"] = n
        producer.poll(0)
        if interval > 0:
            time.sleep(interval)

    # A producer failed fatally sends nothing more: its queue is only failed back.
    deadline = time.time() + (5 if fatal else FLUSH_S)
    while len(producer) > 0 and time.time() < deadline:
        producer.flush(1)
    summary["unflushed"] = len(producer)
    summary["perPartition"] = counts
    summary["fatal"] = fatal
    emit({"done": summary})


if __name__ == "__main__":
    main()
