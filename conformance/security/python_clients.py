# Produces three records and consumes them in a consumer group over SASL_SSL with one of the
# Python clients; prints {"consumed": [...]} or {"error": "..."} as one JSON line.
# usage: python_clients.py kafka-python|confluent-kafka BOOTSTRAP MECHANISM USER PASSWORD CAFILE TOPIC
import json
import sys
import time

client, bootstrap, mechanism, user, password, cafile, topic = sys.argv[1:8]
values = ['one', 'two', 'three']


def kafka_python():
    from kafka import KafkaConsumer, KafkaProducer
    common = dict(bootstrap_servers=bootstrap, security_protocol='SASL_SSL', sasl_mechanism=mechanism,
                  sasl_plain_username=user, sasl_plain_password=password, ssl_cafile=cafile,
                  ssl_check_hostname=False, request_timeout_ms=30000)
    producer = KafkaProducer(**common)
    for v in values:
        producer.send(topic, v.encode()).get(timeout=30)
    producer.close()
    consumer = KafkaConsumer(topic, group_id=topic + '-group', auto_offset_reset='earliest',
                             consumer_timeout_ms=30000, **common)
    got = []
    for message in consumer:
        got.append(message.value.decode())
        if len(got) == len(values):
            break
    consumer.close()
    return got


def confluent():
    from confluent_kafka import Consumer, Producer
    conf = {'bootstrap.servers': bootstrap, 'security.protocol': 'SASL_SSL', 'sasl.mechanisms': mechanism,
            'sasl.username': user, 'sasl.password': password, 'ssl.ca.location': cafile}
    errors = []
    producer = Producer(conf)
    for v in values:
        producer.produce(topic, v.encode(), on_delivery=lambda err, msg: errors.append(str(err)) if err else None)
    producer.flush(30)
    if errors:
        raise RuntimeError('delivery failed: ' + '; '.join(errors))
    consumer = Consumer({**conf, 'group.id': topic + '-group', 'auto.offset.reset': 'earliest'})
    consumer.subscribe([topic])
    got = []
    deadline = time.time() + 40
    while len(got) < len(values) and time.time() < deadline:
        m = consumer.poll(1.0)
        if m is None:
            continue
        if m.error():
            if m.error().fatal():
                raise RuntimeError(str(m.error()))
            continue
        got.append(m.value().decode())
    consumer.close()
    return got


try:
    consumed = kafka_python() if client == 'kafka-python' else confluent()
    print(json.dumps({'consumed': consumed}))
except Exception as e:  # reported to the test, which fails with it
    print(json.dumps({'error': f'{type(e).__name__}: {e}'}))
