// The console over a real in-process broker: the page and its assets are served from the broker
// (nothing referenced from elsewhere), and the JSON API shows the broker, the quorum and a topic
// created with kafkajs, with each partition's leader, replicas and ISR.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type StartedBroker } from '../../index.ts';
import type { ClusterOverview, QuorumState } from './console-api.ts';

describe('console', () => {
  let started: StartedBroker;

  beforeAll(async () => {
    started = await startBroker();
    const admin = new Kafka({ clientId: 'console-test', brokers: [started.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'shown', numPartitions: 3 }] });
    await admin.disconnect();
  }, 60_000);

  afterAll(async () => {
    await started?.stop();
  });

  it('serves the page and its assets, none from elsewhere', async () => {
    const page = await fetch(`${started.http}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs).toEqual(expect.arrayContaining(['/console/style.css', '/console/app.js']));
    for (const ref of refs) expect(ref.startsWith('/')).toBe(true);
    for (const asset of ['/console/app.js', '/console/style.css']) {
      const r = await fetch(`${started.http}${asset}`);
      expect(r.status).toBe(200);
      expect((await r.text()).length).toBeGreaterThan(100);
    }
    const js = await (await fetch(`${started.http}/console/app.js`)).text();
    expect(js).not.toMatch(/https?:\/\//);
  });

  it('/api/cluster shows the broker and the topic with leaders, replicas and ISR', async () => {
    const r = await fetch(`${started.http}/api/cluster`);
    expect(r.status).toBe(200);
    const c = (await r.json()) as ClusterOverview;
    expect(c.clusterId).toBe(started.broker.context.clusterId);
    expect(c.quorum).toMatchObject({ leaderId: 1 });
    expect(c.brokers).toEqual([{ id: 1, endpoints: [`PLAINTEXT://${started.bootstrap}`], rack: null, fenced: false, inControlledShutdown: false }]);
    const t = c.topics.find((x) => x.name === 'shown');
    expect(t).toMatchObject({ internal: false });
    expect(t!.partitions).toEqual([0, 1, 2].map((partition) => ({ partition, leader: 1, replicas: [1], isr: [1] })));
  });

  it('/api/quorum is the leader\'s DescribeQuorum', async () => {
    const r = await fetch(`${started.http}/api/quorum`);
    expect(r.status).toBe(200);
    const q = (await r.json()) as QuorumState;
    expect(q.leaderId).toBe(1);
    expect(q.epoch).toBeGreaterThan(0);
    expect(q.highWatermark).toBeGreaterThan(0);
    expect(q.voters.map((v) => v.id)).toEqual([1]);
    expect(q.voters[0]!.logEndOffset).toBeGreaterThanOrEqual(q.highWatermark);
  });
});
