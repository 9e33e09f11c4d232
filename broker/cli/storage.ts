// `samsa storage`: Kafka's kafka-storage tool for KRaft nodes. `random-uuid` prints a new cluster
// id; `format` writes meta.properties (cluster.id, node.id, a fresh directory.id, version=1) into
// every log directory and the metadata log directory of a node. A formatted directory is never
// rewritten: format refuses unless --ignore-formatted, which then formats only the others.
// A controller of a dynamic quorum (KIP-853: controller.quorum.voters empty) is formatted with
// --standalone (it is the only initial voter), --initial-controllers id@host:port:directoryId,...
// (its metadata directory takes its own entry's directory id) or --no-initial-controllers (it
// joins later); the flags are checked with StorageTool's messages, and the initial voter set is
// written, as Kafka writes it, into the bootstrap checkpoint of __cluster_metadata
// (bootstrap-checkpoint.ts) and returned to the caller.
// formatStorage is also what the broker's main calls to format on first start.
import { Command } from 'commander';
import type { BrokerConfig } from '../config/broker-config.ts';
import { ConfigError } from '../config/config-error.ts';
import type { MetaProperties } from '../../storage/meta-properties.ts';
import { MetaPropertiesError, nodeDirectories, readMetaProperties, writeMetaProperties } from '../../storage/meta-properties.ts';
import { loadServerProperties } from '../config/server-properties.ts';
import { randomUuid, uuidToBytes } from '../../protocol/uuid.ts';
import { writeBootstrapCheckpoint } from './bootstrap-checkpoint.ts';
import { AddScramError, parseAddScram, writeBootstrapMetadata } from '../security/bootstrap-scram.ts';
import type { MetadataRecord } from '../../controller/metadata/record-serde.ts';

export { readMetaProperties, loadMetaPropertiesEnsemble } from '../../storage/meta-properties.ts';
export type { MetaProperties } from '../../storage/meta-properties.ts';

/** The metadata.version that format reports, as Kafka 3.9's default release. */
export const DEFAULT_METADATA_VERSION = '3.9-IV0';

export class FormatterError extends Error {
  readonly code = 'FORMAT_FAILED';
  constructor(message: string) {
    super(message);
    this.name = 'FormatterError';
  }
}

export interface FormatOptions {
  /** Skip directories that already have meta.properties instead of failing. */
  ignoreFormatted?: boolean;
  /** Bootstrap a dynamic quorum with this controller as its only voter. */
  standalone?: boolean;
  /** A controller that will join an existing dynamic quorum (Kafka's --no-initial-controllers). */
  noInitialControllers?: boolean;
  /** The initial voters of a dynamic quorum, as Kafka's --initial-controllers takes them. */
  initialControllers?: string;
  /** Where progress lines go (Kafka prints them on stdout). */
  out?: (line: string) => void;
  /** Date written in the meta.properties comment. */
  now?: Date;
  /** SCRAM credentials of --add-scram, written into bootstrap.checkpoint for the new cluster. */
  scramRecords?: readonly MetadataRecord[];
}

export interface FormatResult {
  /** Directories written, each with its new directory.id. */
  formatted: { dir: string; directoryId: string }[];
  /** Directories left alone because they were already formatted (only with ignoreFormatted). */
  skipped: string[];
  /** The initial voters of a dynamic quorum (--standalone or --initial-controllers), else undefined. */
  initialVoters?: DynamicVoter[];
}

/** One initial voter of a dynamic quorum: Kafka's DynamicVoter, `id@host:port:directoryId`. */
export interface DynamicVoter {
  nodeId: number;
  host: string;
  port: number;
  directoryId: string;
}

/** Kafka's DynamicVoter.parse, with its messages. */
export function parseDynamicVoter(text: string): DynamicVoter {
  let input = text.trim();
  const at = input.indexOf('@');
  if (at < 0) throw new FormatterError('No @ found in dynamic voter string.');
  if (at === 0) throw new FormatterError('Invalid @ at beginning of dynamic voter string.');
  const idText = input.slice(0, at);
  if (!/^[+-]?\d+$/.test(idText) || !Number.isSafeInteger(Number(idText))) throw new FormatterError('Failed to parse node id in dynamic voter string.');
  const nodeId = Number(idText);
  if (nodeId < 0) throw new FormatterError(`Invalid negative node id ${nodeId} in dynamic voter string.`);
  input = input.slice(at + 1);
  if (input === '') throw new FormatterError('No hostname found after node id.');
  let host: string;
  if (input.startsWith('[')) {
    const end = input.indexOf(']');
    if (end < 0) throw new FormatterError('Hostname began with left bracket, but no right bracket was found.');
    host = input.slice(1, end);
    input = input.slice(end + 1);
  } else {
    const colon = input.indexOf(':');
    if (colon < 0) throw new FormatterError('No colon following hostname could be found.');
    host = input.slice(0, colon);
    input = input.slice(colon);
  }
  if (!input.startsWith(':')) throw new FormatterError('Port section must start with a colon.');
  input = input.slice(1);
  const colon = input.indexOf(':');
  if (colon < 0) throw new FormatterError('No colon following port could be found.');
  const portText = input.slice(0, colon);
  if (!/^[+-]?\d+$/.test(portText)) throw new FormatterError('Failed to parse port in dynamic voter string.');
  const port = Number(portText);
  if (port < 0 || port > 65535) throw new FormatterError(`Invalid port ${port} in dynamic voter string.`);
  const directoryId = input.slice(colon + 1);
  try {
    uuidToBytes(directoryId);
  } catch {
    throw new FormatterError('Failed to parse directory ID in dynamic voter string.');
  }
  return { nodeId, host, port, directoryId };
}

