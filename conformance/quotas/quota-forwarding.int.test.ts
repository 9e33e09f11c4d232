// AlterClientQuotas sent to a broker-only node is forwarded to the active controller (on its own
// node), as brokers forward metadata writes; the answer comes once the broker's image has the
// quota, so DescribeClientQuotas on that broker reads it back at once, and again after the broker
// restarts (it replays the metadata log). validateOnly checks without writing.
import { afterAll, describe, expect, it } from 'vitest';
import { startCluster, type StartedCluster } from '../../index.ts';
import { KafkaConnection } from '../../protocol/client/connection.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';

const FAST = {
  'controller.quorum.election.timeout.ms': '500',
  'controller.quorum.fetch.timeout.ms': '1000',
  'controller.quorum.request.timeout.ms': '1000',
  'broker.heartbeat.interval.ms': '300',
  'broker.session.timeout.ms': '3000',
};

let cluster: StartedCluster | undefined;
afterAll(async () => {
  await cluster?.stop();
}, 60_000);

async function connectTo(bootstrap: string): Promise<KafkaConnection> {
  const [host, port] = bootstrap.split(':');
  return KafkaConnection.connect(host!, Number(port), { clientId: 'quota-admin', requestTimeoutMs: 30_000 });
}

const describeAll = async (conn: KafkaConnection) => {
  const r = await conn.send(ApiKey.DescribeClientQuotas, { components: [], strict: false });
  return (r!.entries ?? []).map((e) => ({ entity: e.entity.map((x) => ({ ...x })), values: e.values.map((v) => ({ ...v })) }));
};

describe('AlterClientQuotas through a broker-only node', () => {
  it('is forwarded to the controller, read back on the broker, and kept across its restart', async () => {
    cluster = await startCluster({ brokers: 1, controllers: 1, overrides: FAST });
    const broker = cluster.nodes.find((n) => n.roles.includes('broker'))!;
    expect(broker.roles).toEqual(['broker']);
    let conn = await connectTo(broker.bootstrap!);
    try {
      const entity = [{ entityType: 'user', entityName: 'alice' }, { entityType: 'client-id', entityName: null }];
      const dry = await conn.send(ApiKey.AlterClientQuotas, { entries: [{ entity, ops: [{ key: 'producer_byte_rate', value: 2048, remove: false }] }], validateOnly: true });
      expect(dry!.entries.map((e) => e.errorCode)).toEqual([0]);
      expect(await describeAll(conn)).toEqual([]);
      const bad = await conn.send(ApiKey.AlterClientQuotas, { entries: [{ entity, ops: [{ key: 'bogus', value: 1, remove: false }] }], validateOnly: false });
      expect(bad!.entries[0]!.errorCode).toBe(42);
      const done = await conn.send(ApiKey.AlterClientQuotas, { entries: [{ entity, ops: [{ key: 'producer_byte_rate', value: 2048, remove: false }] }], validateOnly: false });
      expect(done!.entries.map((e) => e.errorCode)).toEqual([0]);
      const expected = [{ entity: [{ entityType: 'client-id', entityName: null }, { entityType: 'user', entityName: 'alice' }], values: [{ key: 'producer_byte_rate', value: 2048 }] }];
      expect(await describeAll(conn)).toEqual(expected);
      await conn.close();
      await broker.restart();
      conn = await connectTo(broker.bootstrap!);
      expect(await describeAll(conn)).toEqual(expected);
    } finally {
      await conn.close();
    }
  }, 240_000);
});
