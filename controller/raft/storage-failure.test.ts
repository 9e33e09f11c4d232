// A storage failure of the metadata log or of a snapshot stops the node through the scheduler's
// FatalError, once, with the failing operation named; the operation that met it fails too.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FatalError, ManualScheduler, type Scope } from '../../protocol/scheduler.ts';
import { METADATA_LOG_DIR } from '../../storage/log-manager.ts';
import { FileReplicatedLog } from './file-replicated-log.ts';
import { MemoryQuorumStateStore } from './quorum-state.ts';
import { RaftClient } from './raft-client.ts';
import { MemoryReplicatedLog } from './replicated-log.ts';

const logger = pino({ level: 'silent' });
const dirs: string[] = [];

afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

function eio(syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`EIO: i/o error, ${syscall}`), { code: 'EIO', errno: -5, syscall });
}

/** A memory log whose flush fails with EIO once `broken` is set. */
class FailingLog extends MemoryReplicatedLog {
  broken = false;
  override async flush(): Promise<void> {
    if (this.broken) throw eio('fsync');
    return super.flush();
  }
}

function singleVoter(log: MemoryReplicatedLog | FileReplicatedLog) {
  const fatal: { err: FatalError; scope: Scope }[] = [];
  const scheduler = new ManualScheduler({ startMs: 0, fatal: (err, scope) => fatal.push({ err, scope }) });
  const client = new RaftClient({ nodeId: 1, voters: [1], log, stateStore: new MemoryQuorumStateStore(), logger, scheduler });
  return { client, fatal, scheduler };
}

describe('metadata log storage failures', () => {
  it('an fsync error of the metadata log stops the node with a FatalError, once', async () => {
    const log = new FailingLog();
    const { client, fatal } = singleVoter(log);
    await client.start();
    await client.append([Buffer.from('a')]);
    log.broken = true;
    await expect(client.append([Buffer.from('b')])).rejects.toThrow(/EIO/);
    await expect(client.append([Buffer.from('c')])).rejects.toThrow(/EIO/);
    await new Promise((r) => setImmediate(r));
    expect(fatal).toHaveLength(1);
    expect(fatal[0]!.err).toBeInstanceOf(FatalError);
    expect(fatal[0]!.err.message).toMatch(/^metadata log flush failed: EIO/);
    expect(fatal[0]!.scope.unit).toBe('raft');
  });

  it('a logic error (not the file system) is not fatal', async () => {
    const log = new MemoryReplicatedLog();
    const { client, fatal } = singleVoter(log);
    await client.start();
    await expect(client.log.truncateTo(-1n)).rejects.toThrow(/below the log start/);
    await new Promise((r) => setImmediate(r));
    expect(fatal).toHaveLength(0);
  });

  it('a snapshot that cannot be written into the metadata log directory is fatal (file log)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'samsa-raft-io-'));
    dirs.push(dir);
    const log = await FileReplicatedLog.open(dir, logger);
    const { client, fatal } = singleVoter(log);
    await client.start();
    const offset = await client.append([Buffer.from('a')]);
    // The directory is gone (a failed disk, an operator's mistake): the snapshot's file cannot be created.
    await rm(join(dir, METADATA_LOG_DIR), { recursive: true, force: true });
    const written = client.createSnapshot({ endOffset: offset + 1n, epoch: client.currentEpoch }, [Buffer.from('a')], 0);
    await expect(written).rejects.toThrow(/ENOENT/);
    await new Promise((r) => setImmediate(r));
    expect(fatal).toHaveLength(1);
    expect(fatal[0]!.err.message).toMatch(/^metadata log snapshot write failed: ENOENT/);
    await log.close();
  });
});
