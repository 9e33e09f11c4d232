import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBrokerConfig } from '../config/broker-config.ts';
import type { BrokerConfig } from '../config/broker-config.ts';
import { uuidToBytes, randomUuid } from '../../protocol/uuid.ts';
import { FormatterError, formatDynamicVoter, formatStorage, loadMetaPropertiesEnsemble, parseDynamicVoters, readMetaProperties, storageCommand } from './storage.ts';
import { MetaPropertiesError, parseMetaProperties, writeMetaProperties } from '../../storage/meta-properties.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'samsa-storage-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function props(extra: Record<string, string> = {}): Record<string, string> {
  return {
    'process.roles': 'broker,controller',
    'node.id': '3',
    'controller.quorum.voters': '3@localhost:9093',
    'listeners': 'PLAINTEXT://:9092,CONTROLLER://:9093',
    'controller.listener.names': 'CONTROLLER',
    'log.dirs': `${join(root, 'a')},${join(root, 'b')}`,
    'metadata.log.dir': join(root, 'meta'),
    ...extra,
  };
}
const config = (extra: Record<string, string> = {}): BrokerConfig => parseBrokerConfig(props(extra));

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('formatStorage', () => {
  it('writes Kafka\'s KRaft meta.properties into every log dir and the metadata dir', async () => {
    const lines: string[] = [];
    const clusterId = randomUuid();
    const result = await formatStorage(config(), clusterId, { out: (l) => lines.push(l), now: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)) });
    expect(result.formatted.map((f) => f.dir)).toEqual([join(root, 'a'), join(root, 'b'), join(root, 'meta')]);
    expect(lines).toEqual([
      `Formatting data directory ${join(root, 'a')} with metadata.version 3.9-IV0.`,
      `Formatting data directory ${join(root, 'b')} with metadata.version 3.9-IV0.`,
      `Formatting metadata directory ${join(root, 'meta')} with metadata.version 3.9-IV0.`,
    ]);
    const text = await readFile(join(root, 'a', 'meta.properties'), 'utf8');
    const directoryId = result.formatted[0]!.directoryId;
    expect(text).toBe(`#\n#Tue Jan 02 03:04:05 UTC 2024\ncluster.id=${clusterId}\ndirectory.id=${directoryId}\nnode.id=3\nversion=1\n`);
    expect(uuidToBytes(directoryId)).toHaveLength(16);
    expect(new Set(result.formatted.map((f) => f.directoryId)).size).toBe(3);
    // A static quorum needs no bootstrap checkpoint.
    expect(existsSync(join(root, 'meta', '__cluster_metadata-0'))).toBe(false);
    expect(await readMetaProperties(join(root, 'meta'))).toEqual({ version: 1, clusterId, nodeId: 3, directoryId: result.formatted[2]!.directoryId });
    const ensemble = await loadMetaPropertiesEnsemble(config());
    expect(ensemble.clusterId).toBe(clusterId);
    expect([...ensemble.dirs.values()].every((m) => m !== null)).toBe(true);
  });

  it('refuses to reformat with Kafka\'s message, and --ignore-formatted formats only the rest', async () => {
    const clusterId = randomUuid();
    await formatStorage(parseBrokerConfig(props({ 'log.dirs': join(root, 'a') })), clusterId);
    const before = await readFile(join(root, 'a', 'meta.properties'), 'utf8');
    const err = await rejection(formatStorage(config(), clusterId));
    expect(err).toBeInstanceOf(FormatterError);
    expect(err.message).toBe(`Log directory ${join(root, 'a')} is already formatted. Use --ignore-formatted to ignore this directory and format the others.`);
    expect(await readMetaProperties(join(root, 'b'))).toBeNull();

    const result = await formatStorage(config(), clusterId, { ignoreFormatted: true });
    // The first run formatted the metadata dir too.
    expect(result.skipped).toEqual([join(root, 'a'), join(root, 'meta')]);
    expect(result.formatted.map((f) => f.dir)).toEqual([join(root, 'b')]);
    expect(await readFile(join(root, 'a', 'meta.properties'), 'utf8')).toBe(before);

    await rm(join(root, 'b'), { recursive: true });
    expect((await rejection(formatStorage(config(), randomUuid(), { ignoreFormatted: true }))).message).toContain('Invalid cluster.id in:');
    expect((await rejection(formatStorage(config({ 'node.id': '4', 'controller.quorum.voters': '4@localhost:9093' }), clusterId, { ignoreFormatted: true }))).message).toContain("Stored node id 3 doesn't match previous node id 4");
    expect(await readMetaProperties(join(root, 'b'))).toBeNull();
    await formatStorage(config(), clusterId, { ignoreFormatted: true });

    const lines: string[] = [];
    const again = await formatStorage(config(), clusterId, { ignoreFormatted: true, out: (l) => lines.push(l) });
    expect(again.formatted).toEqual([]);
    expect(lines).toEqual(['All of the log directories are already formatted.']);
  });

  it('counts a damaged meta.properties as formatted', async () => {
    await mkdir(join(root, 'a'), { recursive: true });
    await writeFile(join(root, 'a', 'meta.properties'), 'version=7\n');
    expect((await rejection(formatStorage(config(), randomUuid()))).message).toContain('is already formatted');
  });

  it('rejects a cluster id that is not a Kafka UUID', async () => {
    expect((await rejection(formatStorage(config(), 'not-a-uuid'))).message).toContain('Cluster ID string not-a-uuid does not appear to be a valid UUID');
    expect(await readMetaProperties(join(root, 'a'))).toBeNull();
  });

  it('checks --standalone and dynamic quorum flags as Kafka', async () => {
    const staticQuorum = 'You cannot specify controller.quorum.voters and format the node with --initial-controllers or --standalone. If you want to use dynamic quorum, please remove controller.quorum.voters and specify controller.quorum.bootstrap.servers instead.';
    expect((await rejection(formatStorage(config(), randomUuid(), { standalone: true }))).message).toBe(staticQuorum);
    expect((await rejection(formatStorage(config(), randomUuid(), { initialControllers: `3@localhost:9093:${randomUuid()}` }))).message).toBe(staticQuorum);
    const dynamic = { 'controller.quorum.voters': '', 'controller.quorum.bootstrap.servers': 'localhost:9093' };
    expect((await rejection(formatStorage(config(dynamic), randomUuid()))).message).toBe(
      'Because controller.quorum.voters is not set on this controller, you must specify one of the following: --standalone, --initial-controllers, or --no-initial-controllers.',
    );
    expect((await rejection(formatStorage(config(dynamic), randomUuid(), { standalone: true, noInitialControllers: true }))).message).toBe(
      'argument --no-initial-controllers/-N: not allowed with argument --standalone/-s',
    );
    const broker = config({ ...dynamic, 'process.roles': 'broker', listeners: 'PLAINTEXT://:9092' });
    expect((await rejection(formatStorage(broker, randomUuid(), { standalone: true }))).message).toBe('You can only use --standalone on a controller.');
    // A broker of a dynamic quorum, and --no-initial-controllers anywhere, need no voters.
    expect((await formatStorage(broker, randomUuid())).initialVoters).toBeUndefined();
  });

  it('--standalone makes this controller the only initial voter, its metadata directory a voter directory', async () => {
    const lines: string[] = [];
    const dynamic = config({ 'controller.quorum.voters': '', 'controller.quorum.bootstrap.servers': 'localhost:9093' });
    const result = await formatStorage(dynamic, randomUuid(), { standalone: true, out: (l) => lines.push(l) });
    expect(result.formatted).toHaveLength(3);
    expect(result.initialVoters).toEqual([{ nodeId: 3, host: 'localhost', port: 9093, directoryId: result.formatted[2]!.directoryId }]);
    expect(formatDynamicVoter(result.initialVoters![0]!)).toBe(`3@localhost:9093:${result.formatted[2]!.directoryId}`);
    expect(lines[2]).toBe(`Formatting dynamic metadata voter directory ${join(root, 'meta')} with metadata.version 3.9-IV0.`);
    // The voter set goes into the metadata directory's bootstrap checkpoint, as Kafka writes it.
    expect(existsSync(join(root, 'meta', '__cluster_metadata-0', '00000000000000000000-0000000000.checkpoint'))).toBe(true);
    expect(existsSync(join(root, 'a', '__cluster_metadata-0'))).toBe(false);
  });

  it('--initial-controllers gives the metadata directory its own entry\'s directory id', async () => {
    const dynamic = config({ 'controller.quorum.voters': '', 'controller.quorum.bootstrap.servers': 'localhost:9093' });
    const [d1, d3] = ['K90IZ-0DRNazJ49kCZ1EMQ', '2ggvsS4kQb-fSJ_-zC_Ang'];
    const voters = `1@localhost:8020:${d1},3@[::1]:8030:${d3}`;
    const lines: string[] = [];
    const clusterId = randomUuid();
    const result = await formatStorage(dynamic, clusterId, { initialControllers: voters, out: (l) => lines.push(l) });
    expect(result.initialVoters).toEqual([
      { nodeId: 1, host: 'localhost', port: 8020, directoryId: d1 },
      { nodeId: 3, host: '::1', port: 8030, directoryId: d3 },
    ]);
    expect((await readMetaProperties(join(root, 'meta')))!.directoryId).toBe(d3);
    expect((await readMetaProperties(join(root, 'a')))!.directoryId).not.toBe(d3);
    expect(lines[2]).toBe(`Formatting dynamic metadata voter directory ${join(root, 'meta')} with metadata.version 3.9-IV0.`);
    // Formatting the rest again must not contradict the metadata directory's id.
    await rm(join(root, 'b'), { recursive: true });
    const other = `1@localhost:8020:${d1},3@localhost:8030:${randomUuid()}`;
    expect((await rejection(formatStorage(dynamic, clusterId, { initialControllers: other, ignoreFormatted: true }))).message).toContain(
      `The metadata directory ${join(root, 'meta')} has directory id ${d3}`,
    );
    // A controller outside the initial voters formats a dynamic (non-voter) metadata directory.
    const outside: string[] = [];
    const four = config({ 'node.id': '4', 'controller.quorum.voters': '', 'controller.quorum.bootstrap.servers': 'localhost:9093', 'log.dirs': join(root, 'x'), 'metadata.log.dir': join(root, 'y') });
    await formatStorage(four, clusterId, { initialControllers: voters, out: (l) => outside.push(l) });
    expect(outside[1]).toBe(`Formatting dynamic metadata directory ${join(root, 'y')} with metadata.version 3.9-IV0.`);
  });

  it('parses --initial-controllers with Kafka\'s DynamicVoter messages', () => {
    const bad: [string, string][] = [
      ['', 'No voters given.'],
      ['1localhost:8020:K90IZ-0DRNazJ49kCZ1EMQ', 'No @ found in dynamic voter string.'],
      ['@localhost:8020:K90IZ-0DRNazJ49kCZ1EMQ', 'Invalid @ at beginning of dynamic voter string.'],
      ['x@localhost:8020:K90IZ-0DRNazJ49kCZ1EMQ', 'Failed to parse node id in dynamic voter string.'],
      ['-1@localhost:8020:K90IZ-0DRNazJ49kCZ1EMQ', 'Invalid negative node id -1 in dynamic voter string.'],
      ['1@', 'No hostname found after node id.'],
      ['1@[::1:8020:K90IZ-0DRNazJ49kCZ1EMQ', 'Hostname began with left bracket, but no right bracket was found.'],
      ['1@localhost8020K90IZ-0DRNazJ49kCZ1EMQ', 'No colon following hostname could be found.'],
      ['1@[::1]8020:K90IZ-0DRNazJ49kCZ1EMQ', 'Port section must start with a colon.'],
      ['1@localhost:8020', 'No colon following port could be found.'],
      ['1@localhost:80x:K90IZ-0DRNazJ49kCZ1EMQ', 'Failed to parse port in dynamic voter string.'],
      ['1@localhost:666666:K90IZ-0DRNazJ49kCZ1EMQ', 'Invalid port 666666 in dynamic voter string.'],
      ['1@localhost:8020:nope', 'Failed to parse directory ID in dynamic voter string.'],
      ['1@a:1:K90IZ-0DRNazJ49kCZ1EMQ,1@b:2:2ggvsS4kQb-fSJ_-zC_Ang', 'Node id 1 was specified more than once.'],
    ];
    for (const [text, message] of bad) expect(() => parseDynamicVoters(text), text).toThrow(message);
  });
});

