// Broker registration, heartbeats (fencing and unfencing), producer-id blocks and configs:
// pure decisions against one image, returning the records that carry them out.
import { ErrorCode } from '../protocol/errors.ts';
import { MetadataRecordType } from '../protocol/generated/metadata-records.ts';
import type { ControllerResult } from './controller-result.ts';
import type { BrokerEndpoint, MetadataImage } from './metadata/image.ts';
import { type MetadataRecord, record } from './metadata/record-serde.ts';
import { leaveBroker, returnBroker, uncleanElectionPolicy } from './partition-leadership.ts';

export interface RegisterBrokerInput {
  brokerId: number;
  incarnationId: string;
  endpoints: BrokerEndpoint[];
  rack: string | null;
  logDirs: string[];
  features: { name: string; minSupportedVersion: number; maxSupportedVersion: number }[];
}

/**
 * Registers (or re-registers, after a restart) a broker, fenced until its first heartbeat says it
 * has caught up with the metadata log. The broker epoch is the offset the record lands at, so the
 * caller passes the log end offset it will be appended at. A new incarnation of a registered
 * broker (a restart) gives up its leaderships at once, as after an unclean shutdown in Kafka:
 * until it has caught up it cannot serve them, and clients are not sent to it.
 */
export function registerBroker(image: MetadataImage, input: RegisterBrokerInput, brokerEpoch: bigint, uncleanDefault = false): ControllerResult<{ errorCode: number; brokerEpoch: bigint }> {
  const existing = image.brokers.get(input.brokerId);
  if (existing && existing.incarnationId === input.incarnationId) {
    // A retried registration of the same process: answer with the epoch it already has.
    return { records: [], response: { errorCode: ErrorCode.NONE, brokerEpoch: existing.epoch } };
  }
  const rec = record(MetadataRecordType.RegisterBrokerRecord, {
    brokerId: input.brokerId,
    isMigratingZkBroker: false,
    incarnationId: input.incarnationId,
    brokerEpoch,
    endPoints: input.endpoints.map((e) => ({ ...e })),
    features: input.features,
    rack: input.rack,
    fenced: true,
    inControlledShutdown: false,
    logDirs: input.logDirs,
  });
  const leaving = existing ? leaveBroker(image, input.brokerId, uncleanElectionPolicy(image, uncleanDefault)) : [];
  return { records: [rec, ...leaving], response: { errorCode: ErrorCode.NONE, brokerEpoch } };
}

export interface HeartbeatInput {
  brokerId: number;
  brokerEpoch: bigint;
  currentMetadataOffset: bigint;
  wantFence: boolean;
  wantShutDown: boolean;
}

export interface HeartbeatOutcome {
  errorCode: number;
  isCaughtUp: boolean;
  isFenced: boolean;
  shouldShutDown: boolean;
}

export function brokerHeartbeat(image: MetadataImage, input: HeartbeatInput, committedOffset: bigint, uncleanDefault = false): ControllerResult<HeartbeatOutcome> {
  const b = image.brokers.get(input.brokerId);
  if (!b || b.epoch !== input.brokerEpoch) {
    return { records: [], response: { errorCode: ErrorCode.STALE_BROKER_EPOCH, isCaughtUp: false, isFenced: true, shouldShutDown: false } };
  }
  const caughtUp = input.currentMetadataOffset >= committedOffset;
  const records: MetadataRecord[] = [];
  let fenced = b.fenced;
  if (input.wantShutDown) {
    // Controlled shutdown: its leaderships move to other ISR members before it stops.
    if (!b.fenced) records.push(...fenceBroker(image, b.id, uncleanDefault));
    return { records, response: { errorCode: ErrorCode.NONE, isCaughtUp: caughtUp, isFenced: true, shouldShutDown: true } };
  }
  if (b.fenced && !input.wantFence && caughtUp) {
    records.push(record(MetadataRecordType.UnfenceBrokerRecord, { id: b.id, epoch: b.epoch }), ...returnBroker(image, b.id, uncleanElectionPolicy(image, uncleanDefault)));
    fenced = false;
  } else if (!b.fenced && input.wantFence) {
    records.push(...fenceBroker(image, b.id, uncleanDefault));
    fenced = true;
  }
  return { records, response: { errorCode: ErrorCode.NONE, isCaughtUp: caughtUp, isFenced: fenced, shouldShutDown: false } };
}

/** Fences a broker (no heartbeat within its session, or it asked to be): its partitions move away. */
/** `uncleanDefault`: the broker's static unclean.leader.election.enable, under topic and dynamic settings. */
export function fenceBroker(image: MetadataImage, brokerId: number, uncleanDefault = false): MetadataRecord[] {
  const b = image.brokers.get(brokerId);
  if (!b || b.fenced) return [];
  return [record(MetadataRecordType.FenceBrokerRecord, { id: b.id, epoch: b.epoch }), ...leaveBroker(image, b.id, uncleanElectionPolicy(image, uncleanDefault))];
}

/** Kafka hands out producer ids in blocks of this size to each broker. */
export const PRODUCER_ID_BLOCK_SIZE = 1000;

export function allocateProducerIds(image: MetadataImage, brokerId: number, brokerEpoch: bigint): ControllerResult<{ errorCode: number; producerIdStart: bigint; producerIdLen: number }> {
  const b = image.brokers.get(brokerId);
  if (!b || b.epoch !== brokerEpoch) {
    return { records: [], response: { errorCode: ErrorCode.STALE_BROKER_EPOCH, producerIdStart: -1n, producerIdLen: 0 } };
  }
  const start = image.nextProducerId;
  const next = start + BigInt(PRODUCER_ID_BLOCK_SIZE);
  return {
    records: [record(MetadataRecordType.ProducerIdsRecord, { brokerId, brokerEpoch, nextProducerId: next })],
    response: { errorCode: ErrorCode.NONE, producerIdStart: start, producerIdLen: PRODUCER_ID_BLOCK_SIZE },
  };
}

export interface ConfigChange {
  resourceType: number;
  resourceName: string;
  name: string;
  /** null removes the override. */
  value: string | null;
}

/** Config changes already validated by the caller become ConfigRecords, in order. */
export function alterConfigs(changes: readonly ConfigChange[]): ControllerResult<void> {
  return { records: changes.map((c) => record(MetadataRecordType.ConfigRecord, { ...c })), response: undefined };
}

/** The metadata.version of Kafka 3.9 (3.9-IV0), the feature level this broker writes and serves. */
export const METADATA_VERSION_3_9_IV0 = 21;

export function bootstrapRecords(): MetadataRecord[] {
  return [record(MetadataRecordType.FeatureLevelRecord, { name: 'metadata.version', featureLevel: METADATA_VERSION_3_9_IV0 })];
}
