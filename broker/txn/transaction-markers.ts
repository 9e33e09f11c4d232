// Sends a transaction's COMMIT/ABORT markers as WriteTxnMarkers requests to the leader of each
// of its partitions (Kafka's TransactionMarkerChannelManager), over the leaders' inter-broker
// listener, this broker included. Leaders come from the current metadata image on every round, so
// a leadership move is followed. Per partition (Kafka's handling of the answers):
// - NONE: written. A partition of a topic that no longer exists counts as done.
// - UNSUPPORTED_FOR_MESSAGE_FORMAT, UNSUPPORTED_VERSION: done (the leader cannot write markers).
// - INVALID_PRODUCER_EPOCH, TRANSACTION_COORDINATOR_FENCED: this coordinator is stale; stop.
// - anything else (not leader, no leader, not enough replicas, timeouts, a connection that
//   fails): retried after `retryBackoffMs`, until the markers land or the shard is unloaded.
import type { Logger } from 'pino';
import type { MetadataImage } from '../../controller/metadata/image.ts';
import type { NodeConnections } from '../../controller/network/node-connections.ts';
import { ErrorCode, errorCodeOf, KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { Scheduler } from '../../protocol/scheduler.ts';
import { byTopic, type TopicPartition } from './transaction-log.ts';
import type { MarkerRequest, TxnMarkerSender } from './transaction-shard.ts';

export interface NetworkMarkerSenderOptions {
  connections: Pick<NodeConnections, 'send'>;
  image(): MetadataImage;
  scheduler: Scheduler;
  logger: Logger;
  retryBackoffMs: number;
}

export class NetworkMarkerSender implements TxnMarkerSender {
  private readonly opts: NetworkMarkerSenderOptions;

  constructor(opts: NetworkMarkerSenderOptions) {
    this.opts = opts;
  }

  async send(request: MarkerRequest, cancelled: () => boolean): Promise<void> {
    let remaining: TopicPartition[] = [...request.partitions];
    let round = 0;
    while (remaining.length > 0) {
      if (cancelled()) throw new KafkaError(ErrorCode.NOT_COORDINATOR, 'the coordinator shard was unloaded');
      if (round++ > 0) await this.sleep(request.transactionalId);
      const image = this.opts.image();
      const byLeader = new Map<number, TopicPartition[]>();
      const retry: TopicPartition[] = [];
      for (const tp of remaining) {
        const t = image.topicsByName.get(tp.topic);
        const p = t?.partitions[tp.partition];
        if (!t || !p) continue; // the topic is gone: nothing to mark
        if (p.leader < 0) {
          retry.push(tp);
          continue;
        }
        let l = byLeader.get(p.leader);
        if (!l) byLeader.set(p.leader, (l = []));
        l.push(tp);
      }
      const results = await Promise.all([...byLeader].map(([leader, tps]) => this.sendTo(leader, request, tps)));
      remaining = [...retry, ...results.flat()];
    }
  }

  /** Sends to one leader; resolves with the partitions to retry. */
  private async sendTo(leader: number, request: MarkerRequest, tps: TopicPartition[]): Promise<TopicPartition[]> {
    const { logger } = this.opts;
    let response;
    try {
      response = await this.opts.connections.send(
        leader,
        ApiKey.WriteTxnMarkers,
        {
          markers: [
            {
              producerId: request.producerId,
              producerEpoch: request.producerEpoch,
              transactionResult: request.commit,
              coordinatorEpoch: request.coordinatorEpoch,
              topics: byTopic(tps).map((t) => ({ name: t.topic, partitionIndexes: t.partitions })),
            },
          ],
        },
        { lane: 'txn-markers' },
      );
    } catch (err) {
      if (errorCodeOf(err) === ErrorCode.UNSUPPORTED_VERSION) {
        logger.warn({ leader, transactionalId: request.transactionalId }, 'the leader does not serve WriteTxnMarkers; its partitions get no marker');
        return [];
      }
      logger.debug({ err, leader, transactionalId: request.transactionalId }, 'WriteTxnMarkers failed; retrying');
      return tps;
    }
    const codes = new Map<string, number>();
    for (const m of response.markers) for (const t of m.topics) for (const p of t.partitions) codes.set(`${t.name}\u0000${p.partitionIndex}`, p.errorCode);
    const retry: TopicPartition[] = [];
    for (const tp of tps) {
      const code = codes.get(`${tp.topic}\u0000${tp.partition}`) ?? ErrorCode.UNKNOWN_SERVER_ERROR;
      switch (code) {
        case ErrorCode.NONE:
        case ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT:
        case ErrorCode.UNSUPPORTED_VERSION:
          break;
        case ErrorCode.INVALID_PRODUCER_EPOCH:
        case ErrorCode.TRANSACTION_COORDINATOR_FENCED:
          throw new KafkaError(code, `the leader of ${tp.topic}-${tp.partition} refused the marker of ${request.transactionalId}: this coordinator is stale`);
        default:
          logger.debug({ leader, topic: tp.topic, partition: tp.partition, errorCode: code, transactionalId: request.transactionalId }, 'transaction marker not written yet; retrying');
          retry.push(tp);
      }
    }
    return retry;
  }

  private sleep(transactionalId: string): Promise<void> {
    return new Promise((resolve) => this.opts.scheduler.schedule(this.opts.retryBackoffMs, { unit: 'txn-markers', context: { transactionalId } }, resolve));
  }
}
