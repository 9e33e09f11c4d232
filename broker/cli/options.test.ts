import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseOptions } from './command-io.ts';
import { defineConfigsOptions, describeHeader, formatConfigEntry, parseAddConfigs, toConfigsOptions, visibleEntries } from './configs.ts';
import { defineConsoleConsumerOptions, toConsoleConsumerOptions } from './console-consumer.ts';
import { defineConsoleProducerOptions, toConsoleProducerOptions } from './console-producer.ts';
import { defineConsumerPerfOptions, formatDate, resultLine, toConsumerPerfOptions } from './consumer-perf-test.ts';
import { defineGetOffsetsOptions, parsePartitionRanges, parseTime, toGetOffsetsOptions } from './get-offsets.ts';
import { defineProducerPerfOptions, PerfStats, toProducerPerfOptions } from './producer-perf-test.ts';
import { defineTopicsOptions, formatPartitionLine, formatTopicLine, parseReplicaAssignment, toTopicsOptions, topicMatcher } from './topics.ts';

const B = ['--bootstrap-server', 'localhost:9092'];

function topics(...args: string[]) {
  return toTopicsOptions(parseOptions(defineTopicsOptions(new Command('topics')), args));
}
function configs(...args: string[]) {
  return toConfigsOptions(parseOptions(defineConfigsOptions(new Command('configs')), args));
}

describe('topics options', () => {
  it('reads a create with repeated --config', () => {
    const o = topics(...B, '--create', '--topic', 't', '--partitions', '3', '--replication-factor', '1', '--config', 'retention.ms=1000', '--config', 'cleanup.policy=compact', '--if-not-exists');
    expect(o.action).toBe('create');
    expect(o.partitions).toBe(3);
    expect(o.replicationFactor).toBe(1);
    expect([...o.configs]).toEqual([
      ['retention.ms', '1000'],
      ['cleanup.policy', 'compact'],
    ]);
    expect(o.ifNotExists).toBe(true);
  });

  it('refuses zero or several actions, and missing arguments, as TopicCommand', () => {
    expect(() => topics(...B, '--topic', 't')).toThrow('Command must include exactly one action: --list, --describe, --create, --alter or --delete');
    expect(() => topics(...B, '--list', '--describe')).toThrow(/exactly one action/);
    expect(() => topics(...B, '--create')).toThrow('Missing required argument "[topic]"');
    expect(() => topics('--list')).toThrow('Missing required argument "[bootstrap-server]"');
    expect(() => topics(...B, '--alter', '--topic', 't')).toThrow('Missing required argument "[partitions]"');
    expect(() => topics(...B, '--list', '--partitions', '3')).toThrow(`Option "[partitions]" can't be used with option "[list]"`);
    expect(() => topics(...B, '--describe', '--if-not-exists')).toThrow(/if-not-exists/);
    expect(() => topics(...B, '--create', '--topic', 't', '--partitions', 'x')).toThrow(/integer/);
  });

  it('parses replica assignments and rejects uneven ones', () => {
    expect(parseReplicaAssignment('1:2,2:3,3:1')).toEqual([
      [1, 2],
      [2, 3],
      [3, 1],
    ]);
    expect(() => parseReplicaAssignment('1:2,3')).toThrow(/different replication factor/);
    expect(() => parseReplicaAssignment('1:1')).toThrow(/duplicate/);
  });

  it('matches topics as Kafka\'s IncludeList: comma lists and whole-name regexes', () => {
    const m = topicMatcher('orders,pay.*');
    expect(m('orders')).toBe(true);
    expect(m('payments')).toBe(true);
    expect(m('orders-eu')).toBe(false);
    expect(topicMatcher("'t1'")('t1')).toBe(true);
  });

  it('prints describe lines in TopicCommand\'s format', () => {
    expect(formatTopicLine({ name: 't', topicId: 'Rltpd5LGSRWDUyycem6iLQ', partitionCount: 3, replicationFactor: 1, configs: [['retention.ms', '1000'], ['segment.bytes', '1073741824']] })).toBe(
      'Topic: t\tTopicId: Rltpd5LGSRWDUyycem6iLQ\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention.ms=1000,segment.bytes=1073741824',
    );
    expect(formatTopicLine({ name: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionCount: 1, replicationFactor: 1, configs: [] })).toBe('Topic: t\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: ');
    expect(formatPartitionLine({ topic: 't', partition: 0, leader: 1, replicas: [1, 2, 3], isr: [1, 3] })).toBe('\tTopic: t\tPartition: 0\tLeader: 1\tReplicas: 1,2,3\tIsr: 1,3');
    expect(formatPartitionLine({ topic: 't', partition: 1, leader: -1, replicas: [2], isr: [] })).toBe('\tTopic: t\tPartition: 1\tLeader: none\tReplicas: 2\tIsr: ');
    expect(formatPartitionLine({ topic: 't', partition: 0, leader: 1, replicas: [1, 2], isr: [1], elr: [2], lastKnownElr: [] })).toBe(
      '\tTopic: t\tPartition: 0\tLeader: 1\tReplicas: 1,2\tIsr: 1\tElr: 2\tLastKnownElr: ',
    );
    expect(formatPartitionLine({ topic: 't', partition: 0, leader: 1, replicas: [1], isr: [1], elr: null, lastKnownElr: null })).toMatch(/\tElr: N\/A\tLastKnownElr: N\/A$/);
  });
});

