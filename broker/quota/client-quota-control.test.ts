import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyRecords } from '../../controller/metadata/delta.ts';
import { EMPTY_IMAGE, type MetadataImage } from '../../controller/metadata/image.ts';
import { imageFromRecords, imageRecords } from '../../controller/metadata/image-records.ts';
import { encodeMetadataRecord } from '../../controller/metadata/record-serde.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import type { AlterClientQuotasRequest } from '../../protocol/generated/message/alter-client-quotas-request.ts';
import type { DescribeClientQuotasRequest } from '../../protocol/generated/message/describe-client-quotas-request.ts';
import { alterClientQuotas, describeClientQuotas } from './client-quota-control.ts';

type Entity = { entityType: string; entityName: string | null }[];
const entry = (entity: Entity, ops: { key: string; value?: number; remove?: boolean }[]) => ({ entity, ops: ops.map((o) => ({ key: o.key, value: o.value ?? 0, remove: o.remove ?? false })) });

function alter(image: MetadataImage, entries: AlterClientQuotasRequest['entries'], validateOnly = false) {
  const r = alterClientQuotas(image, { entries, validateOnly });
  return { image: applyRecords(image, r.records.map((record, i) => ({ record, offset: image.offset + 1n + BigInt(i), epoch: 1 }))), response: r.response, records: r.records };
}

const describeQ = (image: MetadataImage, components: DescribeClientQuotasRequest['components'], strict = false) => describeClientQuotas(image, { components, strict });
const values = (image: MetadataImage, components: DescribeClientQuotasRequest['components'], strict = false) =>
  (describeQ(image, components, strict).entries ?? []).map((e) => ({ entity: e.entity.map((x) => `${x.entityType}=${x.entityName ?? '<default>'}`).join(','), values: Object.fromEntries(e.values.map((v) => [v.key, v.value])) }));

describe('AlterClientQuotas on the controller', () => {
  it('writes one record per key set and applies them to the image', () => {
    const { image, response } = alter(EMPTY_IMAGE, [
      entry([{ entityType: 'user', entityName: 'alice' }, { entityType: 'client-id', entityName: 'app' }], [{ key: 'producer_byte_rate', value: 1024 }, { key: 'request_percentage', value: 12.5 }]),
      entry([{ entityType: 'client-id', entityName: null }], [{ key: 'consumer_byte_rate', value: 2048 }]),
      entry([{ entityType: 'ip', entityName: '10.0.0.1' }], [{ key: 'connection_creation_rate', value: 5 }]),
    ]);
    expect(response.entries.map((e) => e.errorCode)).toEqual([0, 0, 0]);
    expect(values(image, [])).toEqual(
      expect.arrayContaining([
        { entity: 'client-id=app,user=alice', values: { producer_byte_rate: 1024, request_percentage: 12.5 } },
        { entity: 'client-id=<default>', values: { consumer_byte_rate: 2048 } },
        { entity: 'ip=10.0.0.1', values: { connection_creation_rate: 5 } },
      ]),
    );
  });

  it('refuses what Kafka refuses, entry by entry, and validateOnly writes nothing', () => {
    const bad: [Entity, string, number][] = [
      [[], 'producer_byte_rate', 1],
      [[{ entityType: 'group', entityName: 'g' }], 'producer_byte_rate', 1],
      [[{ entityType: 'user', entityName: 'a' }, { entityType: 'user', entityName: 'b' }], 'producer_byte_rate', 1],
      [[{ entityType: 'ip', entityName: '1.2.3.4' }, { entityType: 'user', entityName: 'b' }], 'connection_creation_rate', 1],
      [[{ entityType: 'ip', entityName: 'not an ip' }], 'connection_creation_rate', 1],
      [[{ entityType: 'ip', entityName: null }], 'producer_byte_rate', 1],
      [[{ entityType: 'user', entityName: 'a' }], 'connection_creation_rate', 1],
      [[{ entityType: 'user', entityName: 'a' }], 'no_such_key', 1],
      [[{ entityType: 'user', entityName: 'a' }], 'producer_byte_rate', 1.5],
    ];
    const good = entry([{ entityType: 'user', entityName: 'ok' }], [{ key: 'producer_byte_rate', value: 10 }]);
    const { image, response } = alter(EMPTY_IMAGE, [...bad.map(([e, key, value]) => entry(e, [{ key, value }])), good]);
    expect(response.entries.map((e) => e.errorCode)).toEqual([...bad.map(() => ErrorCode.INVALID_REQUEST), ErrorCode.NONE]);
    expect(values(image, []).map((v) => v.entity)).toEqual(['user=ok']);
    const dry = alter(EMPTY_IMAGE, [good], true);
    expect(dry.response.entries[0]!.errorCode).toBe(0);
    expect(dry.records).toEqual([]);
  });

  it('removes keys, drops an entity left without values, and ignores removing what is not set', () => {
    const user = [{ entityType: 'user', entityName: 'u' }];
    let { image } = alter(EMPTY_IMAGE, [entry(user, [{ key: 'producer_byte_rate', value: 10 }, { key: 'consumer_byte_rate', value: 20 }])]);
    ({ image } = alter(image, [entry(user, [{ key: 'producer_byte_rate', remove: true }])]));
    expect(values(image, [])).toEqual([{ entity: 'user=u', values: { consumer_byte_rate: 20 } }]);
    const r = alter(image, [entry(user, [{ key: 'consumer_byte_rate', remove: true }, { key: 'request_percentage', remove: true }])]);
    expect(r.records).toHaveLength(1);
    expect(values(r.image, [])).toEqual([]);
  });
});

