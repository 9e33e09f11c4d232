// Broker sessions: a broker is fenced only once its session has run out, and the check runs often
// enough that fencing follows the session's end closely.
import { describe, expect, it } from 'vitest';
import { BrokerSessions, sessionCheckIntervalMs } from './broker-sessions.ts';

describe('BrokerSessions', () => {
  it('expires a session only after the whole timeout without contact', () => {
    const s = new BrokerSessions(3000);
    s.activate([1, 2], 1000);
    s.touch(2, 2500);
    expect(s.expired([1, 2], 4000)).toEqual([]);
    expect(s.expired([1, 2], 4001)).toEqual([1]);
    expect(s.expired([1, 2], 5500)).toEqual([1]);
    expect(s.expired([1, 2], 5501)).toEqual([1, 2]);
  });

  it('starts the session of a broker it has not heard of at its first look', () => {
    const s = new BrokerSessions(3000);
    s.activate([], 0);
    expect(s.expired([7], 10_000)).toEqual([]);
    expect(s.expired([7], 13_000)).toEqual([]);
    expect(s.expired([7], 13_001)).toEqual([7]);
  });

  it('looks at sessions within a small part of the timeout, never less than every 10 ms', () => {
    expect(sessionCheckIntervalMs(3000)).toBe(50);
    expect(sessionCheckIntervalMs(9000)).toBe(50);
    expect(sessionCheckIntervalMs(400)).toBe(20);
    expect(sessionCheckIntervalMs(100)).toBe(10);
  });

  it('tells whether one session has run out, for the check made right before fencing', () => {
    const s = new BrokerSessions(3000);
    s.activate([1], 0);
    expect(s.isExpired(1, 3000)).toBe(false);
    expect(s.isExpired(1, 3001)).toBe(true);
    s.touch(1, 3001);
    expect(s.isExpired(1, 3002)).toBe(false);
    s.forget(1);
    expect(s.isExpired(1, 10_000)).toBe(false);
  });
});