describe('configs options and output', () => {
  it('splits --add-config with bracketed lists', () => {
    expect([...parseAddConfigs('retention.ms=1000,leader.replication.throttled.replicas=[0:1,1:2],cleanup.policy=compact')]).toEqual([
      ['retention.ms', '1000'],
      ['leader.replication.throttled.replicas', '0:1,1:2'],
      ['cleanup.policy', 'compact'],
    ]);
    expect(() => parseAddConfigs('retention.ms')).toThrow(/key=val/);
  });

  it('reads entity shorthands and checks combinations', () => {
    const o = configs(...B, '--alter', '--topic', 't', '--add-config', 'retention.ms=1000', '--delete-config', 'cleanup.policy,segment.ms');
    expect(o).toMatchObject({ action: 'alter', entityType: 'topics', entityName: 't', deleteConfigs: ['cleanup.policy', 'segment.ms'] });
    expect(configs(...B, '--describe', '--entity-type', 'brokers', '--entity-default').entityName).toBe('');
    expect(configs(...B, '--describe', '--entity-type', 'topics').entityName).toBeUndefined();
    expect(() => configs(...B, '--describe', '--alter', '--topic', 't')).toThrow(/exactly one action/);
    expect(() => configs(...B, '--alter', '--entity-type', 'topics', '--entity-name', 't')).toThrow(/At least one of --add-config/);
    expect(() => configs(...B, '--describe', '--entity-type', 'brokers', '--entity-name', 'x')).toThrow(/valid integer broker id/);
    expect(() => configs(...B, '--alter', '--topic', 't', '--add-config', 'a=1', '--delete-config', 'a')).toThrow('Invalid config(s): a');
    expect(() => configs(...B, '--describe', '--entity-type', 'groups')).toThrow(/Invalid entity type/);
  });

  it('prints entries as ConfigCommand, keeping the dynamic source unless --all', () => {
    const entries = [
      { name: 'segment.bytes', value: '1073741824', readOnly: false, configSource: 4, isSensitive: false, synonyms: [{ name: 'log.segment.bytes', value: '1073741824', source: 4 }] },
      {
        name: 'retention.ms',
        value: '1000',
        readOnly: false,
        configSource: 1,
        isSensitive: false,
        synonyms: [
          { name: 'retention.ms', value: '1000', source: 1 },
          { name: 'log.retention.hours', value: '168', source: 5 },
        ],
      },
    ];
    expect(describeHeader('topics', 't', false)).toBe('Dynamic configs for topic t are:');
    expect(describeHeader('brokers', '1', true)).toBe('All configs for broker 1 are:');
    expect(describeHeader('brokers', '', false)).toBe('Default configs for brokers in the cluster are:');
    const shown = visibleEntries('topics', 't', false, entries);
    expect(shown.map(formatConfigEntry)).toEqual(['  retention.ms=1000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=1000, DEFAULT_CONFIG:log.retention.hours=168}']);
    expect(visibleEntries('topics', 't', true, entries).map((e) => e.name)).toEqual(['retention.ms', 'segment.bytes']);
  });
});

