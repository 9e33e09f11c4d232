import { describe, expect, it } from 'vitest';
import { applyRecords } from '../../controller/metadata/delta.ts';
import { EMPTY_IMAGE } from '../../controller/metadata/image.ts';
import { record } from '../../controller/metadata/record-serde.ts';
import { MetadataRecordType } from '../../protocol/generated/metadata-records.ts';
import { parseBrokerConfig } from '../config/broker-config.ts';
import { type ConnectionLimits, connectionLimits, ConnectionQuotas, type ConnectionSlot, normalizeIp, parsePerIpOverrides, type Refusal } from './connection-quotas.ts';

const MAX = 2 ** 31 - 1;
const limits = (over: Partial<ConnectionLimits>): ConnectionLimits => ({
  maxConnections: MAX,
  maxConnectionsPerIp: MAX,
  perIpOverrides: new Map(),
  maxConnectionCreationRate: MAX,
  listeners: new Map(),
  interBrokerListener: 'INTERNAL',
  rate: { samples: 11, windowMs: 1000 },
  ...over,
});
const refused = (r: ConnectionSlot | Refusal): string | null => ('reason' in r ? r.reason : null);

describe('ConnectionQuotas', () => {
  it('limits connections per IP, with overrides, and frees a slot when a connection closes', () => {
    const q = new ConnectionQuotas(limits({ maxConnectionsPerIp: 2, perIpOverrides: parsePerIpOverrides('127.0.0.2:1, localhost:3') }), () => EMPTY_IMAGE);
    const a = q.accept('PLAINTEXT', '10.0.0.1') as ConnectionSlot;
    q.accept('PLAINTEXT', '::ffff:10.0.0.1');
    expect(refused(q.accept('PLAINTEXT', '10.0.0.1'))).toBe('max.connections.per.ip');
    expect(refused(q.accept('PLAINTEXT', '10.0.0.9'))).toBeNull();
    a.release();
    a.release();
    expect(q.connectionsFrom('10.0.0.1')).toBe(1);
    expect(refused(q.accept('PLAINTEXT', '10.0.0.1'))).toBeNull();
    expect(refused(q.accept('PLAINTEXT', '127.0.0.2'))).toBeNull();
    expect(refused(q.accept('PLAINTEXT', '127.0.0.2'))).toBe('max.connections.per.ip');
    for (let i = 0; i < 3; i++) expect(refused(q.accept('PLAINTEXT', '127.0.0.1'))).toBeNull();
    expect(refused(q.accept('PLAINTEXT', '127.0.0.1'))).toBe('max.connections.per.ip');
  });

  it('limits the broker and each listener, never refusing the inter-broker listener for the broker-wide limit', () => {
    const q = new ConnectionQuotas(limits({ maxConnections: 3, listeners: new Map([['EXTERNAL', { maxConnections: 1 }]]), exempt: new Set(['CONTROLLER']) }), () => EMPTY_IMAGE);
    expect(refused(q.accept('EXTERNAL', '10.0.0.1'))).toBeNull();
    expect(refused(q.accept('EXTERNAL', '10.0.0.2'))).toBe('max.connections');
    expect(refused(q.accept('INTERNAL', '10.0.0.5'))).toBeNull();
    expect(refused(q.accept('PLAINTEXT', '10.0.0.3'))).toBeNull();
    // The inter-broker connection counts towards the broker's three.
    expect(refused(q.accept('PLAINTEXT', '10.0.0.4'))).toBe('max.connections');
    expect(refused(q.accept('INTERNAL', '10.0.0.6'))).toBeNull();
    for (let i = 0; i < 5; i++) expect(refused(q.accept('CONTROLLER', '10.0.0.7'))).toBeNull();
  });

  it('limits creation rates per listener and per IP (connection_creation_rate), not counting refused ones', () => {
    let now = 0;
    const image = applyRecords(EMPTY_IMAGE, [{ record: record(MetadataRecordType.ClientQuotaRecord, { entity: [{ entityType: 'ip', entityName: null }], key: 'connection_creation_rate', value: 1, remove: false }), offset: 0n, epoch: 1 }]);
    const q = new ConnectionQuotas(limits({ listeners: new Map([['EXTERNAL', { maxConnectionCreationRate: 2 }]]) }), () => image, () => now);
    // 1/s over a 10 s window: ten connections at once, the eleventh refused.
    const outcomes = Array.from({ length: 12 }, () => refused(q.accept('PLAINTEXT', '10.0.0.1')));
    expect(outcomes.filter((o) => o === null)).toHaveLength(10);
    expect(outcomes[11]).toBe('connection_creation_rate');
    expect(refused(q.accept('PLAINTEXT', '10.0.0.2'))).toBeNull();
    now = 30_000;
    expect(refused(q.accept('PLAINTEXT', '10.0.0.1'))).toBeNull();
    const ext = Array.from({ length: 25 }, (_, i) => refused(q.accept('EXTERNAL', `10.1.0.${i}`)));
    expect(ext.filter((o) => o === null)).toHaveLength(20);
    expect(ext[24]).toBe('max.connection.creation.rate');
  });

  it('reads overrides as Kafka writes them', () => {
    expect([...parsePerIpOverrides('')]).toEqual([]);
    expect([...parsePerIpOverrides('10.0.0.1:5,[::1]:2')]).toEqual([['10.0.0.1', 5], ['::1', 2]]);
    expect(() => parsePerIpOverrides('10.0.0.1')).toThrow(/host:count/);
    expect(normalizeIp('::ffff:1.2.3.4')).toBe('1.2.3.4');
  });

  it('reads the limits from broker properties, per listener too', () => {
    const config = parseBrokerConfig({
      'process.roles': 'broker,controller',
      'node.id': '1',
      'controller.quorum.voters': '1@localhost:9093',
      listeners: 'PLAINTEXT://:9092,EXTERNAL://:9094,CONTROLLER://:9093',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'controller.listener.names': 'CONTROLLER',
      'log.dirs': '/tmp/x',
      'max.connections': '100',
      'max.connections.per.ip': '10',
      'max.connections.per.ip.overrides': '10.0.0.1:20',
      'listener.name.external.max.connections': '5',
      'listener.name.external.max.connection.creation.rate': '2',
      'quota.window.num': '3',
    });
    const l = connectionLimits(config);
    expect(l).toMatchObject({ maxConnections: 100, maxConnectionsPerIp: 10, interBrokerListener: 'PLAINTEXT', rate: { samples: 3, windowMs: 1000 } });
    expect([...l.perIpOverrides]).toEqual([['10.0.0.1', 20]]);
    expect(l.listeners.get('EXTERNAL')).toEqual({ maxConnections: 5, maxConnectionCreationRate: 2 });
    expect(l.exempt?.has('CONTROLLER')).toBe(true);
  });
});
