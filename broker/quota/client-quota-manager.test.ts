import { describe, expect, it } from 'vitest';
import { applyRecords } from '../../controller/metadata/delta.ts';
import { EMPTY_IMAGE, type MetadataImage } from '../../controller/metadata/image.ts';
import { record } from '../../controller/metadata/record-serde.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { MetadataRecordType } from '../../protocol/generated/metadata-records.ts';
import type { RequestContext } from '../handlers/api-handler.ts';
import { ClientQuotaManager, resolveClientQuota } from './client-quota-manager.ts';
import { ClientQuotas } from './request-quotas.ts';

type Name = string | null | undefined;
function imageWith(entries: [user: Name, client: Name, key: string, value: number][]): MetadataImage {
  return applyRecords(
    EMPTY_IMAGE,
    entries.map(([user, client, key, value], i) => ({
      record: record(MetadataRecordType.ClientQuotaRecord, {
        entity: [...(user !== undefined ? [{ entityType: 'user', entityName: user }] : []), ...(client !== undefined ? [{ entityType: 'client-id', entityName: client }] : [])],
        key,
        value,
        remove: false,
      }),
      offset: BigInt(i),
      epoch: 1,
    })),
  );
}

const P = 'producer_byte_rate';

describe('quota resolution (Kafka precedence)', () => {
  // From least to most specific: each added level wins over all before it.
  const levels: [Name, Name, string][] = [
    [undefined, null, '/clients/<default>'],
    [undefined, 'c', '/clients/c'],
    [null, undefined, '/users/<default>'],
    [null, null, '/users/<default>/clients/<default>'],
    [null, 'c', '/users/<default>/clients/c'],
    ['u', undefined, '/users/u'],
    ['u', null, '/users/u/clients/<default>'],
    ['u', 'c', '/users/u/clients/c'],
  ];

  it('takes the most specific of the eight levels that sets the key', () => {
    for (let n = 1; n <= levels.length; n++) {
      const image = imageWith(levels.slice(0, n).map(([u, c], i) => [u, c, P, (i + 1) * 100]));
      const q = resolveClientQuota(image.clientQuotas, P, 'u', 'c');
      expect(q?.path).toBe(levels[n - 1]![2]);
      expect(q?.bound).toBe(n * 100);
    }
  });

  it('ignores entities that set other keys, and other users and clients', () => {
    const image = imageWith([
      ['u', 'c', 'consumer_byte_rate', 1],
      ['v', undefined, P, 2],
      [undefined, 'd', P, 3],
      [undefined, null, P, 4],
    ]);
    expect(resolveClientQuota(image.clientQuotas, P, 'u', 'c')?.path).toBe('/clients/<default>');
    expect(resolveClientQuota(image.clientQuotas, 'request_percentage', 'u', 'c')).toBeNull();
  });

  it('shares a rate as Kafka does: per user at user level, per client id at client level, defaults each on their own', () => {
    const userLevel = imageWith([['u', undefined, P, 1000]]);
    const m = new ClientQuotaManager(P, { samples: 11, windowMs: 1000 }, () => userLevel);
    expect(m.sensor('u', 'a', 0)).toBe(m.sensor('u', 'b', 0));
    const clientDefault = imageWith([[undefined, null, P, 1000]]);
    const m2 = new ClientQuotaManager(P, { samples: 11, windowMs: 1000 }, () => clientDefault);
    expect(m2.sensor('u', 'a', 0)).not.toBe(m2.sensor('u', 'b', 0));
    expect(m2.sensor('u', 'a', 0)).toBe(m2.sensor('v', 'a', 0));
    expect(m2.sensor('u', 'a', 0)!.bound).toBe(1000);
  });

  it('follows a changed quota from the next request on', () => {
    let image = imageWith([[undefined, 'c', P, 1000]]);
    const m = new ClientQuotaManager(P, { samples: 11, windowMs: 1000 }, () => image);
    expect(m.sensor('u', 'c', 0)!.bound).toBe(1000);
    image = imageWith([[undefined, 'c', P, 5]]);
    expect(m.sensor('u', 'c', 0)!.bound).toBe(5);
    image = EMPTY_IMAGE;
    expect(m.sensor('u', 'c', 0)).toBeNull();
  });
});