describe('get-offsets options', () => {
  it('reads times by name or number and partition ranges', () => {
    expect(parseTime('latest')).toBe(-1n);
    expect(parseTime('-2')).toBe(-2n);
    expect(parseTime('max-timestamp')).toBe(-3n);
    expect(parseTime('1700000000000')).toBe(1700000000000n);
    expect(() => parseTime('yesterday')).toThrow(/Malformed time argument/);
    expect(parsePartitionRanges('0,2-4,7-')).toEqual([
      [0, 0],
      [2, 4],
      [7, Number.MAX_SAFE_INTEGER],
    ]);
    const o = toGetOffsetsOptions(parseOptions(defineGetOffsetsOptions(new Command('get-offsets')), [...B, '--topic', 't', '--partitions', '0,1', '--time', '-2']));
    expect(o).toMatchObject({ topic: 't', time: -2n, partitions: [[0, 0], [1, 1]] });
    expect(() => toGetOffsetsOptions(parseOptions(defineGetOffsetsOptions(new Command('get-offsets')), [...B, '--topic', 't', '--topic-partitions', 't:0']))).toThrow(/cannot be used/);
  });
});

describe('console producer and consumer options', () => {
  const producer = (...args: string[]) => toConsoleProducerOptions(parseOptions(defineConsoleProducerOptions(new Command('console-producer')), args));
  const consumer = (...args: string[]) => toConsoleConsumerOptions(parseOptions(defineConsoleConsumerOptions(new Command('console-consumer')), args));

  it('maps producer flags onto producer settings', () => {
    const o = producer(...B, '--topic', 't', '--compression-codec', 'zstd', '--request-required-acks', 'all', '--batch-size', '100', '--property', 'parse.key=true');
    expect(o.producer).toMatchObject({ compression: 4, acks: -1, batchSize: 100, lingerMs: 1000 });
    expect(o.reader.parseKey).toBe(true);
    expect(producer(...B, '--topic', 't', '--compression-codec').producer.compression).toBe(1);
    expect(producer(...B, '--topic', 't', '--request-required-acks', '0').producer.acks).toBe(0);
    expect(() => producer(...B, '--topic', 't', '--request-required-acks', '2')).toThrow(/acks/);
    expect(() => producer(...B, '--topic', 't', '--compression-codec', 'brotli')).toThrow(/Unknown compression/);
    expect(() => producer(...B)).toThrow('Missing required argument "[topic]"');
  });

  it('reads consumer start positions, groups and bad combinations', () => {
    expect(consumer(...B, '--topic', 't').start).toBe('latest');
    expect(consumer(...B, '--topic', 't', '--from-beginning').start).toBe('earliest');
    expect(consumer(...B, '--topic', 't', '--partition', '1', '--offset', '5')).toMatchObject({ partition: 1, start: 5n });
    expect(consumer(...B, '--topic', 't', '--isolation-level', 'read_committed').isolationLevel).toBe(1);
    expect(() => consumer(...B, '--topic', 't', '--offset', '5')).toThrow('The partition is required when offset is specified.');
    expect(() => consumer(...B, '--topic', 't', '--partition', '0', '--offset', '5', '--from-beginning')).toThrow(/cannot be specified together/);
    expect(() => consumer(...B, '--topic', 't', '--partition', '0', '--offset', '-3')).toThrow(/non-negative long/);
    expect(consumer(...B, '--topic', 't', '--group', 'g')).toMatchObject({ groupId: 'g', autoCommit: true, autoCommitIntervalMs: 5000, member: { clientId: 'consumer-g-1' } });
    expect(consumer(...B, '--topic', 't', '--group', 'g', '--consumer-property', 'enable.auto.commit=false').autoCommit).toBe(false);
    // Without a group, Kafka's tool makes one up and commits nothing to it.
    const generated = consumer(...B, '--topic', 't');
    expect(generated.groupId).toMatch(/^console-consumer-\d{1,5}$/);
    expect(generated.autoCommit).toBe(false);
    expect(() => consumer(...B, '--topic', 't', '--group', 'g', '--consumer-property', 'group.id=h')).toThrow("Detected group ids: 'g', 'h'");
    expect(consumer(...B, '--topic', 't', '--max-messages', '10', '--timeout-ms', '500')).toMatchObject({ maxMessages: 10, timeoutMs: 500 });
  });
});

