// MetadataDelta: replays metadata records onto an image and produces the next image.
// Only the parts that change are copied; everything else is shared with the previous image.
import { MetadataRecordType } from '../../protocol/generated/metadata-records.ts';
import { type BrokerRegistration, type ClientQuotaImage, clientQuotaEntityKey, configKey, ConfigResourceType, type MetadataImage, type PartitionImage, type ScramCredentialImage, scramCredentialKey, type TopicImage } from './image.ts';
import type { MetadataRecord } from './record-serde.ts';
import type { AclImage } from './image.ts';

export class MetadataDelta {
  private readonly base: MetadataImage;
  private features: Map<string, number> | null = null;
  private brokers: Map<number, BrokerRegistration> | null = null;
  private topicsByName: Map<string, TopicImage> | null = null;
  private topicsById: Map<string, TopicImage> | null = null;
  private configs: Map<string, ReadonlyMap<string, string>> | null = null;
  private scram: Map<string, ScramCredentialImage> | null = null;
  private acls: Map<string, AclImage> | null = null;
  private clientQuotas: Map<string, ClientQuotaImage> | null = null;
  private nextProducerId: bigint;
  private offset: bigint;
  private epoch: number;
  /** Topics created, changed or removed by this delta (by id), for publishers. */
  readonly changedTopics = new Set<string>();
  readonly removedTopics = new Map<string, TopicImage>();
  /** Names of topics whose config overrides changed. */
  readonly changedConfigTopics = new Set<string>();

  constructor(base: MetadataImage) {
    this.base = base;
    this.nextProducerId = base.nextProducerId;
    this.offset = base.offset;
    this.epoch = base.epoch;
  }

  /** The image this delta applies to. */
  get baseImage(): MetadataImage {
    return this.base;
  }

  private mutableTopics(): [Map<string, TopicImage>, Map<string, TopicImage>] {
    this.topicsByName ??= new Map(this.base.topicsByName);
    this.topicsById ??= new Map(this.base.topicsById);
    return [this.topicsByName, this.topicsById];
  }

  private mutableBrokers(): Map<number, BrokerRegistration> {
    return (this.brokers ??= new Map(this.base.brokers));
  }

  /**
   * The partitions array of a topic this delta changes, copied once per delta: copying it for
   * each PartitionRecord made a topic of n partitions cost n^2 (a 100,000-partition snapshot took
   * seconds to load). Images handed out never change: apply() ends the delta's ownership.
   */
  private ownedPartitions = new Map<string, PartitionImage[]>();

  private partitionsToChange(t: TopicImage): PartitionImage[] {
    let parts = this.ownedPartitions.get(t.id);
    if (parts === undefined || parts !== t.partitions) {
      parts = [...t.partitions];
      this.ownedPartitions.set(t.id, parts);
    }
    return parts;
  }

  private topicById(id: string): TopicImage | undefined {
    return (this.topicsById ?? this.base.topicsById).get(id);
  }

  private putTopic(t: TopicImage): void {
    const [byName, byId] = this.mutableTopics();
    byName.set(t.name, t);
    byId.set(t.id, t);
    this.changedTopics.add(t.id);
  }

  private updateBroker(id: number, change: Partial<BrokerRegistration>): void {
    const brokers = this.mutableBrokers();
    const b = brokers.get(id);
    if (b) brokers.set(id, { ...b, ...change });
  }