describe('ClientQuotas.check', () => {
  const ctx = (apiKey: number, apiVersion: number, clientId = 'c'): RequestContext => ({ apiKey, apiVersion, correlationId: 1, clientId, clientAddress: '127.0.0.1:1', listenerName: 'PLAINTEXT', principal: 'User:ANONYMOUS', logger: undefined as never });
  const served = (apiKey: number, apiVersion: number, bytes: number, request: unknown = {}, response: unknown = { throttleTimeMs: 0 }) => ({ ctx: ctx(apiKey, apiVersion), request, response, requestBytes: bytes, responseBytes: bytes, busyMs: 0 });

  it('throttles produce by request bytes and sets throttle_time_ms; older versions wait before the answer', () => {
    const image = imageWith([[undefined, 'c', P, 1000]]);
    const q = new ClientQuotas({ samples: 11, windowMs: 1000 }, () => image, () => 0);
    expect(q.check(served(ApiKey.Produce, 9, 10_000))).toBeNull();
    const d = q.check(served(ApiKey.Produce, 9, 10_000))!;
    expect(d.throttleMs).toBe(10_000);
    expect((d.response as { throttleTimeMs: number }).throttleTimeMs).toBe(10_000);
    expect(d.clientThrottles).toBe(true);
    expect(q.check(served(ApiKey.Produce, 5, 1))!.clientThrottles).toBe(false);
    // Other APIs are not counted against the byte rate.
    expect(q.check(served(ApiKey.Metadata, 12, 1e9))).toBeNull();
  });

  it('answers a throttled fetch without data, does not count it, and never counts followers', () => {
    const image = imageWith([[undefined, 'c', 'consumer_byte_rate', 1000]]);
    const q = new ClientQuotas({ samples: 11, windowMs: 1000 }, () => image, () => 0);
    const fetchResponse = { throttleTimeMs: 0, errorCode: 0, sessionId: 7, responses: [{ topicId: 'x', partitions: [] }] };
    expect(q.check(served(ApiKey.Fetch, 12, 1e6, { replicaId: 1 }, fetchResponse))).toBeNull();
    expect(q.check(served(ApiKey.Fetch, 12, 10_000, { replicaId: -1 }, fetchResponse))).toBeNull();
    const d = q.check(served(ApiKey.Fetch, 12, 10_000, { replicaId: -1 }, fetchResponse))!;
    expect(d.throttleMs).toBeGreaterThan(0);
    expect(d.response).toMatchObject({ sessionId: 7, responses: [], throttleTimeMs: d.throttleMs });
    // The throttled 10,000 bytes were taken back: the rate is still 1,000/s.
    expect(q.fetch.sensor('ANONYMOUS', 'c', 0)!.rate.measure(0)).toBe(1000);
  });

  it('caps a quota-bound consumer\'s fetch at what its quota allows over the window, never a follower\'s', () => {
    const image = imageWith([[undefined, 'c', 'consumer_byte_rate', 1000]]);
    const q = new ClientQuotas({ samples: 11, windowMs: 1000 }, () => image, () => 0);
    const consumer = { replicaId: -1, minBytes: 1e6, maxBytes: 50e6 };
    q.prepare(ctx(ApiKey.Fetch, 12), consumer);
    expect(consumer).toMatchObject({ maxBytes: 10_000, minBytes: 10_000 });
    const follower = { replicaId: 2, minBytes: 1, maxBytes: 50e6 };
    q.prepare(ctx(ApiKey.Fetch, 12), follower);
    expect(follower.maxBytes).toBe(50e6);
    const other = { replicaId: -1, minBytes: 1, maxBytes: 50e6 };
    q.prepare({ ...ctx(ApiKey.Fetch, 12), clientId: 'unlimited' }, other);
    expect(other.maxBytes).toBe(50e6);
  });

  it('takes the user from the connection\'s principal (ANONYMOUS without authentication)', () => {
    const image = imageWith([
      ['alice', undefined, P, 1000],
      ['ANONYMOUS', undefined, P, 2000],
    ]);
    const q = new ClientQuotas({ samples: 11, windowMs: 1000 }, () => image, () => 0);
    const as = (principal: string) => ({ ...served(ApiKey.Produce, 9, 15_000), ctx: { ...ctx(ApiKey.Produce, 9), principal } });
    expect(q.check(as('User:alice'))!.throttleMs).toBe(5000);
    expect(q.check(as('User:ANONYMOUS'))).toBeNull();
    expect(q.check(as('User:bob'))).toBeNull();
  });

  it('counts event-loop time against request_percentage, and never the SASL exchange', () => {
    const image = imageWith([[undefined, 'c', 'request_percentage', 10]]);
    const q = new ClientQuotas({ samples: 11, windowMs: 1000 }, () => image, () => 0);
    const busy = (apiKey: number, ms: number) => ({ ...served(apiKey, 1, 0), busyMs: ms });
    expect(q.check(busy(ApiKey.SaslAuthenticate, 5000))).toBeNull();
    // 1 s of a thread over a 10 s window is 10%: at the quota, not over it.
    expect(q.check(busy(ApiKey.Metadata, 1000))).toBeNull();
    expect(q.check(busy(ApiKey.Metadata, 1000))!.quota).toBe('request_percentage');
  });
});
