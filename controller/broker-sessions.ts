// Broker sessions as the active controller sees them: the time of each broker's last heartbeat,
// kept in memory only (a new active controller starts every registered broker's session anew,
// as Kafka's BrokerHeartbeatManager does, so a failover never fences a live broker).
// A broker whose session runs out (broker.session.timeout.ms without a heartbeat) is fenced.
// Sessions are looked at often (sessionCheckIntervalMs), so a broker is fenced within a few tens
// of milliseconds of its session's end, as Kafka's controller, which schedules the check for the
// next expiry, does: a leader's failover waits out the session timeout, not also a coarse timer.
// A heartbeat counts when it arrives, not when the controller's queue reaches it (the queue waits
// for each write's commit, which under load can take longer than a session), and expiry is checked
// again when the fencing itself runs: a broker is fenced only after a whole session in which no
// heartbeat of its registration arrived.

/** How often the active controller looks for sessions that ran out. */
export function sessionCheckIntervalMs(sessionTimeoutMs: number): number {
  return Math.max(10, Math.min(50, Math.floor(sessionTimeoutMs / 20)));
}

export class BrokerSessions {
  private readonly lastContact = new Map<number, number>();

  constructor(private readonly sessionTimeoutMs: number) {}

  /** This controller became active: every known broker's session starts now. */
  activate(brokerIds: Iterable<number>, now: number): void {
    this.lastContact.clear();
    for (const id of brokerIds) this.lastContact.set(id, now);
  }

  deactivate(): void {
    this.lastContact.clear();
  }

  touch(brokerId: number, now: number): void {
    this.lastContact.set(brokerId, now);
  }

  forget(brokerId: number): void {
    this.lastContact.delete(brokerId);
  }

  /** Whether `brokerId`'s session has run out (checked again right before it is fenced). */
  isExpired(brokerId: number, now: number): boolean {
    const last = this.lastContact.get(brokerId);
    return last !== undefined && now - last > this.sessionTimeoutMs;
  }

  /** Of `candidates` (the unfenced brokers), those whose session has run out. */
  expired(candidates: Iterable<number>, now: number): number[] {
    const out: number[] = [];
    for (const id of candidates) {
      const last = this.lastContact.get(id);
      if (last === undefined) this.lastContact.set(id, now);
      else if (now - last > this.sessionTimeoutMs) out.push(id);
    }
    return out;
  }
}
