// `samsa storage`: Kafka's kafka-storage tool for KRaft nodes. `random-uuid` prints a new cluster
// id; `format` writes meta.properties (cluster.id, node.id, a fresh directory.id, version=1) into
// every log directory and the metadata log directory of a node. A formatted directory is never
// rewritten: format refuses unless --ignore-formatted, which then formats only the others.
// formatStorage is also what the broker's main calls to format on first start.
import { Command } from 'commander';
import type { BrokerConfig } from '../config/broker-config.ts';
import { ConfigError } from '../config/config-error.ts';
import type { MetaProperties } from '../../storage/meta-properties.ts';
import { MetaPropertiesError, nodeDirectories, readMetaProperties, writeMetaProperties } from '../../storage/meta-properties.ts';
import { loadServerProperties } from '../config/server-properties.ts';
import { randomUuid, uuidToBytes } from '../../protocol/uuid.ts';

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
  /** Where progress lines go (Kafka prints them on stdout). */
  out?: (line: string) => void;
  /** Date written in the meta.properties comment. */
  now?: Date;
}

export interface FormatResult {
  /** Directories written, each with its new directory.id. */
  formatted: { dir: string; directoryId: string }[];
  /** Directories left alone because they were already formatted (only with ignoreFormatted). */
  skipped: string[];
}

/** Formats a node's directories for the cluster `clusterId`. Throws FormatterError as Kafka's tool fails. */
export async function formatStorage(config: BrokerConfig, clusterId: string, opts: FormatOptions = {}): Promise<FormatResult> {
  const out = opts.out ?? (() => {});
  try {
    uuidToBytes(clusterId);
  } catch {
    throw new FormatterError(`Cluster ID string ${clusterId} does not appear to be a valid UUID: expected 22 characters of URL-safe base64 encoding 16 bytes`);
  }
  if (opts.standalone && opts.noInitialControllers) {
    throw new FormatterError('--standalone and --no-initial-controllers cannot be used together.');
  }
  if (opts.standalone || opts.noInitialControllers) {
    const flag = opts.standalone ? '--standalone' : '--no-initial-controllers';
    if (!config.isController) throw new FormatterError(`You can only use ${flag} on a controller (process.roles must contain controller).`);
    if (config.quorumVoters.length > 0) {
      throw new FormatterError(`You cannot use ${flag} with a static quorum: controller.quorum.voters is set; use controller.quorum.bootstrap.servers instead.`);
    }
  } else if (config.isController && config.quorumVoters.length === 0) {
    throw new FormatterError('Because controller.quorum.voters is not set on this controller, you must specify one of the following: --standalone, --initial-controllers, or --no-initial-controllers.');
  }

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
      skipped.push(dir);
    }
  }
  if (unformatted.length === 0) {
    out('All of the log directories are already formatted.');
    return { formatted: [], skipped };
  }
  const formatted: FormatResult['formatted'] = [];
  const used = new Set<string>();
  for (const dir of unformatted) {
    let directoryId = randomUuid();
    while (used.has(directoryId)) directoryId = randomUuid();
    used.add(directoryId);
    const kind = dir === config.metadataLogDir ? 'metadata' : 'data';
    out(`Formatting ${kind} directory ${dir} with metadata.version ${DEFAULT_METADATA_VERSION}.`);
    await writeMetaProperties(dir, { version: 1, clusterId, nodeId: config.nodeId, directoryId }, opts.now);
    formatted.push({ dir, directoryId });
  }
  return { formatted, skipped };
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
    .option('-s, --standalone', 'bootstrap a dynamic quorum with this controller as its only voter', false)
    .option('-N, --no-initial-controllers', 'this controller will join an existing dynamic quorum')
    .action(async (o: { clusterId: string; config: string; ignoreFormatted: boolean; standalone: boolean; initialControllers: boolean }) => {
      try {
        const config = await loadServerProperties(o.config);
        await formatStorage(config, o.clusterId, {
          ignoreFormatted: o.ignoreFormatted,
          standalone: o.standalone,
          noInitialControllers: o.initialControllers === false,
          out: io.out,
        });
      } catch (e) {
        if (!(e instanceof FormatterError || e instanceof ConfigError || e instanceof MetaPropertiesError)) throw e;
        io.err(e.message);
        io.fail(1);
      }
    });
  return storage;
}
