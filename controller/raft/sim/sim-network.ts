// The simulated network between replicas (testing/sim/message-net.ts carries the messages):
// nodes sit on sides of a partition and only talk within their side; a request reaches the
// replica of whatever life its destination has when it arrives, as over TCP to a restarted node.
import type { ManualScheduler } from '../../../protocol/scheduler.ts';
import { MessageNet } from '../../../testing/sim/message-net.ts';
import type { NodeScheduler } from '../../../testing/sim/node-scheduler.ts';
import type { Prng } from '../../../testing/sim/prng.ts';
import type { RaftClient } from '../raft-client.ts';
import type { RaftApi, RaftMessages, RaftTransport } from '../raft-transport.ts';

export interface Endpoint {
  client: RaftClient;
  life: NodeScheduler;
}

export interface NetworkOptions {
  minDelayMs: number;
  maxDelayMs: number;
}

export class SimNetwork extends MessageNet {
  private readonly endpoints = new Map<number, Endpoint>();
  /** Side of the partition each node is on; nodes on different sides cannot talk. */
  private side = new Map<number, number>();

  constructor(clock: ManualScheduler, prng: Prng, options: NetworkOptions, trace: (line: string) => void) {
    super(clock, prng, { minMs: options.minDelayMs, maxMs: options.maxDelayMs }, trace);
  }

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

  /** The transport of one life of `from`: nothing reaches it once that life is over. */
  transportFor(from: number, life: NodeScheduler): RaftTransport {
    return {
      send: <A extends RaftApi>(to: number, api: A, request: RaftMessages[A]['request']): Promise<RaftMessages[A]['response']> =>
        new Promise((resolve) => {
          const reach = () => {
            const dest = this.endpoints.get(to);
            return dest && { life: dest.life, serve: () => dispatch(dest.client, api, request) as Promise<RaftMessages[A]['response']> };
          };
          this.roundTrip(from, life, to, reach, api, (response) => {
            this.trace(`${to}->${from} ${api} answer`);
            resolve(response);
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