describe('meta.properties', () => {
  it('reads version 0 and 1, and reports bad files', () => {
    expect(parseMetaProperties('broker.id=4\ncluster.id=x\n', 'p')).toEqual({ version: 0, clusterId: 'x', nodeId: 4, directoryId: null });
    expect(() => parseMetaProperties('version=1\nnode.id=1\n', 'p')).toThrow(MetaPropertiesError);
    expect(() => parseMetaProperties('version=1\ncluster.id=c\nnode.id=one\n', 'p')).toThrow(/base-10/);
    expect(() => parseMetaProperties('version=2\n', 'p')).toThrow(/Unknown version 2/);
  });

  it('refuses directories of another cluster or node at load time', async () => {
    const c = config();
    await writeMetaProperties(join(root, 'a'), { version: 1, clusterId: 'AAAAAAAAAAAAAAAAAAAAAw', nodeId: 3, directoryId: randomUuid() });
    await writeMetaProperties(join(root, 'b'), { version: 1, clusterId: 'AAAAAAAAAAAAAAAAAAAABA', nodeId: 3, directoryId: randomUuid() });
    expect((await rejection(loadMetaPropertiesEnsemble(c))).message).toContain('Invalid cluster.id in:');
    await writeMetaProperties(join(root, 'b'), { version: 1, clusterId: 'AAAAAAAAAAAAAAAAAAAAAw', nodeId: 4, directoryId: randomUuid() });
    expect((await rejection(loadMetaPropertiesEnsemble(c))).message).toContain("Stored node id 4 doesn't match previous node id 3");
    const fresh = await loadMetaPropertiesEnsemble(config({ 'log.dirs': join(root, 'x'), 'metadata.log.dir': join(root, 'y') }));
    expect(fresh.clusterId).toBeNull();
  });
});

