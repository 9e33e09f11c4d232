// Partition leadership as brokers come and go: pure decisions against one image, returning the
// PartitionChangeRecords that carry them out (Kafka's PartitionChangeBuilder, for the cases a
// broker's fencing, controlled shutdown and unfencing bring about).
// - A broker that is fenced or shuts down leaves every partition it leads: the first other ISR
//   member that is alive becomes leader; with none, the partition is offline (leader -1). It is
//   removed from the ISR of partitions that keep another member, never from a last one, so the
//   replica that holds everything acknowledged is the one that leads again when it returns.
//   Where the topic allows unclean leader election, a partition left with no live ISR member
//   elects its first live replica instead, with ISR [it], RECOVERING (Kafka's ONLINE election).
// - A broker that is unfenced takes back the offline partitions it is in the ISR of (and, where
//   the topic allows unclean election, those of which it is an out-of-sync replica).
import { MetadataRecordType } from '../protocol/generated/metadata-records.ts';
import { ConfigResourceType, configKey, type MetadataImage, type PartitionImage, type TopicImage, topicConfigs } from './metadata/image.ts';
import { type MetadataRecord, record } from './metadata/record-serde.ts';

export const NO_LEADER = -1;
/** LeaderRecoveryState of a leader elected uncleanly, until it says it has recovered (KIP-704). */
export const RECOVERING = 1;

/** Whether a topic lets an out-of-sync replica lead (`unclean.leader.election.enable`). */
export type UncleanElectionPolicy = (topic: TopicImage) => boolean;

/**
 * The topic's `unclean.leader.election.enable`, over the cluster-wide dynamic broker default,
 * over `staticDefault` (the controller's own server.properties value; false as in Kafka).
 */
export function uncleanElectionPolicy(image: MetadataImage, staticDefault = false): UncleanElectionPolicy {
  const key = 'unclean.leader.election.enable';
  const cluster = image.configs.get(configKey(ConfigResourceType.Broker, ''))?.get(key);
  const fallback = cluster !== undefined ? cluster.toLowerCase() === 'true' : staticDefault;
  return (topic) => {
    const v = topicConfigs(image, topic.name).get(key);
    return v !== undefined ? v.toLowerCase() === 'true' : fallback;
  };
}

function change(topic: TopicImage, p: PartitionImage, fields: { leader?: number; isr?: number[]; leaderRecoveryState?: number }): MetadataRecord {
  return record(MetadataRecordType.PartitionChangeRecord, {
    partitionId: p.partition,
    topicId: topic.id,
    leader: fields.leader ?? -2,
    isr: fields.isr ?? null,
    replicas: null,
    removingReplicas: null,
    addingReplicas: null,
    leaderRecoveryState: fields.leaderRecoveryState ?? -1,
  });
}

function alive(image: MetadataImage, id: number, leaving: number): boolean {
  if (id === leaving) return false;
  const b = image.brokers.get(id);
  return b !== undefined && !b.fenced && !b.inControlledShutdown;
}

/** Moves leadership and ISR membership away from `brokerId`, which is leaving. */
export function leaveBroker(image: MetadataImage, brokerId: number, unclean: UncleanElectionPolicy = uncleanElectionPolicy(image)): MetadataRecord[] {
  const out: MetadataRecord[] = [];
  for (const topic of image.topicsById.values()) {
    for (const p of topic.partitions) {
      if (!p.isr.includes(brokerId) && p.leader !== brokerId) continue;
      const isr = p.isr.length > 1 ? p.isr.filter((r) => r !== brokerId) : [...p.isr];
      const shrink = isr.length !== p.isr.length;
      if (p.leader === brokerId) {
        const next = isr.find((r) => alive(image, r, brokerId)) ?? NO_LEADER;
        const outOfSync = next === NO_LEADER && unclean(topic) ? p.replicas.find((r) => alive(image, r, brokerId)) : undefined;
        if (outOfSync !== undefined) out.push(change(topic, p, { leader: outOfSync, isr: [outOfSync], leaderRecoveryState: RECOVERING }));
        else out.push(change(topic, p, { leader: next, isr: shrink ? isr : undefined }));
      } else if (shrink) {
        out.push(change(topic, p, { isr }));
      }
    }
  }
  return out;
}

/**
 * Elects `brokerId`, now unfenced, for the offline partitions whose ISR holds it, and, where the
 * topic allows unclean election, for those it is a replica of with no live ISR member.
 */
export function returnBroker(image: MetadataImage, brokerId: number, unclean: UncleanElectionPolicy = uncleanElectionPolicy(image)): MetadataRecord[] {
  const out: MetadataRecord[] = [];
  for (const topic of image.topicsById.values()) {
    for (const p of topic.partitions) {
      if (p.leader !== NO_LEADER) continue;
      if (p.isr.includes(brokerId)) out.push(change(topic, p, { leader: brokerId }));
      else if (p.replicas.includes(brokerId) && !p.isr.some((r) => alive(image, r, brokerId)) && unclean(topic)) {
        out.push(change(topic, p, { leader: brokerId, isr: [brokerId], leaderRecoveryState: RECOVERING }));
      }
    }
  }
  return out;
}
