import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseOptions } from './command-io.ts';
import {
  clampOffset,
  defineConsumerGroupsOptions,
  formatListing,
  formatMembers,
  formatOffsets,
  formatResetPlan,
  formatState,
  javaException,
  parseDateTime,
  parseDuration,
  parseStates,
  resetOffset,
  toConsumerGroupsOptions,
} from './consumer-groups.ts';

const B = ['--bootstrap-server', 'localhost:9092'];
const opts = (...args: string[]) => toConsumerGroupsOptions(parseOptions(defineConsumerGroupsOptions(new Command('consumer-groups')), [...B, ...args]), 1_000_000);

describe('consumer-groups options', () => {
  it('needs exactly one action and the group options each action takes', () => {
    expect(() => opts('--group', 'g')).toThrow('Command must include exactly one action');
    expect(() => opts('--list', '--describe')).toThrow('Command must include exactly one action');
    expect(() => opts('--describe')).toThrow('Option [describe] takes one of these options: [all-groups], [group]');
    expect(() => opts('--describe', '--group', 'g', '--members', '--state')).toThrow('takes at most one of these options');
    expect(() => opts('--describe', '--group', 'g', '--state', 'Stable')).toThrow('does not take a value for [state]');
    expect(() => opts('--delete', '--group', 'g', '--topic', 't')).toThrow('The consumer does not support topic-specific offset deletion');
    expect(() => opts('--delete-offsets', '--group', 'g')).toThrow('Option [delete-offsets] takes the following options: [group], [topic]');
    expect(opts('--describe', '--group', 'g')).toMatchObject({ action: 'describe', view: 'offsets', groups: ['g'] });
    expect(opts('--describe', '--all-groups', '--members', '--verbose')).toMatchObject({ view: 'members', verbose: true, allGroups: true });
    expect(opts('--describe', '--group', 'a', '--group', 'b', '--state').view).toBe('state');
  });

  it('reads --list filters: a bare --state or --type adds the column without filtering', () => {
    expect(opts('--list')).toMatchObject({ listStates: undefined, listTypes: undefined });
    expect(opts('--list', '--state')).toMatchObject({ listStates: [] });
    expect(opts('--list', '--state', 'stable,EMPTY', '--type', 'classic')).toMatchObject({ listStates: ['Stable', 'Empty'], listTypes: ['Classic'] });
    expect(() => parseStates('stable,bogus')).toThrow("Invalid state list 'stable,bogus'");
    expect(() => opts('--list', '--type', 'share')).toThrow("Invalid types list 'share'");
  });

  it('needs one reset scenario and one scope; dry run unless --execute', () => {
    expect(() => opts('--reset-offsets', '--group', 'g', '--topic', 't')).toThrow('requires one of the following scenarios');
    expect(() => opts('--reset-offsets', '--group', 'g', '--to-earliest')).toThrow('One of the reset scopes should be defined: --all-topics, --topic.');
    expect(() => opts('--reset-offsets', '--group', 'g', '--all-topics', '--to-earliest', '--to-latest')).toThrow('Option "[to-earliest]" can\'t be used with option "[to-latest]"');
    expect(() => opts('--reset-offsets', '--group', 'g', '--all-topics', '--to-earliest', '--execute', '--dry-run')).toThrow('only accepts one of');
    expect(() => opts('--reset-offsets', '--group', 'g', '--all-topics', '--to-offset', 'x')).toThrow("Cannot parse argument 'x' of option to-offset");
    expect(opts('--reset-offsets', '--group', 'g', '--all-topics', '--to-earliest')).toMatchObject({ reset: { kind: 'earliest' }, execute: false, warnNoExecute: true });
    expect(opts('--reset-offsets', '--group', 'g', '--all-topics', '--to-earliest', '--dry-run')).toMatchObject({ execute: false, warnNoExecute: false });
    expect(opts('--reset-offsets', '--group', 'g', '--topic', 't:0,1', '--shift-by', '-3', '--execute')).toMatchObject({ reset: { kind: 'shift', by: -3n }, execute: true, topics: ['t:0,1'] });
    expect(opts('--reset-offsets', '--group', 'g', '--all-topics', '--by-duration', 'PT10S').reset).toEqual({ kind: 'datetime', timestamp: 1_000_000 - 10_000 });
    expect(() => opts('--describe', '--group', 'g', '--to-earliest')).toThrow('can\'t be used with option "[describe]"');
  });
});

