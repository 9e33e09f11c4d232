// Health checks. Live: the process serves HTTP (200 whenever it answers). Ready: the node has
// caught up with the committed metadata log (a quorum leader is known and every record below its
// high watermark is applied) and, on a broker, the controller has unfenced it; until then, and
// once it begins to stop, 503 with the reason as JSON. Catching up is required once, as Kafka's
// brokers require it before they start serving: afterwards the applied offset trails each new
// commit by a moment, and a probe must not see the node flap out of readiness for that. Kubernetes-style probes and load
// balancers read only the status; people read the reason.
import type { QuorumController } from '../../controller/quorum-controller.ts';
import type { MetadataPublisher } from '../metadata/metadata-publisher.ts';

export interface Readiness {
  ready: boolean;
  reason: string | null;
}

export interface ReadinessSources {
  controller: QuorumController;
  /** The broker's publisher (the image handlers read); absent on a controller-only node. */
  publisher?: MetadataPublisher;
  /** Whether the broker is fenced; absent on a controller-only node. */
  fenced?: () => boolean;
  /** Start-up has finished (registration included) and stop has not begun. */
  serving: () => boolean;
  stopping: () => boolean;
}

/** A node's readiness check: `readiness` with the catch-up remembered once reached. */
export function readinessCheck(s: ReadinessSources): () => Readiness {
  let caughtUp = false;
  return () => {
    const r = readiness(s, caughtUp);
    if (r.ready) caughtUp = true;
    return r;
  };
}

export function readiness(s: ReadinessSources, caughtUp = false): Readiness {
  if (s.stopping()) return { ready: false, reason: 'the node is stopping' };
  const raft = s.controller.raft;
  if (!caughtUp) {
    if (raft.currentLeader < 0) return { ready: false, reason: 'no metadata quorum leader is known yet' };
    // The high watermark is the offset after the last committed record.
    const committed = raft.hw - 1n;
    const applied = s.publisher ? s.publisher.image.offset : s.controller.image.offset;
    if (applied < committed) return { ready: false, reason: `catching up with the metadata log: applied offset ${applied} of ${committed}` };
  }
  if (s.fenced?.() ?? false) return { ready: false, reason: 'the broker is fenced: the controller has not unfenced it yet' };
  if (!s.serving()) return { ready: false, reason: 'the node is starting' };
  return { ready: true, reason: null };
}
