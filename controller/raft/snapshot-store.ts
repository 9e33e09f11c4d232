// Where a Raft replica keeps its snapshots (snapshot-format.ts gives their bytes). Two
// implementations honour this seam: one in memory for simulations (it outlives a simulated crash,
// as fsynced files do) and one on disk beside the metadata log's segments.
// On disk: `<metadata.log.dir>/__cluster_metadata-0/<20-digit end offset>-<10-digit epoch>.checkpoint`.
// A snapshot is written whole to `<name>.checkpoint.part`, fsynced, renamed to its final name and
// the directory fsynced, so a crash leaves either no snapshot or a complete one. Deletion renames
// to `.checkpoint.deleted` first, then unlinks. Opening the store removes `.part` and `.deleted`
// leftovers and validates every snapshot; a damaged one is logged and removed, so only valid
// snapshots are ever listed, loaded or served to other replicas.
// Invariant: list() is sorted by id, oldest first.
import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { compareSnapshotIds, decodeSnapshot, DELETED_SUFFIX, PARTIAL_SUFFIX, parseSnapshotFileName, type SnapshotId, snapshotFileName } from './snapshot-format.ts';

export interface SnapshotStore {
  /** Every stored snapshot, oldest first. */
  list(): readonly SnapshotId[];
  latest(): SnapshotId | undefined;
  earliest(): SnapshotId | undefined;
  /** Stores a complete snapshot durably; replaces one of the same id. */
  write(id: SnapshotId, bytes: Buffer): Promise<void>;
  /** The whole snapshot; throws when there is none of that id. */
  read(id: SnapshotId): Promise<Buffer>;
  /** Size in bytes, or -1 when there is none of that id. */
  size(id: SnapshotId): number;
  /** Up to `maxBytes` from byte `position` (FetchSnapshot serves chunks). */
  readChunk(id: SnapshotId, position: number, maxBytes: number): Promise<Buffer>;
  delete(id: SnapshotId): Promise<void>;
}

const key = (id: SnapshotId): string => `${id.endOffset}-${id.epoch}`;

function sorted(ids: Iterable<SnapshotId>): SnapshotId[] {
  return [...ids].sort(compareSnapshotIds);
}

export class MemorySnapshotStore implements SnapshotStore {
  private readonly snapshots = new Map<string, { id: SnapshotId; bytes: Buffer }>();
  private ids: SnapshotId[] = [];

  list(): readonly SnapshotId[] {
    return this.ids;
  }

  latest(): SnapshotId | undefined {
    return this.ids.at(-1);
  }

  earliest(): SnapshotId | undefined {
    return this.ids[0];
  }

  async write(id: SnapshotId, bytes: Buffer): Promise<void> {
    this.snapshots.set(key(id), { id: { ...id }, bytes: Buffer.from(bytes) });
    this.ids = sorted([...this.snapshots.values()].map((s) => s.id));
  }

  async read(id: SnapshotId): Promise<Buffer> {
    const s = this.snapshots.get(key(id));
    if (!s) throw new Error(`no snapshot ${snapshotFileName(id)}`);
    return s.bytes;
  }

  size(id: SnapshotId): number {
    return this.snapshots.get(key(id))?.bytes.length ?? -1;
  }

  async readChunk(id: SnapshotId, position: number, maxBytes: number): Promise<Buffer> {
    return (await this.read(id)).subarray(position, position + maxBytes);
  }

  async delete(id: SnapshotId): Promise<void> {
    this.snapshots.delete(key(id));
    this.ids = sorted([...this.snapshots.values()].map((s) => s.id));
  }
}

export class FileSnapshotStore implements SnapshotStore {
  private readonly sizes = new Map<string, number>();
  private ids: SnapshotId[] = [];

  private constructor(
    readonly dir: string,
    private readonly logger: Logger,
  ) {}

  /** Opens the snapshots in `dir` (the metadata partition directory), dropping leftovers and damaged ones. */
  static async open(dir: string, logger: Logger): Promise<FileSnapshotStore> {
    const store = new FileSnapshotStore(dir, logger);
    for (const name of await readdir(dir)) {
      const path = join(dir, name);
      if (name.endsWith(PARTIAL_SUFFIX) || name.endsWith(DELETED_SUFFIX)) {
        await unlink(path).catch(() => undefined);
        continue;
      }
      const id = parseSnapshotFileName(name);
      if (!id) continue;
      const bytes = await readFile(path);
      try {
        decodeSnapshot(bytes, { checkOnly: true });
      } catch (err) {
        logger.warn({ err, file: path }, 'skipping a damaged metadata snapshot: removing it');
        await unlink(path).catch(() => undefined);
        continue;
      }
      store.sizes.set(key(id), bytes.length);
      store.ids.push(id);
    }
    store.ids = sorted(store.ids);
    return store;
  }

  private path(id: SnapshotId): string {
    return join(this.dir, snapshotFileName(id));
  }

  list(): readonly SnapshotId[] {
    return this.ids;
  }

  latest(): SnapshotId | undefined {
    return this.ids.at(-1);
  }

  earliest(): SnapshotId | undefined {
    return this.ids[0];
  }

  async write(id: SnapshotId, bytes: Buffer): Promise<void> {
    const final = this.path(id);
    const part = final.replace(/\.checkpoint$/, PARTIAL_SUFFIX);
    const file = await open(part, 'w');
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(part, final);
    await syncDir(this.dir);
    if (!this.sizes.has(key(id))) this.ids = sorted([...this.ids, { ...id }]);
    this.sizes.set(key(id), bytes.length);
  }

  async read(id: SnapshotId): Promise<Buffer> {
    if (!this.sizes.has(key(id))) throw new Error(`no snapshot ${snapshotFileName(id)}`);
    return readFile(this.path(id));
  }

  size(id: SnapshotId): number {
    return this.sizes.get(key(id)) ?? -1;
  }

  async readChunk(id: SnapshotId, position: number, maxBytes: number): Promise<Buffer> {
    const size = this.size(id);
    if (size < 0) throw new Error(`no snapshot ${snapshotFileName(id)}`);
    const length = Math.max(0, Math.min(maxBytes, size - position));
    const buf = Buffer.alloc(length);
    if (length === 0) return buf;
    const file = await open(this.path(id), 'r');
    try {
      const { bytesRead } = await file.read(buf, 0, length, position);
      return buf.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
  }

  async delete(id: SnapshotId): Promise<void> {
    if (!this.sizes.delete(key(id))) return;
    this.ids = this.ids.filter((i) => key(i) !== key(id));
    const path = this.path(id);
    const gone = `${path.replace(/\.checkpoint$/, '')}${DELETED_SUFFIX}`;
    await rename(path, gone);
    await unlink(gone).catch((err: unknown) => this.logger.warn({ err, file: gone }, 'could not remove a deleted metadata snapshot'));
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (err) {
    // Some file systems refuse fsync on a directory; the rename itself is then all there is.
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL' && (err as NodeJS.ErrnoException).code !== 'EISDIR') throw err;
  } finally {
    await handle.close();
  }
}
