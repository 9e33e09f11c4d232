// SIGTERM on a broker process with clients still connected: it stops accepting, answers what is
// in flight, closes the connections, leaves the clean-shutdown marker and exits 0 by itself.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BrokerProcess } from '../conformance/harness/broker-process.ts';
import { KafkaClient } from '../protocol/client/client.ts';
import { encodeRecordBatch } from '../protocol/records/record-batch.ts';

describe('graceful shutdown', () => {
  it('exits 0 on SIGTERM with idle and busy clients connected, and restarts without a scan', async () => {
    const broker = await BrokerProcess.start();
    const idle = new KafkaClient({ bootstrapServers: [broker.bootstrap], clientId: 'idle' });
    const busy = new KafkaClient({ bootstrapServers: [broker.bootstrap], clientId: 'busy', retries: 0 });
    try {
      await idle.connect();
      await busy.connect();
      await busy.metadata(['t'], { allowAutoTopicCreation: true });
      const batch = encodeRecordBatch({ baseTimestamp: BigInt(Date.now()), records: [{ offsetDelta: 0, timestampDelta: 0, key: null, value: Buffer.from('v') }] });
      expect((await busy.produce('t', 0, batch, { acks: 1 }))!.errorCode).toBe(0);
      // A long poll in flight must not hold the shutdown up.
      const polling = busy.fetch('t', 0, 1n, { maxWaitMs: 30_000, minBytes: 1 }).catch(() => undefined);
      const code = await broker.stop('SIGTERM', 15_000);
      await polling;
      expect(code).toBe(0);
      expect(existsSync(join(broker.dataDir, '.kafka_cleanshutdown'))).toBe(true);
      await broker.launch();
      expect(broker.logs).toMatch(/"hadCleanShutdown":true/);
    } finally {
      await idle.close();
      await busy.close();
      await broker.destroy();
    }
  });
});
