// Which response versions the client throttles itself on (KIP-219): from these versions on, a
// broker answers a quota violation at once with throttle_time_ms and stops reading from the
// connection for that long; older clients get their answer only after the throttle time, as
// before KIP-219. The versions are those Kafka's schemas name ("Starting in version N, on quota
// violation, brokers send out responses before throttling"); Produce from v6 as Kafka's
// ProduceResponse.shouldClientThrottle. APIs not listed were introduced after KIP-219: their
// clients throttle themselves at every version.
import { ApiKey } from '../../protocol/generated/api-table.ts';

const FIRST_CLIENT_THROTTLED_VERSION: Partial<Record<number, number>> = {
  [ApiKey.Produce]: 6,
  [ApiKey.Fetch]: 8,
  [ApiKey.ListOffsets]: 3,
  [ApiKey.Metadata]: 6,
  [ApiKey.OffsetCommit]: 4,
  [ApiKey.OffsetFetch]: 4,
  [ApiKey.FindCoordinator]: 2,
  [ApiKey.JoinGroup]: 3,
  [ApiKey.Heartbeat]: 2,
  [ApiKey.LeaveGroup]: 2,
  [ApiKey.SyncGroup]: 2,
  [ApiKey.DescribeGroups]: 2,
  [ApiKey.ListGroups]: 2,
  [ApiKey.ApiVersions]: 2,
  [ApiKey.CreateTopics]: 3,
  [ApiKey.DeleteTopics]: 2,
  [ApiKey.DeleteRecords]: 1,
  [ApiKey.InitProducerId]: 1,
  [ApiKey.AddPartitionsToTxn]: 1,
  [ApiKey.AddOffsetsToTxn]: 1,
  [ApiKey.EndTxn]: 1,
  [ApiKey.TxnOffsetCommit]: 1,
  [ApiKey.DescribeAcls]: 1,
  [ApiKey.CreateAcls]: 1,
  [ApiKey.DeleteAcls]: 1,
  [ApiKey.DescribeConfigs]: 2,
  [ApiKey.AlterConfigs]: 1,
  [ApiKey.AlterReplicaLogDirs]: 1,
  [ApiKey.DescribeLogDirs]: 1,
  [ApiKey.CreatePartitions]: 1,
  [ApiKey.CreateDelegationToken]: 1,
  [ApiKey.RenewDelegationToken]: 1,
  [ApiKey.ExpireDelegationToken]: 1,
  [ApiKey.DescribeDelegationToken]: 1,
  [ApiKey.DeleteGroups]: 1,
};

/** True when a client using this version throttles itself on throttle_time_ms (KIP-219). */
export function clientThrottles(apiKey: number, apiVersion: number): boolean {
  return apiVersion >= (FIRST_CLIENT_THROTTLED_VERSION[apiKey] ?? 0);
}