describe('perf tests', () => {
  it('reads --producer-props as Kafka\'s producer config', async () => {
    const raw = parseOptions(defineProducerPerfOptions(new Command('producer-perf-test')), [
      '--topic', 't', '--num-records', '1000', '--record-size', '100', '--throughput', '-1',
      '--producer-props', 'bootstrap.servers=localhost:9092', 'acks=1', 'batch.size=65536', 'linger.ms=5', 'compression.type=lz4',
    ]);
    const o = await toProducerPerfOptions(raw as never);
    expect(o).toMatchObject({ topic: 't', numRecords: 1000, recordSize: 100, throughput: -1, bootstrapServers: 'localhost:9092' });
    expect(o.producer).toMatchObject({ acks: 1, batchSize: 65536, lingerMs: 5, compression: 3 });
    await expect(toProducerPerfOptions({ topic: 't', numRecords: '1', throughput: '-1', producerProps: ['bootstrap.servers=x:1'] })).rejects.toThrow(/--record-size or --payload-file/);
  });

  it('prints ProducerPerformance\'s window and total lines', () => {
    const lines: string[] = [];
    let now = 1000;
    const stats = new PerfStats(10, 5000, (l) => lines.push(l), () => now);
    for (let i = 0; i < 10; i++) stats.record(i, i + 1, 1024 * 1024, 1000 + i * 100);
    now = 3000;
    expect(lines).toEqual([]);
    expect(stats.totalLine()).toBe('10 records sent, 5.000000 records/sec (5.00 MB/sec), 5.50 ms avg latency, 10.00 ms max latency, 6 ms 50th, 10 ms 95th, 10 ms 99th, 10 ms 99.9th.\n');
    stats.record(10, 4, 100, 7000);
    expect(lines).toEqual(['11 records sent, 1.8 records/sec (1.67 MB/sec), 5.4 ms avg latency, 10.0 ms max latency.\n']);
  });

  it('prints ConsumerPerformance\'s CSV line', () => {
    const start = new Date(2024, 0, 2, 3, 4, 5, 6).getTime();
    expect(formatDate(start)).toBe('2024-01-02 03:04:05:006');
    const line = resultLine(start, start + 2000, 2 * 1024 * 1024, 1000);
    expect(line).toBe('2024-01-02 03:04:05:006, 2024-01-02 03:04:07:006, 2.0000, 1.0000, 1000, 500.0000, 0, 2000, 1.0000, 500.0000');
    const o = toConsumerPerfOptions(parseOptions(defineConsumerPerfOptions(new Command('consumer-perf-test')), [...B, '--topic', 't', '--messages', '50']));
    expect(o).toMatchObject({ messages: 50, timeoutMs: 10000, fetchSize: 1048576 });
    expect(() => toConsumerPerfOptions({ ...o, messages: undefined } as never)).toThrow(/messages/);
  });
});
