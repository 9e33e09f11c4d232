// meta.properties, the file that marks a log directory as formatted, in Kafka's format.
// Version 1 (KRaft): `version=1`, `cluster.id`, `node.id`, optional `directory.id`; version 0
// (ZooKeeper era): `broker.id`, optional `cluster.id`, and a missing `version` means 0. Written
// atomically (temp file, fsync, rename, fsync of the directory) as Kafka's PropertiesUtils does,
// so a crash leaves either the old file or the new one.
// Invariant: a directory with a meta.properties belongs to that cluster and node; the broker
// refuses to start on directories whose files disagree with each other or with its node.id.
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { formatProperties, parseProperties } from './java-properties.ts';

export const META_PROPERTIES_FILE = 'meta.properties';

export interface MetaProperties {
  version: 0 | 1;
  clusterId: string | null;
  nodeId: number;
  directoryId: string | null;
}

export class MetaPropertiesError extends Error {
  readonly code = 'INVALID_META_PROPERTIES';
  constructor(message: string) {
    super(message);
    this.name = 'MetaPropertiesError';
  }
}

function requiredInt(props: Record<string, string>, key: string, path: string): number {
  const v = props[key];
  if (v === undefined) throw new MetaPropertiesError(`Failed to find required property ${key} in ${path}.`);
  if (!/^-?\d+$/.test(v.trim()) || Math.abs(Number(v)) > 2147483647) {
    throw new MetaPropertiesError(`Unable to read ${key} in ${path} as a base-10 number.`);
  }
  return Number(v);
}

/** Parses the contents of a meta.properties (`path` only names it in errors). */
export function parseMetaProperties(text: string, path: string): MetaProperties {
  const props = parseProperties(text);
  const version = props['version'] === undefined ? 0 : requiredInt(props, 'version', path);
  if (version === 0) {
    return { version: 0, clusterId: props['cluster.id'] ?? null, nodeId: requiredInt(props, 'broker.id', path), directoryId: props['directory.id'] ?? null };
  }
  if (version !== 1) throw new MetaPropertiesError(`Unknown version ${version} in ${path}: only versions 0 and 1 exist.`);
  const clusterId = props['cluster.id'];
  if (clusterId === undefined) throw new MetaPropertiesError(`Failed to find required property cluster.id in ${path}.`);
  return { version: 1, clusterId, nodeId: requiredInt(props, 'node.id', path), directoryId: props['directory.id'] ?? null };
}

/** The meta.properties of a directory, or null when it has none (the directory is unformatted). */
export async function readMetaProperties(dir: string): Promise<MetaProperties | null> {
  const path = join(dir, META_PROPERTIES_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  return parseMetaProperties(text, path);
}

export function formatMetaProperties(meta: MetaProperties, date: Date = new Date()): string {
  const props: Record<string, string> = { version: String(meta.version) };
  if (meta.clusterId !== null) props['cluster.id'] = meta.clusterId;
  props[meta.version === 0 ? 'broker.id' : 'node.id'] = String(meta.nodeId);
  if (meta.directoryId !== null) props['directory.id'] = meta.directoryId;
  return formatProperties(props, { date });
}

/** Writes meta.properties into `dir` (created if missing), atomically and durably. */
export async function writeMetaProperties(dir: string, meta: MetaProperties, date: Date = new Date()): Promise<void> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, META_PROPERTIES_FILE);
  const tmp = path + '.tmp';
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(formatMetaProperties(meta, date), 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

export interface MetaPropertiesEnsemble {
  /** The cluster id shared by every formatted directory, or null when none is formatted. */
  clusterId: string | null;
  /** Each directory (log dirs, then the metadata dir if separate) with its meta.properties or null. */
  dirs: ReadonlyMap<string, MetaProperties | null>;
}

/** The directories a node formats and checks: its log dirs and its metadata log dir, each once. */
export function nodeDirectories(config: { logDirs: readonly string[]; metadataLogDir: string }): string[] {
  return [...new Set([...config.logDirs, config.metadataLogDir])];
}

/**
 * Reads meta.properties in every directory of a node and checks, as Kafka does at startup, that
 * they agree on the cluster id, match the configured node.id, are KRaft (version 1), and have
 * distinct directory ids. Unformatted directories are reported as null, not refused.
 */
export async function loadMetaPropertiesEnsemble(config: { logDirs: readonly string[]; metadataLogDir: string; nodeId: number }): Promise<MetaPropertiesEnsemble> {
  const dirs = new Map<string, MetaProperties | null>();
  let clusterId: string | null = null;
  let clusterIdDir = '';
  const directoryIds = new Map<string, string>();
  for (const dir of nodeDirectories(config)) {
    const meta = await readMetaProperties(dir);
    dirs.set(dir, meta);
    if (meta === null) continue;
    if (meta.version !== 1) {
      throw new MetaPropertiesError(`Found meta.properties version 0 (ZooKeeper mode) in ${dir}; only KRaft (version 1) directories are supported.`);
    }
    if (clusterId === null) {
      clusterId = meta.clusterId;
      clusterIdDir = dir;
    } else if (meta.clusterId !== clusterId) {
      throw new MetaPropertiesError(`Invalid cluster.id in: ${dir}. Expected ${clusterId} (from ${clusterIdDir}), but read ${meta.clusterId}`);
    }
    if (meta.nodeId !== config.nodeId) {
      throw new MetaPropertiesError(
        `Stored node id ${meta.nodeId} doesn't match previous node id ${config.nodeId} in ${dir}. If you moved your data, make sure your configured node id matches. If you intend to create a new node, you should remove all data in your data directories.`,
      );
    }
    if (meta.directoryId !== null) {
      const other = directoryIds.get(meta.directoryId);
      if (other !== undefined) throw new MetaPropertiesError(`Duplicate directory ID ${meta.directoryId} found in ${other} and ${dir}`);
      directoryIds.set(meta.directoryId, dir);
    }
  }
  return { clusterId, dirs };
}
