// Test support for the transaction coordinator: a coordinator on an in-memory log and a virtual
// clock, with a marker sender that records every marker and can hold them back.
import pino from 'pino';
import { ManualScheduler } from '../../protocol/scheduler.ts';
import { MemoryPartitionLog } from '../coordinator/partition-log.ts';
import { TransactionCoordinator } from './transaction-coordinator.ts';
import type { MarkerRequest, TxnCoordinatorConfig, TxnMarkerSender } from './transaction-shard.ts';

export class RecordingMarkerSender implements TxnMarkerSender {
  readonly sent: MarkerRequest[] = [];
  hold = false;
  private held: (() => void)[] = [];

  send(request: MarkerRequest, cancelled: () => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const deliver = (): void => {
        if (cancelled()) return reject(new Error('cancelled'));
        this.sent.push(request);
        resolve();
      };
      if (this.hold) this.held.push(deliver);
      else deliver();
    });
  }

  release(): void {
    const h = this.held;
    this.held = [];
    for (const d of h) d();
  }

  get pending(): number {
    return this.held.length;
  }
}

export const TEST_TXN_CONFIG: TxnCoordinatorConfig = {
  transactionMaxTimeoutMs: 900_000,
  transactionalIdExpirationMs: 604_800_000,
  abortTimedOutTransactionsIntervalMs: 10_000,
  removeExpiredTransactionalIdsIntervalMs: 3_600_000,
  retryBackoffMs: 100,
};

export function txnHarness(config: Partial<TxnCoordinatorConfig> = {}, partitionCount = 1) {
  const scheduler = new ManualScheduler();
  const log = new MemoryPartitionLog();
  const markers = new RecordingMarkerSender();
  let nextPid = 1000n;
  const coordinator = new TransactionCoordinator({
    config: { ...TEST_TXN_CONFIG, ...config },
    partitionCount,
    log,
    markers,
    producerIds: { generate: () => Promise.resolve(nextPid++) },
    scheduler,
    logger: pino({ level: 'silent' }),
  });
  return { scheduler, log, markers, coordinator, peekNextPid: () => nextPid };
}

/** Lets promise chains and setImmediate callbacks run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}
