// The console API's input checks: well-formed bodies and queries become typed inputs with
// Kafka's defaults (-1 partitions and replication factor); anything else is an InputError naming
// the field, never a crash or a silently wrong request.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { browseQuery, configChanges, InputError, newTopic, produceInput, resetRequest } from './console-input.ts';

const url = (q: string) => new URL(`http://x/api/messages?${q}`);

describe('console input', () => {
  it('reads a new topic with Kafka\'s defaults and refuses malformed ones', () => {
    expect(newTopic({ name: 't' })).toEqual({ name: 't', partitions: -1, replicationFactor: -1, configs: {} });
    expect(newTopic({ name: 't', partitions: '3', replicationFactor: 1, configs: { 'retention.ms': '1' } })).toEqual({ name: 't', partitions: 3, replicationFactor: 1, configs: { 'retention.ms': '1' } });
    for (const bad of [null, [], 'x', {}, { name: '' }, { name: 't', partitions: 1.5 }, { name: 't', partitions: -2 }, { name: 't', configs: { a: 1 } }, { name: 't', configs: [] }]) {
      expect(() => newTopic(bad), JSON.stringify(bad)).toThrow(InputError);
    }
  });

  it('merges set, delete and changes into one change set, and refuses an empty one', () => {
    expect(configChanges({ set: { a: '1' }, delete: ['b'], changes: { c: null } })).toEqual({ a: '1', b: null, c: null });
    expect(() => configChanges({})).toThrow(/no config/);
    expect(() => configChanges({ delete: 'b' })).toThrow(InputError);
    expect(() => configChanges({ set: { a: null } })).toThrow(InputError);
  });

  it('browses from an offset or a timestamp, never both', () => {
    expect(browseQuery(url('topic=t'))).toEqual({ topic: 't', partition: 0, offset: undefined, timestamp: undefined, limit: 50 });
    expect(browseQuery(url('topic=t&partition=2&timestamp=1000&limit=5'))).toMatchObject({ partition: 2, timestamp: 1000, limit: 5 });
    for (const q of ['partition=0', 'topic=t&offset=1&timestamp=2', 'topic=t&offset=-1', 'topic=t&limit=0', 'topic=t&partition=x']) {
      expect(() => browseQuery(url(q)), q).toThrow(InputError);
    }
  });

  it('reads a record to produce with nullable key, value and header values', () => {
    expect(produceInput({ topic: 't', value: 'v', headers: [{ key: 'h', value: null }] })).toEqual({ topic: 't', partition: 0, key: null, value: 'v', headers: [{ key: 'h', value: null }] });
    expect(() => produceInput({ topic: 't', headers: [{ value: 'x' }] })).toThrow(/headers\[0\]\.key/);
    expect(() => produceInput({ topic: 't', key: 5 })).toThrow(/key/);
  });

  it('reads a reset: a dry run unless dryRun is false, and a target with its value', () => {
    expect(resetRequest({ groupId: 'g', to: 'earliest' })).toEqual({ groupId: 'g', topic: undefined, target: { to: 'earliest' }, dryRun: true });
    expect(resetRequest({ groupId: 'g', topic: 't', to: 'offset', offset: 7, dryRun: false })).toEqual({ groupId: 'g', topic: 't', target: { to: 'offset', offset: 7 }, dryRun: false });
    expect(() => resetRequest({ groupId: 'g', to: 'timestamp' })).toThrow(/timestamp/);
    expect(() => resetRequest({ groupId: 'g', to: 'shift' })).toThrow(/to must be/);
    expect(() => resetRequest({ groupId: 'g', to: 'latest', dryRun: 'no' })).toThrow(/dryRun/);
  });

  it('answers any JSON value with an input or an InputError, nothing else', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        for (const f of [newTopic, produceInput, resetRequest]) {
          try {
            f(v);
          } catch (e) {
            expect(e).toBeInstanceOf(InputError);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
