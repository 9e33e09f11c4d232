import { describe, expect, it } from 'vitest';
import { GroupLedger } from './group-member.ts';
import { parseDescribeTable } from './group-suite.ts';

describe('GroupLedger', () => {
  it('allows a record processed twice before any commit passed it', () => {
    const l = new GroupLedger();
    l.onEvent('a', { event: 'record', partition: 0, offset: 4, key: 'k4' });
    l.onEvent('b', { event: 'record', partition: 0, offset: 4, key: 'k4' });
    l.onEvent('b', { event: 'committed', partition: 0, offset: 5 });
    expect(l.afterCommit).toEqual([]);
    expect(l.duplicates).toBe(1);
  });

  it('flags a record processed again after its offset was committed, on that partition only', () => {
    const l = new GroupLedger();
    l.onEvent('a', { event: 'record', partition: 0, offset: 4, key: 'k4' });
    l.onEvent('a', { event: 'committed', partition: 0, offset: 5 });
    l.onEvent('b', { event: 'record', partition: 1, offset: 4, key: 'j4' });
    l.onEvent('b', { event: 'record', partition: 0, offset: 5, key: 'k5' });
    l.onEvent('b', { event: 'record', partition: 0, offset: 4, key: 'k4' });
    expect(l.afterCommit).toEqual(['b 0@4']);
  });

  it('keeps the highest commit per partition', () => {
    const l = new GroupLedger();
    l.onEvent('a', { event: 'committed', partition: 2, offset: 9 });
    l.onEvent('b', { event: 'committed', partition: 2, offset: 7 });
    expect(l.committed.get(2)).toBe(9);
  });
});

describe('parseDescribeTable', () => {
  it('reads Kafka\'s --describe layout by column name, after any preamble', () => {
    const text = [
      '',
      "Consumer group 'g' has no active members.",
      '',
      'GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID',
      'g               t               0          5               7               2               -               -               -',
      'g               t               1          -               3               -               -               -               -',
      '',
    ].join('\n');
    expect(parseDescribeTable(text)).toEqual([
      { GROUP: 'g', TOPIC: 't', PARTITION: '0', 'CURRENT-OFFSET': '5', 'LOG-END-OFFSET': '7', LAG: '2', 'CONSUMER-ID': '-', HOST: '-', 'CLIENT-ID': '-' },
      { GROUP: 'g', TOPIC: 't', PARTITION: '1', 'CURRENT-OFFSET': '-', 'LOG-END-OFFSET': '3', LAG: '-', 'CONSUMER-ID': '-', HOST: '-', 'CLIENT-ID': '-' },
    ]);
  });
});
