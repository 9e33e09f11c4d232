// What ApiVersions advertises is what is implemented: every advertised API answers every
// advertised version (a minimal request gets a response, whatever its error codes, and the
// connection stays open), and the table is exactly the router's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type StartedBroker } from '../index.ts';
import { KafkaConnection } from '../protocol/client/connection.ts';
import { API_SPECS, ApiKey } from '../protocol/generated/api-table.ts';

let started: StartedBroker;
let conn: KafkaConnection;

beforeAll(async () => {
  started = await startBroker();
  const [host, port] = started.bootstrap.split(':');
  conn = await KafkaConnection.connect(host!, Number(port), { clientId: 'coverage', requestTimeoutMs: 10_000 });
});

afterAll(async () => {
  await conn?.close();
  await started?.stop();
});

/** The smallest request that a handler must answer rather than drop. */
function minimalRequest(apiKey: number): unknown {
  // Produce defaults to acks=0, which gets no response by design.
  if (apiKey === ApiKey.Produce) return { acks: 1, timeoutMs: 1000, topicData: [] };
  return {};
}

describe('advertised APIs', () => {
  it('are the router\'s table, within each schema\'s stable range', () => {
    const advertised = conn.apiVersions!;
    expect(advertised.size).toBeGreaterThan(3);
    for (const [key, range] of advertised) {
      const spec = API_SPECS[key as ApiKey];
      expect(spec, `api key ${key}`).toBeDefined();
      expect(range.minVersion).toBeGreaterThanOrEqual(spec.minVersion);
      expect(range.maxVersion).toBeLessThanOrEqual(spec.maxStableVersion);
    }
  });

  it('each answer every advertised version', async () => {
    const failures: string[] = [];
    for (const [key, range] of conn.apiVersions!) {
      for (let v = range.minVersion; v <= range.maxVersion; v++) {
        try {
          const res = await conn.send(key as ApiKey, minimalRequest(key) as never, { version: v });
          if (res === null) failures.push(`${API_SPECS[key as ApiKey].name} v${v}: no response`);
        } catch (err) {
          failures.push(`${API_SPECS[key as ApiKey].name} v${v}: ${(err as Error).message}`);
          if (conn.isClosed) {
            const [host, port] = started.bootstrap.split(':');
            conn = await KafkaConnection.connect(host!, Number(port), { clientId: 'coverage', requestTimeoutMs: 10_000 });
          }
        }
      }
    }
    expect(failures).toEqual([]);
  });
});
