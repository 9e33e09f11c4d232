import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DescribeQuorumResponse } from '../../protocol/generated/message/describe-quorum-response.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { writeMetaProperties } from '../../storage/meta-properties.ts';
import { bootstrapChoice, describeFailure, javaExceptionName } from './admin-connection.ts';
import { CliError } from './command-io.ts';
import type { CommandIo } from './command-io.ts';
import {
  controllerEndpointsFrom,
  controllerIdFrom,
  describeMode,
  formatReplication,
  formatStatus,
  metadataDirectoryFrom,
  metadataQuorumCommand,
  quorumInfoFrom,
  relativeTimeMs,
  removeControllerArgs,
} from './metadata-quorum.ts';

const DIR1 = 'ILZ5MPTeRWakmJu99uBJCA';
const DIR2 = 'MvDxzVmcRsaTz33bUuRU6A';
const DIR3 = '07R5amHmR32VDA6jHkGbTA';
const DIR4 = 'K90IZ-0DRNazJ49kCZ1EMQ';

function replica(replicaId: number, replicaDirectoryId: string, logEndOffset: bigint, lastFetchTimestamp: bigint, lastCaughtUpTimestamp: bigint) {
  return { replicaId, replicaDirectoryId, logEndOffset, lastFetchTimestamp, lastCaughtUpTimestamp };
}

/** Three voters (2 leads, 3 lags by 7 offsets) and one observer, as a v2 answer. */
function threeVoters(): DescribeQuorumResponse {
  return {
    errorCode: 0,
    errorMessage: null,
    topics: [
      {
        topicName: '__cluster_metadata',
        partitions: [
          {
            partitionIndex: 0,
            errorCode: 0,
            errorMessage: null,
            leaderId: 2,
            leaderEpoch: 5,
            highWatermark: 120n,
            currentVoters: [
              replica(1, DIR1, 120n, 1_700_000_000_900n, 1_700_000_000_900n),
              replica(2, DIR2, 125n, -1n, 1_700_000_001_000n),
              replica(3, DIR3, 118n, 1_700_000_000_950n, 1_700_000_000_400n),
            ],
            observers: [replica(4, DIR4, 100n, 1_700_000_000_990n, -1n)],
          },
        ],
      },
    ],
    nodes: [
      { nodeId: 1, listeners: [{ name: 'CONTROLLER', host: '127.0.0.1', port: 9093 }] },
      { nodeId: 2, listeners: [{ name: 'CONTROLLER', host: '127.0.0.1', port: 9095 }] },
      { nodeId: 3, listeners: [{ name: 'CONTROLLER', host: '::1', port: 9097 }] },
    ],
  };
}

describe('describe --status', () => {
  it('prints MetadataQuorumCommand\'s lines: the largest voter lag in offsets and in time, voters and observers with directory ids and endpoints', () => {
    expect(formatStatus('fMCL8kv1SWm87L_Md-I2hg', quorumInfoFrom(threeVoters()))).toBe(
      'ClusterId:              fMCL8kv1SWm87L_Md-I2hg\n' +
        'LeaderId:               2\n' +
        'LeaderEpoch:            5\n' +
        'HighWatermark:          120\n' +
        'MaxFollowerLag:         7\n' +
        'MaxFollowerLagTimeMs:   600\n' +
        `CurrentVoters:          [{"id": 1, "directoryId": "${DIR1}", "endpoints": ["CONTROLLER://127.0.0.1:9093"]}, ` +
        `{"id": 2, "directoryId": "${DIR2}", "endpoints": ["CONTROLLER://127.0.0.1:9095"]}, ` +
        `{"id": 3, "directoryId": "${DIR3}", "endpoints": ["CONTROLLER://[::1]:9097"]}]\n` +
        `CurrentObservers:       [{"id": 4, "directoryId": "${DIR4}"}]\n`,
    );
  });

  it('a sole voter lags 0; a v0/v1 answer (no directory ids, no nodes) prints bare ids', () => {
    const r = threeVoters();
    const p = r.topics[0]!.partitions[0]!;
    p.leaderId = 1;
    p.currentVoters = [{ replicaId: 1, logEndOffset: 9n, lastFetchTimestamp: -1n, lastCaughtUpTimestamp: 5n }];
    p.observers = [];
    delete r.nodes;
    expect(formatStatus('c', quorumInfoFrom(r)).split('\n').slice(4)).toEqual([
      'MaxFollowerLag:         0',
      'MaxFollowerLagTimeMs:   0',
      'CurrentVoters:          [{"id": 1}]',
      'CurrentObservers:       []',
      '',
    ]);
  });

  it('a lagging voter without a caught-up time gives MaxFollowerLagTimeMs -1', () => {
    const r = threeVoters();
    r.topics[0]!.partitions[0]!.currentVoters[2]!.lastCaughtUpTimestamp = -1n;
    expect(formatStatus('c', quorumInfoFrom(r))).toContain('MaxFollowerLagTimeMs:   -1\n');
  });

  it('errors in the answer become Kafka\'s exceptions', () => {
    const top = { ...threeVoters(), errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED };
    expect(() => quorumInfoFrom(top)).toThrow(KafkaError);
    const r = threeVoters();
    r.topics[0]!.partitions[0]!.errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER;
    let caught: unknown;
    try {
      quorumInfoFrom(r);
    } catch (e) {
      caught = e;
    }
    expect(describeFailure(caught as KafkaError)).toMatch(/^org\.apache\.kafka\.common\.errors\.NotLeaderOrFollowerException: /);
  });
});

