// The healthy client: one connection of its own that every ~200 ms runs ApiVersions, Metadata,
// Produce (acks 1) and Fetch on its own topic, as a well-behaved client would, and records how
// long each round took. A request unanswered for longer than the limit, or a connection that
// cannot be reopened, is a failure of the broker under test.
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { encodeRecordBatch } from '../../protocol/records/record-batch.ts';
import { sleep } from './context.ts';
import { Wire } from './wire.ts';

export const HEALTH_TOPIC = 'fz-health';

export type HealthPhase = 'before' | 'during' | 'after';

export class HealthCheck {
  /** Round latencies while the fuzz lanes run. */
  readonly latenciesMs: number[] = [];
  /** Round latencies with no fuzz traffic, just before the lanes start and just after they stop. */
  readonly quietMs: Record<'before' | 'after', number[]> = { before: [], after: [] };
  phase: HealthPhase = 'before';
  rounds = 0;
  /** Answers with an error code (not failures: counted for the summary). */
  errorAnswers = 0;
  /** Times the broker closed the healthy connection (it is reopened; a refusal fails the run). */
  reconnects = 0;
  failure: string | undefined;
  private stopped = false;
  private done: Promise<void> | undefined;

  constructor(
    private readonly port: number,
    private readonly limitMs: number,
    private readonly intervalMs = 200,
    private readonly onFailure: (reason: string) => void = () => {},
  ) {}

  start(): void {
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  private fail(reason: string): void {
    if (this.failure) return;
    this.failure = reason;
    this.onFailure(reason);
  }

  private async loop(): Promise<void> {
    let wire: Wire | undefined;
    let offset = 0n;
    while (!this.stopped && !this.failure) {
      const started = Date.now();
      try {
        if (!wire || wire.closed) {
          wire?.destroy();
          wire = await Wire.open(this.port, this.limitMs);
        }
        const opts = { timeoutMs: this.limitMs, clientId: 'fz-health' };
        await wire.request(ApiKey.ApiVersions, 3, { clientSoftwareName: 'samsa-fuzz', clientSoftwareVersion: '1' }, opts);
        const md = await wire.request(ApiKey.Metadata, 9, { topics: [{ name: HEALTH_TOPIC }], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false }, opts);
        if (md?.topics[0]?.errorCode !== 0) this.errorAnswers++;
        const records = encodeRecordBatch({ baseTimestamp: BigInt(Date.now()), records: [{ offsetDelta: 0, timestampDelta: 0, key: null, value: Buffer.from(`round ${this.rounds}`) }] });
        const pr = await wire.request(ApiKey.Produce, 9, { transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{ name: HEALTH_TOPIC, partitionData: [{ index: 0, records }] }] }, opts);
        if (pr?.responses[0]?.partitionResponses[0]?.errorCode !== 0) this.errorAnswers++;
        const fr = await wire.request(ApiKey.Fetch, 11, {
          replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
          topics: [{ topic: HEALTH_TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }],
          forgottenTopicsData: [], rackId: '',
        }, opts);
        const p = fr?.responses[0]?.partitions[0];
        if (!p || p.errorCode !== 0) this.errorAnswers++;
        else offset = p.highWatermark;
        const took = Date.now() - started;
        if (this.phase === 'during') this.latenciesMs.push(took);
        else this.quietMs[this.phase].push(took);
        this.rounds++;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'WIRE_TIMEOUT') this.fail(`health check unanswered for ${this.limitMs} ms: ${(err as Error).message}`);
        else if (code === 'WIRE_CLOSED') {
          // The broker closed the healthy connection: reopen once; a refused connection fails below.
          wire = undefined;
          this.reconnects++;
          await sleep(50);
          continue;
        } else this.fail(`health check failed: ${(err as Error).message}`);
        break;
      }
      await sleep(Math.max(0, this.intervalMs - (Date.now() - started)));
    }
    wire?.destroy();
  }
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
