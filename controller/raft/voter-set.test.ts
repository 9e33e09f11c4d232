import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ControlRecordType, encodeControlRecordKey } from '../../protocol/records/control-record.ts';
import { encodeRecordBatch } from '../../protocol/records/record-batch.ts';
import { KRaftControlLog } from './kraft-control-log.ts';
import { MemoryReplicatedLog } from './replicated-log.ts';
import { encodeSnapshot } from './snapshot-format.ts';
import { encodeVoters, staticVoter, type VoterNode, type VoterSet, VoterSetHistory, withoutVoter, withVoter } from './voter-set.ts';

const voter = (id: number): VoterNode => ({ id, directoryId: `dir${id}`.padEnd(22, 'A'), endpoints: [{ name: 'CONTROLLER', host: 'localhost', port: 9000 + id }], minKraftVersion: 0, maxKraftVersion: 1 });
const ids = (set: VoterSet): number[] => set.map((v) => v.id);

function votersBatch(set: VoterSet): Buffer {
  return encodeRecordBatch({ isControl: true, baseTimestamp: 0n, records: [{ offsetDelta: 0, timestampDelta: 0, key: encodeControlRecordKey(ControlRecordType.KRaftVoters), value: encodeVoters(set) }] });
}

function dataBatch(n: number): Buffer {
  return encodeRecordBatch({ baseTimestamp: 0n, records: Array.from({ length: n }, (_, i) => ({ offsetDelta: i, timestampDelta: 0, key: null, value: Buffer.from(`v${i}`) })) });
}

describe('voter set history', () => {
  it('a static quorum keeps its configured voters at kraft.version 0', () => {
    const h = new VoterSetHistory([staticVoter(1), staticVoter(2), staticVoter(3)]);
    expect(ids(h.latest())).toEqual([1, 2, 3]);
    expect(h.kraftVersion).toBe(0);
    expect(h.isDynamic).toBe(false);
  });

  it('takes each appended set at once and undoes a truncated one', () => {
    const h = new VoterSetHistory();
    h.addSet(-1n, [voter(1)]);
    h.addSet(5n, [voter(1), voter(2)]);
    expect(ids(h.latest())).toEqual([1, 2]);
    expect(ids(h.at(4n))).toEqual([1]);
    expect(h.hasUncommitted(5n)).toBe(true);
    expect(h.hasUncommitted(6n)).toBe(false);
    h.truncateFrom(5n);
    expect(ids(h.latest())).toEqual([1]);
    expect(h.kraftVersion).toBe(1);
  });

  it('refuses a set that is not after the latest', () => {
    const h = new VoterSetHistory();
    h.addSet(3n, [voter(1)]);
    expect(() => h.addSet(3n, [voter(2)])).toThrow(/not after/);
  });

  it('compacting keeps the set in force at the new log start', () => {
    const h = new VoterSetHistory();
    h.addSet(-1n, [voter(1)]);
    h.addSet(4n, [voter(1), voter(2)]);
    h.addSet(9n, [voter(2)]);
    h.compactBelow(6n);
    expect(ids(h.at(6n))).toEqual([1, 2]);
    expect(ids(h.latest())).toEqual([2]);
  });

  it('any sequence of appends and truncations leaves the latest set of the records still in the log (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.record({ add: fc.integer({ min: 1, max: 5 }) }), fc.record({ cut: fc.nat({ max: 30 }) })), { maxLength: 40 }), (ops) => {
        const h = new VoterSetHistory();
        const model: { offset: bigint; set: number[] }[] = [];
        let end = 0n;
        for (const op of ops) {
          if ('add' in op) {
            const set = Array.from({ length: op.add }, (_, i) => voter(i + 1));
            h.addSet(end, set);
            model.push({ offset: end, set: ids(set) });
            end++;
          } else {
            const to = BigInt(op.cut) < end ? BigInt(op.cut) : end;
            h.truncateFrom(to);
            while (model.length > 0 && model.at(-1)!.offset >= to) model.pop();
            end = to;
          }
          expect(ids(h.latest())).toEqual(model.at(-1)?.set ?? []);
        }
      }),
    );
  });
});

describe('KRaftControlLog', () => {
  async function bootstrapped(set: VoterSet): Promise<KRaftControlLog> {
    const inner = new MemoryReplicatedLog();
    await inner.snapshots.write({ endOffset: 0n, epoch: 0 }, encodeSnapshot({ endOffset: 0n, epoch: 0 }, [], 0, set));
    const log = new KRaftControlLog(inner, []);
    await log.load();
    return log;
  }

  it('reads the bootstrap checkpoint, then VotersRecords appended by a leader and by a follower', async () => {
    const log = await bootstrapped([voter(1)]);
    expect(ids(log.history.latest())).toEqual([1]);
    expect(log.history.latestOffset()).toBe(-1n);
    expect(log.history.kraftVersion).toBe(1);
    await log.appendAsLeader(dataBatch(3), 1);
    const info = await log.appendAsLeader(votersBatch(withVoter([voter(1)], voter(2))), 1);
    expect(info.baseOffset).toBe(3n);
    expect(log.history.latestOffset()).toBe(3n);
    expect(ids(log.history.latest())).toEqual([1, 2]);

    // A follower copies the leader's batches with their offsets.
    const follower = await bootstrapped([voter(1)]);
    await follower.appendAsFollower(await log.read(0n, 1 << 20));
    expect(ids(follower.history.latest())).toEqual([1, 2]);
  });

  it('truncating an uncommitted VotersRecord restores the previous set', async () => {
    const log = await bootstrapped([voter(1), voter(2), voter(3)]);
    await log.appendAsLeader(dataBatch(2), 1);
    await log.appendAsLeader(votersBatch(withoutVoter([voter(1), voter(2), voter(3)], 3)), 1);
    expect(ids(log.history.latest())).toEqual([1, 2]);
    await log.truncateTo(2n);
    expect(ids(log.history.latest())).toEqual([1, 2, 3]);
  });

  it('rebuilds the history at start-up from the newest snapshot and the log after it', async () => {
    const log = await bootstrapped([voter(1)]);
    await log.appendAsLeader(votersBatch([voter(1), voter(2)]), 1);
    await log.appendAsLeader(dataBatch(4), 1);
    await log.appendAsLeader(votersBatch([voter(1), voter(2), voter(3)]), 2);
    const reopened = new KRaftControlLog(log.inner, []);
    await reopened.load();
    expect(ids(reopened.history.latest())).toEqual([1, 2, 3]);
    expect(ids(reopened.history.at(4n))).toEqual([1, 2]);

    // A snapshot carrying a voter set replaces the log: its set applies from its end.
    const id = { endOffset: 20n, epoch: 3 };
    await log.inner.snapshots.write(id, encodeSnapshot(id, [Buffer.from('x')], 0, [voter(2), voter(4)]));
    await reopened.truncateFullyAndStartAt(id);
    expect(ids(reopened.history.latest())).toEqual([2, 4]);
    expect(reopened.history.latestOffset()).toBe(19n);
  });
});
