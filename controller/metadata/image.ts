// The metadata image: an immutable view of the cluster (features, brokers, topics, partitions,
// configs, producer-id blocks) as of one offset of the committed metadata log. Handlers read
// images; only MetadataDelta makes new ones, by replaying records.

export interface BrokerEndpoint {
  name: string;
  host: string;
  port: number;
  securityProtocol: number;
}

export interface BrokerRegistration {
  id: number;
  epoch: bigint;
  incarnationId: string;
  endpoints: readonly BrokerEndpoint[];
  rack: string | null;
  fenced: boolean;
  inControlledShutdown: boolean;
  logDirs: readonly string[];
}

export interface PartitionImage {
  partition: number;
  replicas: readonly number[];
  isr: readonly number[];
  removingReplicas: readonly number[];
  addingReplicas: readonly number[];
  leader: number;
  leaderEpoch: number;
  partitionEpoch: number;
  leaderRecoveryState: number;
  directories: readonly string[];
}

export interface TopicImage {
  name: string;
  id: string;
  /** Indexed by partition id; partitions are always numbered 0..n-1. */
  partitions: readonly PartitionImage[];
}

/** ConfigResource types, as Kafka numbers them. */
export const ConfigResourceType = { Unknown: 0, Topic: 2, Broker: 4, BrokerLogger: 8, ClientMetrics: 16, Group: 32 } as const;

export interface MetadataImage {
  /** Offset and epoch of the last record applied (-1 for the empty image). */
  offset: bigint;
  epoch: number;
  features: ReadonlyMap<string, number>;
  brokers: ReadonlyMap<number, BrokerRegistration>;
  topicsByName: ReadonlyMap<string, TopicImage>;
  topicsById: ReadonlyMap<string, TopicImage>;
  /** Keyed by `${resourceType}:${resourceName}` (an empty broker name is the cluster default). */
  configs: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** The first producer id not yet handed out in a block. */
  nextProducerId: bigint;
  /** ACLs (AccessControlEntryRecords) keyed by id; absent when there are none. */
  acls?: ReadonlyMap<string, AclImage>;
  /** SCRAM credentials keyed by scramCredentialKey(mechanism, user); absent when there are none. */
  scramCredentials?: ReadonlyMap<string, ScramCredentialImage>;
  /** Client quotas (KIP-546) keyed by clientQuotaEntityKey(entity); absent when there are none. */
  clientQuotas?: ReadonlyMap<string, ClientQuotaImage>;
}

/** One user's SCRAM credential for one mechanism (1 = SCRAM-SHA-256, 2 = SCRAM-SHA-512). */
export interface ScramCredentialImage {
  name: string;
  mechanism: number;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
  iterations: number;
}

/** One part of a client quota entity: type user, client-id or ip; a null name is the default. */
export interface ClientQuotaEntityPart {
  entityType: string;
  entityName: string | null;
}

/** The quota values (producer_byte_rate, ...) set for one entity, never empty. */
export interface ClientQuotaImage {
  /** Sorted by entity type. */
  entity: readonly ClientQuotaEntityPart[];
  values: ReadonlyMap<string, number>;
}

/** One key per entity, whatever the order of its parts. */
export const clientQuotaEntityKey = (entity: readonly ClientQuotaEntityPart[]): string =>
  JSON.stringify([...entity].sort((a, b) => (a.entityType < b.entityType ? -1 : a.entityType > b.entityType ? 1 : 0)).map((e) => [e.entityType, e.entityName]));

/** One ACL (KIP-11) as its AccessControlEntryRecord states it; codes are Kafka's wire codes. */
export interface AclImage {
  id: string;
  resourceType: number;
  resourceName: string;
  patternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

export const scramCredentialKey = (mechanism: number, name: string): string => `${mechanism}:${name}`;

export const EMPTY_IMAGE: MetadataImage = Object.freeze({
  offset: -1n,
  epoch: -1,
  features: new Map(),
  brokers: new Map(),
  topicsByName: new Map(),
  topicsById: new Map(),
  configs: new Map(),
  nextProducerId: 0n,
});

export function configKey(resourceType: number, resourceName: string): string {
  return `${resourceType}:${resourceName}`;
}

export function topicConfigs(image: MetadataImage, topic: string): ReadonlyMap<string, string> {
  return image.configs.get(configKey(ConfigResourceType.Topic, topic)) ?? new Map();
}

/** The brokers that are registered and not fenced, by id. */
export function liveBrokers(image: MetadataImage): BrokerRegistration[] {
  return [...image.brokers.values()].filter((b) => !b.fenced).sort((a, b) => a.id - b.id);
}
