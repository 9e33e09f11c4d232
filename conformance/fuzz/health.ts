// The healthy client: one connection of its own that every ~200 ms runs ApiVersions, Metadata,
// Produce (acks 1) and Fetch on its own topic, as a well-behaved client would, and records how
// long each round took. A request unanswered for longer than the limit, or a connection that
// cannot be reopened, is a failure of the broker under test.
// With the secured listeners, every round also sends Metadata over a second connection to the
// SASL_SSL listener, logged in with SCRAM-SHA-512; that connection is opened again (a new TLS
// handshake and login) before its session lifetime ends, and a refused login fails the run.
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { encodeRecordBatch } from '../../protocol/records/record-batch.ts';
import { ScramClient, scramMechanism } from '../../broker/security/scram.ts';
import { type SecureEndpoints, sleep } from './context.ts';
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
  /** Logins of the SASL_SSL connection (the first and each renewal). */
  secureLogins = 0;
  failure: string | undefined;
  private stopped = false;
  private done: Promise<void> | undefined;

  constructor(
    private readonly port: number,
    private readonly limitMs: number,
    private readonly intervalMs = 200,
    private readonly onFailure: (reason: string) => void = () => {},
    private readonly secure?: SecureEndpoints,
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

  /** A SASL_SSL connection logged in with SCRAM-SHA-512, and when to renew it (ms since the epoch). */
  private async secureLogin(): Promise<{ wire: Wire; renewAt: number }> {
    const sec = this.secure!;
    const wire = await Wire.openTls(sec.saslSslPort, sec.tls, this.limitMs);
    try {
      const opts = { timeoutMs: this.limitMs, clientId: 'fz-health-sasl' };
      const hs = await wire.request(ApiKey.SaslHandshake, 1, { mechanism: 'SCRAM-SHA-512' }, opts);
      if (hs?.errorCode !== ErrorCode.NONE) throw new Error(`SASL_SSL handshake refused SCRAM-SHA-512: error ${hs?.errorCode}`);
      const scram = new ScramClient(scramMechanism('SCRAM-SHA-512')!, sec.scramUser.username, sec.scramUser.password);
      const first = await wire.request(ApiKey.SaslAuthenticate, 2, { authBytes: scram.first() }, opts);
      if (first?.errorCode !== ErrorCode.NONE) throw new Error(`SASL_SSL login refused: error ${first?.errorCode} ${first?.errorMessage ?? ''}`);
      const last = await wire.request(ApiKey.SaslAuthenticate, 2, { authBytes: scram.final(first.authBytes) }, opts);
      if (last?.errorCode !== ErrorCode.NONE) throw new Error(`SASL_SSL login refused: error ${last?.errorCode} ${last?.errorMessage ?? ''}`);
      scram.verify(last.authBytes);
      this.secureLogins++;
      // Renewed a little before the session ends, as a client that re-authenticates in time would.
      const lifetime = Number(last.sessionLifetimeMs);
      return { wire, renewAt: lifetime > 0 ? Date.now() + lifetime * 0.8 : Infinity };
    } catch (err) {
      wire.destroy();
      throw err;
    }
  }

  private async loop(): Promise<void> {
    let wire: Wire | undefined;
    let secure: { wire: Wire; renewAt: number } | undefined;
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
        if (this.secure) {
          if (!secure || secure.wire.closed || Date.now() >= secure.renewAt) {
            secure?.wire.destroy();
            secure = undefined;
            secure = await this.secureLogin();
          }
          const smd = await secure.wire.request(ApiKey.Metadata, 9, { topics: [{ name: HEALTH_TOPIC }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, { ...opts, clientId: 'fz-health-sasl' });
          if (smd?.topics[0]?.errorCode !== 0) this.errorAnswers++;
        }
        const took = Date.now() - started;
        if (this.phase === 'during') this.latenciesMs.push(took);
        else this.quietMs[this.phase].push(took);
        this.rounds++;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'WIRE_TIMEOUT') this.fail(`health check unanswered for ${this.limitMs} ms: ${(err as Error).message}`);
        else if (code === 'WIRE_CLOSED') {
          // The broker closed a healthy connection: reopen it; a refused connection fails below.
          if (wire?.closed) wire = undefined;
          if (secure?.wire.closed) secure = undefined;
          this.reconnects++;
          await sleep(50);
          continue;
        } else this.fail(`health check failed: ${(err as Error).message}`);
        break;
      }
      await sleep(Math.max(0, this.intervalMs - (Date.now() - started)));
    }
    wire?.destroy();
    secure?.wire.destroy();
  }
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
