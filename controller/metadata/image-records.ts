// The metadata image as records: what a snapshot of `__cluster_metadata` holds, in the order
// Kafka's image writers emit them (features first, metadata.version leading, since it decides the
// versions of the rest; then brokers, topics with their partitions, configs, producer ids).
// Replaying these records into an empty MetadataDelta rebuilds an image equal to the one they
// came from (offset and epoch aside, which the snapshot id carries). Broker registrations keep
// their fence and controlled-shutdown state in the RegisterBrokerRecord itself.
import { MetadataRecordType } from '../../protocol/generated/metadata-records.ts';
import { MetadataDelta } from './delta.ts';
import { EMPTY_IMAGE, type MetadataImage } from './image.ts';
import { decodeMetadataRecord, type MetadataRecord, record } from './record-serde.ts';

export function imageRecords(image: MetadataImage): MetadataRecord[] {
  const out: MetadataRecord[] = [];
  const features = [...image.features].sort(([a], [b]) => (a === 'metadata.version' ? -1 : b === 'metadata.version' ? 1 : a < b ? -1 : a > b ? 1 : 0));
  for (const [name, featureLevel] of features) out.push(record(MetadataRecordType.FeatureLevelRecord, { name, featureLevel }));
  for (const b of [...image.brokers.values()].sort((x, y) => x.id - y.id)) {
    out.push(
      record(MetadataRecordType.RegisterBrokerRecord, {
        brokerId: b.id,
        isMigratingZkBroker: false,
        incarnationId: b.incarnationId,
        brokerEpoch: b.epoch,
        endPoints: b.endpoints.map((e) => ({ name: e.name, host: e.host, port: e.port, securityProtocol: e.securityProtocol })),
        features: [],
        rack: b.rack,
        fenced: b.fenced,
        inControlledShutdown: b.inControlledShutdown,
        logDirs: [...b.logDirs],
      }),
    );
  }
  for (const t of [...image.topicsByName.values()].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))) {
    out.push(record(MetadataRecordType.TopicRecord, { name: t.name, topicId: t.id }));
    for (const p of t.partitions) {
      out.push(
        record(MetadataRecordType.PartitionRecord, {
          partitionId: p.partition,
          topicId: t.id,
          replicas: [...p.replicas],
          isr: [...p.isr],
          removingReplicas: [...p.removingReplicas],
          addingReplicas: [...p.addingReplicas],
          leader: p.leader,
          leaderRecoveryState: p.leaderRecoveryState,
          leaderEpoch: p.leaderEpoch,
          partitionEpoch: p.partitionEpoch,
          directories: [...p.directories],
        }),
      );
    }
  }
  for (const [key, values] of [...image.configs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const sep = key.indexOf(':');
    const resourceType = Number(key.slice(0, sep));
    const resourceName = key.slice(sep + 1);
    for (const [name, value] of values) out.push(record(MetadataRecordType.ConfigRecord, { resourceType, resourceName, name, value }));
  }
  for (const c of [...(image.scramCredentials?.values() ?? [])].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : x.mechanism - y.mechanism))) {
    out.push(record(MetadataRecordType.UserScramCredentialRecord, { name: c.name, mechanism: c.mechanism, salt: c.salt, storedKey: c.storedKey, serverKey: c.serverKey, iterations: c.iterations }));
  }
  for (const [, q] of [...(image.clientQuotas ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (const [key, value] of q.values) out.push(record(MetadataRecordType.ClientQuotaRecord, { entity: q.entity.map((e) => ({ ...e })), key, value, remove: false }));
  }
  if (image.nextProducerId > 0n) out.push(record(MetadataRecordType.ProducerIdsRecord, { brokerId: -1, brokerEpoch: -1n, nextProducerId: image.nextProducerId }));
  for (const a of [...(image.acls?.values() ?? [])].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))) {
    out.push(record(MetadataRecordType.AccessControlEntryRecord, { ...a }));
  }
  return out;
}

/** The image a snapshot's records rebuild, as of the snapshot's last offset and epoch. */
export function imageFromRecords(values: readonly Buffer[], lastOffset: bigint, epoch: number): MetadataImage {
  const delta = new MetadataDelta(EMPTY_IMAGE);
  for (const v of values) delta.replay(decodeMetadataRecord(v), lastOffset, epoch);
  // A snapshot of an image with no state (only no-op records) still stands at its offset.
  return Object.freeze({ ...delta.apply(), offset: lastOffset, epoch });
}