describe('DescribeClientQuotas filters', () => {
  const { image } = alter(EMPTY_IMAGE, [
    entry([{ entityType: 'user', entityName: 'alice' }], [{ key: 'producer_byte_rate', value: 1 }]),
    entry([{ entityType: 'user', entityName: null }], [{ key: 'producer_byte_rate', value: 2 }]),
    entry([{ entityType: 'user', entityName: 'alice' }, { entityType: 'client-id', entityName: 'c' }], [{ key: 'producer_byte_rate', value: 3 }]),
    entry([{ entityType: 'client-id', entityName: 'c' }], [{ key: 'producer_byte_rate', value: 4 }]),
    entry([{ entityType: 'ip', entityName: null }], [{ key: 'connection_creation_rate', value: 5 }]),
  ]);
  const names = (components: DescribeClientQuotasRequest['components'], strict = false) => values(image, components, strict).map((v) => v.entity).sort();

  it('matches exact names, defaults and any specified name, strictly or not', () => {
    expect(names([{ entityType: 'user', matchType: 0, match: 'alice' }])).toEqual(['client-id=c,user=alice', 'user=alice']);
    expect(names([{ entityType: 'user', matchType: 0, match: 'alice' }], true)).toEqual(['user=alice']);
    expect(names([{ entityType: 'user', matchType: 1, match: null }])).toEqual(['user=<default>']);
    expect(names([{ entityType: 'user', matchType: 2, match: null }], true)).toEqual(['user=<default>', 'user=alice']);
    expect(names([{ entityType: 'client-id', matchType: 2, match: null }])).toEqual(['client-id=c', 'client-id=c,user=alice']);
    expect(names([{ entityType: 'ip', matchType: 1, match: null }])).toEqual(['ip=<default>']);
    expect(names([])).toHaveLength(5);
    expect(names([], true)).toEqual([]);
  });

  it('answers a malformed filter with INVALID_REQUEST', () => {
    for (const components of [
      [{ entityType: 'user', matchType: 0, match: null }],
      [{ entityType: 'user', matchType: 1, match: 'x' }],
      [{ entityType: 'user', matchType: 2, match: 'x' }],
      [{ entityType: 'user', matchType: 7, match: null }],
      [{ entityType: 'topic', matchType: 2, match: null }],
      [{ entityType: 'user', matchType: 2, match: null }, { entityType: 'user', matchType: 1, match: null }],
      [{ entityType: 'ip', matchType: 2, match: null }, { entityType: 'user', matchType: 1, match: null }],
    ]) {
      const r = describeQ(image, components);
      expect(r.errorCode).toBe(ErrorCode.INVALID_REQUEST);
      expect(r.entries).toBeNull();
    }
  });
});

describe('client quotas in snapshots', () => {
  it('rebuild the same image from its records (any sequence of alterations)', () => {
    const entityArb = fc.oneof(
      fc.constantFrom<Entity>([{ entityType: 'user', entityName: 'a' }], [{ entityType: 'user', entityName: null }], [{ entityType: 'client-id', entityName: 'x' }]),
      fc.constant<Entity>([{ entityType: 'client-id', entityName: 'x' }, { entityType: 'user', entityName: 'a' }]),
    );
    const opArb = fc.record({ key: fc.constantFrom('producer_byte_rate', 'consumer_byte_rate', 'request_percentage'), value: fc.integer({ min: 1, max: 1e9 }), remove: fc.boolean() });
    fc.assert(
      fc.property(fc.array(fc.tuple(entityArb, opArb), { maxLength: 30 }), (steps) => {
        let image = EMPTY_IMAGE;
        for (const [entity, op] of steps) ({ image } = alter(image, [entry(entity, [op])]));
        const rebuilt = imageFromRecords(imageRecords(image).map(encodeMetadataRecord), image.offset, 1);
        expect(values(rebuilt, []).sort((a, b) => (a.entity < b.entity ? -1 : 1))).toEqual(values(image, []).sort((a, b) => (a.entity < b.entity ? -1 : 1)));
      }),
      { numRuns: 100 },
    );
  });
});
