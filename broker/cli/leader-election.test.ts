import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import { electionPartitions, formatElectionResults, leaderElectionCommand, parseElectionJson, parseElectionType } from './leader-election.ts';

describe('leader-election output', () => {
  it('prints the elected partitions, those already led by a valid replica, and each failure', () => {
    const { text, failures } = formatElectionResults('PREFERRED', {
      throttleTimeMs: 0,
      errorCode: 0,
      replicaElectionResults: [
        {
          topic: 't',
          partitionResult: [
            { partitionId: 0, errorCode: ErrorCode.NONE, errorMessage: null },
            { partitionId: 1, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: null },
            { partitionId: 2, errorCode: ErrorCode.NONE, errorMessage: null },
            { partitionId: 3, errorCode: ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, errorMessage: 'The preferred leader was not available.' },
          ],
        },
        { topic: 'nope', partitionResult: [{ partitionId: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'No such topic as nope' }] },
      ],
    });
    expect(text).toBe(
      'Successfully completed leader election (PREFERRED) for partitions t-0, t-2\n' +
        'Valid replica already elected for partitions t-1\n' +
        'Error completing leader election (PREFERRED) for partition: t-3: org.apache.kafka.common.errors.PreferredLeaderNotAvailableException: The preferred leader was not available.\n' +
        'Error completing leader election (PREFERRED) for partition: nope-0: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: No such topic as nope\n',
    );
    expect(failures).toBe(2);
  });

  it('prints nothing for an all-partitions election that had nothing to do', () => {
    expect(formatElectionResults('UNCLEAN', { throttleTimeMs: 0, errorCode: 0, replicaElectionResults: [] })).toEqual({ text: '', failures: 0 });
  });

  it('an unclean failure names the type', () => {
    const { text } = formatElectionResults('UNCLEAN', {
      throttleTimeMs: 0,
      replicaElectionResults: [{ topic: 't', partitionResult: [{ partitionId: 0, errorCode: ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, errorMessage: null }] }],
    });
    expect(text).toBe('Error completing leader election (UNCLEAN) for partition: t-0: org.apache.kafka.common.errors.EligibleLeadersNotAvailableException: Eligible topic partition leaders are not available.\n');
  });
});

describe('leader-election options', () => {
  it('parses the election type', () => {
    expect(parseElectionType('preferred')).toBe('PREFERRED');
    expect(parseElectionType('UNCLEAN')).toBe('UNCLEAN');
    expect(() => parseElectionType(undefined)).toThrow('Missing required option(s) [election-type]');
    expect(() => parseElectionType('fast')).toThrow('Cannot convert fast');
  });

  it('takes exactly one way of naming partitions', async () => {
    expect(await electionPartitions({ allTopicPartitions: true })).toBeNull();
    expect(await electionPartitions({ topic: 't', partition: '2' })).toEqual([{ topic: 't', partition: 2 }]);
    await expect(electionPartitions({})).rejects.toThrow('One and only one of the following options is required');
    await expect(electionPartitions({ allTopicPartitions: true, topic: 't', partition: '0' })).rejects.toThrow('One and only one');
    await expect(electionPartitions({ topic: 't' })).rejects.toThrow('Missing required option(s) [partition]');
    await expect(electionPartitions({ topic: 't', partition: 'x' })).rejects.toThrow('Invalid partition: x');
  });

  it('reads a JSON file of partitions, refusing duplicates', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'leader-election-'));
    try {
      const file = join(dir, 'p.json');
      await writeFile(file, JSON.stringify({ partitions: [{ topic: 'a', partition: 0 }, { topic: 'b', partition: 1 }] }));
      expect(await electionPartitions({ pathToJsonFile: file })).toEqual([
        { topic: 'a', partition: 0 },
        { topic: 'b', partition: 1 },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(() => parseElectionJson('{"partitions":[{"topic":"a","partition":0},{"topic":"a","partition":0}]}')).toThrow('Replica election data contains duplicate partitions: a-0');
    expect(() => parseElectionJson('{}')).toThrow('missing "partitions"');
  });

  it('a bad command line prints the reason and exits 1 without connecting', async () => {
    let err = '';
    let code = 0;
    const cmd = leaderElectionCommand({ out: () => undefined, err: (t) => (err += t), fail: (c) => (code = c) });
    await cmd.parseAsync(['--bootstrap-server', '127.0.0.1:1', '--election-type', 'preferred', '--topic', 't'], { from: 'user' });
    expect(err).toBe('Missing required option(s) [partition]\n');
    expect(code).toBe(1);
  });
});
