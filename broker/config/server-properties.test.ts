import { describe, it, expect } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './config-error.ts';
import { loadServerProperties, parseOverrides, parseServerProperties } from './server-properties.ts';

// Kafka 3.9's config/kraft/server.properties, comments shortened.
const KAFKA_SAMPLE = `
############################# Server Basics #############################
# The role of this server. Setting this puts us in KRaft mode
process.roles=broker,controller

# The node id associated with this instance's roles
node.id=1

# List of controller endpoints used connect to the controller cluster
controller.quorum.bootstrap.servers=localhost:9093

############################# Socket Server Settings #############################
listeners=PLAINTEXT://:9092,CONTROLLER://:9093
inter.broker.listener.name=PLAINTEXT
advertised.listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
socket.receive.buffer.bytes=102400
socket.request.max.bytes=104857600

############################# Log Basics #############################
log.dirs=/tmp/kraft-combined-logs
num.partitions=1
num.recovery.threads.per.data.dir=1

############################# Internal Topic Settings  #############################
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1

############################# Log Flush Policy #############################
#log.flush.interval.messages=10000
#log.flush.interval.ms=1000

############################# Log Retention Policy #############################
log.retention.hours=168
#log.retention.bytes=1073741824
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
`;

function errorOf(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('server.properties', () => {
  it('loads Kafka\'s own sample KRaft server.properties unchanged', () => {
    const c = parseServerProperties(KAFKA_SAMPLE, 'server.properties');
    expect(c.nodeId).toBe(1);
    expect(c.logDirs).toEqual(['/tmp/kraft-combined-logs']);
    expect(c.advertisedListeners.map((l) => `${l.name}://${l.host}:${l.port}`)).toEqual(['PLAINTEXT://localhost:9092']);
    expect(c.quorumBootstrapServers).toEqual([{ host: 'localhost', port: 9093 }]);
    expect(c.get('offsets.topic.replication.factor')).toBe(1);
  });

  it('applies overrides on top, later ones winning, values may contain =', () => {
    const c = parseServerProperties(KAFKA_SAMPLE, 'server.properties', ['num.partitions=3', 'num.partitions=4', 'log.dirs=/a=b']);
    expect(c.get('num.partitions')).toBe(4);
    expect(c.logDirs).toEqual(['/a=b']);
    expect(parseOverrides(['a= b'])).toEqual({ a: ' b' });
    expect(errorOf(() => parseOverrides(['nokey'])).message).toContain('--override nokey: expected key=value');
  });

  it('names the file and line of a bad key, and the override of a bad override', () => {
    const text = KAFKA_SAMPLE + 'num.partitons=3\n';
    const line = text.split('\n').length - 1;
    const e = errorOf(() => parseServerProperties(text, '/etc/samsa/server.properties', ['num.io.threads=zero']));
    // num.io.threads comes first: the file sets it earlier than the misspelt key.
    expect(e.problems.map((p) => p.message)).toEqual([
      '--override num.io.threads: Invalid value zero for configuration num.io.threads: Not a number of type INT',
      `/etc/samsa/server.properties:${line}: Unknown configuration num.partitons (did you mean num.partitions?)`,
    ]);
    expect(e.message).toContain('Invalid broker configuration in /etc/samsa/server.properties');
  });

  it('reports a syntax error with its line', () => {
    expect(errorOf(() => parseServerProperties('a=1\nb=\\uZZZZ\n', 'x.properties')).message).toContain('x.properties:2: Malformed \\uxxxx encoding.');
  });

  it('reads a file from disk and reports a missing one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'samsa-props-'));
    try {
      const path = join(dir, 'server.properties');
      await writeFile(path, KAFKA_SAMPLE);
      expect((await loadServerProperties(path, ['node.id=1'])).nodeId).toBe(1);
      await expect(loadServerProperties(join(dir, 'missing.properties'))).rejects.toThrow(/Cannot read .*missing.properties: no such file/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
