// The simulated network between replicas: each request and each response is a message that
// arrives after its own random delay (so messages overtake one another), may be lost, and is
// dropped when sender and receiver sit on different sides of a partition, either when it is sent
// or when it would arrive, or when the node at either end has crashed meanwhile. A lost message
// is never answered: the replica's request timeout notices, as it would on a real network.
import type { ManualScheduler } from '../../../protocol/scheduler.ts';
import type { RaftClient } from '../raft-client.ts';
import type { RaftApi, RaftMessages, RaftTransport } from '../raft-transport.ts';
import type { NodeScheduler } from './node-scheduler.ts';
import type { Prng } from './prng.ts';

export interface Endpoint {
  client: RaftClient;
  life: NodeScheduler;
}

export interface NetworkOptions {
  minDelayMs: number;
  maxDelayMs: number;
}

const SCOPE = { unit: 'sim-network' };

export class SimNetwork {
  private readonly endpoints = new Map<number, Endpoint>();
  /** Side of the partition each node is on; nodes on different sides cannot talk. */
  private side = new Map<number, number>();
  lossRate = 0;
  messages = 0;

  constructor(
    private readonly clock: ManualScheduler,
    private readonly prng: Prng,
    private readonly options: NetworkOptions,
    private readonly trace: (line: string) => void,
  ) {}

  attach(nodeId: number, endpoint: Endpoint | undefined): void {
    if (endpoint) this.endpoints.set(nodeId, endpoint);
    else this.endpoints.delete(nodeId);
  }

  /** Splits the nodes into groups that only talk within themselves. */
  partition(groups: readonly (readonly number[])[]): void {
    this.side = new Map();
    groups.forEach((g, i) => g.forEach((id) => this.side.set(id, i)));
  }

  heal(): void {
    this.side = new Map();
  }

  get partitioned(): boolean {
    return this.side.size > 0;
  }

  connected(a: number, b: number): boolean {
    return (this.side.get(a) ?? 0) === (this.side.get(b) ?? 0);
  }

  private delay(): number {
    const { minDelayMs, maxDelayMs } = this.options;
    // Fractional delays keep arrival times distinct, so each arrival is an event of its own.
    return minDelayMs + this.prng.next() * (maxDelayMs - minDelayMs);
  }

  /** The transport of one life of `from`: nothing reaches it once that life is over. */
  transportFor(from: number, life: NodeScheduler): RaftTransport {
    return {
      send: <A extends RaftApi>(to: number, api: A, request: RaftMessages[A]['request']): Promise<RaftMessages[A]['response']> =>
        new Promise((resolve) => {
          this.messages++;
          if (!this.connected(from, to) || this.prng.chance(this.lossRate)) return;
          this.clock.schedule(this.delay(), SCOPE, () => {
            const dest = this.endpoints.get(to);
            if (!dest || !dest.life.alive || !life.alive || !this.connected(from, to)) return;
            this.trace(`${from}->${to} ${api}`);
            const answer = dispatch(dest.client, api, request) as Promise<RaftMessages[A]['response']>;
            answer.then((response) => {
              if (!dest.life.alive || !this.connected(from, to) || this.prng.chance(this.lossRate)) return;
              this.clock.schedule(this.delay(), SCOPE, () => {
                if (!life.alive || !this.connected(from, to)) return;
                this.trace(`${to}->${from} ${api} answer`);
                resolve(response);
              });
            }, () => undefined);
          });
        }),
    };
  }
}

function dispatch(client: RaftClient, api: RaftApi, request: unknown): Promise<unknown> {
  switch (api) {
    case 'vote':
      return client.handleVote(request as RaftMessages['vote']['request']);
    case 'beginQuorumEpoch':
      return client.handleBeginQuorumEpoch(request as RaftMessages['beginQuorumEpoch']['request']);
    case 'endQuorumEpoch':
      return client.handleEndQuorumEpoch(request as RaftMessages['endQuorumEpoch']['request']);
    case 'fetch':
      return client.handleFetch(request as RaftMessages['fetch']['request']);
    case 'describeQuorum':
      return client.handleDescribeQuorum(request as RaftMessages['describeQuorum']['request']);
    case 'fetchSnapshot':
      return client.handleFetchSnapshot(request as RaftMessages['fetchSnapshot']['request']);
    case 'updateRaftVoter':
      return client.voterChanges.handleUpdateRequest(request as RaftMessages['updateRaftVoter']['request']);
  }
}