describe('reset offset computation', () => {
  const p = { earliest: 10n, latest: 50n, committed: 30n };

  it('takes earliest, latest and current; current falls back to latest', () => {
    expect(resetOffset({ kind: 'earliest' }, p, 't-0')).toBe(10n);
    expect(resetOffset({ kind: 'latest' }, p, 't-0')).toBe(50n);
    expect(resetOffset({ kind: 'current' }, p, 't-0')).toBe(30n);
    expect(resetOffset({ kind: 'current' }, { earliest: 0n, latest: 7n }, 't-0')).toBe(7n);
  });

  it('clamps --to-offset and --shift-by to [earliest, latest] with Kafka\'s warning', () => {
    const warnings: string[] = [];
    const warn = (w: string): number => warnings.push(w);
    expect(resetOffset({ kind: 'offset', offset: 20n }, p, 't-0', warn)).toBe(20n);
    expect(resetOffset({ kind: 'offset', offset: 99n }, p, 't-0', warn)).toBe(50n);
    expect(resetOffset({ kind: 'offset', offset: 3n }, p, 't-0', warn)).toBe(10n);
    expect(resetOffset({ kind: 'shift', by: -5n }, p, 't-0', warn)).toBe(25n);
    expect(resetOffset({ kind: 'shift', by: 100n }, p, 't-0', warn)).toBe(50n);
    expect(resetOffset({ kind: 'shift', by: -100n }, p, 't-0', warn)).toBe(10n);
    expect(warnings).toEqual([
      'New offset (99) is higher than latest offset for topic partition t-0. Value will be set to 50',
      'New offset (3) is lower than earliest offset for topic partition t-0. Value will be set to 10',
      'New offset (130) is higher than latest offset for topic partition t-0. Value will be set to 50',
      'New offset (-70) is lower than earliest offset for topic partition t-0. Value will be set to 10',
    ]);
    expect(clampOffset(50n, p, 't-0')).toBe(50n);
    expect(clampOffset(10n, p, 't-0')).toBe(10n);
  });

  it('refuses to shift a partition with no committed offset', () => {
    expect(() => resetOffset({ kind: 'shift', by: 1n }, { earliest: 0n, latest: 5n }, 't-1')).toThrow('Cannot shift offset for partition t-1 since there is no current committed offset');
  });

  it('uses the offset for a timestamp, or the latest when no record is that recent', () => {
    expect(resetOffset({ kind: 'datetime', timestamp: 5 }, { ...p, atTimestamp: 42n }, 't-0')).toBe(42n);
    expect(resetOffset({ kind: 'datetime', timestamp: 5 }, p, 't-0')).toBe(50n);
  });

  it('parses datetimes as Kafka (UTC without a zone) and ISO durations', () => {
    expect(parseDateTime('2024-03-01T12:30:15.250')).toBe(Date.UTC(2024, 2, 1, 12, 30, 15, 250));
    expect(parseDateTime('2024-03-01T12:30:15.250Z')).toBe(Date.UTC(2024, 2, 1, 12, 30, 15, 250));
    expect(parseDateTime('2024-03-01T12:30:15.250+02:00')).toBe(Date.UTC(2024, 2, 1, 10, 30, 15, 250));
    expect(parseDateTime('2024-03-01T12:30:15.250-0130')).toBe(Date.UTC(2024, 2, 1, 14, 0, 15, 250));
    expect(() => parseDateTime('2024-02-30T00:00:00.000')).toThrow('Unparseable date');
    expect(() => parseDateTime('2024-03-01 12:30:15')).toThrow("does not contain a 'T'");
    expect(parseDuration('PT0.5S')).toBe(500);
    expect(parseDuration('P1DT2H3M4S')).toBe(86_400_000 + 2 * 3_600_000 + 3 * 60_000 + 4000);
    expect(parseDuration('pt15m')).toBe(900_000);
    expect(() => parseDuration('P')).toThrow('Text cannot be parsed to a Duration');
    expect(() => parseDuration('10m')).toThrow('Text cannot be parsed to a Duration');
  });
});

