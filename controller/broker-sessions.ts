// Broker sessions as the active controller sees them: the time of each broker's last heartbeat,
// kept in memory only (a new active controller starts every registered broker's session anew,
// as Kafka's BrokerHeartbeatManager does, so a failover never fences a live broker).
// A broker whose session runs out (broker.session.timeout.ms without a heartbeat) is fenced.

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
