// `samsa storage format --add-scram` creates the SCRAM users of a new cluster: the broker process
// started on that storage authenticates them (kafkajs, SASL_PLAINTEXT with SCRAM-SHA-256) and
// describes them, before any AlterUserScramCredentials.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerProcess, freePort } from '../harness/broker-process.ts';
import { samsa } from './run-process.ts';

describe('storage format --add-scram', () => {
  let dir: string;
  let broker: BrokerProcess;
  let port: number;
  let saslPort: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'samsa-add-scram-'));
    [port, saslPort] = [await freePort(), await freePort()];
    const controllerPort = await freePort();
    const listeners = `PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:${saslPort},CONTROLLER://127.0.0.1:${controllerPort}`;
    const props = join(dir, 'server.properties');
    await writeFile(
      props,
      [
        'process.roles=broker,controller',
        'node.id=1',
        `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
        `listeners=${listeners}`,
        'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
        'controller.listener.names=CONTROLLER',
        `log.dirs=${join(dir, 'data')}`,
        'sasl.enabled.mechanisms=SCRAM-SHA-256',
      ].join('\n') + '\n',
    );
    const f = await samsa(['storage', 'format', '-t', 'u6sF2VXgR1OtgqJDo5SVkA', '-c', props, '--add-scram', 'SCRAM-SHA-256=[name=grace,password=grace-secret]', '--add-scram', 'SCRAM-SHA-256=[name=heidi,iterations=8192,password=heidi-secret]']);
    expect(f.stderr).toBe('');
    broker = await BrokerProcess.start({
      dataDir: join(dir, 'data'),
      port,
      controllerPort,
      overrides: {
        'listeners': listeners,
        'advertised.listeners': `PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:${saslPort}`,
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
        'inter.broker.listener.name': 'PLAINTEXT',
        'sasl.enabled.mechanisms': 'SCRAM-SHA-256',
      },
    });
  }, 120_000);

  afterAll(async () => {
    await broker?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('describes the users format created', async () => {
    const r = await samsa(['configs', '--bootstrap-server', `127.0.0.1:${port}`, '--describe', '--entity-type', 'users']);
    expect(r.stdout).toBe("SCRAM credential configs for user-principal 'grace' are SCRAM-SHA-256=iterations=4096\nSCRAM credential configs for user-principal 'heidi' are SCRAM-SHA-256=iterations=8192\n");
  }, 60_000);

  it('authenticates them', async () => {
    const kafka = new Kafka({ clientId: 'add-scram', brokers: [`127.0.0.1:${saslPort}`], logLevel: logLevel.NOTHING, sasl: { mechanism: 'scram-sha-256', username: 'heidi', password: 'heidi-secret' }, retry: { retries: 2 } });
    const admin = kafka.admin();
    await admin.connect();
    expect(Array.isArray(await admin.listTopics())).toBe(true);
    await admin.disconnect();
    const wrong = new Kafka({ clientId: 'add-scram', brokers: [`127.0.0.1:${saslPort}`], logLevel: logLevel.NOTHING, sasl: { mechanism: 'scram-sha-256', username: 'grace', password: 'nope' }, retry: { retries: 0 } });
    await expect(wrong.admin().connect()).rejects.toThrow();
  }, 60_000);
});
