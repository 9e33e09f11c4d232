// Which handler serves which API on each kind of listener. ApiVersions is built from the router,
// so registering a handler here is what makes an API advertised.
import type { BrokerContext } from '../broker-context.ts';
import type { Router } from '../router.ts';
import { alterConfigsHandler } from './alter-configs.ts';
import { createPartitionsHandler } from './create-partitions.ts';
import { createTopicsHandler } from './create-topics.ts';
import { deleteTopicsHandler } from './delete-topics.ts';
import { describeClusterHandler } from './describe-cluster.ts';
import { describeConfigsHandler } from './describe-configs.ts';
import { describeTopicPartitionsHandler } from './describe-topic-partitions.ts';
import { incrementalAlterConfigsHandler } from './incremental-alter-configs.ts';
import { apiVersionsHandler } from './api-versions.ts';
import { deleteRecordsHandler } from './delete-records.ts';
import { describeLogDirsHandler } from './describe-log-dirs.ts';
import { fetchHandler } from './fetch.ts';
import { initProducerIdHandler } from './init-producer-id.ts';
import { listOffsetsHandler } from './list-offsets.ts';
import { metadataHandler } from './metadata.ts';
import { offsetForLeaderEpochHandler } from './offset-for-leader-epoch.ts';
import { produceHandler } from './produce.ts';
import { deleteGroupsHandler } from './delete-groups.ts';
import { describeGroupsHandler } from './describe-groups.ts';
import { findCoordinatorHandler } from './find-coordinator.ts';
import { heartbeatHandler } from './heartbeat.ts';
import { joinGroupHandler } from './join-group.ts';
import { leaveGroupHandler } from './leave-group.ts';
import { listGroupsHandler } from './list-groups.ts';
import { offsetCommitHandler } from './offset-commit.ts';
import { offsetDeleteHandler } from './offset-delete.ts';
import { offsetFetchHandler } from './offset-fetch.ts';
import { syncGroupHandler } from './sync-group.ts';
import { beginQuorumEpochHandler } from './begin-quorum-epoch.ts';
import { describeQuorumHandler } from './describe-quorum.ts';
import { endQuorumEpochHandler } from './end-quorum-epoch.ts';
import { quorumFetchHandler } from './quorum-fetch.ts';
import { fetchSnapshotHandler } from './fetch-snapshot.ts';
import { voteHandler } from './vote.ts';
import { updateFeaturesHandler } from './update-features.ts';
import { electLeadersHandler } from './elect-leaders.ts';
import { allocateProducerIdsHandler } from './allocate-producer-ids.ts';
import { alterPartitionHandler } from './alter-partition.ts';
import { brokerHeartbeatHandler } from './broker-heartbeat.ts';
import { brokerRegistrationHandler } from './broker-registration.ts';
import { alterPartitionReassignmentsHandler } from './alter-partition-reassignments.ts';
import { listPartitionReassignmentsHandler } from './list-partition-reassignments.ts';

export function registerBrokerHandlers(router: Router, ctx: BrokerContext): void {
  router.register(apiVersionsHandler(ctx, router));
  router.register(metadataHandler(ctx));
  router.register(produceHandler(ctx));
  router.register(initProducerIdHandler(ctx));
  router.register(createTopicsHandler(ctx));
  router.register(deleteTopicsHandler(ctx));
  router.register(createPartitionsHandler(ctx));
  router.register(describeConfigsHandler(ctx));
  router.register(alterConfigsHandler(ctx));
  router.register(incrementalAlterConfigsHandler(ctx));
  router.register(describeClusterHandler(ctx));
  router.register(describeQuorumHandler(ctx));
  router.register(updateFeaturesHandler(ctx));
  router.register(electLeadersHandler(ctx));
  router.register(alterPartitionReassignmentsHandler(ctx));
  router.register(listPartitionReassignmentsHandler(ctx));
  router.register(describeTopicPartitionsHandler(ctx));
  router.register(fetchHandler(ctx));
  router.register(listOffsetsHandler(ctx));
  router.register(offsetForLeaderEpochHandler(ctx));
  router.register(deleteRecordsHandler(ctx));
  router.register(describeLogDirsHandler(ctx));
  router.register(findCoordinatorHandler(ctx));
  router.register(joinGroupHandler(ctx));
  router.register(syncGroupHandler(ctx));
  router.register(heartbeatHandler(ctx));
  router.register(leaveGroupHandler(ctx));
  router.register(offsetCommitHandler(ctx));
  router.register(offsetFetchHandler(ctx));
  router.register(offsetDeleteHandler(ctx));
  router.register(describeGroupsHandler(ctx));
  router.register(listGroupsHandler(ctx));
  router.register(deleteGroupsHandler(ctx));
}

/** The controller listener serves the quorum's own APIs (KRaft replication of `__cluster_metadata`). */
export function registerControllerHandlers(router: Router, ctx: BrokerContext): void {
  router.register(apiVersionsHandler(ctx, router));
  router.register(voteHandler(ctx));
  router.register(beginQuorumEpochHandler(ctx));
  router.register(endQuorumEpochHandler(ctx));
  router.register(quorumFetchHandler(ctx));
  router.register(fetchSnapshotHandler(ctx));
  router.register(describeQuorumHandler(ctx));
  router.register(brokerRegistrationHandler(ctx));
  router.register(brokerHeartbeatHandler(ctx));
  router.register(allocateProducerIdsHandler(ctx));
  router.register(alterPartitionHandler(ctx));
  router.register(describeClusterHandler(ctx));
  // Admin requests brokers forward (and clients with bootstrap.controllers send) to controllers.
  router.register(createTopicsHandler(ctx));
  router.register(deleteTopicsHandler(ctx));
  router.register(createPartitionsHandler(ctx));
  router.register(alterConfigsHandler(ctx));
  router.register(incrementalAlterConfigsHandler(ctx));
  router.register(electLeadersHandler(ctx));
  router.register(alterPartitionReassignmentsHandler(ctx));
  router.register(listPartitionReassignmentsHandler(ctx));
}
