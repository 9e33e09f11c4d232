#!/usr/bin/python3
"""One group member of confluent-kafka-python or kafka-python as its own process.

argv[1] is a MemberConfig as JSON (conformance/groups/group-member.ts) plus "client"
("confluent" or "kafka-python"). Prints MemberEvent JSON lines on stdout: every assignment and
revocation the client reports, every record processed, and each commit. Offsets are committed one
record at a time, after the record is processed, and reported only once the broker accepted them.
SIGTERM closes the consumer and exits 0.

With "op": "committed" it prints the group's committed offsets for the topic instead, as the
client's committed() reads them: {"committed": {"<partition>": offset}} (-1 for none).
"""
import json
import signal
import sys

TIMEOUT_S = 15


def emit(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


stopping = [False]


def on_sigterm(_signum, _frame):
    stopping[0] = True


def confluent_member(cfg):
    from confluent_kafka import Consumer, KafkaException

    conf = {
        "bootstrap.servers": cfg["bootstrap"],
        "group.id": cfg["group"],
        "client.id": cfg["clientId"],
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": cfg["sessionTimeoutMs"],
        "heartbeat.interval.ms": 500,
        "fetch.wait.max.ms": 100,
        "partition.assignment.strategy": cfg.get("assignor") or "range",
    }
    if cfg.get("instanceId"):
        conf["group.instance.id"] = cfg["instanceId"]
    incremental = conf["partition.assignment.strategy"] == "cooperative-sticky"
    consumer = Consumer(conf)

    # Left to themselves after the callback, the bindings (incrementally) assign or unassign.
    def on_assign(_c, partitions):
        emit({"event": "assigned", "partitions": sorted(p.partition for p in partitions), "incremental": incremental})

    def on_revoke(_c, partitions):
        emit({"event": "revoked", "partitions": sorted(p.partition for p in partitions)})

    consumer.subscribe([cfg["topic"]], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_revoke)
    emit({"event": "ready"})
    while not stopping[0]:
        msg = consumer.poll(0.2)
        if msg is None:
            continue
        if msg.error() is not None:
            emit({"event": "error", "message": str(msg.error())})
            continue
        emit({"event": "record", "partition": msg.partition(), "offset": msg.offset(), "key": msg.key().decode()})
        try:
            consumer.commit(message=msg, asynchronous=False)
            emit({"event": "committed", "partition": msg.partition(), "offset": msg.offset() + 1})
        except KafkaException as err:
            emit({"event": "commit-failed", "partition": msg.partition(), "offset": msg.offset() + 1, "message": str(err)})
    consumer.close()
    emit({"event": "closed"})


def kafka_python_member(cfg):
    from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
    from kafka.errors import KafkaError
    from kafka.structs import OffsetAndMetadata

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            emit({"event": "revoked", "partitions": sorted(tp.partition for tp in revoked)})

        def on_partitions_assigned(self, assigned):
            emit({"event": "assigned", "partitions": sorted(tp.partition for tp in assigned), "incremental": False})

    consumer = KafkaConsumer(
        bootstrap_servers=cfg["bootstrap"],
        group_id=cfg["group"],
        client_id=cfg["clientId"],
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=cfg["sessionTimeoutMs"],
        heartbeat_interval_ms=500,
        fetch_max_wait_ms=100,
        request_timeout_ms=cfg["sessionTimeoutMs"] + 5000,
    )
    consumer.subscribe([cfg["topic"]], listener=Listener())
    emit({"event": "ready"})
    while not stopping[0]:
        for tp, messages in consumer.poll(timeout_ms=200).items():
            for m in messages:
                if stopping[0]:
                    break
                emit({"event": "record", "partition": m.partition, "offset": m.offset, "key": m.key.decode()})
                try:
                    consumer.commit({TopicPartition(tp.topic, tp.partition): OffsetAndMetadata(m.offset + 1, None)})
                    emit({"event": "committed", "partition": m.partition, "offset": m.offset + 1})
                except KafkaError as err:
                    emit({"event": "commit-failed", "partition": m.partition, "offset": m.offset + 1, "message": str(err)})
    consumer.close(autocommit=False)
    emit({"event": "closed"})


def committed(cfg):
    partitions = range(cfg["partitions"])
    if cfg["client"] == "confluent":
        from confluent_kafka import Consumer, TopicPartition

        consumer = Consumer({"bootstrap.servers": cfg["bootstrap"], "group.id": cfg["group"], "enable.auto.commit": False})
        found = consumer.committed([TopicPartition(cfg["topic"], p) for p in partitions], timeout=TIMEOUT_S)
        consumer.close()
        for tp in found:
            if tp.error is not None:
                raise RuntimeError(f"partition {tp.partition}: {tp.error}")
        # librdkafka says OFFSET_INVALID (-1001) for "no committed offset".
        return {str(tp.partition): (tp.offset if tp.offset >= 0 else -1) for tp in found}
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=cfg["bootstrap"], group_id=cfg["group"], enable_auto_commit=False, request_timeout_ms=TIMEOUT_S * 1000 + 1000)
    out = {}
    for p in partitions:
        offset = consumer.committed(TopicPartition(cfg["topic"], p))
        out[str(p)] = -1 if offset is None else offset
    consumer.close(autocommit=False)
    return out


def main():
    cfg = json.loads(sys.argv[1])
    try:
        if cfg.get("op") == "committed":
            print(json.dumps({"committed": committed(cfg)}))
            return
        signal.signal(signal.SIGTERM, on_sigterm)
        if cfg["client"] == "confluent":
            confluent_member(cfg)
        else:
            kafka_python_member(cfg)
    except Exception as err:  # the harness reads the message; the exit status marks the failure
        emit({"event": "error", "message": f"{type(err).__name__}: {err}"})
        sys.exit(1)


if __name__ == "__main__":
    main()
