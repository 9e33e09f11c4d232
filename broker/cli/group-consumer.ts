// A consumer of one topic whose partitions come from a consumer group (subscribe), or are given
// (assign) with the group used only to commit, as Kafka's consumer does with a group.id. Fetching
// is RecordConsumer's; this module owns the group side: rejoin when the member learns of a
// rebalance, positions from the committed offsets at each assignment (auto.offset.reset where
// none), auto-commit every auto.commit.interval.ms and on close, and LeaveGroup on close.
// Invariants:
// - Before a rejoin that keeps the generation (REBALANCE_IN_PROGRESS), the positions are committed
//   (Kafka's onJoinPrepare), so the next owner starts after the last record delivered here.
// - Partitions lost with their generation (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID) are not committed.
// - A commit covers every assigned partition's position, as Kafka's auto-commit of allConsumed().
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { OffsetSpec } from '../../protocol/client/client.ts';
import type { KafkaClient } from '../../protocol/client/client.ts';
import { GroupMember } from './group-member.ts';
import type { GroupMemberSettings } from './group-member.ts';
import { RecordConsumer } from './record-consumer.ts';
import type { ConsumedRecord, ConsumerSettings } from './record-consumer.ts';

export interface GroupConsumerOptions {
  groupId: string;
  /** enable.auto.commit. */
  autoCommit: boolean;
  /** auto.commit.interval.ms. */
  autoCommitIntervalMs: number;
  consumer: Partial<ConsumerSettings>;
  member: Partial<GroupMemberSettings> & { clientId: string };
}

export const DEFAULT_AUTO_COMMIT_INTERVAL_MS = 5000;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class GroupConsumer {
  readonly topic: string;
  readonly member: GroupMember;
  private readonly options: GroupConsumerOptions;
  private readonly client: KafkaClient;
  private readonly records: RecordConsumer;
  /** Manually assigned partitions: no group membership, the group only stores commits. */
  private manual = false;
  private nextAutoCommit = 0;

  constructor(client: KafkaClient, topic: string, options: GroupConsumerOptions) {
    this.client = client;
    this.topic = topic;
    this.options = options;
    this.records = new RecordConsumer(client, topic, options.consumer);
    this.member = new GroupMember(client, options.groupId, [topic], options.member);
  }

  /** The topic's partitions; throws KafkaError if it does not exist. */
  partitions(): Promise<number[]> {
    return this.records.partitions();
  }

  /** Manual assignment from a start position (Kafka's assign + seek); commits go to the group. */
  async assign(partitions: readonly number[], start: 'earliest' | 'latest' | bigint): Promise<void> {
    this.manual = true;
    await this.records.assign(partitions, start);
    this.nextAutoCommit = Date.now() + this.options.autoCommitIntervalMs;
  }

  /** The next offsets to read, by partition. */
  get positions(): ReadonlyMap<number, bigint> {
    return this.records.positions;
  }

  /** Joins or rejoins when needed, auto-commits when due, then fetches once. */
  async poll(): Promise<ConsumedRecord[]> {
    if (!this.manual && this.member.rejoinNeeded) await this.rebalance();
    if (this.options.autoCommit && Date.now() >= this.nextAutoCommit) {
      this.nextAutoCommit = Date.now() + this.options.autoCommitIntervalMs;
      await this.commitPositions();
    }
    if (this.records.positions.size === 0) {
      // Nothing assigned: wait a little for heartbeats to tell of the next rebalance.
      await sleep(100);
      return [];
    }
    return this.records.poll();
  }

  /** Commits every assigned partition's position; false if a rebalance refused it. */
  async commitPositions(): Promise<boolean> {
    if (this.records.positions.size === 0) return true;
    if (!this.manual && this.member.state !== 'stable') return false;
    return this.member.commit(new Map([[this.topic, new Map(this.records.positions)]]));
  }

  private async rebalance(): Promise<void> {
    // onJoinPrepare: hand over what was consumed while the generation is still valid.
    if (this.options.autoCommit && this.member.state === 'stable') await this.commitPositions();
    this.records.positions.clear();
    const assignment = await this.member.join();
    const mine = [...(assignment.get(this.topic) ?? [])].sort((a, b) => a - b);
    const committed = await this.member.committed(this.topic, mine);
    const reset = this.records.settings.autoOffsetReset;
    await Promise.all(
      mine.map(async (p) => {
        const c = committed.get(p);
        if (c !== undefined) {
          this.records.positions.set(p, c.offset);
          return;
        }
        if (reset === 'none') throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `Undefined offset with no reset policy for partitions: [${this.topic}-${p}]`);
        const spec = reset === 'earliest' ? OffsetSpec.EARLIEST : OffsetSpec.LATEST;
        const answer = await this.client.listOffsets(this.topic, p, spec, { isolationLevel: this.records.settings.isolationLevel });
        this.records.positions.set(p, answer.offset ?? answer.oldStyleOffsets?.[0] ?? 0n);
      }),
    );
    this.nextAutoCommit = Date.now() + this.options.autoCommitIntervalMs;
  }

  /** Ends a join in progress (its poll returns nothing); the consumer is then only closed. */
  wakeup(): void {
    this.member.interrupt();
  }

  /** Commits (with auto-commit), leaves the group and closes the coordinator connections. */
  async close(): Promise<void> {
    try {
      if (this.options.autoCommit) await this.commitPositions();
      if (!this.manual) await this.member.leave();
    } finally {
      await this.member.close();
    }
  }
}
