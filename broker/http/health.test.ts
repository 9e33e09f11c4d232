// Readiness from the node's state: each reason in the order it is checked.
import { describe, expect, it } from 'vitest';
import type { QuorumController } from '../../controller/quorum-controller.ts';
import type { MetadataPublisher } from '../metadata/metadata-publisher.ts';
import { readiness, readinessCheck, type ReadinessSources } from './health.ts';

function sources(o: { leader?: number; hw?: bigint; applied?: bigint; controllerApplied?: bigint; fenced?: boolean; serving?: boolean; stopping?: boolean; broker?: boolean }): ReadinessSources {
  const controller = { raft: { currentLeader: o.leader ?? 1, hw: o.hw ?? 10n }, image: { offset: o.controllerApplied ?? 9n } } as unknown as QuorumController;
  const broker = o.broker ?? true;
  return {
    controller,
    publisher: broker ? ({ image: { offset: o.applied ?? 9n } } as unknown as MetadataPublisher) : undefined,
    fenced: broker ? () => o.fenced ?? false : undefined,
    serving: () => o.serving ?? true,
    stopping: () => o.stopping ?? false,
  };
}

describe('readiness', () => {
  it('is ready when caught up, unfenced and serving', () => {
    expect(readiness(sources({}))).toEqual({ ready: true, reason: null });
  });

  it('names what it waits for', () => {
    expect(readiness(sources({ stopping: true })).reason).toBe('the node is stopping');
    expect(readiness(sources({ leader: -1 })).reason).toBe('no metadata quorum leader is known yet');
    expect(readiness(sources({ applied: 5n })).reason).toBe('catching up with the metadata log: applied offset 5 of 9');
    expect(readiness(sources({ fenced: true })).reason).toMatch(/fenced/);
    expect(readiness(sources({ serving: false })).reason).toBe('the node is starting');
    for (const o of [{ stopping: true }, { leader: -1 }, { applied: 5n }, { fenced: true }, { serving: false }]) expect(readiness(sources(o)).ready).toBe(false);
  });

  it('reads the controller\'s own image on a controller-only node, and has no fencing there', () => {
    expect(readiness(sources({ broker: false, controllerApplied: 9n })).ready).toBe(true);
    expect(readiness(sources({ broker: false, controllerApplied: 3n })).reason).toBe('catching up with the metadata log: applied offset 3 of 9');
  });

  it('requires the catch-up once: a later commit not yet applied does not make a ready node unready', () => {
    const state = { applied: 5n, fenced: false };
    const src = sources({});
    const publisher = { get image() { return { offset: state.applied }; } } as unknown as MetadataPublisher;
    const check = readinessCheck({ ...src, publisher, fenced: () => state.fenced });
    expect(check().ready).toBe(false);
    state.applied = 9n;
    expect(check().ready).toBe(true);
    state.applied = 8n;
    expect(check().ready).toBe(true);
    // Fencing still counts.
    state.fenced = true;
    expect(check().ready).toBe(false);
  });
});