describe('storage command', () => {
  function run(args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    let failed = 0;
    const cmd = storageCommand({ out: (l) => out.push(l), err: (l) => err.push(l), fail: (c) => (failed = c) });
    for (const c of [cmd, ...cmd.commands]) c.exitOverride().configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => err.push(s) });
    return { out, err, done: cmd.parseAsync(args, { from: 'user' }), failed: () => failed };
  }

  it('prints a random Kafka UUID', async () => {
    const r = run(['random-uuid']);
    await r.done;
    expect(r.out).toHaveLength(1);
    expect(r.out[0]).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(uuidToBytes(r.out[0]!)).toHaveLength(16);
  });

  it('formats from a server.properties file and fails cleanly on a second run', async () => {
    const file = join(root, 'server.properties');
    await writeFile(file, Object.entries(props()).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    const clusterId = randomUuid();
    const first = run(['format', '-t', clusterId, '-c', file]);
    await first.done;
    expect(first.failed()).toBe(0);
    expect(first.out).toHaveLength(3);
    expect((await readMetaProperties(join(root, 'b')))!.clusterId).toBe(clusterId);

    const second = run(['format', '--cluster-id', clusterId, '--config', file]);
    await second.done;
    expect(second.failed()).toBe(1);
    expect(second.err[0]).toContain('is already formatted');

    const third = run(['format', '-t', clusterId, '-c', file, '--ignore-formatted']);
    await third.done;
    expect(third.failed()).toBe(0);
    expect(third.out).toEqual(['All of the log directories are already formatted.']);
  });

  it('reports a bad config file with its name and key', async () => {
    const file = join(root, 'bad.properties');
    await writeFile(file, Object.entries(props()).map(([k, v]) => `${k}=${v}`).join('\n') + '\nnum.partitons=2\n');
    const r = run(['format', '-t', randomUuid(), '-c', file]);
    await r.done;
    expect(r.failed()).toBe(1);
    expect(r.err[0]).toContain(`${file}:8: Unknown configuration num.partitons (did you mean num.partitions?)`);
  });

  it('requires --cluster-id and --config, and has help', async () => {
    const r = run(['format', '-c', 'x']);
    await expect(r.done).rejects.toMatchObject({ code: 'commander.missingMandatoryOptionValue' });
    const h = run(['format', '--help']);
    await expect(h.done).rejects.toMatchObject({ code: 'commander.helpDisplayed' });
    expect(h.out.join('')).toContain('--ignore-formatted');
    expect(h.out.join('')).toContain('--standalone');
    expect(h.out.join('')).toContain('--initial-controllers <voters>');
    expect(h.out.join('')).toContain('--no-initial-controllers');
  });

  it('formats a dynamic-quorum controller with -I and a joining one with -N', async () => {
    const dynamic = { ...props(), 'controller.quorum.voters': '', 'controller.quorum.bootstrap.servers': 'localhost:9093' };
    const file = join(root, 'dynamic.properties');
    await writeFile(file, Object.entries(dynamic).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    const directoryId = randomUuid();
    const r = run(['format', '-t', randomUuid(), '-c', file, '-I', `3@localhost:9093:${directoryId}`]);
    await r.done;
    expect(r.failed()).toBe(0);
    expect((await readMetaProperties(join(root, 'meta')))!.directoryId).toBe(directoryId);
    await rm(join(root, 'meta'), { recursive: true });
    await rm(join(root, 'a'), { recursive: true });
    await rm(join(root, 'b'), { recursive: true });
    const none = run(['format', '-t', randomUuid(), '-c', file]);
    await none.done;
    expect(none.failed()).toBe(1);
    expect(none.err[0]).toContain('you must specify one of the following');
    const joining = run(['format', '-t', randomUuid(), '-c', file, '-N']);
    await joining.done;
    expect(joining.failed()).toBe(0);
    expect(joining.out[2]).toBe(`Formatting metadata directory ${join(root, 'meta')} with metadata.version 3.9-IV0.`);
  });
});
