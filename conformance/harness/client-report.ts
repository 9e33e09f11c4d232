// Registers a client's conformance checks as vitest tests and records each outcome, so the
// matrix in conformance/README.md is rendered from what actually ran (write-matrix.ts).
// Invariants:
// - One result file per client, matrix and target, `<os tmpdir>/samsa-conformance/<client>.json`
//   (prefixed `groups-` for the group scenarios, `cluster-` for the three-node cluster runs),
//   rewritten whole after every outcome; a run of a client's test file starts it afresh.
// - A check the broker cannot serve yet (an API it does not advertise) is skipped at run time
//   with the reason, never silently passed; a check the client has no feature for is "n/a".
// - An expected failure (`knownBrokerBug`) names its entry in FINDINGS.md and runs as `it.fails`,
//   so vitest reports it once the broker is fixed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'vitest';
import { API_SPECS, type ApiKey } from '../../protocol/generated/api-table.ts';
import { KafkaConnection } from '../../protocol/client/connection.ts';
import { parseHostPort } from '../../protocol/client/client.ts';
import { checksOf, type AnyCheckId, type MatrixKind } from './checks.ts';
import { RESULTS_DIR, type ClientResults, type Outcome } from './results.ts';
import type { TargetKind } from './target.ts';

export interface CheckOptions {
  /** APIs the check needs the broker to advertise; missing ones skip it with their names. */
  requires?: readonly ApiKey[];
  /** A caveat shown with a pass, e.g. what the client could not be checked for. */
  passNote?: string;
  /** Why the client needs those APIs, when it is not obvious. */
  requiresWhy?: string;
  /** A FINDINGS.md id (e.g. "F1"): the check is a known broker bug and runs as `it.fails`. */
  knownBrokerBug?: string;
  /** Asked when the check runs: a reason to skip it (something it needs is missing), or undefined. */
  unavailable?: () => Promise<string | undefined>;
  timeoutMs?: number;
}

export class ClientReport {
  readonly data: ClientResults;
  /** API key -> max version the broker advertises; set by probe(). */
  private advertised: Map<number, number> | undefined;

  constructor(client: string, title: string, matrix: MatrixKind = 'clients', target: TargetKind = 'broker') {
    this.data = {
      client,
      ...(matrix === 'clients' ? {} : { matrix }),
      ...(target === 'broker' ? {} : { target }),
      title,
      version: 'unknown',
      results: [],
    };
    this.flush();
  }

  get file(): string {
    return join(RESULTS_DIR, `${this.data.matrix === 'groups' ? 'groups-' : ''}${this.data.target === 'cluster' ? 'cluster-' : ''}${this.data.client}.json`);
  }

  setVersion(version: string): void {
    this.data.version = version;
    this.flush();
  }

  /** Learns which APIs the broker advertises, for `requires`. */
  async probe(bootstrap: string): Promise<void> {
    const { host, port } = parseHostPort(bootstrap.split(',')[0]!);
    const conn = await KafkaConnection.connect(host, port, { clientId: 'conformance-probe' });
    try {
      this.advertised = new Map([...(conn.apiVersions ?? new Map()).entries()].map(([k, r]) => [k, r.maxVersion]));
    } finally {
      await conn.close();
    }
  }

  advertises(api: ApiKey): boolean {
    return this.advertised?.has(api) ?? false;
  }

  /** Registers one check as a test. */
  check(id: AnyCheckId, title: string, fn: (ctx: TestContext) => Promise<void>, options: CheckOptions = {}): void {
    const name = `${id}: ${title}`;
    const timeout = options.timeoutMs ?? 60_000;
    const body = async (ctx: TestContext): Promise<void> => {
      const missing = (options.requires ?? []).filter((api) => !this.advertises(api)).map((api) => API_SPECS[api].name);
      if (missing.length > 0) {
        const reason = `broker does not advertise ${missing.join(', ')}${options.requiresWhy ? ` (${options.requiresWhy})` : ''}`;
        console.warn(`[conformance] ${this.data.title} ${id} skipped: ${reason}`);
        this.record(id, 'skip', reason);
        ctx.skip(reason);
      }
      const unavailable = await options.unavailable?.();
      if (unavailable !== undefined) {
        console.warn(`[conformance] ${this.data.title} ${id} skipped: ${unavailable}`);
        this.record(id, 'skip', unavailable);
        ctx.skip(unavailable);
      }
      try {
        // Fails a little before vitest's own timeout, so the result file says what happened.
        await within(fn(ctx), timeout - 1000);
      } catch (err) {
        if (options.knownBrokerBug) this.record(id, 'expected-fail', `known broker bug ${options.knownBrokerBug}`);
        else this.record(id, 'fail', firstLine(err));
        throw err;
      }
      this.record(id, 'pass', options.passNote);
    };
    if (options.knownBrokerBug) it.fails(`${name} [expected to fail: ${options.knownBrokerBug}]`, body, timeout);
    else it(name, body, timeout);
  }

  /** The client has no feature for this check. */
  notApplicable(id: AnyCheckId, reason: string): void {
    this.record(id, 'n/a', reason);
  }

  /** A check not driven for this client yet: a visible skip with the reason in its title. */
  pending(id: AnyCheckId, name: string, reason: string): void {
    this.record(id, 'skip', reason);
    it.skip(`${name} — skipped: ${reason}`, () => undefined);
  }

  /** The client cannot run here at all: every check is skipped, visibly. */
  unavailable(reason: string): void {
    console.warn(`[conformance] ${this.data.title} skipped: ${reason}`);
    for (const c of checksOf(this.data.matrix ?? 'clients')) if (!this.data.results.some((r) => r.check === c.id)) this.record(c.id, 'skip', reason);
    describe.skip(`${this.data.title}${this.data.target === 'cluster' ? ' (three-node cluster)' : ''} — skipped: ${reason}`, () => {
      it('all checks', () => undefined);
    });
  }

  private record(check: AnyCheckId, outcome: Outcome, note?: string): void {
    this.data.results = this.data.results.filter((r) => r.check !== check);
    this.data.results.push(note === undefined ? { check, outcome } : { check, outcome, note });
    this.flush();
  }

  private flush(): void {
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(this.file, JSON.stringify(this.data, null, 2) + '\n');
  }
}

function within<T>(work: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`did not finish within ${ms} ms`)), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const line = text.split('\n').find((l) => l.trim() !== '') ?? text;
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}