describe('describe --replication', () => {
  it('prints the table leader first, then followers, then observers, padded and tab-separated as Kafka\'s tools print', () => {
    expect(formatReplication(quorumInfoFrom(threeVoters()), false)).toBe(
      'NodeId\tDirectoryId           \tLogEndOffset\tLag\tLastFetchTimestamp\tLastCaughtUpTimestamp\tStatus  \t\n' +
        `2     \t${DIR2}\t125         \t0  \t-1                \t1700000001000        \tLeader  \t\n` +
        `1     \t${DIR1}\t120         \t5  \t1700000000900     \t1700000000900        \tFollower\t\n` +
        `3     \t${DIR3}\t118         \t7  \t1700000000950     \t1700000000400        \tFollower\t\n` +
        `4     \t${DIR4}\t100         \t25 \t1700000000990     \t-1                   \tObserver\t\n`,
    );
  });

  it('--human-readable prints times as "N ms ago" from now, and refuses a timestamp from the future', () => {
    const text = formatReplication(quorumInfoFrom(threeVoters()), true, 1_700_000_002_000);
    expect(text.split('\n')[1]).toBe(`2     \t${DIR2}\t125         \t0  \t-1                \t1000 ms ago          \tLeader  \t`);
    expect(text.split('\n')[4]).toContain('\t1010 ms ago       \t-1                   \tObserver\t');
    expect(() => relativeTimeMs(10n, 'last fetch', 5)).toThrow(
      'Error while computing relative time, possible drift in system clock.\nCurrent timestamp is 5, last fetch timestamp is 10',
    );
  });
});

describe('option checks', () => {
  it('describe needs exactly one of --status and --replication, --human-readable only with --replication', () => {
    expect(describeMode({ status: true })).toBe('status');
    expect(describeMode({ replication: true, humanReadable: true })).toBe('replication');
    expect(() => describeMode({})).toThrow('One of --status or --replication must be specified with describe sub-command');
    expect(() => describeMode({ status: true, replication: true })).toThrow('Only one of --status or --replication should be specified with describe sub-command');
    expect(() => describeMode({ status: true, humanReadable: true })).toThrow('The option --human-readable is only supported along with --replication');
  });

  it('exactly one of --bootstrap-server and --bootstrap-controller', () => {
    expect(bootstrapChoice({ bootstrapController: 'a:1, b:2' })).toEqual({ kind: 'controller', addresses: ['a:1', 'b:2'] });
    expect(bootstrapChoice({ bootstrapServer: 'a:1' })).toEqual({ kind: 'server', addresses: ['a:1'] });
    expect(() => bootstrapChoice({})).toThrow('one of the arguments --bootstrap-server --bootstrap-controller is required');
    expect(() => bootstrapChoice({ bootstrapServer: 'a:1', bootstrapController: 'b:2' })).toThrow('argument --bootstrap-controller: not allowed with argument --bootstrap-server');
    expect(() => bootstrapChoice({ bootstrapServer: 'nohost' })).toThrow('Invalid url in bootstrap.servers: nohost');
  });

  it('remove-controller checks its id and directory id as Kafka does', () => {
    expect(removeControllerArgs({ controllerId: '3', controllerDirectoryId: DIR3 })).toEqual({ controllerId: 3, directoryId: DIR3 });
    expect(() => removeControllerArgs({ controllerDirectoryId: DIR3 })).toThrow('argument --controller-id/-i is required');
    expect(() => removeControllerArgs({ controllerId: '3' })).toThrow('argument --controller-directory-id/-d is required');
    expect(() => removeControllerArgs({ controllerId: '-1', controllerDirectoryId: DIR3 })).toThrow('Invalid negative --controller-id: -1');
    expect(() => removeControllerArgs({ controllerId: 'x', controllerDirectoryId: DIR3 })).toThrow("argument --controller-id/-i: could not convert 'x' to Integer");
    expect(() => removeControllerArgs({ controllerId: '3', controllerDirectoryId: 'nope' })).toThrow(/^Failed to parse --controller-directory-id: /);
  });

  it('names Kafka\'s exception classes from error names', () => {
    expect(javaExceptionName('UNSUPPORTED_VERSION')).toBe('UnsupportedVersionException');
    expect(javaExceptionName('INVALID_TOPIC_EXCEPTION')).toBe('InvalidTopicException');
  });
});