/** Kafka's DynamicVoters.parse: a comma list of voters, each node id once. */
export function parseDynamicVoters(text: string): DynamicVoter[] {
  const voters = text.trim().split(',').filter((v) => v !== '').map(parseDynamicVoter);
  if (voters.length === 0) throw new FormatterError('No voters given.');
  const seen = new Set<number>();
  for (const v of voters) {
    if (seen.has(v.nodeId)) throw new FormatterError(`Node id ${v.nodeId} was specified more than once.`);
    seen.add(v.nodeId);
  }
  return voters;
}

/** Kafka's DynamicVoter text, `id@host:port:directoryId`. */
export function formatDynamicVoter(v: DynamicVoter): string {
  return `${v.nodeId}@${v.host.includes(':') ? `[${v.host}]` : v.host}:${v.port}:${v.directoryId}`;
}

/**
 * StorageTool's checks of the dynamic quorum flags against the node's configuration; returns the
 * initial voters they give (undefined for a static quorum or --no-initial-controllers).
 */
export function initialVotersFor(config: BrokerConfig, opts: FormatOptions): DynamicVoter[] | undefined {
  const given = [opts.standalone ? '--standalone/-s' : null, opts.initialControllers !== undefined ? '--initial-controllers/-I' : null, opts.noInitialControllers ? '--no-initial-controllers/-N' : null].filter(
    (f): f is string => f !== null,
  );
  if (given.length > 1) throw new FormatterError(`argument ${given[1]}: not allowed with argument ${given[0]}`);
  if (config.quorumVoters.length > 0 && (opts.standalone || opts.initialControllers !== undefined)) {
    throw new FormatterError(
      'You cannot specify controller.quorum.voters and format the node with --initial-controllers or --standalone. If you want to use dynamic quorum, please remove controller.quorum.voters and specify controller.quorum.bootstrap.servers instead.',
    );
  }
  let voters: DynamicVoter[] | undefined;
  if (opts.standalone) {
    if (!config.isController) throw new FormatterError('You can only use --standalone on a controller.');
    const listener = config.controllerListeners[0];
    if (listener === undefined) throw new FormatterError('No controller listeners found.');
    voters = [{ nodeId: config.nodeId, host: listener.host ?? 'localhost', port: listener.port, directoryId: randomUuid() }];
  } else if (opts.initialControllers !== undefined) {
    voters = parseDynamicVoters(opts.initialControllers);
  }
  if (!opts.noInitialControllers && config.isController && config.quorumVoters.length === 0 && voters === undefined) {
    throw new FormatterError('Because controller.quorum.voters is not set on this controller, you must specify one of the following: --standalone, --initial-controllers, or --no-initial-controllers.');
  }
  return voters;
}

