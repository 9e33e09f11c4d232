// The `quorum-state` file of a KRaft voter: the epoch it is in, who leads it and whom it voted
// for, so a restarted voter never votes twice in one epoch or goes back in epochs. Written as
// Kafka writes it (JSON of QuorumStateData with data_version), atomically: temp file, fsync, rename.
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

export const QUORUM_STATE_FILE = 'quorum-state';

export interface ElectionState {
  epoch: number;
  leaderId: number;
  votedId: number;
}

export const UNKNOWN_ELECTION: ElectionState = { epoch: 0, leaderId: -1, votedId: -1 };

/** Where a voter keeps its election state; `write` resolves only once the state is durable. */
export interface ElectionStore {
  read(): Promise<ElectionState>;
  write(state: ElectionState): Promise<void>;
}

/** An ElectionStore in memory: it outlives the replica using it, as the file outlives a crash. */
export class MemoryQuorumStateStore implements ElectionStore {
  private state: ElectionState = UNKNOWN_ELECTION;
  /** Every write, in order (simulations check that epochs never go back). */
  readonly history: ElectionState[] = [];

  async read(): Promise<ElectionState> {
    return this.state;
  }

  async write(state: ElectionState): Promise<void> {
    this.state = { ...state };
    this.history.push(this.state);
  }

  get current(): ElectionState {
    return this.state;
  }
}

export class QuorumStateStore implements ElectionStore {
  readonly file: string;
  constructor(dir: string) {
    this.file = join(dir, QUORUM_STATE_FILE);
  }

  async read(): Promise<ElectionState> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return UNKNOWN_ELECTION;
      throw e;
    }
    const j = JSON.parse(text) as { leaderEpoch?: number; leaderId?: number; votedId?: number };
    if (typeof j.leaderEpoch !== 'number') throw new Error(`${this.file}: no leaderEpoch`);
    return { epoch: j.leaderEpoch, leaderId: j.leaderId ?? -1, votedId: j.votedId ?? -1 };
  }

  async write(state: ElectionState): Promise<void> {
    const json = JSON.stringify({
      leaderId: state.leaderId,
      leaderEpoch: state.epoch,
      votedId: state.votedId,
      votedDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA',
      data_version: 1,
    });
    const tmp = `${this.file}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(json);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file);
  }
}
