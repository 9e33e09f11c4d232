import { describe, it, expect, expectTypeOf } from 'vitest';
import { BROKER_CONFIG_DEFS, parseBrokerConfig } from './broker-config.ts';
import type { BrokerConfig } from './broker-config.ts';
import { ConfigError } from './config-error.ts';
import { JAVA_LONG_MAX, closestName, javaDoubleString, renderConfigValue } from './config-def.ts';

const COMBINED: Record<string, string> = {
  'process.roles': 'broker,controller',
  'node.id': '1',
  'controller.quorum.voters': '1@localhost:9093',
  'listeners': 'PLAINTEXT://:9092,CONTROLLER://:9093',
  'controller.listener.names': 'CONTROLLER',
  'log.dirs': '/var/samsa/a, /var/samsa/b',
};

const parse = (extra: Record<string, string> = {}, base = COMBINED): BrokerConfig => parseBrokerConfig({ ...base, ...extra });

function problemsOf(props: Record<string, string>): { key: string | null; message: string }[] {
  try {
    parseBrokerConfig(props);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('defaults', () => {
  it('gives Kafka 3.9 defaults for unset keys', () => {
    const c = parse();
    expect(c.get('num.partitions')).toBe(1);
    expect(c.get('default.replication.factor')).toBe(1);
    expect(c.get('message.max.bytes')).toBe(1048588);
    expect(c.get('log.segment.bytes')).toBe(1073741824);
    expect(c.get('offsets.topic.num.partitions')).toBe(50);
    expect(c.get('offsets.topic.replication.factor')).toBe(3);
    expect(c.get('transaction.state.log.min.isr')).toBe(2);
    expect(c.get('group.initial.rebalance.delay.ms')).toBe(3000);
    expect(c.get('auto.create.topics.enable')).toBe(true);
    expect(c.get('log.cleanup.policy')).toEqual(['delete']);
    expect(c.get('log.cleaner.min.cleanable.ratio')).toBe(0.5);
    expect(c.get('compression.type')).toBe('producer');
    expect(c.get('broker.rack')).toBeNull();
    expect(c.get('log.flush.interval.messages')).toBe(JAVA_LONG_MAX);
    expect(c.get('fetch.max.bytes')).toBe(57671680);
    expect(c.get('socket.request.max.bytes')).toBe(104857600);
    expect(c.isSet('num.partitions')).toBe(false);
    expect(c.isSet('node.id')).toBe(true);
  });

  it('types and validates every default against its own definition', () => {
    for (const d of BROKER_CONFIG_DEFS.values()) {
      const typeOk = {
        boolean: (v: unknown) => typeof v === 'boolean',
        int: (v: unknown) => Number.isInteger(v) && (v as number) >= -(2 ** 31) && (v as number) < 2 ** 31,
        short: (v: unknown) => Number.isInteger(v) && Math.abs(v as number) < 2 ** 15,
        long: (v: unknown) => Number.isSafeInteger(v),
        double: (v: unknown) => typeof v === 'number',
        list: (v: unknown) => Array.isArray(v),
        string: (v: unknown) => typeof v === 'string',
        password: (v: unknown) => typeof v === 'string',
        class: (v: unknown) => typeof v === 'string',
      }[d.type];
      expect(d.default === null || typeOk(d.default), d.name).toBe(true);
      expect(d.doc.length, d.name).toBeGreaterThan(0);
      expect(d.doc.includes('\n'), d.name).toBe(false);
    }
  });

  it('marks dynamic update modes as Kafka does', () => {
    expect(BROKER_CONFIG_DEFS.get('num.partitions')!.dynamic).toBe('read-only');
    expect(BROKER_CONFIG_DEFS.get('listeners')!.dynamic).toBe('per-broker');
    expect(BROKER_CONFIG_DEFS.get('log.retention.ms')!.dynamic).toBe('cluster-wide');
    expect(BROKER_CONFIG_DEFS.get('num.io.threads')!.dynamic).toBe('cluster-wide');
    expect(BROKER_CONFIG_DEFS.get('log.dirs')!.dynamic).toBe('read-only');
  });
});

describe('parsing values', () => {
  it('parses typed values, trimming as Kafka does', () => {
    const c = parse({ 'num.partitions': ' 6 ', 'auto.create.topics.enable': 'FALSE', 'log.cleaner.min.cleanable.ratio': '0.25', 'log.cleanup.policy': 'compact , delete', 'broker.rack': ' r1 ' });
    expect(c.get('num.partitions')).toBe(6);
    expect(c.get('auto.create.topics.enable')).toBe(false);
    expect(c.get('log.cleaner.min.cleanable.ratio')).toBe(0.25);
    expect(c.get('log.cleanup.policy')).toEqual(['compact', 'delete']);
    expect(c.get('broker.rack')).toBe('r1');
  });

  it('keeps Long.MAX_VALUE readable and renders it back as Java does', () => {
    const c = parse({ 'log.message.timestamp.after.max.ms': '9223372036854775807' });
    expect(c.get('log.message.timestamp.after.max.ms')).toBe(JAVA_LONG_MAX);
    expect(renderConfigValue('long', c.get('log.message.timestamp.after.max.ms'))).toBe('9223372036854775807');
  });

  it('reports invalid values with Kafka\'s messages', () => {
    expect(problemsOf({ ...COMBINED, 'num.partitions': 'many' })).toEqual([
      { key: 'num.partitions', message: 'Invalid value many for configuration num.partitions: Not a number of type INT' },
    ]);
    expect(problemsOf({ ...COMBINED, 'num.partitions': '0' })[0]!.message).toBe('Invalid value 0 for configuration num.partitions: Value must be at least 1');
    expect(problemsOf({ ...COMBINED, 'num.partitions': '2147483648' })[0]!.message).toContain('Not a number of type INT');
    expect(problemsOf({ ...COMBINED, 'delete.topic.enable': 'yes' })[0]!.message).toBe('Invalid value yes for configuration delete.topic.enable: Expected value to be either true or false');
    expect(problemsOf({ ...COMBINED, 'compression.type': 'brotli' })[0]!.message).toBe('Invalid value brotli for configuration compression.type: String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer');
    expect(problemsOf({ ...COMBINED, 'log.cleanup.policy': 'delete,archive' })[0]!.message).toBe('Invalid value archive for configuration log.cleanup.policy: String must be one of: compact, delete');
    expect(problemsOf({ ...COMBINED, 'log.cleaner.min.cleanable.ratio': '1.5' })[0]!.message).toBe('Invalid value 1.5 for configuration log.cleaner.min.cleanable.ratio: Value must be no more than 1');
    expect(problemsOf({ ...COMBINED, 'compression.gzip.level': '0' })[0]!.message).toContain('compression.gzip.level');
    expect(problemsOf({ ...COMBINED, 'offsets.topic.replication.factor': '40000' })[0]!.message).toContain('Not a number of type SHORT');
  });

  it('lists every problem at once', () => {
    const problems = problemsOf({ ...COMBINED, 'num.partitions': 'x', 'num.io.threads': '0', 'log.retention.hour': '1' });
    expect(problems.map((p) => p.key).sort()).toEqual(['log.retention.hour', 'num.io.threads', 'num.partitions']);
  });
});

describe('unknown and unsupported keys', () => {
  it('fails on an unknown key and suggests the closest known one', () => {
    expect(problemsOf({ ...COMBINED, 'log.retention.hour': '1' })).toEqual([
      { key: 'log.retention.hour', message: 'Unknown configuration log.retention.hour (did you mean log.retention.hours?)' },
    ]);
    expect(problemsOf({ ...COMBINED, 'num.partition': '3' })[0]!.message).toContain('did you mean num.partitions?');
    expect(problemsOf({ ...COMBINED, 'auto.topics.create.enable': 'false' })[0]!.message).toContain('did you mean auto.create.topics.enable?');
    expect(problemsOf({ ...COMBINED, 'completely.unrelated.thing': '1' })[0]!.message).toBe('Unknown configuration completely.unrelated.thing');
  });

  it('points a topic-level key to its broker-wide synonym', () => {
    expect(problemsOf({ ...COMBINED, 'retention.ms': '1000' })[0]!.message).toContain('broker-wide default is log.retention.ms');
    expect(problemsOf({ ...COMBINED, 'segment.bytes': '1000' })[0]!.message).toContain('broker-wide default is log.segment.bytes');
  });

  it('refuses ZooKeeper, Kerberos, remote storage and Java classes clearly', () => {
    expect(problemsOf({ ...COMBINED, 'zookeeper.connect': 'localhost:2181' })[0]!.message).toContain('ZooKeeper mode is not supported');
    expect(problemsOf({ ...COMBINED, 'listeners': 'SASL_PLAINTEXT://:9092,CONTROLLER://:9093', 'advertised.listeners': 'SASL_PLAINTEXT://localhost:9092', 'security.inter.broker.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism.inter.broker.protocol': 'PLAIN', 'sasl.enabled.mechanisms': 'PLAIN,GSSAPI' })[0]!.message).toContain('GSSAPI (Kerberos) is not supported');
    expect(problemsOf({ ...COMBINED, 'remote.log.storage.system.enable': 'true' })[0]!.message).toContain('remote');
    expect(problemsOf({ ...COMBINED, 'create.topic.policy.class.name': 'com.example.Policy' })[0]!.key).toBe('create.topic.policy.class.name');
  });

  it('suggests nothing for an empty candidate set', () => {
    expect(closestName('abc', [])).toBeNull();
  });
});

describe('derived values', () => {
  it('resolves log.retention.ms from ms, then minutes, then hours', () => {
    expect(parse().logRetentionMs).toBe(168 * 3600_000);
    expect(parse({ 'log.retention.hours': '1' }).logRetentionMs).toBe(3600_000);
    expect(parse({ 'log.retention.hours': '1', 'log.retention.minutes': '5' }).logRetentionMs).toBe(300_000);
    expect(parse({ 'log.retention.hours': '1', 'log.retention.minutes': '5', 'log.retention.ms': '1234' }).logRetentionMs).toBe(1234);
    expect(parse({ 'log.retention.ms': '-1' }).logRetentionMs).toBe(-1);
    expect(parse({ 'log.retention.hours': '-5' }).logRetentionMs).toBe(-1);
    expect(problemsOf({ ...COMBINED, 'log.retention.ms': '0' })[0]!.message).toBe('log.retention.ms must be unlimited (-1) or, equal or greater than 1');
  });

  it('resolves roll, jitter and flush intervals', () => {
    const c = parse();
    expect(c.logRollMs).toBe(168 * 3600_000);
    expect(c.logRollJitterMs).toBe(0);
    expect(c.logFlushIntervalMs).toBe(JAVA_LONG_MAX);
    const d = parse({ 'log.roll.hours': '2', 'log.roll.jitter.hours': '1', 'log.flush.scheduler.interval.ms': '5000' });
    expect([d.logRollMs, d.logRollJitterMs, d.logFlushIntervalMs]).toEqual([7200_000, 3600_000, 5000]);
    const e = parse({ 'log.roll.hours': '2', 'log.roll.ms': '100', 'log.roll.jitter.ms': '7', 'log.flush.interval.ms': '10' });
    expect([e.logRollMs, e.logRollJitterMs, e.logFlushIntervalMs]).toEqual([100, 7, 10]);
  });

  it('takes log.dirs over log.dir, and the metadata dir from the first log dir unless set', () => {
    const c = parse();
    expect(c.logDirs).toEqual(['/var/samsa/a', '/var/samsa/b']);
    expect(c.metadataLogDir).toBe('/var/samsa/a');
    const { 'log.dirs': _, ...noDirs } = COMBINED;
    expect(parseBrokerConfig(noDirs).logDirs).toEqual(['/tmp/kafka-logs']);
    expect(parseBrokerConfig({ ...noDirs, 'log.dir': '/d' }).logDirs).toEqual(['/d']);
    expect(parse({ 'metadata.log.dir': '/meta' }).metadataLogDir).toBe('/meta');
    expect(problemsOf({ ...COMBINED, 'log.dirs': ' , ' })[0]!.message).toContain('At least one log directory');
  });
});

describe('listeners and KRaft checks', () => {
  it('parses listeners with the protocol map, controller listeners defaulting to PLAINTEXT', () => {
    const c = parse({ 'listeners': 'PLAINTEXT://127.0.0.1:9092,controller://[::1]:9093' });
    expect(c.listeners).toEqual([
      { name: 'PLAINTEXT', host: '127.0.0.1', port: 9092, securityProtocol: 'PLAINTEXT' },
      { name: 'CONTROLLER', host: '::1', port: 9093, securityProtocol: 'PLAINTEXT' },
    ]);
    expect(c.controllerListeners.map((l) => l.port)).toEqual([9093]);
    expect(c.advertisedListeners).toEqual([c.listeners[0]]);
    expect(c.interBrokerListenerName).toBe('PLAINTEXT');
    expect(c.quorumVoters).toEqual([{ id: 1, host: 'localhost', port: 9093 }]);
    expect(c.isBroker && c.isController).toBe(true);
  });

  it('takes advertised.listeners and a custom inter-broker listener', () => {
    const c = parse({
      'listeners': 'INTERNAL://:19092,EXTERNAL://:9092,CONTROLLER://:9093',
      'advertised.listeners': 'INTERNAL://broker1:19092,EXTERNAL://kafka.example.com:9092',
      'listener.security.protocol.map': 'INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name': 'INTERNAL',
    });
    expect(c.advertisedListeners.map((l) => `${l.name}/${l.host}/${l.port}`)).toEqual(['INTERNAL/broker1/19092', 'EXTERNAL/kafka.example.com/9092']);
    expect(c.interBrokerListenerName).toBe('INTERNAL');
  });

  it('takes SSL and SASL listeners with per-listener overrides, validating their values', () => {
    const c = parseBrokerConfig({
      ...COMBINED,
      'listeners': 'SSL://:9094,SASL_SSL://:9095,PLAINTEXT://:9092,CONTROLLER://:9093',
      'listener.name.ssl.ssl.client.auth': 'required',
      'listener.name.sasl_ssl.sasl.enabled.mechanisms': 'SCRAM-SHA-512,PLAIN',
      'listener.name.sasl_ssl.plain.sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required;',
    });
    expect(c.listeners.map((l) => `${l.name}/${l.securityProtocol}`)).toEqual(['SSL/SSL', 'SASL_SSL/SASL_SSL', 'PLAINTEXT/PLAINTEXT', 'CONTROLLER/PLAINTEXT']);
    expect(problemsOf({ ...COMBINED, 'listener.name.ssl.ssl.client.auth': 'sometimes' })[0]!.message).toContain('listener.name.ssl.ssl.client.auth');
    expect(problemsOf({ ...COMBINED, 'listener.name.ssl.no.such.thing': '1' })[0]!.message).toContain('Unknown configuration listener.name.ssl.no.such.thing');
    const q = problemsOf({ ...COMBINED, 'listeners': 'SASL_PLAINTEXT://:9092,CONTROLLER://:9093', 'advertised.listeners': 'SASL_PLAINTEXT://localhost:9092', 'security.inter.broker.protocol': 'SASL_PLAINTEXT', 'sasl.enabled.mechanisms': 'PLAIN', 'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-256' });
    expect(q.map((x) => x.key)).toEqual(['sasl.mechanism.inter.broker.protocol']);
  });

  it('rejects malformed, duplicate and unmapped listeners', () => {
    expect(problemsOf({ ...COMBINED, 'listeners': 'PLAINTEXT:9092' })[0]!.message).toContain('Unable to parse PLAINTEXT:9092 to a broker endpoint');
    expect(problemsOf({ ...COMBINED, 'listeners': 'PLAINTEXT://:9092,CONTROLLER://:9092' })[0]!.message).toContain('Each listener must have a different port');
    expect(problemsOf({ ...COMBINED, 'listeners': 'PLAINTEXT://:9092,plaintext://:9094,CONTROLLER://:9093' })[0]!.message).toContain('Each listener must have a different name');
    expect(problemsOf({ ...COMBINED, 'listeners': 'FOO://:9092,CONTROLLER://:9093' })[0]!.message).toContain('No security protocol defined for listener FOO');
    expect(problemsOf({ ...COMBINED, 'listeners': 'PLAINTEXT://:70000,CONTROLLER://:9093' })[0]!.message).toContain('port 70000');
  });

  it('allows several ephemeral ports', () => {
    expect(parse({ listeners: 'PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0' }).listeners.map((l) => l.port)).toEqual([0, 0]);
  });

  it('checks advertised listeners against listeners and the meta-address', () => {
    expect(problemsOf({ ...COMBINED, 'advertised.listeners': 'PLAINTEXT://0.0.0.0:9092' })[0]!.message).toContain('nonroutable meta-address');
    expect(problemsOf({ ...COMBINED, 'advertised.listeners': 'OTHER://h:9092', 'listener.security.protocol.map': 'OTHER:PLAINTEXT,PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT' })
      .some((p) => p.message.includes('subset'))).toBe(true);
  });

  it('requires KRaft settings', () => {
    expect(problemsOf({ 'node.id': '1' }).map((p) => p.key)).toEqual(expect.arrayContaining(['process.roles', 'controller.quorum.voters', 'controller.listener.names']));
    expect(problemsOf({ ...COMBINED, 'node.id': '-1' })[0]!.key).toBe('node.id');
    expect(problemsOf({ ...COMBINED, 'process.roles': 'broker,broker,controller' })[0]!.message).toContain('Duplicate role names');
    expect(problemsOf({ ...COMBINED, 'process.roles': 'broker,zookeeper' })[0]!.message).toContain('String must be one of: broker, controller');
    expect(problemsOf({ ...COMBINED, 'controller.quorum.voters': '2@localhost:9093' })[0]!.message).toContain('node id 1 must be included');
    expect(problemsOf({ ...COMBINED, 'controller.quorum.voters': 'one@localhost:9093' })[0]!.message).toContain('{id}@{host}:{port}');
  });

  it('keeps controller listeners off broker-only nodes and broker listeners off controller-only nodes', () => {
    const broker = { ...COMBINED, 'process.roles': 'broker', 'node.id': '2', 'listeners': 'PLAINTEXT://:9092' };
    expect(parseBrokerConfig(broker).controllerListeners).toEqual([]);
    expect(problemsOf({ ...broker, 'listeners': 'PLAINTEXT://:9092,CONTROLLER://:9093' })[0]!.message).toContain('must not contain KRaft controller listeners');
    expect(problemsOf({ ...broker, 'node.id': '1' })[0]!.message).toContain('must not be included in the set of voters');
    const controller = { ...COMBINED, 'process.roles': 'controller', 'listeners': 'CONTROLLER://:9093' };
    expect(parseBrokerConfig(controller).controllerListeners.map((l) => l.name)).toEqual(['CONTROLLER']);
    expect(problemsOf({ ...controller, 'listeners': 'PLAINTEXT://:9092,CONTROLLER://:9093' })[0]!.message).toContain('must only contain KRaft controller listeners');
  });

  it('checks the inter-broker listener', () => {
    expect(problemsOf({ ...COMBINED, 'inter.broker.listener.name': 'CONTROLLER' })[0]!.message).toContain('must not contain a value appearing in the inter.broker.listener.name');
    expect(problemsOf({ ...COMBINED, 'inter.broker.listener.name': 'NOPE' })[0]!.message).toContain('must be a listener name defined in advertised.listeners');
    expect(problemsOf({ ...COMBINED, 'inter.broker.listener.name': 'PLAINTEXT', 'security.inter.broker.protocol': 'PLAINTEXT' })[0]!.message).toBe('Only one of inter.broker.listener.name and security.inter.broker.protocol should be set.');
  });

  it('accepts bootstrap servers instead of static voters', () => {
    const { 'controller.quorum.voters': _, ...rest } = COMBINED;
    const c = parseBrokerConfig({ ...rest, 'controller.quorum.bootstrap.servers': 'localhost:9093,[::1]:9094' });
    expect(c.quorumBootstrapServers).toEqual([{ host: 'localhost', port: 9093 }, { host: '::1', port: 9094 }]);
    expect(c.quorumVoters).toEqual([]);
  });

  it('makes other Kafka cross-checks', () => {
    expect(problemsOf({ ...COMBINED, 'group.min.session.timeout.ms': '10000', 'group.max.session.timeout.ms': '5000' })[0]!.key).toBe('group.max.session.timeout.ms');
    expect(problemsOf({ ...COMBINED, 'log.cleaner.dedupe.buffer.size': '1048576', 'log.cleaner.threads': '2' })[0]!.message).toBe('log.cleaner.dedupe.buffer.size must be at least 1MB per cleaner thread.');
  });
});

describe('typed access', () => {
  it('types get() by Kafka name, nullable only where Kafka\'s default is null', () => {
    const c = parse();
    expectTypeOf(c.get('num.partitions')).toEqualTypeOf<number>();
    expectTypeOf(c.get('log.retention.minutes')).toEqualTypeOf<number | null>();
    expectTypeOf(c.get('auto.create.topics.enable')).toEqualTypeOf<boolean>();
    expectTypeOf(c.get('broker.rack')).toEqualTypeOf<string | null>();
    expectTypeOf(c.get('compression.type')).toEqualTypeOf<string>();
    expectTypeOf(c.get('log.cleanup.policy')).toEqualTypeOf<readonly string[]>();
    expect(c.get('log.retention.minutes')).toBeNull();
  });
});

describe('Java value rendering', () => {
  it('renders doubles as Double.toString', () => {
    expect([0.5, 1, 0.9, 1e7, 1.5e-4, Number.MAX_VALUE].map(javaDoubleString)).toEqual(['0.5', '1.0', '0.9', '1.0E7', '1.5E-4', '1.7976931348623157E308']);
  });
});