/** Formats a node's directories for the cluster `clusterId`. Throws FormatterError as Kafka's tool fails. */
export async function formatStorage(config: BrokerConfig, clusterId: string, opts: FormatOptions = {}): Promise<FormatResult> {
  const out = opts.out ?? (() => {});
  const initialVoters = initialVotersFor(config, opts);
  try {
    uuidToBytes(clusterId);
  } catch {
    throw new FormatterError(`Cluster ID string ${clusterId} does not appear to be a valid UUID: expected 22 characters of URL-safe base64 encoding 16 bytes`);
  }
  // The metadata directory of an initial voter takes the directory id its entry names.
  const ownEntry = initialVoters?.find((v) => v.nodeId === config.nodeId);

  const dirs = nodeDirectories(config);
  const unformatted: string[] = [];
  const skipped: string[] = [];
  for (const dir of dirs) {
    let meta: MetaProperties | null | 'unreadable';
    try {
      meta = await readMetaProperties(dir);
    } catch (e) {
      if (e instanceof MetaPropertiesError) {
        // A damaged meta.properties still means someone formatted this directory.
        meta = 'unreadable';
      } else if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') {
        throw new FormatterError(`Log directory ${dir} is not a directory.`);
      } else throw e;
    }
    if (meta === null) unformatted.push(dir);
    else if (!opts.ignoreFormatted) {
      throw new FormatterError(`Log directory ${dir} is already formatted. Use --ignore-formatted to ignore this directory and format the others.`);
    } else {
      // Formatting the others must not split the node across two clusters or two node ids.
      if (meta !== 'unreadable' && meta.clusterId !== clusterId) {
        throw new FormatterError(`Invalid cluster.id in: ${dir}. Expected ${clusterId}, but read ${meta.clusterId}`);
      }
      if (meta !== 'unreadable' && meta.nodeId !== config.nodeId) {
        throw new FormatterError(`Stored node id ${meta.nodeId} doesn't match previous node id ${config.nodeId} in ${dir}. If you moved your data, make sure your configured node id matches. If you intend to create a new node, you should remove all data in your data directories.`);
      }
      if (meta !== 'unreadable' && ownEntry !== undefined && dir === config.metadataLogDir && meta.directoryId !== ownEntry.directoryId) {
        throw new FormatterError(`The metadata directory ${dir} has directory id ${meta.directoryId}, but --initial-controllers gives node ${config.nodeId} the directory id ${ownEntry.directoryId}.`);
      }
      skipped.push(dir);
    }
  }
  if (unformatted.length === 0) {
    out('All of the log directories are already formatted.');
    return { formatted: [], skipped, initialVoters };
  }
  const formatted: FormatResult['formatted'] = [];
  const used = new Set<string>(ownEntry === undefined ? [] : [ownEntry.directoryId]);
  for (const dir of unformatted) {
    let directoryId: string;
    let kind: string;
    if (dir !== config.metadataLogDir) kind = 'data directory';
    else if (initialVoters === undefined) kind = 'metadata directory';
    else kind = ownEntry === undefined ? 'dynamic metadata directory' : 'dynamic metadata voter directory';
    if (dir === config.metadataLogDir && ownEntry !== undefined) directoryId = ownEntry.directoryId;
    else {
      directoryId = randomUuid();
      while (used.has(directoryId)) directoryId = randomUuid();
      used.add(directoryId);
    }
    out(`Formatting ${kind} ${dir} with metadata.version ${DEFAULT_METADATA_VERSION}.`);
    await writeMetaProperties(dir, { version: 1, clusterId, nodeId: config.nodeId, directoryId }, opts.now);
    if (dir === config.metadataLogDir && initialVoters !== undefined) {
      await writeBootstrapCheckpoint(dir, initialVoters, config.controllerListenerNames[0]!, opts.now?.getTime());
    }
    if (dir === config.metadataLogDir && opts.scramRecords && opts.scramRecords.length > 0) await writeBootstrapMetadata(dir, opts.scramRecords, opts.now?.getTime());
    formatted.push({ dir, directoryId });
  }
  return { formatted, skipped, initialVoters };
}

export interface StorageCommandIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Called with 1 when a command fails; by default sets process.exitCode. */
  fail: (code: number) => void;
}

const defaultIo: StorageCommandIo = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  fail: (code) => {
    process.exitCode = code;
  },
};

/** The `storage` command with its subcommands, for the top-level `samsa` CLI to register. */
export function storageCommand(io: StorageCommandIo = defaultIo): Command {
  const storage = new Command('storage').description('Format and inspect the storage directories of a Samsa (KRaft) node.');
  storage
    .command('random-uuid')
    .description('Print a random UUID, for use as a cluster id.')
    .action(() => {
      io.out(randomUuid());
    });
  storage
    .command('format')
    .description('Write meta.properties into every log directory and the metadata log directory of a node.')
    .requiredOption('-t, --cluster-id <cluster-id>', 'the cluster id (see: samsa storage random-uuid)')
    .requiredOption('-c, --config <server.properties>', 'the node\'s server.properties')
    .option('-g, --ignore-formatted', 'skip directories that are already formatted instead of failing', false)
    .option('-s, --standalone', 'Used to initialize a controller as the single voter of a dynamic quorum.', false)
    .option(
      '-I, --initial-controllers <voters>',
      'The initial controllers of a dynamic quorum, as id@host:port:directoryId,... (the same on every node), e.g. 0@localhost:8082:JEXY6aqzQY-32P5TStzaFg,1@localhost:8083:MvDxzVmcRsaTz33bUuRU6A',
    )
    .option('-S, --add-scram <credential>', "A SCRAM credential for a new cluster, e.g. 'SCRAM-SHA-256=[name=alice,password=alice-secret]' (repeatable).", (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('-N, --no-initial-controllers', 'Used to initialize a server without a dynamic quorum topology (it joins later).')
    .action(async (o: { clusterId: string; config: string; ignoreFormatted: boolean; standalone: boolean; initialControllers: string | boolean; addScram?: string[] }) => {
      try {
        const config = await loadServerProperties(o.config);
        await formatStorage(config, o.clusterId, {
          ignoreFormatted: o.ignoreFormatted,
          standalone: o.standalone,
          noInitialControllers: o.initialControllers === false,
          initialControllers: typeof o.initialControllers === 'string' ? o.initialControllers : undefined,
          scramRecords: (o.addScram ?? []).map(parseAddScram),
          out: io.out,
        });
      } catch (e) {
        if (!(e instanceof FormatterError || e instanceof ConfigError || e instanceof MetaPropertiesError || e instanceof AddScramError)) throw e;
        io.err(e.message);
        io.fail(1);
      }
    });
  return storage;
}
