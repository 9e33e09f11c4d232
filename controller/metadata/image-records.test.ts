import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MetadataRecordType } from '../../protocol/generated/metadata-records.ts';
import { MetadataDelta } from './delta.ts';
import { EMPTY_IMAGE, type MetadataImage } from './image.ts';
import { imageFromRecords, imageRecords } from './image-records.ts';
import { encodeMetadataRecord, type MetadataRecord, record } from './record-serde.ts';

const uuid = (n: number): string => Buffer.alloc(16, n + 1).toString('base64url').slice(0, 22);

/** A random, replayable history: operations pick their targets among what exists so far. */
const opArb = fc.tuple(fc.integer({ min: 0, max: 11 }), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 }), fc.boolean());

function history(ops: [number, number, number, boolean][]): MetadataRecord[] {
  const out: MetadataRecord[] = [];
  const topics: { id: string; name: string; parts: number }[] = [];
  const brokers = new Set<number>();
  let nextTopic = 0;
  let pid = 0n;
  for (const [kind, a, b, flag] of ops) {
    const topic = topics.length > 0 ? topics[a % topics.length] : undefined;
    const broker = brokers.size > 0 ? [...brokers][a % brokers.size] : undefined;
    switch (kind) {
      case 0:
        out.push(record(MetadataRecordType.FeatureLevelRecord, { name: flag ? 'metadata.version' : `feature.${b % 3}`, featureLevel: a % 4 === 3 && !flag ? 0 : 1 + (b % 20) }));
        break;
      case 1: {
        const id = a % 7;
        brokers.add(id);
        out.push(
          record(MetadataRecordType.RegisterBrokerRecord, {
            brokerId: id,
            isMigratingZkBroker: false,
            incarnationId: uuid(b % 50),
            brokerEpoch: BigInt(b),
            endPoints: [{ name: 'PLAINTEXT', host: `h${id}`, port: 9000 + b, securityProtocol: 0 }],
            features: [{ name: 'metadata.version', minSupportedVersion: 1, maxSupportedVersion: 21 }],
            rack: flag ? `r${b % 3}` : null,
            fenced: flag,
            inControlledShutdown: false,
            logDirs: b % 2 === 0 ? [uuid(b)] : [],
          }),
        );
        break;
      }
      case 2:
        if (broker !== undefined) out.push(flag ? record(MetadataRecordType.FenceBrokerRecord, { id: broker, epoch: 0n }) : record(MetadataRecordType.UnfenceBrokerRecord, { id: broker, epoch: 0n }));
        break;
      case 3:
        if (broker !== undefined) {
          out.push(record(MetadataRecordType.BrokerRegistrationChangeRecord, { brokerId: broker, brokerEpoch: 0n, fenced: flag ? 1 : -1, inControlledShutdown: b % 3 === 0 ? 1 : 0, logDirs: b % 2 ? [uuid(b)] : [] }));
        }
        break;
      case 4: {
        const t = { id: uuid(100 + nextTopic), name: `topic-${nextTopic++}`, parts: 1 + (b % 4) };
        topics.push(t);
        out.push(record(MetadataRecordType.TopicRecord, { name: t.name, topicId: t.id }));
        for (let p = 0; p < t.parts; p++) {
          const replicas = [p % 3, (p + 1) % 3];
          out.push(
            record(MetadataRecordType.PartitionRecord, {
              partitionId: p,
              topicId: t.id,
              replicas,
              isr: replicas,
              removingReplicas: [],
              addingReplicas: [],
              leader: replicas[0]!,
              leaderRecoveryState: 0,
              leaderEpoch: b % 5,
              partitionEpoch: a % 5,
              directories: flag ? replicas.map((r) => uuid(r)) : [],
            }),
          );
        }
        break;
      }
      case 5:
        if (topic) {
          out.push(
            record(MetadataRecordType.PartitionChangeRecord, {
              partitionId: b % topic.parts,
              topicId: topic.id,
              isr: flag ? [b % 3] : null,
              leader: flag ? b % 3 : -2,
              replicas: null,
              removingReplicas: null,
              addingReplicas: null,
              leaderRecoveryState: -1,
            }),
          );
        }
        break;
      case 6:
        if (topic) {
          topics.splice(topics.indexOf(topic), 1);
          out.push(record(MetadataRecordType.RemoveTopicRecord, { topicId: topic.id }));
        }
        break;
      case 7:
      case 8: {
        const resourceName = topic && flag ? topic.name : kind === 7 ? '' : String(a % 3);
        const resourceType = topic && flag ? 2 : 4;
        out.push(record(MetadataRecordType.ConfigRecord, { resourceType, resourceName, name: `k${b % 4}`, value: a % 5 === 0 ? null : `v${b}` }));
        break;
      }
      case 9:
        pid += BigInt(1 + b);
        out.push(record(MetadataRecordType.ProducerIdsRecord, { brokerId: a % 3, brokerEpoch: 1n, nextProducerId: pid }));
        break;
      case 10:
        if (broker !== undefined && flag) {
          brokers.delete(broker);
          out.push(record(MetadataRecordType.UnregisterBrokerRecord, { brokerId: broker, brokerEpoch: 0n }));
        }
        break;
      default:
        out.push(record(MetadataRecordType.NoOpRecord, {}));
    }
  }
  return out;
}

/** The image without Map insertion order, offset or epoch: what replay must rebuild. */
function normal(image: MetadataImage): unknown {
  const sortedEntries = <K, V>(m: ReadonlyMap<K, V>, f: (v: V) => unknown = (v) => v) => [...m].map(([k, v]) => [k, f(v)] as const).sort(([a], [b]) => (String(a) < String(b) ? -1 : 1));
  return {
    features: sortedEntries(image.features),
    brokers: sortedEntries(image.brokers),
    topicsByName: sortedEntries(image.topicsByName),
    topicsById: sortedEntries(image.topicsById),
    configs: sortedEntries(image.configs, (m) => sortedEntries(m)),
    nextProducerId: image.nextProducerId,
  };
}

describe('image as records', () => {
  it('replaying the records of an image into an empty delta gives the same image', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
        const delta = new MetadataDelta(EMPTY_IMAGE);
        history(ops).forEach((r, i) => delta.replay(r, BigInt(i), 3));
        const image = delta.apply();
        const values = imageRecords(image).map(encodeMetadataRecord);
        const rebuilt = imageFromRecords(values, image.offset, image.epoch);
        expect(normal(rebuilt)).toEqual(normal(image));
        expect(rebuilt.offset).toBe(image.offset);
        // A second round trip is stable: same records, same order.
        expect(imageRecords(rebuilt).map(encodeMetadataRecord)).toEqual(values);
      }),
      { numRuns: 300 },
    );
  });

  it('writes metadata.version first and an empty image as no records', () => {
    expect(imageRecords(EMPTY_IMAGE)).toEqual([]);
    const delta = new MetadataDelta(EMPTY_IMAGE);
    delta.replay(record(MetadataRecordType.FeatureLevelRecord, { name: 'a.feature', featureLevel: 1 }), 0n, 1);
    delta.replay(record(MetadataRecordType.FeatureLevelRecord, { name: 'metadata.version', featureLevel: 21 }), 1n, 1);
    const recs = imageRecords(delta.apply());
    expect(recs.map((r) => (r.data as { name: string }).name)).toEqual(['metadata.version', 'a.feature']);
  });
});