describe('output formats', () => {
  it('pads the offsets table as ConsumerGroupCommand does, with "-" for unknowns', () => {
    const text = formatOffsets([
      { group: 'g', topic: 't', partition: 0, currentOffset: 3n, logEndOffset: 5n, consumerId: 'consumer-g-1-abc', host: '/127.0.0.1', clientId: 'consumer-g-1' },
      { group: 'g', topic: 't', partition: 1, logEndOffset: 9n, consumerId: '-', host: '-', clientId: '-' },
    ]);
    expect(text.split('\n')).toEqual([
      '',
      'GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID      HOST            CLIENT-ID',
      'g               t               0          3               5               2               consumer-g-1-abc /127.0.0.1      consumer-g-1',
      'g               t               1          -               9               -               -                -               -',
      '',
    ]);
  });

  it('widens columns for long names', () => {
    const group = 'a-rather-long-group-name';
    const [, header, row] = formatOffsets([{ group, topic: 't', partition: 0, currentOffset: 1n, logEndOffset: 1n, consumerId: '-', host: '-', clientId: '-' }]).split('\n');
    expect(header!.indexOf('TOPIC')).toBe(group.length + 1);
    expect(row!.indexOf(' t ')).toBe(group.length);
  });

  it('prints members, with assignments under --verbose and GROUP-INSTANCE-ID only when set', () => {
    const members = [
      { group: 'g', consumerId: 'c1', groupInstanceId: '', host: '/h', clientId: 'x', assignment: new Map([['t', [2, 0]], ['a', [1]]]) },
      { group: 'g', consumerId: 'c2', groupInstanceId: '', host: '/h', clientId: 'x', assignment: new Map() },
    ];
    expect(formatMembers(members, true).split('\n')).toEqual([
      '',
      'GROUP           CONSUMER-ID     HOST            CLIENT-ID       #PARTITIONS     ASSIGNMENT',
      'g               c1              /h              x               3               a(1),t(0,2)',
      'g               c2              /h              x               0               -',
      '',
    ]);
    expect(formatMembers([{ ...members[0]!, groupInstanceId: 'i1' }], false).split('\n')[1]).toBe('GROUP           CONSUMER-ID     GROUP-INSTANCE-ID HOST            CLIENT-ID       #PARTITIONS     ');
  });

  it('prints the state view, the reset plan and the filtered listing', () => {
    expect(formatState({ group: 'g', coordinator: { nodeId: 1, host: 'localhost', port: 9092 }, assignmentStrategy: 'range', state: 'Stable', members: 2 })).toBe(
      '\nGROUP                     COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE           #MEMBERS' +
        '\ng                         localhost:9092 (1)        range                Stable          2\n',
    );
    expect(formatResetPlan(1, [{ group: 'g', topic: 't', partition: 0, offset: 7n }])).toBe(
      '\nGROUP                          TOPIC                          PARTITION  NEW-OFFSET     \ng                              t                              0          7              \n',
    );
    expect(formatResetPlan(0, [])).toBe('');
    expect(formatListing([{ groupId: 'g', state: 'Empty', type: 'Classic' }], true, true)).toBe(
      'GROUP                     TYPE                 STATE               \ng                         Classic              Empty               \n',
    );
    expect(formatListing([{ groupId: 'g', state: 'Empty', type: 'Classic' }], false, true)).toBe('GROUP                     STATE               \ng                         Empty               \n');
  });

  it('names errors as Kafka\'s exceptions print', () => {
    expect(javaException(68)).toBe('org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty.');
    expect(javaException(69)).toBe('org.apache.kafka.common.errors.GroupIdNotFoundException: The group id does not exist.');
  });
});
