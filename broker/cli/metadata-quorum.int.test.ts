// samsa metadata-quorum and samsa features against a single node started as `npm start` starts
// it: the quorum is that node alone, on its controller listener.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerProcess } from '../../conformance/harness/broker-process.ts';
import type { CommandIo } from './command-io.ts';
import { featuresCommand } from './features.ts';
import { metadataQuorumCommand } from './metadata-quorum.ts';
import type { Command } from 'commander';

let broker: BrokerProcess;

beforeAll(async () => {
  broker = await BrokerProcess.start();
}, 60_000);

afterAll(async () => {
  await broker?.destroy();
});

async function run(make: (io: CommandIo) => Command, args: string[]): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  let code = 0;
  const io: CommandIo = { out: (t) => (out += t), err: (t) => (err += t), fail: (c) => (code = c) };
  await make(io).parseAsync(args, { from: 'user' });
  return { out, err, code };
}

const controller = (): string[] => ['--bootstrap-controller', `127.0.0.1:${broker.controllerPort}`];

describe('samsa metadata-quorum against one node', () => {
  it('describe --replication prints the sole voter as leader, lag 0', async () => {
    const r = await run((io) => metadataQuorumCommand(io), [...controller(), 'describe', '--replication']);
    expect(r.err).toBe('');
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^NodeId\tDirectoryId +\tLogEndOffset\tLag\tLastFetchTimestamp\tLastCaughtUpTimestamp\tStatus\t$/);
    expect(lines[1]).toMatch(/^1 +\t[A-Za-z0-9_-]{22}\t\d+ *\t0  \t-?\d+ *\t\d+ *\tLeader\t$/);
    expect(lines).toHaveLength(3);
  });

  it('describe --replication --human-readable prints times as "N ms ago"', async () => {
    const r = await run((io) => metadataQuorumCommand(io), [...controller(), 'describe', '--replication', '--human-readable']);
    expect(r.err).toBe('');
    expect(r.out.split('\n')[1]).toMatch(/\t\d+ ms ago +\tLeader\t$/);
  });

  it('describe --status prints the summary with the cluster id, from the controller listener and through a broker', async () => {
    const outputs: string[] = [];
    for (const bootstrap of [controller(), ['--bootstrap-server', broker.bootstrap]]) {
      const r = await run((io) => metadataQuorumCommand(io), [...bootstrap, 'describe', '--status']);
      expect(r.err).toBe('');
      const lines = r.out.split('\n');
      expect(lines[0]).toMatch(/^ClusterId: {14}[A-Za-z0-9_-]{22}$/);
      expect(lines.slice(1, 6)).toEqual([
        'LeaderId:               1',
        expect.stringMatching(/^LeaderEpoch: {12}\d+$/),
        expect.stringMatching(/^HighWatermark: {10}\d+$/),
        'MaxFollowerLag:         0',
        'MaxFollowerLagTimeMs:   0',
      ]);
      expect(lines[6]).toMatch(/^CurrentVoters: {10}\[\{"id": 1(, "directoryId": "[A-Za-z0-9_-]{22}")?(, "endpoints": \["CONTROLLER:\/\/127\.0\.0\.1:\d+"\])?\}\]$/);
      expect(lines.slice(7)).toEqual(['CurrentObservers:       []', '']);
      outputs.push(lines[0]!);
    }
    expect(outputs[0]).toBe(outputs[1]);
  });

  it('a server without AddRaftVoter or RemoveRaftVoter gets Kafka\'s exception line, or the request\'s outcome', async () => {
    const r = await run((io) => metadataQuorumCommand(io), [...controller(), 'remove-controller', '--controller-id', '7', '--controller-directory-id', 'K90IZ-0DRNazJ49kCZ1EMQ']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^org\.apache\.kafka\.common\.errors\.\w+Exception: /);
  });

  it('an unreachable address is reported, not thrown', async () => {
    const r = await run((io) => metadataQuorumCommand(io), ['--bootstrap-controller', '127.0.0.1:1', 'describe', '--replication']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^org\.apache\.kafka\.common\.errors\.(NetworkException|TimeoutException): /);
  });
});

describe('samsa features against one node', () => {
  it('describe prints metadata.version at 3.9-IV0 from the broker and from the controller listener', async () => {
    for (const bootstrap of [['--bootstrap-server', broker.bootstrap], controller()]) {
      const r = await run((io) => featuresCommand(io), [...bootstrap, 'describe']);
      expect(r.err).toBe('');
      expect(r.out).toMatch(/^Feature: metadata\.version\tSupportedMinVersion: 3\.\d-IV\d\tSupportedMaxVersion: 3\.9-IV0\tFinalizedVersionLevel: 3\.9-IV0\tEpoch: \d+$/m);
    }
  });

  it('upgrade to the finalized metadata.version succeeds (and --dry-run says it can); a bad level is refused before sending', async () => {
    const B = ['--bootstrap-server', broker.bootstrap];
    expect(await run((io) => featuresCommand(io), [...B, 'upgrade', '--metadata', '3.9-IV0', '--dry-run'])).toEqual({ out: 'metadata.version can be upgraded to 21.\n', err: '', code: 0 });
    expect(await run((io) => featuresCommand(io), [...B, 'upgrade', '--release-version', '3.9'])).toEqual({ out: 'metadata.version was upgraded to 21.\n', err: '', code: 0 });
    const bad = await run((io) => featuresCommand(io), [...B, 'upgrade', '--feature', 'metadata.version']);
    expect(bad).toEqual({ out: '', err: "Can't parse feature=level string metadata.version: equals sign not found.\n", code: 1 });
  });
});
