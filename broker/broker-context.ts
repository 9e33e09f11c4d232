// Everything a request handler may use, handed to each handler module when the broker starts.
// Handlers read metadata only from `metadata.image` (the published image) and change it only
// through the controller.
import type { Logger } from 'pino';
import type { QuorumController } from '../controller/quorum-controller.ts';
import type { Scheduler } from '../protocol/scheduler.ts';
import type { StandardAuthorizer } from './auth/authorizer.ts';
import type { BrokerConfig } from './config/broker-config.ts';
import type { ControllerChannel } from './controller-channel.ts';
import type { DelayedFetchPurgatory } from './fetch/delayed-fetch.ts';
import type { FetchSessionCache } from './fetch/fetch-session-cache.ts';
import type { GroupCoordinator } from './group/group-coordinator.ts';
import type { MetadataPublisher } from './metadata/metadata-publisher.ts';
import type { ProducerIdManager } from './producer-id-manager.ts';
import type { ReplicaManager } from './replica/replica-manager.ts';
import type { TransactionCoordinator } from './txn/transaction-coordinator.ts';

export interface BrokerContext {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly config: BrokerConfig;
  readonly logger: Logger;
  readonly metadata: MetadataPublisher;
  /** The quorum controller of this process (combined broker+controller mode). */
  readonly controller: QuorumController;
  /** Metadata changes go to the active controller through it, wherever that runs. */
  readonly controllerChannel: ControllerChannel;
  readonly replicaManager: ReplicaManager;
  readonly producerIds: ProducerIdManager;
  /** Incremental fetch sessions (KIP-227); the Fetch handler makes its own when absent. */
  readonly fetchSessions?: FetchSessionCache;
  /** Fetches waiting for minBytes; woken by appends. The Fetch handler makes its own when absent. */
  readonly fetchPurgatory?: DelayedFetchPurgatory;
  /** The classic group coordinator on `__consumer_offsets`; group APIs answer NOT_COORDINATOR without it. */
  readonly groupCoordinator?: GroupCoordinator;
  /** The transaction coordinator on `__transaction_state`; transactional APIs answer COORDINATOR_NOT_AVAILABLE without it. */
  readonly txnCoordinator?: TransactionCoordinator;
  /** ACL checks (authorizer.class.name); absent when none is configured, and everything is allowed. */
  readonly authorizer?: StandardAuthorizer;
  /** The containment seam every timer and callback of this node starts through. */
  readonly scheduler: Scheduler;
  now(): number;
}