  /** Applies one committed record found at `offset` in leader epoch `epoch`. */
  replay(rec: MetadataRecord, offset: bigint, epoch: number): void {
    this.offset = offset;
    this.epoch = epoch;
    switch (rec.type) {
      case MetadataRecordType.FeatureLevelRecord: {
        this.features ??= new Map(this.base.features);
        if (rec.data.featureLevel === 0) this.features.delete(rec.data.name);
        else this.features.set(rec.data.name, rec.data.featureLevel);
        break;
      }
      case MetadataRecordType.RegisterBrokerRecord: {
        const d = rec.data;
        this.mutableBrokers().set(d.brokerId, {
          id: d.brokerId,
          epoch: d.brokerEpoch,
          incarnationId: d.incarnationId,
          endpoints: d.endPoints.map((e) => ({ name: e.name, host: e.host, port: e.port, securityProtocol: e.securityProtocol })),
          rack: d.rack,
          fenced: d.fenced,
          inControlledShutdown: d.inControlledShutdown ?? false,
          logDirs: d.logDirs ?? [],
        });
        break;
      }
      case MetadataRecordType.UnregisterBrokerRecord:
        this.mutableBrokers().delete(rec.data.brokerId);
        break;
      case MetadataRecordType.FenceBrokerRecord:
        this.updateBroker(rec.data.id, { fenced: true });
        break;
      case MetadataRecordType.UnfenceBrokerRecord:
        this.updateBroker(rec.data.id, { fenced: false });
        break;
      case MetadataRecordType.BrokerRegistrationChangeRecord: {
        const d = rec.data;
        const change: Partial<BrokerRegistration> = {};
        // 0 = no change, 1 = fenced / in controlled shutdown, -1 = unfenced.
        if (d.fenced === 1) change.fenced = true;
        if (d.fenced === -1) change.fenced = false;
        if (d.inControlledShutdown === 1) change.inControlledShutdown = true;
        if (d.logDirs && d.logDirs.length > 0) change.logDirs = d.logDirs;
        this.updateBroker(d.brokerId, change);
        break;
      }
      case MetadataRecordType.TopicRecord:
        this.putTopic({ name: rec.data.name, id: rec.data.topicId, partitions: [] });
        break;
      case MetadataRecordType.PartitionRecord: {
        const d = rec.data;
        const t = this.topicById(d.topicId);
        if (!t) throw new Error(`PartitionRecord for unknown topic id ${d.topicId}`);
        const parts = this.partitionsToChange(t);
        parts[d.partitionId] = {
          partition: d.partitionId,
          replicas: d.replicas,
          isr: d.isr,
          removingReplicas: d.removingReplicas,
          addingReplicas: d.addingReplicas,
          leader: d.leader,
          leaderEpoch: d.leaderEpoch,
          partitionEpoch: d.partitionEpoch,
          leaderRecoveryState: d.leaderRecoveryState ?? 0,
          directories: d.directories ?? [],
        };
        this.putTopic({ ...t, partitions: parts });
        break;
      }
      case MetadataRecordType.PartitionChangeRecord: {
        const d = rec.data;
        const t = this.topicById(d.topicId);
        const p = t?.partitions[d.partitionId];
        if (!t || !p) throw new Error(`PartitionChangeRecord for unknown partition ${d.topicId}-${d.partitionId}`);
        const next: PartitionImage = {
          ...p,
          isr: d.isr ?? p.isr,
          replicas: d.replicas ?? p.replicas,
          removingReplicas: d.removingReplicas ?? p.removingReplicas,
          addingReplicas: d.addingReplicas ?? p.addingReplicas,
          directories: d.directories ?? p.directories,
          leaderRecoveryState: d.leaderRecoveryState !== undefined && d.leaderRecoveryState >= 0 ? d.leaderRecoveryState : p.leaderRecoveryState,
          partitionEpoch: p.partitionEpoch + 1,
        };
        // -2 means "leader unchanged"; any other value is a new leader (or -1, none) in a new epoch.
        if (d.leader !== undefined && d.leader !== -2) {
          next.leader = d.leader;
          next.leaderEpoch = p.leaderEpoch + 1;
        }
        const parts = this.partitionsToChange(t);
        parts[d.partitionId] = next;
        this.putTopic({ ...t, partitions: parts });
        break;
      }
      case MetadataRecordType.RemoveTopicRecord: {
        const t = this.topicById(rec.data.topicId);
        if (!t) break;
        const [byName, byId] = this.mutableTopics();
        byName.delete(t.name);
        byId.delete(t.id);
        this.changedTopics.delete(t.id);
        this.removedTopics.set(t.id, t);
        this.configs ??= new Map(this.base.configs);
        this.configs.delete(configKey(ConfigResourceType.Topic, t.name));
        break;
      }
      case MetadataRecordType.ConfigRecord: {
        const d = rec.data;
        this.configs ??= new Map(this.base.configs);
        if (d.resourceType === ConfigResourceType.Topic) this.changedConfigTopics.add(d.resourceName);
        const key = configKey(d.resourceType, d.resourceName);
        const m = new Map(this.configs.get(key) ?? []);
        if (d.value === null) m.delete(d.name);
        else m.set(d.name, d.value);
        if (m.size === 0) this.configs.delete(key);
        else this.configs.set(key, m);
        break;
      }
      case MetadataRecordType.ProducerIdsRecord:
        this.nextProducerId = rec.data.nextProducerId;
        break;
      case MetadataRecordType.UserScramCredentialRecord: {
        const d = rec.data;
        this.scram ??= new Map(this.base.scramCredentials ?? []);
        this.scram.set(scramCredentialKey(d.mechanism, d.name), { name: d.name, mechanism: d.mechanism, salt: d.salt, storedKey: d.storedKey, serverKey: d.serverKey, iterations: d.iterations });
        break;
      }
      case MetadataRecordType.RemoveUserScramCredentialRecord:
        this.scram ??= new Map(this.base.scramCredentials ?? []);
        this.scram.delete(scramCredentialKey(rec.data.mechanism, rec.data.name));
        break;
      case MetadataRecordType.ClientQuotaRecord: {
        const d = rec.data;
        this.clientQuotas ??= new Map(this.base.clientQuotas ?? []);
        const entity = d.entity.map((e) => ({ entityType: e.entityType, entityName: e.entityName })).sort((a, b) => (a.entityType < b.entityType ? -1 : a.entityType > b.entityType ? 1 : 0));
        const key = clientQuotaEntityKey(entity);
        const values = new Map(this.clientQuotas.get(key)?.values ?? []);
        if (d.remove) values.delete(d.key);
        else values.set(d.key, d.value);
        // An entity without values is gone, as in Kafka's ClientQuotasImage.
        if (values.size === 0) this.clientQuotas.delete(key);
        else this.clientQuotas.set(key, { entity, values });
        break;
      }
      case MetadataRecordType.AccessControlEntryRecord: {
        const d = rec.data;
        this.acls ??= new Map(this.base.acls ?? []);
        this.acls.set(d.id, { id: d.id, resourceType: d.resourceType, resourceName: d.resourceName, patternType: d.patternType, principal: d.principal, host: d.host, operation: d.operation, permissionType: d.permissionType });
        break;
      }
      case MetadataRecordType.RemoveAccessControlEntryRecord:
        this.acls ??= new Map(this.base.acls ?? []);
        this.acls.delete(rec.data.id);
        break;
      default:
        // Records of features this broker does not serve (quotas, tokens, ZK migration,
        // transactions markers of the metadata log) leave the image as it is.
        break;
    }
  }

  apply(): MetadataImage {
    this.ownedPartitions = new Map();
    return Object.freeze({
      offset: this.offset,
      epoch: this.epoch,
      features: this.features ?? this.base.features,
      brokers: this.brokers ?? this.base.brokers,
      topicsByName: this.topicsByName ?? this.base.topicsByName,
      topicsById: this.topicsById ?? this.base.topicsById,
      configs: this.configs ?? this.base.configs,
      nextProducerId: this.nextProducerId,
      ...((this.scram ?? this.base.scramCredentials) && { scramCredentials: this.scram ?? this.base.scramCredentials }),
      ...((this.acls ?? this.base.acls) && { acls: this.acls ?? this.base.acls }),
      ...((this.clientQuotas ?? this.base.clientQuotas) && { clientQuotas: this.clientQuotas ?? this.base.clientQuotas }),
    });
  }
}

/** Replays records onto an image in one step. */
export function applyRecords(image: MetadataImage, records: readonly { record: MetadataRecord; offset: bigint; epoch: number }[]): MetadataImage {
  const delta = new MetadataDelta(image);
  for (const r of records) delta.replay(r.record, r.offset, r.epoch);
  return delta.apply();
}