describe('add-controller reads the controller\'s properties', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'samsa-mq-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const controller = (extra: Record<string, string> = {}): Record<string, string> => ({
    'process.roles': 'controller',
    'node.id': '4',
    listeners: 'CONTROLLER://:9099',
    'advertised.listeners': 'CONTROLLER://c4.example:9099',
    'controller.listener.names': 'CONTROLLER',
    'log.dirs': `${root}/a,${root}/b`,
    ...extra,
  });

  it('takes node.id, the metadata directory, and the advertised controller endpoints', () => {
    expect(controllerIdFrom(controller())).toBe(4);
    expect(metadataDirectoryFrom(controller())).toBe(`${root}/a`);
    expect(metadataDirectoryFrom(controller({ 'metadata.log.dir': '/m' }))).toBe('/m');
    expect(controllerEndpointsFrom(controller())).toEqual([{ listener: 'CONTROLLER', host: 'c4.example', port: 9099 }]);
    expect(controllerEndpointsFrom(controller({ 'advertised.listeners': '' }))).toEqual([{ listener: 'CONTROLLER', host: 'localhost', port: 9099 }]);
  });

  it('refuses what is not a controller\'s configuration with Kafka\'s messages', () => {
    expect(() => controllerIdFrom({})).toThrow('node.id not found in configuration file. Is this a valid controller configuration file?');
    expect(() => controllerIdFrom(controller({ 'node.id': '-2' }))).toThrow('node.id was negative in configuration file. Is this a valid controller configuration file?');
    expect(() => controllerIdFrom(controller({ 'process.roles': 'broker' }))).toThrow("process.roles did not contain 'controller' in configuration file. Is this a valid controller configuration file?");
    expect(() => metadataDirectoryFrom({})).toThrow('Neither metadata.log.dir nor log.dirs were found. Is this a valid controller configuration file?');
    const noNames = controller();
    delete noNames['controller.listener.names'];
    expect(() => controllerEndpointsFrom(noNames)).toThrow('controller.listener.names was not found. Is this a valid controller configuration file?');
    expect(() => controllerEndpointsFrom(controller({ 'controller.listener.names': 'CTRL' }))).toThrow('Cannot find information about controller listener name: CTRL');
  });

  async function runCommand(args: string[]): Promise<{ out: string; err: string; code: number }> {
    let out = '';
    let err = '';
    let code = 0;
    const io: CommandIo = { out: (t) => (out += t), err: (t) => (err += t), fail: (c) => (code = c) };
    await metadataQuorumCommand(io).parseAsync(args, { from: 'user' });
    return { out, err, code };
  }

  it('--dry-run prints what would be added without connecting; a missing --command-config is refused', async () => {
    const file = join(root, 'controller.properties');
    await writeFile(file, Object.entries(controller()).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    expect(await runCommand(['--bootstrap-controller', '127.0.0.1:1', '--command-config', file, 'add-controller', '--dry-run'])).toEqual({
      out: '',
      err: `Unable to read meta.properties from ${root}/a\n`,
      code: 1,
    });
    await writeMetaProperties(join(root, 'a'), { version: 1, clusterId: 'MkU3OEVBNTcwNTJENDM2Qg', nodeId: 4, directoryId: DIR4 });
    expect(await runCommand(['--bootstrap-controller', '127.0.0.1:1', '--command-config', file, 'add-controller', '--dry-run'])).toEqual({
      out: `DRY RUN of adding controller 4 with directory id ${DIR4} and endpoints: CONTROLLER://c4.example:9099\n`,
      err: '',
      code: 0,
    });
    expect(await runCommand(['--bootstrap-controller', '127.0.0.1:1', 'add-controller'])).toEqual({
      out: '',
      err: 'You must supply the configuration file of the controller you are adding when using add-controller.\n',
      code: 1,
    });
    expect((await runCommand(['--bootstrap-controller', '127.0.0.1:1', '--command-config', join(root, 'none'), 'add-controller'])).err).toBe(
      `Properties file ${join(root, 'none')} does not exist.\n`,
    );
    expect(await runCommand(['--bootstrap-controller', '127.0.0.1:1', 'remove-controller', '-i', '4', '-d', DIR4, '--dry-run'])).toEqual({
      out: `DRY RUN of removing  KRaft controller 4 with directory id ${DIR4}\n`,
      err: '',
      code: 0,
    });
  });

  it('CliError is the type of every refusal', () => {
    expect(() => describeMode({})).toThrow(CliError);
  });
});
