// `meta.properties` of a log directory, Kafka's Java-properties file written by `storage format`:
// `version=1`, `cluster.id=`, `node.id=`, `directory.id=` (KRaft). Reading tolerates comments and
// any key order; writing is atomic (temp file, fsync, rename, directory fsync).
import * as fs from 'node:fs';
import path from 'node:path';
import { fsyncDir } from './checkpoint.ts';

export const META_PROPERTIES_FILE = 'meta.properties';

export interface MetaProperties {
  version: number;
  clusterId: string;
  nodeId: number;
  directoryId?: string;
}

export class MetaPropertiesError extends Error {
  readonly code: 'INCONSISTENT_CLUSTER_ID' | 'INCONSISTENT_NODE_ID' | 'MALFORMED_META_PROPERTIES';
  constructor(code: MetaPropertiesError['code'], message: string) {
    super(message);
    this.name = 'MetaPropertiesError';
    this.code = code;
  }
}

export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:]\s*(.*)$/.exec(line);
    if (m !== null) out[m[1]!] = m[2]!;
  }
  return out;
}

export async function readMetaProperties(logDir: string): Promise<MetaProperties | null> {
  let text: string;
  try {
    text = await fs.promises.readFile(path.join(logDir, META_PROPERTIES_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const p = parseProperties(text);
  const version = Number(p.version);
  const nodeId = Number(p['node.id'] ?? p['broker.id']);
  if (!Number.isInteger(version) || p['cluster.id'] === undefined || !Number.isInteger(nodeId)) {
    throw new MetaPropertiesError('MALFORMED_META_PROPERTIES', `${logDir}/${META_PROPERTIES_FILE} lacks version, cluster.id or node.id`);
  }
  const out: MetaProperties = { version, clusterId: p['cluster.id'], nodeId };
  if (p['directory.id'] !== undefined) out.directoryId = p['directory.id'];
  return out;
}

export async function writeMetaProperties(logDir: string, meta: MetaProperties): Promise<void> {
  await fs.promises.mkdir(logDir, { recursive: true });
  const lines = ['#', `#${new Date().toString()}`, `node.id=${meta.nodeId}`];
  if (meta.directoryId !== undefined) lines.push(`directory.id=${meta.directoryId}`);
  lines.push(`version=${meta.version}`, `cluster.id=${meta.clusterId}`);
  const file = path.join(logDir, META_PROPERTIES_FILE);
  const tmp = `${file}.tmp`;
  const fh = await fs.promises.open(tmp, 'w');
  try {
    await fh.writeFile(`${lines.join('\n')}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.promises.rename(tmp, file);
  await fsyncDir(logDir);
}
